//! Stalls are visible while they last: a consumer that stops taking
//! messages, and a paused pipe, show as stalled in the topology, the API
//! and `/metrics`, with the time since the consumer last took a message
//! growing; the stall ends when the messages move again.
#![cfg(feature = "control")]

use std::time::{Duration, Instant};

use crate::common;
use crate::control_common::http::get;
use crate::control_common::*;
use kernel::control::http::ControlOptions;
use kernel::{KernelBuilder, PipeSpec, ServerSpec, Spec, Uuid};

/// Takes one message, then nothing more until the kernel stops.
#[derive(Manifest)]
#[manifest(class = 1, owner = "test")]
pub struct Laggard {
    pub input: Input<u64>,
}

impl Server for Laggard {
    type Config = TickConfig;
    fn new(_: TickConfig) -> Self {
        Laggard {
            input: Input::default(),
        }
    }
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        let _ = self.input.recv();
        while !ctx.stopping() {
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }
}

static SERVERS: [ServerSpec; 4] = [
    common::server(
        "src",
        "test",
        kernel::Restart::Never,
        Some("every_us = 100\n"),
    ),
    common::server("laggard", "test", kernel::Restart::Never, Some("")),
    common::server(
        "fan",
        "test",
        kernel::Restart::Never,
        Some("every_us = 200\n"),
    ),
    common::server("b", "test", kernel::Restart::Never, Some("")),
];
static PIPES: [PipeSpec; 2] = [
    common::pipe(11, ("src", "out"), ("laggard", "input"), 64),
    common::pipe(12, ("fan", "out"), ("b", "input"), 64),
];
const LAGGING: Uuid = Uuid::from_u128(11);
const FLOWING: Uuid = Uuid::from_u128(12);

fn plant(name: &'static str) -> (kernel::Kernel, &'static Spec) {
    let spec = spec_of(name, &SERVERS, &PIPES);
    let mut b = KernelBuilder::new(spec);
    b.server::<Ticker>("src").unwrap();
    b.server::<Laggard>("laggard").unwrap();
    b.server::<FanTicker>("fan").unwrap();
    b.server::<Sink>("b").unwrap();
    b.connect_named::<Output<u64>, Input<u64>>("src.out", "laggard.input")
        .unwrap();
    b.connect_named::<Multiplex<u64>, Input<u64>>("fan.out", "b.input")
        .unwrap();
    let kernel = b
        .build()
        .unwrap()
        .with_signal_handlers(false)
        .with_grace_period(Duration::from_secs(10));
    (kernel, spec)
}

fn view(running: &Running, id: Uuid) -> kernel::control::topology::ConnectionView {
    running
        .control
        .topology()
        .connection(&id.to_string())
        .cloned()
        .expect("connection")
}

/// The `kernel_pipe_stalled` line of pipe `id` in the Prometheus text.
fn stalled_metric(metrics: &str, id: Uuid) -> Option<String> {
    metrics
        .lines()
        .find(|l| l.starts_with("kernel_pipe_stalled{") && l.contains(&format!("pipe=\"{id}\"")))
        .and_then(|l| l.rsplit(' ').next())
        .map(str::to_owned)
}

#[test]
fn a_consumer_that_stops_taking_stalls_its_pipe_visibly_and_the_stall_grows() {
    let (kernel, _) = plant("stall-laggard");
    let server = kernel
        .serve_control(ControlOptions::new().token("stall-token"))
        .expect("control surface");
    let addr = server.addr();
    let running = Running::start(kernel);
    running.wait_until("the laggard's pipe is full", |c| {
        c.connectome()
            .pipe(LAGGING)
            .is_some_and(|p| p.queue_depth == 64)
    });
    // Polled like a control room does: the stall shows within a second.
    let start = Instant::now();
    let stalled = loop {
        let c = view(&running, LAGGING);
        if c.stalled {
            break c;
        }
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "not marked stalled: {c:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(stalled.state, "connected");
    assert!(stalled.since_taken_ns >= 500_000_000, "{stalled:?}");
    // It grows while the stall lasts.
    std::thread::sleep(Duration::from_millis(300));
    let later = view(&running, LAGGING);
    assert!(later.stalled);
    assert!(
        later.since_taken_ns >= stalled.since_taken_ns + 250_000_000,
        "{stalled:?} then {later:?}"
    );
    // The flowing pipe beside it is not stalled.
    let flowing = view(&running, FLOWING);
    assert!(!flowing.stalled, "{flowing:?}");
    assert!(flowing.since_taken_ns < 500_000_000, "{flowing:?}");

    // The API, the metrics and the SSE summary say the same.
    let api = get(addr, &format!("/api/v1/connections/{LAGGING}")).json();
    assert_eq!(api["stalled"], true);
    assert!(
        api["since_taken_ns"]
            .as_u64()
            .is_some_and(|n| n >= 500_000_000)
    );
    let metrics = get(addr, "/metrics").body;
    assert_eq!(stalled_metric(&metrics, LAGGING).as_deref(), Some("1"));
    assert_eq!(stalled_metric(&metrics, FLOWING).as_deref(), Some("0"));
    assert!(metrics.contains("kernel_pipe_since_taken_seconds{"));
    let json = get(addr, "/api/v1/metrics").json();
    let lagging = json["connections"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["id"] == LAGGING.to_string().as_str())
        .cloned()
        .expect("lagging pipe in the metrics");
    assert_eq!(lagging["stalled"], true);
    let svg = get(addr, "/api/v1/topology?format=svg").body;
    assert!(
        svg.contains(&format!(r#"<g class="conn stalled" id="conn-{LAGGING}""#)),
        "the drawing marks the stall"
    );
    assert!(svg.contains(">STALLED "), "the drawing labels the stall");
    running.finish().expect("kernel ends cleanly");
}

#[test]
fn a_paused_pipe_is_stalled_at_once_and_flows_again_on_resume() {
    let (kernel, _) = plant("stall-pause");
    let running = Running::start(kernel);
    running.wait_until("the flowing pipe delivers", |c| {
        c.connectome()
            .pipe(FLOWING)
            .is_some_and(|p| p.messages_out > 10)
    });
    assert!(!view(&running, FLOWING).stalled);
    running.control.pause(FLOWING).expect("pause");
    running.wait_until("a message queued behind the pause", |c| {
        c.connectome()
            .pipe(FLOWING)
            .is_some_and(|p| p.queue_depth > 0)
    });
    let paused = view(&running, FLOWING);
    assert!(paused.stalled, "{paused:?}");
    assert_eq!(paused.state, "paused");
    running.control.resume(FLOWING).expect("resume");
    running.wait_until("the pipe moves again", |c| {
        c.topology()
            .connection(&FLOWING.to_string())
            .is_some_and(|v| !v.stalled && v.state == "connected")
    });
    running.finish().expect("kernel ends cleanly");
}
