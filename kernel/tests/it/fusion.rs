//! Fused chains built by hand (as the build step generates them): a
//! transform given up ends the chain without losing count of a message,
//! and the control surface refuses what a fused pipe cannot do.

use crate::common::*;
use kernel::{ControlError, KernelBuilder, Restart, ServerState, Spec};

/// Passes messages on; fails on `fail_at`, every time.
#[derive(Manifest)]
#[manifest(class = 7, owner = "test")]
pub struct Picky {
    pub input: Input<u64>,
    pub output: Output<u64>,
    fail_at: u64,
}

#[derive(serde::Deserialize, Default)]
pub struct PickyConfig {
    fail_at: u64,
}

impl Transform for Picky {
    type Config = PickyConfig;
    type In = u64;
    type Out = u64;
    fn new(config: PickyConfig) -> Self {
        Picky {
            input: Input::default(),
            output: Output::default(),
            fail_at: config.fail_at,
        }
    }
    fn process(&mut self, x: u64) -> Result<Option<u64>, ServerError> {
        if x == self.fail_at {
            return Err(ServerError::msg(format!("cannot take {x}")));
        }
        Ok(Some(x))
    }
}

static GIVE_UP: Spec = Spec {
    kernel: kernel("give-up"),
    servers: &[
        server("src", "Source", Restart::Never, Some("count = 10")),
        server("a", "Picky", Restart::Never, Some("fail_at = 100")),
        server("b", "Picky", Restart::Never, Some("fail_at = 5")),
        server("sink", "Sink", Restart::Never, None),
    ],
    pipes: &[
        pipe(1, ("src", "out"), ("a", "input"), 4),
        pipe(2, ("a", "output"), ("b", "input"), 4),
        pipe(3, ("b", "output"), ("sink", "input"), 4),
    ],
    ..PLAIN
};

fn fused_ends() -> kernel::__private::Pipe<Output<u64>, Input<u64>> {
    kernel::__private::ends(
        kernel::__private::Port::new(),
        kernel::__private::Port::new(),
    )
}

/// Wires `src -> .. -> sink`: fuses its first `fused` pipes, the last of
/// them fed by `last`; the caller adds the servers and fuses the chain.
fn connect_through_fused(b: &mut KernelBuilder, fused: usize, last: &str) {
    for pipe in 0..fused {
        b.connect_fused(pipe, fused_ends()).unwrap();
    }
    b.connect_named::<Output<u64>, Input<u64>>(&format!("{last}.output"), "sink.input")
        .unwrap();
}

/// `src -> a -> sink` of `spec`, `a` a `Picky` fused into `src`.
fn src_picky_sink(spec: &'static Spec) -> KernelBuilder {
    let mut b = KernelBuilder::new(spec);
    b.server::<Source>("src")
        .unwrap()
        .server_default::<Sink>("sink")
        .unwrap();
    connect_through_fused(&mut b, 1, "a");
    b.fuse(0, kernel::__private::member::<Picky>("a")).unwrap();
    b
}

