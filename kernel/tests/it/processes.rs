//! External processes under the executor: started at boot, output in the
//! event log, restarted by policy, terminated (then killed) on stop, listed
//! by the control surface with state and pid. Real programs (`sh`, `sleep`).

use std::time::{Duration, Instant};

use kernel::control::events::Subject;
use kernel::control::{ServeControl as _, Snapshot as _};
use kernel::{Error, KernelBuilder, Process, ProcessSpec, Restart, ServerState, Spec};

fn spec(name: &'static str, processes: &'static [ProcessSpec]) -> &'static Spec {
    Box::leak(Box::new(Spec {
        kernel: kernel::KernelSpec {
            name,
            fqdn: "localhost",
            owner: "test",
        },
        servers: &[],
        pipes: &[],
        control: None,
        processes,
        mesh: None,
        routes: &[],
        source: None,
    }))
}

fn kernel(spec: &'static Spec) -> kernel::Kernel {
    KernelBuilder::new(spec)
        .build()
        .expect("build")
        .with_signal_handlers(false)
        .with_restart_limit(2, Duration::from_secs(30))
}

fn wait_until(what: &str, check: impl Fn() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn notes(connectome: &kernel::Connectome, process: &str) -> Vec<String> {
    connectome
        .events()
        .recent(usize::MAX)
        .into_iter()
        .filter(|e| e.subject == Subject::Process(process.to_owned()) && e.from == e.to)
        .map(|e| e.cause)
        .collect()
}

#[test]
fn output_goes_to_the_event_log_and_a_clean_exit_finishes() {
    static ECHO: [ProcessSpec; 1] = [ProcessSpec {
        name: "echo",
        command: "sh",
        args: &[
            "-c",
            "echo hello; echo \"$GREETING\" >&2; printf 'no newline'",
        ],
        env: &[("GREETING", "from the environment")],
        restart: Restart::Never,
    }];
    let kernel = kernel(spec("proc-echo", &ECHO));
    let connectome = kernel.connectome();
    kernel.run().expect("clean run");
    let echo = connectome.process("echo").expect("listed");
    assert_eq!(echo.state, ServerState::Finished);
    assert_eq!(echo.pid, None);
    assert_eq!(echo.last_exit.as_deref(), Some("exited with status 0"));
    let mut lines = notes(&connectome, "echo");
    lines.sort();
    assert_eq!(
        lines,
        [
            "stderr: from the environment",
            "stdout: hello",
            "stdout: no newline"
        ]
    );
    let report = connectome.report().to_string();
    assert!(
        report.contains("echo") && report.contains("exited with status 0"),
        "{report}"
    );
}

#[test]
fn on_failure_restarts_until_the_limit_and_the_run_fails_naming_it() {
    static FAILING: [ProcessSpec; 1] = [ProcessSpec {
        name: "flaky",
        command: "sh",
        args: &["-c", "echo attempt; exit 3"],
        env: &[],
        restart: Restart::OnFailure,
    }];
    let kernel = kernel(spec("proc-flaky", &FAILING));
    let connectome = kernel.connectome();
    let err = kernel.run().expect_err("the process failed");
    let flaky = connectome.process("flaky").expect("listed");
    assert_eq!(flaky.state, ServerState::Failed);
    assert_eq!(flaky.restarts, 2);
    assert_eq!(notes(&connectome, "flaky").len(), 3, "three runs");
    let message = err.to_string();
    assert!(
        message.contains("process flaky")
            && message.contains("exited with status 3; gave up after 2 restarts"),
        "{message}"
    );
    match err {
        Error::Failed { failures, .. } => assert_eq!(failures.len(), 1),
        other => panic!("unexpected error {other}"),
    }
}

#[test]
fn a_program_that_cannot_start_fails_with_the_reason() {
    static MISSING: [ProcessSpec; 1] = [ProcessSpec {
        name: "missing",
        command: "/nonexistent/wiring-test-program",
        args: &[],
        env: &[],
        restart: Restart::Never,
    }];
    let kernel = kernel(spec("proc-missing", &MISSING));
    let connectome = kernel.connectome();
    let err = kernel.run().expect_err("cannot start");
    let missing = connectome.process("missing").expect("listed");
    assert_eq!(missing.state, ServerState::Failed);
    let last = missing.last_exit.unwrap_or_default();
    assert!(
        last.starts_with("cannot start `/nonexistent/wiring-test-program`:"),
        "{last}"
    );
    assert!(err.to_string().contains("cannot start"), "{err}");
}

#[test]
fn stop_terminates_a_running_program_and_kills_one_that_ignores_it() {
    static LONG: [ProcessSpec; 2] = [
        ProcessSpec {
            name: "polite",
            command: "sleep",
            args: &["60"],
            env: &[],
            restart: Restart::Always,
        },
        ProcessSpec {
            name: "stubborn",
            command: "sh",
            // The ignored signal is inherited by `sleep` too.
            args: &["-c", "trap '' TERM; echo ready; sleep 60"],
            env: &[],
            restart: Restart::Never,
        },
    ];
    let grace = Duration::from_millis(500);
    let kernel = kernel(spec("proc-stop", &LONG)).with_grace_period(grace);
    let connectome = kernel.connectome();
    let stop = kernel.stop_handle();
    let run = std::thread::spawn(move || kernel.run());
    wait_until("both run", || {
        connectome
            .processes()
            .iter()
            .all(|p| p.state == ServerState::Running)
            && notes(&connectome, "stubborn").contains(&"stdout: ready".to_owned())
    });
    let polite_pid = connectome
        .process("polite")
        .and_then(|p| p.pid)
        .expect("pid");
    assert!(
        std::path::Path::new(&format!("/proc/{polite_pid}")).exists(),
        "pid {polite_pid} is a live process"
    );
    let stopped_at = Instant::now();
    stop.stop();
    run.join().expect("kernel thread").expect("a stop is clean");
    let took = stopped_at.elapsed();
    let polite = connectome.process("polite").expect("listed");
    assert_eq!(polite.state, ServerState::Stopped);
    assert_eq!(polite.last_exit.as_deref(), Some("killed by signal 15"));
    assert_eq!(polite.restarts, 0, "a stop is not a reason to restart");
    let stubborn = connectome.process("stubborn").expect("listed");
    assert_eq!(stubborn.state, ServerState::Stopped);
    assert_eq!(stubborn.last_exit.as_deref(), Some("killed by signal 9"));
    assert!(
        took >= grace && took < grace + Duration::from_secs(3),
        "stopped after {took:?}"
    );
    let events = connectome.events().recent(usize::MAX);
    assert!(
        events
            .iter()
            .any(|e| e.subject == Subject::Process("stubborn".into())
                && e.to == "stopped"
                && e.cause.starts_with("killed: still running 500ms")),
        "{events:#?}"
    );
}

#[test]
fn processes_added_in_code_run_and_names_stay_unique() {
    let mut kernel = kernel(spec("proc-code", &[]));
    kernel
        .add_process(
            Process::new("counter", "sh")
                .args(["-c", "for i in 1 2 3; do echo $i; done"])
                .restart(Restart::OnFailure),
        )
        .expect("first");
    match kernel.add_process(Process::new("counter", "true")) {
        Err(Error::DuplicateName { name }) => assert_eq!(name, "counter"),
        other => panic!("a second `counter` must be refused: {other:?}"),
    }
    let connectome = kernel.connectome();
    kernel.run().expect("clean run");
    assert_eq!(
        notes(&connectome, "counter"),
        ["stdout: 1", "stdout: 2", "stdout: 3"]
    );
    assert_eq!(connectome.processes().len(), 1);
}

#[cfg(feature = "control")]
#[test]
fn the_control_surface_lists_processes_with_state_and_pid() {
    let mut kernel = kernel(spec("proc-http", &[]));
    kernel
        .add_process(Process::new("idle", "sleep").arg("60"))
        .expect("add");
    let server = kernel
        .serve_control(kernel::control::http::ControlOptions::new().token("t"))
        .expect("serve");
    let connectome = kernel.connectome();
    let stop = kernel.stop_handle();
    let run = std::thread::spawn(move || kernel.run());
    wait_until("idle runs", || {
        connectome.process("idle").is_some_and(|p| p.pid.is_some())
    });
    let pid = connectome.process("idle").and_then(|p| p.pid).expect("pid");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let get = |path: &str| {
        let mut r = agent
            .get(format!("http://{}{path}", server.addr()))
            .call()
            .expect("GET");
        (
            r.status().as_u16(),
            r.body_mut().read_to_string().expect("body"),
        )
    };
    let (status, body) = get("/api/v1/processes");
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(json[0]["name"], "idle");
    assert_eq!(json[0]["state"], "running");
    assert_eq!(json[0]["pid"], pid);
    assert_eq!(json[0]["args"][0], "60");
    assert_eq!(get("/api/v1/processes/nope").0, 404);
    // The export that rebuilds the kernel keeps the process (not its env).
    let exported = connectome.control().topology().to_wiring_toml();
    assert!(
        exported.contains("\n[processes.idle]\ncommand = \"sleep\"\nargs = [\"60\"]\n"),
        "{exported}"
    );
    stop.stop();
    run.join().expect("kernel thread").expect("clean stop");
}

/// Run by `a_program_does_not_outlive_a_killed_kernel` in a process of its
/// own: a kernel with one long program, its pid printed, until killed.
#[test]
#[ignore = "run as a child process by a_program_does_not_outlive_a_killed_kernel"]
fn kernel_with_a_long_program() {
    if std::env::var_os("PROCESSES_TEST_CHILD").is_none() {
        return;
    }
    let mut kernel = kernel(spec("proc-orphan", &[]));
    kernel
        .add_process(Process::new("long", "sleep").arg("60"))
        .expect("add");
    let connectome = kernel.connectome();
    std::thread::spawn(move || kernel.run());
    wait_until("long runs", || {
        connectome.process("long").is_some_and(|p| p.pid.is_some())
    });
    let pid = connectome.process("long").and_then(|p| p.pid).expect("pid");
    println!("program pid {pid}");
    std::thread::sleep(Duration::from_secs(60));
}

#[cfg(target_os = "linux")]
#[test]
fn a_program_does_not_outlive_a_killed_kernel() {
    use std::io::BufRead;

    let mut child = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "processes::kernel_with_a_long_program",
            "--ignored",
            "--nocapture",
        ])
        .env("PROCESSES_TEST_CHILD", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the kernel process");
    let stdout = child.stdout.take().expect("stdout");
    let pid: u32 = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        // With one test thread (one CPU) libtest prints the test's name
        // first, on the same line.
        .find_map(|l| {
            l.split_once("program pid ")
                .and_then(|(_, p)| p.trim().parse().ok())
        })
        .expect("the program's pid");
    let alive = |pid: u32| {
        // A zombie has exited; only a running or sleeping program counts.
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| !stat.contains(") Z "))
    };
    assert!(alive(pid));
    child.kill().expect("SIGKILL the kernel");
    child.wait().expect("reaped");
    wait_until("the program ended with its kernel", || !alive(pid));
}
