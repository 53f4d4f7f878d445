//! Build-step scaling: scan + parse + lint + plan + generate of synthetic
//! wirings of 100, 1,000, 10,000 and 100,000 servers (see
//! `wiring_benches::synth`), each phase timed on its own, and end to end
//! through `wiring_build::Config::generate`, as a build script runs it.
//! Then the rendering of as many findings (one E0101 per server of a wiring
//! whose server types do not exist): the time per finding should not grow
//! with their number.
//!
//! ```sh
//! cargo bench -p wiring-benches --bench scaling
//! cargo bench -p wiring-benches --bench scaling -- 100 1000 10000   # sizes to run
//! ```
//!
//! The inputs are written under cargo's target folder at bench time
//! (`CARGO_TARGET_TMPDIR`), never by the build script or the tests. Every
//! size is run several times (at least 3, more when fast) and the medians
//! are printed.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use wiring_benches::stats::median_duration;
use wiring_benches::synth;

const SIZES: [usize; 4] = [100, 1_000, 10_000, 100_000];

#[derive(Default)]
struct Times {
    scan: Vec<Duration>,
    lint: Vec<Duration>,
    plan: Vec<Duration>,
    generate: Vec<Duration>,
    end_to_end: Vec<Duration>,
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let out = f();
    (out, started.elapsed())
}

fn one_run(root: &Path, wiring_path: &Path, times: &mut Times) -> Result<usize, String> {
    let source = std::fs::read_to_string(wiring_path).map_err(|e| e.to_string())?;
    let (scan, t) = timed(|| wiring_build::scan::scan(&[root.to_path_buf()], &[]));
    let scan = scan.map_err(|e| e.to_string())?;
    times.scan.push(t);
    let ((wiring, findings), t) = timed(|| wiring_build::lint::lint(&source, &scan));
    times.lint.push(t);
    if let Some(f) = findings.first() {
        return Err(format!(
            "the synthetic wiring has findings: {} {}",
            f.code.as_str(),
            f.message
        ));
    }
    let (plan, t) = timed(|| wiring_build::Plan::build(&source, &wiring, &scan));
    let plan = plan.map_err(|e| e.to_string())?;
    times.plan.push(t);
    let (code, t) = timed(|| wiring_build::generate(&plan));
    times.generate.push(t);
    let (whole, t) = timed(|| {
        wiring_build::Config::new()
            .crate_root(root)
            .cargo_output(false)
            .generate(wiring_path)
    });
    times.end_to_end.push(t);
    let whole = whole.map_err(|e| e.to_string())?;
    if whole != code {
        return Err("Config::generate and the phases disagree".to_string());
    }
    Ok(code.len())
}

fn ms(d: Option<Duration>) -> f64 {
    d.map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
}

fn main() -> ExitCode {
    let mut sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .filter_map(|a| a.replace(['_', ','], "").parse().ok())
        .collect();
    if sizes.is_empty() {
        sizes = SIZES.to_vec();
    }
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("synth");
    println!(
        "| servers | pipes | scan ms | parse + lint ms | plan ms | generate ms | end to end ms | end to end µs/server | generated KiB | runs |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &n in &sizes {
        let dir = base.join(format!("lint-{n}"));
        let (root, wiring_path) = match synth::write_sources(&dir, synth::Shape::Mixed, n, 1000) {
            Ok(paths) => paths,
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
        };
        let servers = synth::units(n) * synth::UNIT;
        let pipes = synth::units(n) * synth::UNIT_PIPES;
        let mut times = Times::default();
        let mut bytes = 0;
        let budget = Instant::now();
        let mut runs = 0;
        // At least 3 runs; more while under 10 s, at most 21.
        while runs < 3 || (runs < 21 && budget.elapsed() < Duration::from_secs(10)) {
            match one_run(&root, &wiring_path, &mut times) {
                Ok(b) => bytes = b,
                Err(e) => {
                    eprintln!("error: {servers} servers: {e}");
                    return ExitCode::FAILURE;
                }
            }
            runs += 1;
        }
        let end_to_end = median_duration(&times.end_to_end);
        println!(
            "| {servers} | {pipes} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {runs} |",
            ms(median_duration(&times.scan)),
            ms(median_duration(&times.lint)),
            ms(median_duration(&times.plan)),
            ms(median_duration(&times.generate)),
            ms(end_to_end),
            ms(end_to_end) * 1e3 / servers as f64,
            bytes / 1024,
        );
    }
    println!();
    println!("| findings | wiring KiB | lint ms | render ms | render µs/finding | runs |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for &n in &sizes {
        match render_findings(&base, n) {
            Ok(row) => println!("{row}"),
            Err(e) => {
                eprintln!("error: {n} findings: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

/// Lints a wiring of `n` servers of a type that does not exist and renders
/// its `n` findings; a table row of medians.
fn render_findings(base: &Path, n: usize) -> Result<String, String> {
    let root = base.join("findings").join("lib.rs");
    if let Some(dir) = root.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(&root, "").map_err(|e| e.to_string())?;
    let mut wiring =
        String::from("[kernel]\nname = \"findings\"\n\n[lints]\nunused-server = \"allow\"\n");
    for i in 0..n {
        wiring.push_str(&format!("\n[servers.s{i}]\ntype = \"nowhere::Server\"\n"));
    }
    let mut lint = Vec::new();
    let mut render = Vec::new();
    let budget = Instant::now();
    let mut runs = 0;
    while runs < 3 || (runs < 21 && budget.elapsed() < Duration::from_secs(10)) {
        let (findings, t) = timed(|| {
            wiring_build::Config::new()
                .crate_root(&root)
                .lint_source(&wiring)
        });
        let findings = findings.map_err(|e| e.to_string())?;
        lint.push(t);
        if findings.len() != n {
            return Err(format!("{} findings, expected {n}", findings.len()));
        }
        let (text, t) = timed(|| findings.render());
        render.push(t);
        if text.matches("error[E0101]").count() != n {
            return Err("not every finding was rendered".to_string());
        }
        runs += 1;
    }
    let render_ms = ms(median_duration(&render));
    Ok(format!(
        "| {n} | {} | {:.1} | {render_ms:.1} | {:.2} | {runs} |",
        wiring.len() / 1024,
        ms(median_duration(&lint)),
        render_ms * 1e3 / n as f64,
    ))
}
