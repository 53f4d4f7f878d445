//! The servers of the benchmark kernels, one set per payload.
//!
//! The derive does not take generic servers, so each payload has its own
//! structs; their `run` bodies call the same generic loops, and do the same
//! work per message as the hand-written baselines in [`crate::baseline`]
//! and [`crate::floor`]. With [`set_batched`] the servers use the
//! terminals' batch calls (`Output::send_all`, `recv_batch`), as the
//! batched floor does; otherwise one `send` / `recv` per message.

use std::sync::atomic::{AtomicBool, Ordering};

use kernel::prelude::*;
use serde::Deserialize;

use crate::messages;
use crate::payload::{Kib, Payload, PooledKib, Tally};

/// Messages a batched server moves per call at most.
pub const BATCH: usize = 1024;

static BATCHED: AtomicBool = AtomicBool::new(false);

/// Whether the servers built from now on use the batch calls.
pub fn set_batched(on: bool) {
    BATCHED.store(on, Ordering::Relaxed);
}

fn batched() -> bool {
    BATCHED.load(Ordering::Relaxed)
}

/// The config of a sink: how many sources feed it (each sends
/// [`messages()`](crate::messages) messages).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SinkConfig {
    pub sources: u64,
}

impl Default for SinkConfig {
    fn default() -> Self {
        SinkConfig { sources: 1 }
    }
}

fn produce<P: Payload>(out: &Output<P>, pool: &FramePool) -> Result<(), ServerError> {
    if batched() {
        out.send_all((0..messages()).map(|seq| P::make(seq, pool)))?;
    } else {
        for seq in 0..messages() {
            out.send(P::make(seq, pool))?;
        }
    }
    Ok(())
}

fn broadcast<P: Payload>(out: &Multiplex<P>, pool: &FramePool) -> Result<(), ServerError> {
    if batched() {
        out.send_all((0..messages()).map(|seq| P::make(seq, pool)))?;
    } else {
        for seq in 0..messages() {
            out.send(P::make(seq, pool))?;
        }
    }
    Ok(())
}

fn relay<P: Payload>(input: &Input<P>, out: &Output<P>) -> Result<(), ServerError> {
    if batched() {
        let mut batch = Vec::with_capacity(BATCH);
        while input.recv_batch(&mut batch, BATCH) > 0 {
            out.send_all(batch.drain(..))?;
        }
    } else {
        while let Some(msg) = input.recv() {
            out.send(msg)?;
        }
    }
    Ok(())
}

fn consume<P: Payload>(
    sources: u64,
    mut recv: impl FnMut() -> Option<P>,
    mut drain: impl FnMut(&mut Tally) -> usize,
) -> Result<(), ServerError> {
    let mut tally = Tally::default();
    if batched() {
        while drain(&mut tally) > 0 {}
    } else {
        while let Some(msg) = recv() {
            tally.add(&msg);
        }
    }
    tally
        .check(Tally::expected(messages(), sources))
        .map_err(ServerError::from)
}

// ---- u64 ----

/// Sends `0..messages()`.
#[derive(Manifest)]
#[manifest(class = 0x0b01, owner = "bench")]
pub struct SourceU64 {
    pub out: Output<u64>,
}

