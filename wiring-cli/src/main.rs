//! `wiring`: the work around a build of a statically wired kernel.
//!
//! - `wiring new <path>`: a crate that builds and runs;
//! - `wiring lint [--peer <crate>].. [<crate>]`: the build step's findings,
//!   without compiling, routes checked against the peer kernels' crates;
//! - `wiring graph [--format dot|mermaid] [<crate>]`: the topology from
//!   `wiring.toml`, no running kernel needed;
//! - `wiring pull <control-url> [-o wiring.toml]`: a running kernel's live
//!   topology written back as `wiring.toml`;
//! - `wiring ctl <control-url> <verb> ..`: the modifying calls (token from
//!   `KERNEL_CONTROL_TOKEN`).
//!
//! `--json` prints what a read command found as JSON, for tools.

mod graph;
mod remote;
mod scaffold;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use wiring_build::{Error, Findings, Level};

#[derive(Parser)]
#[command(
    name = "wiring",
    version,
    about = "Scaffold, lint and draw statically wired kernels"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates a kernel crate at <path>: Cargo.toml, build.rs, src/main.rs,
    /// two servers and their wiring.toml.
    New {
        path: PathBuf,
        /// The checkout of the wiring project whose `kernel` and
        /// `wiring-build` the crate depends on (default: the one this
        /// command was built from, if it is still there).
        #[arg(long)]
        workspace: Option<PathBuf>,
    },
    /// Lints <crate>/wiring.toml against the crate's sources, as its build does.
    Lint {
        /// The crate's folder (holding Cargo.toml and wiring.toml).
        #[arg(default_value = ".")]
        crate_dir: PathBuf,
        /// The folder of a peer kernel's crate to check the routes against
        /// (its Cargo.toml, wiring.toml and servers); repeat for more.
        #[arg(long = "peer", value_name = "CRATE")]
        peers: Vec<PathBuf>,
        /// The findings as a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Draws the topology of <crate>/wiring.toml.
    Graph {
        #[arg(default_value = ".")]
        crate_dir: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Dot)]
        format: Format,
        /// Servers and pipes as JSON instead of a drawing.
        #[arg(long)]
        json: bool,
    },
    /// Writes the live topology of a running kernel as wiring.toml.
    Pull {
        /// The kernel's control surface: `http://127.0.0.1:8080/`.
        url: String,
        /// Where to write it; `-` for stdout.
        #[arg(short, long, default_value = "wiring.toml")]
        output: PathBuf,
    },
    /// Changes a running kernel (token from KERNEL_CONTROL_TOKEN).
    Ctl {
        /// The kernel's control surface: `http://127.0.0.1:8080/`.
        url: String,
        #[command(subcommand)]
        verb: remote::Verb,
        /// The kernel's answer as JSON, as it sent it.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Graphviz (`dot -Tsvg` draws it).
    Dot,
    /// Mermaid flowchart (GitHub renders it in Markdown).
    Mermaid,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::New { path, workspace } => {
            let workspace = workspace.or_else(scaffold::own_workspace);
            match scaffold::create(&path, workspace.as_deref()) {
                Ok(()) => {
                    println!(
                        "created `{}`: `cd {} && cargo run`",
                        path.display(),
                        path.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        Command::Lint {
            crate_dir,
            peers,
            json,
        } => match lint(&crate_dir, &peers) {
            Ok(findings) => {
                if json {
                    println!("{}", findings_json(&findings));
                } else if !findings.is_empty() {
                    eprintln!("{}", findings.render());
                }
                if findings.has_errors() {
                    ExitCode::FAILURE
                } else {
                    ExitCode::SUCCESS
                }
            }
            Err(e) => fail(&e),
        },
        Command::Pull { url, output } => pull(&url, &output),
        Command::Ctl { url, verb, json } => ctl(&url, &verb, json),
        Command::Graph {
            crate_dir,
            format,
            json,
        } => {
            let mut config = wiring_build::Config::new();
            config.package(&crate_dir).display_path("wiring.toml");
            match config.plan(crate_dir.join("wiring.toml")) {
                Ok(plan) => {
                    let text = match (json, format) {
                        (true, _) => graph::json(&plan).to_string(),
                        (false, Format::Dot) => graph::dot(&plan),
                        (false, Format::Mermaid) => graph::mermaid(&plan),
                    };
                    println!("{text}");
                    ExitCode::SUCCESS
                }
                Err(Error::Lint(findings)) => {
                    eprintln!("{}", findings.render());
                    ExitCode::FAILURE
                }
                Err(e) => fail(&e),
            }
        }
    }
}

fn pull(url: &str, output: &Path) -> ExitCode {
    let text = match remote::call(url, "GET", "api/v1/topology?format=toml", None, None) {
        Ok(text) => text,
        Err(e) => return fail(&e),
    };
    if output == Path::new("-") {
        print!("{text}");
        return ExitCode::SUCCESS;
    }
    match std::fs::write(output, text) {
        Ok(()) => {
            eprintln!("wrote {}", output.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("cannot write {}: {e}", output.display())),
    }
}

fn ctl(url: &str, verb: &remote::Verb, json: bool) -> ExitCode {
    let Some(token) = std::env::var(remote::TOKEN_ENV)
        .ok()
        .filter(|t| !t.is_empty())
    else {
        return fail(&remote::Failure::NoToken);
    };
    let (method, path, body) = remote::verb(verb);
    match remote::call(url, method, &path, Some(&token), body) {
        Ok(answer) => {
            if json {
                println!("{answer}");
            } else {
                eprintln!("done: {method} /{path}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn lint(crate_dir: &Path, peers: &[PathBuf]) -> Result<Findings, Error> {
    let mut config = wiring_build::Config::new();
    config.package(crate_dir).display_path("wiring.toml");
    for peer in peers {
        config.peer(peer);
    }
    config.lint(crate_dir.join("wiring.toml"))
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
}

/// Each finding with its code, level, place and texts.
fn findings_json(findings: &Findings) -> serde_json::Value {
    let source = findings.source();
    let items: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            let start = f.span.start.min(source.len());
            let before = source.get(..start).unwrap_or_default();
            let line = before.matches('\n').count() + 1;
            let column = before
                .rsplit('\n')
                .next()
                .unwrap_or_default()
                .chars()
                .count()
                + 1;
            serde_json::json!({
                "code": f.code.as_str(),
                "name": f.name,
                "level": match f.level { Level::Error => "error", Level::Warning => "warning" },
                "message": f.message,
                "file": findings.path(),
                "line": line,
                "column": column,
                "label": f.label,
                "help": f.help,
                "notes": f.notes,
                "rendered": findings.render_finding(f),
            })
        })
        .collect();
    serde_json::Value::Array(items)
}
