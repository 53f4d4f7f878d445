//! "Upload": the live topology exported as `wiring.toml` builds the same
//! kernel. The export of a booted refinery, linted and generated again by
//! `wiring-build`, gives byte for byte the code of the original wiring
//! file, so booting it gives the same connectome (servers, uuids, pipes
//! and their ids, capacities, configs).

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
    let dir = scratch("upload");
    let path = dir.join("wiring.toml");
    std::fs::write(&path, &exported).expect("write export");
    let original = generate(&Path::new(env!("CARGO_MANIFEST_DIR")).join("wiring.toml"));
    let rebuilt = generate(&path);
    assert_eq!(original, rebuilt, "exported:\n{exported}");
    // Fan-in and fan-out come back as lists.
    assert!(exported.contains(r#"from = ["north_well.samples", "south_well.samples"]"#));
    assert!(exported.contains(r#"to = ["tank_farm.cuts", "alarm.cuts", "historian.cuts"]"#));
    assert!(exported.contains("capacity = 4096"));
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
    assert!(
        exported.contains(r#"to = ["tank_farm.cuts", "alarm.cuts"]"#),
        "{exported}"
    );
    assert!(!exported.contains("historian.cuts"), "{exported}");
    let dir = scratch("upload-live");
    let path = dir.join("wiring.toml");
    std::fs::write(&path, &exported).expect("write export");
    let code = generate(&path);
    // Five pipes left, the historian unconnected.
    assert_eq!(code.matches("pipe_spec(").count(), 5, "{code}");
    assert!(!code.contains("servers::historian::__wiring_port_cuts()"));
    assert!(code.contains("servers::alarm::__wiring_port_cuts()"));
    let _ = std::fs::remove_dir_all(dir);
}
