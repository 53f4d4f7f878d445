//! North: a kernel whose plant sends a numbered stream over a route to
//! south's checker (`cargo run -p north`, with south running). It serves
//! its control surface and stays up after the stream until ctrl-c; then it
//! prints each route's counters and ends.

mod servers;

use std::io::Write as _;

kernel::include_wiring!();

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let kernel = match wiring::kernel() {
        Ok(kernel) => kernel,
        Err(e) => {
            eprintln!("north: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let connectome = kernel.connectome();
    let outcome = kernel.run();
    let mut out = std::io::stdout().lock();
    for r in connectome.routes() {
        let _ = writeln!(
            out,
            "north: route {} -> {}: {}, sent {}, received {}, in flight {}, lost {}",
            r.from,
            r.to,
            r.state.as_str(),
            r.sent,
            r.received,
            r.in_flight,
            r.lost
        );
    }
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("north: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
