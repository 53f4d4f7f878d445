//! Kernels as processes on loopback: this test binary starts itself again
//! in a role (`MESH_ROLE`), each role a kernel wired by hand from one of the
//! specs below (`MESH_SPEC`), with routes to other kernels or terminals it
//! offers them. Children report on their standard output, one JSON object
//! per line after a marker:
//!
//! - `MESH-ROUTES`: `{"rss_kb", "routes": [..]}` every 100 ms and at the end;
//! - `MESH-EVENTS`: the route events of its event log, at the end;
//! - `MESH-SINK`: what a sink received (count, values out of order, last
//!   value per tag), when its stream ended;
//! - `MESH-SOURCE`: what a source sent and its longest blocked send;
//! - `MESH-STALL` / `MESH-STALL-END`: a sink's stall began or ended;
//! - `MESH-DONE`: the kernel's run ended (`ok` or the error).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kernel::connectome::{Encoding, MeshSpec, RouteSpec, RouteTarget};
use kernel::control::events::Subject;
use kernel::prelude::*;
use kernel::{
    Auth, Endpoint, KernelSpec, Restart, ServerManifest, ServerSpec, Spec, TerminalKind,
    TerminalManifest, Uuid,
};
use serde_json::{Value, json};

pub const ROLE: &str = "MESH_ROLE";

fn env_u64(name: &str) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn report(marker: &str, value: &Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{marker} {value}");
    let _ = out.flush();
}

// ---- servers ------------------------------------------------------------

const fn manifest(name: &'static str, terminals: &'static [TerminalManifest]) -> ServerManifest {
    ServerManifest {
        name,
        class: 1,
        owner: "test",
        auth: Auth::No,
        auth_mechanism: "none",
        terminals,
    }
}

const fn terminal(
    name: &'static str,
    kind: TerminalKind,
    message_type: &'static str,
) -> TerminalManifest {
    TerminalManifest {
        name,
        kind,
        message_type,
        doc: "",
    }
}

