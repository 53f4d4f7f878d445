//! Servers of the chaos kernel (`wiring/chaos_kernel.toml`): sources that number
//! their messages, a relay written the idiomatic way (`send(x)?`), sinks
//! that record what reached them, and a ledger the test checks at the end.
//! Every server fails now and then between two messages (never while it
//! holds one), as a crashing server would.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use kernel::prelude::*;
use serde::Deserialize;

/// One numbered message: which source sent it, and its sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Numbered {
    pub source: u32,
    pub seq: u64,
}

/// What the chaos kernel did, for the checker: per source the next sequence
/// number (so a restarted source goes on counting), per sink what arrived.
#[derive(Debug, Default)]
pub struct Ledger {
    pub sent: BTreeMap<u32, u64>,
    pub received: BTreeMap<String, Vec<Numbered>>,
}

pub static LEDGER: Mutex<Ledger> = Mutex::new(Ledger {
    sent: BTreeMap::new(),
    received: BTreeMap::new(),
});

/// One in this many loop turns a server fails; 0: never. Set by the test.
pub static FAIL_ONE_IN: AtomicU64 = AtomicU64::new(0);

fn ledger() -> std::sync::MutexGuard<'static, Ledger> {
    LEDGER.lock().unwrap_or_else(|e| e.into_inner())
}

/// A cheap per-thread random stream for the failures (seeded by the test
/// through `FAIL_SEED`, so a run can be repeated).
pub static FAIL_SEED: AtomicU64 = AtomicU64::new(1);

fn should_fail(state: &mut u64) -> bool {
    let one_in = FAIL_ONE_IN.load(Ordering::Relaxed);
    if one_in == 0 {
        return false;
    }
    // splitmix64
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)).is_multiple_of(one_in)
}

fn fail_state(ctx: &Context) -> u64 {
    let name = ctx
        .name()
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31) ^ u64::from(b));
    FAIL_SEED.load(Ordering::Relaxed) ^ name ^ (u64::from(ctx.restarts()) << 32)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub source: u32,
}

/// Sends `Numbered { source, seq }` with `seq` counting up across restarts,
/// until the kernel stops. A message the pipe hands back (disconnected,
/// paused and asked to stop) is sent again: a source never skips a number.
#[derive(Manifest)]
#[manifest(class = 0x0c01, owner = "test")]
pub struct Source {
    pub out: Output<Numbered>,
    source: u32,
}

impl Server for Source {
    type Config = SourceConfig;
    fn new(config: SourceConfig) -> Self {
        Source {
            out: Output::default(),
            source: config.source,
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        let mut fail = fail_state(ctx);
        while !ctx.stopping() {
            if should_fail(&mut fail) {
                return Err(ServerError::msg("chaos: a source fails"));
            }
            let seq = *ledger().sent.entry(self.source).or_default();
            let message = Numbered {
                source: self.source,
                seq,
            };
            match self.out.send(message) {
                Ok(()) => {
                    ledger().sent.insert(self.source, seq + 1);
                }
                // Handed back: not sent. Asked to end, or no consumer now.
                Err(_) if ctx.stopping() => break,
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(1)),
            }
        }
        Ok(())
    }
}

/// The same on a `Multiplex`: every consumer gets every message.
#[derive(Manifest)]
#[manifest(class = 0x0c02, owner = "test")]
pub struct FanSource {
    pub out: Multiplex<Numbered>,
    source: u32,
}

impl Server for FanSource {
    type Config = SourceConfig;
    fn new(config: SourceConfig) -> Self {
        FanSource {
            out: Multiplex::default(),
            source: config.source,
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        let mut fail = fail_state(ctx);
        while !ctx.stopping() {
            if should_fail(&mut fail) {
                return Err(ServerError::msg("chaos: a fan source fails"));
            }
            let seq = *ledger().sent.entry(self.source).or_default();
            let message = Numbered {
                source: self.source,
                seq,
            };
            match self.out.send(message) {
                Ok(()) => {
                    ledger().sent.insert(self.source, seq + 1);
                }
                Err(_) if ctx.stopping() => break,
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(1)),
            }
        }
        Ok(())
    }
}

/// Passes every message on, written as the README writes servers.
#[derive(Manifest)]
#[manifest(class = 0x0c03, owner = "test")]
pub struct Relay {
    pub input: Input<Numbered>,
    pub output: Output<Numbered>,
}

impl Server for Relay {
    type Config = ();
    fn new(_: ()) -> Self {
        Relay {
            input: Input::default(),
            output: Output::default(),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        let mut fail = fail_state(ctx);
        while let Some(message) = self.input.recv() {
            self.output.send(message)?;
            if should_fail(&mut fail) {
                return Err(ServerError::msg("chaos: the relay fails"));
            }
        }
        Ok(())
    }
}

/// Records every message that reaches it, under its instance name.
#[derive(Manifest)]
#[manifest(class = 0x0c04, owner = "test")]
pub struct Sink {
    pub inputs: Combine<Numbered>,
}

impl Server for Sink {
    type Config = ();
    fn new(_: ()) -> Self {
        Sink {
            inputs: Combine::default(),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        let mut fail = fail_state(ctx);
        while let Some(message) = self.inputs.recv() {
            ledger()
                .received
                .entry(ctx.name().to_owned())
                .or_default()
                .push(message);
            if should_fail(&mut fail) {
                return Err(ServerError::msg("chaos: a sink fails"));
            }
        }
        Ok(())
    }
}
