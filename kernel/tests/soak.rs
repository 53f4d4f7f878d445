//! Soak of live modification: thousands of connect and disconnect cycles
//! (a `Multiplex` gaining and losing a consumer, an `Output` feeding a
//! `Combine`, capacities changing every cycle, both disconnect modes), half
//! through `kernel.control()` and half over the HTTP control surface, with
//! Hostess reservations made, renewed and released in between. Memory
//! (the bytes allocated and not freed, counted by this binary's allocator,
//! and the resident set), open files and threads must stay bounded: after a
//! warm-up (the event log and the Hostess's memory of ended reservations
//! full) they may not grow with the number of cycles.
//!
//! `SOAK_CYCLES` sets the number of measured cycles (default 1,500).
#![cfg(all(feature = "control", target_os = "linux"))]

mod common;
mod control_common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use control_common::http::request;
use control_common::*;
use kernel::control::DisconnectMode;
use kernel::control::http::ControlOptions;
use kernel::hostess::{ReserveRequest, TerminalRef};
use kernel::{ConnectionState, KernelBuilder, Spec, Uuid};

/// The system allocator, counting the bytes allocated and not yet freed.
struct Counting;

static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; the
// counter is only arithmetic on the sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is the system's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as i64, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(layout.size() as i64, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE_BYTES.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const TOKEN: &str = "soak-token-0123456789";
const KERNEL: &str = "soak";

#[derive(serde::Deserialize, Default)]
pub struct Quiet {}

