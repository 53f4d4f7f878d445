//! The integrity checker: a kernel whose messages carry sequence numbers
//! runs under random operator actions (pause, resume, disconnect with drain
//! or drop, reconnect, restart) and random server failures; at the end
//! every message a source sent was delivered exactly once, in order per
//! source, or counted as dropped by a counter the API reports, and every
//! terminal can be connected again.
//!
//! `CHAOS_SECONDS` (default 30) sets how long the chaos lasts and
//! `CHAOS_SEED` the seed of the actions and failures (default: from the
//! clock; the seed is printed, so a failing run can be repeated).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use kernel::control::DisconnectMode;
use kernel::{ConnectionState, ControlError, ServerState};
use wiring_tests::chaos::{FAIL_ONE_IN, FAIL_SEED, LEDGER, Numbered};

/// The producer-consumer pairs of `wiring/chaos_kernel.toml`.
const PAIRS: [(&str, &str); 5] = [
    ("src_a.out", "relay.input"),
    ("relay.output", "sink.inputs"),
    ("src_b.out", "sink.inputs"),
    ("fan.out", "tap_a.inputs"),
    ("fan.out", "tap_b.inputs"),
];
const SERVERS: [&str; 7] = ["src_a", "src_b", "fan", "relay", "sink", "tap_a", "tap_b"];

/// Which pipes (indices into `PAIRS`, the first one where the source puts
/// its messages) carry which source's messages to which sink, and whether
/// the source feeds only that path (an `Output`: every message it sent
/// entered the first pipe; a `Multiplex` sends only to the consumers
/// connected at the time).
const FLOWS: [(u32, &str, &[usize], bool); 4] = [
    (0, "sink", &[0, 1], true),
    (1, "sink", &[2], true),
    (2, "tap_a", &[3], false),
    (2, "tap_b", &[4], false),
];

/// splitmix64: enough randomness for choosing actions, and repeatable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// The pipe of `pair` that holds its terminals now, if any.
fn current(
    connectome: &kernel::Connectome,
    pair: (&str, &str),
) -> Option<(kernel::Uuid, ConnectionState)> {
    connectome
        .pipes()
        .into_iter()
        .find(|p| {
            p.from.to_string() == pair.0 && p.to.to_string() == pair.1 && p.state.holds_terminals()
        })
        .map(|p| (p.id, p.state))
}

#[derive(Default, Debug)]
struct Tally {
    done: BTreeMap<&'static str, u64>,
    refused: BTreeMap<&'static str, u64>,
}

impl Tally {
    fn record(&mut self, action: &'static str, outcome: Result<(), ControlError>) {
        match outcome {
            Ok(()) => *self.done.entry(action).or_default() += 1,
            Err(_) => *self.refused.entry(action).or_default() += 1,
        }
    }
}

