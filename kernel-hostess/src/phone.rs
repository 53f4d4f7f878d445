//! Phone calls: peer kernels calling this kernel's Hostess over HTTP,
//! authenticated with HMAC-SHA256 under a shared peer secret.
//!
//! A call carries four headers:
//!
//! | header | value |
//! |---|---|
//! | `x-hostess-peer` | the calling peer's name (`[A-Za-z0-9._-]{1,64}`) |
//! | `x-hostess-timestamp` | Unix time in milliseconds when the call was signed |
//! | `x-hostess-nonce` | 16 to 64 characters `[A-Za-z0-9_-]`, fresh for every call |
//! | `x-hostess-signature` | lowercase hex HMAC-SHA256 of the [`canonical`] text |
//!
//! The signed text binds the method, the path and query (relative to the
//! Hostess API root, e.g. `/reservations/{id}/renew`), the peer, timestamp,
//! nonce and the SHA-256 of the body. The callee accepts a call when the peer
//! is known, the timestamp is within [`WINDOW`] of its own clock, the nonce
//! was not seen from that peer within the window, and the signature matches
//! (compared in constant time). A replayed call is refused: within the window
//! its nonce is known, after it its timestamp is stale.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Mutex;
use std::time::Duration;

use crate::clock::unix_millis;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

pub const HEADER_PEER: &str = "x-hostess-peer";
pub const HEADER_TIMESTAMP: &str = "x-hostess-timestamp";
pub const HEADER_NONCE: &str = "x-hostess-nonce";
pub const HEADER_SIGNATURE: &str = "x-hostess-signature";

/// How far a call's timestamp may be from the callee's clock.
pub const WINDOW: Duration = Duration::from_secs(30);

/// Most nonces remembered at once; beyond that, calls are refused until
/// old nonces leave the window (a flood cannot grow memory without bound).
const MAX_NONCES: usize = 100_000;

/// Why a phone call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("missing header `{0}`: phone calls must be signed")]
    Missing(&'static str),
    #[error("unknown peer `{0}`")]
    UnknownPeer(String),
    #[error("bad header `{header}`: {reason}")]
    BadHeader {
        header: &'static str,
        reason: String,
    },
    #[error("the call was signed {skew_ms} ms away from this kernel's clock; at most {} ms are accepted", WINDOW.as_millis())]
    Stale { skew_ms: u64 },
    #[error("replayed call: the nonce was already used")]
    Replayed,
    #[error("too many calls in the replay window; try again later")]
    Busy,
    #[error("bad signature")]
    BadSignature,
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The text a call's signature covers.
pub fn canonical(
    method: &str,
    path_and_query: &str,
    peer: &str,
    timestamp_ms: u64,
    nonce: &str,
    body: &[u8],
) -> String {
    format!(
        "hostess-v1\n{}\n{path_and_query}\n{peer}\n{timestamp_ms}\n{nonce}\n{}",
        method.to_ascii_uppercase(),
        hex(&Sha256::digest(body))
    )
}

/// HMAC-SHA256 under `secret`; HMAC takes keys of any length, so this is
/// `None` never in practice.
fn mac(secret: &[u8]) -> Option<HmacSha256> {
    HmacSha256::new_from_slice(secret).ok()
}

/// The signature of a call: lowercase hex HMAC-SHA256 of [`canonical`].
pub fn sign(secret: &[u8], canonical: &str) -> String {
    match mac(secret) {
        Some(mut m) => {
            m.update(canonical.as_bytes());
            hex(&m.finalize().into_bytes())
        }
        None => String::new(),
    }
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
        f.debug_struct("Verifier").field("peers", &peers).finish()
    }
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier::new()
    }
}

impl Verifier {
    /// A verifier that knows no peer yet.
    pub fn new() -> Self {
        Verifier {
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
        let timestamp = header(HEADER_TIMESTAMP).ok_or(PhoneError::Missing(HEADER_TIMESTAMP))?;
        let nonce = header(HEADER_NONCE).ok_or(PhoneError::Missing(HEADER_NONCE))?;
        let signature = header(HEADER_SIGNATURE).ok_or(PhoneError::Missing(HEADER_SIGNATURE))?;
        check_peer_name(peer)?;
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
        let text = canonical(method, path_and_query, peer, timestamp, nonce, body);
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

/// A fresh nonce: 32 hex characters from a random (v4) uuid.
pub fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A response of a phone call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// Why a phone call could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("cannot call {addr}: {source}")]
    Io {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("bad response from {addr}: {reason}")]
    BadResponse { addr: SocketAddr, reason: String },
}

/// The caller's side: signs requests and sends them to a peer's Hostess API
/// over plain HTTP/1.1 (loopback or a trusted network).
#[derive(Clone)]
pub struct PhoneClient {
    addr: SocketAddr,
    /// Where the Hostess API is mounted on the peer, e.g. `/api/v1/hostess`.
    base: String,
    peer: String,
    secret: Vec<u8>,
    timeout: Duration,
}

impl std::fmt::Debug for PhoneClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneClient")
            .field("addr", &self.addr)
            .field("base", &self.base)
            .field("peer", &self.peer)
            .finish()
    }
}

