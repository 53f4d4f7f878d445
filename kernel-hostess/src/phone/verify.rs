//! The callee's side of phone calls: known peers, the kernel's own name,
//! and the nonces seen within the window.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use hmac::Mac as _;

use super::sign::{canonical, mac, unhex};
use super::{HEADER_KERNEL, HEADER_NONCE, HEADER_PEER, HEADER_SIGNATURE, HEADER_TIMESTAMP, WINDOW};

/// Most nonces remembered at once; beyond that, calls are refused until
/// old nonces leave the window (a flood cannot grow memory without bound).
const MAX_NONCES: usize = 100_000;

/// Why a phone call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// A signing header is absent: the call was not signed.
    #[error("missing header `{0}`: phone calls must be signed")]
    Missing(&'static str),
    /// The call was signed for another kernel.
    #[error("the call is addressed to kernel `{called}`, not to `{this}`")]
    WrongKernel {
        /// The kernel the call names.
        called: String,
        /// This kernel's name.
        this: String,
    },
    /// This kernel has no key for the calling peer.
    #[error("unknown peer `{0}`")]
    UnknownPeer(String),
    /// A signing header does not parse.
    #[error("bad header `{header}`: {reason}")]
    BadHeader {
        /// The header's name.
        header: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The timestamp is too far from this kernel's clock: check both
    /// machines' clocks.
    #[error("the call was signed {skew_ms} ms away from this kernel's clock; at most {} ms are accepted", WINDOW.as_millis())]
    Stale {
        /// How far off, in milliseconds.
        skew_ms: u64,
    },
    /// The nonce was seen before within the window.
    #[error("replayed call: the nonce was already used")]
    Replayed,
    /// Too many nonces to remember within the window; try again later.
    #[error("too many calls in the replay window; try again later")]
    Busy,
    /// The signature does not match: another key, or the request was altered.
    #[error("bad signature")]
    BadSignature,
}

fn check_peer_name(peer: &str) -> Result<(), PhoneError> {
    if peer.is_empty()
        || peer.len() > 64
        || !peer
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(PhoneError::BadHeader {
            header: HEADER_PEER,
            reason: "a peer name is 1 to 64 characters [A-Za-z0-9._-]".to_owned(),
        });
    }
    Ok(())
}

/// The callee's side: known peers and the nonces seen in the window.
pub struct Verifier {
    kernel: String,
    secrets: HashMap<String, Vec<u8>>,
    nonces: Mutex<Nonces>,
}

#[derive(Default)]
struct Nonces {
    seen: HashMap<(String, String), u64>,
    order: VecDeque<(u64, (String, String))>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut peers: Vec<&String> = self.secrets.keys().collect();
        peers.sort();
        f.debug_struct("Verifier")
            .field("kernel", &self.kernel)
            .field("peers", &peers)
            .finish()
    }
}

impl Verifier {
    /// The verifier of kernel `kernel` (calls addressed to another kernel
    /// are refused), knowing no peer yet.
    pub fn new(kernel: impl Into<String>) -> Self {
        Verifier {
            kernel: kernel.into(),
            secrets: HashMap::new(),
            nonces: Mutex::new(Nonces::default()),
        }
    }

    /// Accepts calls from `peer` signed with `secret`.
    pub fn peer(mut self, peer: impl Into<String>, secret: impl Into<Vec<u8>>) -> Self {
        self.secrets.insert(peer.into(), secret.into());
        self
    }

