//! The lints of a wiring file (codes E0001 to W0703), run on its model and
//! the scan of the crate's servers, one file per concern: the servers and
//! their identities, connections (endpoints, direction, shape, routes), fan
//! rules, what pipes carry, the graph's loops, what is left unconnected.
//!
//! Every finding is collected; later lints skip what an earlier error already
//! explains (an endpoint of an unknown server is not also "unconnected").

mod config;
mod connections;
mod fan;
mod graph;
mod pipes;
mod servers;
pub(crate) mod types;
mod unconnected;

use std::collections::{HashMap, HashSet};

use manifest_syntax::TerminalDef;
use wiring_model::TerminalKind;
use wiring_model::wiring::{self, Span, Spanned, Wiring};

use crate::diagnostic::{Code, Finding};
use crate::scan::{Scan, ServerType};

/// Parses and lints `source` against the scanned servers.
pub fn lint(source: &str, scan: &Scan) -> (Wiring, Vec<Finding>) {
    let (wiring, mut findings) = wiring::parse(source);
    if findings.iter().any(|f| f.code == Code::Syntax) {
        return (wiring, findings);
    }
    findings.extend(check(source, &wiring, scan));
    (wiring, findings)
}

/// The lints' findings on a wiring file parsed without syntax errors.
pub fn check(source: &str, wiring: &Wiring, scan: &Scan) -> Vec<Finding> {
    let mut linter = Linter::new(source, wiring, scan);
    linter.run();
    linter.findings
}

/// A terminal of a server instance: indices into `wiring.servers` and the
/// manifest's terminals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Ep {
    server: usize,
    terminal: usize,
}

/// One producer-consumer pair of a connection.
#[derive(Debug, Clone)]
struct Pipe {
    from: Ep,
    to: Ep,
    /// The endpoint text that tells this pipe apart (the list element, or `to`).
    span: Span,
    from_span: Span,
    to_span: Span,
}

/// A peer a connection lists for a known terminal but that is no terminal
/// of the right direction (unknown, misspelled, pointing the wrong way):
/// it still counts towards the terminal's peers.
#[derive(Debug, Clone)]
struct Dangling {
    /// The known terminal.
    known: Ep,
    /// True when the known terminal is the producing side.
    producer: bool,
    /// The peer as written, and where.
    peer: Spanned<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    From,
    To,
    RouteFrom,
    /// An entry of `[mesh] offer`.
    Offer,
}

impl Role {
    fn key(self) -> &'static str {
        match self {
            Role::From | Role::RouteFrom => "from",
            Role::To => "to",
            Role::Offer => "offer",
        }
    }
}

struct Linter<'a> {
    source: &'a str,
    wiring: &'a Wiring,
    scan: &'a Scan,
    findings: Vec<Finding>,
    /// The manifest of each server instance, when its type is known and parsed.
    types: Vec<Option<&'a ServerType>>,
    /// Servers named by an endpoint (even a faulty one).
    used: Vec<bool>,
    /// Terminals named by an endpoint (even in a faulty connection).
    touched: HashSet<Ep>,
    /// Servers named with a terminal they do not have: their unconnected
    /// terminals are likely the misspelled ones, so they are not reported.
    misspelled: HashSet<usize>,
    /// The index of each instance name's first `[servers.X]`.
    by_name: HashMap<&'a str, usize>,
    /// Byte offsets where the wiring file's lines start, for `line_of`.
    line_starts: Vec<usize>,
}

pub(crate) fn article(kind: TerminalKind) -> &'static str {
    match kind {
        TerminalKind::Input | TerminalKind::Output => "an",
        TerminalKind::Multiplex | TerminalKind::Combine => "a",
    }
}

pub(crate) fn quoted_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    quoted.join(", ")
}

pub(super) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

impl<'a> Linter<'a> {
    fn new(source: &'a str, wiring: &'a Wiring, scan: &'a Scan) -> Self {
        let count = wiring.servers.len();
        let mut by_name = HashMap::with_capacity(count);
        for (i, server) in wiring.servers.iter().enumerate() {
            by_name.entry(server.name.value.as_str()).or_insert(i);
        }
        let line_starts = std::iter::once(0)
            .chain(
                source
                    .bytes()
                    .enumerate()
                    .filter(|(_, b)| *b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        Linter {
            source,
            wiring,
            scan,
            findings: Vec::new(),
            types: vec![None; count],
            used: vec![false; count],
            touched: HashSet::new(),
            misspelled: HashSet::new(),
            by_name,
            line_starts,
        }
    }

    pub(super) fn report(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// Reports a W-code finding at the level `[lints]` gives it.
    pub(super) fn report_lint(&mut self, mut finding: Finding) {
        let code = finding.code;
        let Some(level) = self.wiring.level(code) else {
            return;
        };
        finding.level = level;
        let note = match self.wiring.lint_setting(code) {
            Some(setting) => format!("the lint level is set in `[lints]`: `{}`", setting.text),
            None => format!("`{} = \"warn\"` is the default in `[lints]`", code.name()),
        };
        self.report(finding.note(note));
    }

    pub(super) fn terminal(&self, ep: Ep) -> Option<(&'a ServerType, &'a TerminalDef)> {
        let ty = self.types.get(ep.server).copied().flatten()?;
        let terminal = ty.def.terminals.get(ep.terminal)?;
        Some((ty, terminal))
    }

    pub(super) fn kind(&self, ep: Ep) -> Option<TerminalKind> {
        self.terminal(ep).map(|(_, t)| t.kind)
    }

    pub(super) fn name(&self, ep: Ep) -> String {
        let server = self
            .wiring
            .servers
            .get(ep.server)
            .map_or("?", |s| s.name.value.as_str());
        let terminal = self.terminal(ep).map_or("?", |(_, t)| t.name.as_str());
        format!("{server}.{terminal}")
    }

    /// The server type as written in `type`.
    pub(super) fn type_name(&self, server: usize) -> String {
        self.wiring
            .servers
            .get(server)
            .and_then(|s| s.ty.as_ref())
            .map_or_else(|| "?".to_string(), |t| t.value.clone())
    }

    /// The 1-based line of byte `offset`.
    pub(super) fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.source.len());
        // Lines starting at or before `end`; a newline at `end` itself
        // starts the next line, which `end` is not on.
        self.line_starts
            .partition_point(|&start| start <= end)
            .max(1)
    }

    /// The index of the server named `name` (its first `[servers.X]`).
    pub(super) fn server_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    fn run(&mut self) {
        self.kernel();
        self.server_types();
        self.configs();
        self.uuids();
        self.process_names();
        let (pipes, dangling) = self.connections();
        let route_peers = self.routes();
        self.offers(&pipes);
        self.fan(&pipes, &dangling, &route_peers);
        self.type_mismatches(&pipes);
        let unique = self.duplicates(&pipes);
        self.cycles(&unique);
        self.unconnected();
    }
}
