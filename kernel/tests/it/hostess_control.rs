//! The Hostess joined to the control surface: every server of a kernel is
//! a walk-in guest, the wiring's terminals are booked at boot under the
//! pipe ids, a live connect books its terminals, a disconnect frees them,
//! and the topology shows guests and connectome ids.

use crate::control_common::*;
use kernel::Uuid;
use kernel::control::ControlError;
use kernel::hostess::{ReserveRequest, TerminalRef, TerminalUse};

/// The use of `server.terminal` as the Hostess has it.
fn usage(running: &Running, server: &str, terminal: &str) -> TerminalUse {
    let connectome = running.control.connectome();
    let spec = connectome.spec().server(server).expect("server");
    let guest = connectome.hostess().guest(spec.uuid).expect("guest");
    guest.terminal(terminal).expect("terminal").usage.clone()
}

fn ids(running: &Running, server: &str, terminal: &str) -> Vec<Uuid> {
    let mut ids = usage(running, server, terminal).connectome().to_vec();
    ids.sort();
    ids
}

#[test]
fn every_server_is_a_guest_and_boot_books_every_wired_terminal() {
    let running = Running::start(build(hosted_spec("hostess-boot")));
    let connectome = running.control.connectome();
    assert_eq!(connectome.hostess().len(), 7);
    for server in connectome.spec().servers {
        let guest = connectome.hostess().guest(server.uuid).expect("registered");
        assert_eq!(guest.identity.to_string(), server.identity);
    }
    assert_eq!(ids(&running, "src", "out"), [SRC_A]);
    assert_eq!(ids(&running, "a", "input"), [SRC_A]);
    assert_eq!(ids(&running, "fan", "out"), [FAN_B, FAN_MERGE]);
    assert_eq!(ids(&running, "b", "input"), [FAN_B]);
    assert_eq!(ids(&running, "merge", "inputs"), [FAN_MERGE]);
    for (server, terminal) in [("spare", "input"), ("words", "out")] {
        assert_eq!(usage(&running, server, terminal), TerminalUse::Free);
    }
    // All of it under one reservation of the control surface.
    let reservations = connectome.hostess().reservations();
    assert_eq!(reservations.len(), 1, "{reservations:?}");
    assert_eq!(reservations[0].holder, "control");
    assert_eq!(reservations[0].terminals.len(), 5);

    // The topology shows each server's guest identity and each terminal's
    // connectome ids.
    let topology = running.control.topology();
    let fan = topology.server("fan").expect("fan");
    assert_eq!(fan.guest.as_deref(), Some(fan.identity.as_str()));
    let out = &fan.terminals[0];
    assert_eq!(out.booking.as_deref(), Some("in_use"));
    let mut shown = out.connectome.clone();
    shown.sort();
    assert_eq!(shown, [FAN_B.to_string(), FAN_MERGE.to_string()]);
    let spare = topology.server("spare").expect("spare");
    assert_eq!(spare.terminals[0].booking.as_deref(), Some("free"));
    assert!(spare.terminals[0].connectome.is_empty());
    running.finish().expect("kernel ends cleanly");
}

#[test]
fn a_live_connect_books_its_terminals_and_disconnect_frees_them() {
    let running = Running::start(build(hosted_spec("hostess-live")));
    let control = &running.control;
    let id = control
        .connect("fan.out", "spare.input", None)
        .expect("connect");
    assert_eq!(ids(&running, "spare", "input"), [id]);
    let mut fan = vec![FAN_B, FAN_MERGE, id];
    fan.sort();
    assert_eq!(ids(&running, "fan", "out"), fan);
    assert!(matches!(
        usage(&running, "spare", "input"),
        TerminalUse::InUse { ref holder, .. } if holder == "control"
    ));

    // Disconnecting frees what was booked under the id alone: the
    // multiplexer keeps its other consumers.
    control
        .disconnect(id, kernel::control::DisconnectMode::Drop)
        .expect("disconnect");
    assert_eq!(usage(&running, "spare", "input"), TerminalUse::Free);
    assert_eq!(ids(&running, "fan", "out"), [FAN_B, FAN_MERGE]);

    // A pipe of the wiring: both of its terminals are freed.
    control
        .disconnect(SRC_A, kernel::control::DisconnectMode::Drain)
        .expect("disconnect");
    assert_eq!(usage(&running, "src", "out"), TerminalUse::Free);
    assert_eq!(usage(&running, "a", "input"), TerminalUse::Free);
    let topology = control.topology();
    let a = topology.server("a").expect("a");
    assert_eq!(a.terminals[0].booking.as_deref(), Some("free"));

    // Connected again: booked again.
    let again = control
        .connect("fan.out", "spare.input", None)
        .expect("connect again");
    assert_eq!(again, id);
    assert_eq!(ids(&running, "spare", "input"), [id]);
    running.finish().expect("kernel ends cleanly");
}

