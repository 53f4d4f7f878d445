//! Runs the `wiring` binary as a user would.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn wiring(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wiring"))
        .args(args)
        .env_remove("CARGO_MANIFEST_DIR")
        .output()
        .expect("run wiring")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name)
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

#[test]
fn lint_prints_the_findings_of_the_build() {
    let dir = fixture("misspelled-terminal");
    let output = wiring(&["lint", path_str(&dir)]);
    assert!(!output.status.success());
    let expected = wiring_build::Config::new()
        .package(&dir)
        .display_path("wiring.toml")
        .lint(dir.join("wiring.toml"))
        .expect("lint")
        .render();
    assert!(expected.contains("error[E0103]"), "{expected}");
    assert_eq!(text(&output.stderr).trim_end(), expected.trim_end());

    let output = wiring(&["lint", "--json", path_str(&dir)]);
    assert!(!output.status.success());
    let findings: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("lint --json prints JSON");
    let first = &findings[0];
    assert_eq!(first["code"], "E0103", "{findings}");
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(13), Some(6))
    );
    assert_eq!(findings.as_array().map(Vec::len), Some(1));

    let output = wiring(&["lint", path_str(&fixture("good"))]);
    assert!(output.status.success(), "{}", text(&output.stderr));
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/mesh")
        .join(name)
}

