//! Live modification of a running kernel through [`kernel::Control`]:
//! pause keeps messages, disconnect drains or counts what it dropped,
//! connect checks the wiring rules and message types, restart and stop.

use crate::common;
use crate::control_common::*;
use kernel::control::DisconnectMode;
use kernel::control::events::Subject;
use kernel::{ConnectionState, ControlError, RuleViolation, ServerState};
use wiring_model::Code;

#[test]
fn a_paused_pipe_keeps_its_messages_and_nothing_is_lost() {
    let running = Running::start(build(spec("pause")));
    // The producer fills the pipe and blocks; the consumer takes nothing.
    running.pause_when_flowing_until_full(SRC_A);
    assert_eq!(running.pipe(SRC_A).state, ConnectionState::Paused);
    let out = running.pipe(SRC_A).messages_out;
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert!(running.pipe(SRC_A).messages_out <= out + 1);
    // Pausing twice is refused by the state table and changes nothing.
    let events = running.control.connectome().events().last_seq();
    assert!(matches!(
        running.control.pause(SRC_A),
        Err(ControlError::Transition(_))
    ));
    assert_eq!(running.control.connectome().events().last_seq(), events);
    running.control.resume(SRC_A).unwrap();
    running.wait_until("a catches up", |c| {
        c.connectome()
            .pipe(SRC_A)
            .is_some_and(|p| p.messages_out > out + 100)
    });
    running.finish().unwrap();
    let got = received("pause", "a");
    assert!(got.len() > 100);
    assert!(contiguous(&got), "gap or repeat in {got:?}");
}

#[test]
fn disconnect_drains_then_a_reconnect_flows_again() {
    let running = Running::start(build(spec("drain")));
    running.wait_until("b receives", |c| {
        c.connectome()
            .pipe(FAN_B)
            .is_some_and(|p| p.messages_out > 10)
    });
    let d = running
        .control
        .disconnect(FAN_B, DisconnectMode::Drain)
        .unwrap();
    assert_eq!(d.dropped, 0);
    running.wait_until("the pipe closes", |c| {
        c.topology()
            .connection(&FAN_B.to_string())
            .is_some_and(|p| p.state == "closed")
    });
    let p = running.pipe(FAN_B);
    assert_eq!((p.messages_in, p.drops), (p.messages_out, 0));
    // b waits for a new producer instead of ending.
    assert_eq!(
        running.control.connectome().server("b").unwrap().state,
        ServerState::Running
    );
    let id = running
        .control
        .connect("fan.out", "b.input", Some(16))
        .unwrap();
    assert_eq!(running.pipe(id).state, ConnectionState::Connected);
    assert!(running.pipe(id).live);
    running.wait_until("the new pipe flows", |c| {
        c.connectome().pipe(id).is_some_and(|p| p.messages_out > 10)
    });
    running.finish().unwrap();
    let got = received("drain", "b");
    // Every number b got is distinct and in order (a gap while disconnected).
    assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
    let events = running_events_of(&got);
    assert!(events > 0);
}

fn running_events_of(v: &[u64]) -> usize {
    v.len()
}

#[test]
fn disconnect_in_drop_mode_counts_what_it_dropped() {
    let running = Running::start(build(spec("drop")));
    running.pause_when_flowing_until_full(SRC_A);
    let d = running
        .control
        .disconnect(SRC_A, DisconnectMode::Drop)
        .unwrap();
    assert!(d.dropped >= 60, "{d:?}");
    running.wait_until("the pipe closes", |c| {
        c.connectome()
            .pipe(SRC_A)
            .is_some_and(|p| p.state == ConnectionState::Closed)
    });
    let p = running.pipe(SRC_A);
    assert_eq!(p.messages_in, p.messages_out + p.drops, "{p:?}");
    assert!(p.drops >= d.dropped);
    running.finish().unwrap();
}

