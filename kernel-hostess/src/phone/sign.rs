//! The text a phone call's signature covers, and the signature.

use std::fmt::Write as _;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

pub(crate) type HmacSha256 = Hmac<Sha256>;

pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The text a call's signature covers: the kernel called, the method, the
/// path and query, the calling peer, timestamp, nonce and body hash.
pub fn canonical(
    kernel: &str,
    method: &str,
    path_and_query: &str,
    peer: &str,
    timestamp_ms: u64,
    nonce: &str,
    body: &[u8],
) -> String {
    format!(
        "hostess-v2\n{kernel}\n{}\n{path_and_query}\n{peer}\n{timestamp_ms}\n{nonce}\n{}",
        method.to_ascii_uppercase(),
        hex(&Sha256::digest(body))
    )
}

/// HMAC-SHA256 under `secret`; HMAC takes keys of any length, so this is
/// `None` never in practice.
pub(crate) fn mac(secret: &[u8]) -> Option<HmacSha256> {
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

/// A fresh nonce: 32 hex characters from a random (v4) uuid.
pub fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
