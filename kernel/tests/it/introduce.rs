//! `kernel::run`, a program's `main` in one call: with no logging set up by
//! the program, a kernel serving its control surface tells the operator
//! where (address and token file), and an error is shown as its message.
//!
//! Each case runs this test binary again as the program (`INTRODUCE_AS`
//! names what it runs), since logging is set up once per process.
#![cfg(feature = "control")]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitCode, Stdio};

use crate::control_common::http::get;
use crate::control_common::*;

const ROLE_ENV: &str = "INTRODUCE_AS";

/// The program the parent runs: `serving` or `failing`.
#[test]
fn program() {
    let Ok(role) = std::env::var(ROLE_ENV) else {
        return;
    };
    let code = match role.as_str() {
        "serving" => kernel::run(|| {
            Ok(build(Box::leak(Box::new(kernel::Spec {
                control: Some("127.0.0.1:0"),
                ..*spec("introduce")
            }))))
        }),
        _ => kernel::run(|| {
            Err(kernel::Error::DuplicateName {
                name: "north_well".into(),
            })
        }),
    };
    std::process::exit(if code == ExitCode::SUCCESS { 0 } else { 1 });
}

fn start(role: &str, rust_log: Option<&str>) -> Child {
    let mut command = Command::new(std::env::current_exe().expect("test binary"));
    command
        .args([
            "--exact",
            "introduce::program",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE_ENV, role)
        .env_remove("KERNEL_CONTROL_LISTEN")
        .env_remove("KERNEL_CONTROL_TOKEN")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(filter) = rust_log {
        command.env("RUST_LOG", filter);
    }
    command.spawn().expect("run the test binary as the program")
}

/// The value of `key=value` in a log line.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(&format!("{key}="))? + key.len() + 1;
    line[start..].split_whitespace().next()
}

#[test]
fn a_serving_kernel_says_where_its_control_surface_and_token_are() {
    let mut child = start("serving", None);
    // Read on a thread to the end: the program must not write into a closed pipe.
    let stderr = child.stderr.take().expect("stderr");
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut seen = Vec::new();
    let mut announced = None;
    while let Ok(line) = received.recv_timeout(std::time::Duration::from_secs(30)) {
        if line.contains("control surface serving") {
            announced = Some(line);
            break;
        }
        seen.push(line);
    }
    let checked = std::panic::catch_unwind(|| {
        let line = announced.unwrap_or_else(|| {
            panic!(
                "no `control surface serving` line; stderr:\n{}",
                seen.join("\n")
            )
        });
        let url = field(&line, "url").unwrap_or_else(|| panic!("no url in `{line}`"));
        let token_file =
            field(&line, "token_file").unwrap_or_else(|| panic!("no token_file in `{line}`"));
        let token = std::fs::read_to_string(token_file).unwrap_or_default();
        assert!(
            token.trim().len() >= 16,
            "token file `{token_file}` holds `{token}`"
        );
        let addr: SocketAddr = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap_or_else(|e| panic!("`{url}`: {e}"));
        assert!(addr.ip().is_loopback(), "{addr}");
        let response = get(addr, "/api/v1/servers");
        assert_eq!(response.status, 200, "{}", response.body);
        assert!(response.body.contains("\"spare\""), "{}", response.body);
        token_file.to_owned()
    });
    let _ = child.kill();
    let _ = child.wait();
    match checked {
        Ok(token_file) => {
            let _ = std::fs::remove_file(token_file);
        }
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

#[test]
fn an_error_is_shown_with_its_message_and_fails_the_program() {
    let child = start("failing", None);
    let output = child.wait_with_output().expect("program output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "a server or process named `north_well` already exists; names are unique across both"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("DuplicateName"), "a Debug dump:\n{stderr}");
}

#[test]
fn rust_log_sets_the_filter() {
    let child = start("failing", Some("off"));
    let output = child.wait_with_output().expect("program output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        !stderr.contains("north_well"),
        "logged under RUST_LOG=off:\n{stderr}"
    );
}
