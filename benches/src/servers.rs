//! The servers of the benchmark kernels, one set per payload.
//!
//! The derive does not take generic servers, so each payload has its own
//! structs; their `run` bodies call the same generic loops as the
//! hand-written baseline in [`crate::baseline`], so both sides do the same
//! work per message.

use kernel::prelude::*;
use serde::Deserialize;

use crate::messages;
use crate::payload::{Kib, Payload, SharedKib, Tally};

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

fn produce<P: Payload>(
    mut send: impl FnMut(P) -> Result<(), ServerError>,
) -> Result<(), ServerError> {
    for seq in 0..messages() {
        send(P::make(seq))?;
    }
    Ok(())
}

fn consume<P: Payload>(
    sources: u64,
    mut recv: impl FnMut() -> Option<P>,
) -> Result<(), ServerError> {
    let mut tally = Tally::default();
    while let Some(msg) = recv() {
        tally.add(&msg);
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
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        produce::<u64>(|m| Ok(self.out.send(m)?))
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
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        produce::<u64>(|m| Ok(self.out.send(m)?))
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
        while let Some(msg) = self.input.recv() {
            self.out.send(msg)?;
        }
        Ok(())
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
        consume::<u64>(self.sources, || self.input.recv())
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
        consume::<u64>(self.sources, || self.input.recv())
    }
}

// ---- 1 KiB ----

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
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        produce::<Kib>(|m| Ok(self.out.send(m)?))
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
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        produce::<Kib>(|m| Ok(self.out.send(m)?))
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
        while let Some(msg) = self.input.recv() {
            self.out.send(msg)?;
        }
        Ok(())
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
        consume::<Kib>(self.sources, || self.input.recv())
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
        consume::<Kib>(self.sources, || self.input.recv())
    }
}

// ---- 1 KiB in an Arc ----

/// Sends `0..messages()`.
#[derive(Manifest)]
#[manifest(class = 0x0b21, owner = "bench")]
pub struct SourceSharedKib {
    pub out: Output<SharedKib>,
}

impl Server for SourceSharedKib {
    type Config = ();
    fn new((): ()) -> Self {
        SourceSharedKib {
            out: Output::default(),
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        produce::<SharedKib>(|m| Ok(self.out.send(m)?))
    }
}

/// Sends `0..messages()` to every consumer.
#[derive(Manifest)]
#[manifest(class = 0x0b22, owner = "bench")]
pub struct BroadcastSharedKib {
    pub out: Multiplex<SharedKib>,
}

impl Server for BroadcastSharedKib {
    type Config = ();
    fn new((): ()) -> Self {
        BroadcastSharedKib {
            out: Multiplex::default(),
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        produce::<SharedKib>(|m| Ok(self.out.send(m)?))
    }
}

/// Forwards every message.
#[derive(Manifest)]
#[manifest(class = 0x0b23, owner = "bench")]
pub struct StageSharedKib {
    pub input: Input<SharedKib>,
    pub out: Output<SharedKib>,
}

impl Server for StageSharedKib {
    type Config = ();
    fn new((): ()) -> Self {
        StageSharedKib {
            input: Input::default(),
            out: Output::default(),
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        while let Some(msg) = self.input.recv() {
            self.out.send(msg)?;
        }
        Ok(())
    }
}

/// Counts and checks what arrives.
#[derive(Manifest)]
#[manifest(class = 0x0b24, owner = "bench")]
pub struct SinkSharedKib {
    pub input: Input<SharedKib>,
    sources: u64,
}

impl Server for SinkSharedKib {
    type Config = SinkConfig;
    fn new(config: SinkConfig) -> Self {
        SinkSharedKib {
            input: Input::default(),
            sources: config.sources,
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        consume::<SharedKib>(self.sources, || self.input.recv())
    }
}

/// Counts and checks the union of its producers.
#[derive(Manifest)]
#[manifest(class = 0x0b25, owner = "bench")]
pub struct MergeSharedKib {
    pub input: Combine<SharedKib>,
    sources: u64,
}

impl Server for MergeSharedKib {
    type Config = SinkConfig;
    fn new(config: SinkConfig) -> Self {
        MergeSharedKib {
            input: Combine::default(),
            sources: config.sources,
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        consume::<SharedKib>(self.sources, || self.input.recv())
    }
}