#[test]
fn connect_applies_the_wiring_rules_and_message_types() {
    let running = Running::start(build(spec("rules")));
    let c = &running.control;
    let rule = |r: Result<_, ControlError>| match r {
        Err(ControlError::Rule { violation, .. }) => violation.code(),
        other => panic!("expected a rule violation, got {other:?}"),
    };
    // An Output takes one consumer (E0301), an Input one producer (E0302).
    assert_eq!(
        rule(c.connect("src.out", "spare.input", None)),
        Code::FanOutWithoutMultiplexer
    );
    assert_eq!(
        rule(c.connect("fan.out", "a.input", None)),
        Code::FanInWithoutCombiner
    );
    // Direction (E0201, E0202).
    assert_eq!(
        rule(c.connect("a.input", "spare.input", None)),
        Code::SourceNotOutput
    );
    assert_eq!(
        rule(c.connect("fan.out", "src.out", None)),
        Code::TargetNotInput
    );
    assert!(matches!(
        c.connect("words.out", "spare.input", None),
        Err(ControlError::TypeMismatch { .. })
    ));
    assert!(matches!(
        c.connect("nope.out", "spare.input", None),
        Err(ControlError::UnknownServer { .. })
    ));
    assert!(matches!(
        c.connect("fan.nope", "spare.input", None),
        Err(ControlError::UnknownTerminal { .. })
    ));
    assert!(matches!(
        c.connect("fan", "spare.input", None),
        Err(ControlError::BadRequest(_))
    ));
    assert!(matches!(
        c.connect("fan.out", "spare.input", Some(0)),
        Err(ControlError::BadRequest(_))
    ));
    let before = c.connectome().pipes().len();
    // A Multiplex fans out to one more consumer.
    let id = c.connect("fan.out", "spare.input", None).unwrap();
    assert!(matches!(
        c.connect("fan.out", "spare.input", None),
        Err(ControlError::Duplicate { .. })
    ));
    assert_eq!(c.connectome().pipes().len(), before + 1);
    running.wait_until("spare receives", |c| {
        c.connectome().pipe(id).is_some_and(|p| p.messages_out > 5)
    });
    let t = c.topology();
    let view = t.connection(&id.to_string()).unwrap();
    assert!(view.fan_out && view.live);
    assert_eq!(
        RuleViolation::FanOutWithoutMultiplexer { consumers: 2 }.code(),
        Code::FanOutWithoutMultiplexer
    );
    running.finish().unwrap();
}

#[test]
fn restart_keeps_the_pipes_and_stop_ends_the_stream() {
    let running = Running::start(build(spec("restart")));
    running.wait_until("a receives", |c| {
        c.connectome()
            .pipe(SRC_A)
            .is_some_and(|p| p.messages_out > 10)
    });
    running.control.with_cause("test").restart("a").unwrap();
    running.wait_until("a restarted", |c| {
        c.connectome()
            .server("a")
            .is_some_and(|s| s.restarts == 1 && s.state == ServerState::Running)
    });
    let out = running.pipe(SRC_A).messages_out;
    running.wait_until("a receives again", |c| {
        c.connectome()
            .pipe(SRC_A)
            .is_some_and(|p| p.messages_out > out + 10)
    });
    let events = running.control.connectome().events().since(0).events;
    assert!(
        events
            .iter()
            .any(|e| e.to == "restarting" && e.cause == "test")
    );
    // Stop the source for good: a sees end of stream and finishes.
    running.control.stop("src").unwrap();
    running.wait_until("src stopped, a finished, the pipe closed", |c| {
        let cn = c.connectome();
        cn.server("src")
            .is_some_and(|s| s.state == ServerState::Stopped)
            && cn
                .server("a")
                .is_some_and(|s| s.state == ServerState::Finished)
            && cn
                .pipe(SRC_A)
                .is_some_and(|p| p.state == ConnectionState::Closed)
    });
    // Ended: it cannot be stopped again (an operator may restart it).
    assert!(matches!(
        running.control.stop("src"),
        Err(ControlError::ServerState { .. })
    ));
    running.finish().unwrap();
    let got = received("restart", "a");
    assert!(contiguous(&got), "a restart lost or repeated a message");
}

#[test]
fn a_kernel_stopping_with_a_paused_pipe_drains_it() {
    let running = Running::start(build(spec("stop-paused")));
    running.pause_when_flowing_until_full(SRC_A);
    let control = running.control.clone();
    running.finish().unwrap();
    let p = control.connectome().pipe(SRC_A).unwrap();
    assert_eq!((p.queue_depth, p.drops), (0, 0), "{p:?}");
    assert_eq!(p.state, ConnectionState::Closed);
    assert!(contiguous(&received("stop-paused", "a")));
    // Every pipe ends closed, every server stopped, by allowed transitions.
    for p in control.connectome().pipes() {
        assert_eq!(p.state, ConnectionState::Closed, "{p:?}");
    }
}

