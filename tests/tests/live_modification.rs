//! Live modification keeps a pipeline alive: terminals whose peers an
//! operator disconnected wait for new ones, and a connection made again
//! between the same terminals (same id) is a new pipe that works.

use std::time::{Duration, Instant};

use kernel::control::DisconnectMode;
use kernel::{ConnectionState, Connectome, ServerState};
use wiring_tests::chaos::LEDGER;

fn pipe_between(connectome: &Connectome, from: &str, to: &str) -> kernel::connectome::PipeStatus {
    connectome
        .pipes()
        .into_iter()
        .find(|p| p.from.to_string() == from && p.to.to_string() == to)
        .unwrap_or_else(|| panic!("no pipe {from} -> {to}"))
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn received_from(source: u32) -> usize {
    LEDGER
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .received
        .get("sink")
        .map_or(0, |all| all.iter().filter(|m| m.source == source).count())
}

/// The sequence of issue 15, defect 1: drain-disconnect `src_a -> relay`,
/// `relay -> sink`, `src_b -> sink`; connect `src_a -> relay` and
/// `relay -> sink` again: the sink (a `Combine`) did not finish, and the
/// relay's messages reach it again.
#[test]
fn a_combine_consumer_waits_for_new_producers_after_its_producers_were_disconnected() {
    let kernel = wiring_tests::chaos_kernel::kernel()
        .expect("boot")
        .with_signal_handlers(false);
    let connectome = kernel.connectome();
    let control = kernel.control().with_cause("test");
    let stop = kernel.stop_handle();
    let run = std::thread::spawn(move || kernel.run());
    wait_for("messages from both sources", || {
        received_from(0) > 100 && received_from(1) > 100
    });

    for (from, to) in [
        ("src_a.out", "relay.input"),
        ("relay.output", "sink.inputs"),
        ("src_b.out", "sink.inputs"),
    ] {
        let id = pipe_between(&connectome, from, to).id;
        control
            .disconnect(id, DisconnectMode::Drain)
            .unwrap_or_else(|e| panic!("disconnect {from} -> {to}: {e}"));
        wait_for(&format!("{from} -> {to} to drain"), || {
            pipe_between(&connectome, from, to).state == ConnectionState::Closed
        });
    }
    std::thread::sleep(Duration::from_millis(100));
    for server in ["relay", "sink"] {
        let state = connectome.server(server).map(|s| s.state);
        assert_eq!(
            state,
            Some(ServerState::Running),
            "{server} waits for a producer"
        );
    }

    let before = received_from(0);
    control
        .connect("src_a.out", "relay.input", None)
        .expect("src_a -> relay connects again");
    control
        .connect("relay.output", "sink.inputs", None)
        .expect("relay -> sink connects again");
    wait_for("source 0's messages at the sink again", || {
        received_from(0) > before + 100
    });
    stop.stop();
    let _ = run.join();
}
