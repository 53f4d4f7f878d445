//! The probe's command line: scans for a kernel's beacon listeners,
//! verifies them and reports to the beacon; see `probe --help`
//! ([`kernel::net::probe::USAGE`]). The `probe` binary is this, and so is
//! `refinery probe`, which the refinery starts as its external process.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::process::ExitCode;

use kernel::net::probe::{self, Instructions, USAGE};

/// Environment variable with the log level (`error` to `trace`; default `info`).
const LOG_ENV: &str = "WIRING_PROBE_LOG";

/// Runs the probe with `args` (without the program name): exit status 0
/// after the beacon's authenticated terminate, 1 when the run failed, 2 for
/// bad arguments.
pub fn cli(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let mut args_utf8 = Vec::new();
    for arg in args {
        match arg.into_string() {
            Ok(arg) => args_utf8.push(arg),
            Err(arg) => {
                eprintln!("probe: argument {arg:?} is not UTF-8\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let args = args_utf8;
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let level = match std::env::var(LOG_ENV) {
        Ok(level) => match level.parse::<tracing::Level>() {
            Ok(level) => level,
            Err(_) => {
                eprintln!(
                    "probe: {LOG_ENV}=`{level}` is not a log level (error, warn, info, debug, trace)"
                );
                return ExitCode::from(2);
            }
        },
        Err(_) => tracing::Level::INFO,
    };
    // A program hosting the probe may have set its own subscriber already:
    // that one stays (`init` would panic).
    let _ = tracing_subscriber::fmt()
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .try_init();

    let instructions = match Instructions::from_args(&args, |name| std::env::var(name).ok()) {
        Ok(instructions) => instructions,
        Err(e) => {
            eprintln!("probe: {e}\n\nRun `probe --help` for the usage.");
            return ExitCode::from(2);
        }
    };
    match probe::run(&instructions) {
        Ok(outcome) => {
            for c in &outcome.candidates {
                println!("{} {} {}", c.proto, c.addr, c.priority);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("probe: {e}");
            ExitCode::FAILURE
        }
    }
}
