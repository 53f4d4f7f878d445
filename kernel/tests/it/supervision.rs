//! Supervision: restarts, intensity limit, stop, grace period, boot and
//! configuration errors.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::common::*;
use kernel::{Error, KernelBuilder, Restart, ServerState, Spec};

fn chain(spec: &'static Spec, producer: impl FnOnce(&mut KernelBuilder)) -> kernel::Kernel {
    let mut b = KernelBuilder::new(spec);
    producer(&mut b);
    b.server_default::<Sink>("sink").unwrap();
    let from = format!("{}.out", spec.servers[0].name);
    b.connect_named::<Output<u64>, Input<u64>>(&from, "sink.input")
        .unwrap();
    b.build().unwrap()
}

static GIVE_UP: Spec = Spec {
    kernel: kernel("give_up"),
    servers: &[
        server(
            "flaky",
            "Flaky",
            Restart::OnFailure,
            Some("count = 1\npanics = 100"),
        ),
        server("sink", "Sink", Restart::Never, None),
    ],
    pipes: &[pipe(1, ("flaky", "out"), ("sink", "input"), 8)],
    ..PLAIN
};

#[test]
fn a_panicking_server_is_restarted_then_given_up() {
    let t = Instant::now();
    let kernel = chain(&GIVE_UP, |b| {
        b.server::<Flaky>("flaky").unwrap();
    });
    let connectome = kernel.connectome();
    let err = kernel.run().unwrap_err();
    assert_eq!(err.failed_servers(), ["flaky"]);
    let text = err.to_string();
    assert!(text.contains("`flaky`"), "{text}");
    assert!(
        text.contains("panicked: flaky run 3 panics on purpose; gave up after 3 restarts"),
        "{text}"
    );
    let flaky = connectome.server("flaky").unwrap();
    assert_eq!((flaky.state, flaky.restarts), (ServerState::Failed, 3));
    // The restarted server kept its pipe: one message per run, in order.
    assert_eq!(received("give_up", "sink"), [0, 1000, 2000, 3000]);
    assert_eq!(
        connectome.server("sink").unwrap().state,
        ServerState::Finished
    );
    eprintln!("give up after 3 restarts: {:?}", t.elapsed());
}

static RECOVER: Spec = Spec {
    kernel: kernel("recover"),
    servers: &[
        server(
            "flaky",
            "Flaky",
            Restart::OnFailure,
            Some("count = 3\npanics = 2"),
        ),
        server("sink", "Sink", Restart::Never, None),
    ],
    pipes: &[pipe(1, ("flaky", "out"), ("sink", "input"), 1)],
    ..PLAIN
};

#[test]
fn a_restarted_server_keeps_its_pipes_and_can_finish() {
    let kernel = chain(&RECOVER, |b| {
        b.server::<Flaky>("flaky").unwrap();
    });
    let connectome = kernel.connectome();
    kernel.run().unwrap();
    let flaky = connectome.server("flaky").unwrap();
    assert_eq!((flaky.state, flaky.restarts), (ServerState::Finished, 2));
    assert!(flaky.last_error.unwrap().contains("flaky run 1 panics"));
    assert_eq!(
        received("recover", "sink"),
        [0, 1, 2, 1000, 1001, 1002, 2000, 2001, 2002]
    );
}

static NEVER: Spec = Spec {
    kernel: kernel("never"),
    servers: &[
        server(
            "flaky",
            "Flaky",
            Restart::Never,
            Some("count = 2\npanics = 1"),
        ),
        server("sink", "Sink", Restart::Never, None),
    ],
    pipes: &[pipe(1, ("flaky", "out"), ("sink", "input"), 8)],
    ..PLAIN
};

#[test]
fn a_server_that_never_restarts_fails_once_and_its_consumer_sees_end_of_stream() {
    let kernel = chain(&NEVER, |b| {
        b.server::<Flaky>("flaky").unwrap();
    });
    let connectome = kernel.connectome();
    let err = kernel.run().unwrap_err();
    assert_eq!(err.failed_servers(), ["flaky"]);
    assert_eq!(connectome.server("flaky").unwrap().restarts, 0);
    assert_eq!(received("never", "sink"), [0, 1]);
}

static ALWAYS: Spec = Spec {
    kernel: kernel("always"),
    servers: &[
        server("flaky", "Flaky", Restart::Always, Some("count = 1")),
        server("sink", "Sink", Restart::Never, None),
    ],
    pipes: &[pipe(1, ("flaky", "out"), ("sink", "input"), 8)],
    ..PLAIN
};