#[test]
fn a_transform_given_up_ends_its_chain_and_counts_the_message_it_held() {
    let mut b = KernelBuilder::new(&GIVE_UP);
    b.server::<Source>("src")
        .unwrap()
        .server_default::<Sink>("sink")
        .unwrap();
    connect_through_fused(&mut b, 2, "b");
    b.fuse(
        0,
        kernel::__private::member::<Picky>("a").then(kernel::__private::member::<Picky>("b")),
    )
    .unwrap();
    let kernel = b.build().unwrap().with_signal_handlers(false);
    let connectome = kernel.connectome();
    let control = kernel.control();
    // Refused before the run as during it: nothing to pause, disconnect or
    // connect on a fused pipe, and a fused transform has no thread to restart.
    let first = connectome.pipes()[0].id;
    for refused in [
        control.pause(first).err(),
        control.disconnect(first, Default::default()).err(),
        control.connect("src.out", "sink.input", None).err(),
        control.restart("a").err(),
        control.stop("b").err(),
    ] {
        assert!(
            matches!(refused, Some(ControlError::Fused { .. })),
            "{refused:?}"
        );
    }
    let refusal = control.restart("a").unwrap_err().to_string();
    assert!(
        refusal.contains("transform `a` is fused into the thread of `src`")
            && refusal.contains("`fuse = false` on `a`"),
        "{refusal}"
    );

    let err = kernel.run().unwrap_err().to_string();
    // `b` gave up on 5 (restart = never); `src`'s next send found no consumer.
    assert!(err.contains("`b`") || err.contains("b:"), "{err}");
    assert_eq!(received("give-up", "sink"), [0, 1, 2, 3, 4]);
    let state = |name: &str| {
        connectome
            .servers()
            .into_iter()
            .find(|s| s.name == name)
            .map(|s| s.state)
    };
    assert_eq!(state("b"), Some(ServerState::Failed));
    assert_eq!(state("a"), Some(ServerState::Finished));
    assert_eq!(state("src"), Some(ServerState::Failed));
    assert_eq!(state("sink"), Some(ServerState::Finished));
    let counts: Vec<(bool, u64, u64, u64)> = connectome
        .pipes()
        .iter()
        .map(|p| (p.fused, p.messages_in, p.messages_out, p.drops))
        .collect();
    // 5: `b` gives up holding it (dropped on `a -> b`). 6: `a` processes
    // it, finds `b` gone (dropped on `src -> a`) and ends. 7: `a` is gone,
    // `src` gets it back from its send, uncounted, and fails.
    assert_eq!(
        counts,
        [(true, 7, 6, 1), (true, 6, 5, 1), (false, 5, 5, 0)],
        "{:?}",
        connectome.pipes()
    );
}

static LIMIT: Spec = Spec {
    kernel: kernel("limit"),
    servers: &[
        server("src", "Source", Restart::Never, Some("count = 10")),
        server("a", "Picky", Restart::OnFailure, Some("fail_at = 3")),
        server("sink", "Sink", Restart::Never, None),
    ],
    pipes: &[
        pipe(1, ("src", "out"), ("a", "input"), 4),
        pipe(2, ("a", "output"), ("sink", "input"), 4),
    ],
    ..PLAIN
};

#[test]
fn a_fused_transform_is_restarted_by_its_policy_up_to_the_limit_and_shows_as_fused() {
    let kernel = src_picky_sink(&LIMIT)
        .build()
        .unwrap()
        .with_signal_handlers(false)
        .with_restart_limit(2, std::time::Duration::from_secs(60));
    let connectome = kernel.connectome();
    // The topology marks the fused connection, and only that one.
    let fused: Vec<(String, bool)> = kernel
        .control()
        .topology()
        .connections
        .into_iter()
        .map(|c| (c.from, c.fused))
        .collect();
    assert_eq!(
        fused,
        [
            ("src.out".to_string(), true),
            ("a.output".to_string(), false)
        ]
    );
    let err = kernel.run().unwrap_err().to_string();
    assert!(err.contains("gave up after 2 restarts"), "{err}");
    // Handed 3 again after each of its two restarts, then given up holding it.
    let a = connectome.servers().into_iter().find(|s| s.name == "a");
    assert_eq!(
        a.as_ref().map(|s| (s.state, s.restarts)),
        Some((ServerState::Failed, 2))
    );
    assert_eq!(received("limit", "sink"), [0, 1, 2]);
    let p = &connectome.pipes()[0];
    assert_eq!((p.messages_in, p.messages_out, p.drops), (4, 3, 1));
}

static TAP_FUSED: Spec = Spec {
    kernel: kernel("tap-fused"),
    servers: &[
        server("src", "Source", Restart::Never, Some("count = 10")),
        server("a", "Picky", Restart::Never, Some("fail_at = 100")),
        server("sink", "Sink", Restart::Never, None),
    ],
    pipes: &[
        pipe(1, ("src", "out"), ("a", "input"), 4),
        pipe(2, ("a", "output"), ("sink", "input"), 4),
    ],
    ..PLAIN
};

