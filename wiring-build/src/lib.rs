//! Build-script library for statically wired kernels.
//!
//! Scans the crate's sources for structs deriving `Manifest`, lints
//! `wiring.toml` (rustc-style diagnostics pointing into it), and generates the
//! code of the wired kernel into `OUT_DIR`.
//!
//! ```no_run
//! // in build.rs, `fn main`:
//! wiring_build::compile("wiring.toml").unwrap_or_else(|e| e.exit());
//! ```
//!
//! The steps, each usable on its own: [`scan`], [`wiring::parse`],
//! [`lint::lint`], [`Plan::build`], and the pure [`generate()`].

#![warn(missing_docs)]

pub mod diagnostic;
mod error;
pub mod fuse;
mod generate;
pub mod lint;
mod peers;
mod plan;
pub mod scan;

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

pub use diagnostic::{Code, Finding, Findings, Level};
pub use error::Error;
pub use generate::{HEADER, generate};
pub use plan::{
    EndpointPlan, KernelPlan, PipePlan, Plan, ProcessPlan, RoutePlan, ServerPlan, TargetPlan,
};
pub use wiring_model::wiring;

/// Lints `path` and writes the kernel to `$OUT_DIR/wiring.rs`; for build.rs.
///
/// Same as `Config::new().compile(path)`.
pub fn compile(path: impl AsRef<Path>) -> Result<(), Error> {
    Config::new().compile(path)
}

/// Lints `path` without writing code; the findings, errors included.
///
/// Same as `Config::new().lint(path)`. `Err` only when a file cannot be read or
/// a scanned source does not parse.
pub fn lint(path: impl AsRef<Path>) -> Result<Findings, Error> {
    Config::new().lint(path)
}

/// Options of the build step, prost-build style.
///
/// In `build.rs`, `Config::new().compile("wiring.toml")` lints and writes the
/// kernel; tools lint without building. Here a crate of one source and one
/// sink, whose wiring names a terminal the sink does not have:
///
/// ```
/// let dir = std::env::temp_dir().join(format!("wiring-build-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let root = dir.join("lib.rs");
/// std::fs::write(&root, r#"
///     #[derive(Manifest)]
///     #[manifest(class = 1, owner = "docs")]
///     pub struct Count { pub out: Output<u64> }
///
///     #[derive(Manifest)]
///     #[manifest(class = 2, owner = "docs")]
///     pub struct Print { pub input: Input<u64> }
/// "#)?;
/// let mut config = wiring_build::Config::new();
/// config.crate_root(&root).display_path("wiring.toml");
///
/// let wiring = r#"[kernel]
/// name = "demo"
///
/// [servers.count]
/// type = "Count"
///
/// [servers.print]
/// type = "Print"
///
/// [[connections]]
/// from = "count.out"
/// to = "print.inptu"
/// "#;
/// let findings = config.lint_source(wiring)?;
/// assert_eq!(findings.codes(), [wiring_build::Code::UnknownTerminal]);
/// let shown = findings.to_string();
/// assert!(shown.contains("error[E0103]") && shown.contains("wiring.toml:12:"), "{shown}");
///
/// let fixed = wiring.replace("inptu", "input");
/// assert!(!config.lint_source(&fixed)?.has_errors());
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    package: Option<PathBuf>,
    crate_roots: Vec<PathBuf>,
    source_dirs: Vec<PathBuf>,
    out_dir: Option<PathBuf>,
    out_file: String,
    format: bool,
    display_path: Option<String>,
    cargo_output: bool,
    peers: Vec<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

/// What one run of the build step found.
struct Analysis {
    findings: Findings,
    wiring: wiring::Wiring,
    scan: scan::Scan,
    wiring_path: Option<PathBuf>,
    /// The wiring files and sources of the peer kernels, for `rerun-if-changed`.
    peer_files: Vec<PathBuf>,
}

/// The plan of a wiring file that linted without errors.
fn plan_of(analysis: &Analysis) -> Result<Plan, Error> {
    if analysis.findings.has_errors() {
        return Err(Error::Lint(Box::new(analysis.findings.clone())));
    }
    Plan::build(analysis.findings.source(), &analysis.wiring, &analysis.scan)
}

