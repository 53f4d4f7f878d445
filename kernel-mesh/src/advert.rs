//! Capability adverts: what a kernel tells its peers about itself, as one
//! UDP datagram of type-length-value records, after LLDP (IEEE 802.1AB).
//!
//! Layout (all integers big-endian):
//!
//! ```text
//! "KADV" version:u8                      header
//! type:u8 length:u16 value[length]       TLV, repeated
//! ```
//!
//! | type | TLV | value | |
//! |---|---|---|---|
//! | 1 | identity | UTF-8, 1 to [`MAX_IDENTITY`] bytes, see [`check_identity`] | mandatory, once |
//! | 2 | TTL | seconds, u16; 0 means "leaving" | mandatory, once |
//! | 3 | sequence | u64, strictly increasing per sender | mandatory, once |
//! | 4 | control surface | address | at most once |
//! | 5 | server classes | u32 each, at most [`MAX_CLASSES`] | at most once |
//! | 6 | candidate | proto:u8 (1 TCP, 2 UDP) priority:u32 verified_at_ms:u64 address | repeated |
//! | 255 | authentication tag | HMAC-SHA256, 32 bytes | last, optional |
//!
//! An address is `4` + 4 bytes or `6` + 16 bytes, then the port (u16); an
//! IPv6 scope id does not cross the wire (it only means something on the
//! host that chose it). Unknown TLV types are skipped, so later versions
//! can add records that older kernels ignore.
//!
//! The tag covers every byte before the tag TLV. A receiver with a key drops
//! adverts without a valid tag; a receiver without a key does not check it.
//! Decoding is total: any byte string gives an [`Advert`] or an
//! [`AdvertError`], never a panic.

use std::net::SocketAddr;

use serde::{Serialize, Serializer};
use thiserror::Error;

use wiring_model::identity::{self, GuestIdentity};

use super::auth::{Key, TAG_LEN};
use super::candidate::{self, Candidate};
use super::frame::{self, IpWireError, take};

/// The largest advert, so that it fits one UDP datagram on an Ethernet path
/// without IP fragmentation (1500 bytes less IP, UDP and tunnel headers).
pub const MAX_DATAGRAM: usize = 1400;
/// The longest identity, in bytes: a Hostess guest identity fits.
pub const MAX_IDENTITY: usize = 512;
/// The most server classes one advert carries.
pub const MAX_CLASSES: usize = 64;

const MAGIC: &[u8; 4] = b"KADV";
const VERSION: u8 = 1;
const HEADER_LEN: usize = MAGIC.len() + 1;
const TLV_HEADER_LEN: usize = 3;
/// Domain separation: a tag made for an advert is no use in another protocol
/// keyed with the same passphrase.
const TAG_CONTEXT: &[u8] = b"kernel advert v1";

const T_IDENTITY: u8 = 1;
const T_TTL: u8 = 2;
const T_SEQUENCE: u8 = 3;
const T_CONTROL: u8 = 4;
const T_CLASSES: u8 = 5;
const T_CANDIDATE: u8 = 6;
const T_TAG: u8 = 255;

/// What a kernel advertises about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Advert {
    /// The kernel's identity: `name@host:pid` as kernels send it, a host
    /// name, or a Hostess guest identity (see [`check_identity`]).
    pub identity: String,
    /// How long a receiver keeps this advert, in seconds; 0 means "leaving".
    pub ttl_s: u16,
    /// Strictly increasing per sender: a receiver ignores anything not above
    /// the last one it accepted, so late and replayed adverts change nothing.
    pub sequence: u64,
    /// Where the sender's control surface listens.
    pub control: Option<SocketAddr>,
    /// Server classes the sender offers.
    #[serde(serialize_with = "hex_classes")]
    pub classes: Vec<u32>,
    /// Connection points the sender's probe verified, best first.
    pub candidates: Vec<Candidate>,
}

