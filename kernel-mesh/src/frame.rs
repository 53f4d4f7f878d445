//! The probe protocol's messages and their binary framing.
//!
//! A frame is a type byte, a big-endian `u32` payload length and the
//! payload, at most [`MAX_PAYLOAD`] bytes. Over TCP frames follow each other
//! on the stream and every read has a timeout; over UDP a datagram holds
//! exactly one frame. Unknown types, wrong lengths, truncated and oversized
//! frames are errors; the length is checked before anything is allocated.
//!
//! | type | frame | payload |
//! |---|---|---|
//! | 1 | `Hello` | session id (16), probe nonce (32) |
//! | 2 | `Challenge` | salt (16), beacon nonce (32), beacon tag (32) |
//! | 3 | `Proof` | probe tag (32) |
//! | 4 | `Welcome` | empty |
//! | 5 | `Refused` | reason (1) |
//! | 6 | `Report` | sequence number (4), tag (32), body |
//! | 7 | `Done` | number of reports (4), tag (32) |
//! | 8 | `Terminate` | tag (32) |
//!
//! The byte-level pieces that report bodies ([`crate::report`]) and
//! adverts ([`crate::advert`]) share live here too: taking bytes off
//! the front of a buffer, and the wire forms of a transport (`1` TCP, `2`
//! UDP) and of an ip address (`4` and 4 bytes, or `6` and 16 bytes).

use std::io;
use std::net::IpAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::auth::TAG_LEN;
use crate::candidate::Proto;
use crate::handshake::{SALT_LEN, SessionId};

/// Largest payload of one frame (64 KiB).
pub const MAX_PAYLOAD: usize = 64 * 1024;
/// Type byte and length.
pub const HEADER_LEN: usize = 5;
/// Largest frame, header included: also the receive buffer for a datagram.
pub const MAX_FRAME: usize = HEADER_LEN + MAX_PAYLOAD;
/// Largest body of a [`Frame::Report`].
pub const MAX_REPORT_BODY: usize = MAX_PAYLOAD - 4 - TAG_LEN;

const HELLO: u8 = 1;
const CHALLENGE: u8 = 2;
const PROOF: u8 = 3;
const WELCOME: u8 = 4;
const REFUSED: u8 = 5;
const REPORT: u8 = 6;
const DONE: u8 = 7;
const TERMINATE: u8 = 8;

/// One message of the probe protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Probe to beacon: opens an exchange.
    Hello {
        /// The session the beacon opened for the probe.
        session: SessionId,
        /// The probe's fresh random nonce.
        nonce: [u8; 32],
    },
    /// Beacon to probe: the beacon's salt and nonce, and its proof.
    Challenge {
        /// The salt the session key is derived with.
        salt: [u8; SALT_LEN],
        /// The beacon's fresh random nonce.
        nonce: [u8; 32],
        /// The beacon's proof that it knows the passphrase.
        tag: [u8; TAG_LEN],
    },
    /// Probe to beacon: the probe's proof.
    Proof {
        /// The probe's proof that it knows the passphrase.
        tag: [u8; TAG_LEN],
    },
    /// Beacon to probe: the probe's proof holds.
    Welcome,
    /// Either way: the exchange is over, and why (not authenticated).
    Refused(Refusal),
    /// Probe to beacon, after a handshake on the primary port: part of the
    /// results (see [`crate::report`]).
    Report {
        /// The report's number, from 0.
        seq: u32,
        /// Authenticates `seq` and `body` under the session key.
        tag: [u8; TAG_LEN],
        /// The encoded items.
        body: Vec<u8>,
    },
    /// Probe to beacon: all `reports` reports were sent.
    Done {
        /// How many reports were sent.
        reports: u32,
        /// Authenticates `reports` under the session key.
        tag: [u8; TAG_LEN],
    },
    /// Beacon to probe: results stored, the probe may exit.
    Terminate {
        /// Authenticates the terminate under the session key.
        tag: [u8; TAG_LEN],
    },
}

