//! Mutual, replay-proof challenge-response between a probe and a beacon.
//!
//! ```text
//! probe  -> beacon  Hello     { session, nonce_p }
//! beacon -> probe   Challenge { salt, nonce_b, tag("beacon", session, nonce_p, nonce_b) }
//! probe  -> beacon  Proof     { tag("probe", session, nonce_p, nonce_b) }
//! beacon -> probe   Welcome
//! ```
//!
//! Each side proves the passphrase over both fresh nonces, so a recorded
//! proof is worthless in the next exchange (the beacon's nonce differs), and
//! the role label makes a beacon tag sent back as a probe proof fail. The
//! passphrase never crosses the wire, only the salt and tags do. Later frames
//! of the same exchange (reports, done, terminate) are tagged over the same
//! [`Transcript`] under their own role label.
//!
//! The steps are plain functions of frames, so TCP ([`accept`], [`connect`])
//! and UDP (one datagram per frame) share them.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Serialize, Serializer};
use tokio::io::{AsyncRead, AsyncWrite};
use tracing::debug;

use crate::auth::{Key, nonce};
use crate::frame::{self, Frame, FrameError, Refusal};

/// Bytes of a beacon's salt.
pub const SALT_LEN: usize = 16;

/// Which probe run an exchange belongs to: 16 random bytes, written as 32
/// lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId([u8; 16]);

impl SessionId {
    /// A fresh random session id.
    pub fn random() -> Result<SessionId, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)?;
        Ok(SessionId(bytes))
    }

    /// The session id with these bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> SessionId {
        SessionId(bytes)
    }

    /// Its 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

impl Serialize for SessionId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A session id that is not 32 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a session id: expected 32 hex digits")]
pub struct BadSessionId(String);

impl FromStr for SessionId {
    type Err = BadSessionId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadSessionId(text.to_owned());
        // Digits only: `from_str_radix` alone would take a sign ("+f").
        if text.len() != 32 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut bytes = [0u8; 16];
        for (i, byte) in bytes.iter_mut().enumerate() {
            let pair = text.get(2 * i..2 * i + 2).ok_or_else(bad)?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
        }
        Ok(SessionId(bytes))
    }
}

/// What a tag proves; the label is the first signed part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The beacon's proof in a `Challenge`.
    Beacon,
    /// The probe's proof in a `Proof`.
    Probe,
    /// A `Report` frame.
    Report,
    /// A `Done` frame.
    Done,
    /// A `Terminate` frame.
    Terminate,
}

impl Role {
    fn label(self) -> &'static [u8] {
        match self {
            Role::Beacon => b"beacon",
            Role::Probe => b"probe",
            Role::Report => b"report",
            Role::Done => b"done",
            Role::Terminate => b"terminate",
        }
    }
}

/// What both sides of one exchange share: the session and both nonces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    /// The session of the exchange.
    pub session: SessionId,
    /// The probe's nonce (from its `Hello`).
    pub nonce_p: [u8; 32],
    /// The beacon's nonce (from its `Challenge`).
    pub nonce_b: [u8; 32],
}

impl Transcript {
    fn parts<'a>(&'a self, role: Role, extra: &[&'a [u8]]) -> Vec<&'a [u8]> {
        let mut parts: Vec<&[u8]> = vec![
            role.label(),
            self.session.as_bytes(),
            &self.nonce_p,
            &self.nonce_b,
        ];
        parts.extend_from_slice(extra);
        parts
    }

    /// The tag of `role` (and `extra` parts) in this exchange.
    pub fn tag(&self, key: &Key, role: Role, extra: &[&[u8]]) -> [u8; 32] {
        key.tag(&self.parts(role, extra))
    }

    /// Whether `tag` is the tag of `role` (and `extra`) in this exchange.
    pub fn verify(&self, key: &Key, role: Role, extra: &[&[u8]], tag: &[u8]) -> bool {
        key.verify(&self.parts(role, extra), tag)
    }
}

/// Why an exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// A frame could not be read.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A frame that does not belong at this point of the exchange.
    #[error("expected a {expected} frame, got a {got} frame")]
    Unexpected {
        /// The frame type the exchange waits for.
        expected: &'static str,
        /// The frame type that came.
        got: &'static str,
    },
    /// The peer ended the exchange.
    #[error("the peer refused: {0}")]
    Refused(Refusal),
    /// The beacon does not know this probe's passphrase.
    #[error("the beacon's tag does not verify: it does not know our passphrase")]
    BadBeaconTag,
    /// The listener is another beacon's (another salt).
    #[error("the challenge comes under another salt than the beacon's: not our beacon")]
    ForeignSalt,
    /// The probe does not know the beacon's passphrase.
    #[error("the probe's proof does not verify")]
    BadProof,
    /// The beacon has no session with that id.
    #[error("unknown session id {0}")]
    UnknownSession(SessionId),
    /// The operating system gave no random numbers.
    #[error("no random nonce from the operating system: {0}")]
    Random(#[from] getrandom::Error),
}

impl HandshakeError {
    /// The peer answered in the protocol but the passphrase check failed.
    pub fn is_auth_failure(&self) -> bool {
        matches!(
            self,
            HandshakeError::BadBeaconTag
                | HandshakeError::ForeignSalt
                | HandshakeError::BadProof
                | HandshakeError::UnknownSession(_)
                | HandshakeError::Refused(Refusal::BadProof | Refusal::UnknownSession)
        )
    }