/// Classes as the Hostess writes them (`0x0000000a`).
fn hex_classes<S: Serializer>(classes: &[u32], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(classes.iter().map(|c| format!("0x{c:08x}")))
}

/// Why an advert cannot be encoded or was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AdvertError {
    /// The encoded advert does not fit one datagram.
    #[error("the advert is {len} bytes, more than the {MAX_DATAGRAM} allowed")]
    TooLong {
        /// Its encoded length in bytes.
        len: usize,
    },
    /// The datagram does not start with the advert magic: not an advert.
    #[error("not an advert (bad magic)")]
    BadMagic,
    /// An advert of another protocol version.
    #[error("advert version {0} is not supported (this kernel speaks {VERSION})")]
    UnsupportedVersion(u8),
    /// The datagram ends inside a TLV.
    #[error("the advert is cut short at byte {at}")]
    Truncated {
        /// Where the data ran out.
        at: usize,
    },
    /// A TLV whose length does not fit its type.
    #[error("the {tlv} TLV has a bad length ({len} bytes)")]
    BadLength {
        /// The TLV's name.
        tlv: &'static str,
        /// The length it gives.
        len: usize,
    },
    /// The kernel identity is empty or too long.
    #[error("the identity is {len} bytes; it must be 1 to {MAX_IDENTITY}")]
    IdentityLength {
        /// Its length in bytes.
        len: usize,
    },
    /// The kernel identity is not UTF-8.
    #[error("the identity is not UTF-8")]
    IdentityNotUtf8,
    /// The kernel identity does not parse.
    #[error("`{identity}` is not a kernel's identity: {reason}")]
    BadIdentity {
        /// The identity as sent.
        identity: String,
        /// Why it does not parse.
        reason: String,
    },
    /// More server classes than an advert holds.
    #[error("{count} server classes; at most {MAX_CLASSES} fit an advert")]
    TooManyClasses {
        /// How many there are.
        count: usize,
    },
    /// A candidate with a transport code other than TCP or UDP.
    #[error("unknown transport {0} in a candidate")]
    BadProto(u8),
    /// An address family code other than IPv4 or IPv6.
    #[error("unknown address family {0}")]
    BadFamily(u8),
    /// A TLV that may appear once appears twice.
    #[error("the {0} TLV appears twice")]
    Duplicate(&'static str),
    /// A required TLV is absent.
    #[error("the {0} TLV is missing")]
    Missing(&'static str),
    /// Bytes after the authentication tag, which must come last.
    #[error("data follows the authentication tag")]
    AfterTag,
    /// The advert is not authenticated, but this kernel requires it.
    #[error("the advert has no authentication tag")]
    MissingTag,
    /// The tag does not verify: another passphrase, or the advert was altered.
    #[error("the authentication tag is wrong")]
    BadTag,
}

/// Encodes `advert`, tagged with `key` if there is one.
///
/// Candidates are written best first (highest priority). If they do not all
/// fit [`MAX_DATAGRAM`], the lowest-priority ones are left out: a peer tries
/// the best connection points first anyway, and a partial list is more use
/// than none.
///
/// Fails only for an identity that is empty, longer than [`MAX_IDENTITY`]
/// bytes or not a kernel's ([`check_identity`]), or more than
/// [`MAX_CLASSES`] server classes.
pub fn encode(advert: &Advert, key: Option<&Key>) -> Result<Vec<u8>, AdvertError> {
    let identity = advert.identity.as_bytes();
    if identity.is_empty() || identity.len() > MAX_IDENTITY {
        return Err(AdvertError::IdentityLength {
            len: identity.len(),
        });
    }
    valid_identity(&advert.identity)?;
    if advert.classes.len() > MAX_CLASSES {
        return Err(AdvertError::TooManyClasses {
            count: advert.classes.len(),
        });
    }
    let mut out = Vec::with_capacity(MAX_DATAGRAM);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    put_tlv(&mut out, T_IDENTITY, identity);
    put_tlv(&mut out, T_TTL, &advert.ttl_s.to_be_bytes());
    put_tlv(&mut out, T_SEQUENCE, &advert.sequence.to_be_bytes());
    if let Some(addr) = advert.control {
        let mut value = Vec::new();
        put_addr(&mut value, addr);
        put_tlv(&mut out, T_CONTROL, &value);
    }
    if !advert.classes.is_empty() {
        let classes: Vec<u8> = advert
            .classes
            .iter()
            .flat_map(|c| c.to_be_bytes())
            .collect();
        put_tlv(&mut out, T_CLASSES, &classes);
    }
    let reserve = if key.is_some() {
        TLV_HEADER_LEN + TAG_LEN
    } else {
        0
    };
    let mut candidates = advert.candidates.clone();
    candidate::sort(&mut candidates);
    let mut left_out = 0;
    for c in &candidates {
        let value = candidate_bytes(c);
        if out.len() + TLV_HEADER_LEN + value.len() + reserve > MAX_DATAGRAM {
            left_out += 1;
            continue;
        }
        put_tlv(&mut out, T_CANDIDATE, &value);
    }
    if left_out > 0 {
        tracing::debug!(left_out, "advert full: lowest-priority candidates left out");
    }
    if let Some(key) = key {
        let tag = key.tag(&[TAG_CONTEXT, &out]);
        put_tlv(&mut out, T_TAG, &tag);
    }
    Ok(out)
}

/// Decodes one datagram. With a `key`, the advert must end with a valid tag.
pub fn decode(bytes: &[u8], key: Option<&Key>) -> Result<Advert, AdvertError> {
    if bytes.len() > MAX_DATAGRAM {
        return Err(AdvertError::TooLong { len: bytes.len() });
    }
    let (header, mut rest) = bytes
        .split_first_chunk::<HEADER_LEN>()
        .ok_or(AdvertError::Truncated { at: bytes.len() })?;
    let [m0, m1, m2, m3, version] = *header;
    if [m0, m1, m2, m3] != *MAGIC {
        return Err(AdvertError::BadMagic);
    }
    if version != VERSION {
        return Err(AdvertError::UnsupportedVersion(version));
    }

    let mut identity = None;
    let mut ttl = None;
    let mut sequence = None;
    let mut control = None;
    let mut classes = None;
    let mut candidates = Vec::new();
    let mut tag = None;
    while !rest.is_empty() {
        let at = bytes.len() - rest.len();
        if tag.is_some() {
            return Err(AdvertError::AfterTag);
        }
        let (&[kind, hi, lo], after) = rest
            .split_first_chunk::<TLV_HEADER_LEN>()
            .ok_or(AdvertError::Truncated { at })?;
        let (value, after) = after
            .split_at_checked(usize::from(u16::from_be_bytes([hi, lo])))
            .ok_or(AdvertError::Truncated { at })?;
        rest = after;
        match kind {
            T_IDENTITY => once(&mut identity, "identity", parse_identity(value)?)?,
            T_TTL => once(&mut ttl, "TTL", u16::from_be_bytes(fixed(value, "TTL")?))?,
            T_SEQUENCE => once(
                &mut sequence,
                "sequence",
                u64::from_be_bytes(fixed(value, "sequence")?),
            )?,
            T_CONTROL => once(&mut control, "control surface", parse_control(value)?)?,
            T_CLASSES => once(&mut classes, "server classes", parse_classes(value)?)?,
            T_CANDIDATE => candidates.push(parse_candidate(value)?),
            T_TAG => tag = Some((at, fixed::<TAG_LEN>(value, "authentication tag")?)),
            _ => {} // a record from a later version: skipped, as LLDP does
        }
    }

    if let Some(key) = key {
        let (at, tag) = tag.ok_or(AdvertError::MissingTag)?;
        let signed = bytes.get(..at).ok_or(AdvertError::Truncated { at })?;
        if !key.verify(&[TAG_CONTEXT, signed], &tag) {
            return Err(AdvertError::BadTag);
        }
    }
    Ok(Advert {
        identity: identity.ok_or(AdvertError::Missing("identity"))?,
        ttl_s: ttl.ok_or(AdvertError::Missing("TTL"))?,
        sequence: sequence.ok_or(AdvertError::Missing("sequence"))?,
        control,
        classes: classes.unwrap_or_default(),
        candidates,
    })
}

fn put_tlv(out: &mut Vec<u8>, kind: u8, value: &[u8]) {
    // Every value is bounded well below u16::MAX by the checks in `encode`.
    let len = u16::try_from(value.len()).unwrap_or(u16::MAX);
    out.push(kind);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(value);
}

fn put_addr(out: &mut Vec<u8>, addr: SocketAddr) {
    frame::put_ip(out, addr.ip());
    out.extend_from_slice(&addr.port().to_be_bytes());
}

fn candidate_bytes(c: &Candidate) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    out.push(frame::proto_code(c.proto));
    out.extend_from_slice(&c.priority.to_be_bytes());
    out.extend_from_slice(&c.verified_at_ms.to_be_bytes());
    put_addr(&mut out, c.addr);
    out
}

