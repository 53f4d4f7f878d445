//! Phone calls between kernels over Zenoh: a query to
//! `wiring/hostess/<callee>/call` opens, renews or closes a route into one
//! of the callee's terminals, and the callee answers.
//!
//! With a passphrase, both are signed (HMAC-SHA256 under a key derived
//! from it, sent as the query's and the reply's attachment): the call's
//! signature covers the callee's call key and the body, which holds the
//! callee's name, a timestamp and a fresh nonce, so a call cannot be
//! replayed at another kernel, nor at the same one (the callee remembers
//! nonces for [`WINDOW`], and refuses older timestamps). The answer's
//! signature covers the call's nonce and the answer, so the caller knows the
//! callee holds the passphrase too.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{Key, TAG_LEN};

/// How far a call's timestamp may be from the callee's clock.
pub const WINDOW: Duration = Duration::from_secs(30);

/// Most nonces remembered; beyond that calls are refused as busy.
const MAX_NONCES: usize = 100_000;

/// What a call asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Book the terminal and open (or reopen) the route.
    Open,
    /// Renew the lease of an open route.
    Renew,
    /// Everything was sent and delivered: end the stream.
    Close,
}

/// The body of a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Call {
    /// Open, renew or close.
    pub op: Op,
    /// The kernel called; a call for another kernel is refused.
    pub callee: String,
    /// The calling kernel and its mesh session id.
    pub caller: String,
    /// The caller's Zenoh session id.
    pub caller_zid: String,
    /// The route's id.
    pub route: Uuid,
    /// The route's output on the caller, `server.terminal`.
    pub from: String,
    /// The guest called, and its identity as the caller expects it.
    pub guest: Uuid,
    /// The identity the caller expects the guest to have.
    pub identity: String,
    /// The guest's terminal the route goes into.
    pub terminal: String,
    /// The Rust type of the messages, its encoding and their fingerprint.
    pub message_type: String,
    /// `postcard` or `json`.
    pub encoding: String,
    /// A hash of the message type's name and encoding: both ends must agree.
    pub fingerprint: String,
    /// The route's credit window: messages in flight at most.
    pub capacity: usize,
    /// The caller's run of this route (a new one after the caller restarts).
    pub sender: u64,
    /// The first sequence number a fresh receiver should expect.
    pub resume: u64,
    /// For `close`: how many messages the route carried in all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<u64>,
    /// When the call was made, milliseconds since the Unix epoch: a call
    /// outside [`WINDOW`] of the callee's clock is refused.
    pub timestamp_ms: u64,
    /// Used once: a replayed call is refused.
    pub nonce: String,
}

/// Why a callee refused a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// No such guest here, or another identity than the caller expects.
    UnknownGuest,
    /// The terminal is not among what the kernel offers.
    NotOffered,
    /// The two ends carry different message types.
    TypeMismatch,
    /// An `Input` already has a producer (another route, or a local pipe).
    Booked,
    /// The call is not signed with this mesh's passphrase.
    BadPassphrase,
    /// The terminal cannot take the route now (its server finished, the
    /// kernel is stopping).
    NotReady,
    /// A renewal or close for a route this kernel does not hold (any more).
    Expired,
    /// The call is malformed.
    BadRequest,
}

impl Refusal {
    /// How the reason reads in a route's state and the event log.
    pub const fn as_str(self) -> &'static str {
        match self {
            Refusal::UnknownGuest => "unknown guest",
            Refusal::NotOffered => "not offered",
            Refusal::TypeMismatch => "type mismatch",
            Refusal::Booked => "refused",
            Refusal::BadPassphrase => "bad passphrase",
            Refusal::NotReady => "not ready",
            Refusal::Expired => "expired",
            Refusal::BadRequest => "bad request",
        }
    }
}