impl Config {
    /// Defaults: crate roots `src/lib.rs` and `src/main.rs` (those that exist)
    /// under `CARGO_MANIFEST_DIR`, output `wiring.rs` in `OUT_DIR`, formatted.
    pub fn new() -> Self {
        Config {
            package: None,
            crate_roots: Vec::new(),
            source_dirs: Vec::new(),
            out_dir: None,
            out_file: "wiring.rs".to_string(),
            format: true,
            display_path: None,
            cargo_output: true,
            peers: Vec::new(),
        }
    }

    /// Scans the package in this folder (its `Cargo.toml`, `src/lib.rs`,
    /// `src/main.rs` and the libraries `type` paths name) instead of the
    /// one in `CARGO_MANIFEST_DIR`; for tools that run outside a build.
    pub fn package(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.package = Some(dir.into());
        self
    }

    /// Scans from this crate root instead of `src/lib.rs` / `src/main.rs`;
    /// call again for more roots.
    pub fn crate_root(&mut self, path: impl Into<PathBuf>) -> &mut Self {
        self.crate_roots.push(path.into());
        self
    }

    /// Also scans every `.rs` file under this folder (module paths from the
    /// folder layout: `dir/a/b.rs` is `a::b`).
    pub fn source_dir(&mut self, path: impl Into<PathBuf>) -> &mut Self {
        self.source_dirs.push(path.into());
        self
    }

    /// Writes into this folder instead of `OUT_DIR`.
    pub fn out_dir(&mut self, path: impl Into<PathBuf>) -> &mut Self {
        self.out_dir = Some(path.into());
        self
    }

    /// The generated file's name (default `wiring.rs`); include it with
    /// `kernel::include_wiring!(name)` for `name.rs`.
    pub fn out_file(&mut self, name: impl Into<String>) -> &mut Self {
        self.out_file = name.into();
        self
    }

    /// Formats the generated code with prettyplease (default on).
    pub fn format(&mut self, enabled: bool) -> &mut Self {
        self.format = enabled;
        self
    }

    /// How diagnostics name the wiring file (default: the path as given).
    pub fn display_path(&mut self, path: impl Into<String>) -> &mut Self {
        self.display_path = Some(path.into());
        self
    }

    /// Prints `cargo::` lines from [`Config::compile`] (default on).
    pub fn cargo_output(&mut self, enabled: bool) -> &mut Self {
        self.cargo_output = enabled;
        self
    }

    /// Checks every route against the kernel of the package in this folder
    /// (its `Cargo.toml`, `wiring.toml` and server sources, scanned like the
    /// crate's own): the remote kernel, server and terminal exist, the
    /// terminal is an offered input of the route's message type, and no
    /// `Input` takes producers from two kernels (codes E0801-E0808). Call
    /// again for more peers. A folder that cannot be read, or whose wiring
    /// file has errors, is an [`Error::Peer`] or [`Error::PeerLint`].
    pub fn peer(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.peers.push(dir.into());
        self
    }

    /// Lints the wiring file at `path`; the findings, errors included.
    pub fn lint(&self, path: impl AsRef<Path>) -> Result<Findings, Error> {
        Ok(self.analyze_file(path.as_ref())?.findings)
    }

    /// Lints wiring-file text (shown as the display path, default `wiring.toml`).
    pub fn lint_source(&self, source: &str) -> Result<Findings, Error> {
        Ok(self.analyze(source, None, None)?.findings)
    }

    /// Lints `path` and resolves it into the plan of the kernel (servers,
    /// pipes, processes); `Err(Error::Lint(..))` when it has errors.
    pub fn plan(&self, path: impl AsRef<Path>) -> Result<Plan, Error> {
        plan_of(&self.analyze_file(path.as_ref())?)
    }

    /// Lints `path` and returns the generated code without writing it;
    /// `Err(Error::Lint(..))` when the wiring file has errors.
    pub fn generate(&self, path: impl AsRef<Path>) -> Result<String, Error> {
        let analysis = self.analyze_file(path.as_ref())?;
        self.code(&analysis)
    }

