//! A small running kernel for the control surface tests: a ticking
//! source, a fan-out source, sinks that check the sequence they receive,
//! a combiner and a spare input, all hand-wired (no build step).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

// The prelude with the facade's extension traits (`connectome.hostess()`,
// `control.topology()`) for every test; each test binary uses a part.
#[allow(unused_imports)]
pub use kernel::prelude::*;
use kernel::{KernelBuilder, KernelSpec, PipeSpec, Restart, ServerSpec, Spec, Uuid};

// Each test binary uses a part.
#[allow(unused_imports)]
pub use crate::common::{ConnectNamed, Merge, Sink, TEST_MANIFEST, received, record};

#[derive(serde::Deserialize, Default)]
pub struct TickConfig {
    /// Microseconds between two messages.
    #[serde(default)]
    pub every_us: u64,
}

/// Sends 0, 1, 2, ... until asked to stop; a restart goes on counting.
#[derive(Manifest)]
#[manifest(class = 1, owner = "test")]
pub struct Ticker {
    pub out: Output<u64>,
    every: Duration,
}

static NEXT: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

fn next_of(ctx: &Context) -> u64 {
    let key = format!("{}/{}", ctx.connectome().spec().kernel.name, ctx.name());
    *NEXT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_default()
}

fn set_next(ctx: &Context, v: u64) {
    let key = format!("{}/{}", ctx.connectome().spec().kernel.name, ctx.name());
    NEXT.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, v);
}