/// Stores a TLV that may appear once.
fn once<T>(slot: &mut Option<T>, tlv: &'static str, value: T) -> Result<(), AdvertError> {
    if slot.replace(value).is_some() {
        return Err(AdvertError::Duplicate(tlv));
    }
    Ok(())
}

/// A value of exactly `N` bytes.
fn fixed<const N: usize>(value: &[u8], tlv: &'static str) -> Result<[u8; N], AdvertError> {
    <[u8; N]>::try_from(value).map_err(|_| AdvertError::BadLength {
        tlv,
        len: value.len(),
    })
}

fn parse_identity(value: &[u8]) -> Result<String, AdvertError> {
    if value.is_empty() || value.len() > MAX_IDENTITY {
        return Err(AdvertError::IdentityLength { len: value.len() });
    }
    let identity = String::from_utf8(value.to_vec()).map_err(|_| AdvertError::IdentityNotUtf8)?;
    valid_identity(&identity)?;
    Ok(identity)
}

fn valid_identity(identity: &str) -> Result<(), AdvertError> {
    check_identity(identity).map_err(|reason| AdvertError::BadIdentity {
        identity: identity.escape_debug().take(MAX_IDENTITY).collect(),
        reason,
    })
}

/// Checks that `identity` names a kernel: `name@host:pid` (what kernels
/// send: a kernel name `[a-z0-9_-]+`, an RFC 1123 host name, a process id),
/// an RFC 1123 host name, or a Hostess guest identity. Says what is wrong.
pub fn check_identity(identity: &str) -> Result<(), String> {
    if let Some((name, place)) = identity.split_once('@') {
        identity::check_server_name(name).map_err(|e| format!("its kernel name: {e}"))?;
        let (host, pid) = place
            .rsplit_once(':')
            .ok_or("`name@host:pid` lacks the `:pid`")?;
        identity::check_fqdn(host)?;
        if pid.is_empty() || pid.len() > 10 || !pid.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("`{}` is not a process id", pid.escape_debug()));
        }
        Ok(())
    } else if identity.contains(':') {
        GuestIdentity::parse(identity)
            .map(drop)
            .map_err(|e| e.to_string())
    } else {
        identity::check_fqdn(identity)
    }
}