impl Server for SourceU64 {
    type Config = ();
    fn new((): ()) -> Self {
        SourceU64 {
            out: Output::default(),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        produce(&self.out, ctx.frames())
    }
}

/// Sends `0..messages()` to every consumer.
#[derive(Manifest)]
#[manifest(class = 0x0b02, owner = "bench")]
pub struct BroadcastU64 {
    pub out: Multiplex<u64>,
}

impl Server for BroadcastU64 {
    type Config = ();
    fn new((): ()) -> Self {
        BroadcastU64 {
            out: Multiplex::default(),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        broadcast(&self.out, ctx.frames())
    }
}

/// Forwards every message.
#[derive(Manifest)]
#[manifest(class = 0x0b03, owner = "bench")]
pub struct StageU64 {
    pub input: Input<u64>,
    pub out: Output<u64>,
}

impl Server for StageU64 {
    type Config = ();
    fn new((): ()) -> Self {
        StageU64 {
            input: Input::default(),
            out: Output::default(),
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        relay(&self.input, &self.out)
    }
}

/// Counts and checks what arrives.
#[derive(Manifest)]
#[manifest(class = 0x0b04, owner = "bench")]
pub struct SinkU64 {
    pub input: Input<u64>,
    sources: u64,
}

impl Server for SinkU64 {
    type Config = SinkConfig;
    fn new(config: SinkConfig) -> Self {
        SinkU64 {
            input: Input::default(),
            sources: config.sources,
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        let input = &self.input;
        consume(
            self.sources,
            || input.recv(),
            |t| input.recv_each(BATCH, |m| t.add(&m)),
        )
    }
}

/// Counts and checks the union of its producers.
#[derive(Manifest)]
#[manifest(class = 0x0b05, owner = "bench")]
pub struct MergeU64 {
    pub input: Combine<u64>,
    sources: u64,
}

impl Server for MergeU64 {
    type Config = SinkConfig;
    fn new(config: SinkConfig) -> Self {
        MergeU64 {
            input: Combine::default(),
            sources: config.sources,
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        let input = &self.input;
        consume(
            self.sources,
            || input.recv(),
            |t| input.recv_each(BATCH, |m| t.add(&m)),
        )
    }
}

// ---- 1 KiB by value ----

/// Sends `0..messages()`.
#[derive(Manifest)]
#[manifest(class = 0x0b11, owner = "bench")]
pub struct SourceKib {
    pub out: Output<Kib>,
}

impl Server for SourceKib {
    type Config = ();
    fn new((): ()) -> Self {
        SourceKib {
            out: Output::default(),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        produce(&self.out, ctx.frames())
    }
}

/// Sends `0..messages()` to every consumer.
#[derive(Manifest)]
#[manifest(class = 0x0b12, owner = "bench")]
pub struct BroadcastKib {
    pub out: Multiplex<Kib>,
}

impl Server for BroadcastKib {
    type Config = ();
    fn new((): ()) -> Self {
        BroadcastKib {
            out: Multiplex::default(),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        broadcast(&self.out, ctx.frames())
    }
}

/// Forwards every message.
#[derive(Manifest)]
#[manifest(class = 0x0b13, owner = "bench")]
pub struct StageKib {
    pub input: Input<Kib>,
    pub out: Output<Kib>,
}

impl Server for StageKib {
    type Config = ();
    fn new((): ()) -> Self {
        StageKib {
            input: Input::default(),
            out: Output::default(),
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        relay(&self.input, &self.out)
    }
}

/// Counts and checks what arrives.
#[derive(Manifest)]
#[manifest(class = 0x0b14, owner = "bench")]
pub struct SinkKib {
    pub input: Input<Kib>,
    sources: u64,
}

impl Server for SinkKib {
    type Config = SinkConfig;
    fn new(config: SinkConfig) -> Self {
        SinkKib {
            input: Input::default(),
            sources: config.sources,
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        let input = &self.input;
        consume(
            self.sources,
            || input.recv(),
            |t| input.recv_each(BATCH, |m| t.add(&m)),
        )
    }
}

/// Counts and checks the union of its producers.
#[derive(Manifest)]
#[manifest(class = 0x0b15, owner = "bench")]
pub struct MergeKib {
    pub input: Combine<Kib>,
    sources: u64,
}

impl Server for MergeKib {
    type Config = SinkConfig;
    fn new(config: SinkConfig) -> Self {
        MergeKib {
            input: Combine::default(),
            sources: config.sources,
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        let input = &self.input;
        consume(
            self.sources,
            || input.recv(),
            |t| input.recv_each(BATCH, |m| t.add(&m)),
        )
    }
}

// ---- 1 KiB in a pooled frame ----

/// Sends `0..messages()`.
#[derive(Manifest)]
#[manifest(class = 0x0b21, owner = "bench")]
pub struct SourceFrame {
    pub out: Output<PooledKib>,
}

impl Server for SourceFrame {
    type Config = ();
    fn new((): ()) -> Self {
        SourceFrame {
            out: Output::default(),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        produce(&self.out, ctx.frames())
    }
}

/// Sends `0..messages()` to every consumer.
#[derive(Manifest)]
#[manifest(class = 0x0b22, owner = "bench")]
pub struct BroadcastFrame {
    pub out: Multiplex<PooledKib>,
}

impl Server for BroadcastFrame {
    type Config = ();
    fn new((): ()) -> Self {
        BroadcastFrame {
            out: Multiplex::default(),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        broadcast(&self.out, ctx.frames())
    }
}

/// Forwards every message.
#[derive(Manifest)]
#[manifest(class = 0x0b23, owner = "bench")]
pub struct StageFrame {
    pub input: Input<PooledKib>,
    pub out: Output<PooledKib>,
}

impl Server for StageFrame {
    type Config = ();
    fn new((): ()) -> Self {
        StageFrame {
            input: Input::default(),
            out: Output::default(),
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        relay(&self.input, &self.out)
    }
}

/// Counts and checks what arrives.
#[derive(Manifest)]
#[manifest(class = 0x0b24, owner = "bench")]
pub struct SinkFrame {
    pub input: Input<PooledKib>,
    sources: u64,
}

impl Server for SinkFrame {
    type Config = SinkConfig;
    fn new(config: SinkConfig) -> Self {
        SinkFrame {
            input: Input::default(),
            sources: config.sources,
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        let input = &self.input;
        consume(
            self.sources,
            || input.recv(),
            |t| input.recv_each(BATCH, |m| t.add(&m)),
        )
    }
}

/// Counts and checks the union of its producers.
#[derive(Manifest)]
#[manifest(class = 0x0b25, owner = "bench")]
pub struct MergeFrame {
    pub input: Combine<PooledKib>,
    sources: u64,
}

impl Server for MergeFrame {
    type Config = SinkConfig;
    fn new(config: SinkConfig) -> Self {
        MergeFrame {
            input: Combine::default(),
            sources: config.sources,
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        let input = &self.input;
        consume(
            self.sources,
            || input.recv(),
            |t| input.recv_each(BATCH, |m| t.add(&m)),
        )
    }
}
