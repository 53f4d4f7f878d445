//! Routes between two kernels over Zenoh on loopback, beside a local pipe
//! and a bare Zenoh publisher/subscriber pair measured in the same run:
//! throughput (u64 and 1 KiB messages), latency at 10,000 msg/s, and how
//! long a route takes to reopen once its receiver returns.
//!
//! ```sh
//! cargo bench -p wiring-benches --bench mesh
//! ```
//!
//! The two kernels (and the two Zenoh sessions of the bare pair) live in one
//! process and talk over TCP on 127.0.0.1. Throughput counts from the first
//! to the last message the receiving side took, so session and route
//! opening are not in it; each figure is the median of the runs.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use kernel::connectome::{Encoding, MeshSpec, RouteSpec, RouteTarget};
use kernel::prelude::*;
use kernel::{
    Auth, Endpoint, Kernel, KernelSpec, PipeSpec, Restart, RouteState, ServerManifest, ServerSpec,
    Spec, TerminalKind, TerminalManifest, Uuid,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use zenoh::Wait;

/// Messages per source in the next run; 0 pauses sources until set.
static COUNT: AtomicU64 = AtomicU64::new(0);
/// Messages per second a source sends (0: as fast as it can).
static RATE: AtomicU64 = AtomicU64::new(0);
static EPOCH: OnceLock<Instant> = OnceLock::new();
/// The receiving side: when it took its first and its last message, and the
/// latency of each (ns).
static TAKEN: Mutex<Taken> = Mutex::new(Taken::new());

struct Taken {
    count: u64,
    first: Option<Instant>,
    last: Option<Instant>,
    latencies: Vec<u64>,
}

impl Taken {
    const fn new() -> Self {
        Taken {
            count: 0,
            first: None,
            last: None,
            latencies: Vec::new(),
        }
    }
}

fn taken() -> std::sync::MutexGuard<'static, Taken> {
    TAKEN.lock().unwrap_or_else(|e| e.into_inner())
}

fn now_ns() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// What the receiving side records of one message.
fn take(stamp: u64) {
    let now = Instant::now();
    let ns = now_ns();
    let mut t = taken();
    t.count += 1;
    t.first.get_or_insert(now);
    t.last = Some(now);
    if RATE.load(Ordering::Relaxed) > 0 {
        t.latencies.push(ns.saturating_sub(stamp));
    }
}

/// A message of the benchmark, stamped with its send time.
trait Payload: Send + Clone + Serialize + DeserializeOwned + 'static {
    const NAME: &'static str;
    const BYTES: usize;
    fn make(stamp: u64) -> Self;
    fn stamp(&self) -> u64;
    fn to_bytes(&self) -> Vec<u8>;
    fn stamp_of(bytes: &[u8]) -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[..8]);
        u64::from_le_bytes(w)
    }
}

impl Payload for u64 {
    const NAME: &'static str = "u64";
    const BYTES: usize = 8;
    fn make(stamp: u64) -> Self {
        stamp
    }
    fn stamp(&self) -> u64 {
        *self
    }
    fn to_bytes(&self) -> Vec<u8> {
        self.to_le_bytes().to_vec()
    }
}

impl Payload for Vec<u8> {
    const NAME: &'static str = "1 KiB";
    const BYTES: usize = 1024;
    fn make(stamp: u64) -> Self {
        let mut v = vec![7u8; 1024];
        v[..8].copy_from_slice(&stamp.to_le_bytes());
        v
    }
    fn stamp(&self) -> u64 {
        Self::stamp_of(self)
    }
    fn to_bytes(&self) -> Vec<u8> {
        self.clone()
    }
}

/// Sends COUNT messages, paced at RATE when set.
fn send_all<P: Payload>(mut send: impl FnMut(P) -> bool) {
    let count = COUNT.load(Ordering::Relaxed);
    let rate = RATE.load(Ordering::Relaxed);
    let started = Instant::now();
    for i in 0..count {
        if let Some(at) = (i * 1_000_000_000).checked_div(rate) {
            let due = started + Duration::from_nanos(at);
            while Instant::now() < due {
                std::hint::spin_loop();
            }
        }
        if !send(P::make(now_ns())) {
            return;
        }
    }
}

struct Src<P> {
    out: Output<P>,
}