/// Sends 0, 1, 2, ... with `send` every 100 µs until the kernel stops;
/// without a consumer the message comes back, and is sent again.
fn send_until_stopped(ctx: &Context, mut send: impl FnMut(u64) -> bool) {
    let mut i = 0u64;
    while !ctx.stopping() {
        if send(i) {
            i += 1;
            std::thread::sleep(Duration::from_micros(100));
        } else {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Takes what `recv` gives until the kernel stops, waiting while nothing
/// is connected.
fn take_until_stopped(ctx: &Context, mut recv: impl FnMut() -> Option<u64>) {
    while !ctx.stopping() {
        if recv().is_none() {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Sends on a `Multiplex`.
#[derive(Manifest)]
#[manifest(class = 1, owner = "test")]
pub struct Fan {
    pub out: Multiplex<u64>,
}

impl Server for Fan {
    type Config = Quiet;
    fn new(_: Quiet) -> Self {
        Fan {
            out: Multiplex::default(),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        send_until_stopped(ctx, |i| self.out.send(i).is_ok());
        Ok(())
    }
}

/// Sends on an `Output`.
#[derive(Manifest)]
#[manifest(class = 1, owner = "test")]
pub struct Tick {
    pub out: Output<u64>,
}

impl Server for Tick {
    type Config = Quiet;
    fn new(_: Quiet) -> Self {
        Tick {
            out: Output::default(),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        send_until_stopped(ctx, |i| self.out.send(i).is_ok());
        Ok(())
    }
}

/// Takes from an `Input`.
#[derive(Manifest)]
#[manifest(class = 1, owner = "test")]
pub struct Take {
    pub input: Input<u64>,
}

impl Server for Take {
    type Config = Quiet;
    fn new(_: Quiet) -> Self {
        Take {
            input: Input::default(),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        take_until_stopped(ctx, || self.input.recv());
        Ok(())
    }
}

/// Takes from a `Combine`.
#[derive(Manifest)]
#[manifest(class = 1, owner = "test")]
pub struct Gather {
    pub inputs: Combine<u64>,
}

impl Server for Gather {
    type Config = Quiet;
    fn new(_: Quiet) -> Self {
        Gather {
            inputs: Combine::default(),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        take_until_stopped(ctx, || self.inputs.recv());
        Ok(())
    }
}

/// `fan`, `tick`, `keep` (fed by `fan` from the wiring), `churn` and
/// `gather`, each a Hostess guest.
fn soak_spec() -> &'static Spec {
    static SPEC: OnceLock<&'static Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let types: [(&'static str, &'static kernel::ServerManifest); 5] = [
            ("fan", &<Fan as kernel::Manifest>::MANIFEST),
            ("tick", &<Tick as kernel::Manifest>::MANIFEST),
            ("keep", &<Take as kernel::Manifest>::MANIFEST),
            ("churn", &<Take as kernel::Manifest>::MANIFEST),
            ("gather", &<Gather as kernel::Manifest>::MANIFEST),
        ];
        static PIPES: [kernel::PipeSpec; 1] =
            [common::pipe(1, ("fan", "out"), ("keep", "input"), 64)];
        spec_of(KERNEL, guests(KERNEL, &types, ""), &PIPES)
    })
}

fn soak_kernel() -> kernel::Kernel {
    let mut b = KernelBuilder::new(soak_spec());
    b.server::<Fan>("fan").unwrap();
    b.server::<Tick>("tick").unwrap();
    b.server::<Take>("keep").unwrap();
    b.server::<Take>("churn").unwrap();
    b.server::<Gather>("gather").unwrap();
    b.connect_named::<Multiplex<u64>, Input<u64>>("fan.out", "keep.input")
        .unwrap();
    b.build()
        .unwrap()
        .with_signal_handlers(false)
        .with_grace_period(Duration::from_secs(10))
}

/// Heap bytes in use, resident set in bytes, open files and threads of
/// this process.
#[derive(Debug, Clone, Copy)]
struct Usage {
    heap: i64,
    rss: u64,
    files: usize,
    threads: usize,
}

fn usage() -> Usage {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages");
    // SAFETY: sysconf only reads a system constant.
    let page = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    let files = std::fs::read_dir("/proc/self/fd").expect("fds").count();
    let threads = std::fs::read_dir("/proc/self/task").expect("tasks").count();
    Usage {
        heap: LIVE_BYTES.load(Ordering::Relaxed),
        rss: pages * page,
        files,
        threads,
    }
}

struct Soak {
    running: Running,
    addr: SocketAddr,
    churn: Uuid,
}

impl Soak {
    /// Connects `from` to `to` with `capacity`, over HTTP or in process.
    fn connect(&self, http: bool, from: &str, to: &str, capacity: usize) -> Uuid {
        if http {
            let r = request(
                self.addr,
                "POST",
                "/api/v1/connections",
                &[
                    ("Authorization", &format!("Bearer {TOKEN}")),
                    ("Content-Type", "application/json"),
                ],
                format!(r#"{{"from": "{from}", "to": "{to}", "capacity": {capacity}}}"#).as_bytes(),
            );
            assert_eq!(r.status, 201, "{}", r.body);
            r.json()["id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .expect("id")
        } else {
            self.running
                .control
                .connect(from, to, Some(capacity))
                .unwrap_or_else(|e| panic!("connect {from} -> {to}: {e}"))
        }
    }

    /// Disconnects `id` and waits until it closed.
    fn disconnect(&self, http: bool, id: Uuid, drop: bool) {
        if http {
            let mode = if drop { "drop" } else { "drain" };
            let r = request(
                self.addr,
                "DELETE",
                &format!("/api/v1/connections/{id}?mode={mode}"),
                &[("Authorization", &format!("Bearer {TOKEN}"))],
                b"",
            );
            assert_eq!(r.status, 200, "{}", r.body);
        } else {
            let mode = if drop {
                DisconnectMode::Drop
            } else {
                DisconnectMode::Drain
            };
            self.running
                .control
                .disconnect(id, mode)
                .unwrap_or_else(|e| panic!("disconnect {id}: {e}"));
        }
        let start = Instant::now();
        loop {
            self.running.control.reconcile();
            let state = self.running.pipe(id).state;
            if state.is_final() {
                assert_eq!(state, ConnectionState::Closed);
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "connection {id} is still {state}"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    /// One cycle: both connections made and unmade, the freed terminal
    /// reserved and released.
    fn cycle(&self, i: usize) {
        let http = i % 2 == 1;
        let capacity = [8, 16, 32, 64][i % 4];
        let a = self.connect(http, "fan.out", "churn.input", capacity);
        let b = self.connect(http, "tick.out", "gather.inputs", capacity * 2);
        self.disconnect(http, a, i.is_multiple_of(3));
        self.disconnect(http, b, !i.is_multiple_of(3));
        let hostess = self.running.control.connectome().hostess();
        let grant = hostess
            .reserve(ReserveRequest {
                holder: "operator".to_owned(),
                terminals: vec![TerminalRef::new(self.churn, "input")],
                ttl: Some(Duration::from_secs(60)),
            })
            .expect("the disconnected terminal is free");
        hostess.renew(grant.id).expect("renew");
        hostess.release(grant.id).expect("release");
    }
}

#[test]
fn connect_and_disconnect_churn_holds_memory_files_and_threads_bounded() {
    let cycles: usize = std::env::var("SOAK_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_500);
    let kernel = soak_kernel();
    let server = kernel
        .serve_control(ControlOptions::new().token(TOKEN))
        .expect("control surface");
    let addr = server.addr();
    let churn = soak_spec().server("churn").expect("churn").uuid;
    let soak = Soak {
        running: Running::start(kernel),
        addr,
        churn,
    };
    // Warm-up: pools, rings, the event log and the Hostess's memory of
    // ended reservations fill up to their bounds.
    let warm_up = 1_500;
    for i in 0..warm_up {
        soak.cycle(i);
    }
    let before = usage();
    let start = Instant::now();
    let mut samples = vec![before];
    for i in 0..cycles {
        soak.cycle(warm_up + i);
        if (i + 1) % 500 == 0 {
            samples.push(usage());
        }
    }
    let after = usage();
    let connectome = soak.running.control.connectome();
    let kib = |bytes: i64| bytes / 1024;
    eprintln!(
        "soak: {cycles} cycles in {:.1?} after {warm_up} to warm up; heap in use {} -> {} KiB ({:+} KiB); resident {} -> {} KiB ({:+} KiB); open files {} -> {}; threads {} -> {}; samples every 500 cycles (heap KiB, resident KiB): {:?}; {} connections known, {} events kept, {} reservations",
        start.elapsed(),
        kib(before.heap),
        kib(after.heap),
        kib(after.heap - before.heap),
        before.rss / 1024,
        after.rss / 1024,
        kib(after.rss as i64 - before.rss as i64),
        before.files,
        after.files,
        before.threads,
        after.threads,
        samples
            .iter()
            .map(|s| (kib(s.heap), s.rss / 1024))
            .collect::<Vec<_>>(),
        connectome.pipes().len(),
        connectome.events().since(0).events.len(),
        connectome.hostess().reservations().len(),
    );
    // What a leak of a hundred bytes a cycle would exceed; the messages in
    // flight and the allocator's caches move these by a few KiB.
    assert!(
        after.heap - before.heap <= 64 * 1024,
        "the heap grew by {} KiB over {cycles} cycles",
        kib(after.heap - before.heap)
    );
    assert!(
        after.rss <= before.rss + 512 * 1024,
        "the resident set grew by {} KiB over {cycles} cycles",
        kib(after.rss as i64 - before.rss as i64)
    );
    assert!(
        after.files <= before.files + 2,
        "open files {} -> {}",
        before.files,
        after.files
    );
    assert_eq!(after.threads, before.threads, "threads");
    assert_eq!(connectome.pipes().len(), 3, "one entry per connection");
    assert_eq!(connectome.hostess().reservations().len(), 1);
    drop(server);
    soak.running.finish().expect("kernel ends cleanly");
}