    /// What a beacon tells the peer before it closes.
    pub fn refusal(&self) -> Refusal {
        match self {
            HandshakeError::BadProof => Refusal::BadProof,
            HandshakeError::UnknownSession(_) => Refusal::UnknownSession,
            _ => Refusal::Unexpected,
        }
    }
}

/// The error for `got` where an `expected` frame should be: the peer's own
/// refusal if it sent one.
pub(crate) fn unexpected(expected: &'static str, got: &Frame) -> HandshakeError {
    match got {
        Frame::Refused(reason) => HandshakeError::Refused(*reason),
        other => HandshakeError::Unexpected {
            expected,
            got: other.name(),
        },
    }
}

/// The beacon's side: its key, its salt and the sessions it accepts.
#[derive(Debug)]
pub struct BeaconAuth {
    key: Key,
    salt: [u8; SALT_LEN],
    sessions: Option<HashSet<SessionId>>,
}

impl BeaconAuth {
    /// Draws a fresh salt and derives the key once (slow on purpose, see
    /// [`crate::auth::ITERATIONS`]). `sessions`: `None` accepts any.
    pub fn new(
        passphrase: &str,
        sessions: Option<HashSet<SessionId>>,
    ) -> Result<BeaconAuth, getrandom::Error> {
        let mut salt = [0u8; SALT_LEN];
        getrandom::fill(&mut salt)?;
        Ok(BeaconAuth::with_key(
            Key::derive(passphrase, &salt),
            salt,
            sessions,
        ))
    }

    /// A beacon side with `key` already derived under `salt`.
    pub(crate) fn with_key(
        key: Key,
        salt: [u8; SALT_LEN],
        sessions: Option<HashSet<SessionId>>,
    ) -> BeaconAuth {
        BeaconAuth {
            key,
            salt,
            sessions,
        }
    }

    /// The key derived from the passphrase and the beacon's salt.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// Answers a `Hello`: the exchange so far and the `Challenge` to send.
    pub fn challenge(&self, hello: &Frame) -> Result<(Transcript, Frame), HandshakeError> {
        let Frame::Hello { session, nonce: p } = hello else {
            return Err(unexpected("hello", hello));
        };
        if let Some(sessions) = &self.sessions
            && !sessions.contains(session)
        {
            return Err(HandshakeError::UnknownSession(*session));
        }
        let transcript = Transcript {
            session: *session,
            nonce_p: *p,
            nonce_b: nonce()?,
        };
        let challenge = Frame::Challenge {
            salt: self.salt,
            nonce: transcript.nonce_b,
            tag: transcript.tag(&self.key, Role::Beacon, &[]),
        };
        Ok((transcript, challenge))
    }

    /// Checks the probe's `Proof` in the exchange `transcript`.
    pub fn check_proof(
        &self,
        transcript: &Transcript,
        proof: &Frame,
    ) -> Result<(), HandshakeError> {
        let Frame::Proof { tag } = proof else {
            return Err(unexpected("proof", proof));
        };
        if transcript.verify(&self.key, Role::Probe, &[], tag) {
            Ok(())
        } else {
            Err(HandshakeError::BadProof)
        }
    }
}

/// The probe's key under its beacon's salt: a challenge under any other
/// salt is not from this beacon.
pub struct ProbeKey {
    salt: [u8; SALT_LEN],
    key: Key,
}

impl fmt::Debug for ProbeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProbeKey(..)")
    }
}

