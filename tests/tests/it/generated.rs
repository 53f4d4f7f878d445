//! Golden test of generated code: the refinery's `wiring.toml` must
//! generate exactly `tests/generated/refinery.rs`, byte for byte.
//!
//! `BLESS=1 cargo test -p wiring-tests --test it generated::` rewrites the
//! expected file; read the diff: it is the code every kernel is built from.

use std::fs;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn the_refinery_generates_the_expected_code() {
    let refinery = workspace().join("examples/refinery");
    let code = wiring_build::Config::new()
        .crate_root(refinery.join("src/main.rs"))
        .cargo_output(false)
        .generate(refinery.join("wiring.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let expected_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("generated/refinery.rs");
    if std::env::var_os("BLESS").is_some_and(|v| v != "0") {
        fs::write(&expected_path, &code)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", expected_path.display()));
        return;
    }
    let expected = fs::read_to_string(&expected_path).unwrap_or_default();
    if code != expected {
        let line = code
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| code.lines().count().min(expected.lines().count()));
        panic!(
            "the generated code differs from {} from line {} on (BLESS=1 to accept):\n{code}",
            expected_path.display(),
            line + 1
        );
    }
}