/// The callee's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// `None` when the call was granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<Refusal>,
    /// Why, in words, for a refusal.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// The callee's run of this route (a new one after the callee restarts).
    #[serde(default)]
    pub receiver: u64,
    /// The next sequence number the callee expects.
    #[serde(default)]
    pub next: u64,
    /// Messages its terminal took (as a sequence number).
    #[serde(default)]
    pub consumed: u64,
    /// The caller may send up to, not including, this sequence number.
    #[serde(default)]
    pub limit: u64,
    /// The lease: renew within it.
    #[serde(default)]
    pub lease_ms: u64,
    /// The guest's identity.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub identity: String,
}

impl Answer {
    /// A refusal for `refusal`, saying `message`.
    pub fn refuse(refusal: Refusal, message: impl Into<String>) -> Self {
        Answer {
            refused: Some(refusal),
            message: message.into(),
            receiver: 0,
            next: 0,
            consumed: 0,
            limit: 0,
            lease_ms: 0,
            identity: String::new(),
        }
    }
}

/// The mesh's key, derived from `WIRING_PASSPHRASE`: it signs calls and
/// answers and gives the Zenoh user/password authentication its password.
#[derive(Clone)]
pub struct MeshKey {
    key: Key,
}

impl std::fmt::Debug for MeshKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MeshKey(..)")
    }
}

/// Salt of the mesh key; every kernel of a mesh derives the same key.
const SALT: &[u8] = b"wiring-mesh-v1";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

impl MeshKey {
    /// Derives the key (PBKDF2, slow on purpose: once per kernel).
    pub fn derive(passphrase: &str) -> Self {
        MeshKey {
            key: Key::derive(passphrase, SALT),
        }
    }

    /// The password of Zenoh's user/password authentication: a tag, so the
    /// passphrase itself never reaches Zenoh's configuration.
    pub fn zenoh_password(&self) -> String {
        hex(&self.key.tag(&[b"zenoh-usrpwd"]))
    }

    /// The signature (hex) of a call to `call_key` with `body`.
    pub fn sign_call(&self, call_key: &str, body: &[u8]) -> String {
        hex(&self.key.tag(&[CALL, call_key.as_bytes(), body]))
    }

    /// Whether `signature` (hex) signs a call to `call_key` with `body`.
    pub fn verify_call(&self, call_key: &str, body: &[u8], signature: &[u8]) -> bool {
        self.verify(CALL, call_key, body, signature)
    }

    /// The signature (hex) of an answer to the call with `nonce`.
    pub fn sign_answer(&self, nonce: &str, body: &[u8]) -> String {
        hex(&self.key.tag(&[ANSWER, nonce.as_bytes(), body]))
    }

    /// Whether `signature` (hex) signs an answer to the call with `nonce`.
    pub fn verify_answer(&self, nonce: &str, body: &[u8], signature: &[u8]) -> bool {
        self.verify(ANSWER, nonce, body, signature)
    }

    /// Whether `signature` (hex) signs `body` for `scope` in `domain`.
    fn verify(&self, domain: &[u8], scope: &str, body: &[u8], signature: &[u8]) -> bool {
        unhex(signature).is_some_and(|tag| {
            tag.len() == TAG_LEN && self.key.verify(&[domain, scope.as_bytes(), body], &tag)
        })
    }
}

/// What a signature is for: a call, or the answer to one.
const CALL: &[u8] = b"wiring-mesh-call";
const ANSWER: &[u8] = b"wiring-mesh-answer";

/// Nonces of signed calls seen within the window.
#[derive(Default)]
pub struct Replays {
    seen: Mutex<Seen>,
}

/// Each nonce's expiry, and the nonces in order of expiry.
#[derive(Default)]
struct Seen {
    expiry: HashMap<String, u64>,
    order: VecDeque<(u64, String)>,
}

/// Why a signed call's freshness was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stale {
    /// Signed this many milliseconds away from this kernel's clock, more
    /// than [`WINDOW`]: check both machines' clocks.
    #[error("the call was signed {0} ms away from this kernel's clock")]
    Skew(u64),
    /// The nonce was seen before within the window.
    #[error("replayed call: the nonce was already used")]
    Replayed,
    /// Too many nonces to remember within the window; try again later.
    #[error("too many calls in the replay window")]
    Busy,
}

