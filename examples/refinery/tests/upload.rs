//! "Upload": the live topology exported as `wiring.toml` builds the same
//! kernel. The export of a booted refinery is the wiring file it was built
//! from, byte for byte, so `wiring-build` generates the same code from it
//! and booting it gives the same connectome (servers, uuids, pipes and
//! their ids, capacities, configs). A live change edits the file where it
//! changed and keeps the rest, comments and `[lints]` included.

#[path = "../src/servers/mod.rs"]
#[allow(dead_code)]
mod servers;

kernel::include_wiring!();

use std::path::{Path, PathBuf};

use kernel::control::Snapshot as _;

fn generate(wiring: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join("main.rs");
    wiring_build::Config::new()
        .crate_root(root)
        .cargo_output(false)
        .generate(wiring)
        .unwrap_or_else(|e| panic!("generate {}: {e:?}", wiring.display()))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("refinery-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

#[test]
fn the_exported_wiring_builds_the_same_kernel() {
    let kernel = wiring::kernel().expect("refinery boots");
    let exported = kernel.control().topology().to_wiring_toml();
    let wiring_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("wiring.toml");
    let written = std::fs::read_to_string(&wiring_path).expect("read wiring.toml");
    assert_eq!(
        exported, written,
        "the export is the wiring file as written"
    );
    let dir = scratch("upload");
    let path = dir.join("wiring.toml");
    std::fs::write(&path, &exported).expect("write export");
    let original = generate(&wiring_path);
    let rebuilt = generate(&path);
    assert_eq!(original, rebuilt, "exported:\n{exported}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_live_change_shows_in_the_export() {
    let kernel = wiring::kernel().expect("refinery boots");
    let control = kernel.control();
    let historian = control
        .connectome()
        .pipes()
        .into_iter()
        .find(|p| p.to.server == "historian")
        .expect("historian pipe");
    // Before `run`, a pipe can be disconnected like any other (drop mode:
    // nothing was sent yet, nothing is lost).
    let d = control
        .disconnect(historian.id, kernel::control::DisconnectMode::Drop)
        .expect("disconnect");
    assert_eq!(d.dropped, 0);
    let exported = control.topology().to_wiring_toml();
    let written =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("wiring.toml"))
            .expect("read wiring.toml");
    // One line changed, everything else (comments, `[lints]`) as written.
    assert_eq!(
        exported,
        written.replace(
            r#"to = ["tank_farm.cuts", "alarm.cuts", "historian.cuts"]"#,
            r#"to = ["tank_farm.cuts", "alarm.cuts"]"#
        ),
    );
    // The refinery's `[lints]` came along: its historian is now unused,
    // which the wiring denies, so the build would stop there.
    let dir = scratch("upload-live");
    let path = dir.join("wiring.toml");
    std::fs::write(&path, &exported).expect("write export");
    let findings = wiring_build::Config::new()
        .crate_root(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/main.rs"))
        .lint(&path)
        .expect("lint the export");
    assert!(findings.has_errors(), "{findings}");
    assert!(
        findings.codes().contains(&wiring_build::Code::UnusedServer),
        "{findings}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