#[test]
fn lint_checks_routes_against_each_peer() {
    let north = example("north");
    let output = wiring(&[
        "lint",
        "--peer",
        path_str(&example("south")),
        path_str(&north),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));

    // `good` is a kernel on `localhost` too, without north's guest: the
    // route is refused with its code, and `--peer` repeats.
    let output = wiring(&[
        "lint",
        "--json",
        "--peer",
        path_str(&fixture("good")),
        "--peer",
        path_str(&example("south")),
        path_str(&north),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = wiring(&[
        "lint",
        "--json",
        "--peer",
        path_str(&fixture("good")),
        path_str(&north),
    ]);
    assert!(!output.status.success());
    let findings: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("lint --json prints JSON");
    assert_eq!(findings[0]["code"], "E0802", "{findings}");
    assert_eq!(findings.as_array().map(Vec::len), Some(1), "{findings}");

    // A folder that is no crate: a clear error, no panic.
    let missing = north.join("no-such-peer");
    let output = wiring(&["lint", "--peer", path_str(&missing), path_str(&north)]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("error: cannot check routes against the peer kernel in")
            && stderr.contains("no-such-peer"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn graph_draws_the_topology_for_graphviz_and_mermaid() {
    let dir = fixture("good");
    let output = wiring(&["graph", "--format", "dot", path_str(&dir)]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let dot = text(&output.stdout);
    assert!(dot.starts_with("digraph {"), "{dot}");
    assert_eq!(dot.matches(" -> ").count(), 4, "{dot}");
    assert!(dot.contains("label = \"total: stages::Total\""), "{dot}");
    // Graphviz itself, where it is installed.
    match Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(mut child) => {
            use std::io::Write as _;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(dot.as_bytes())
                .expect("write to dot");
            let drawn = child.wait_with_output().expect("dot ran");
            assert!(drawn.status.success(), "dot: {}", text(&drawn.stderr));
            assert!(text(&drawn.stdout).contains("<svg"));
        }
        Err(e) => eprintln!("graphviz not run ({e}): only the text was checked"),
    }

    let output = wiring(&["graph", "--format", "mermaid", path_str(&dir)]);
    let mermaid = text(&output.stdout);
    assert!(mermaid.starts_with("flowchart LR\n"), "{mermaid}");
    assert!(
        mermaid.contains("    double -- \"output → inputs\" --> total"),
        "{mermaid}"
    );

    let output = wiring(&["graph", "--json", path_str(&dir)]);
    let graph: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(graph["pipes"].as_array().map(Vec::len), Some(4), "{graph}");

    // A wiring file with errors draws nothing and says why.
    let output = wiring(&["graph", path_str(&fixture("misspelled-terminal"))]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("error[E0103]"));
}

#[test]
fn graph_draws_routes_to_the_other_kernel() {
    let north = example("north");
    let dot = text(&wiring(&["graph", "--format", "dot", path_str(&north)]).stdout);
    assert!(
        dot.contains("label = \"another kernel: localhost:checker:")
            && dot.contains(".numbers\" ]"),
        "{dot}"
    );
    assert!(
        dot.contains("0 -> 1 [ label = \"route from numbers\" ]"),
        "{dot}"
    );
    let mermaid = text(&wiring(&["graph", "--format", "mermaid", path_str(&north)]).stdout);
    assert!(
        mermaid.contains("    plant -. \"route from numbers\" .-> remote0"),
        "{mermaid}"
    );
    let output = wiring(&["graph", "--json", path_str(&north)]);
    let graph: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(graph["routes"][0]["from"], "plant.numbers", "{graph}");
    assert_eq!(graph["routes"][0]["terminal"], "numbers", "{graph}");
}

#[test]
fn new_creates_a_crate_that_lints_clean_and_refuses_to_overwrite() {
    let dir = std::env::temp_dir().join(format!("wiring-cli-new-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let krate = dir.join("My Plant");
    let output = wiring(&["new", path_str(&krate)]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let manifest = std::fs::read_to_string(krate.join("Cargo.toml")).unwrap_or_default();
    assert!(manifest.contains("name = \"my-plant\""), "{manifest}");
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let kernel = std::fs::canonicalize(workspace.join("kernel")).expect("kernel crate");
    assert!(
        manifest.contains(&format!("kernel = {{ path = \"{}\" }}", kernel.display())),
        "{manifest}"
    );
    let output = wiring(&["lint", path_str(&krate)]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stderr), "");

    let output = wiring(&["new", path_str(&krate)]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("exists and is not empty"));

    // It runs: with the workspace's resolved versions, offline, in the
    // target folder the end-to-end tests share.
    std::fs::copy(workspace.join("Cargo.lock"), krate.join("Cargo.lock")).expect("lockfile");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from)
        .join("e2e");
    let run = Command::new(env!("CARGO"))
        .args(["run", "--offline", "--color", "never"])
        .current_dir(&krate)
        .env("CARGO_TARGET_DIR", target)
        // A test build: no debug info, no incremental cache to write.
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("cargo run");
    let (stdout, stderr) = (text(&run.stdout), text(&run.stderr));
    assert!(run.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("sum: 5050"), "{stdout}{stderr}");
    // `kernel::run` logs without any setup.
    assert!(stderr.contains("kernel ended cleanly"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

mod live {
    use super::*;
    use kernel::control::http::ControlOptions;
    use kernel::prelude::ServeControl;

    const TOKEN: &str = "cli-test-token-0123456789";

    fn ctl(url: &str, args: &[&str], token: Option<&str>) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_wiring"));
        command.args(["ctl", url]).args(args);
        match token {
            Some(token) => command.env("KERNEL_CONTROL_TOKEN", token),
            None => command.env_remove("KERNEL_CONTROL_TOKEN"),
        };
        command.output().expect("run wiring ctl")
    }

    #[test]
    fn pull_writes_the_wiring_that_builds_the_same_kernel_and_ctl_steers() {
        let kernel = wiring_tests::chaos_kernel::kernel()
            .expect("chaos kernel")
            .with_signal_handlers(false);
        let server = kernel
            .serve_control(ControlOptions::new().token(TOKEN))
            .expect("control surface");
        let url = server.url();
        let stop = kernel.stop_handle();
        let running = std::thread::spawn(move || kernel.run());

        let dir = std::env::temp_dir().join(format!("wiring-cli-pull-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let pulled = dir.join("wiring.toml");
        let output = wiring(&["pull", &url, "-o", path_str(&pulled)]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests");
        let original = tests.join("wiring/chaos_kernel.toml");
        let generate = |path: &Path| {
            wiring_build::Config::new()
                .crate_root(tests.join("src/lib.rs"))
                .display_path("wiring.toml")
                .generate(path)
                .expect("generate")
        };
        assert_eq!(generate(&pulled), generate(&original));

        // The modifying calls: refused without the right token, done with it.
        let output = ctl(&url, &["stop", "src_a"], None);
        assert!(!output.status.success());
        assert!(text(&output.stderr).contains("KERNEL_CONTROL_TOKEN"));
        let output = ctl(&url, &["stop", "src_a"], Some("wrong-token-0123456789"));
        assert!(!output.status.success());
        assert!(
            text(&output.stderr).contains("refused (401)"),
            "{}",
            text(&output.stderr)
        );
        let output = ctl(&url, &["stop", "nobody"], Some(TOKEN));
        assert!(
            text(&output.stderr).contains("refused (404)"),
            "{}",
            text(&output.stderr)
        );
        let output = ctl(&url, &["stop", "src_a"], Some(TOKEN));
        assert!(output.status.success(), "{}", text(&output.stderr));
        let output = wiring(&["pull", &url, "-o", "-"]);
        let live: String = text(&output.stdout);
        assert!(live.contains("[servers.src_a]"), "{live}");
        let output = ctl(&url, &["stop", "src_a"], Some(TOKEN));
        assert!(
            text(&output.stderr).contains("refused (409)"),
            "a stopped server stops again: {}",
            text(&output.stderr)
        );

        stop.stop();
        let _ = running.join();
        drop(server);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
