//! A program's `main` in one call: logging set up, the kernel built and run,
//! and an error shown as a sentence, not a `Debug` dump.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

use crate::{Error, Kernel};

/// The log filter when `RUST_LOG` is not set: what the kernel tells the
/// operator (where its control surface serves, servers that fail, restarts).
const DEFAULT_FILTER: &str = "info";

/// Builds the kernel with `build` (the generated `wiring::kernel`) and runs
/// it until every server finished, or ctrl-c.
///
/// Logging goes to stderr with the `RUST_LOG` filter (default `info`),
/// unless the program installed a `tracing` subscriber already. So the
/// kernel introduces itself: a kernel serving its control surface logs the
/// address and the file holding the bearer token. An error is logged with
/// its message and the program exits with status 1.
///
/// ```no_run
/// # mod wiring { pub fn kernel() -> Result<kernel::Kernel, kernel::Error> { unimplemented!() } }
/// // kernel::include_wiring!();
/// fn main() -> std::process::ExitCode {
///     kernel::run(wiring::kernel)
/// }
/// ```
pub fn run(build: impl FnOnce() -> Result<Kernel, Error>) -> ExitCode {
    init_logging();
    match build().and_then(Kernel::run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr with the `RUST_LOG` filter (default `info`), unless a
/// `tracing` subscriber is installed already; true when this installed one.
/// A `RUST_LOG` that does not parse is reported and the default used.
pub fn init_logging() -> bool {
    if tracing::dispatcher::has_been_set() {
        return false;
    }
    let (filter, bad) = match std::env::var("RUST_LOG") {
        Ok(text) if !text.trim().is_empty() => match EnvFilter::try_new(&text) {
            Ok(filter) => (filter, None),
            Err(e) => (EnvFilter::new(DEFAULT_FILTER), Some((text, e))),
        },
        _ => (EnvFilter::new(DEFAULT_FILTER), None),
    };
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init()
        .is_ok();
    if let Some((text, e)) = bad {
        tracing::warn!(
            "RUST_LOG=`{text}` is not a log filter ({e}); logging at `{DEFAULT_FILTER}`"
        );
    }
    installed
}