impl Replays {
    /// Accepts a call's `nonce` and `timestamp_ms` once within the window.
    pub fn check(&self, nonce: &str, timestamp_ms: u64, now_ms: u64) -> Result<(), Stale> {
        let window = u64::try_from(WINDOW.as_millis()).unwrap_or(u64::MAX);
        let skew = now_ms.abs_diff(timestamp_ms);
        if skew > window {
            return Err(Stale::Skew(skew));
        }
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let Seen { expiry: map, order } = &mut *seen;
        while order.front().is_some_and(|(expiry, _)| *expiry <= now_ms) {
            if let Some((_, old)) = order.pop_front() {
                map.remove(&old);
            }
        }
        if map.contains_key(nonce) {
            return Err(Stale::Replayed);
        }
        if map.len() >= MAX_NONCES {
            return Err(Stale::Busy);
        }
        let expiry = timestamp_ms.saturating_add(window).max(now_ms) + 1;
        map.insert(nonce.to_owned(), expiry);
        let at = order.partition_point(|(e, _)| *e <= expiry);
        order.insert(at, (expiry, nonce.to_owned()));
        Ok(())
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// A fresh nonce.
pub fn nonce() -> String {
    Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use super::*;

    static KEY: LazyLock<MeshKey> = LazyLock::new(|| MeshKey::derive("correct horse"));
    static WRONG: LazyLock<MeshKey> = LazyLock::new(|| MeshKey::derive("wrong horse"));

    #[test]
    fn a_call_verifies_for_its_callee_and_body_only() {
        let body = br#"{"op":"open"}"#;
        let sig = KEY.sign_call("wiring/hostess/south/call", body);
        assert!(KEY.verify_call("wiring/hostess/south/call", body, sig.as_bytes()));
        assert!(!KEY.verify_call("wiring/hostess/east/call", body, sig.as_bytes()));
        assert!(!KEY.verify_call("wiring/hostess/south/call", b"{}", sig.as_bytes()));
        assert!(!WRONG.verify_call("wiring/hostess/south/call", body, sig.as_bytes()));
        assert!(!KEY.verify_call("wiring/hostess/south/call", body, b"zz"));
        let answer = KEY.sign_answer("n1", b"ok");
        assert!(KEY.verify_answer("n1", b"ok", answer.as_bytes()));
        assert!(!KEY.verify_answer("n2", b"ok", answer.as_bytes()));
        assert_ne!(KEY.zenoh_password(), WRONG.zenoh_password());
    }

    #[test]
    fn nonces_are_accepted_once_within_the_window() {
        let replays = Replays::default();
        let now = now_ms();
        assert_eq!(replays.check("a", now, now), Ok(()));
        assert_eq!(replays.check("a", now, now), Err(Stale::Replayed));
        assert_eq!(replays.check("b", now, now), Ok(()));
        let late = now + WINDOW.as_millis() as u64 + 5;
        assert!(matches!(replays.check("c", now, late), Err(Stale::Skew(_))));
    }

    #[test]
    fn calls_round_trip_as_json() {
        let call = Call {
            op: Op::Open,
            callee: "south".into(),
            caller: "north".into(),
            caller_zid: "abc".into(),
            route: Uuid::from_u128(1),
            from: "src.out".into(),
            guest: Uuid::from_u128(2),
            identity: "localhost:sink:0x00000001:test:no:none:00000000-0000-0000-0000-000000000002"
                .into(),
            terminal: "input".into(),
            message_type: "u64".into(),
            encoding: "postcard".into(),
            fingerprint: "f".into(),
            capacity: 8,
            sender: 9,
            resume: 0,
            end: None,
            timestamp_ms: 1,
            nonce: nonce(),
        };
        let text = serde_json::to_string(&call).unwrap();
        assert_eq!(serde_json::from_str::<Call>(&text).unwrap(), call);
        let refused = Answer::refuse(Refusal::TypeMismatch, "u64 vs String");
        let text = serde_json::to_string(&refused).unwrap();
        assert!(text.contains(r#""refused":"type_mismatch""#), "{text}");
    }
}