/// Sends 0..100 as fast as the pipe takes them, then finishes.
#[derive(Manifest)]
#[manifest(class = 1, owner = "test")]
struct Burst {
    out: kernel::prelude::Output<u64>,
}

impl kernel::prelude::Server for Burst {
    type Config = TickConfig;
    fn new(_: TickConfig) -> Self {
        Burst {
            out: Default::default(),
        }
    }
    fn run(&mut self, _: &kernel::prelude::Context) -> Result<(), kernel::prelude::ServerError> {
        for i in 0..100 {
            self.out.send(i)?;
        }
        Ok(())
    }
}

/// Takes 100 messages, 5 ms each, then idles without asking for
/// more (so it never sees the end of the stream) until the kernel stops.
#[derive(Manifest)]
#[manifest(class = 1, owner = "test")]
struct Dawdler {
    input: kernel::prelude::Input<u64>,
}

impl kernel::prelude::Server for Dawdler {
    type Config = TickConfig;
    fn new(_: TickConfig) -> Self {
        Dawdler {
            input: Default::default(),
        }
    }
    fn run(&mut self, ctx: &kernel::prelude::Context) -> Result<(), kernel::prelude::ServerError> {
        for _ in 0..100 {
            self.input.recv();
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        while !ctx.stopping() {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        Ok(())
    }
}

#[test]
fn the_kernel_alone_closes_a_connection_once_it_drained() {
    // The producer finishes with its pipe full; the consumer drains it
    // slowly and then holds on to its end: draining to closed moves no pipe
    // end, so only the kernel's tick watching the draining pipe closes it.
    // Only `connectome()` reads below, which never reconcile.
    static SERVERS: [kernel::ServerSpec; 2] = [
        common::server("burst", "test", kernel::Restart::Never, Some("")),
        common::server("dawdler", "test", kernel::Restart::Never, Some("")),
    ];
    static PIPES: [kernel::PipeSpec; 1] =
        [common::pipe(9, ("burst", "out"), ("dawdler", "input"), 16)];
    let mut b = kernel::KernelBuilder::new(spec_of("tick", &SERVERS, &PIPES));
    b.server::<Burst>("burst").unwrap();
    b.server::<Dawdler>("dawdler").unwrap();
    b.connect_named::<kernel::prelude::Output<u64>, kernel::prelude::Input<u64>>(
        "burst.out",
        "dawdler.input",
    )
    .unwrap();
    let kernel = b.build().unwrap().with_signal_handlers(false);
    let running = Running::start(kernel);
    let id = PIPES[0].id;
    running.wait_until("the pipe drained and closed", |c| {
        c.connectome()
            .pipe(id)
            .is_some_and(|p| p.state == ConnectionState::Closed)
    });
    let p = running.pipe(id);
    assert_eq!(
        (p.messages_out, p.queue_depth, p.drops),
        (100, 0, 0),
        "{p:?}"
    );
    assert_eq!(
        running
            .control
            .connectome()
            .server("dawdler")
            .unwrap()
            .state,
        ServerState::Running
    );
    let log = running.control.connectome().events().since(0).events;
    let steps: Vec<(&str, &str)> = log
        .iter()
        .filter(|e| matches!(e.subject, Subject::Connection { id: i, .. } if i == id))
        .map(|e| (e.to, e.cause.as_str()))
        .collect();
    assert!(
        steps.ends_with(&[
            ("draining", "producer `burst` finished"),
            ("closed", "drained")
        ]),
        "{steps:?}"
    );
    running.finish().unwrap();
}

#[test]
fn a_stop_reaches_a_producer_blocked_on_a_paused_pipe() {
    let running = Running::start(build(spec("stop-blocked")));
    running.pause_when_flowing_until_full(SRC_A);
    // src waits in `send` for room that will not come while paused; the
    // request leaves the message with the kernel, the send returns and src
    // sees `stopping()`.
    running.control.stop("src").unwrap();
    running.wait_until("src stopped, the pipe drained and closed", |c| {
        let cn = c.connectome();
        cn.server("src")
            .is_some_and(|s| s.state == ServerState::Stopped)
            && cn
                .pipe(SRC_A)
                .is_some_and(|p| p.state == ConnectionState::Closed && p.queue_depth == 0)
    });
    // The stopped instance's message could not go into the paused, full
    // pipe: counted as entered and dropped, never lost silently.
    let p = running.pipe(SRC_A);
    assert_eq!((p.messages_in, p.drops), (p.messages_out + 1, 1), "{p:?}");
    let src = running.control.connectome().server("src").unwrap();
    assert_eq!(src.last_error, None, "{src:?}");
    running.finish().unwrap();
    assert!(contiguous(&received("stop-blocked", "a")));
}

/// Forwards every message, the idiomatic way: `send(x)?`.
#[derive(Manifest)]
#[manifest(class = 1, owner = "test")]
struct Relay {
    input: kernel::prelude::Input<u64>,
    out: kernel::prelude::Output<u64>,
}

impl kernel::prelude::Server for Relay {
    type Config = TickConfig;
    fn new(_: TickConfig) -> Self {
        Relay {
            input: Default::default(),
            out: Default::default(),
        }
    }
    fn run(&mut self, _: &kernel::prelude::Context) -> Result<(), kernel::prelude::ServerError> {
        while let Some(x) = self.input.recv() {
            self.out.send(x)?;
        }
        Ok(())
    }
}

#[test]
fn restarts_of_a_relay_behind_a_paused_pipe_lose_nothing() {
    // src -> relay -> a; the relay's output is paused and full, so every
    // restart finds it blocked in `send` with a message it took in.
    static SERVERS: [kernel::ServerSpec; 3] = [
        common::server(
            "src",
            "test",
            kernel::Restart::Never,
            Some("every_us = 100\n"),
        ),
        common::server("relay", "test", kernel::Restart::Never, Some("")),
        common::server("a", "test", kernel::Restart::Never, Some("")),
    ];
    static PIPES: [kernel::PipeSpec; 2] = [
        common::pipe(21, ("src", "out"), ("relay", "input"), 64),
        common::pipe(22, ("relay", "out"), ("a", "input"), 64),
    ];
    let mut b = kernel::KernelBuilder::new(spec_of("relay-restarts", &SERVERS, &PIPES));
    b.server::<Ticker>("src").unwrap();
    b.server::<Relay>("relay").unwrap();
    b.server::<Sink>("a").unwrap();
    b.connect_named::<kernel::prelude::Output<u64>, kernel::prelude::Input<u64>>(
        "src.out",
        "relay.input",
    )
    .unwrap();
    b.connect_named::<kernel::prelude::Output<u64>, kernel::prelude::Input<u64>>(
        "relay.out",
        "a.input",
    )
    .unwrap();
    let kernel = b.build().unwrap().with_signal_handlers(false);
    let running = Running::start(kernel);
    let (into_relay, out_of_relay) = (PIPES[0].id, PIPES[1].id);
    running.pause_when_flowing_until_full(out_of_relay);
    let blocked = |c: &kernel::Control| {
        c.connectome()
            .server("relay")
            .and_then(|s| s.waiting)
            .is_some_and(|w| w.kind == kernel::WaitKind::FullOutput && w.pipes == [out_of_relay])
    };
    for n in 1..=10 {
        running.wait_until("the relay is blocked on its full output", blocked);
        running.control.restart("relay").unwrap();
        running.wait_until("the relay restarted", |c| {
            c.connectome()
                .server("relay")
                .is_some_and(|s| s.restarts == n && s.state == ServerState::Running)
        });
    }
    running.wait_until("the relay is blocked again", blocked);
    // The stall shows while it lasts, in the pipe and in the server.
    let stalled = running.pipe(out_of_relay);
    assert!(stalled.blocked_now.is_some(), "{stalled:?}");
    assert!(stalled.blocked >= stalled.blocked_now.unwrap_or_default());
    let relay = running.control.connectome().server("relay").unwrap();
    assert_eq!(
        relay.last_error, None,
        "a restart is not a failure: {relay:?}"
    );
    running.control.resume(out_of_relay).unwrap();
    let taken = running.pipe(into_relay).messages_out;
    running.wait_until("a receives everything the relay took in", |c| {
        c.connectome()
            .pipe(out_of_relay)
            .is_some_and(|p| p.messages_out >= taken)
    });
    let control = running.control.clone();
    running.finish().unwrap();
    let got = received("relay-restarts", "a");
    assert!(got.len() as u64 >= taken);
    assert!(contiguous(&got), "a restart lost or repeated a message");
    let p = control.connectome().pipe(out_of_relay).unwrap();
    assert_eq!(p.drops, 0, "{p:?}");
}
