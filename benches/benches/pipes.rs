//! Pipe throughput: every shape and payload as a generated kernel and as the
//! hand-written crossbeam baseline, in alternation, in one run.
//!
//! ```sh
//! cargo bench -p wiring-benches --bench pipes                 # all cases, 11 pairs each
//! cargo bench -p wiring-benches --bench pipes -- --runs 21 chain-1
//! ```
//!
//! A custom harness rather than divan: one iteration moves 1,000,000
//! messages (0.05 to 2 s), and on a small shared machine the load drifts
//! over a run, so kernel and baseline runs alternate (ABBA order) and the
//! ratio is taken per pair, then the median over the pairs.
//!
//! Options: `--runs N` (pairs per case, default 11), `--messages N` (per
//! source, default 1,000,000), `--select` (also the fan-in baseline with one
//! channel per producer and a `Select`), and filters: only cases whose name
//! (`chain-1 u64`, ...) contains one of them.

use std::process::ExitCode;
use std::time::Duration;

use wiring_benches::shapes::{Case, Runner, Shape};
use wiring_benches::stats::{load_average, median, median_duration, range, si};

struct Options {
    runs: usize,
    messages: u64,
    select: bool,
    filters: Vec<String>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        runs: 11,
        messages: wiring_benches::MESSAGES,
        select: false,
        filters: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |what: &str| -> Result<u64, String> {
            args.next()
                .and_then(|v| v.replace('_', "").parse().ok())
                .ok_or_else(|| format!("{what} takes a number"))
        };
        match arg.as_str() {
            "--runs" => options.runs = number("--runs")?.max(1) as usize,
            "--messages" => options.messages = number("--messages")?,
            "--select" => options.select = true,
            // What cargo bench passes to every harness.
            "--bench" | "--test" => {}
            a if a.starts_with("--") => return Err(format!("unknown option `{a}`")),
            filter => options.filters.push(filter.replace('_', " ")),
        }
    }
    Ok(options)
}

struct Row {
    case: String,
    kernel: f64,
    baseline: f64,
    ratio: f64,
    spread: (f64, f64),
}

/// Runs `a` and `b` in ABBA order `runs` times; their durations.
fn pairs(
    case: Case,
    a: Runner,
    b: Runner,
    o: &Options,
) -> Result<(Vec<Duration>, Vec<Duration>), String> {
    // One warm-up of each: page faults of fresh channels, thread stacks.
    case.run(a, o.messages)?;
    case.run(b, o.messages)?;
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for r in 0..o.runs {
        if r % 2 == 0 {
            ta.push(case.run(a, o.messages)?);
            tb.push(case.run(b, o.messages)?);
        } else {
            tb.push(case.run(b, o.messages)?);
            ta.push(case.run(a, o.messages)?);
        }
    }
    Ok((ta, tb))
}

fn row(
    case: Case,
    label: String,
    kernel: &[Duration],
    baseline: &[Duration],
    messages: u64,
) -> Row {
    let delivered = case.shape.delivered(messages) as f64;
    let rate = |d: Duration| delivered / d.as_secs_f64();
    let ratios: Vec<f64> = kernel
        .iter()
        .zip(baseline)
        .map(|(k, b)| b.as_secs_f64() / k.as_secs_f64())
        .collect();
    Row {
        case: label,
        kernel: median_duration(kernel).map_or(f64::NAN, rate),
        baseline: median_duration(baseline).map_or(f64::NAN, rate),
        ratio: median(&ratios).unwrap_or(f64::NAN),
        spread: range(&ratios).unwrap_or((f64::NAN, f64::NAN)),
    }
}

fn main() -> ExitCode {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let cases: Vec<Case> = Case::all()
        .into_iter()
        .filter(|c| {
            o.filters.is_empty() || o.filters.iter().any(|f| c.to_string().contains(f.as_str()))
        })
        .collect();
    let load_before = load_average();
    eprintln!(
        "pipes: {} cases, {} kernel/baseline pairs each, {} messages per source, load {:.2}",
        cases.len(),
        o.runs,
        o.messages,
        load_before.unwrap_or(f64::NAN)
    );
    let mut rows = Vec::new();
    for case in cases {
        let mut variants = vec![(Runner::Baseline, case.to_string())];
        if o.select && case.shape == Shape::Fanin2 {
            variants.push((
                Runner::BaselineSelect,
                format!("{case} (vs select baseline)"),
            ));
        }
        for (baseline, label) in variants {
            match pairs(case, Runner::Kernel, baseline, &o) {
                Ok((k, b)) => {
                    let r = row(case, label, &k, &b, o.messages);
                    eprintln!(
                        "  {:<34} kernel {:>9}msg/s  baseline {:>9}msg/s  ratio {:.3} [{:.3} .. {:.3}]",
                        r.case,
                        si(r.kernel),
                        si(r.baseline),
                        r.ratio,
                        r.spread.0,
                        r.spread.1
                    );
                    rows.push(r);
                }
                Err(e) => {
                    eprintln!("error: {case}: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    println!();
    println!(
        "| shape, payload | kernel msg/s | baseline msg/s | ratio kernel/baseline (median of pairs) | ratio min .. max |"
    );
    println!("|---|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {:.3} | {:.3} .. {:.3} |",
            r.case,
            si(r.kernel),
            si(r.baseline),
            r.ratio,
            r.spread.0,
            r.spread.1
        );
    }
    println!();
    println!(
        "{} pairs per case, {} messages per source; msg/s counts messages delivered to sinks; load average {:.2} before, {:.2} after",
        o.runs,
        o.messages,
        load_before.unwrap_or(f64::NAN),
        load_average().unwrap_or(f64::NAN)
    );
    ExitCode::SUCCESS
}