/// A request, signed and ready to send (kept so tests can replay it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    pub method: String,
    /// Relative to the API root; the signature covers it.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl PhoneClient {
    /// Calls the Hostess API at `http://{addr}{base}` as `peer`.
    pub fn new(addr: SocketAddr, base: &str, peer: &str, secret: impl Into<Vec<u8>>) -> Self {
        PhoneClient {
            addr,
            base: base.trim_end_matches('/').to_owned(),
            peer: peer.to_owned(),
            secret: secret.into(),
            timeout: Duration::from_secs(10),
        }
    }

    /// Signs a request now with a fresh nonce.
    pub fn sign(&self, method: &str, path: &str, body: &[u8]) -> SignedRequest {
        let timestamp = unix_millis();
        let nonce = nonce();
        let text = canonical(method, path, &self.peer, timestamp, &nonce, body);
        let signature = sign(&self.secret, &text);
        SignedRequest {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            headers: vec![
                (HEADER_PEER.to_owned(), self.peer.clone()),
                (HEADER_TIMESTAMP.to_owned(), timestamp.to_string()),
                (HEADER_NONCE.to_owned(), nonce),
                (HEADER_SIGNATURE.to_owned(), signature),
            ],
            body: body.to_vec(),
        }
    }

    /// Signs and sends a request; `path` is relative to the API root.
    pub fn call(&self, method: &str, path: &str, body: &[u8]) -> Result<Response, CallError> {
        let request = self.sign(method, path, body);
        self.send(&request)
    }

    /// Sends a signed request (again: a replay).
    pub fn send(&self, request: &SignedRequest) -> Result<Response, CallError> {
        let io = |source| CallError::Io {
            addr: self.addr,
            source,
        };
        let mut stream = TcpStream::connect_timeout(&self.addr, self.timeout).map_err(io)?;
        stream.set_read_timeout(Some(self.timeout)).map_err(io)?;
        stream.set_write_timeout(Some(self.timeout)).map_err(io)?;
        let mut head = format!(
            "{} {}{} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            request.method,
            self.base,
            request.path,
            self.addr,
            request.body.len()
        );
        if !request.body.is_empty() {
            head.push_str("Content-Type: application/json\r\n");
        }
        for (name, value) in &request.headers {
            let _ = write!(head, "{name}: {value}\r\n");
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).map_err(io)?;
        stream.write_all(&request.body).map_err(io)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).map_err(io)?;
        parse_response(&raw).map_err(|reason| CallError::BadResponse {
            addr: self.addr,
            reason,
        })
    }
}

/// Parses an HTTP/1.1 response read to its end (`Connection: close`).
fn parse_response(raw: &[u8]) -> Result<Response, String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| "headers are not UTF-8")?;
    let body = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line `{status_line}`"))?;
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    Ok(Response {
        status,
        body: String::from_utf8(body).map_err(|_| "body is not UTF-8")?,
    })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunk")?;
        let size_text = std::str::from_utf8(&data[..line_end]).map_err(|_| "bad chunk size")?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| "bad chunk size")?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = data.get(..size).ok_or("truncated chunk")?;
        out.extend_from_slice(chunk);
        data = data.get(size + 2..).ok_or("truncated chunk")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            "plant-b",
            secret.as_bytes(),
        )
    }

    #[test]
    fn a_signed_call_verifies_once() {
        let v = Verifier::new().peer("plant-b", "s3cret");
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
        let v = Verifier::new().peer("plant-b", "s3cret");
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
        garbage.headers[3].1 = "zz".to_owned();
        assert_eq!(check(&garbage), Err(PhoneError::BadSignature));
        // None of the failures used up the good call's nonce.
        assert!(check(&good).is_ok());
    }

    #[test]
    fn responses_parse() {
        let plain = b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(
            parse_response(plain),
            Ok(Response {
                status: 201,
                body: "{}".into()
            })
        );
        let chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked).map(|r| r.body), Ok("abcde".into()));
        assert!(parse_response(b"garbage").is_err());
        assert!(
            parse_response(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n").is_err()
        );
    }
}