#[test]
fn a_fused_pipe_is_tappable_like_a_ring() {
    let mut b = src_picky_sink(&TAP_FUSED);
    b.tap(0, kernel::__private::Port::<Output<u64>>::new())
        .unwrap();
    let kernel = b.build().unwrap().with_signal_handlers(false);
    let connectome = kernel.connectome();
    let fused = connectome.pipes()[0].id;
    let behind = connectome.pipes()[1].id;
    assert!(connectome.is_tappable(fused) && !connectome.is_tappable(behind));
    let refused = connectome.tap(behind).unwrap_err().to_string();
    assert!(refused.contains("tap = true"), "{refused}");
    // Asked before the run: the first message through the fused pipe.
    let mut watch = connectome.tap(fused).unwrap();
    watch.ask();
    kernel.run().unwrap();
    let sample = watch.take().expect("a sample of the fused pipe");
    assert_eq!(
        (sample.seq, sample.message.clone()),
        (1, Ok("0".to_owned()))
    );
    assert_eq!(received("tap-fused", "sink"), (0..10).collect::<Vec<_>>());
}

/// Takes `count` messages, then ends: its consumer end is gone for good.
#[derive(Manifest)]
#[manifest(class = 8, owner = "test")]
pub struct Taker {
    pub input: Input<u64>,
    count: u64,
}

impl Server for Taker {
    type Config = CountConfig;
    fn new(config: CountConfig) -> Self {
        Taker {
            input: Input::default(),
            count: config.count,
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        for _ in 0..self.count {
            if self.input.recv().is_none() {
                break;
            }
        }
        Ok(())
    }
}

static ENDED: Spec = Spec {
    kernel: kernel("ended"),
    servers: &[
        server(
            "src",
            "Flaky",
            Restart::OnFailure,
            Some("count = 10\npanics = 1"),
        ),
        server("a", "Picky", Restart::OnFailure, Some("fail_at = 100")),
        server("b", "Picky", Restart::OnFailure, Some("fail_at = 100")),
        server("sink", "Taker", Restart::Never, Some("count = 3")),
    ],
    pipes: &[
        pipe(1, ("src", "out"), ("a", "input"), 4),
        pipe(2, ("a", "output"), ("b", "input"), 4),
        pipe(3, ("b", "output"), ("sink", "input"), 4),
    ],
    ..PLAIN
};

#[test]
fn a_restarted_host_whose_chain_ended_downstream_ends_too() {
    let mut b = KernelBuilder::new(&ENDED);
    b.server::<Flaky>("src")
        .unwrap()
        .server::<Taker>("sink")
        .unwrap();
    connect_through_fused(&mut b, 2, "b");
    b.fuse(
        0,
        kernel::__private::member::<Picky>("a").then(kernel::__private::member::<Picky>("b")),
    )
    .unwrap();
    let kernel = b
        .build()
        .unwrap()
        .with_signal_handlers(false)
        .with_restart_limit(3, std::time::Duration::from_secs(60));
    let connectome = kernel.connectome();
    let (done, ended) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(kernel.run().map_err(|e| e.to_string()));
    });
    let outcome = ended.recv_timeout(std::time::Duration::from_secs(30));
    let states: Vec<(String, ServerState, u32)> = connectome
        .servers()
        .into_iter()
        .map(|s| (s.name.to_string(), s.state, s.restarts))
        .collect();
    let outcome = outcome.unwrap_or_else(|_| panic!("the kernel hangs: {states:?}"));
    // `src`'s sends after the sink went fail, as a send to a consumer gone
    // for good does, in its first run and after its restarts.
    let err = outcome.unwrap_err();
    assert!(err.contains("src"), "{err}: {states:?}");
    for (name, state, _) in &states {
        assert!(state.is_final(), "{name} is {state}: {states:?}");
    }
    // Every message a transform took in went on or is counted as dropped.
    for p in connectome.pipes() {
        assert_eq!(
            p.messages_in,
            p.messages_out + p.drops,
            "{:?}",
            connectome.pipes()
        );
    }
}
