//! The one reader and writer of wiring.toml, on every wiring file of the
//! lint goldens: the model read from a file writes that file back byte for
//! byte, and written afresh it reads back as the same model.

use std::fs;
use std::path::Path;

use wiring_build::wiring::{parse, write};

#[test]
fn every_golden_wiring_file_writes_back_unchanged() {
    let lint = Path::new(env!("CARGO_MANIFEST_DIR")).join("lint");
    let mut checked = 0;
    for entry in fs::read_dir(&lint).unwrap_or_else(|e| panic!("tests/lint: {e}")) {
        let path = entry
            .map(|e| e.path().join("wiring.toml"))
            .unwrap_or_default();
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let (wiring, findings) = parse(&text);
        if findings
            .iter()
            .any(|f| f.code == wiring_build::Code::Syntax)
        {
            continue;
        }
        assert_eq!(write(&wiring, Some(&text)), text, "{}", path.display());
        let fresh = write(&wiring, None);
        assert_eq!(write(&parse(&fresh).0, None), fresh, "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} wiring files");
}
