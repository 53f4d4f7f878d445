//! Any wiring file, linted against the lint goldens' servers and rendered:
//! findings come back, never a panic; rendering is non-empty exactly when
//! there are findings.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use wiring_build::scan::Scan;

thread_local! {
    static SCAN: Scan = {
        let servers = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/lint/servers/lib.rs");
        wiring_build::scan::scan(&[servers], &[])
            .unwrap_or_else(|e| panic!("cannot scan the lint goldens' servers: {e}"))
    };
}

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let (_, findings) = SCAN.with(|scan| wiring_build::lint::lint(source, scan));
    let findings = wiring_build::Findings::new("wiring.toml", source, findings);
    let rendered = findings.render();
    assert_eq!(rendered.is_empty(), findings.is_empty());
});
