//! The local sides of routes, without a mesh: a route's output sends into
//! a pipe a [`Drain`] empties (with the pipe's back pressure), a [`Feed`]
//! puts messages into an input terminal that waits for such producers, and
//! the connectome lists the wiring's routes.

use std::time::{Duration, Instant};

use crate::common::*;
use kernel::connectome::{Encoding, MeshSpec, RouteSpec, RouteTarget};
use kernel::control::ControlError;
use kernel::executor::KernelBuilder;
use kernel::prelude::Snapshot;
use kernel::route::{Drained, RouteDirection, RouteState};
use kernel::{Endpoint, Spec, Uuid};

const fn route(id: u128, capacity: usize) -> RouteSpec {
    RouteSpec {
        id: Uuid::from_u128(id),
        from: Endpoint {
            server: "src",
            terminal: "out",
        },
        to: RouteTarget::Mask("*:sink:*:*:*:*:*"),
        terminal: "input",
        capacity,
        encoding: Encoding::Postcard,
    }
}

static ROUTED: Spec = Spec {
    kernel: kernel("routed"),
    servers: &[server("src", "Source", Restart::Never, Some("count = 100"))],
    pipes: &[],
    routes: &[route(1, 4)],
    ..PLAIN
};

static FED: Spec = Spec {
    kernel: kernel("fed"),
    servers: &[server("sink", "Sink", Restart::Never, None)],
    pipes: &[],
    control: None,
    processes: &[],
    mesh: Some(&MeshSpec {
        listen: &[],
        peers: &[],
        offer: &[Endpoint {
            server: "sink",
            terminal: "input",
        }],
    }),
    routes: &[],
    source: None,
};

use kernel::Restart;

#[test]
fn a_route_drains_its_output_in_order_under_back_pressure() {
    let mut b = KernelBuilder::new(&ROUTED);
    b.server::<Source>("src").unwrap();
    assert!(matches!(
        b.route::<Output<u64>>("sink.input"),
        Err(kernel::Error::UnknownRoute { .. })
    ));
    let mut drains = b.route::<Output<u64>>("src.out").unwrap();
    assert!(matches!(
        b.route::<Output<u64>>("src.out"),
        Err(kernel::Error::DuplicateRoute { .. })
    ));
    assert_eq!(drains.len(), 1);
    let (spec, mut drain) = drains.remove(0);
    assert_eq!(spec.id, Uuid::from_u128(1));
    let kernel = b.build().unwrap().with_signal_handlers(false);
    let connectome = kernel.connectome();
    let run = std::thread::spawn(move || kernel.run());
    // The route's pipe holds 4: the source blocks until the drain takes.
    let started = Instant::now();
    while drain.queued() < 4 {
        assert!(started.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(drain.queued(), 4);
    let mut got = Vec::new();
    loop {
        match drain.recv_timeout(Duration::from_secs(5)) {
            Drained::Message(v) => got.push(v),
            Drained::Closed => break,
            Drained::Empty => panic!("the route's pipe went quiet before the end"),
        }
    }
    assert_eq!(got, (0..100).collect::<Vec<u64>>());
    run.join().unwrap().unwrap();
    // No mesh runs this kernel: its route is listed, planned, and says so.
    let routes = connectome.routes();
    assert_eq!(routes.len(), 1);
    assert_eq!(routes[0].state, RouteState::Planned);
    assert_eq!(routes[0].direction, RouteDirection::Outbound);
    assert_eq!(routes[0].from, "src.out");
    assert!(
        routes[0]
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("no mesh")
    );
    // What `GET /api/v1/routes` and the MCP tool `routes` serve.
    let served = serde_json::to_value(connectome.topology().routes).unwrap();
    assert_eq!(served[0]["id"], Uuid::from_u128(1).to_string());
    assert_eq!(served[0]["from"], "src.out");
    assert_eq!(served[0]["state"], "planned");
    assert_eq!(served[0]["direction"], "outbound");
    for counter in ["sent", "received", "in_flight", "lost"] {
        assert_eq!(served[0][counter], 0, "{counter}");
    }
    // The exports draw it: from its server to the other kernel's end.
    let topology = connectome.topology();
    let remote = format!("remote:{}", routes[0].to);
    let dot = topology.to_dot();
    assert!(dot.contains(&format!("\"src\" -> \"{remote}\"")), "{dot}");
    assert!(
        dot.contains("style=dashed") && dot.contains("route planned"),
        "{dot}"
    );
    assert!(dot.contains("another kernel"), "{dot}");
    let mermaid = topology.to_mermaid();
    assert!(mermaid.contains("src -.->|\"route planned"), "{mermaid}");
    assert!(mermaid.contains("([\"another kernel<br/>"), "{mermaid}");
    let svg = kernel::control::svg::render(&topology);
    let id = Uuid::from_u128(1);
    assert!(
        svg.contains(&format!(r#"<g class="route" id="route-{id}""#)),
        "{svg}"
    );
    assert!(svg.contains(r#"data-state="planned""#), "{svg}");
    assert!(svg.contains(r#"<g class="remote""#), "{svg}");
    assert!(svg.contains("· 1 route ·"), "{svg}");
}

#[test]
fn a_fed_input_waits_for_its_producers_and_ends_when_they_finish() {
    let mut b = KernelBuilder::new(&FED);
    b.server_default::<Sink>("sink").unwrap();
    b.await_producers::<Input<u64>>("sink.input").unwrap();
    assert!(matches!(
        b.await_producers::<Input<u64>>("nobody.input"),
        Err(kernel::Error::UnknownTerminal { .. })
    ));
    let kernel = b.build().unwrap().with_signal_handlers(false);
    let control = kernel.control();
    let run = std::thread::spawn(move || kernel.run());
    let from = Endpoint {
        server: "north/src",
        terminal: "out",
    };
    std::thread::sleep(Duration::from_millis(200));
    // No producer yet, and the sink waits instead of ending.
    assert!(control.connectome().is_running());
    // Another message type than the sink attached with is refused.
    let typed = control.feed::<String>(Uuid::from_u128(9), from, "sink.input", 8);
    assert!(
        matches!(typed, Err(ControlError::TypeMismatch { .. })),
        "{typed:?}"
    );
    let first = control
        .feed::<u64>(Uuid::from_u128(7), from, "sink.input", 8)
        .unwrap();
    // An `Input` takes one producer.
    let second = control.feed::<u64>(Uuid::from_u128(8), from, "sink.input", 8);
    assert!(
        matches!(second, Err(ControlError::Rule { .. })),
        "{second:?}"
    );
    for v in 0..8 {
        first.try_send(v).unwrap();
    }
    assert_eq!(first.free(), first.free().min(8));
    // Detached (dropped, not finished): the sink takes what is queued and
    // waits for another producer.
    drop(first);
    std::thread::sleep(Duration::from_millis(200));
    assert!(control.connectome().is_running());
    let again = control
        .feed::<u64>(Uuid::from_u128(8), from, "sink.input", 4)
        .unwrap();
    for v in 8..12 {
        while again.try_send(v).is_err() {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    again.finish();
    run.join().unwrap().unwrap();
    assert_eq!(received("fed", "sink"), (0..12).collect::<Vec<u64>>());
}