#[test]
fn always_restarts_a_server_that_finished_up_to_the_limit() {
    let kernel = chain(&ALWAYS, |b| {
        b.server::<Flaky>("flaky").unwrap();
    })
    .with_restart_limit(2, Duration::from_secs(5));
    let connectome = kernel.connectome();
    let err = kernel.run().unwrap_err();
    assert!(
        err.to_string()
            .contains("`flaky`: finished; gave up after 2 restarts"),
        "{err}"
    );
    assert_eq!(received("always", "sink"), [0, 1000, 2000]);
    assert_eq!(connectome.server("flaky").unwrap().restarts, 2);
}

static ALWAYS_STOP: Spec = Spec {
    kernel: kernel("always_stop"),
    servers: &[
        server("forever", "Forever", Restart::Always, None),
        server("sink", "Sink", Restart::Never, None),
    ],
    pipes: &[pipe(1, ("forever", "out"), ("sink", "input"), 16)],
    ..PLAIN
};

#[test]
fn always_does_not_restart_once_the_kernel_stops() {
    let kernel = chain(&ALWAYS_STOP, |b| {
        b.server_default::<Forever>("forever").unwrap();
    });
    let connectome = kernel.connectome();
    let stop = kernel.stop_handle();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        stop.stop();
    });
    kernel.run().unwrap();
    let forever = connectome.server("forever").unwrap();
    assert_eq!((forever.state, forever.restarts), (ServerState::Stopped, 0));
}

static STOP: Spec = Spec {
    kernel: kernel("stop"),
    servers: &[
        server("forever", "Forever", Restart::Never, None),
        server("sink", "Sink", Restart::Never, Some("delay_ms = 0")),
    ],
    pipes: &[pipe(1, ("forever", "out"), ("sink", "input"), 16)],
    ..PLAIN
};

#[test]
fn the_stop_handle_stops_a_forever_source_cleanly_and_pipes_drain() {
    let kernel = chain(&STOP, |b| {
        b.server_default::<Forever>("forever").unwrap();
    });
    let connectome = kernel.connectome();
    let stop = kernel.stop_handle();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        stop.stop();
    });
    kernel.run().unwrap();
    for s in connectome.servers() {
        assert_eq!(s.state, ServerState::Stopped, "{}", s.name);
    }
    let p = &connectome.pipes()[0];
    assert!(p.messages_in > 0);
    assert_eq!(p.messages_in, p.messages_out);
    let got = received("stop", "sink");
    assert_eq!(got.len() as u64, p.messages_out);
    assert!(got.iter().enumerate().all(|(i, v)| *v == i as u64));
}

/// Ignores the stop signal until released.
static RELEASE_STUBBORN: AtomicBool = AtomicBool::new(false);

#[derive(Manifest)]
#[manifest(class = 1, owner = "test")]
struct Stubborn {
    out: Output<u64>,
}

impl Server for Stubborn {
    type Config = CountConfig;
    fn new(_: CountConfig) -> Self {
        Stubborn {
            out: Output::default(),
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        while !RELEASE_STUBBORN.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(5));
        }
        self.out.send(0).ok();
        Ok(())
    }
}

static STUBBORN: Spec = Spec {
    kernel: kernel("stubborn"),
    servers: &[
        server("stubborn", "Stubborn", Restart::Never, None),
        server("sink", "Sink", Restart::Never, None),
    ],
    pipes: &[pipe(1, ("stubborn", "out"), ("sink", "input"), 16)],
    ..PLAIN
};

#[test]
fn a_server_still_running_after_the_grace_period_is_reported_as_not_stopping() {
    let kernel = chain(&STUBBORN, |b| {
        b.server_default::<Stubborn>("stubborn").unwrap();
    })
    .with_grace_period(Duration::from_millis(200));
    let connectome = kernel.connectome();
    kernel.stop_handle().stop();
    let err = kernel.run().unwrap_err();
    RELEASE_STUBBORN.store(true, Ordering::SeqCst);
    let text = err.to_string();
    assert!(text.contains("`stubborn`: not stopping"), "{text}");
    assert!(text.contains("`sink`: not stopping"), "{text}");
    assert_eq!(
        connectome.server("stubborn").unwrap().state,
        ServerState::Failed
    );
}

#[derive(Manifest)]
#[manifest(class = 1, owner = "test")]
struct Quitter {
    input: Input<u64>,
}