/// Waits until the file named by `MESH_GO` exists (when set).
fn wait_go(ctx: &Context) {
    let Ok(go) = std::env::var("MESH_GO") else {
        return;
    };
    while !std::path::Path::new(&go).exists() && !ctx.stopping() {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends `(MESH_TAG << 32) | i` for i in 0..MESH_COUNT.
pub struct CountSource {
    pub out: Output<u64>,
}

impl kernel::Manifest for CountSource {
    const MANIFEST: ServerManifest = manifest(
        "count_source",
        &[terminal("out", TerminalKind::Output, "u64")],
    );
}

impl kernel::__private::Attach for CountSource {
    fn attach(&mut self, ports: &mut kernel::__private::Ports) -> Result<(), kernel::Error> {
        kernel::__private::Terminal::__attach(&mut self.out, ports, "out")
    }
}

impl Server for CountSource {
    type Config = ();
    fn new(_: ()) -> Self {
        CountSource {
            out: Output::default(),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        wait_go(ctx);
        let count = env_u64("MESH_COUNT");
        let tag = env_u64("MESH_TAG");
        let mut longest = Duration::ZERO;
        let started = Instant::now();
        for i in 0..count {
            let t = Instant::now();
            self.out.send((tag << 32) | i)?;
            longest = longest.max(t.elapsed());
        }
        report(
            "MESH-SOURCE",
            &json!({"sent": count, "longest_send_ms": longest.as_millis() as u64,
                    "elapsed_ms": started.elapsed().as_millis() as u64}),
        );
        Ok(())
    }
}

/// Sends MESH_COUNT strings.
pub struct WordSource {
    pub out: Output<String>,
}

impl kernel::Manifest for WordSource {
    const MANIFEST: ServerManifest = manifest(
        "word_source",
        &[terminal("out", TerminalKind::Output, "String")],
    );
}

impl kernel::__private::Attach for WordSource {
    fn attach(&mut self, ports: &mut kernel::__private::Ports) -> Result<(), kernel::Error> {
        kernel::__private::Terminal::__attach(&mut self.out, ports, "out")
    }
}

impl Server for WordSource {
    type Config = ();
    fn new(_: ()) -> Self {
        WordSource {
            out: Output::default(),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        wait_go(ctx);
        for i in 0..env_u64("MESH_COUNT") {
            self.out.send(format!("word {i}"))?;
        }
        Ok(())
    }
}

/// What a sink saw, checked as it goes: per tag (upper 32 bits) every value
/// must follow the last by one.
#[derive(Default)]
struct Tally {
    count: u64,
    last: BTreeMap<u64, u64>,
    disorder: u64,
}

impl Tally {
    fn take(&mut self, v: u64) {
        self.count += 1;
        let (tag, i) = (v >> 32, v & 0xffff_ffff);
        let expected = self.last.get(&tag).map_or(0, |l| l + 1);
        if i != expected {
            self.disorder += 1;
        }
        self.last.insert(tag, i);
    }
}

/// Appends every value to the file `MESH_LOG` (one write per value: a
/// killed kernel leaves what it took), sleeps `MESH_DELAY_MS` per value and
/// stalls `MESH_STALL_MS` once it took `MESH_STALL_AT` values.
struct Recorder {
    log: Option<std::fs::File>,
    delay: Duration,
    stall_at: u64,
    stall: Duration,
    tally: Tally,
}

impl Recorder {
    fn new() -> Self {
        let log = std::env::var("MESH_LOG").ok().and_then(|p| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .ok()
        });
        Recorder {
            log,
            delay: Duration::from_millis(env_u64("MESH_DELAY_MS")),
            stall_at: env_u64("MESH_STALL_AT"),
            stall: Duration::from_millis(env_u64("MESH_STALL_MS")),
            tally: Tally::default(),
        }
    }

    fn take(&mut self, v: u64) {
        if let Some(log) = &mut self.log {
            let _ = log.write_all(format!("{v}\n").as_bytes());
        }
        self.tally.take(v);
        if !self.stall.is_zero() && self.tally.count == self.stall_at {
            report("MESH-STALL", &json!({"at": self.tally.count}));
            std::thread::sleep(self.stall);
            report("MESH-STALL-END", &json!({"at": self.tally.count}));
        }
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
    }

    fn done(&self) {
        report(
            "MESH-SINK",
            &json!({"count": self.tally.count, "disorder": self.tally.disorder,
                    "last": self.tally.last.iter().map(|(t, l)| json!([t, l])).collect::<Vec<_>>()}),
        );
    }
}

/// Records an `Input<u64>` until end of stream.
pub struct RecordSink {
    pub input: Input<u64>,
}

impl kernel::Manifest for RecordSink {
    const MANIFEST: ServerManifest = manifest(
        "record_sink",
        &[terminal("input", TerminalKind::Input, "u64")],
    );
}

impl kernel::__private::Attach for RecordSink {
    fn attach(&mut self, ports: &mut kernel::__private::Ports) -> Result<(), kernel::Error> {
        kernel::__private::Terminal::__attach(&mut self.input, ports, "input")
    }
}

impl Server for RecordSink {
    type Config = ();
    fn new(_: ()) -> Self {
        RecordSink {
            input: Input::default(),
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        let mut recorder = Recorder::new();
        while let Some(v) = self.input.recv() {
            recorder.take(v);
        }
        recorder.done();
        Ok(())
    }
}

/// Records a `Combine<u64>` until end of stream.
pub struct RecordMerge {
    pub inputs: Combine<u64>,
}

impl kernel::Manifest for RecordMerge {
    const MANIFEST: ServerManifest = manifest(
        "record_merge",
        &[terminal("inputs", TerminalKind::Combine, "u64")],
    );
}

impl kernel::__private::Attach for RecordMerge {
    fn attach(&mut self, ports: &mut kernel::__private::Ports) -> Result<(), kernel::Error> {
        kernel::__private::Terminal::__attach(&mut self.inputs, ports, "inputs")
    }
}

impl Server for RecordMerge {
    type Config = ();
    fn new(_: ()) -> Self {
        RecordMerge {
            inputs: Combine::default(),
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        let mut recorder = Recorder::new();
        while let Some(v) = self.inputs.recv() {
            recorder.take(v);
        }
        recorder.done();
        Ok(())
    }
}

// ---- specs -------------------------------------------------------------

pub const SINK_ID: &str =
    "localhost:sink:0x00000001:test:no:none:00000000-0000-0000-0000-000000000011";
pub const MERGE_ID: &str =
    "localhost:merge:0x00000001:test:no:none:00000000-0000-0000-0000-000000000012";
pub const HIDDEN_ID: &str =
    "localhost:hidden:0x00000001:test:no:none:00000000-0000-0000-0000-000000000013";

const fn server(
    name: &'static str,
    type_path: &'static str,
    manifest: &'static ServerManifest,
    uuid: u128,
    identity: &'static str,
) -> ServerSpec {
    ServerSpec {
        name,
        type_path,
        manifest,
        uuid: Uuid::from_u128(uuid),
        identity,
        restart: Restart::Never,
        config: None,
    }
}

const fn ep(server: &'static str, terminal: &'static str) -> Endpoint {
    Endpoint { server, terminal }
}

const fn kernel_spec(name: &'static str) -> KernelSpec {
    KernelSpec {
        name,
        fqdn: "localhost",
        owner: "test",
    }
}

const fn route(
    id: u128,
    from: &'static str,
    to: RouteTarget,
    terminal: &'static str,
    encoding: Encoding,
) -> RouteSpec {
    RouteSpec {
        id: Uuid::from_u128(id),
        from: ep(from, "out"),
        to,
        terminal,
        capacity: 64,
        encoding,
    }
}

const SINK: ServerSpec = server(
    "sink",
    "RecordSink",
    &<RecordSink as kernel::Manifest>::MANIFEST,
    0x11,
    SINK_ID,
);
const MERGE: ServerSpec = server(
    "merge",
    "RecordMerge",
    &<RecordMerge as kernel::Manifest>::MANIFEST,
    0x12,
    MERGE_ID,
);
const HIDDEN: ServerSpec = server(
    "hidden",
    "RecordSink",
    &<RecordSink as kernel::Manifest>::MANIFEST,
    0x13,
    HIDDEN_ID,
);
const fn src(name: &'static str, uuid: u128, identity: &'static str) -> ServerSpec {
    server(
        name,
        "CountSource",
        &<CountSource as kernel::Manifest>::MANIFEST,
        uuid,
        identity,
    )
}

const fn spec(
    name: &'static str,
    servers: &'static [ServerSpec],
    mesh: Option<&'static MeshSpec>,
    routes: &'static [RouteSpec],
) -> Spec {
    Spec {
        kernel: kernel_spec(name),
        servers,
        pipes: &[],
        control: None,
        processes: &[],
        mesh,
        routes,
        source: None,
    }
}

const NO_ENDPOINTS: &[&str] = &[];

/// South with one `Input` sink, offered.
pub static SOUTH_SINK: Spec = spec(
    "south",
    &[SINK],
    Some(&MeshSpec {
        listen: NO_ENDPOINTS,
        peers: NO_ENDPOINTS,
        offer: &[ep("sink", "input")],
    }),
    &[],
);

/// South with one `Combine`, offered.
pub static SOUTH_MERGE: Spec = spec(
    "south",
    &[MERGE],
    Some(&MeshSpec {
        listen: NO_ENDPOINTS,
        peers: NO_ENDPOINTS,
        offer: &[ep("merge", "inputs")],
    }),
    &[],
);

/// South with an offered `Input`, an offered `Combine` and an `Input` it
/// does not offer.
pub static SOUTH_ALL: Spec = spec(
    "south",
    &[SINK, MERGE, HIDDEN],
    Some(&MeshSpec {
        listen: NO_ENDPOINTS,
        peers: NO_ENDPOINTS,
        offer: &[ep("sink", "input"), ep("merge", "inputs")],
    }),
    &[],
);

const NORTH_SRC: &str =
    "localhost:src:0x00000001:test:no:none:00000000-0000-0000-0000-000000000021";

/// North: a source routed to south's sink by its identity.
pub static NORTH_EXACT: Spec = spec(
    "north",
    &[src("src", 0x21, NORTH_SRC)],
    None,
    &[route(
        0x101,
        "src",
        RouteTarget::Guest(SINK_ID),
        "input",
        Encoding::Postcard,
    )],
);

/// North: the same, in JSON.
pub static NORTH_JSON: Spec = spec(
    "north",
    &[src("src", 0x21, NORTH_SRC)],
    None,
    &[route(
        0x102,
        "src",
        RouteTarget::Guest(SINK_ID),
        "input",
        Encoding::Json,
    )],
);

/// North: a source routed to whichever guest called `sink` is free.
pub static NORTH_MASK: Spec = spec(
    "north",
    &[src("src", 0x21, NORTH_SRC)],
    None,
    &[route(
        0x103,
        "src",
        RouteTarget::Mask("*:sink:*:*:*:*:*"),
        "input",
        Encoding::Postcard,
    )],
);

/// Two kernels routing into south's `Combine`.
pub static NORTH_A: Spec = spec(
    "north-a",
    &[src(
        "src",
        0x31,
        "localhost:src:0x00000001:test:no:none:00000000-0000-0000-0000-000000000031",
    )],
    None,
    &[route(
        0x104,
        "src",
        RouteTarget::Guest(MERGE_ID),
        "inputs",
        Encoding::Postcard,
    )],
);
pub static NORTH_B: Spec = spec(
    "north-b",
    &[src(
        "src",
        0x41,
        "localhost:src:0x00000001:test:no:none:00000000-0000-0000-0000-000000000041",
    )],
    None,
    &[route(
        0x105,
        "src",
        RouteTarget::Guest(MERGE_ID),
        "inputs",
        Encoding::Postcard,
    )],
);

/// A kernel whose routes south refuses: into the sink another kernel holds,
/// strings into the `Combine` of `u64`, into the terminal south does not
/// offer.
pub static NORTH_REFUSED: Spec = spec(
    "north-c",
    &[
        src(
            "src",
            0x51,
            "localhost:src:0x00000001:test:no:none:00000000-0000-0000-0000-000000000051",
        ),
        server(
            "words",
            "WordSource",
            &<WordSource as kernel::Manifest>::MANIFEST,
            0x52,
            "localhost:words:0x00000001:test:no:none:00000000-0000-0000-0000-000000000052",
        ),
        src(
            "other",
            0x53,
            "localhost:other:0x00000001:test:no:none:00000000-0000-0000-0000-000000000053",
        ),
    ],
    None,
    &[
        route(
            0x106,
            "src",
            RouteTarget::Guest(SINK_ID),
            "input",
            Encoding::Postcard,
        ),
        route(
            0x107,
            "words",
            RouteTarget::Guest(MERGE_ID),
            "inputs",
            Encoding::Postcard,
        ),
        route(
            0x108,
            "other",
            RouteTarget::Guest(HIDDEN_ID),
            "input",
            Encoding::Postcard,
        ),
    ],
);

fn spec_named(name: &str) -> &'static Spec {
    match name {
        "south-sink" => &SOUTH_SINK,
        "south-merge" => &SOUTH_MERGE,
        "south-all" => &SOUTH_ALL,
        "north-exact" => &NORTH_EXACT,
        "north-json" => &NORTH_JSON,
        "north-mask" => &NORTH_MASK,
        "north-a" => &NORTH_A,
        "north-b" => &NORTH_B,
        "north-refused" => &NORTH_REFUSED,
        other => panic!("no spec `{other}`"),
    }
}

// ---- the child ---------------------------------------------------------

fn port<T>() -> kernel::__private::Port<T> {
    kernel::__private::Port::new()
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn routes_json(connectome: &kernel::Connectome) -> Value {
    let routes: Vec<Value> = connectome
        .routes()
        .iter()
        .map(|r| {
            json!({"id": r.id.to_string(), "from": r.from, "to": r.to,
                   "direction": r.direction.as_str(), "state": r.state.as_str(),
                   "sent": r.sent, "received": r.received, "in_flight": r.in_flight,
                   "lost": r.lost, "reason": r.reason})
        })
        .collect();
    json!({"rss_kb": rss_kb(), "routes": routes})
}

/// Runs the kernel of spec `MESH_SPEC` until it ends.
pub fn child() {
    if std::env::var_os("MESH_TRACE").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_max_level(tracing::Level::DEBUG)
            .try_init();
    }
    let name = std::env::var("MESH_SPEC").unwrap_or_default();
    let spec = spec_named(&name);
    let mut b = kernel::KernelBuilder::new(spec);
    let built = (|| -> Result<kernel::Kernel, kernel::Error> {
        for s in spec.servers {
            match s.type_path {
                "CountSource" => b.server_default::<CountSource>(s.name)?,
                "WordSource" => b.server_default::<WordSource>(s.name)?,
                "RecordSink" => b.server_default::<RecordSink>(s.name)?,
                "RecordMerge" => b.server_default::<RecordMerge>(s.name)?,
                other => panic!("no server type `{other}`"),
            };
        }
        for r in spec.routes {
            let from = r.from.to_string();
            match spec.server(r.from.server).map(|s| s.type_path) {
                Some("WordSource") => b.route(&from, port::<Output<String>>())?,
                _ => b.route(&from, port::<Output<u64>>())?,
            };
        }
        for offer in spec.mesh.map(|m| m.offer).unwrap_or_default() {
            let to = offer.to_string();
            match spec.server(offer.server).map(|s| s.type_path) {
                Some("RecordMerge") => b.offer(&to, port::<Combine<u64>>())?,
                _ => b.offer(&to, port::<Input<u64>>())?,
            };
        }
        b.build()
    })();
    let kernel = match built {
        Ok(k) => k.with_grace_period(Duration::from_secs(2)),
        Err(e) => {
            report("MESH-DONE", &json!({"error": e.to_string()}));
            return;
        }
    };
    let connectome = kernel.connectome();
    let done = Arc::new(AtomicBool::new(false));
    let monitor = {
        let connectome = connectome.clone();
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            while !done.load(Ordering::Acquire) {
                report("MESH-ROUTES", &routes_json(&connectome));
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let result = kernel.run();
    done.store(true, Ordering::Release);
    let _ = monitor.join();
    report("MESH-ROUTES", &routes_json(&connectome));
    let events: Vec<Value> = connectome
        .events()
        .since(0)
        .events
        .iter()
        .filter(|e| matches!(e.subject, Subject::Route { .. }))
        .map(|e| json!({"id": e.subject.id(), "from": e.from, "to": e.to, "cause": e.cause}))
        .collect();
    report("MESH-EVENTS", &Value::Array(events));
    match result {
        Ok(()) => report("MESH-DONE", &json!({"ok": true})),
        Err(e) => report("MESH-DONE", &json!({"error": e.to_string()})),
    }
}

// ---- the parent's side ---------------------------------------------------

/// A free port on 127.0.0.1 (free when asked).
pub fn free_port() -> u16 {
    match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(a) => a.port(),
        Err(e) => panic!("{e}"),
    }
}

pub fn endpoint(port: u16) -> String {
    format!("tcp/127.0.0.1:{port}")
}

/// A kernel process and the lines it printed.
pub struct Kernel {
    pub name: String,
    process: std::process::Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Kernel {
    /// Starts spec `spec` as a child with `env`.
    pub fn start(spec: &str, env: &[(&str, String)]) -> Kernel {
        let exe = match std::env::current_exe() {
            Ok(e) => e,
            Err(e) => panic!("{e}"),
        };
        let mut cmd = Command::new(exe);
        cmd.args(["--exact", "mesh::role", "--nocapture", "--test-threads=1"])
            .env(ROLE, "kernel")
            .env("MESH_SPEC", spec)
            .env_remove("WIRING_PASSPHRASE")
            .env_remove("KERNEL_MESH_LISTEN")
            .env_remove("KERNEL_MESH_PEERS")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut process = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => panic!("cannot start {spec}: {e}"),
        };
        let lines = Arc::new(Mutex::new(Vec::new()));
        if let Some(out) = process.stdout.take() {
            let sink = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    sink.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                }
            });
        }
        Kernel {
            name: spec.to_owned(),
            process,
            lines,
        }
    }

    /// Every value printed after `marker`, in order.
    pub fn all(&self, marker: &str) -> Vec<Value> {
        let prefix = format!("{marker} ");
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(|l| l.find(&prefix).map(|at| &l[at + prefix.len()..]))
            .filter_map(|v| serde_json::from_str(v).ok())
            .collect()
    }

    pub fn last(&self, marker: &str) -> Option<Value> {
        self.all(marker).pop()
    }

    /// Waits until `test` holds on the latest `marker` value.
    pub fn wait_for(
        &self,
        marker: &str,
        timeout: Duration,
        test: impl Fn(&Value) -> bool,
    ) -> Value {
        let started = Instant::now();
        loop {
            if let Some(v) = self.last(marker)
                && test(&v)
            {
                return v;
            }
            if started.elapsed() > timeout {
                panic!(
                    "{}: no `{marker}` as wanted within {timeout:?}; last: {:?}",
                    self.name,
                    self.last(marker)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the route with `id` (first route when `None`) is as
    /// wanted; returns it.
    pub fn wait_route(&self, timeout: Duration, test: impl Fn(&Value) -> bool) -> Value {
        let v = self.wait_for("MESH-ROUTES", timeout, |v| {
            v["routes"].as_array().is_some_and(|r| r.iter().any(&test))
        });
        v["routes"]
            .as_array()
            .and_then(|r| r.iter().find(|x| test(x)).cloned())
            .unwrap_or(Value::Null)
    }

    /// Waits for the process to end by itself.
    pub fn wait_exit(&mut self, timeout: Duration) {
        let started = Instant::now();
        loop {
            match self.process.try_wait() {
                Ok(Some(_)) => {
                    // Let the reader take the last lines.
                    std::thread::sleep(Duration::from_millis(100));
                    return;
                }
                Ok(None) if started.elapsed() < timeout => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => panic!("{} did not end within {timeout:?}", self.name),
            }
        }
    }

    /// SIGTERM: the kernel stops cleanly.
    pub fn terminate(&mut self) {
        if let Ok(pid) = i32::try_from(self.process.id()) {
            // SAFETY: sending a signal to our own child process.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
    }

    /// SIGKILL: the kernel dies at once.
    pub fn kill(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Drop for Kernel {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // What the kernel said last, for the failure's report.
            let lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
            let said: Vec<&String> = lines
                .iter()
                .filter(|l| !l.contains("MESH-ROUTES"))
                .rev()
                .take(5)
                .collect();
            let routes = lines.iter().rev().find(|l| l.contains("MESH-ROUTES"));
            eprintln!("--- {} said last: {said:#?}\n{routes:?}", self.name);
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A TCP proxy on loopback that can be cut (every connection closed, the
/// port refused) and restored, between a kernel and the endpoint of another.
pub struct Proxy {
    pub port: u16,
    target: u16,
    running: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    pub fn start(target: u16) -> Proxy {
        let mut proxy = Proxy {
            port: free_port(),
            target,
            running: None,
            conns: Arc::new(Mutex::new(Vec::new())),
        };
        proxy.restore();
        proxy
    }

    /// Accepts connections again.
    pub fn restore(&mut self) {
        let listener = match TcpListener::bind(("127.0.0.1", self.port)) {
            Ok(l) => l,
            Err(e) => panic!("proxy on {}: {e}", self.port),
        };
        let _ = listener.set_nonblocking(true);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let conns = Arc::clone(&self.conns);
        let target = self.target;
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Acquire) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let _ = client.set_nonblocking(false);
                        let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                            continue;
                        };
                        for (a, b) in [(&client, &server), (&server, &client)] {
                            let (Ok(mut from), Ok(mut to)) = (a.try_clone(), b.try_clone()) else {
                                continue;
                            };
                            std::thread::spawn(move || {
                                let _ = std::io::copy(&mut from, &mut to);
                                let _ = to.shutdown(Shutdown::Both);
                            });
                        }
                        let mut all = conns.lock().unwrap_or_else(|e| e.into_inner());
                        all.push(client);
                        all.push(server);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        self.running = Some((stop, thread));
    }

    /// Closes every connection and stops accepting.
    pub fn cut(&mut self) {
        if let Some((stop, thread)) = self.running.take() {
            stop.store(true, Ordering::Release);
            let _ = thread.join();
        }
        for conn in self
            .conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            let _ = conn.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}

/// The route values of a `MESH-ROUTES` line.
pub fn routes(v: &Value) -> Vec<Value> {
    v["routes"].as_array().cloned().unwrap_or_default()
}

pub fn u(v: &Value, field: &str) -> u64 {
    v[field].as_u64().unwrap_or(u64::MAX)
}

pub fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field].as_str().unwrap_or("")
}

/// A uuid of the specs as text.
pub fn uuid_text(n: u128) -> String {
    Uuid::from_u128(n).to_string()
}