    /// Lints `path`, prints the findings and `cargo::rerun-if-changed` lines,
    /// and writes the kernel into the output folder when it changed.
    pub fn compile(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(Error::OutDirUnset)?,
        };
        let analysis = self.analyze_file(path.as_ref())?;
        if self.cargo_output {
            self.print_cargo(&analysis);
        }
        let plan = plan_of(&analysis)?;
        if self.cargo_output {
            print_lines(fused_notes(&plan));
        }
        let code = self.render(&plan);
        let target = out_dir.join(&self.out_file);
        let unchanged = fs::read(&target).is_ok_and(|old| old == code.as_bytes());
        if !unchanged {
            fs::write(&target, code).map_err(|source| Error::Io {
                action: "write",
                path: target.clone(),
                source,
            })?;
        }
        Ok(())
    }

    fn code(&self, analysis: &Analysis) -> Result<String, Error> {
        Ok(self.render(&plan_of(analysis)?))
    }

    fn render(&self, plan: &Plan) -> String {
        if self.format {
            generate(plan)
        } else {
            generate::generate_unformatted(plan)
        }
    }

    fn print_cargo(&self, analysis: &Analysis) {
        let mut lines = Vec::new();
        if let Some(path) = &analysis.wiring_path {
            lines.push(format!("cargo::rerun-if-changed={}", path.display()));
        }
        for file in &analysis.scan.files {
            lines.push(format!("cargo::rerun-if-changed={}", file.display()));
        }
        for dir in &self.source_dirs {
            lines.push(format!("cargo::rerun-if-changed={}", dir.display()));
        }
        for file in &analysis.peer_files {
            lines.push(format!("cargo::rerun-if-changed={}", file.display()));
        }
        let findings = &analysis.findings;
        for finding in findings {
            let kind = match finding.level {
                Level::Error => "error",
                Level::Warning => "warning",
            };
            for line in findings.render_finding(finding).lines() {
                lines.push(format!("cargo::{kind}={line}"));
            }
        }
        print_lines(lines);
    }

    /// The folder of the package the build step runs for, unless crate
    /// roots were given.
    fn package_dir(&self, wiring_path: Option<&Path>) -> Option<PathBuf> {
        if !self.crate_roots.is_empty() {
            return None;
        }
        if let Some(dir) = &self.package {
            return Some(dir.clone());
        }
        Some(
            match (std::env::var_os("CARGO_MANIFEST_DIR"), wiring_path) {
                (Some(dir), _) => PathBuf::from(dir),
                (None, Some(path)) => path.parent().map(Path::to_path_buf).unwrap_or_default(),
                (None, None) => PathBuf::new(),
            },
        )
    }

    fn scan(&self, package_dir: Option<&Path>) -> Result<scan::Scan, Error> {
        match package_dir {
            Some(dir) => scan::package(dir, &self.source_dirs),
            None => scan::scan(&self.crate_roots, &self.source_dirs),
        }
    }

    fn analyze_file(&self, path: &Path) -> Result<Analysis, Error> {
        let bytes = fs::read(path).map_err(|source| Error::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
        let display = self
            .display_path
            .clone()
            .unwrap_or_else(|| path.display().to_string());
        let analysis = match String::from_utf8(bytes) {
            Ok(source) => self.analyze(&source, Some(display), Some(path))?,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let source = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let finding =
                    Finding::new(Code::Syntax, at..at, "invalid TOML: the file is not UTF-8")
                        .label("invalid UTF-8 here")
                        .help("save the wiring file as UTF-8");
                Analysis {
                    findings: Findings::new(display, source, vec![finding]),
                    wiring: wiring::Wiring::default(),
                    scan: self.scan(self.package_dir(Some(path)).as_deref())?,
                    wiring_path: None,
                    peer_files: Vec::new(),
                }
            }
        };
        Ok(Analysis {
            wiring_path: Some(path.to_path_buf()),
            ..analysis
        })
    }

    /// Parses, scans what the wiring file's server types need, and lints.
    fn analyze(
        &self,
        source: &str,
        display: Option<String>,
        wiring_path: Option<&Path>,
    ) -> Result<Analysis, Error> {
        let package_dir = self.package_dir(wiring_path);
        let mut scan = self.scan(package_dir.as_deref())?;
        let (wiring, mut findings) = wiring::parse(source);
        if !findings.iter().any(|f| f.code == Code::Syntax) {
            if let Some(dir) = &package_dir {
                let types: Vec<&str> = wiring
                    .servers
                    .iter()
                    .filter_map(|s| s.ty.as_ref().map(|t| t.value.as_str()))
                    .collect();
                scan::add_dependencies(&mut scan, &types, dir)?;
            }
            findings.extend(lint::check(source, &wiring, &scan));
        }
        let mut peer_files = Vec::new();
        if !self.peers.is_empty() && !findings.iter().any(|f| f.code == Code::Syntax) {
            let mut peers = Vec::with_capacity(self.peers.len());
            for dir in &self.peers {
                let (view, files) = Config::peer_view(dir)?;
                peers.extend(view);
                peer_files.extend(files);
            }
            let crate_name = package_dir
                .as_deref()
                .and_then(|d| peers::crate_name(d, &scan));
            if let Some(local) = peers::KernelView::new(&wiring, &scan, crate_name.as_deref(), None)
            {
                findings.extend(peers::check(&local, &peers));
            }
        }
        let display = display
            .or_else(|| self.display_path.clone())
            .unwrap_or_else(|| "wiring.toml".to_string());
        Ok(Analysis {
            findings: Findings::new(display, source, findings),
            wiring,
            scan,
            wiring_path: None,
            peer_files,
        })
    }

    /// The kernel of the peer package in `dir`, linted like the crate's own,
    /// and the files it was read from.
    fn peer_view(dir: &Path) -> Result<(Option<peers::KernelView>, Vec<PathBuf>), Error> {
        let path = dir.join("wiring.toml");
        let analysis = Config::new()
            .package(dir)
            .analyze_file(&path)
            .map_err(|source| Error::Peer {
                dir: dir.to_path_buf(),
                source: Box::new(source),
            })?;
        if analysis.findings.has_errors() {
            return Err(Error::PeerLint {
                dir: dir.to_path_buf(),
                findings: Box::new(analysis.findings),
            });
        }
        let crate_name = peers::crate_name(dir, &analysis.scan);
        let view = peers::KernelView::new(
            &analysis.wiring,
            &analysis.scan,
            crate_name.as_deref(),
            Some(dir.display().to_string()),
        );
        let mut files = analysis.scan.files;
        files.push(path);
        Ok((view, files))
    }
}

