//! Writes a synthetic wiring and its server sources, or a whole runnable
//! crate, for the scaling measurements (`benches/build-time.sh`).
//!
//! ```sh
//! cargo run -p wiring-benches --release --bin synth -- crate <dir> <servers> [messages] [shape]
//! cargo run -p wiring-benches --release --bin synth -- sources <dir> <servers>
//! ```
//!
//! `shape` is `mixed` (the default: fan-out and fan-in, a thread per server)
//! or `transforms` (a source, eight fused transforms and a sink per ten
//! servers); see `wiring_benches::synth`.
//!
//! `crate` needs the workspace root, taken from `WIRING_WORKSPACE` or, by
//! default, the parent of this package.

use std::path::PathBuf;
use std::process::ExitCode;

use wiring_benches::synth::{self, Shape};

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: synth <crate|sources> <dir> <servers> [messages per source, default 1000] [mixed|transforms]";
    let [what, dir, servers, rest @ ..] = args.as_slice() else {
        return Err(usage.to_string());
    };
    let servers: usize = servers
        .replace(['_', ','], "")
        .parse()
        .map_err(|_| format!("`{servers}` is not a number of servers; {usage}"))?;
    let messages: u64 = match rest.first() {
        Some(m) => m
            .replace(['_', ','], "")
            .parse()
            .map_err(|_| format!("`{m}` is not a message count; {usage}"))?,
        None => 1000,
    };
    let shape = match rest.get(1) {
        Some(s) => Shape::parse(s).ok_or_else(|| format!("unknown shape `{s}`; {usage}"))?,
        None => Shape::Mixed,
    };
    let dir = PathBuf::from(dir);
    match what.as_str() {
        "sources" => synth::write_sources(&dir, shape, servers, messages)
            .map(drop)
            .map_err(|e| format!("cannot write {}: {e}", dir.display())),
        "crate" => {
            let workspace = match std::env::var_os("WIRING_WORKSPACE") {
                Some(w) => PathBuf::from(w),
                None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .parent()
                    .map(PathBuf::from)
                    .ok_or("cannot tell the workspace root; set WIRING_WORKSPACE")?,
            };
            let workspace = workspace
                .canonicalize()
                .map_err(|e| format!("workspace {}: {e}", workspace.display()))?;
            synth::write_crate(&dir, shape, servers, messages, &workspace)
                .map_err(|e| format!("cannot write {}: {e}", dir.display()))
        }
        other => Err(format!("unknown command `{other}`; {usage}")),
    }
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