impl ProbeKey {
    /// Derives the key (slow on purpose, see [`crate::auth::ITERATIONS`]).
    pub fn derive(passphrase: &str, salt: [u8; SALT_LEN]) -> ProbeKey {
        ProbeKey::with_key(Key::derive(passphrase, &salt), salt)
    }

    /// A probe key with `key` already derived under `salt`.
    pub(crate) fn with_key(key: Key, salt: [u8; SALT_LEN]) -> ProbeKey {
        ProbeKey { salt, key }
    }

    /// The key under `salt`, or `None` for another salt.
    pub fn for_salt(&self, salt: &[u8; SALT_LEN]) -> Option<&Key> {
        (self.salt == *salt).then_some(&self.key)
    }
}

/// The probe's opening of one exchange.
#[derive(Debug, Clone)]
pub struct Opening {
    session: SessionId,
    nonce_p: [u8; 32],
}

impl Opening {
    /// An exchange for `session`, with a fresh nonce.
    pub fn new(session: SessionId) -> Result<Opening, getrandom::Error> {
        Ok(Opening {
            session,
            nonce_p: nonce()?,
        })
    }

    /// The `Hello` that opens the exchange.
    pub fn hello(&self) -> Frame {
        Frame::Hello {
            session: self.session,
            nonce: self.nonce_p,
        }
    }

    /// Whether `frame` is this very `Hello`: a socket talking to itself.
    pub fn is_echo(&self, frame: &Frame) -> bool {
        *frame == self.hello()
    }

    /// Verifies the beacon's `Challenge`: the exchange, its key, and the
    /// `Proof` to send.
    pub fn answer<'k>(
        &self,
        challenge: &Frame,
        key: &'k ProbeKey,
    ) -> Result<(Transcript, &'k Key, Frame), HandshakeError> {
        let Frame::Challenge {
            salt,
            nonce: b,
            tag,
        } = challenge
        else {
            return Err(unexpected("challenge", challenge));
        };
        let key = key.for_salt(salt).ok_or(HandshakeError::ForeignSalt)?;
        let transcript = Transcript {
            session: self.session,
            nonce_p: self.nonce_p,
            nonce_b: *b,
        };
        if !transcript.verify(key, Role::Beacon, &[], tag) {
            return Err(HandshakeError::BadBeaconTag);
        }
        let proof = Frame::Proof {
            tag: transcript.tag(key, Role::Probe, &[]),
        };
        Ok((transcript, key, proof))
    }
}

/// The beacon's last word in an exchange.
pub fn expect_welcome(frame: &Frame) -> Result<(), HandshakeError> {
    match frame {
        Frame::Welcome => Ok(()),
        other => Err(unexpected("welcome", other)),
    }
}

/// The beacon's side of an exchange on a stream; on failure the peer is
/// told why (best effort) before the caller drops the stream.
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    auth: &BeaconAuth,
    limit: Duration,
) -> Result<Transcript, HandshakeError> {
    let result = async {
        let hello = frame::read(stream, limit).await?;
        let (transcript, challenge) = auth.challenge(&hello)?;
        frame::write(stream, &challenge, limit).await?;
        let proof = frame::read(stream, limit).await?;
        auth.check_proof(&transcript, &proof)?;
        frame::write(stream, &Frame::Welcome, limit).await?;
        Ok(transcript)
    }
    .await;
    if let Err(e) = &result
        && !matches!(
            e,
            HandshakeError::Frame(FrameError::Closed | FrameError::Io(_))
        )
        && let Err(write) = frame::write(stream, &Frame::Refused(e.refusal()), limit).await
    {
        debug!(error = %write, "could not tell the peer why it was refused");
    }
    result
}

