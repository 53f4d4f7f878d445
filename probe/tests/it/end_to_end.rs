//! The probe binary against an in-process beacon on 127.0.0.1: candidates
//! on the primary and range ports, the matrix, the cache across a restart.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::time::Duration;

use crate::common::{PASSPHRASE, probe, start_beacon, temp_dir, text};
use kernel::net::beacon::{Beacon, BeaconOptions};
use kernel::net::handshake::SessionId;
use kernel::net::report::PortState;
use kernel::net::{NetError, Proto, cache};

/// A TCP listener that answers every connection with junk, and a UDP socket
/// that answers every datagram with junk: not beacons.
fn junk_listeners(tcp_port: u16, udp_port: u16) -> Option<()> {
    let tcp = TcpListener::bind(("127.0.0.1", tcp_port)).ok()?;
    let udp = UdpSocket::bind(("127.0.0.1", udp_port)).ok()?;
    std::thread::spawn(move || {
        for mut stream in tcp.incoming().flatten() {
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
            let _ = stream.read(&mut [0u8; 256]);
        }
    });
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((_, peer)) = udp.recv_from(&mut buf) {
            let _ = udp.send_to(&[6, 0, 0, 0, 1, 0], peer);
        }
    });
    Some(())
}

#[test]
fn probe_finds_verifies_and_reports_and_the_cache_survives_a_restart() {
    let state = temp_dir("e2e");
    const EXTRA: u16 = 6;
    // base + 3 is taken over TCP and base + 4 over UDP by junk listeners.
    let (beacon, base, ()) = start_beacon(&state, EXTRA, |base| junk_listeners(base + 3, base + 4));

    let listeners: BTreeSet<(Proto, SocketAddr)> = beacon.listeners().into_iter().collect();
    let at = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
    assert!(!listeners.contains(&(Proto::Tcp, at(base + 3))));
    assert!(listeners.contains(&(Proto::Udp, at(base + 3))));
    assert!(!listeners.contains(&(Proto::Udp, at(base + 4))));
    assert_eq!(listeners.len(), 2 * (usize::from(EXTRA) + 1) - 2);
    let skipped = beacon.status().skipped;
    assert!(
        skipped
            .iter()
            .any(|s| s.proto == Proto::Tcp && s.first == base + 3 && s.reason == "in use"),
        "{skipped:?}"
    );

    // Scan one port beyond the range too: closed.
    let range = format!("{}-{}", base, base + EXTRA + 1);
    let session = SessionId::random().unwrap();
    let args: Vec<String> = [
        "--beacon",
        &at(base).to_string(),
        "--session",
        &session.to_string(),
        "--tcp",
        &range,
        "--udp",
        &range,
        "--address",
        "127.0.0.1",
        "--connect-timeout-ms",
        "500",
        "--deadline-ms",
        "60000",
    ]
    .map(str::to_owned)
    .to_vec();
    let output = probe(&args, Some(PASSPHRASE));
    assert!(
        output.status.success(),
        "probe failed: {}",
        text(&output.stderr)
    );

    // Every listener, verified, printed best first: tcp before udp.
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let printed: BTreeSet<(Proto, SocketAddr)> = lines
        .iter()
        .map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let proto = match fields.first() {
                Some(&"tcp") => Proto::Tcp,
                Some(&"udp") => Proto::Udp,
                _ => panic!("bad line {line}"),
            };
            let addr: SocketAddr = fields.get(1).unwrap().parse().unwrap();
            let priority: u32 = fields.get(2).unwrap().parse().unwrap();
            assert_eq!(priority, kernel::net::candidate::priority(proto, addr.ip()));
            (proto, addr)
        })
        .collect();
    assert_eq!(printed, listeners);
    let first_udp = lines.iter().position(|l| l.starts_with("udp")).unwrap();
    assert!(lines[first_udp..].iter().all(|l| l.starts_with("udp")));

    // The beacon has the report, the matrix and the cache.
    let report = beacon.wait_complete(Duration::from_secs(10)).unwrap();
    assert_eq!(report.session, session);
    assert!(report.completed && report.completed_at_ms.is_some());
    let row = |proto| {
        report
            .matrix
            .iter()
            .find(|r| r.proto == proto && r.ip == at(base).ip())
            .unwrap()
    };
    let (tcp, udp) = (row(Proto::Tcp), row(Proto::Udp));
    assert_eq!(
        (tcp.verified, tcp.open, tcp.closed),
        (usize::from(EXTRA), 1, 1)
    );
    assert_eq!(
        (udp.verified, udp.open, udp.closed),
        (usize::from(EXTRA), 1, 1)
    );
    assert!(
        tcp.runs
            .iter()
            .any(|r| r.first == base + 3 && r.state == PortState::Open)
    );
    let candidates = beacon.candidates();
    assert_eq!(candidates, report.candidates);
    let cached = cache::load(&state).unwrap();
    assert_eq!(cached.candidates, candidates);
    assert_eq!(
        beacon.status().candidates_saved_at_ms,
        Some(cached.saved_at_ms)
    );
    beacon.stop();

    // A new beacon (another port) starts with the cached candidates.
    let again = Beacon::start(BeaconOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        PASSPHRASE,
        &state,
    ))
    .unwrap();
    assert_eq!(again.candidates(), candidates);
    let status = again.status();
    assert_eq!(status.candidates_saved_at_ms, Some(cached.saved_at_ms));
    assert!(status.report.is_none());
    again.stop();
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn privileged_ports_are_refused() {
    let state = temp_dir("privileged");
    let primary = BeaconOptions::new("127.0.0.1:1023".parse().unwrap(), PASSPHRASE, &state);
    assert!(matches!(
        Beacon::start(primary),
        Err(NetError::Privileged { .. })
    ));

    let beacon_args = |beacon: &str, tcp: &str| -> Vec<String> {
        [
            "--beacon",
            beacon,
            "--session",
            &"ab".repeat(16),
            "--tcp",
            tcp,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let output = probe(&beacon_args("127.0.0.1:7000", "80-2000"), Some(PASSPHRASE));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("below 1024"),
        "{}",
        text(&output.stderr)
    );
    let output = probe(&beacon_args("127.0.0.1:443", "2000-3000"), Some(PASSPHRASE));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("privileged"),
        "{}",
        text(&output.stderr)
    );
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn a_beacon_skips_privileged_range_ports_and_ignores_a_corrupt_cache() {
    let state = temp_dir("range-privileged");
    std::fs::write(
        cache::path(&state),
        b"{\"saved_at_ms\": 1, \"candidates\": [",
    )
    .unwrap();
    let options = BeaconOptions::new("127.0.0.1:0".parse().unwrap(), PASSPHRASE, &state)
        .range(kernel::net::ports::PortRange::new(1000, 1023).unwrap());
    let beacon = Beacon::start(options).unwrap();
    assert_eq!(beacon.listeners().len(), 2, "only the primary");
    let skipped = beacon.status().skipped;
    assert!(skipped.iter().all(|s| s.reason == "privileged"));
    assert!(skipped.iter().any(|s| (s.first, s.last) == (1000, 1023)));
    let status = beacon.status();
    assert!(status.candidates.is_empty() && status.candidates_saved_at_ms.is_none());
    beacon.stop();
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn usage_and_missing_passphrase() {
    let help = probe(&["--help".to_owned()], None);
    assert!(help.status.success());
    assert!(text(&help.stdout).contains("WIRING_PROBE_PASSPHRASE"));

    let args = ["--beacon", "127.0.0.1:7000", "--session", &"ab".repeat(16)].map(str::to_owned);
    let missing = probe(&args, None);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("WIRING_PROBE_PASSPHRASE"));
}
