//! The runtime through kernels generated from `tests/wiring/*.toml` by this
//! package's build script: the path a user takes, end to end.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use kernel::connectome::{PipeStatus, ServerState};
use kernel::{Connectome, Kernel};
use wiring_tests::servers::CRASHER_STARTS;

const MESSAGES: u64 = 1_000_000;

/// Runs a kernel to its end; returns its connectome and outcome, and prints
/// the throughput seen (for the record, never asserted).
fn run(kernel: Kernel) -> (Connectome, Result<(), kernel::Error>) {
    let connectome = kernel.connectome();
    let started = Instant::now();
    let outcome = kernel.run();
    let elapsed = started.elapsed();
    let delivered: u64 = connectome.pipes().iter().map(|p| p.messages_out).sum();
    eprintln!(
        "kernel `{}`: {delivered} messages delivered in {elapsed:.2?} ({:.2} M msg/s)",
        connectome.spec().kernel.name,
        delivered as f64 / elapsed.as_secs_f64() / 1e6
    );
    (connectome, outcome)
}

fn assert_drained(pipes: &[PipeStatus], per_pipe: u64) {
    for pipe in pipes {
        assert_eq!(
            (
                pipe.messages_in,
                pipe.messages_out,
                pipe.queue_depth,
                pipe.drops
            ),
            (per_pipe, per_pipe, 0, 0),
            "pipe {} -> {}",
            pipe.from,
            pipe.to
        );
    }
}

#[test]
fn fan_out_delivers_every_message_to_every_consumer_in_order() {
    let (connectome, outcome) = run(wiring_tests::fan_out::kernel().expect("boot fan-out"));
    // Each `InOrder` sink fails its kernel on a message out of order or missing.
    outcome.expect("every consumer saw 0..1M in order");
    let pipes = connectome.pipes();
    assert_eq!(pipes.len(), 3);
    assert_drained(&pipes, MESSAGES);
    for server in connectome.servers() {
        assert_eq!(server.state, ServerState::Finished, "{}", server.name);
    }
}

#[test]
fn fan_in_delivers_the_union_exactly_once_keeping_each_producers_order() {
    let (connectome, outcome) = run(wiring_tests::fan_in::kernel().expect("boot fan-in"));
    // The `Union` sink fails its kernel on a duplicate, a gap or a reordering.
    outcome.expect("the union of three producers, each in order");
    let pipes = connectome.pipes();
    assert_eq!(pipes.len(), 3);
    assert_drained(&pipes, MESSAGES);
    let capacities: Vec<usize> = pipes.iter().map(|p| p.capacity).collect();
    assert_eq!(capacities, [1024, 1024, 7]);
}

#[test]
fn a_server_that_keeps_panicking_is_restarted_then_given_up_on() {
    let kernel = wiring_tests::supervision::kernel()
        .expect("boot supervision")
        .with_restart_limit(3, Duration::from_secs(5));
    let (connectome, outcome) = run(kernel);
    let error = outcome.expect_err("the crasher fails the kernel");
    assert_eq!(error.failed_servers(), ["crasher"]);
    assert!(error.to_string().contains("panics on purpose"), "{error}");

    let crasher = connectome.server("crasher").expect("crasher");
    assert_eq!(crasher.state, ServerState::Failed);
    assert_eq!(crasher.restarts, 3);
    assert_eq!(
        CRASHER_STARTS.load(Ordering::SeqCst),
        4,
        "first start + 3 restarts"
    );
    let source = connectome.server("source").expect("source");
    assert_eq!(source.state, ServerState::Finished);
}

#[test]
fn the_generated_connectome_describes_the_wiring() {
    let spec = &wiring_tests::fan_in::CONNECTOME;
    assert_eq!(spec.kernel.name, "fan-in");
    assert_eq!(spec.kernel.fqdn, "localhost");
    let names: Vec<&str> = spec.servers.iter().map(|s| s.name).collect();
    assert_eq!(names, ["a", "b", "c", "union"]);
    let union = spec.server("union").expect("union");
    assert_eq!(
        union.uuid,
        kernel::connectome::server_uuid("fan-in", "union")
    );
    assert_eq!(
        union.identity,
        format!("localhost:union:0x00000103:test:no:none:{}", union.uuid)
    );
    for pipe in spec.pipes {
        let from = pipe.from.to_string();
        let to = pipe.to.to_string();
        assert_eq!(pipe.id, kernel::connectome::pipe_id("fan-in", &from, &to));
    }
}

#[test]
fn the_generated_connectome_carries_each_servers_manifest() {
    let spec = &wiring_tests::fan_in::CONNECTOME;
    let union = spec.server("union").expect("union");
    assert_eq!(union.manifest.class, 0x0103);
    let terminals: Vec<(&str, kernel::TerminalKind, &str)> = union
        .manifest
        .terminals
        .iter()
        .map(|t| (t.name, t.kind, t.message_type))
        .collect();
    assert_eq!(
        terminals,
        [("numbers", kernel::TerminalKind::Combine, "(u32, u64)")]
    );
}
