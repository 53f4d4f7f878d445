//! Test servers and spec helpers shared by the kernel's integration tests
//! (servers derive `Manifest`; specs are written by hand, no build step).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

// The prelude with the facade's extension traits (`connectome.hostess()`,
// `control.topology()`) for every test; each test binary uses a part.
#[allow(unused_imports)]
pub use kernel::prelude::*;
use kernel::terminal::{Consumer, Producer};
use kernel::{
    Auth, Endpoint, KernelBuilder, KernelSpec, PipeSpec, Restart, ServerManifest, ServerSpec, Spec,
    Uuid,
};

/// Stands in for a server type's manifest where a spec is written by hand.
pub static TEST_MANIFEST: ServerManifest = ServerManifest {
    name: "test",
    class: 1,
    owner: "test",
    auth: Auth::No,
    auth_mechanism: "none",
    terminals: &[],
};

pub const fn server(
    name: &'static str,
    type_path: &'static str,
    restart: Restart,
    config: Option<&'static str>,
) -> ServerSpec {
    ServerSpec {
        name,
        type_path,
        manifest: &TEST_MANIFEST,
        uuid: Uuid::from_u128(0),
        identity: "localhost:test:0x00000001:test:no:none:00000000-0000-0000-0000-000000000000",
        restart,
        config,
    }
}

pub const fn pipe(
    id: u128,
    from: (&'static str, &'static str),
    to: (&'static str, &'static str),
    capacity: usize,
) -> PipeSpec {
    PipeSpec {
        id: Uuid::from_u128(id),
        from: Endpoint {
            server: from.0,
            terminal: from.1,
        },
        to: Endpoint {
            server: to.0,
            terminal: to.1,
        },
        capacity,
    }
}

/// The rest of a hand-written spec (`Spec { kernel, servers, pipes, ..PLAIN }`):
/// no control surface, external processes, mesh or routes.
pub const PLAIN: Spec = Spec {
    kernel: kernel("plain"),
    servers: &[],
    pipes: &[],
    control: None,
    processes: &[],
    mesh: None,
    routes: &[],
    source: None,
};

pub const fn kernel(name: &'static str) -> KernelSpec {
    KernelSpec {
        name,
        fqdn: "localhost",
        owner: "test",
    }
}

/// Connecting a hand-written spec's pipes by their endpoints, where
/// generated code connects them by index.
pub trait ConnectNamed {
    /// Connects the pipe of the spec from `from` to `to` (both
    /// `server.terminal`); a pipe the spec does not have goes to the
    /// builder as an index past the end, which it refuses.
    fn connect_named<P: Producer, C: Consumer<Message = P::Message>>(
        &mut self,
        from: &str,
        to: &str,
    ) -> Result<&mut Self, kernel::Error>;
}

impl ConnectNamed for KernelBuilder {
    fn connect_named<P: Producer, C: Consumer<Message = P::Message>>(
        &mut self,
        from: &str,
        to: &str,
    ) -> Result<&mut Self, kernel::Error> {
        let pipes = self.spec().pipes;
        let index = pipes
            .iter()
            .position(|p| p.from.to_string() == from && p.to.to_string() == to)
            .unwrap_or(pipes.len());
        let ends = kernel::__private::ends(
            kernel::__private::Port::<P>::new(),
            kernel::__private::Port::<C>::new(),
        );
        self.connect(index, ends)
    }
}

/// What sinks received, by "<kernel>/<instance>".
static RECEIVED: Mutex<BTreeMap<String, Vec<u64>>> = Mutex::new(BTreeMap::new());

fn received_map() -> MutexGuard<'static, BTreeMap<String, Vec<u64>>> {
    RECEIVED.lock().unwrap_or_else(|e| e.into_inner())
}

fn key(ctx: &Context) -> String {
    format!("{}/{}", ctx.connectome().spec().kernel.name, ctx.name())
}

/// Records `v` as received by the server of `ctx`, at once, so a running
/// kernel's sinks can be read while they run.
pub fn record(ctx: &Context, v: u64) {
    received_map().entry(key(ctx)).or_default().push(v);
}