/// How many fused chains the build names one by one; the rest are counted.
const NOTED_CHAINS: usize = 20;

/// The build's note on every chain it fused, as `cargo::warning` lines.
fn fused_notes(plan: &Plan) -> Vec<String> {
    let mut lines: Vec<String> = plan
        .chains
        .iter()
        .take(NOTED_CHAINS)
        .map(|chain| {
            format!(
                "cargo::warning=note: fused `{}` into the thread of `{}`",
                chain.describe(plan),
                chain.host(plan).unwrap_or_default()
            )
        })
        .collect();
    if plan.chains.len() > NOTED_CHAINS {
        lines.push(format!(
            "cargo::warning=note: and {} more fused chains",
            plan.chains.len() - NOTED_CHAINS
        ));
    }
    lines
}

fn print_lines(lines: Vec<String>) {
    let mut out = std::io::stdout().lock();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir()
                .join(format!("wiring-build-lib-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(dir.join("src")).unwrap_or_else(|e| panic!("{e}"));
            TempDir(dir)
        }

        fn write(&self, path: &str, text: &str) -> PathBuf {
            let path = self.0.join(path);
            fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    const SERVERS: &str = "use kernel::prelude::*;\n\
        #[derive(Manifest)]\n#[manifest(class = 0x0a01, owner = \"ops\")]\n\
        pub struct Source { pub out: Output<u64> }\n\
        #[derive(Manifest)]\n#[manifest(class = 0x0a02, owner = \"ops\")]\n\
        pub struct Sink { pub input: Input<u64> }\n";

    const WIRING: &str = "[kernel]\nname = \"tiny\"\n\n[servers.a]\ntype = \"Source\"\n\n\
        [servers.b]\ntype = \"Sink\"\n\n[[connections]]\nfrom = \"a.out\"\nto = \"b.input\"\n";

    #[test]
    fn compile_writes_only_when_changed() {
        let dir = TempDir::new("compile");
        let root = dir.write("src/lib.rs", SERVERS);
        let wiring = dir.write("wiring.toml", WIRING);
        let out = dir.0.join("out");
        fs::create_dir_all(&out).unwrap_or_else(|e| panic!("{e}"));
        let mut config = Config::new();
        config
            .crate_root(&root)
            .out_dir(&out)
            .out_file("tiny.rs")
            .cargo_output(false);
        config.compile(&wiring).unwrap_or_else(|e| panic!("{e}"));
        let target = out.join("tiny.rs");
        let first = fs::read_to_string(&target).unwrap_or_default();
        assert!(first.starts_with(HEADER), "{first}");
        assert!(first.contains("servers::a::__wiring_port_out()"), "{first}");
        // Mark the file: an unchanged result must not rewrite it.
        fs::write(&target, &first).unwrap_or_else(|e| panic!("{e}"));
        let before = fs::metadata(&target).and_then(|m| m.modified()).ok();
        std::thread::sleep(std::time::Duration::from_millis(20));
        config.compile(&wiring).unwrap_or_else(|e| panic!("{e}"));
        let after = fs::metadata(&target).and_then(|m| m.modified()).ok();
        assert_eq!(before, after, "rewritten although unchanged");
        // Unformatted output is still the same program.
        config.format(false);
        config.compile(&wiring).unwrap_or_else(|e| panic!("{e}"));
        let compact = fs::read_to_string(&target).unwrap_or_default();
        assert_ne!(compact, first);
        assert!(syn::parse_file(&compact).is_ok());
    }

    #[test]
    fn compile_fails_on_errors_and_without_out_dir() {
        let dir = TempDir::new("errors");
        let root = dir.write("src/lib.rs", SERVERS);
        let wiring = dir.write("wiring.toml", &WIRING.replace("b.input", "b.inptu"));
        let out = dir.0.join("out");
        let err = Config::new()
            .crate_root(&root)
            .out_dir(&out)
            .cargo_output(false)
            .compile(&wiring)
            .err();
        let codes = err.as_ref().and_then(Error::findings).map(Findings::codes);
        assert_eq!(codes, Some(vec![Code::UnknownTerminal]));
        assert!(!out.join("wiring.rs").exists());
        if std::env::var_os("OUT_DIR").is_none() {
            let err = Config::new().crate_root(&root).compile(&wiring).err();
            assert!(matches!(err, Some(Error::OutDirUnset)), "{err:?}");
        }
    }

    #[test]
    fn peers_that_cannot_be_read_or_have_errors_are_named() {
        let dir = TempDir::new("peers");
        let root = dir.write("src/lib.rs", SERVERS);
        let wiring = dir.write("wiring.toml", WIRING);
        let lint_with = |peer: &Path| {
            Config::new()
                .crate_root(&root)
                .peer(peer)
                .lint(&wiring)
                .err()
        };
        let missing = dir.0.join("no-such-peer");
        let err = lint_with(&missing);
        assert!(
            matches!(&err, Some(Error::Peer { dir, .. }) if *dir == missing),
            "{err:?}"
        );
        let peer = dir.0.join("peer");
        fs::create_dir_all(peer.join("src")).unwrap_or_else(|e| panic!("{e}"));
        fs::write(peer.join("Cargo.toml"), "[package]\nname = \"peer\"\n")
            .unwrap_or_else(|e| panic!("{e}"));
        fs::write(peer.join("src/lib.rs"), SERVERS).unwrap_or_else(|e| panic!("{e}"));
        fs::write(
            peer.join("wiring.toml"),
            WIRING.replace("b.input", "b.inptu"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let err = lint_with(&peer);
        let text = err.as_ref().map(ToString::to_string).unwrap_or_default();
        assert!(matches!(err, Some(Error::PeerLint { .. })), "{err:?}");
        assert!(text.contains("error[E0103]"), "{text}");
        fs::write(peer.join("wiring.toml"), WIRING).unwrap_or_else(|e| panic!("{e}"));
        assert!(lint_with(&peer).is_none());
    }

    #[test]
    fn lint_source_and_missing_files() {
        let dir = TempDir::new("source");
        let root = dir.write("src/lib.rs", SERVERS);
        let findings = Config::new()
            .crate_root(&root)
            .lint_source(WIRING)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(findings.is_empty(), "{findings}");
        let err = Config::new()
            .crate_root(&root)
            .lint(dir.0.join("nope.toml"))
            .err();
        assert!(matches!(err, Some(Error::Io { .. })), "{err:?}");
        let bad = dir.write("bad.toml", "");
        fs::write(&bad, b"[kernel]\nname = \"\xff\"\n").unwrap_or_else(|e| panic!("{e}"));
        let findings = Config::new()
            .crate_root(&root)
            .lint(&bad)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(findings.codes(), [Code::Syntax]);
    }
}
