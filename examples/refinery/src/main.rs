//! A refinery kernel: wells -> manifold -> column -> tank farm, alarm, historian.
//!
//! - `cargo run -p refinery` runs the plant to completion and prints a
//!   summary of every server and pipe.
//! - `cargo run -p refinery -- --serve` keeps a slow steady flow running and
//!   serves the control surface (HMI page, JSON API, metrics); it prints the
//!   address and the token, and stops cleanly on ctrl-c.
//! - `cargo run -p refinery -- --watch` shows a live table of the connections
//!   in the terminal (with `--serve` too, both at once).

mod servers;

use std::time::Duration;

use kernel::control::http::ControlOptions;

kernel::include_wiring!();

/// Interval between two samples of a well in steady mode (500 samples/s).
const STEADY: Duration = Duration::from_millis(2);

const USAGE: &str = "usage: refinery [--serve] [--watch]
  (no option)  run the plant to completion and print a summary
  --serve      steady flow until ctrl-c; serve the HMI and the control API
               (KERNEL_CONTROL_LISTEN, default 127.0.0.1:0; KERNEL_CONTROL_TOKEN)
  --watch      steady flow until ctrl-c; live table of the connections";

fn main() -> std::process::ExitCode {
    let mut serve = false;
    let mut watch = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--serve" => serve = true,
            "--watch" => watch = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return std::process::ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument `{other}`\n{USAGE}");
                return std::process::ExitCode::from(2);
            }
        }
    }
    match run(serve, watch) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(serve: bool, watch: bool) -> Result<(), kernel::Error> {
    // A live table and log lines do not mix: only warnings while watching.
    let level = if watch {
        tracing::Level::WARN
    } else {
        tracing::Level::INFO
    };
    tracing_subscriber::fmt()
        .with_target(false)
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .init();
    if serve || watch {
        servers::wells::run_steadily(STEADY);
    }
    let kernel = wiring::kernel()?;
    let connectome = kernel.connectome();
    let server = if serve {
        let server = kernel.serve_control(ControlOptions::from_env()?)?;
        println!("HMI: {}", server.url());
        println!("API: {}api/v1/openapi.json", server.url());
        println!("token: {}", server.token());
        if let Some(file) = server.token_file() {
            println!("token file: {}", file.display());
        }
        println!("ctrl-c stops the plant");
        Some(server)
    } else {
        None
    };
    let watcher = watch.then(|| {
        let control = kernel.control();
        let stop = kernel.stop_handle();
        std::thread::spawn(move || {
            let mut out = std::io::stdout();
            let _ = kernel::control::watch::watch(
                &control,
                Duration::from_millis(500),
                &mut out,
                || stop.is_stopping(),
            );
        })
    });
    let outcome = kernel.run();
    if let Some(watcher) = watcher {
        let _ = watcher.join();
    }
    drop(server);
    println!("{}", connectome.report());
    outcome
}
