//! How long a probe takes to scan 1024-65535 on 127.0.0.1 with a beacon
//! listening on a few ports: TCP, then UDP. Prints median, min and max of
//! the scan time (the first handshake and the report are not included; the
//! whole run is printed alongside).
//!
//! `cargo bench -p probe --bench scan` (release build).

use std::time::Duration;

use kernel::net::beacon::{Beacon, BeaconOptions};
use kernel::net::handshake::SessionId;
use kernel::net::ports::PortRange;
use kernel::net::probe::{self, Instructions};

const PASSPHRASE: &str = "bench passphrase";
const RUNS: usize = 5;
/// Extra beacon listeners (TCP and UDP each) on top of the primary.
const RANGE: (u16, u16) = (47_000, 47_007);

fn stats(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Option<&Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1e3);
    println!(
        "{label:<40} median {:>8.1} ms   min {:>8.1} ms   max {:>8.1} ms   ({} runs)",
        ms(samples.get(samples.len() / 2)),
        ms(samples.first()),
        ms(samples.last()),
        samples.len()
    );
}

fn bench(beacon: &Beacon, label: &str, configure: impl Fn(&mut Instructions)) {
    let mut scans = Vec::new();
    let mut totals = Vec::new();
    let mut found = 0;
    for _ in 0..RUNS {
        let session = SessionId::random().expect("random session id");
        let mut instructions = Instructions::new(beacon.primary_addr(), session, PASSPHRASE);
        instructions.addresses = vec!["127.0.0.1".parse().expect("loopback")];
        configure(&mut instructions);
        let started = std::time::Instant::now();
        let outcome = probe::run(&instructions).expect("probe run");
        totals.push(started.elapsed());
        scans.push(outcome.scan_time);
        found = outcome.candidates.len();
    }
    stats(&format!("{label}: scan ({found} candidates)"), scans);
    stats(&format!("{label}: whole run"), totals);
}

fn main() {
    let state = std::env::temp_dir().join(format!("probe-bench-{}", std::process::id()));
    let options = BeaconOptions::new("127.0.0.1:0".parse().expect("addr"), PASSPHRASE, &state)
        .range(PortRange::new(RANGE.0, RANGE.1).expect("range"));
    let beacon = Beacon::start(options).expect("beacon");
    println!(
        "beacon on {} with {} listeners",
        beacon.primary_addr(),
        beacon.listeners().len()
    );
    let all = PortRange::new(1024, 65535).expect("range");
    for concurrency in [128, 512, 2048] {
        bench(
            &beacon,
            &format!("tcp 1024-65535, concurrency {concurrency}"),
            |i| {
                i.tcp = Some(all);
                i.concurrency = concurrency;
            },
        );
    }
    for concurrency in [128, 512] {
        bench(
            &beacon,
            &format!("udp 1024-65535, concurrency {concurrency}"),
            |i| {
                i.udp = Some(all);
                i.concurrency = concurrency;
            },
        );
    }
    beacon.stop();
    let _ = std::fs::remove_dir_all(&state);
}
