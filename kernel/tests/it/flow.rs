//! Data flow through pipes: fan-out, fan-in, end of stream, counters.

use std::time::{Duration, Instant};

use crate::common::*;
use kernel::{KernelBuilder, Output, Restart, ServerState, Spec};

const MILLION: u64 = 1_000_000;

static FAN_OUT: Spec = Spec {
    kernel: kernel("fan_out"),
    servers: &[
        server("src", "FanSource", Restart::Never, Some("count = 1000000")),
        server("a", "Sink", Restart::Never, None),
        server("b", "Sink", Restart::Never, None),
        server("c", "Sink", Restart::Never, None),
    ],
    pipes: &[
        pipe(1, ("src", "out"), ("a", "input"), 1024),
        pipe(2, ("src", "out"), ("b", "input"), 1024),
        pipe(3, ("src", "out"), ("c", "input"), 1024),
    ],
    ..PLAIN
};

#[test]
fn fan_out_delivers_every_message_to_every_consumer_in_order() {
    let t = Instant::now();
    let mut b = KernelBuilder::new(&FAN_OUT);
    b.server::<FanSource>("src").unwrap();
    for name in ["a", "b", "c"] {
        b.server_default::<Sink>(name).unwrap();
        b.connect_named::<kernel::Multiplex<u64>, kernel::Input<u64>>(
            "src.out",
            &format!("{name}.input"),
        )
        .unwrap();
    }
    let kernel = b.build().unwrap();
    let connectome = kernel.connectome();
    kernel.run().unwrap();
    for name in ["a", "b", "c"] {
        let got = received("fan_out", name);
        assert_eq!(got.len() as u64, MILLION, "consumer {name}");
        assert!(
            got.iter().enumerate().all(|(i, v)| *v == i as u64),
            "consumer {name} out of order"
        );
    }
    for p in connectome.pipes() {
        assert_eq!(p.messages_in, MILLION);
        assert_eq!(p.messages_out, MILLION);
        assert_eq!(p.queue_depth, 0);
        assert_eq!(p.drops, 0);
    }
    assert!(
        connectome
            .servers()
            .iter()
            .all(|s| s.state == ServerState::Finished)
    );
    eprintln!("fan-out of 1M to 3 consumers: {:?}", t.elapsed());
}

static FAN_IN: Spec = Spec {
    kernel: kernel("fan_in"),
    servers: &[
        server(
            "p0",
            "Source",
            Restart::Never,
            Some("count = 333334\ntag = 0"),
        ),
        server(
            "p1",
            "Source",
            Restart::Never,
            Some("count = 333333\ntag = 1"),
        ),
        server(
            "p2",
            "Source",
            Restart::Never,
            Some("count = 333333\ntag = 2"),
        ),
        server("merge", "Merge", Restart::Never, None),
    ],
    pipes: &[
        pipe(1, ("p0", "out"), ("merge", "inputs"), 64),
        pipe(2, ("p1", "out"), ("merge", "inputs"), 64),
        pipe(3, ("p2", "out"), ("merge", "inputs"), 64),
    ],
    ..PLAIN
};

#[test]
fn fan_in_delivers_the_union_exactly_once_in_per_producer_order() {
    let t = Instant::now();
    let mut b = KernelBuilder::new(&FAN_IN);
    b.server_default::<Merge>("merge").unwrap();
    for name in ["p0", "p1", "p2"] {
        b.server::<Source>(name).unwrap();
        b.connect_named::<Output<u64>, kernel::Combine<u64>>(
            &format!("{name}.out"),
            "merge.inputs",
        )
        .unwrap();
    }
    let kernel = b.build().unwrap();
    let connectome = kernel.connectome();
    kernel.run().unwrap();
    let got = received("fan_in", "merge");
    assert_eq!(got.len() as u64, MILLION);
    let mut next = [0u64; 3];
    for v in got {
        let (tag, i) = ((v >> 32) as usize, v & 0xffff_ffff);
        assert_eq!(i, next[tag], "producer {tag} out of order");
        next[tag] += 1;
    }
    assert_eq!(next, [333_334, 333_333, 333_333]);
    let total: u64 = connectome.pipes().iter().map(|p| p.messages_out).sum();
    assert_eq!(total, MILLION);
    eprintln!("fan-in of 1M from 3 producers: {:?}", t.elapsed());
}

static CHAIN: Spec = Spec {
    kernel: kernel("chain"),
    servers: &[
        server("src", "Source", Restart::Never, Some("count = 200")),
        server("slow", "Sink", Restart::Never, Some("delay_ms = 1")),
    ],
    pipes: &[pipe(1, ("src", "out"), ("slow", "input"), 4)],
    ..PLAIN
};

#[test]
fn end_of_stream_ends_the_kernel_and_counters_add_up() {
    let mut b = KernelBuilder::new(&CHAIN);
    b.server::<Source>("src")
        .unwrap()
        .server::<Sink>("slow")
        .unwrap()
        .connect_named::<Output<u64>, kernel::Input<u64>>("src.out", "slow.input")
        .unwrap();
    let kernel = b.build().unwrap().with_signal_handlers(false);
    let connectome = kernel.connectome();
    kernel.run().unwrap();

    assert_eq!(received("chain", "slow"), (0..200).collect::<Vec<_>>());
    let p = &connectome.pipes()[0];
    assert_eq!(
        (p.messages_in, p.messages_out, p.queue_depth),
        (200, 200, 0)
    );
    assert!(
        p.blocked > Duration::ZERO,
        "a slow consumer blocks the producer"
    );
    let report = connectome.report();
    assert!(report.throughput(p) > 0.0);
    let text = report.to_string();
    eprintln!("{text}");
    assert!(text.contains("src.out -> slow.input"), "{text}");
    assert!(text.contains("finished"), "{text}");
    assert!(text.contains(&p.id.to_string()), "{text}");
}

static UNCONNECTED: Spec = Spec {
    kernel: kernel("unconnected"),
    servers: &[server("lonely", "Sink", Restart::Never, None)],
    pipes: &[],
    ..PLAIN
};

#[test]
fn an_unconnected_input_is_at_end_of_stream() {
    let mut b = KernelBuilder::new(&UNCONNECTED);
    b.server_default::<Sink>("lonely").unwrap();
    b.build().unwrap().run().unwrap();
    assert!(received("unconnected", "lonely").is_empty());
}
