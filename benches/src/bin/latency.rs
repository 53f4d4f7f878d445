//! Latency of one pipe at a fixed rate (default 10,000 msg/s): the generated
//! kernel `latency_u64` (source -> sink, the source sleeping between
//! messages), several runs, percentiles of each.
//!
//! ```sh
//! cargo run -p wiring-benches --release --bin latency -- [rate 10000] [messages 20000] [runs 5]
//! ```

use std::process::ExitCode;

use wiring_benches::kernels::latency_u64;
use wiring_benches::latency::{configure, quantile, take_samples};

fn number(arg: Option<String>, default: u64) -> Result<u64, String> {
    match arg {
        Some(a) => a
            .replace('_', "")
            .parse()
            .map_err(|_| format!("`{a}` is not a number")),
        None => Ok(default),
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let rate = number(args.next(), 10_000)?;
    let messages = number(args.next(), 20_000)?;
    let runs = number(args.next(), 5)?;
    configure(rate, messages);
    println!("| run | runner | messages | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs |");
    println!("|---:|---|---:|---:|---:|---:|---:|---:|");
    for r in 0..runs {
        let kernel = latency_u64::kernel().map_err(|e| e.to_string())?;
        kernel
            .with_signal_handlers(false)
            .run()
            .map_err(|e| e.to_string())?;
        let s = take_samples();
        let us = |q| quantile(&s, q) as f64 / 1000.0;
        println!(
            "| {} | kernel | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            r + 1,
            s.len(),
            us(0.5),
            us(0.9),
            us(0.99),
            us(0.999),
            us(1.0)
        );
    }
    println!("\n{rate} msg/s, {messages} messages per run");
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