#[test]
fn every_message_is_delivered_once_or_counted_under_chaos() {
    let seed = env_u64("CHAOS_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let seconds = env_u64("CHAOS_SECONDS").unwrap_or(30);
    eprintln!("chaos: CHAOS_SEED={seed} CHAOS_SECONDS={seconds}");
    let mut rng = Rng(seed);
    FAIL_SEED.store(seed, std::sync::atomic::Ordering::Relaxed);
    FAIL_ONE_IN.store(20_000, std::sync::atomic::Ordering::Relaxed);

    let kernel = wiring_tests::chaos_kernel::kernel()
        .expect("boot the chaos kernel")
        .with_signal_handlers(false)
        .with_restart_limit(u32::MAX, Duration::from_secs(1))
        .with_grace_period(Duration::from_secs(10));
    let connectome = kernel.connectome();
    let control = kernel.control().with_cause("chaos");
    let stop = kernel.stop_handle();
    let run = std::thread::spawn(move || kernel.run());
    let booted = Instant::now();
    while !connectome.is_running() && booted.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }

    let mut tally = Tally::default();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        let pair = PAIRS[rng.below(PAIRS.len())];
        match rng.below(6) {
            0 => {
                if let Some((id, _)) = current(&connectome, pair) {
                    tally.record("pause", control.pause(id));
                }
            }
            1 => {
                if let Some((id, ConnectionState::Paused)) = current(&connectome, pair) {
                    tally.record("resume", control.resume(id));
                }
            }
            2 | 3 => {
                let mode = if rng.below(2) == 0 {
                    DisconnectMode::Drain
                } else {
                    DisconnectMode::Drop
                };
                if let Some((id, _)) = current(&connectome, pair) {
                    let name = match mode {
                        DisconnectMode::Drain => "disconnect (drain)",
                        DisconnectMode::Drop => "disconnect (drop)",
                    };
                    tally.record(name, control.disconnect(id, mode).map(drop));
                }
            }
            4 => {
                if current(&connectome, pair).is_none() {
                    tally.record("connect", control.connect(pair.0, pair.1, None).map(drop));
                }
            }
            _ => {
                let server = SERVERS[rng.below(SERVERS.len())];
                tally.record("restart", control.restart(server));
            }
        }
        std::thread::sleep(Duration::from_micros(200 + rng.below(5_000) as u64));
    }

    // Calm: no more failures; everything paused is resumed and every pair
    // connected again, which must work for every terminal.
    FAIL_ONE_IN.store(0, std::sync::atomic::Ordering::Relaxed);
    for pair in PAIRS {
        match current(&connectome, pair) {
            Some((id, ConnectionState::Paused)) => {
                control.resume(id).expect("a paused pipe resumes");
            }
            Some(_) => {}
            None => {
                if let Err(e) = control.connect(pair.0, pair.1, None) {
                    let history: Vec<String> = connectome
                        .events()
                        .recent(4096)
                        .iter()
                        .map(|e| format!("{:?} {} -> {} ({})", e.subject, e.from, e.to, e.cause))
                        .filter(|line| line.contains(pair.1.split('.').next().unwrap_or_default()))
                        .collect();
                    panic!(
                        "{} -> {} cannot be connected again: {e} (seed {seed})\nlast events:\n{}",
                        pair.0,
                        pair.1,
                        history[history.len().saturating_sub(40)..].join("\n")
                    );
                }
            }
        }
    }
    // Servers that failed last are back once their back-off passed.
    let calm = Instant::now();
    while connectome
        .servers()
        .iter()
        .any(|s| s.state != ServerState::Running)
        && calm.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    for server in connectome.servers() {
        assert!(
            !server.state.is_final(),
            "server `{}` is {} after the chaos: {:?}",
            server.name,
            server.state,
            server.last_error
        );
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.stop();
    let outcome = run.join().expect("the kernel thread does not panic");
    eprintln!(
        "chaos: actions done {:?}, refused {:?}",
        tally.done, tally.refused
    );
    outcome.expect("the kernel ends cleanly");
    for server in connectome.servers() {
        assert_eq!(server.state, ServerState::Stopped, "{}", server.name);
    }

    let ledger = LEDGER.lock().unwrap_or_else(|e| e.into_inner());
    let pipes = connectome.pipes();
    let mut checked = 0u64;
    for (source, sink, pipe_pairs, only_path) in FLOWS {
        let sent = ledger.sent.get(&source).copied().unwrap_or(0);
        let of = |i: usize| {
            pipes
                .iter()
                .find(|p| p.from.to_string() == PAIRS[i].0 && p.to.to_string() == PAIRS[i].1)
        };
        let entered = of(pipe_pairs[0]).map_or(0, |p| p.messages_in);
        if only_path {
            assert_eq!(
                entered, sent,
                "source {source}: every message sent entered its pipe"
            );
        } else {
            assert!(
                entered <= sent,
                "source {source}: more entered than was sent"
            );
        }
        let received: Vec<Numbered> = ledger
            .received
            .get(sink)
            .map(|all| all.iter().copied().filter(|m| m.source == source).collect())
            .unwrap_or_default();
        // In order and never twice.
        for w in received.windows(2) {
            assert!(
                w[0].seq < w[1].seq,
                "{sink} got source {source}'s {} after {} (seed {seed})",
                w[1].seq,
                w[0].seq
            );
        }
        let unique: BTreeSet<u64> = received.iter().map(|m| m.seq).collect();
        assert!(
            unique.iter().all(|&s| s < sent),
            "received a message never sent"
        );
        let dropped: u64 = pipe_pairs
            .iter()
            .filter_map(|&i| of(i))
            .map(|p| p.drops)
            .sum();
        eprintln!(
            "chaos: source {source} -> {sink}: sent {sent}, entered {entered}, received {}, dropped {dropped}",
            unique.len()
        );
        assert_eq!(
            unique.len() as u64 + dropped,
            entered,
            "source {source} -> {sink}: every message delivered once or counted as dropped (seed {seed})"
        );
        checked += entered;
    }
    assert!(checked > 0, "the chaos kernel moved no message");
}
