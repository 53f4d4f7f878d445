//! Fusion: a chain of three transforms between a source and a sink, fused
//! into the source's thread by the build step, against the hand-written
//! program computing the same functions inline in the producer thread and
//! handing the survivors to the sink over a batched SPSC ring; and the same
//! kernel with `fuse = false` on the three (a thread and a pipe each). The
//! runners alternate, each round in another rotation; ratios are taken
//! within a round, then the median over the rounds.
//!
//! ```sh
//! cargo bench -p wiring-benches --bench fusion                # 11 rounds
//! cargo bench -p wiring-benches --bench fusion -- --runs 21 --messages 1000000
//! ```
//!
//! The source sends one message per `send` (its `Output` calls the chain);
//! with `--batched` it uses `send_all`. `--only fused` (or `unfused`,
//! `inline`) runs one runner alone, for a profiler.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use wiring_benches::stats::{load_average, median, median_duration, range, si};
use wiring_benches::{floor, fused, kernels, servers, set_messages};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runner {
    Fused,
    Unfused,
    Inline,
}

impl Runner {
    const ALL: [Runner; 3] = [Runner::Fused, Runner::Unfused, Runner::Inline];

    fn name(self) -> &'static str {
        match self {
            Runner::Fused => "fused",
            Runner::Unfused => "unfused",
            Runner::Inline => "inline",
        }
    }

    fn run(self, messages: u64) -> Result<Duration, String> {
        set_messages(messages);
        let started = Instant::now();
        match self {
            Runner::Fused | Runner::Unfused => {
                let kernel = if self == Runner::Fused {
                    kernels::fused_3_u64::kernel()
                } else {
                    kernels::unfused_3_u64::kernel()
                };
                kernel
                    .and_then(|k| k.with_signal_handlers(false).run())
                    .map_err(|e| e.to_string())?;
            }
            Runner::Inline => {
                floor::chain_1_inline(messages, fused::inline, fused::expected(messages))?;
            }
        }
        Ok(started.elapsed())
    }
}

struct Options {
    runs: usize,
    messages: u64,
    batched: bool,
    only: Option<Runner>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        runs: 11,
        messages: wiring_benches::MESSAGES,
        batched: false,
        only: None,
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
            "--batched" => options.batched = true,
            "--only" => {
                let name = args.next().unwrap_or_default();
                let runner = Runner::ALL.into_iter().find(|r| r.name() == name);
                options.only = Some(runner.ok_or_else(|| {
                    format!("--only takes fused, unfused or inline, not `{name}`")
                })?);
            }
            // What cargo bench passes to every harness.
            "--bench" | "--test" => {}
            a => return Err(format!("unknown argument `{a}`")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    servers::set_batched(o.batched);
    let delivered = fused::expected(o.messages).count as f64;
    eprintln!(
        "fusion: chain of 3 transforms, {} rounds, {} messages ({} delivered), source {}, load {:.2}",
        o.runs,
        o.messages,
        delivered,
        if o.batched { "send_all" } else { "send" },
        load_average().unwrap_or(f64::NAN)
    );
    let mut times: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
    let run = |r: Runner| match r.run(o.messages) {
        Ok(t) => Some(t),
        Err(e) => {
            eprintln!("error: {}: {e}", r.name());
            None
        }
    };
    if let Some(r) = o.only {
        for _ in 0..o.runs {
            let Some(t) = run(r) else {
                return ExitCode::FAILURE;
            };
            println!(
                "{:<8} {:>10} msg/s",
                r.name(),
                si(o.messages as f64 / t.as_secs_f64())
            );
        }
        return ExitCode::SUCCESS;
    }
    // One warm-up each: page faults of fresh rings, thread stacks.
    for r in Runner::ALL {
        if run(r).is_none() {
            return ExitCode::FAILURE;
        }
    }
    for round in 0..o.runs {
        for k in 0..Runner::ALL.len() {
            let r = Runner::ALL[(round + k) % Runner::ALL.len()];
            let Some(t) = run(r) else {
                return ExitCode::FAILURE;
            };
            times.entry(r.name()).or_default().push(t);
        }
    }
    for r in Runner::ALL {
        let t = &times[r.name()];
        let rate = median_duration(t).map_or(f64::NAN, |d| o.messages as f64 / d.as_secs_f64());
        println!(
            "{:<8} {:>10} msg/s (source messages per second, median)",
            r.name(),
            si(rate)
        );
    }
    for (a, b) in [
        (Runner::Fused, Runner::Inline),
        (Runner::Fused, Runner::Unfused),
    ] {
        let r: Vec<f64> = times[a.name()]
            .iter()
            .zip(&times[b.name()])
            .map(|(x, y)| y.as_secs_f64() / x.as_secs_f64())
            .collect();
        let (low, high) = range(&r).unwrap_or((f64::NAN, f64::NAN));
        println!(
            "{}/{}: {:.2}x (range {:.2}-{:.2})",
            a.name(),
            b.name(),
            median(&r).unwrap_or(f64::NAN),
            low,
            high
        );
    }
    ExitCode::SUCCESS
}
