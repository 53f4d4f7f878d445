//! Datagrams and frames from the network: capability adverts (with and
//! without a key) and probe/beacon frames decode to a value or an error,
//! never a panic; what decodes without a key encodes and decodes again to
//! the same advert.
#![no_main]

use std::sync::OnceLock;

use kernel_mesh::advert;
use kernel_mesh::auth::Key;
use kernel_mesh::frame::Frame;
use libfuzzer_sys::fuzz_target;

fn key() -> &'static Key {
    static KEY: OnceLock<Key> = OnceLock::new();
    // The derivation is slow on purpose: once per process.
    KEY.get_or_init(|| Key::derive("fuzzing passphrase", b"fuzzing salt"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(decoded) = advert::decode(data, None) {
        let again = advert::encode(&decoded, None).map(|bytes| advert::decode(&bytes, None));
        assert!(matches!(again, Ok(Ok(ref a)) if *a == decoded), "{decoded:?}");
    }
    let _ = advert::decode(data, Some(key()));
    if let Some((&kind, payload)) = data.split_first() {
        let _ = Frame::decode(kind, payload);
    }
});