impl Server for Quitter {
    type Config = CountConfig;
    fn new(_: CountConfig) -> Self {
        Quitter {
            input: Input::default(),
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        self.input.recv();
        Err("quitting after one message".into())
    }
}

static GONE: Spec = Spec {
    kernel: kernel("gone"),
    servers: &[
        server("src", "Source", Restart::Never, Some("count = 100000")),
        server("quitter", "Quitter", Restart::Never, None),
    ],
    pipes: &[pipe(1, ("src", "out"), ("quitter", "input"), 4)],
    ..PLAIN
};

#[test]
fn a_producer_whose_consumer_is_gone_gets_a_send_error() {
    let mut b = KernelBuilder::new(&GONE);
    b.server::<Source>("src").unwrap();
    b.server_default::<Quitter>("quitter").unwrap();
    b.connect_named::<Output<u64>, Input<u64>>("src.out", "quitter.input")
        .unwrap();
    let err = b.build().unwrap().run().unwrap_err();
    let text = err.to_string();
    assert_eq!(err.failed_servers(), ["src", "quitter"], "{text}");
    assert!(text.contains("error: quitting after one message"), "{text}");
    assert!(text.contains("no consumer is connected"), "{text}");
}

#[derive(Manifest)]
#[manifest(class = 1, owner = "test")]
struct Explodes {
    input: Input<u64>,
}

impl Server for Explodes {
    type Config = CountConfig;
    fn new(_: CountConfig) -> Self {
        panic!("cannot build this one")
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        self.input.recv();
        Ok(())
    }
}

static BOOT: Spec = Spec {
    kernel: kernel("boot"),
    servers: &[
        server("src", "Source", Restart::Never, Some("count = 10")),
        server("boom", "Explodes", Restart::Always, None),
    ],
    pipes: &[pipe(1, ("src", "out"), ("boom", "input"), 4)],
    ..PLAIN
};

#[test]
fn a_server_that_panics_while_booting_stops_the_kernel_before_anything_runs() {
    let mut b = KernelBuilder::new(&BOOT);
    b.server::<Source>("src").unwrap();
    b.server_default::<Explodes>("boom").unwrap();
    b.connect_named::<Output<u64>, Input<u64>>("src.out", "boom.input")
        .unwrap();
    let kernel = b.build().unwrap();
    let connectome = kernel.connectome();
    let err = kernel.run().unwrap_err();
    assert!(matches!(err, Error::Boot { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("`boom`: panicked while booting: cannot build this one"),
        "{err}"
    );
    assert_eq!(
        connectome.server("src").unwrap().state,
        ServerState::Stopped
    );
    assert_eq!(connectome.pipes()[0].messages_in, 0);
}

static BAD_CONFIG: Spec = Spec {
    kernel: kernel("bad_config"),
    servers: &[
        server("src", "Source", Restart::Never, Some("count = \"many\"")),
        server("sink", "Sink", Restart::Never, None),
    ],
    pipes: &[pipe(1, ("src", "out"), ("sink", "input"), 4)],
    ..PLAIN
};

#[test]
fn a_bad_config_names_the_instance_and_shows_the_toml_error() {
    let err = KernelBuilder::new(&BAD_CONFIG)
        .server::<Source>("src")
        .map(drop)
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("bad config for server `src` (type `Source`): "),
        "{text}"
    );
    assert!(text.contains("invalid type"), "{text}");
    assert!(text.contains("count = \"many\""), "{text}");
    let check = kernel::__private::check_config::<Source>(&BAD_CONFIG, 0).unwrap_err();
    assert_eq!(check.to_string(), text);
    assert!(kernel::__private::check_config::<Sink>(&BAD_CONFIG, 1).is_ok());

    let err = KernelBuilder::new(&BAD_CONFIG)
        .server::<Sink>("sink")
        .map(drop)
        .unwrap_err();
    assert!(matches!(err, Error::MissingConfig { .. }), "{err}");
}

/// The wiring file a generated spec carries, with the two bad configs.
const BAD_WIRING: &str = "[kernel]\nname = \"bad_config\"\n\n\
    [servers.src]\ntype = \"Source\"\nconfig = { count = \"many\" }\n\n\
    [servers.other]\ntype = \"Source\"\n\n[servers.other.config]\ncount = -1\n";

static BAD_CONFIG_IN_FILE: Spec = Spec {
    kernel: kernel("bad_config"),
    servers: &[
        server("src", "Source", Restart::Never, Some("count = \"many\"")),
        server("other", "Source", Restart::Never, Some("count = -1")),
    ],
    pipes: &[],
    control: None,
    processes: &[],
    mesh: None,
    routes: &[],
    source: Some(BAD_WIRING),
};

#[test]
fn a_bad_config_points_at_its_line_in_the_wiring_file() {
    let err = KernelBuilder::new(&BAD_CONFIG_IN_FILE)
        .server::<Source>("src")
        .map(drop)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad config for server `src` (type `Source`): wiring.toml:6:20: \
         invalid type: string \"many\", expected u64\n  |\n\
         6 | config = { count = \"many\" }\n  |                    ^^^^^^"
    );
    // In a table of its own.
    let err = kernel::__private::check_config::<Source>(&BAD_CONFIG_IN_FILE, 1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad config for server `other` (type `Source`): wiring.toml:12:9: \
         invalid value: integer `-1`, expected u64\n   |\n12 | count = -1\n   |         ^^"
    );
}

#[test]
fn build_reports_everything_missing_or_inconsistent() {
    let mut b = KernelBuilder::new(&BAD_CONFIG);
    let err = b.server::<Sink>("nope").map(drop).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown server instance `nope`: wiring.toml has no `[servers.nope]`"
    );
    b.server_default::<Sink>("sink").unwrap();
    let err = b.server_default::<Sink>("sink").map(drop).unwrap_err();
    assert!(matches!(err, Error::DuplicateServer { .. }), "{err}");
    let err = b
        .connect_named::<Output<u64>, Input<u64>>("src.out", "sink.other")
        .map(drop)
        .unwrap_err();
    assert_eq!(err.to_string(), "no pipe 1 in the wiring, which has 1");
    // Connected with the wrong kind: `src.out` is not a multiplexer.
    b.connect_named::<Multiplex<u64>, Input<u64>>("src.out", "sink.input")
        .unwrap();
    let err = b
        .connect_named::<Output<u64>, Input<u64>>("src.out", "sink.input")
        .map(drop)
        .unwrap_err();
    assert!(matches!(err, Error::DuplicatePipe { .. }), "{err}");
    let text = b.build().unwrap_err().to_string();
    assert!(
        text.starts_with("kernel `bad_config` is not wired completely:"),
        "{text}"
    );
    assert!(
        text.contains("server `src` (type `Source`) was not added"),
        "{text}"
    );
}