fn parse_control(value: &[u8]) -> Result<SocketAddr, AdvertError> {
    let mut cursor = value;
    let addr = take_addr(&mut cursor, "control surface")?;
    if !cursor.is_empty() {
        return Err(AdvertError::BadLength {
            tlv: "control surface",
            len: value.len(),
        });
    }
    Ok(addr)
}

fn parse_classes(value: &[u8]) -> Result<Vec<u32>, AdvertError> {
    let (chunks, rest) = value.as_chunks::<4>();
    if !rest.is_empty() || chunks.len() > MAX_CLASSES {
        return Err(AdvertError::BadLength {
            tlv: "server classes",
            len: value.len(),
        });
    }
    Ok(chunks.iter().map(|c| u32::from_be_bytes(*c)).collect())
}

fn parse_candidate(value: &[u8]) -> Result<Candidate, AdvertError> {
    const TLV: &str = "candidate";
    let bad_length = || AdvertError::BadLength {
        tlv: TLV,
        len: value.len(),
    };
    let mut cursor = value;
    let [code] = take(&mut cursor).ok_or_else(bad_length)?;
    let proto = frame::proto_from_code(code).ok_or(AdvertError::BadProto(code))?;
    let priority = u32::from_be_bytes(take(&mut cursor).ok_or_else(bad_length)?);
    let verified_at_ms = u64::from_be_bytes(take(&mut cursor).ok_or_else(bad_length)?);
    let addr = take_addr(&mut cursor, TLV)?;
    if !cursor.is_empty() {
        return Err(bad_length());
    }
    Ok(Candidate {
        proto,
        addr,
        priority,
        verified_at_ms,
    })
}

