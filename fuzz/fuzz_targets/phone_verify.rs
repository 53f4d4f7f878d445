//! Phone calls from peer kernels: whatever the headers and body, verifying
//! returns the peer or an error, never a panic; a call signed with the right
//! secret for this kernel verifies once and is refused as a replay the
//! second time, and the same call addressed to another kernel is refused.
#![no_main]

use kernel_hostess::phone::{
    HEADER_KERNEL, HEADER_NONCE, HEADER_PEER, HEADER_SIGNATURE, HEADER_TIMESTAMP, Verifier,
    canonical, sign,
};
use libfuzzer_sys::fuzz_target;

const NOW_MS: u64 = 1_800_000_000_000;

fuzz_target!(|data: &[u8]| {
    // Fields split at 0xff bytes: method, path, peer, kernel, timestamp,
    // nonce, signature, body.
    let mut fields = data.split(|&b| b == 0xff);
    let mut next = || String::from_utf8_lossy(fields.next().unwrap_or_default()).into_owned();
    let (method, path, peer, kernel, timestamp, nonce, signature) =
        (next(), next(), next(), next(), next(), next(), next());
    let body = next().into_bytes();
    let verifier = Verifier::new("plant-a").peer("plant-b", "secret");
    let headers = [
        (HEADER_PEER, peer.as_str()),
        (HEADER_KERNEL, kernel.as_str()),
        (HEADER_TIMESTAMP, timestamp.as_str()),
        (HEADER_NONCE, nonce.as_str()),
        (HEADER_SIGNATURE, signature.as_str()),
    ];
    let header = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    let _ = verifier.verify(&method, &path, header, &body, NOW_MS);

    // The same call, properly signed for plant-a, passes once.
    let stamp = NOW_MS.to_string();
    let signed_for = |callee: &str| {
        sign(
            b"secret",
            &canonical(callee, &method, &path, "plant-b", NOW_MS, &nonce, &body),
        )
    };
    let good = signed_for("plant-a");
    let signed = [
        (HEADER_PEER, "plant-b"),
        (HEADER_KERNEL, "plant-a"),
        (HEADER_TIMESTAMP, stamp.as_str()),
        (HEADER_NONCE, nonce.as_str()),
        (HEADER_SIGNATURE, good.as_str()),
    ];
    let header = |name: &str| signed.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    if verifier.verify(&method, &path, header, &body, NOW_MS).is_ok() {
        assert!(verifier.verify(&method, &path, header, &body, NOW_MS).is_err());
    }

    // Signed for plant-c, refused by plant-a even with its header rewritten.
    let elsewhere = signed_for("plant-c");
    let replayed = [
        (HEADER_PEER, "plant-b"),
        (HEADER_KERNEL, "plant-a"),
        (HEADER_TIMESTAMP, stamp.as_str()),
        (HEADER_NONCE, nonce.as_str()),
        (HEADER_SIGNATURE, elsewhere.as_str()),
    ];
    let header = |name: &str| replayed.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    let fresh = Verifier::new("plant-a").peer("plant-b", "secret");
    assert!(fresh.verify(&method, &path, header, &body, NOW_MS).is_err());
});
