//! End to end with a second address: inside a network namespace of its own
//! (`unshare -rn`), where loopback also carries 10.77.0.1, the probe
//! enumerates the local addresses itself and finds the beacon on both.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::process::Command;
use std::time::Duration;

use crate::common::{PASSPHRASE, probe, temp_dir, text};
use kernel::net::Proto;
use kernel::net::beacon::{Beacon, BeaconOptions};
use kernel::net::handshake::SessionId;
use kernel::net::ports::PortRange;

const SECOND: &str = "10.77.0.1";

#[test]
fn a_second_address_in_a_network_namespace() {
    let usable = Command::new("unshare")
        .args(["-rn", "ip", "link", "set", "lo", "up"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !usable {
        eprintln!("skipped: `unshare -rn` with `ip` is not available here");
        return;
    }
    let this = std::env::current_exe().unwrap();
    let script = format!(
        "ip link set lo up && ip addr add {SECOND}/32 dev lo && \
         exec \"$0\" --ignored --exact namespace::inside_the_namespace --nocapture"
    );
    let output = Command::new("unshare")
        .args(["-rn", "sh", "-c", &script])
        .arg(this)
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}\n{stderr}");
}

#[test]
#[ignore = "runs inside a network namespace, started by a_second_address_in_a_network_namespace"]
fn inside_the_namespace() {
    // A namespace of our own: every port is free, binding everywhere is fine.
    let state = temp_dir("namespace");
    let options = BeaconOptions::new("0.0.0.0:7400".parse().unwrap(), PASSPHRASE, &state)
        .range(PortRange::new(7401, 7403).unwrap());
    let beacon = Beacon::start(options).unwrap();

    let args: Vec<String> = [
        "--beacon",
        "127.0.0.1:7400",
        "--session",
        &SessionId::random().unwrap().to_string(),
        "--tcp",
        "7390-7410",
        "--udp",
        "7390-7410",
        "--connect-timeout-ms",
        "500",
    ]
    .map(str::to_owned)
    .to_vec();
    let output = probe(&args, Some(PASSPHRASE));
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));

    let second: IpAddr = SECOND.parse().unwrap();
    let loopback: IpAddr = "127.0.0.1".parse().unwrap();
    let mut expected = BTreeSet::new();
    for ip in [second, loopback] {
        for port in 7400..=7403 {
            for proto in ["tcp", "udp"] {
                expected.insert(format!("{proto} {}", SocketAddr::new(ip, port)));
            }
        }
    }
    let found: Vec<String> = stdout
        .lines()
        .map(|l| l.rsplit_once(' ').unwrap().0.to_owned())
        .collect();
    assert_eq!(found.iter().cloned().collect::<BTreeSet<_>>(), expected);
    // The routable address before loopback, as the priority says.
    assert!(
        found.iter().take(8).all(|l| l.contains(SECOND)),
        "{found:?}"
    );

    let report = beacon.wait_complete(Duration::from_secs(10)).unwrap();
    let rows: BTreeSet<(IpAddr, Proto)> = report.matrix.iter().map(|r| (r.ip, r.proto)).collect();
    assert!(rows.contains(&(second, Proto::Udp)) && rows.contains(&(loopback, Proto::Tcp)));
    beacon.stop();
    let _ = std::fs::remove_dir_all(&state);
}
