//! Pipe throughput: every shape and payload as a generated kernel (its
//! servers calling `send`/`recv` per message, and using the batch calls),
//! as the hand-written crossbeam baseline and as the hand-written batched
//! SPSC floor, in alternation, in one run.
//!
//! ```sh
//! cargo bench -p wiring-benches --bench pipes                 # all cases, 11 rounds each
//! cargo bench -p wiring-benches --bench pipes -- --runs 21 chain-1
//! ```
//!
//! A custom harness rather than divan: one iteration moves 1,000,000
//! messages (0.01 to 2 s), and on a small shared machine the load drifts
//! over a run, so the runners alternate (each round in another rotation)
//! and every ratio is taken within a round, then the median over the rounds.
//!
//! Options: `--runs N` (rounds per case, default 11), `--messages N` (per
//! source, default 1,000,000), `--select` (also the fan-in baseline with one
//! channel per producer and a `Select`), and filters: only cases whose name
//! (`chain-1 u64`, ...) contains one of them.

use std::collections::BTreeMap;
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

/// Runs every runner once per round, in a rotation that changes every
/// round, `runs` rounds after one warm-up each; their durations by runner.
fn rounds(
    case: Case,
    runners: &[Runner],
    o: &Options,
) -> Result<BTreeMap<&'static str, Vec<Duration>>, String> {
    // One warm-up of each: page faults of fresh rings, thread stacks.
    for &r in runners {
        case.run(r, o.messages)?;
    }
    let mut times: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
    for round in 0..o.runs {
        for k in 0..runners.len() {
            let r = runners[(round + k) % runners.len()];
            times
                .entry(r.name())
                .or_default()
                .push(case.run(r, o.messages)?);
        }
    }
    Ok(times)
}

/// Median rate of a runner, and the median and range of the per-round
/// ratio `a / b` of two runners' rates.
struct Figures {
    rates: BTreeMap<&'static str, f64>,
    ratios: Vec<(String, f64, (f64, f64))>,
}

fn figures(
    case: Case,
    times: &BTreeMap<&'static str, Vec<Duration>>,
    pairs: &[(Runner, Runner)],
    messages: u64,
) -> Figures {
    let delivered = case.shape.delivered(messages) as f64;
    let rates = times
        .iter()
        .map(|(name, t)| {
            let rate = median_duration(t).map_or(f64::NAN, |d| delivered / d.as_secs_f64());
            (*name, rate)
        })
        .collect();
    let ratios = pairs
        .iter()
        .filter_map(|(a, b)| {
            let (ta, tb) = (times.get(a.name())?, times.get(b.name())?);
            let r: Vec<f64> = ta
                .iter()
                .zip(tb)
                .map(|(x, y)| y.as_secs_f64() / x.as_secs_f64())
                .collect();
            Some((
                format!("{}/{}", a.name(), b.name()),
                median(&r).unwrap_or(f64::NAN),
                range(&r).unwrap_or((f64::NAN, f64::NAN)),
            ))
        })
        .collect();
    Figures { rates, ratios }
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
        "pipes: {} cases, {} rounds each, {} messages per source, load {:.2}",
        cases.len(),
        o.runs,
        o.messages,
        load_before.unwrap_or(f64::NAN)
    );
    let shown = [
        Runner::Kernel,
        Runner::KernelBatched,
        Runner::Baseline,
        Runner::Floor,
        Runner::BaselineSelect,
    ];
    let pairs = [
        (Runner::KernelBatched, Runner::Floor),
        (Runner::Kernel, Runner::Floor),
        (Runner::Kernel, Runner::Baseline),
        (Runner::Kernel, Runner::BaselineSelect),
    ];
    let mut rows = Vec::new();
    for case in cases {
        let mut runners = vec![
            Runner::Kernel,
            Runner::KernelBatched,
            Runner::Baseline,
            Runner::Floor,
        ];
        if o.select && case.shape == Shape::Fanin2 {
            runners.push(Runner::BaselineSelect);
        }
        match rounds(case, &runners, &o) {
            Ok(times) => {
                let f = figures(case, &times, &pairs, o.messages);
                let rates: Vec<String> = f
                    .rates
                    .iter()
                    .map(|(n, r)| format!("{n} {}msg/s", si(*r)))
                    .collect();
                let ratios: Vec<String> = f
                    .ratios
                    .iter()
                    .map(|(n, m, (lo, hi))| format!("{n} {m:.3} [{lo:.3} .. {hi:.3}]"))
                    .collect();
                eprintln!(
                    "  {case:<14} {}\n  {:<14} {}",
                    rates.join("  "),
                    "",
                    ratios.join("  ")
                );
                rows.push((case, f));
            }
            Err(e) => {
                eprintln!("error: {case}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!();
    print!("| shape, payload |");
    for r in shown {
        print!(" {} msg/s |", r.name());
    }
    for (a, b) in pairs {
        print!(" {}/{} (min .. max) |", a.name(), b.name());
    }
    println!();
    println!("|---|{}", "---:|".repeat(shown.len() + pairs.len()));
    for (case, f) in &rows {
        print!("| {case} |");
        for r in shown {
            match f.rates.get(r.name()) {
                Some(rate) => print!(" {} |", si(*rate)),
                None => print!(" - |"),
            }
        }
        for (a, b) in pairs {
            let name = format!("{}/{}", a.name(), b.name());
            match f.ratios.iter().find(|(n, ..)| *n == name) {
                Some((_, m, (lo, hi))) => print!(" {m:.3} ({lo:.2} .. {hi:.2}) |"),
                None => print!(" - |"),
            }
        }
        println!();
    }
    println!();
    println!(
        "{} rounds per case, {} messages per source; msg/s counts messages delivered to sinks (median of the rounds); ratios are of rates within a round, median over the rounds; load average {:.2} before, {:.2} after",
        o.runs,
        o.messages,
        load_before.unwrap_or(f64::NAN),
        load_average().unwrap_or(f64::NAN)
    );
    ExitCode::SUCCESS
}