/// The probe's side of an exchange on a stream.
pub async fn connect<'k, S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    session: SessionId,
    key: &'k ProbeKey,
    limit: Duration,
) -> Result<(Transcript, &'k Key), HandshakeError> {
    let opening = Opening::new(session)?;
    frame::write(stream, &opening.hello(), limit).await?;
    let challenge = frame::read(stream, limit).await?;
    let (transcript, key, proof) = opening.answer(&challenge, key)?;
    frame::write(stream, &proof, limit).await?;
    expect_welcome(&frame::read(stream, limit).await?)?;
    Ok((transcript, key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::test_keys::{KEY, SALT, WRONG};

    fn session() -> SessionId {
        SessionId::from_bytes([9; 16])
    }

    fn beacon(sessions: Option<HashSet<SessionId>>) -> BeaconAuth {
        BeaconAuth::with_key(KEY.clone(), SALT, sessions)
    }

    #[test]
    fn session_ids_round_trip_as_hex() {
        let id = SessionId::random().unwrap();
        assert_eq!(id.to_string().parse(), Ok(id));
        assert!("abc".parse::<SessionId>().is_err());
        assert!("zz".repeat(16).parse::<SessionId>().is_err());
        assert!("é".repeat(16).parse::<SessionId>().is_err());
        assert!("+f".repeat(16).parse::<SessionId>().is_err());
        assert_eq!(
            "000102030405060708090a0b0c0d0e0F".parse::<SessionId>(),
            Ok(SessionId::from_bytes([
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
            ]))
        );
    }

    #[test]
    fn an_honest_exchange_succeeds_and_attacks_fail() {
        let beacon = beacon(None);
        let opening = Opening::new(session()).unwrap();
        let (beacon_side, challenge) = beacon.challenge(&opening.hello()).unwrap();
        let Frame::Challenge { salt, nonce, tag } = challenge.clone() else {
            panic!("not a challenge")
        };
        assert_eq!(salt, SALT);
        let probe_key = ProbeKey::with_key(KEY.clone(), SALT);
        let (probe_side, _, proof) = opening.answer(&challenge, &probe_key).unwrap();
        assert_eq!(beacon_side, probe_side);
        beacon.check_proof(&beacon_side, &proof).unwrap();

        // Replay: the same hello and proof against a fresh beacon nonce.
        let (replayed, _) = beacon.challenge(&opening.hello()).unwrap();
        assert_ne!(replayed.nonce_b, beacon_side.nonce_b);
        assert!(matches!(
            beacon.check_proof(&replayed, &proof),
            Err(HandshakeError::BadProof)
        ));

        // Reflection: the beacon's own tag sent back as a proof.
        assert!(matches!(
            beacon.check_proof(&beacon_side, &Frame::Proof { tag }),
            Err(HandshakeError::BadProof)
        ));

        // A probe with another passphrase refuses the beacon.
        let wrong = ProbeKey::with_key(WRONG.clone(), SALT);
        assert!(matches!(
            opening.answer(&challenge, &wrong),
            Err(HandshakeError::BadBeaconTag)
        ));
        // A challenge under another salt is refused.
        let foreign = Frame::Challenge {
            salt: [0xaa; SALT_LEN],
            nonce,
            tag,
        };
        assert!(matches!(
            opening.answer(&foreign, &probe_key),
            Err(HandshakeError::ForeignSalt)
        ));
    }

    #[test]
    fn unknown_sessions_are_refused() {
        let beacon = beacon(Some(HashSet::from([session()])));
        let stranger = Opening::new(SessionId::from_bytes([1; 16])).unwrap();
        let refused = beacon.challenge(&stranger.hello()).unwrap_err();
        assert!(
            matches!(refused, HandshakeError::UnknownSession(s) if s == SessionId::from_bytes([1; 16]))
        );
        assert_eq!(refused.refusal(), Refusal::UnknownSession);
        assert!(matches!(
            beacon.challenge(&Opening::new(session()).unwrap().hello()),
            Ok((_, Frame::Challenge { .. }))
        ));
    }

    #[test]
    fn tags_are_bound_to_their_role() {
        let t = Transcript {
            session: session(),
            nonce_p: [1; 32],
            nonce_b: [2; 32],
        };
        let terminate = t.tag(&KEY, Role::Terminate, &[]);
        assert!(t.verify(&KEY, Role::Terminate, &[], &terminate));
        assert!(!t.verify(&KEY, Role::Done, &[], &terminate));
        let other = Transcript {
            nonce_b: [3; 32],
            ..t.clone()
        };
        assert!(!other.verify(&KEY, Role::Terminate, &[], &terminate));
    }
}
