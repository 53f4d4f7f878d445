//! Runs one benchmark case once and prints its wall time and rate, for
//! `benches/gstreamer.sh` to time against `gst-launch-1.0`.
//!
//! ```sh
//! cargo run -p wiring-benches --release --bin shapes -- chain-1 u64 1000000 [kernel|baseline|baseline-select]
//! ```
//!
//! Prints `shape payload runner messages_delivered seconds msg_per_s`.

use std::process::ExitCode;

use wiring_benches::shapes::{Case, PayloadKind, Runner, Shape};

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: shapes <chain-1|chain-3|fanout-2|fanin-2> <u64|kib> [messages] [kernel|baseline|baseline-select]";
    let (Some(shape), Some(payload)) = (args.first(), args.get(1)) else {
        return Err(usage.to_string());
    };
    let shape: Shape = shape.parse()?;
    let payload: PayloadKind = payload.parse()?;
    let messages = match args.get(2) {
        Some(n) => n
            .replace('_', "")
            .parse()
            .map_err(|_| format!("`{n}` is not a message count; {usage}"))?,
        None => wiring_benches::MESSAGES,
    };
    let runner: Runner = match args.get(3) {
        Some(r) => r.parse()?,
        None => Runner::Kernel,
    };
    let elapsed = Case { shape, payload }.run(runner, messages)?;
    let delivered = shape.delivered(messages);
    println!(
        "{shape} {payload} {} {delivered} {:.6} {:.0}",
        runner.name(),
        elapsed.as_secs_f64(),
        delivered as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