    /// True when no peer is known (every call is refused).
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Checks a call; returns the calling peer's name. `header` looks a
    /// header up by its lowercase name.
    pub fn verify<'h>(
        &self,
        method: &str,
        path_and_query: &str,
        header: impl Fn(&str) -> Option<&'h str>,
        body: &[u8],
        now_ms: u64,
    ) -> Result<String, PhoneError> {
        let peer = header(HEADER_PEER).ok_or(PhoneError::Missing(HEADER_PEER))?;
        let kernel = header(HEADER_KERNEL).ok_or(PhoneError::Missing(HEADER_KERNEL))?;
        let timestamp = header(HEADER_TIMESTAMP).ok_or(PhoneError::Missing(HEADER_TIMESTAMP))?;
        let nonce = header(HEADER_NONCE).ok_or(PhoneError::Missing(HEADER_NONCE))?;
        let signature = header(HEADER_SIGNATURE).ok_or(PhoneError::Missing(HEADER_SIGNATURE))?;
        check_peer_name(peer)?;
        if kernel != self.kernel {
            return Err(PhoneError::WrongKernel {
                called: kernel.to_owned(),
                this: self.kernel.clone(),
            });
        }
        let secret = self
            .secrets
            .get(peer)
            .ok_or_else(|| PhoneError::UnknownPeer(peer.to_owned()))?;
        let timestamp: u64 = timestamp.parse().map_err(|_| PhoneError::BadHeader {
            header: HEADER_TIMESTAMP,
            reason: "not a number of milliseconds".to_owned(),
        })?;
        if !(16..=64).contains(&nonce.len())
            || !nonce
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(PhoneError::BadHeader {
                header: HEADER_NONCE,
                reason: "a nonce is 16 to 64 characters [A-Za-z0-9_-]".to_owned(),
            });
        }
        let skew = now_ms.abs_diff(timestamp);
        let window = u64::try_from(WINDOW.as_millis()).unwrap_or(u64::MAX);
        if skew > window {
            return Err(PhoneError::Stale { skew_ms: skew });
        }
        let given = unhex(signature).ok_or(PhoneError::BadSignature)?;
        // Signed for this kernel's name, whatever the header says.
        let text = canonical(
            &self.kernel,
            method,
            path_and_query,
            peer,
            timestamp,
            nonce,
            body,
        );
        let mut m = mac(secret).ok_or(PhoneError::BadSignature)?;
        m.update(text.as_bytes());
        // Constant-time comparison.
        m.verify_slice(&given)
            .map_err(|_| PhoneError::BadSignature)?;

        // Only a correctly signed call may use up a nonce.
        let mut nonces = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
        while let Some((expiry, _)) = nonces.order.front() {
            if *expiry > now_ms {
                break;
            }
            if let Some((_, key)) = nonces.order.pop_front() {
                nonces.seen.remove(&key);
            }
        }
        let key = (peer.to_owned(), nonce.to_owned());
        if nonces.seen.contains_key(&key) {
            return Err(PhoneError::Replayed);
        }
        if nonces.seen.len() >= MAX_NONCES {
            return Err(PhoneError::Busy);
        }
        // Remembered until the timestamp leaves the window on either side.
        let expiry = timestamp
            .saturating_add(window)
            .max(now_ms)
            .saturating_add(1);
        nonces.seen.insert(key.clone(), expiry);
        // Keep `order` sorted by expiry (timestamps arrive nearly in order).
        let at = nonces.order.partition_point(|(e, _)| *e <= expiry);
        nonces.order.insert(at, (expiry, key));
        Ok(peer.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;
    use crate::clock::unix_millis;
    use crate::phone::{PhoneClient, SignedRequest};

    fn headers<'a>(r: &'a SignedRequest) -> impl Fn(&str) -> Option<&'a str> {
        move |name| {
            r.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        }
    }

    fn client(secret: &str) -> PhoneClient {
        PhoneClient::new(
            SocketAddr::from(([127, 0, 0, 1], 9)),
            "/api/v1/hostess",
            "plant-a",
            "plant-b",
            secret.as_bytes(),
        )
    }

    #[test]
    fn a_signed_call_verifies_once() {
        let v = Verifier::new("plant-a").peer("plant-b", "s3cret");
        let r = client("s3cret").sign("post", "/reservations", b"{}");
        let now = unix_millis();
        let verify =
            |r: &SignedRequest, now| v.verify(&r.method, &r.path, headers(r), &r.body, now);
        assert_eq!(verify(&r, now), Ok("plant-b".to_owned()));
        // The same call again is a replay.
        assert_eq!(verify(&r, now), Err(PhoneError::Replayed));
        // After the window it is stale (and its nonce forgotten).
        let later = now + WINDOW.as_millis() as u64 + 10;
        assert!(matches!(verify(&r, later), Err(PhoneError::Stale { .. })));
    }

    #[test]
    fn tampering_is_refused() {
        let v = Verifier::new("plant-a").peer("plant-b", "s3cret");
        let now = unix_millis();
        let check = |r: &SignedRequest| v.verify(&r.method, &r.path, headers(r), &r.body, now);
        let good = client("s3cret").sign("POST", "/reservations", b"{\"a\":1}");
        let mut body = good.clone();
        body.body = b"{\"a\":2}".to_vec();
        assert_eq!(check(&body), Err(PhoneError::BadSignature));
        let mut path = client("s3cret").sign("POST", "/reservations", b"");
        path.path = "/reservations/x/renew".to_owned();
        assert_eq!(check(&path), Err(PhoneError::BadSignature));
        let mut method = client("s3cret").sign("POST", "/reservations", b"");
        method.method = "DELETE".to_owned();
        assert_eq!(check(&method), Err(PhoneError::BadSignature));
        let wrong_key = client("other").sign("POST", "/reservations", b"");
        assert_eq!(check(&wrong_key), Err(PhoneError::BadSignature));
        let mut stranger = client("s3cret").sign("POST", "/reservations", b"");
        stranger.headers[0].1 = "plant-c".to_owned();
        assert_eq!(
            check(&stranger),
            Err(PhoneError::UnknownPeer("plant-c".into()))
        );
        let mut unsigned = good.clone();
        unsigned.headers.pop();
        assert_eq!(check(&unsigned), Err(PhoneError::Missing(HEADER_SIGNATURE)));
        let mut garbage = client("s3cret").sign("POST", "/reservations", b"");
        garbage.headers[4].1 = "zz".to_owned();
        assert_eq!(check(&garbage), Err(PhoneError::BadSignature));
        // None of the failures used up the good call's nonce.
        assert!(check(&good).is_ok());
    }

    #[test]
    fn a_call_signed_for_one_kernel_is_refused_by_another() {
        // plant-a and plant-c both trust plant-b with the same secret.
        let a = Verifier::new("plant-a").peer("plant-b", "s3cret");
        let c = Verifier::new("plant-c").peer("plant-b", "s3cret");
        let now = unix_millis();
        let call = client("s3cret").sign("POST", "/reservations", b"{}");
        let check = |v: &Verifier, r: &SignedRequest| {
            v.verify(&r.method, &r.path, headers(r), &r.body, now)
        };
        assert_eq!(
            check(&c, &call),
            Err(PhoneError::WrongKernel {
                called: "plant-a".into(),
                this: "plant-c".into()
            })
        );
        // Readdressed to plant-c, the signature no longer matches.
        let mut readdressed = call.clone();
        readdressed.headers[1].1 = "plant-c".to_owned();
        assert_eq!(check(&c, &readdressed), Err(PhoneError::BadSignature));
        assert_eq!(check(&a, &call), Ok("plant-b".to_owned()));
    }
}
