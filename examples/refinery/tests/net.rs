//! The refinery across machines, on real loopback sockets: `--probe` runs a
//! beacon and the probe as an external process and prints what the probe
//! verified; two refinery processes exchange capability adverts and see each
//! other appear, then one leave at once.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Kills the child if a test fails half-way.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn state_dir(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("refinery-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("state dir");
    dir
}

#[test]
fn probe_verifies_the_beacon_and_prints_the_candidates() {
    let state = state_dir("probe");
    let output = Command::new(env!("CARGO_BIN_EXE_refinery"))
        .args(["--probe", "--probe-address", "127.0.0.1"])
        .env("XDG_STATE_HOME", &state)
        .env("WIRING_PASSPHRASE", "correct horse battery staple")
        .output()
        .expect("run refinery --probe");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let beacon: SocketAddr = stdout
        .lines()
        .find_map(|l| l.strip_prefix("beacon: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no beacon address in:\n{stdout}"));
    let count: usize = stdout
        .lines()
        .find_map(|l| l.strip_prefix("probe: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no candidate count in:\n{stdout}\n{stderr}"));
    // The primary over TCP and UDP at least, best (TCP) first.
    assert!(count >= 2, "{stdout}");
    let first = stdout
        .lines()
        .skip_while(|l| !l.starts_with("probe: "))
        .nth(1)
        .unwrap_or_default();
    assert!(first.trim_start().starts_with("tcp 127.0.0.1:"), "{stdout}");
    assert!(
        stdout.contains(&format!("udp {beacon}")),
        "the primary over UDP is a candidate:\n{stdout}"
    );
    assert!(stdout.contains("address/port matrix:"), "{stdout}");
    assert!(
        stdout.lines().any(|l| l.starts_with("probe ")
            && l.contains(" finished ")
            && l.ends_with("exited with status 0")),
        "the probe is listed as a finished process:\n{stdout}"
    );
    // The plant ran as usual next to it.
    assert!(stdout.contains("kernel `refinery`"), "{stdout}");
    // Cached in the state directory, for the next run and the adverts.
    let cache = state.join("refinery").join("probe-candidates.json");
    let cached: Value = serde_json::from_str(
        &std::fs::read_to_string(&cache)
            .unwrap_or_else(|e| panic!("no cache at {}: {e}", cache.display())),
    )
    .expect("cache is JSON");
    assert_eq!(
        cached["candidates"].as_array().map(Vec::len),
        Some(count),
        "{cached}"
    );
    let _ = std::fs::remove_dir_all(&state);
}

/// A refinery sending adverts, serving its control surface.
struct Plant {
    child: Guard,
    control: SocketAddr,
}

impl Plant {
    fn start(adverts: SocketAddr, peer: SocketAddr) -> Plant {
        let mut child = Command::new(env!("CARGO_BIN_EXE_refinery"))
            .arg("--serve")
            .args(["--adverts", &adverts.to_string()])
            .args(["--peer", &peer.to_string()])
            .env("KERNEL_CONTROL_LISTEN", "127.0.0.1:0")
            .env("KERNEL_CONTROL_TOKEN", "net-test-token")
            .env("WIRING_PASSPHRASE", "shared by the plants")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start refinery --adverts");
        let stdout = child.stdout.take().expect("stdout");
        let child = Guard(child);
        let mut control = None;
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let line = line.expect("stdout line");
            if let Some(url) = line.strip_prefix("HMI: http://") {
                control = url.trim_end_matches('/').parse().ok();
            }
            if line.starts_with("adverts: ") {
                break;
            }
        }
        // Keep reading: a plant writing to a closed pipe would die.
        std::thread::spawn(move || lines.for_each(drop));
        Plant {
            control: control.expect("control address printed"),
            child,
        }
    }

    fn pid(&self) -> u32 {
        self.child.0.id()
    }

    fn neighbours(&self) -> Vec<Value> {
        let body = ureq::get(format!("http://{}/api/v1/neighbours", self.control))
            .call()
            .expect("GET /api/v1/neighbours")
            .body_mut()
            .read_to_string()
            .expect("body");
        let json: Value = serde_json::from_str(&body).expect("JSON");
        json["neighbours"].as_array().cloned().unwrap_or_default()
    }

    /// Whether it lists the kernel of process `pid` (identity
    /// `refinery@<fqdn>:<pid>`).
    fn sees(&self, pid: u32) -> bool {
        let suffix = format!(":{pid}");
        self.neighbours().iter().any(|n| {
            n["identity"]
                .as_str()
                .is_some_and(|i| i.starts_with("refinery@") && i.ends_with(&suffix))
        })
    }
}

fn free_udp_port() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket.local_addr().expect("addr")
}

fn wait_until(what: &str, within: Duration, check: impl Fn() -> bool) -> Duration {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < within, "not within {within:?}: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
    start.elapsed()
}

#[test]
fn two_kernels_see_each_other_appear_and_one_leave_at_once() {
    let (a_addr, b_addr) = (free_udp_port(), free_udp_port());
    let a = Plant::start(a_addr, b_addr);
    let mut b = Plant::start(b_addr, a_addr);
    wait_until("each sees the other", Duration::from_secs(20), || {
        a.sees(b.pid()) && b.sees(a.pid())
    });
    let heard = a.neighbours();
    let b_entry = heard
        .iter()
        .find(|n| n["source"].as_str() == Some(&b_addr.to_string()))
        .unwrap_or_else(|| panic!("b's adverts come from {b_addr}: {heard:?}"));
    assert_eq!(b_entry["control"].as_str(), Some(&*b.control.to_string()));
    assert!(
        b_entry["classes"].as_array().is_some_and(|c| !c.is_empty()),
        "{b_entry}"
    );
    // ctrl-c: b stops cleanly and says it is leaving (TTL 0).
    let pid = b.pid();
    let killed = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = b.child.0.wait().expect("b ends");
    assert!(status.success(), "b stopped cleanly: {status}");
    // Well before its 5 s TTL would run out.
    let gone = wait_until("a forgets b", Duration::from_secs(2), || !a.sees(pid));
    assert!(gone < Duration::from_secs(2), "{gone:?}");
}
