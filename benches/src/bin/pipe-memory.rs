//! Resident memory per pipe at capacity 1024: builds many one-pipe kernels
//! (`chain-1`) and as many bare crossbeam channels, keeps them alive, and
//! divides the growth of `VmRSS` by their number.
//!
//! ```sh
//! cargo run -p wiring-benches --release --bin pipe-memory [count, default 1000]
//! ```

use std::process::ExitCode;

use wiring_benches::baseline::CAPACITY;
use wiring_benches::kernels::{chain_1_kib, chain_1_u64};
use wiring_benches::payload::Kib;
use wiring_benches::stats::memory;

fn rss_kib() -> Result<u64, String> {
    memory()
        .map(|m| m.rss_kib)
        .ok_or_else(|| "cannot read /proc/self/status".to_string())
}

/// KiB of resident memory per item that `make` builds, `count` times.
fn per_item<T>(count: usize, make: impl Fn() -> Result<T, String>) -> Result<f64, String> {
    let before = rss_kib()?;
    let mut keep = Vec::with_capacity(count);
    for _ in 0..count {
        keep.push(make()?);
    }
    let after = rss_kib()?;
    drop(keep);
    Ok(after.saturating_sub(before) as f64 / count as f64)
}

const WHAT: [&str; 4] = ["kernel-u64", "bare-u64", "kernel-kib", "bare-kib"];

/// Measures one kind in this process.
fn measure(what: &str, count: usize) -> Result<f64, String> {
    match what {
        "kernel-u64" => per_item(count, || chain_1_u64::kernel().map_err(|e| e.to_string())),
        "bare-u64" => per_item(count, || Ok(crossbeam_channel::bounded::<u64>(CAPACITY))),
        "kernel-kib" => per_item(count, || chain_1_kib::kernel().map_err(|e| e.to_string())),
        "bare-kib" => per_item(count, || Ok(crossbeam_channel::bounded::<Kib>(CAPACITY))),
        other => Err(format!("unknown kind `{other}`; expected one of {WHAT:?}")),
    }
}

/// Each kind in a fresh process, so that memory freed by one is not reused
/// by the next.
fn fresh(what: &str, count: usize) -> Result<f64, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = std::process::Command::new(exe)
        .args(["--one", what, &count.to_string()])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| "unexpected output of a measurement".to_string())
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, what, count] = args.as_slice()
        && flag == "--one"
    {
        let count = count
            .parse()
            .map_err(|_| format!("`{count}` is not a count"))?;
        println!("{}", measure(what, count)?);
        return Ok(());
    }
    let count: usize = match args.first() {
        Some(n) => n.parse().map_err(|_| format!("`{n}` is not a count"))?,
        None => 1000,
    };
    let [kernel_u64, bare_u64, kernel_kib, bare_kib] = [
        fresh(WHAT[0], count)?,
        fresh(WHAT[1], count)?,
        fresh(WHAT[2], count)?,
        fresh(WHAT[3], count)?,
    ];
    println!(
        "| payload | one-pipe kernel KiB per pipe | bare crossbeam channel KiB | payload bytes x 1024 in KiB |"
    );
    println!("|---|---:|---:|---:|");
    println!("| u64 | {kernel_u64:.1} | {bare_u64:.1} | {:.1} |", 8.0);
    println!("| kib | {kernel_kib:.1} | {bare_kib:.1} | {:.1} |", 1024.0);
    println!();
    println!(
        "{count} of each kept alive, each kind in a fresh process; growth of VmRSS divided by the count (capacity {CAPACITY})."
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