/// Everything the sink `instance` of kernel `kernel` received, in order.
pub fn received(kernel: &str, instance: &str) -> Vec<u64> {
    received_map()
        .get(&format!("{kernel}/{instance}"))
        .cloned()
        .unwrap_or_default()
}

#[derive(serde::Deserialize, Default)]
pub struct CountConfig {
    #[serde(default)]
    pub count: u64,
    /// Put in the upper 32 bits of every message.
    #[serde(default)]
    pub tag: u64,
    /// Sleep this many milliseconds per message (slow consumers).
    #[serde(default)]
    pub delay_ms: u64,
    /// Panic in this many first runs (restart tests).
    #[serde(default)]
    pub panics: u32,
}

/// Sends `(tag << 32) | i` for i in 0..count on an `Output`.
#[derive(Manifest)]
#[manifest(class = 1, owner = "test")]
pub struct Source {
    pub out: Output<u64>,
    config: CountConfig,
}

impl Server for Source {
    type Config = CountConfig;
    fn new(config: CountConfig) -> Self {
        Source {
            out: Output::default(),
            config,
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        for i in 0..self.config.count {
            self.out.send((self.config.tag << 32) | i)?;
        }
        Ok(())
    }
}

/// Sends 0..count on a `Multiplex`.
#[derive(Manifest)]
#[manifest(class = 1, owner = "test")]
pub struct FanSource {
    pub out: Multiplex<u64>,
    count: u64,
}

impl Server for FanSource {
    type Config = CountConfig;
    fn new(config: CountConfig) -> Self {
        FanSource {
            out: Multiplex::default(),
            count: config.count,
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        for i in 0..self.count {
            self.out.send(i)?;
        }
        Ok(())
    }
}

/// Sends until the kernel stops.
#[derive(Manifest)]
#[manifest(class = 1, owner = "test")]
pub struct Forever {
    pub out: Output<u64>,
}

impl Server for Forever {
    type Config = CountConfig;
    fn new(_: CountConfig) -> Self {
        Forever {
            out: Output::default(),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        let mut i = 0;
        while !ctx.stopping() {
            self.out.send(i)?;
            i += 1;
        }
        Ok(())
    }
}

/// Records every message of an `Input` as it arrives, until end of stream.
#[derive(Manifest)]
#[manifest(class = 1, owner = "test")]
pub struct Sink {
    pub input: Input<u64>,
    delay: Duration,
}

impl Server for Sink {
    type Config = CountConfig;
    fn new(config: CountConfig) -> Self {
        Sink {
            input: Input::default(),
            delay: Duration::from_millis(config.delay_ms),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        while let Some(v) = self.input.recv() {
            record(ctx, v);
            if !self.delay.is_zero() {
                std::thread::sleep(self.delay);
            }
        }
        Ok(())
    }
}

/// Records every message of a `Combine` as it arrives, until end of stream.
#[derive(Manifest)]
#[manifest(class = 1, owner = "test")]
pub struct Merge {
    pub inputs: Combine<u64>,
}

impl Server for Merge {
    type Config = CountConfig;
    fn new(_: CountConfig) -> Self {
        Merge {
            inputs: Combine::default(),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        for v in self.inputs.iter() {
            record(ctx, v);
        }
        Ok(())
    }
}

/// Sends `count` messages per run, panicking after them in its first
/// `panics` runs; with `panics` beyond the restart limit it never succeeds.
#[derive(Manifest)]
#[manifest(class = 1, owner = "test")]
pub struct Flaky {
    pub out: Output<u64>,
    config: CountConfig,
}

impl Server for Flaky {
    type Config = CountConfig;
    fn new(config: CountConfig) -> Self {
        Flaky {
            out: Output::default(),
            config,
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        let run = ctx.restarts();
        for i in 0..self.config.count {
            self.out.send(u64::from(run) * 1000 + i)?;
        }
        if run < self.config.panics {
            panic!("flaky run {run} panics on purpose");
        }
        Ok(())
    }
}
