//! End to end: real `cargo build`s of the fixture crates under `tests/fixtures/`,
//! sharing one target directory. A broken wiring file must fail the build
//! with its lint code and its `wiring.toml:LINE:COL`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

/// One cargo at a time: they share a target directory anyway, and the
/// lockfile copy below must not race.
static CARGO: Mutex<()> = Mutex::new(());

fn tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> PathBuf {
    tests_dir().join("fixtures").join(name)
}

/// Runs `cargo <args>` in `dir` with the workspace's resolved versions
/// (copied lockfile), offline, in the shared target directory.
fn cargo(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> (bool, String) {
    let _one_at_a_time = CARGO
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let workspace = tests_dir().join("..");
    fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).expect("copy Cargo.lock");
    // A folder of its own inside the target folder the tests were built in.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from)
        .join("e2e");
    let mut command = Command::new(env!("CARGO"));
    command
        .args(args)
        .args(["--offline", "--color", "never"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        // A test build: no debug info, no incremental cache to write.
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    for (key, value) in env {
        command.env(key, value);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("run cargo");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    (status.success(), text)
}

fn build_fails_with(name: &str, expected: &[&str]) {
    let (ok, output) = cargo(&fixture(name), &["build"], &[]);
    assert!(!ok, "`cargo build` of {name} should fail:\n{output}");
    for needle in expected {
        assert!(
            output.contains(needle),
            "`cargo build` of {name} should print `{needle}`:\n{output}"
        );
    }
}

#[test]
fn good_fixture_builds_and_runs() {
    let (ok, output) = cargo(&fixture("good"), &["run"], &[]);
    assert!(ok, "`cargo run` of the good fixture failed:\n{output}");
    // 1..=1000 doubled and tripled, fanned out and back in.
    assert!(
        output.contains("total: 2000 messages, sum 2502500"),
        "unexpected output:\n{output}"
    );
    // `[processes.greeter]`: started by the executor, its output logged.
    for needle in [
        "process greeter: finished",
        "greeter: stdout: greetings from a process",
    ] {
        assert!(output.contains(needle), "no `{needle}` in:\n{output}");
    }
}

#[test]
fn servers_of_a_library_crate_are_wired_by_path_and_reexport() {
    let (ok, output) = cargo(&fixture("app-with-fieldlib"), &["run"], &[]);
    assert!(ok, "`cargo run` of app-with-fieldlib failed:\n{output}");
    // north: 1..=10 (55); south: 1..=5 doubled (30).
    assert!(
        output.contains("total: 15 readings, sum 85"),
        "unexpected output:\n{output}"
    );
}

#[test]
fn a_misspelled_server_of_a_library_fails_the_build_with_a_hint() {
    build_fails_with(
        "unknown-library-server",
        &[
            "error[E0101]: cannot find server type `fieldlib::sensors::Thermoo`",
            "wiring.toml:6:8",
            "a server type with a similar name exists: `fieldlib::sensors::Thermo`",
            "error[E0101]: cannot find server type `fieldlb::sinks::Total`",
            "wiring.toml:11:8",
            "`fieldlb` is neither a module of this crate nor a library in its `[dependencies]`",
            "a server type with a similar name exists: `fieldlib::sinks::Total`",
        ],
    );
}

#[test]
fn servers_in_the_library_and_the_kernel_in_the_binary() {
    let (ok, output) = cargo(&fixture("lib-and-main"), &["run"], &[]);
    assert!(ok, "`cargo run` of lib-and-main failed:\n{output}");
    assert!(output.contains("sum: 5050"), "unexpected output:\n{output}");
}

#[test]
fn fan_out_without_multiplexer_fails_the_build() {
    build_fails_with(
        "fan-out-without-multiplexer",
        &[
            "error[E0301]: output `double.output` has 2 consumers but is not a multiplexer",
            "--> wiring.toml:25:6",
            "declare `output` as `Multiplex<u64>` in `Scale`",
        ],
    );
}

#[test]
fn misspelled_terminal_fails_the_build_with_a_suggestion() {
    build_fails_with(
        "misspelled-terminal",
        &[
            "error[E0103]: server `total` has no terminal `input`",
            "--> wiring.toml:13:6",
            "`total.inputs`",
        ],
    );
}

#[test]
fn mesh_without_the_kernel_feature_fails_the_build_naming_the_fix() {
    let (ok, output) = cargo(&fixture("mesh-without-feature"), &["build"], &[]);
    assert!(!ok, "`cargo build` should fail:\n{output}");
    assert!(
        output.contains("but the `kernel` dependency is built without its `mesh` feature")
            && output.contains(r#"features = ["mesh"]"#),
        "the error should name the fix:\n{output}"
    );
    // One error, not the methods the mesh would have brought.
    assert!(
        output.contains("could not compile `fixture-mesh-without-feature` (bin \"fixture-mesh-without-feature\") due to 1 previous error"),
        "{output}"
    );
}

#[test]
fn type_mismatch_the_scan_cannot_decide_is_caught_by_rustc_naming_both_terminals() {
    build_fails_with(
        "rustc-type-mismatch",
        &[
            "error[E0271]",
            "servers::source::__wiring_port_ids()",
            "servers::sink::__wiring_port_lengths()",
        ],
    );
}

/// `(level[CODE], wiring.toml:LINE:COL)` of every finding in a golden file.
fn findings(expected: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut lines = expected.lines();
    while let Some(line) = lines.next() {
        let Some((head, _)) = line.split_once("]: ") else {
            continue;
        };
        if !(head.starts_with("error[") || head.starts_with("warning[")) {
            continue;
        }
        let location = lines
            .next()
            .and_then(|l| l.trim_start().strip_prefix("--> "))
            .expect("a finding is followed by its location");
        found.push((format!("{head}]"), location.to_string()));
    }
    found
}

#[test]
fn every_golden_lint_fires_in_a_real_cargo_build() {
    let runner = fixture("lint-runner");
    let mut cases: Vec<PathBuf> = fs::read_dir(tests_dir().join("lint"))
        .expect("tests/lint")
        .map(|entry| entry.expect("tests/lint entry").path())
        .filter(|path| path.join("expected.txt").is_file())
        .collect();
    cases.sort();
    let mut codes = std::collections::BTreeSet::new();
    for case in &cases {
        let expected = fs::read_to_string(case.join("expected.txt")).expect("expected.txt");
        let findings = findings(&expected);
        if findings.is_empty() {
            continue;
        }
        let (ok, output) = cargo(&runner, &["build"], &[("WIRING_CASE", case)]);
        let has_error = findings.iter().any(|(head, _)| head.starts_with("error"));
        assert_eq!(
            !ok,
            has_error,
            "{}: build outcome:\n{output}",
            case.display()
        );
        for (head, location) in findings {
            assert!(
                output.contains(&head) && output.contains(&location),
                "{}: `cargo build` should report {head} at {location}:\n{output}",
                case.display()
            );
            codes.insert(head[head.find('[').unwrap_or(0)..].to_string());
        }
    }
    for code in wiring_build::Code::ALL {
        assert!(
            codes.contains(&format!("[{code}]")),
            "no golden case reached `cargo build` with {code}"
        );
    }
}

#[test]
fn fused_chain_delivers_in_order_keeps_counters_and_survives_failing_transforms() {
    let (ok, output) = cargo(&fixture("fused"), &["run"], &[]);
    assert!(ok, "`cargo run` of the fused fixture failed:\n{output}");
    for needle in [
        // The build names the chain it fused.
        "note: fused `source.out -> triple -> flaky -> odd -> bump` into the thread of `source`",
        // 3x + 1 for every odd x in 1..=1000, each once, in order: the
        // message `flaky` failed on and the one `bump` panicked on were
        // handed again to their restarted transforms.
        "fused: 500 messages, sum 750500, in order: true",
        "solo: 100 messages, sum 10100, in order: true",
        // Every logical pipe keeps its counters; the last one is a real pipe.
        "pipe source.out -> triple.input: fused=true in=1000 out=1000 drops=0 state=closed",
        "pipe triple.output -> flaky.input: fused=true in=1000 out=1000 drops=0 state=closed",
        "pipe flaky.output -> odd.input: fused=true in=1000 out=1000 drops=0 state=closed",
        "pipe odd.output -> bump.input: fused=true in=500 out=500 drops=0 state=closed",
        "pipe bump.output -> sink.input: fused=false in=500 out=500 drops=0 state=closed",
        "pipe source2.out -> solo.input: fused=false in=100 out=100 drops=0",
        "server flaky: finished restarts=1",
        "server bump: finished restarts=1",
        "server source: finished restarts=0",
        // Fused transforms run in their source's thread; `fuse = false` on its own.
        "thread of triple: source",
        "thread of solo: solo",
        // A fused pipe cannot be paused.
        "pause source.out -> triple.input: refused: connection `source.out -> triple.input` is fused into the thread of `source`",
    ] {
        assert!(output.contains(needle), "no `{needle}` in:\n{output}");
    }
    assert!(!output.contains(": accepted"), "{output}");
}