impl Server for Ticker {
    type Config = TickConfig;
    fn new(config: TickConfig) -> Self {
        Ticker {
            out: Output::default(),
            every: Duration::from_micros(config.every_us),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        let mut i = next_of(ctx);
        while !ctx.stopping() {
            match self.out.send(i) {
                Ok(()) => i += 1,
                // Disconnected and the kernel stops: the message comes back.
                Err(_) if ctx.stopping() => break,
                Err(e) => {
                    set_next(ctx, i);
                    return Err(e.into());
                }
            }
            set_next(ctx, i);
            if !self.every.is_zero() {
                std::thread::sleep(self.every);
            }
        }
        Ok(())
    }
}

/// The same on a `Multiplex`.
#[derive(Manifest)]
#[manifest(class = 1, owner = "test")]
pub struct FanTicker {
    pub out: Multiplex<u64>,
    every: Duration,
}

impl Server for FanTicker {
    type Config = TickConfig;
    fn new(config: TickConfig) -> Self {
        FanTicker {
            out: Multiplex::default(),
            every: Duration::from_micros(config.every_us),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        let mut i = next_of(ctx);
        while !ctx.stopping() {
            self.out.send(i)?;
            i += 1;
            set_next(ctx, i);
            if !self.every.is_zero() {
                std::thread::sleep(self.every);
            }
        }
        Ok(())
    }
}

/// Sends strings (for a type mismatch).
#[derive(Manifest)]
#[manifest(class = 1, owner = "test")]
pub struct Words {
    pub out: Output<String>,
}

impl Server for Words {
    type Config = TickConfig;
    fn new(_: TickConfig) -> Self {
        Words {
            out: Output::default(),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        while !ctx.stopping() {
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }
}

/// Records every message of its `Input`; an input unconnected at boot is
/// at end of stream, so it keeps asking until it is connected at run time.
#[derive(Manifest)]
#[manifest(class = 1, owner = "test")]
pub struct Patient {
    pub input: Input<u64>,
}

impl Server for Patient {
    type Config = TickConfig;
    fn new(_: TickConfig) -> Self {
        Patient {
            input: Input::default(),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        while !ctx.stopping() {
            match self.input.recv() {
                Some(v) => record(ctx, v),
                None => std::thread::sleep(Duration::from_millis(2)),
            }
        }
        Ok(())
    }
}

const fn server(name: &'static str) -> ServerSpec {
    ServerSpec {
        name,
        type_path: "test",
        manifest: &TEST_MANIFEST,
        uuid: Uuid::from_u128(0),
        identity: "localhost:test:0x00000001:test:no:none:00000000-0000-0000-0000-000000000000",
        restart: Restart::Never,
        config: Some("every_us = 200\n"),
    }
}

/// A pipe of capacity 64; see `common::pipe`.
const fn pipe(
    id: u128,
    from: (&'static str, &'static str),
    to: (&'static str, &'static str),
) -> PipeSpec {
    crate::common::pipe(id, from, to, 64)
}

/// The plant as kernel `name`: `src -> a`, `fan -> b`, `fan -> merge`,
/// and `spare`, `words` unconnected.
pub fn spec(name: &'static str) -> &'static Spec {
    spec_of(name, &SERVERS, &PIPES)
}

/// A kernel `name` of these servers and pipes.
pub fn spec_of(
    name: &'static str,
    servers: &'static [ServerSpec],
    pipes: &'static [PipeSpec],
) -> &'static Spec {
    Box::leak(Box::new(Spec {
        kernel: KernelSpec {
            name,
            fqdn: "localhost",
            owner: "test",
        },
        servers,
        pipes,
        control: None,
        processes: &[],
        mesh: None,
        routes: &[],
        source: None,
    }))
}

pub static SERVERS: [ServerSpec; 7] = [
    server("src"),
    server("fan"),
    server("a"),
    server("b"),
    server("merge"),
    server("spare"),
    server("words"),
];

pub static PIPES: [PipeSpec; 3] = [
    pipe(1, ("src", "out"), ("a", "input")),
    pipe(2, ("fan", "out"), ("b", "input")),
    pipe(3, ("fan", "out"), ("merge", "inputs")),
];

pub const SRC_A: Uuid = Uuid::from_u128(1);
pub const FAN_B: Uuid = Uuid::from_u128(2);
pub const FAN_MERGE: Uuid = Uuid::from_u128(3);

/// The same plant as kernel `name`, with every server a proper Hostess
/// guest (as a generated kernel has them): its own uuid, an identity naming
/// it, and the manifest of its type, so that booking at boot succeeds.
pub fn hosted_spec(name: &'static str) -> &'static Spec {
    let types: [(&'static str, &'static kernel::ServerManifest); 7] = [
        ("src", &<Ticker as kernel::Manifest>::MANIFEST),
        ("fan", &<FanTicker as kernel::Manifest>::MANIFEST),
        ("a", &<Sink as kernel::Manifest>::MANIFEST),
        ("b", &<Sink as kernel::Manifest>::MANIFEST),
        ("merge", &<Merge as kernel::Manifest>::MANIFEST),
        ("spare", &<Patient as kernel::Manifest>::MANIFEST),
        ("words", &<Words as kernel::Manifest>::MANIFEST),
    ];
    spec_of(name, guests(name, &types, "every_us = 200\n"), &PIPES)
}

/// Server instances of kernel `kernel` that are proper Hostess guests: for
/// each `(instance, manifest of its type)`, its own uuid and an identity
/// naming it; each with `config`.
pub fn guests(
    kernel: &'static str,
    types: &[(&'static str, &'static kernel::ServerManifest)],
    config: &'static str,
) -> &'static [ServerSpec] {
    let servers: Vec<ServerSpec> = types
        .iter()
        .map(|&(server, manifest)| {
            let uuid = kernel::connectome::server_uuid(kernel, server);
            ServerSpec {
                name: server,
                type_path: "test",
                manifest,
                uuid,
                identity: Box::leak(
                    format!("localhost:{server}:0x00000001:test:no:none:{uuid}").into_boxed_str(),
                ),
                restart: Restart::Never,
                config: Some(config),
            }
        })
        .collect();
    Box::leak(servers.into_boxed_slice())
}

/// A built kernel of `spec` (the plant above), not yet running.
pub fn build(spec: &'static Spec) -> kernel::Kernel {
    let mut b = KernelBuilder::new(spec);
    b.server::<Ticker>("src").unwrap();
    b.server::<FanTicker>("fan").unwrap();
    b.server::<Sink>("a").unwrap();
    b.server::<Sink>("b").unwrap();
    b.server::<Merge>("merge").unwrap();
    b.server::<Patient>("spare").unwrap();
    b.server::<Words>("words").unwrap();
    b.connect_named::<Output<u64>, Input<u64>>("src.out", "a.input")
        .unwrap();
    b.connect_named::<Multiplex<u64>, Input<u64>>("fan.out", "b.input")
        .unwrap();
    b.connect_named::<Multiplex<u64>, Combine<u64>>("fan.out", "merge.inputs")
        .unwrap();
    // The fan's pipes are tappable (as with `tap = true`), `src -> a` not.
    for pipe in [1, 2] {
        b.tap(pipe, kernel::__private::Port::<Multiplex<u64>>::new())
            .unwrap();
    }
    b.build()
        .unwrap()
        .with_signal_handlers(false)
        .with_grace_period(Duration::from_secs(10))
}

/// A running plant: its control handle, stop handle and thread.
pub struct Running {
    pub control: kernel::Control,
    pub stop: kernel::StopHandle,
    pub thread: Option<JoinHandle<Result<(), kernel::Error>>>,
}

impl Running {
    pub fn start(kernel: kernel::Kernel) -> Running {
        let control = kernel.control();
        let stop = kernel.stop_handle();
        let thread = std::thread::spawn(move || kernel.run());
        let running = Running {
            control,
            stop,
            thread: Some(thread),
        };
        running.wait_until("every server runs", |c| {
            c.connectome()
                .servers()
                .iter()
                .all(|s| s.state == kernel::ServerState::Running)
        });
        running
    }

    /// Polls `check` until true (at most 20 s, then panics with `what`).
    pub fn wait_until(&self, what: &str, check: impl Fn(&kernel::Control) -> bool) {
        let start = Instant::now();
        while !check(&self.control) {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "timed out waiting until {what}:\n{:#?}",
                self.control.topology()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits until pipe `id` delivered a few messages, pauses it, and waits
    /// until its producer filled it (capacity 64).
    pub fn pause_when_flowing_until_full(&self, id: Uuid) {
        self.wait_until("the pipe delivers", |c| {
            c.connectome().pipe(id).is_some_and(|p| p.messages_out > 10)
        });
        self.control.pause(id).unwrap();
        // Full, and its producer waiting in `send` (on a loaded machine the
        // producer may not have tried the next send yet when the pipe fills).
        self.wait_until("the paused pipe is full and its producer blocked", |c| {
            c.connectome()
                .pipe(id)
                .is_some_and(|p| p.queue_depth == 64 && p.blocked_now.is_some())
        });
    }

    pub fn pipe(&self, id: Uuid) -> kernel::connectome::PipeStatus {
        self.control.connectome().pipe(id).expect("pipe")
    }

    /// Raises the stop signal and waits for the kernel.
    pub fn finish(mut self) -> Result<(), kernel::Error> {
        self.stop.stop();
        self.thread
            .take()
            .map(|t| t.join().expect("kernel thread"))
            .unwrap_or(Ok(()))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// True when `v` is 0, 1, 2, ... without gap or repeat.
pub fn contiguous(v: &[u64]) -> bool {
    v.iter().enumerate().all(|(i, x)| *x == i as u64)
}
pub mod http;