/// Why a peer ended an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The beacon has no session with that id.
    UnknownSession = 1,
    /// The proof does not verify: another passphrase.
    BadProof = 2,
    /// A frame that does not belong at this point of the exchange.
    Unexpected = 3,
    /// A report that does not decode or authenticate.
    BadReport = 4,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::UnknownSession => "unknown session id",
            Refusal::BadProof => "bad proof (wrong passphrase?)",
            Refusal::Unexpected => "unexpected frame",
            Refusal::BadReport => "bad report",
        })
    }
}

/// Why a frame could not be read or decoded.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The peer closed the connection.
    #[error("the peer closed the connection")]
    Closed,
    /// The data ended inside a frame.
    #[error("truncated frame: the data ended inside a frame")]
    Truncated,
    /// A frame longer than the protocol allows.
    #[error("frame of {len} bytes is larger than the limit of {MAX_PAYLOAD} bytes")]
    TooLarge {
        /// Its announced length in bytes.
        len: usize,
    },
    /// A frame type this version does not know.
    #[error("unknown frame type {0}")]
    UnknownType(u8),
    /// A payload whose length does not fit its frame type.
    #[error("{kind} frame with a payload of {len} bytes; expected {expected}")]
    BadLength {
        /// The frame type.
        kind: &'static str,
        /// The payload's length in bytes.
        len: usize,
        /// The lengths that type has.
        expected: &'static str,
    },
    /// A refusal code this version does not know.
    #[error("unknown refusal reason {0}")]
    UnknownRefusal(u8),
    /// Nothing arrived within the timeout.
    #[error("no frame within {0:?}")]
    Timeout(Duration),
    /// The socket failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}

impl Refusal {
    fn from_code(code: u8) -> Option<Refusal> {
        [
            Refusal::UnknownSession,
            Refusal::BadProof,
            Refusal::Unexpected,
            Refusal::BadReport,
        ]
        .into_iter()
        .find(|r| *r as u8 == code)
    }
}

/// Takes the next `N` bytes off the front of `cursor`.
pub(crate) fn take<const N: usize>(cursor: &mut &[u8]) -> Option<[u8; N]> {
    let (head, rest) = cursor.split_first_chunk::<N>()?;
    *cursor = rest;
    Some(*head)
}

/// What `read` makes of `payload`, if it reads all of it.
fn whole<T>(payload: &[u8], read: impl FnOnce(&mut &[u8]) -> Option<T>) -> Option<T> {
    let mut cursor = payload;
    let value = read(&mut cursor)?;
    cursor.is_empty().then_some(value)
}

/// The wire code of a transport, in report bodies and adverts alike.
pub(crate) fn proto_code(proto: Proto) -> u8 {
    match proto {
        Proto::Tcp => 1,
        Proto::Udp => 2,
    }
}

pub(crate) fn proto_from_code(code: u8) -> Option<Proto> {
    [Proto::Tcp, Proto::Udp]
        .into_iter()
        .find(|p| proto_code(*p) == code)
}

/// Why [`take_ip`] failed.
pub(crate) enum IpWireError {
    Truncated,
    UnknownFamily(u8),
}

/// An ip address on the wire, in report bodies and adverts alike: `4` and 4
/// bytes, or `6` and 16 bytes.
pub(crate) fn put_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            out.push(4);
            out.extend_from_slice(&v4.octets());
        }
        IpAddr::V6(v6) => {
            out.push(6);
            out.extend_from_slice(&v6.octets());
        }
    }
}

pub(crate) fn take_ip(cursor: &mut &[u8]) -> Result<IpAddr, IpWireError> {
    let [family] = take(cursor).ok_or(IpWireError::Truncated)?;
    match family {
        4 => take::<4>(cursor).map(IpAddr::from),
        6 => take::<16>(cursor).map(IpAddr::from),
        other => return Err(IpWireError::UnknownFamily(other)),
    }
    .ok_or(IpWireError::Truncated)
}