fn take_addr(cursor: &mut &[u8], tlv: &'static str) -> Result<SocketAddr, AdvertError> {
    let len = cursor.len();
    let bad_length = || AdvertError::BadLength { tlv, len };
    let ip = frame::take_ip(cursor).map_err(|e| match e {
        IpWireError::Truncated => bad_length(),
        IpWireError::UnknownFamily(family) => AdvertError::BadFamily(family),
    })?;
    let port = u16::from_be_bytes(take(cursor).ok_or_else(bad_length)?);
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use proptest::prelude::*;

    use super::*;
    use crate::auth::test_keys::{KEY, WRONG};
    use crate::candidate::Proto;

    fn sample() -> Advert {
        Advert {
            identity: "kernel-a.example.org".into(),
            ttl_s: 30,
            sequence: 7,
            control: Some("127.0.0.1:8080".parse().unwrap()),
            classes: vec![0x0a01, 0x0b02],
            candidates: vec![
                Candidate::new(Proto::Udp, "192.168.1.2:5000".parse().unwrap(), 11),
                Candidate::new(Proto::Tcp, "[2001:db8::1]:5001".parse().unwrap(), 12),
            ],
        }
    }

    fn tlv(kind: u8, value: &[u8]) -> Vec<u8> {
        let mut out = vec![kind];
        out.extend_from_slice(&u16::try_from(value.len()).unwrap().to_be_bytes());
        out.extend_from_slice(value);
        out
    }

    /// Header plus the three mandatory TLVs, then `extra`.
    fn minimal(extra: &[Vec<u8>]) -> Vec<u8> {
        let mut out = b"KADV\x01".to_vec();
        out.extend(tlv(T_IDENTITY, b"k"));
        out.extend(tlv(T_TTL, &5u16.to_be_bytes()));
        out.extend(tlv(T_SEQUENCE, &1u64.to_be_bytes()));
        for e in extra {
            out.extend_from_slice(e);
        }
        out
    }

    #[test]
    fn round_trips_with_candidates_best_first() {
        let advert = sample();
        let decoded = decode(&encode(&advert, None).unwrap(), None).unwrap();
        let mut expected = advert;
        expected.candidates.reverse(); // TCP over IPv6 ranks first
        assert_eq!(decoded, expected);
    }

    #[test]
    fn lowest_priority_candidates_are_left_out_when_full() {
        let mut advert = sample();
        advert.candidates = (0..100u16)
            .map(|i| Candidate {
                proto: Proto::Tcp,
                addr: SocketAddr::new("2001:db8::1".parse().unwrap(), 2000 + i),
                priority: u32::from(i),
                verified_at_ms: 0,
            })
            .collect();
        let bytes = encode(&advert, Some(&KEY)).unwrap();
        assert!(bytes.len() <= MAX_DATAGRAM);
        let kept = decode(&bytes, Some(&KEY)).unwrap().candidates;
        assert!(!kept.is_empty() && kept.len() < 100);
        let priorities: Vec<u32> = kept.iter().map(|c| c.priority).collect();
        let best: Vec<u32> = (0..100u32).rev().take(kept.len()).collect();
        assert_eq!(priorities, best);
    }

    #[test]
    fn encode_refuses_bad_identities_and_too_many_classes() {
        let mut advert = sample();
        advert.identity.clear();
        assert_eq!(
            encode(&advert, None),
            Err(AdvertError::IdentityLength { len: 0 })
        );
        advert.identity = "x".repeat(MAX_IDENTITY + 1);
        assert_eq!(
            encode(&advert, None),
            Err(AdvertError::IdentityLength {
                len: MAX_IDENTITY + 1
            })
        );
        let mut advert = sample();
        advert.classes = vec![1; MAX_CLASSES + 1];
        assert_eq!(
            encode(&advert, None),
            Err(AdvertError::TooManyClasses {
                count: MAX_CLASSES + 1
            })
        );
    }

    #[test]
    fn unknown_tlvs_are_skipped() {
        let bytes = minimal(&[tlv(42, b"from the future"), tlv(T_CLASSES, &[0, 0, 0, 9])]);
        let advert = decode(&bytes, None).unwrap();
        assert_eq!(advert.classes, [9]);
    }

    #[test]
    fn header_errors() {
        assert_eq!(decode(b"KAD", None), Err(AdvertError::Truncated { at: 3 }));
        assert_eq!(decode(b"LLDP\x01", None), Err(AdvertError::BadMagic));
        assert_eq!(
            decode(b"KADV\x02", None),
            Err(AdvertError::UnsupportedVersion(2))
        );
        let mut big = minimal(&[tlv(42, &[0; MAX_DATAGRAM])]);
        big.truncate(MAX_DATAGRAM + 1);
        assert_eq!(
            decode(&big, None),
            Err(AdvertError::TooLong {
                len: MAX_DATAGRAM + 1
            })
        );
    }

    #[test]
    fn truncated_tlvs_are_refused() {
        let bytes = encode(&sample(), None).unwrap();
        let last_tlv =
            bytes.len() - (TLV_HEADER_LEN + candidate_bytes(&sample().candidates[0]).len());
        for cut in [last_tlv + 1, last_tlv + 2, last_tlv + 3, bytes.len() - 1] {
            assert_eq!(
                decode(&bytes[..cut], None),
                Err(AdvertError::Truncated { at: last_tlv }),
                "cut at {cut}"
            );
        }
        // With a key every proper prefix is refused: the tag comes last.
        let tagged = encode(&sample(), Some(&KEY)).unwrap();
        for cut in 0..tagged.len() {
            assert!(decode(&tagged[..cut], Some(&KEY)).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn bad_values_are_refused() {
        let cases: [(Vec<u8>, AdvertError); 8] = [
            (
                minimal(&[tlv(T_IDENTITY, b"k")]),
                AdvertError::Duplicate("identity"),
            ),
            (
                minimal(&[tlv(T_TTL, &[0, 1])]),
                AdvertError::Duplicate("TTL"),
            ),
            (
                minimal(&[tlv(T_SEQUENCE, &[0; 8])]),
                AdvertError::Duplicate("sequence"),
            ),
            (
                minimal(&[tlv(T_CONTROL, &[4, 127, 0, 0, 1, 0])]),
                AdvertError::BadLength {
                    tlv: "control surface",
                    len: 6,
                },
            ),
            (
                minimal(&[tlv(T_CONTROL, &[5, 127, 0, 0, 1, 0, 80])]),
                AdvertError::BadFamily(5),
            ),
            (
                minimal(&[tlv(T_CLASSES, &[0; 5])]),
                AdvertError::BadLength {
                    tlv: "server classes",
                    len: 5,
                },
            ),
            (
                minimal(&[tlv(T_CANDIDATE, &[3; 20])]),
                AdvertError::BadProto(3),
            ),
            (
                minimal(&[tlv(T_TAG, &[0; 32]), tlv(42, b"")]),
                AdvertError::AfterTag,
            ),
        ];
        for (bytes, error) in cases {
            assert_eq!(decode(&bytes, None), Err(error));
        }
        let mut no_ttl = b"KADV\x01".to_vec();
        no_ttl.extend(tlv(T_IDENTITY, b"k"));
        no_ttl.extend(tlv(T_SEQUENCE, &[0; 8]));
        assert_eq!(decode(&no_ttl, None), Err(AdvertError::Missing("TTL")));
        let mut bad_utf8 = b"KADV\x01".to_vec();
        bad_utf8.extend(tlv(T_IDENTITY, &[0xff]));
        assert_eq!(decode(&bad_utf8, None), Err(AdvertError::IdentityNotUtf8));
        let mut long_identity = b"KADV\x01".to_vec();
        long_identity.extend(tlv(T_IDENTITY, &[b'x'; MAX_IDENTITY + 1]));
        assert_eq!(
            decode(&long_identity, None),
            Err(AdvertError::IdentityLength {
                len: MAX_IDENTITY + 1
            })
        );
    }

    #[test]
    fn identities_are_checked_both_ways() {
        for good in [
            "refinery@plant-a.example:4242",
            "plant-a.example",
            "localhost",
            "plant-a.example:alarm:0x00000a01:ops:no:none:6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0f",
        ] {
            assert_eq!(check_identity(good), Ok(()), "{good}");
            let advert = Advert {
                identity: good.into(),
                ..sample()
            };
            let bytes = encode(&advert, None).unwrap();
            assert_eq!(decode(&bytes, None).unwrap().identity, good);
        }
        for bad in [
            "one more",
            "evil\u{1b}[2J",
            "Refinery@plant-a.example:1",
            "refinery@plant-a.example",
            "refinery@plant-a.example:12ab",
            "refinery@-bad-.example:1",
            "a..b",
            "plant-a.example:alarm:0x00000a01",
        ] {
            assert!(check_identity(bad).is_err(), "{bad}");
            let advert = Advert {
                identity: bad.into(),
                ..sample()
            };
            assert!(
                matches!(encode(&advert, None), Err(AdvertError::BadIdentity { .. })),
                "{bad}"
            );
            let mut forged = b"KADV\x01".to_vec();
            forged.extend(tlv(T_IDENTITY, bad.as_bytes()));
            forged.extend(tlv(T_TTL, &5u16.to_be_bytes()));
            forged.extend(tlv(T_SEQUENCE, &1u64.to_be_bytes()));
            assert!(
                matches!(decode(&forged, None), Err(AdvertError::BadIdentity { .. })),
                "{bad}"
            );
        }
        let mut control_characters = b"KADV\x01".to_vec();
        control_characters.extend(tlv(T_IDENTITY, b"bad\nline"));
        let shown = decode(&control_characters, None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            shown.starts_with("`bad\\nline` is not a kernel's identity"),
            "{shown}"
        );
    }

    #[test]
    fn a_keyed_receiver_requires_a_valid_tag() {
        let advert = sample();
        let plain = encode(&advert, None).unwrap();
        assert_eq!(decode(&plain, Some(&KEY)), Err(AdvertError::MissingTag));
        let tagged = encode(&advert, Some(&KEY)).unwrap();
        assert_eq!(decode(&tagged, Some(&WRONG)), Err(AdvertError::BadTag));
        let mut altered = tagged.clone();
        altered[HEADER_LEN + TLV_HEADER_LEN] ^= 1; // a bit of the identity
        assert_eq!(decode(&altered, Some(&KEY)), Err(AdvertError::BadTag));
        let mut expected = advert;
        expected.candidates.reverse();
        assert_eq!(decode(&tagged, Some(&KEY)).as_ref(), Ok(&expected));
        // Without a key the tag is not checked.
        assert_eq!(decode(&tagged, None), Ok(expected));
    }

    fn arb_addr() -> impl Strategy<Value = SocketAddr> {
        let ip = prop_oneof![
            any::<[u8; 4]>().prop_map(IpAddr::from),
            any::<[u8; 16]>().prop_map(IpAddr::from),
        ];
        (ip, any::<u16>()).prop_map(|(ip, port)| SocketAddr::new(ip, port))
    }

    fn arb_advert() -> impl Strategy<Value = Advert> {
        let candidate = (
            prop_oneof![Just(Proto::Tcp), Just(Proto::Udp)],
            arb_addr(),
            any::<u32>(),
            any::<u64>(),
        )
            .prop_map(|(proto, addr, priority, verified_at_ms)| Candidate {
                proto,
                addr,
                priority,
                verified_at_ms,
            });
        (
            "[a-z0-9_-]{1,12}@[a-z]([a-z0-9-]{0,8}[a-z0-9])?\\.[a-z]{2,6}:[0-9]{1,7}",
            any::<u16>(),
            any::<u64>(),
            proptest::option::of(arb_addr()),
            proptest::collection::vec(any::<u32>(), 0..=MAX_CLASSES),
            proptest::collection::vec(candidate, 0..8),
        )
            .prop_map(
                |(identity, ttl_s, sequence, control, classes, candidates)| Advert {
                    identity,
                    ttl_s,
                    sequence,
                    control,
                    classes,
                    candidates,
                },
            )
    }

    /// The byte offsets where the TLVs of an encoded advert start.
    fn tlv_starts(bytes: &[u8]) -> Vec<usize> {
        let mut starts = Vec::new();
        let mut at = HEADER_LEN;
        while at < bytes.len() {
            starts.push(at);
            let len = u16::from_be_bytes([bytes[at + 1], bytes[at + 2]]);
            at += TLV_HEADER_LEN + usize::from(len);
        }
        starts
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
            let _ = decode(&bytes, None);
            let _ = decode(&bytes, Some(&KEY));
        }

        #[test]
        fn arbitrary_tlvs_after_a_header_never_panic(
            tlvs in proptest::collection::vec(
                (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..40)),
                0..20,
            ),
        ) {
            let mut bytes = b"KADV\x01".to_vec();
            for (kind, value) in &tlvs {
                bytes.extend(tlv(*kind, value));
            }
            let _ = decode(&bytes, None);
        }

        #[test]
        fn encode_then_decode_round_trips(advert in arb_advert(), keyed in any::<bool>()) {
            let key = keyed.then(|| &*KEY);
            let bytes = encode(&advert, key).unwrap();
            prop_assert!(bytes.len() <= MAX_DATAGRAM);
            let mut expected = advert;
            candidate::sort(&mut expected.candidates);
            prop_assert_eq!(decode(&bytes, key), Ok(expected));
        }

        #[test]
        fn unknown_tlvs_anywhere_are_skipped(
            advert in arb_advert(),
            kind in 7u8..255,
            value in proptest::collection::vec(any::<u8>(), 0..30),
            position in any::<prop::sample::Index>(),
        ) {
            let bytes = encode(&advert, None).unwrap();
            let starts = tlv_starts(&bytes);
            let at = starts[position.index(starts.len())];
            let mut with_unknown = bytes[..at].to_vec();
            with_unknown.extend(tlv(kind, &value));
            with_unknown.extend_from_slice(&bytes[at..]);
            prop_assert_eq!(decode(&with_unknown, None), decode(&bytes, None));
        }
    }
}