#[test]
fn a_terminal_reserved_by_someone_else_cannot_be_connected() {
    let running = Running::start(build(hosted_spec("hostess-taken")));
    let connectome = running.control.connectome();
    let spare = connectome.spec().server("spare").expect("spare").uuid;
    let grant = connectome
        .hostess()
        .reserve(ReserveRequest {
            holder: "someone".to_owned(),
            terminals: vec![TerminalRef::new(spare, "input")],
            ttl: None,
        })
        .expect("reserve");
    let pipes = connectome.pipes().len();
    let before = connectome.events().last_seq();
    let e = running
        .control
        .connect("fan.out", "spare.input", None)
        .expect_err("refused");
    assert!(
        matches!(
            e,
            ControlError::Refused {
                policy: "hostess",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("someone"), "{e}");
    // Nothing changed: no pipe, no event, the multiplexer keeps its ids.
    assert_eq!(connectome.pipes().len(), pipes);
    assert_eq!(connectome.events().last_seq(), before);
    assert_eq!(ids(&running, "fan", "out"), [FAN_B, FAN_MERGE]);

    // Released: the connect goes through.
    connectome.hostess().release(grant.id).expect("release");
    running
        .control
        .connect("fan.out", "spare.input", None)
        .expect("connect");
    running.finish().expect("kernel ends cleanly");
}

#[test]
fn a_hand_written_kernel_without_guests_still_connects() {
    // All servers share uuid 0 and declare no terminals: booking at boot
    // fails (logged), and live changes go on without the Hostess.
    let running = Running::start(build(spec("hostess-none")));
    let connectome = running.control.connectome();
    assert!(connectome.hostess().reservations().is_empty());
    let id = running
        .control
        .connect("fan.out", "spare.input", None)
        .expect("connect");
    running
        .control
        .disconnect(id, kernel::control::DisconnectMode::Drop)
        .expect("disconnect");
    let topology = running.control.topology();
    assert!(
        topology
            .servers
            .iter()
            .flat_map(|s| &s.terminals)
            .all(|t| t.booking.is_none() && t.connectome.is_empty())
    );
    running.finish().expect("kernel ends cleanly");
}

#[test]
fn a_pipe_disconnected_before_the_kernel_runs_is_not_booked() {
    let kernel = build(hosted_spec("hostess-before"));
    kernel
        .control()
        .disconnect(SRC_A, kernel::control::DisconnectMode::Drop)
        .expect("disconnect before run");
    let running = Running::start(kernel);
    assert_eq!(usage(&running, "src", "out"), TerminalUse::Free);
    assert_eq!(usage(&running, "a", "input"), TerminalUse::Free);
    assert_eq!(ids(&running, "fan", "out"), [FAN_B, FAN_MERGE]);
    running.finish().expect("kernel ends cleanly");
}

#[test]
fn a_pipe_that_ends_by_itself_frees_its_terminals() {
    let running = Running::start(build(hosted_spec("hostess-ends")));
    assert_eq!(ids(&running, "src", "out"), [SRC_A]);
    // The producer stops for good: its pipe drains and closes, and the
    // Hostess no longer books its terminals under its id.
    running.control.stop("src").expect("stop");
    running.wait_until("the pipe closed", |c| {
        c.connectome()
            .pipe(SRC_A)
            .is_some_and(|p| p.state == kernel::ConnectionState::Closed)
    });
    assert_eq!(usage(&running, "src", "out"), TerminalUse::Free);
    assert_eq!(usage(&running, "a", "input"), TerminalUse::Free);
    assert_eq!(ids(&running, "fan", "out"), [FAN_B, FAN_MERGE]);
    running.finish().expect("kernel ends cleanly");
}
