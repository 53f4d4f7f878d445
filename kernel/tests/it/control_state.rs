//! Property: random command sequences on a running kernel never reach a
//! state the transition table forbids, and a refused command changes
//! nothing (it logs no transition).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::control_common::*;
use kernel::control::DisconnectMode;
use kernel::control::state::{ConnectionState, Machine, ServerState, allowed};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Command {
    Pause(usize),
    Resume(usize),
    Disconnect(usize, bool),
    Connect(usize),
    Restart(usize),
    Stop(usize),
}

/// Valid and invalid connections alike.
const PAIRS: [(&str, &str); 7] = [
    ("fan.out", "spare.input"),
    ("fan.out", "b.input"),
    ("src.out", "a.input"),
    ("src.out", "spare.input"),
    ("words.out", "spare.input"),
    ("a.input", "b.input"),
    ("fan.out", "merge.inputs"),
];
const SERVERS: [&str; 7] = ["src", "fan", "a", "b", "merge", "spare", "words"];

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        3 => (0..8usize).prop_map(Command::Pause),
        3 => (0..8usize).prop_map(Command::Resume),
        2 => (0..8usize, any::<bool>()).prop_map(|(i, d)| Command::Disconnect(i, d)),
        3 => (0..PAIRS.len()).prop_map(Command::Connect),
        1 => (0..SERVERS.len()).prop_map(Command::Restart),
        1 => (0..SERVERS.len()).prop_map(Command::Stop),
    ]
}

static CASE: AtomicUsize = AtomicUsize::new(0);

/// Every logged transition is allowed and continues where the subject's
/// previous transition ended (or starts a new connection after a final state).
fn check_log(control: &kernel::Control) {
    let log = control.connectome().events().since(0);
    assert_eq!(log.missed, 0);
    let mut last: BTreeMap<String, &'static str> = BTreeMap::new();
    for e in &log.events {
        match e.subject.kind() {
            "connection" => {
                let (Some(from), Some(to)) =
                    (ConnectionState::parse(e.from), ConnectionState::parse(e.to))
                else {
                    panic!("unknown state in {e:?}");
                };
                assert!(allowed(from, to), "forbidden transition {e:?}");
            }
            _ => {
                let (Some(from), Some(to)) = (ServerState::parse(e.from), ServerState::parse(e.to))
                else {
                    panic!("unknown state in {e:?}");
                };
                assert!(allowed(from, to), "forbidden transition {e:?}");
            }
        }
        let key = format!("{}:{}", e.subject.kind(), e.subject.id());
        if let Some(previous) = last.get(&key) {
            // A pair connected again after it closed is a new connection with
            // the same (stable) id: it starts over at `planned`.
            let reborn = e.from == "planned"
                && ConnectionState::parse(previous).is_some_and(ConnectionState::is_final);
            assert!(
                *previous == e.from || reborn,
                "broken chain at {e:?} after `{previous}`"
            );
        }
        last.insert(key, e.to);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 20, ..ProptestConfig::default() })]

    #[test]
    fn random_commands_never_reach_a_forbidden_state(commands in proptest::collection::vec(command(), 1..14)) {
        let n = CASE.fetch_add(1, Ordering::Relaxed);
        let name: &'static str = Box::leak(format!("prop-{n}").into_boxed_str());
        let running = Running::start(build(spec(name)));
        for (k, command) in commands.iter().enumerate() {
            let cause = format!("command {k}");
            let control = running.control.with_cause(cause.clone());
            let pipes = control.connectome().pipes();
            let id = |i: usize| pipes[i % pipes.len()].id;
            let outcome = match command {
                Command::Pause(i) => control.pause(id(*i)).map(drop),
                Command::Resume(i) => control.resume(id(*i)).map(drop),
                Command::Disconnect(i, drain) => control
                    .disconnect(id(*i), if *drain { DisconnectMode::Drain } else { DisconnectMode::Drop })
                    .map(drop),
                Command::Connect(p) => control.connect(PAIRS[*p].0, PAIRS[*p].1, Some(8)).map(drop),
                Command::Restart(s) => control.restart(SERVERS[*s]),
                Command::Stop(s) => control.stop(SERVERS[*s]),
            };
            if outcome.is_err() {
                let changed = control
                    .connectome()
                    .events()
                    .since(0)
                    .events
                    .iter()
                    .any(|e| e.cause == cause);
                prop_assert!(!changed, "refused {command:?} logged a transition");
            }
            check_log(&running.control);
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let control = running.control.clone();
        let _ = running.finish();
        check_log(&control);
        for p in control.connectome().pipes() {
            prop_assert!(p.state.is_final(), "{p:?} is not final after the kernel ended");
            prop_assert_eq!(p.messages_in, p.messages_out + p.drops, "{:?} lost messages", p);
        }
        for s in control.connectome().servers() {
            prop_assert!(s.state.is_final(), "{s:?}");
        }
    }
}
