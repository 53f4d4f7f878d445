//! The shared passphrase as a key, HMAC-SHA256 tags, and fresh nonces.
//!
//! The key is PBKDF2-HMAC-SHA256 of the passphrase under a salt with
//! [`ITERATIONS`] rounds. A beacon sends its salt in every challenge, so
//! anyone who talks to it can try passphrases offline against the tag it
//! answers with; the iteration count is what makes each guess expensive.
//! Derive a key once per salt (a beacon draws one salt when it starts), never
//! per connection.
//!
//! A tag is HMAC-SHA256 over length-prefixed parts, so that part boundaries
//! are part of what is signed (`["ab", "c"]` and `["a", "bc"]` differ).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// PBKDF2 rounds: OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256.
pub const ITERATIONS: u32 = 600_000;

/// Bytes in a tag (the HMAC-SHA256 output) and in a nonce.
pub const TAG_LEN: usize = 32;

/// A key derived from the shared passphrase; the key never shows in `Debug`.
#[derive(Clone)]
pub struct Key {
    /// HMAC keyed once; cloned for every tag instead of rehashing the key.
    mac: HmacSha256,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    /// PBKDF2-HMAC-SHA256 of `passphrase` under `salt`, [`ITERATIONS`] rounds.
    pub fn derive(passphrase: &str, salt: &[u8]) -> Key {
        Key::from_derived(pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(
            passphrase.as_bytes(),
            salt,
            ITERATIONS,
        ))
    }

    fn from_derived(derived: [u8; 32]) -> Key {
        // HMAC pads a short key with zeros to the block size; doing it here
        // lets the infallible fixed-size constructor take it.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&derived);
        Key {
            mac: HmacSha256::new(&block.into()),
        }
    }

    fn keyed(&self, parts: &[&[u8]]) -> HmacSha256 {
        let mut mac = self.mac.clone();
        for part in parts {
            // Parts are at most a frame (64 KiB), far below u32::MAX.
            let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
            mac.update(&len.to_be_bytes());
            mac.update(part);
        }
        mac
    }

    /// HMAC-SHA256 over the length-prefixed `parts`.
    pub fn tag(&self, parts: &[&[u8]]) -> [u8; TAG_LEN] {
        self.keyed(parts).finalize().into_bytes().into()
    }

    /// Whether `tag` is the tag of `parts`, compared in constant time.
    pub fn verify(&self, parts: &[&[u8]], tag: &[u8]) -> bool {
        self.keyed(parts).verify_slice(tag).is_ok()
    }
}

/// A fresh random nonce from the operating system.
pub fn nonce() -> Result<[u8; 32], getrandom::Error> {
    let mut out = [0u8; 32];
    getrandom::fill(&mut out)?;
    Ok(out)
}

/// Keys for the tests of this crate, each derived once: PBKDF2 is slow on
/// purpose, and a test gains nothing from deriving the same key again.
#[cfg(test)]
pub(crate) mod test_keys {
    use std::sync::LazyLock;

    use super::Key;

    pub const PASSPHRASE: &str = "correct horse battery staple";
    pub const SALT: [u8; crate::handshake::SALT_LEN] = *b"0123456789abcdef";
    /// [`PASSPHRASE`] under [`SALT`].
    pub static KEY: LazyLock<Key> = LazyLock::new(|| Key::derive(PASSPHRASE, &SALT));
    /// Another passphrase under [`SALT`].
    pub static WRONG: LazyLock<Key> = LazyLock::new(|| Key::derive("not the passphrase", &SALT));
}

#[cfg(test)]
mod tests {
    use super::test_keys::{KEY, PASSPHRASE, WRONG};
    use super::*;

    #[test]
    fn derive_is_pbkdf2_hmac_sha256_with_the_documented_iterations() {
        // Python: hashlib.pbkdf2_hmac("sha256", PASSPHRASE, SALT, 600_000).
        let expected = [
            0x6c, 0x4a, 0x64, 0x6a, 0xad, 0x10, 0xd0, 0x67, 0xad, 0xd5, 0xfb, 0x79, 0xd9, 0x07,
            0x8a, 0x16, 0xda, 0x83, 0xd5, 0x0f, 0x81, 0x67, 0x0a, 0x8e, 0x75, 0x93, 0xb2, 0x49,
            0xe6, 0xd9, 0x49, 0x36,
        ];
        assert_eq!(KEY.tag(&[b"x"]), Key::from_derived(expected).tag(&[b"x"]));
    }

    #[test]
    fn a_tag_is_hmac_sha256_with_the_derived_key_over_length_prefixed_parts() {
        let derived = [7u8; 32];
        let mut mac = HmacSha256::new_from_slice(&derived).unwrap();
        mac.update(&1u32.to_be_bytes());
        mac.update(b"x");
        mac.update(&0u32.to_be_bytes());
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(Key::from_derived(derived).tag(&[b"x", b""]), expected);
    }

    #[test]
    fn tags_verify_under_the_same_passphrase_and_salt_only() {
        let tag = KEY.tag(&[b"probe", b"session"]);
        assert!(KEY.verify(&[b"probe", b"session"], &tag));
        assert!(!KEY.verify(&[b"beacon", b"session"], &tag));
        assert!(!KEY.verify(&[b"probe", b"session"], &tag[..31]));
        assert!(!WRONG.verify(&[b"probe", b"session"], &tag));
        let other_salt = Key::derive(PASSPHRASE, b"another salt....");
        assert!(!other_salt.verify(&[b"probe", b"session"], &tag));
    }

    #[test]
    fn part_boundaries_are_signed() {
        assert_ne!(KEY.tag(&[b"ab", b"c"]), KEY.tag(&[b"a", b"bc"]));
    }

    #[test]
    fn nonces_differ() {
        assert_ne!(nonce().unwrap(), nonce().unwrap());
    }
}
