//! North and south as two processes on 127.0.0.1: south listens where
//! `KERNEL_MESH_LISTEN` says, north finds it through `KERNEL_MESH_PEERS`,
//! the whole numbered stream crosses in order, and both serve their control
//! surface until ctrl-c.

use std::io::{BufRead as _, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// South's binary: built with cargo into this test's target folder (a test
/// only gets the binaries of its own package). Built with the workspace's
/// tests selected too, so that features resolve as for `cargo test
/// --workspace` and the dependencies that build made are reused (`-p south`
/// alone resolves other features and rebuilt Zenoh).
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
        .args([
            "build",
            "--workspace",
            "--tests",
            "--bin",
            "south",
            "--target-dir",
        ])
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

/// A kernel process, its stdout and stderr collected as they come.
struct Running {
    name: &'static str,
    child: Child,
    output: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Running {
    fn start(name: &'static str, program: &Path, env: &[(&str, &str)]) -> Running {
        let mut child = Command::new(program)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
        let output = Arc::new(Mutex::new(String::new()));
        let streams: Vec<Box<dyn Read + Send>> = [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        .collect();
        let readers = streams
            .into_iter()
            .map(|stream| {
                let output = Arc::clone(&output);
                std::thread::spawn(move || {
                    for line in BufReader::new(stream).lines().map_while(Result::ok) {
                        let mut text = output.lock().unwrap_or_else(PoisonError::into_inner);
                        text.push_str(&line);
                        text.push('\n');
                    }
                })
            })
            .collect();
        Running {
            name,
            child,
            output,
            readers,
        }
    }

    fn text(&self) -> String {
        self.output
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until the output holds `needle`.
    fn wait_for(&self, needle: &str, limit: Duration) {
        let start = Instant::now();
        while !self.text().contains(needle) {
            assert!(
                start.elapsed() < limit,
                "{} did not print `{needle}` within {limit:?}:\n{}",
                self.name,
                self.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops it as ctrl-c does; its exit status and whole output.
    fn stop(mut self, limit: Duration) -> (ExitStatus, String) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap_or_else(|e| panic!("kill: {e}"));
        assert!(status.success(), "kill -INT {}", self.name);
        let start = Instant::now();
        let exit = loop {
            if let Some(exit) = self.child.try_wait().ok().flatten() {
                break exit;
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                panic!(
                    "{} did not stop within {limit:?}:\n{}",
                    self.name,
                    self.text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        (exit, self.text())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_stream_crosses_from_north_to_south_in_order() {
    let south = south_binary();
    let endpoint = format!("tcp/127.0.0.1:{}", free_port());
    // Each serves its control surface (`[control] listen`; a free port
    // here) and so stays up for its operator once its servers have ended.
    let control = "127.0.0.1:0";
    let south = Running::start(
        "south",
        &south,
        &[
            ("KERNEL_MESH_LISTEN", &endpoint),
            ("KERNEL_CONTROL_LISTEN", control),
        ],
    );
    let north = Running::start(
        "north",
        Path::new(env!("CARGO_BIN_EXE_north")),
        &[
            ("KERNEL_MESH_PEERS", &endpoint),
            ("KERNEL_CONTROL_LISTEN", control),
        ],
    );
    let limit = Duration::from_secs(120);
    for kernel in [&north, &south] {
        kernel.wait_for("control surface serving", limit);
    }
    south.wait_for("south: received", limit);
    north.wait_for("all 100000 messages delivered", limit);
    let (north_exit, north_text) = north.stop(limit);
    let (south_exit, south_text) = south.stop(limit);
    assert!(north_exit.success(), "north: {north_text}");
    assert!(south_exit.success(), "south: {south_text}");
    assert!(
        south_text.contains("south: received 100000 numbers, 0 out of order"),
        "{south_text}"
    );
    assert!(
        north_text.contains("closed, sent 100000, received 100000, in flight 0, lost 0"),
        "{north_text}"
    );
}
