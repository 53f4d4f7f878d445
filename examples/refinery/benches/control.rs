//! Refinery throughput with the control surface serving and polled ten
//! times a second, against the same runs with it off, in one run.
//!
//! `cargo bench -p refinery --bench control` prints the median throughput of
//! both and the difference (target: at most 3 % slower).

#[path = "../src/servers/mod.rs"]
#[allow(dead_code)]
mod servers;

kernel::include_wiring!();

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kernel::control::http::{ControlOptions, ServeControl as _};

/// Messages that pass the manifold per run (both wells).
fn messages() -> u64 {
    wiring::CONNECTOME
        .servers
        .iter()
        .filter(|s| s.type_path.ends_with("Well"))
        .filter_map(|s| s.config)
        .filter_map(|c| c.lines().find_map(|l| l.strip_prefix("samples = ")))
        .filter_map(|n| n.trim().parse::<u64>().ok())
        .sum()
}

fn get(addr: SocketAddr, path: &str) -> usize {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    agent
        .get(format!("http://{addr}{path}"))
        .call()
        .and_then(|mut r| r.body_mut().read_to_vec())
        .map_or(0, |body| body.len())
}

/// Where the current kernel's control surface listens (none: off).
static SERVING: std::sync::Mutex<Option<SocketAddr>> = std::sync::Mutex::new(None);

/// Polls the current control surface ten times a second (metrics JSON,
/// and the SVG drawing every other time), whichever kernel runs.
fn poller(done: Arc<AtomicBool>, polls: Arc<AtomicU64>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let period = Duration::from_millis(100);
        let mut next = Instant::now() + period;
        let mut n = 0u64;
        while !done.load(Ordering::Relaxed) {
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            next += period;
            let addr = *SERVING.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(addr) = addr {
                let path = if n.is_multiple_of(2) {
                    "/api/v1/metrics"
                } else {
                    "/api/v1/topology?format=svg"
                };
                n += 1;
                if get(addr, path) > 0 {
                    polls.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    })
}

/// `runs` kernels to completion one after the other; messages per second
/// through the manifold of each run, and the seconds they took.
fn round(control_on: bool, runs: usize) -> (Vec<f64>, f64) {
    let mut secs = 0.0;
    let mut rates = Vec::with_capacity(runs);
    for _ in 0..runs {
        let kernel = wiring::kernel()
            .expect("refinery")
            .with_signal_handlers(false);
        let server = control_on.then(|| {
            kernel
                .serve_control(ControlOptions::new().token("bench"))
                .expect("control surface")
        });
        *SERVING.lock().unwrap_or_else(|e| e.into_inner()) = server.as_ref().map(|s| s.addr());
        // A kernel that serves its control surface stays up after its
        // servers end: both sides are timed to the end of the last server.
        let connectome = kernel.connectome();
        let stop = kernel.stop_handle();
        let start = Instant::now();
        let running = std::thread::spawn(move || kernel.run());
        while !connectome.servers().iter().all(|s| s.state.is_final()) {
            std::thread::sleep(Duration::from_millis(1));
        }
        let took = start.elapsed().as_secs_f64();
        stop.stop();
        running
            .join()
            .expect("the kernel's thread")
            .expect("refinery runs");
        secs += took;
        rates.push(messages() as f64 / took);
        *SERVING.lock().unwrap_or_else(|e| e.into_inner()) = None;
        drop(server);
    }
    (rates, secs)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let env = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(default)
    };
    let (rounds, runs) = (env("ROUNDS", 9), env("RUNS", 6));
    let done = Arc::new(AtomicBool::new(false));
    let polls = Arc::new(AtomicU64::new(0));
    let poll_thread = poller(Arc::clone(&done), Arc::clone(&polls));
    let mut off = Vec::new();
    let mut on = Vec::new();
    let mut on_secs = 0.0;
    let started = Instant::now();
    // Warm up once, then alternate so drift hits both sides alike.
    round(false, 1);
    for i in 0..rounds {
        let mut on_round = || {
            let (rates, secs) = round(true, runs);
            on_secs += secs;
            on.extend(rates);
        };
        if i.is_multiple_of(2) {
            off.extend(round(false, runs).0);
            on_round();
        } else {
            on_round();
            off.extend(round(false, runs).0);
        }
    }
    done.store(true, Ordering::Relaxed);
    let _ = poll_thread.join();
    let best = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    let (off_m, on_m) = (median(off.clone()), median(on.clone()));
    let (off_b, on_b) = (best(&off), best(&on));
    println!(
        "refinery, {} messages per run, {} runs each way ({rounds} alternating rounds of {runs}):",
        messages(),
        off.len()
    );
    println!("                                          median          best");
    println!("  control surface off:                {off_m:>10.0}    {off_b:>10.0} msg/s");
    println!(
        "  serving, polled {:>4.1}/s:             {on_m:>10.0}    {on_b:>10.0} msg/s",
        polls.load(Ordering::Relaxed) as f64 / on_secs
    );
    println!(
        "  difference:                         {:>+9.2} %   {:>+9.2} %   (target >= -3 %)",
        (on_m / off_m - 1.0) * 100.0,
        (on_b / off_b - 1.0) * 100.0
    );
    println!("  ({:.1} s)", started.elapsed().as_secs_f64());
}
