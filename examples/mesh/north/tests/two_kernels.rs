//! North and south as two processes on 127.0.0.1: south listens where
//! `KERNEL_MESH_LISTEN` says, north finds it through `KERNEL_MESH_PEERS`,
//! and the whole numbered stream crosses in order.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// South's binary: built with cargo into this test's target folder (a test
/// only gets the binaries of its own package).
fn south_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    // <target>/<profile>/deps/two_kernels-<hash>
    let profile = exe
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap_or_else(|| panic!("no profile folder above {}", exe.display()));
    let target = profile
        .parent()
        .unwrap_or_else(|| panic!("no target folder above {}", profile.display()));
    let mut build = Command::new(env!("CARGO"));
    build
        .args(["build", "-p", "south", "--bin", "south", "--target-dir"])
        .arg(target)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if profile.file_name().is_some_and(|p| p == "release") {
        build.arg("--release");
    }
    let status = build.status().unwrap_or_else(|e| panic!("cargo: {e}"));
    assert!(status.success(), "building south failed");
    profile.join(format!("south{}", std::env::consts::EXE_SUFFIX))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Waits for `child` to exit within `limit`; kills it and fails otherwise.
fn finish(name: &str, mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    while child.try_wait().ok().flatten().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output();
            panic!("{name} did not end within {limit:?}: {output:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_stream_crosses_from_north_to_south_in_order() {
    let south = south_binary();
    let endpoint = format!("tcp/127.0.0.1:{}", free_port());
    // Each serves its control surface (`[control] listen`), on a free port here.
    let spawn = |program: &std::path::Path, var: &str| {
        Command::new(program)
            .env(var, &endpoint)
            .env("KERNEL_CONTROL_LISTEN", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", program.display()))
    };
    let south = spawn(&south, "KERNEL_MESH_LISTEN");
    let north = spawn(
        std::path::Path::new(env!("CARGO_BIN_EXE_north")),
        "KERNEL_MESH_PEERS",
    );
    let limit = Duration::from_secs(120);
    let north = finish("north", north, limit);
    let south = finish("south", south, limit);
    let text = |o: &Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    assert!(north.status.success(), "north: {}", text(&north));
    assert!(south.status.success(), "south: {}", text(&south));
    let north_out = String::from_utf8_lossy(&north.stdout);
    let south_out = String::from_utf8_lossy(&south.stdout);
    assert_eq!(
        south_out.trim(),
        "south: received 100000 numbers, 0 out of order",
        "{}",
        text(&south)
    );
    assert!(
        north_out.contains("closed, sent 100000, received 100000, in flight 0, lost 0"),
        "{}",
        text(&north)
    );
    for (name, output) in [("north", &north), ("south", &south)] {
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("control surface serving"),
            "{name} did not serve its control surface: {}",
            text(output)
        );
    }
}