static KIND: Spec = Spec {
    kernel: kernel("kind"),
    servers: &[
        server("src", "Source", Restart::Never, Some("count = 1")),
        server("sink", "Sink", Restart::Never, None),
    ],
    pipes: &[pipe(1, ("src", "out"), ("sink", "input"), 4)],
    ..PLAIN
};

#[test]
fn build_checks_terminal_kinds_against_the_manifests() {
    let mut b = KernelBuilder::new(&KIND);
    b.server::<Source>("src").unwrap();
    b.server_default::<Sink>("sink").unwrap();
    b.connect_named::<Multiplex<u64>, Combine<u64>>("src.out", "sink.input")
        .unwrap();
    let text = b.build().unwrap_err().to_string();
    assert!(
        text.contains("terminal `src.out` is declared `Output` but connected as `Multiplex`"),
        "{text}"
    );
    assert!(
        text.contains("terminal `sink.input` is declared `Input` but connected as `Combine`"),
        "{text}"
    );
    assert!(matches!(b.build(), Err(Error::Incomplete { .. })));
}

static ALWAYS_SINK: Spec = Spec {
    kernel: kernel("always_sink"),
    servers: &[
        server("src", "Source", Restart::Never, Some("count = 3")),
        server("sink", "Sink", Restart::Always, None),
    ],
    pipes: &[pipe(1, ("src", "out"), ("sink", "input"), 8)],
    ..PLAIN
};

#[test]
fn always_does_not_restart_a_consumer_whose_inputs_ended() {
    let kernel = chain(&ALWAYS_SINK, |b| {
        b.server::<Source>("src").unwrap();
    });
    let connectome = kernel.connectome();
    kernel.run().unwrap();
    let sink = connectome.server("sink").unwrap();
    assert_eq!((sink.state, sink.restarts), (ServerState::Finished, 0));
    assert_eq!(received("always_sink", "sink"), [0, 1, 2]);
    assert!(
        connectome
            .pipe_stats(connectome.pipes()[0].id)
            .unwrap()
            .is_closed()
    );
}
