//! What can stop `wiring-build` other than the findings' content.

use std::io;
use std::path::PathBuf;

use crate::diagnostic::Findings;

/// A failure of the build step.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read, written or listed.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        /// `read`, `write`, `list`, ...
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A scanned Rust source does not parse.
    #[error("cannot scan `{}`: {message} (at {line}:{column})", path.display())]
    RustSyntax {
        /// The source file.
        path: PathBuf,
        /// Line of the error, from 1.
        line: usize,
        /// Column of the error, from 1.
        column: usize,
        /// syn's message; rustc will report the same mistake in more detail.
        message: String,
    },
    /// A `mod x;` whose file does not exist.
    #[error(
        "cannot find the file of module `{module}` declared in `{}` at {line}:{column}; looked for {}",
        declared_in.display(),
        candidates.iter().map(|c| format!("`{}`", c.display())).collect::<Vec<_>>().join(" and ")
    )]
    ModuleNotFound {
        /// The module's name.
        module: String,
        /// The file with the `mod` item.
        declared_in: PathBuf,
        /// Line of the `mod` item, from 1.
        line: usize,
        /// Column of the `mod` item, from 1.
        column: usize,
        /// The files looked for (`x.rs`, `x/mod.rs`, or a `#[path]`).
        candidates: Vec<PathBuf>,
    },
    /// Neither `src/lib.rs` nor `src/main.rs` exists and no crate root was configured.
    #[error(
        "no crate root to scan: neither `{}` nor `{}` exists; set one with `Config::crate_root`",
        dir.join("src/lib.rs").display(),
        dir.join("src/main.rs").display()
    )]
    NoCrateRoot {
        /// The package's directory.
        dir: PathBuf,
    },
    /// `OUT_DIR` is not set and no output directory was configured.
    #[error(
        "`OUT_DIR` is not set: call `wiring_build::compile` from a build script (build.rs), \
         or set the output directory with `Config::out_dir`"
    )]
    OutDirUnset,
    /// `cargo metadata` failed, when a `type` needed the dependencies.
    #[error(
        "cannot list the dependencies of `{}` (a `type` names another crate): {message}",
        manifest.display()
    )]
    Metadata {
        /// The package's `Cargo.toml`.
        manifest: PathBuf,
        /// What `cargo metadata` said, or why it could not run.
        message: String,
    },
    /// A `config` table that could not be written back as TOML.
    #[error("cannot write the `config` of server `{server}` as TOML: {message}")]
    Config {
        /// The server instance.
        server: String,
        /// The TOML serializer's message.
        message: String,
    },
    /// A peer kernel's crate (`Config::peer`) could not be read or scanned.
    #[error("cannot check routes against the peer kernel in `{}`: {source}", dir.display())]
    Peer {
        /// The peer crate's folder.
        dir: PathBuf,
        /// Why it could not be read or scanned.
        #[source]
        source: Box<Error>,
    },
    /// A peer kernel's wiring file has errors of its own: routes cannot be
    /// checked against it until they are fixed.
    #[error(
        "cannot check routes against the peer kernel in `{}`: its wiring file has errors\n{}",
        dir.display(),
        findings.render()
    )]
    PeerLint {
        /// The peer crate's folder.
        dir: PathBuf,
        /// The peer's own findings, errors among them.
        findings: Box<Findings>,
    },
    /// The wiring file has errors; they were printed (or are in the findings).
    #[error("{}", .0.summary().trim_start_matches("error: "))]
    Lint(Box<Findings>),
}

impl Error {
    /// The findings, when the wiring file has errors.
    pub fn findings(&self) -> Option<&Findings> {
        match self {
            Error::Lint(findings) => Some(findings),
            _ => None,
        }
    }

    /// Reports the error and ends the build script.
    ///
    /// The one place in the crate that prints and exits; meant for build.rs:
    /// `wiring_build::compile("wiring.toml").unwrap_or_else(|e| e.exit());`
    ///
    /// Lint errors already went out as `cargo::error=` lines, and cargo fails
    /// the build on those alone; exiting with status 0 then keeps cargo from
    /// repeating the build script's whole output. Any other error, or a run
    /// outside a build script, prints to stderr and exits with status 1.
    pub fn exit(self) -> ! {
        use std::io::Write as _;
        if matches!(self, Error::Lint(_)) && std::env::var_os("OUT_DIR").is_some() {
            let mut stdout = io::stdout().lock();
            let _ = writeln!(stdout, "cargo::error={self}");
            let _ = stdout.flush();
            std::process::exit(0)
        }
        let mut stderr = io::stderr().lock();
        let _ = writeln!(stderr, "error: {self}");
        let _ = stderr.flush();
        std::process::exit(1)
    }
}