impl Frame {
    fn kind(&self) -> u8 {
        match self {
            Frame::Hello { .. } => HELLO,
            Frame::Challenge { .. } => CHALLENGE,
            Frame::Proof { .. } => PROOF,
            Frame::Welcome => WELCOME,
            Frame::Refused(_) => REFUSED,
            Frame::Report { .. } => REPORT,
            Frame::Done { .. } => DONE,
            Frame::Terminate { .. } => TERMINATE,
        }
    }

    /// The name of the frame's type, for messages.
    pub fn name(&self) -> &'static str {
        kind_name(self.kind()).unwrap_or("unknown")
    }

    /// Header and payload; only a report body over [`MAX_REPORT_BODY`] fails.
    pub fn encode(&self) -> Result<Vec<u8>, FrameError> {
        let mut payload = Vec::new();
        match self {
            Frame::Hello { session, nonce } => {
                payload.extend_from_slice(session.as_bytes());
                payload.extend_from_slice(nonce);
            }
            Frame::Challenge { salt, nonce, tag } => {
                payload.extend_from_slice(salt);
                payload.extend_from_slice(nonce);
                payload.extend_from_slice(tag);
            }
            Frame::Proof { tag } | Frame::Terminate { tag } => payload.extend_from_slice(tag),
            Frame::Welcome => {}
            Frame::Refused(reason) => payload.push(*reason as u8),
            Frame::Report { seq, tag, body } => {
                payload.extend_from_slice(&seq.to_be_bytes());
                payload.extend_from_slice(tag);
                payload.extend_from_slice(body);
            }
            Frame::Done { reports, tag } => {
                payload.extend_from_slice(&reports.to_be_bytes());
                payload.extend_from_slice(tag);
            }
        }
        let len = u32::try_from(payload.len())
            .ok()
            .filter(|_| payload.len() <= MAX_PAYLOAD)
            .ok_or(FrameError::TooLarge { len: payload.len() })?;
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.push(self.kind());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&payload);
        Ok(out)
    }

    /// The frame of type `kind` with `payload` (the header already read).
    pub fn decode(kind: u8, payload: &[u8]) -> Result<Frame, FrameError> {
        let name = kind_name(kind).ok_or(FrameError::UnknownType(kind))?;
        let bad = |expected| FrameError::BadLength {
            kind: name,
            len: payload.len(),
            expected,
        };
        match kind {
            HELLO => whole(payload, |c| {
                Some(Frame::Hello {
                    session: SessionId::from_bytes(take(c)?),
                    nonce: take(c)?,
                })
            })
            .ok_or_else(|| bad("48")),
            CHALLENGE => whole(payload, |c| {
                Some(Frame::Challenge {
                    salt: take(c)?,
                    nonce: take(c)?,
                    tag: take(c)?,
                })
            })
            .ok_or_else(|| bad("80")),
            PROOF => {
                whole(payload, |c| Some(Frame::Proof { tag: take(c)? })).ok_or_else(|| bad("32"))
            }
            WELCOME if payload.is_empty() => Ok(Frame::Welcome),
            WELCOME => Err(bad("0")),
            REFUSED => match payload {
                [code] => Refusal::from_code(*code)
                    .map(Frame::Refused)
                    .ok_or(FrameError::UnknownRefusal(*code)),
                _ => Err(bad("1")),
            },
            REPORT => {
                let mut c = payload;
                let (Some(seq), Some(tag)) = (take(&mut c), take(&mut c)) else {
                    return Err(bad("at least 36"));
                };
                Ok(Frame::Report {
                    seq: u32::from_be_bytes(seq),
                    tag,
                    body: c.to_vec(),
                })
            }
            DONE => whole(payload, |c| {
                Some(Frame::Done {
                    reports: u32::from_be_bytes(take(c)?),
                    tag: take(c)?,
                })
            })
            .ok_or_else(|| bad("36")),
            TERMINATE => whole(payload, |c| Some(Frame::Terminate { tag: take(c)? }))
                .ok_or_else(|| bad("32")),
            _ => Err(FrameError::UnknownType(kind)),
        }
    }

    /// The frame a datagram holds; it must hold exactly one.
    pub fn from_datagram(datagram: &[u8]) -> Result<Frame, FrameError> {
        let mut payload = datagram;
        let header = take::<HEADER_LEN>(&mut payload).ok_or(FrameError::Truncated)?;
        let (kind, len) = header_fields(header)?;
        if payload.len() < len {
            return Err(FrameError::Truncated);
        }
        if payload.len() > len {
            return Err(FrameError::BadLength {
                kind: kind_name(kind).unwrap_or("unknown"),
                len: payload.len(),
                expected: "the length in the header (trailing bytes)",
            });
        }
        Frame::decode(kind, payload)
    }
}

