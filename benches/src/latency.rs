//! Latency at a fixed rate: a source sends one message every `1 / rate`
//! seconds (sleeping in between, as a sensor would), each message the time it
//! was sent; the sink records how long each took to arrive. Run by the
//! `latency` binary, as the generated kernel `latency_u64`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use kernel::prelude::*;

static RATE: AtomicU64 = AtomicU64::new(10_000);
static COUNT: AtomicU64 = AtomicU64::new(20_000);
static SAMPLES: Mutex<Vec<u64>> = Mutex::new(Vec::new());

/// Messages per second and how many the next run sends.
pub fn configure(rate: u64, count: u64) {
    RATE.store(rate.max(1), Ordering::Relaxed);
    COUNT.store(count, Ordering::Relaxed);
}

/// Nanoseconds since the first call in this process.
pub fn now_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Sends `count` timestamps at `rate`, one `send` call each; `send` gets the
/// send time in ns.
pub fn pace(mut send: impl FnMut(u64) -> bool) {
    let period = Duration::from_nanos(1_000_000_000 / RATE.load(Ordering::Relaxed));
    let start = Instant::now();
    for i in 0..COUNT.load(Ordering::Relaxed) {
        let due = start + period * u32::try_from(i).unwrap_or(u32::MAX);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        if !send(now_ns()) {
            return;
        }
    }
}

/// Records one arrival of a message sent at `sent_ns`.
pub struct Recorder(Vec<u64>);

impl Recorder {
    pub fn new() -> Self {
        Recorder(Vec::with_capacity(COUNT.load(Ordering::Relaxed) as usize))
    }
    #[inline]
    pub fn arrived(&mut self, sent_ns: u64) {
        self.0.push(now_ns().saturating_sub(sent_ns));
    }
    pub fn publish(self) {
        *SAMPLES.lock().unwrap_or_else(PoisonError::into_inner) = self.0;
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new()
    }
}

/// The latencies of the last run, in ns, sorted.
pub fn take_samples() -> Vec<u64> {
    let mut v = std::mem::take(&mut *SAMPLES.lock().unwrap_or_else(PoisonError::into_inner));
    v.sort_unstable();
    v
}

/// The `q` quantile (0..=1) of sorted samples.
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Sends a timestamp at the configured rate.
#[derive(Manifest)]
#[manifest(class = 0x0b31, owner = "bench")]
pub struct PacedSource {
    pub out: Output<u64>,
}

impl Server for PacedSource {
    type Config = ();
    fn new((): ()) -> Self {
        PacedSource {
            out: Output::default(),
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        pace(|t| self.out.send(t).is_ok());
        Ok(())
    }
}

/// Records the latency of every message.
#[derive(Manifest)]
#[manifest(class = 0x0b32, owner = "bench")]
pub struct LatencySink {
    pub input: Input<u64>,
}

impl Server for LatencySink {
    type Config = ();
    fn new((): ()) -> Self {
        LatencySink {
            input: Input::default(),
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        let mut recorder = Recorder::new();
        while let Some(t) = self.input.recv() {
            recorder.arrived(t);
        }
        recorder.publish();
        Ok(())
    }
}