const fn manifest(name: &'static str, terminals: &'static [TerminalManifest]) -> ServerManifest {
    ServerManifest {
        name,
        class: 1,
        owner: "bench",
        auth: Auth::No,
        auth_mechanism: "none",
        terminals,
    }
}

impl<P: Payload> kernel::Manifest for Src<P> {
    const MANIFEST: ServerManifest = manifest(
        "src",
        &[TerminalManifest {
            name: "out",
            kind: TerminalKind::Output,
            message_type: "payload",
            doc: "",
        }],
    );
}

impl<P: Payload> kernel::__private::Attach for Src<P> {
    fn attach(&mut self, ports: &mut kernel::__private::Ports) -> Result<(), kernel::Error> {
        kernel::__private::Terminal::__attach(&mut self.out, ports, "out")
    }
}

impl<P: Payload> Server for Src<P> {
    type Config = ();
    fn new(_: ()) -> Self {
        Src {
            out: Output::default(),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        while COUNT.load(Ordering::Relaxed) == 0 && !ctx.stopping() {
            std::thread::sleep(Duration::from_millis(1));
        }
        send_all::<P>(|m| self.out.send(m).is_ok());
        Ok(())
    }
}

struct Snk<P> {
    input: Input<P>,
}

impl<P: Payload> kernel::Manifest for Snk<P> {
    const MANIFEST: ServerManifest = manifest(
        "snk",
        &[TerminalManifest {
            name: "input",
            kind: TerminalKind::Input,
            message_type: "payload",
            doc: "",
        }],
    );
}

impl<P: Payload> kernel::__private::Attach for Snk<P> {
    fn attach(&mut self, ports: &mut kernel::__private::Ports) -> Result<(), kernel::Error> {
        kernel::__private::Terminal::__attach(&mut self.input, ports, "input")
    }
}

impl<P: Payload> Server for Snk<P> {
    type Config = ();
    fn new(_: ()) -> Self {
        Snk {
            input: Input::default(),
        }
    }
    fn run(&mut self, _: &Context) -> Result<(), ServerError> {
        while let Some(m) = self.input.recv() {
            take(m.stamp());
        }
        Ok(())
    }
}

const SNK_ID: &str = "localhost:snk:0x00000001:bench:no:none:00000000-0000-0000-0000-0000000000b1";

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

fn text(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn server_spec<S: kernel::Manifest>(
    name: &'static str,
    uuid: u128,
    identity: &'static str,
) -> ServerSpec {
    ServerSpec {
        name,
        type_path: name,
        manifest: leak(S::MANIFEST),
        uuid: Uuid::from_u128(uuid),
        identity,
        restart: Restart::Never,
        config: None,
    }
}

fn kernel_spec(name: &'static str) -> KernelSpec {
    KernelSpec {
        name,
        fqdn: "localhost",
        owner: "bench",
    }
}

const SNK_IN: Endpoint = Endpoint {
    server: "snk",
    terminal: "input",
};
const SRC_OUT: Endpoint = Endpoint {
    server: "src",
    terminal: "out",
};

fn receiver<P: Payload>(port: u16) -> Kernel {
    let spec = leak(Spec {
        kernel: kernel_spec("bench-rx"),
        servers: leak([server_spec::<Snk<P>>("snk", 0xb1, SNK_ID)]),
        pipes: &[],
        control: None,
        processes: &[],
        mesh: Some(leak(MeshSpec {
            listen: leak([text(format!("tcp/127.0.0.1:{port}"))]),
            peers: &[],
            offer: leak([SNK_IN]),
        })),
        routes: &[],
        source: None,
    });
    let mut b = kernel::KernelBuilder::new(spec);
    b.server_default::<Snk<P>>("snk").expect("sink");
    b.offer("snk.input", kernel::__private::Port::<Input<P>>::new())
        .expect("offer");
    b.build().expect("receiver").with_signal_handlers(false)
}

fn sender<P: Payload>(port: u16) -> Kernel {
    let spec = leak(Spec {
        kernel: kernel_spec("bench-tx"),
        servers: leak([server_spec::<Src<P>>(
            "src",
            0xa1,
            "localhost:src:0x00000001:bench:no:none:00000000-0000-0000-0000-0000000000a1",
        )]),
        pipes: &[],
        control: None,
        processes: &[],
        mesh: Some(leak(MeshSpec {
            listen: &[],
            peers: leak([text(format!("tcp/127.0.0.1:{port}"))]),
            offer: &[],
        })),
        routes: leak([RouteSpec {
            id: Uuid::from_u128(0xc1),
            from: SRC_OUT,
            to: RouteTarget::Guest(SNK_ID),
            terminal: "input",
            capacity: 1024,
            encoding: Encoding::Postcard,
        }]),
        source: None,
    });
    let mut b = kernel::KernelBuilder::new(spec);
    b.server_default::<Src<P>>("src").expect("source");
    b.route("src.out", kernel::__private::Port::<Output<P>>::new())
        .expect("route");
    b.build().expect("sender").with_signal_handlers(false)
}

fn local<P: Payload>() -> Kernel {
    let spec = leak(Spec {
        kernel: kernel_spec("bench-local"),
        servers: leak([
            server_spec::<Src<P>>(
                "src",
                0xa2,
                "localhost:src:0x00000001:bench:no:none:00000000-0000-0000-0000-0000000000a2",
            ),
            server_spec::<Snk<P>>(
                "snk",
                0xb2,
                "localhost:snk:0x00000001:bench:no:none:00000000-0000-0000-0000-0000000000b2",
            ),
        ]),
        pipes: leak([PipeSpec {
            id: Uuid::from_u128(0xd1),
            from: SRC_OUT,
            to: SNK_IN,
            capacity: 1024,
        }]),
        control: None,
        processes: &[],
        mesh: None,
        routes: &[],
        source: None,
    });
    let mut b = kernel::KernelBuilder::new(spec);
    b.server_default::<Src<P>>("src").expect("source");
    b.server_default::<Snk<P>>("snk").expect("sink");
    b.connect(
        0,
        kernel::__private::ends(
            kernel::__private::Port::<Output<P>>::new(),
            kernel::__private::Port::<Input<P>>::new(),
        ),
    )
    .expect("pipe");
    b.build().expect("local").with_signal_handlers(false)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// What one run measured at the receiving side.
struct Run {
    rate: f64,
    latencies: Vec<u64>,
}

fn reset(count: u64, rate: u64) {
    *taken() = Taken::new();
    RATE.store(rate, Ordering::Relaxed);
    COUNT.store(count, Ordering::Relaxed);
}

fn collect(count: u64) -> Run {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let t = taken();
        if t.count >= count {
            let span = t
                .last
                .zip(t.first)
                .map(|(l, f)| l.duration_since(f))
                .unwrap_or_default();
            return Run {
                rate: (count - 1) as f64 / span.as_secs_f64().max(1e-9),
                latencies: t.latencies.clone(),
            };
        }
        drop(t);
        assert!(Instant::now() < deadline, "the receiving side stalled");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn run_local<P: Payload>(count: u64, rate: u64) -> Run {
    COUNT.store(0, Ordering::Relaxed);
    let kernel = local::<P>();
    let running = std::thread::spawn(move || kernel.run());
    reset(count, rate);
    let run = collect(count);
    running.join().expect("thread").expect("local kernel");
    run
}

fn run_route<P: Payload>(count: u64, rate: u64) -> Run {
    COUNT.store(0, Ordering::Relaxed);
    let port = free_port();
    let rx = receiver::<P>(port);
    let rx = std::thread::spawn(move || rx.run());
    let tx = sender::<P>(port);
    let connectome = tx.connectome();
    let tx = std::thread::spawn(move || tx.run());
    while connectome
        .routes()
        .first()
        .is_none_or(|r| r.state != RouteState::Connected)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    reset(count, rate);
    let run = collect(count);
    tx.join().expect("thread").expect("sender");
    rx.join().expect("thread").expect("receiver");
    run
}

fn run_zenoh<P: Payload>(count: u64, rate: u64) -> Run {
    use zenoh::qos::CongestionControl;
    let port = free_port();
    let config = |listen: bool| {
        let mut c = zenoh::Config::default();
        let endpoint = format!("[\"tcp/127.0.0.1:{port}\"]");
        c.insert_json5("mode", "\"peer\"").expect("mode");
        c.insert_json5("scouting/multicast/enabled", "false")
            .expect("scouting");
        c.insert_json5("scouting/gossip/enabled", "false")
            .expect("gossip");
        if listen {
            c.insert_json5("listen/endpoints", &endpoint)
                .expect("listen");
        } else {
            c.insert_json5("listen/endpoints", "[]").expect("listen");
            c.insert_json5("connect/endpoints", &endpoint)
                .expect("connect");
        }
        c
    };
    let rx = zenoh::open(config(true)).wait().expect("rx session");
    let tx = zenoh::open(config(false)).wait().expect("tx session");
    let sub = rx
        .declare_subscriber("bench/bare")
        .callback(|s| take(P::stamp_of(&s.payload().to_bytes())))
        .wait()
        .expect("subscriber");
    let publisher = tx
        .declare_publisher("bench/bare")
        .congestion_control(CongestionControl::Block)
        .wait()
        .expect("publisher");
    // Zenoh drops what it publishes before it knows of the subscriber:
    // send until one arrives, then measure.
    *taken() = Taken::new();
    while taken().count == 0 {
        publisher.put(P::make(0).to_bytes()).wait().expect("put");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(100));
    reset(count, rate);
    send_all::<P>(|m| publisher.put(m.to_bytes()).wait().is_ok());
    let run = collect(count);
    drop(sub);
    let _ = tx.close().wait();
    let _ = rx.close().wait();
    run
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn throughput<P: Payload>(count: u64, runs: usize) {
    let mut local = Vec::new();
    let mut route = Vec::new();
    let mut bare = Vec::new();
    for run in 0..runs {
        local.push(run_local::<P>(count, 0).rate);
        route.push(run_route::<P>(count, 0).rate);
        bare.push(run_zenoh::<P>(count, 0).rate);
        eprintln!(
            "{} run {run}: local {:.0}, route {:.0}, bare {:.0} msg/s",
            P::NAME,
            local[run],
            route[run],
            bare[run]
        );
    }
    let mb = |r: f64| r * P::BYTES as f64 / 1e6;
    for (what, rates) in [
        ("local pipe", local),
        ("route (mesh)", route),
        ("bare Zenoh pub/sub", bare),
    ] {
        let r = median(rates);
        println!("| {} | {what} | {:.0} | {:.1} |", P::NAME, r, mb(r));
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn latency() {
    let count = 20_000;
    for (what, run) in [
        ("local pipe", run_local::<u64>(count, 10_000)),
        ("route (mesh)", run_route::<u64>(count, 10_000)),
        ("bare Zenoh pub/sub", run_zenoh::<u64>(count, 10_000)),
    ] {
        let mut l = run.latencies;
        l.sort_unstable();
        println!(
            "| {what} | {:.1} | {:.1} |",
            percentile(&l, 0.5),
            percentile(&l, 0.99)
        );
    }
}

/// Stops a receiver, starts it again, and times how long the sender's
/// route takes to be connected again.
fn reopen(runs: usize) {
    COUNT.store(0, Ordering::Relaxed);
    let port = free_port();
    let tx = sender::<u64>(port);
    let connectome = tx.connectome();
    let tx_stop = tx.stop_handle();
    let tx = std::thread::spawn(move || tx.run());
    let state = || connectome.routes().first().map(|r| r.state);
    let mut times = Vec::new();
    for _ in 0..runs {
        let rx = receiver::<u64>(port);
        let stop = rx.stop_handle();
        let started = Instant::now();
        let rx = std::thread::spawn(move || rx.run());
        while state() != Some(RouteState::Connected) {
            std::thread::sleep(Duration::from_millis(1));
        }
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        stop.stop();
        let _ = rx.join();
        while state() == Some(RouteState::Connected) {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    tx_stop.stop();
    let _ = tx.join();
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "reopen after the receiver returned: median {:.0} ms, min {:.0} ms, max {:.0} ms ({} runs)",
        median(times),
        sorted.first().copied().unwrap_or(f64::NAN),
        sorted.last().copied().unwrap_or(f64::NAN),
        sorted.len()
    );
}

fn main() {
    let runs = std::env::args()
        .skip_while(|a| a != "--runs")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    println!("## Throughput, loopback (median of {runs} runs)\n");
    println!("| message | path | msg/s | MB/s |\n|---|---|---:|---:|");
    throughput::<u64>(200_000, runs);
    throughput::<Vec<u8>>(50_000, runs);
    println!("\n## Latency at 10,000 msg/s, u64, 20,000 messages (µs)\n");
    println!("| path | p50 | p99 |\n|---|---:|---:|");
    latency();
    println!();
    reopen(runs.max(3));
}