fn kind_name(kind: u8) -> Option<&'static str> {
    Some(match kind {
        HELLO => "hello",
        CHALLENGE => "challenge",
        PROOF => "proof",
        WELCOME => "welcome",
        REFUSED => "refused",
        REPORT => "report",
        DONE => "done",
        TERMINATE => "terminate",
        _ => return None,
    })
}

/// Type and payload length, refusing unknown types and oversized lengths
/// before the payload is read.
fn header_fields(header: [u8; HEADER_LEN]) -> Result<(u8, usize), FrameError> {
    let [kind, l0, l1, l2, l3] = header;
    kind_name(kind).ok_or(FrameError::UnknownType(kind))?;
    let len = usize::try_from(u32::from_be_bytes([l0, l1, l2, l3])).unwrap_or(usize::MAX);
    if len > MAX_PAYLOAD {
        return Err(FrameError::TooLarge { len });
    }
    Ok((kind, len))
}

fn truncated(e: io::Error) -> FrameError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        FrameError::Truncated
    } else {
        FrameError::Io(e)
    }
}

async fn read_untimed<R: AsyncRead + Unpin>(reader: &mut R) -> Result<Frame, FrameError> {
    let mut header = [0u8; HEADER_LEN];
    // A clean end of stream between frames is `Closed`, inside one `Truncated`.
    if reader.read(&mut header[..1]).await? == 0 {
        return Err(FrameError::Closed);
    }
    reader
        .read_exact(&mut header[1..])
        .await
        .map_err(truncated)?;
    let (kind, len) = header_fields(header)?;
    let mut payload = vec![0u8; len];
    reader.read_exact(&mut payload).await.map_err(truncated)?;
    Frame::decode(kind, &payload)
}

/// Reads one frame within `limit`.
pub async fn read<R: AsyncRead + Unpin>(
    reader: &mut R,
    limit: Duration,
) -> Result<Frame, FrameError> {
    tokio::time::timeout(limit, read_untimed(reader))
        .await
        .map_err(|_| FrameError::Timeout(limit))?
}

/// Writes one frame within `limit`.
pub async fn write<W: AsyncWrite + Unpin>(
    writer: &mut W,
    frame: &Frame,
    limit: Duration,
) -> Result<(), FrameError> {
    let bytes = frame.encode()?;
    tokio::time::timeout(limit, writer.write_all(&bytes))
        .await
        .map_err(|_| FrameError::Timeout(limit))??;
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn samples() -> Vec<Frame> {
        vec![
            Frame::Hello {
                session: SessionId::from_bytes([7; 16]),
                nonce: [1; 32],
            },
            Frame::Challenge {
                salt: [2; SALT_LEN],
                nonce: [3; 32],
                tag: [4; 32],
            },
            Frame::Proof { tag: [5; 32] },
            Frame::Welcome,
            Frame::Refused(Refusal::BadProof),
            Frame::Report {
                seq: 9,
                tag: [6; 32],
                body: vec![1, 2, 3],
            },
            Frame::Done {
                reports: 3,
                tag: [7; 32],
            },
            Frame::Terminate { tag: [8; 32] },
        ]
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn frames_round_trip_as_datagrams_and_on_streams() {
        let frames = samples();
        let mut stream = Vec::new();
        for frame in &frames {
            let bytes = frame.encode().unwrap();
            assert_eq!(&Frame::from_datagram(&bytes).unwrap(), frame);
            stream.extend_from_slice(&bytes);
        }
        runtime().block_on(async {
            let mut reader = stream.as_slice();
            for frame in &frames {
                assert_eq!(
                    &read(&mut reader, Duration::from_secs(1)).await.unwrap(),
                    frame
                );
            }
            assert!(matches!(
                read(&mut reader, Duration::from_secs(1)).await,
                Err(FrameError::Closed)
            ));
        });
    }

    #[test]
    fn bad_frames_are_errors() {
        let too_large = [HELLO, 0, 1, 0, 1];
        assert!(matches!(
            Frame::from_datagram(&too_large),
            Err(FrameError::TooLarge { len: 65537 })
        ));
        assert!(matches!(
            Frame::from_datagram(&[99, 0, 0, 0, 0]),
            Err(FrameError::UnknownType(99))
        ));
        assert!(matches!(
            Frame::from_datagram(&[PROOF, 0, 0, 0, 32, 1]),
            Err(FrameError::Truncated)
        ));
        let bad_lengths: [(Result<Frame, FrameError>, &str, usize, &str); 4] = [
            (
                Frame::from_datagram(&[WELCOME, 0, 0, 0, 0, 1]),
                "welcome",
                1,
                "the length in the header (trailing bytes)",
            ),
            (
                Frame::from_datagram(&[PROOF, 0, 0, 0, 1, 1]),
                "proof",
                1,
                "32",
            ),
            (Frame::decode(HELLO, &[0; 49]), "hello", 49, "48"),
            (Frame::decode(REPORT, &[0; 35]), "report", 35, "at least 36"),
        ];
        for (result, kind, len, expected) in bad_lengths {
            let error = result.unwrap_err();
            assert!(
                matches!(error, FrameError::BadLength { kind: k, len: l, expected: e }
                    if (k, l, e) == (kind, len, expected)),
                "{error:?}"
            );
        }
        assert!(matches!(
            Frame::from_datagram(&[REFUSED, 0, 0, 0, 1, 77]),
            Err(FrameError::UnknownRefusal(77))
        ));
        let oversized = Frame::Report {
            seq: 0,
            tag: [0; 32],
            body: vec![0; MAX_REPORT_BODY + 1],
        };
        assert!(matches!(
            oversized.encode(),
            Err(FrameError::TooLarge { len }) if len == MAX_PAYLOAD + 1
        ));
        runtime().block_on(async {
            let mut cut: &[u8] = &[PROOF, 0, 0, 0, 32, 1, 2];
            assert!(matches!(
                read(&mut cut, Duration::from_secs(1)).await,
                Err(FrameError::Truncated)
            ));
            let mut cut_header: &[u8] = &[PROOF, 0];
            assert!(matches!(
                read(&mut cut_header, Duration::from_secs(1)).await,
                Err(FrameError::Truncated)
            ));
        });
    }

    #[test]
    fn a_silent_peer_times_out() {
        runtime().block_on(async {
            let (mut near, _far) = tokio::io::duplex(64);
            assert!(matches!(
                read(&mut near, Duration::from_millis(20)).await,
                Err(FrameError::Timeout(_))
            ));
        });
    }

    proptest! {
        #[test]
        fn the_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(frame) = Frame::from_datagram(&bytes) {
                prop_assert_eq!(frame.encode().unwrap(), bytes);
            }
        }

        #[test]
        fn valid_headers_with_any_payload_never_panic(
            kind in 0u8..10,
            payload in proptest::collection::vec(any::<u8>(), 0..120),
        ) {
            let mut bytes = vec![kind];
            bytes.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes());
            bytes.extend_from_slice(&payload);
            if let Ok(frame) = Frame::from_datagram(&bytes) {
                prop_assert_eq!(frame.encode().unwrap(), bytes);
            }
        }
    }
}
