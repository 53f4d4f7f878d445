//! The lints of DESIGN section 5, run on a parsed wiring file and a scan.
//!
//! Every finding is collected; later lints skip what an earlier error already
//! explains (an endpoint of an unknown server is not also "unconnected").

mod graph;
pub mod types;

use std::collections::{BTreeMap, HashMap, HashSet};

use manifest_syntax::{Kind, TerminalDef, type_text};
use wiring_model::TerminalKind;
use wiring_model::{check_direction, check_fan, check_shape};

use crate::diagnostic::{Code, Finding};
use crate::scan::{Scan, ServerType};
use types::Resolver;
use wiring_model::identity::{self, GuestIdentity};
use wiring_model::names::{closest, closest_path};
use wiring_model::wiring::{self, Side, Span, Spanned, Wiring, split_endpoint};

/// Parses and lints `source` against the scanned servers.
pub fn lint(source: &str, scan: &Scan) -> (Wiring, Vec<Finding>) {
    let (wiring, mut findings) = wiring::parse(source);
    if findings.iter().any(|f| f.code == Code::Syntax) {
        return (wiring, findings);
    }
    let mut linter = Linter::new(source, &wiring, scan);
    linter.run();
    findings.extend(linter.findings);
    (wiring, findings)
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    From,
    To,
    RouteFrom,
}

impl Role {
    fn key(self) -> &'static str {
        match self {
            Role::From | Role::RouteFrom => "from",
            Role::To => "to",
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

fn article(kind: Kind) -> &'static str {
    match kind {
        Kind::Input | Kind::Output => "an",
        Kind::Multiplex | Kind::Combine => "a",
    }
}

fn quoted_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    quoted.join(", ")
}

fn plural(n: usize, one: &str, many: &str) -> String {
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

    fn report(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// Reports a W-code finding at the level `[lints]` gives it.
    fn report_lint(&mut self, mut finding: Finding) {
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

    fn terminal(&self, ep: Ep) -> Option<(&'a ServerType, &'a TerminalDef)> {
        let ty = self.types.get(ep.server).copied().flatten()?;
        let terminal = ty.def.terminals.get(ep.terminal)?;
        Some((ty, terminal))
    }

    fn kind(&self, ep: Ep) -> Option<TerminalKind> {
        self.terminal(ep).map(|(_, t)| terminal_kind(t.kind))
    }

    fn name(&self, ep: Ep) -> String {
        let server = self
            .wiring
            .servers
            .get(ep.server)
            .map_or("?", |s| s.name.value.as_str());
        let terminal = self.terminal(ep).map_or("?", |(_, t)| t.name.as_str());
        format!("{server}.{terminal}")
    }

    /// The server type as written in `type`.
    fn type_name(&self, server: usize) -> String {
        self.wiring
            .servers
            .get(server)
            .and_then(|s| s.ty.as_ref())
            .map_or_else(|| "?".to_string(), |t| t.value.clone())
    }

    /// The 1-based line of byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.source.len());
        // Lines starting at or before `end`; a newline at `end` itself
        // starts the next line, which `end` is not on.
        self.line_starts
            .partition_point(|&start| start <= end)
            .max(1)
    }

    /// The index of the server named `name` (its first `[servers.X]`).
    fn server_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    fn run(&mut self) {
        self.kernel();
        self.server_types();
        self.uuids();
        self.process_names();
        let pipes = self.connections();
        let route_peers = self.routes();
        self.fan(&pipes, &route_peers);
        self.type_mismatches(&pipes);
        let unique = self.duplicates(&pipes);
        self.cycles(&unique);
        self.unconnected();
    }

    fn kernel(&mut self) {
        if let Some(fqdn) = &self.wiring.kernel.fqdn
            && let Err(reason) = identity::check_fqdn(&fqdn.value)
        {
            let finding = Finding::new(
                Code::InvalidIdentity,
                fqdn.span.clone(),
                format!("invalid fqdn `{}`", fqdn.value),
            )
            .label(reason)
            .help("use an RFC 1123 host name: dot-separated labels of letters, digits and `-`");
            self.report(finding);
        }
    }

    fn server_types(&mut self) {
        let paths = self.scan.server_paths();
        let candidates: Vec<&str> = paths.iter().map(String::as_str).collect();
        for (i, server) in self.wiring.servers.iter().enumerate() {
            let Some(ty) = &server.ty else {
                continue;
            };
            if let Some(found) = self.scan.server(&ty.value) {
                self.types[i] = Some(found);
                self.identity(i, found);
                continue;
            }
            if self.scan.is_broken(&ty.value) {
                // Its derive fails; rustc reports why.
                continue;
            }
            let mut finding = Finding::new(
                Code::UnknownServerType,
                ty.span.clone(),
                format!("cannot find server type `{}`", ty.value),
            );
            if self.scan.is_type(&ty.value) {
                finding = finding
                    .label("this struct does not derive `Manifest`")
                    .help(format!(
                        "add `#[derive(Manifest)]` and `#[manifest(class = .., owner = \"..\")]` to `{}`",
                        ty.value
                    ));
            } else {
                finding = finding.label("no struct deriving `Manifest` at this path");
                finding = match closest_path(&ty.value, candidates.iter().copied()) {
                    Some(near) => finding.help(format!("a server type with a similar name exists: `{near}`")),
                    None if candidates.is_empty() => finding.help(
                        "no struct deriving `Manifest` was found in the scanned sources",
                    ),
                    None => finding.help(
                        "write the path from the crate root, e.g. `servers::Sensor` for `crate::servers::Sensor`",
                    ),
                };
            }
            self.report(finding);
        }
    }

    /// Checks the guest identity the server will have.
    fn identity(&mut self, server: usize, ty: &ServerType) {
        let instance = &self.wiring.servers[server];
        if !wiring::is_instance_name(&instance.name.value) {
            return; // reported as a schema error
        }
        let uuid = wiring_model::Uuid::nil();
        let text = format!(
            "{}:{}:{}:{}:{}:{}:{}",
            self.wiring.kernel.fqdn(),
            instance.name.value,
            identity::class_hex(ty.def.class),
            ty.def.owner,
            ty.def.auth.as_str(),
            ty.def.auth_mechanism,
            uuid.hyphenated()
        );
        if self.wiring.kernel.fqdn.is_some()
            && identity::check_fqdn(self.wiring.kernel.fqdn()).is_err()
        {
            return; // reported on `fqdn` already
        }
        if let Err(e) = GuestIdentity::parse(&text)
            && let Some(span) = instance.ty.as_ref().map(|t| t.span.clone())
        {
            let finding = Finding::new(
                Code::InvalidIdentity,
                span,
                format!(
                    "server `{}` would have an invalid guest identity",
                    instance.name.value
                ),
            )
            .label(format!("invalid {}: {}", e.field.as_str(), e.reason))
            .note(format!("the guest identity is `{text}`"))
            .help("fix the `#[manifest(..)]` of the server type, or the instance name");
            self.report(finding);
        }
    }

    fn uuids(&mut self) {
        let kernel = self.wiring.kernel.name.as_ref().map(|n| n.value.clone());
        let mut seen: BTreeMap<uuid::Uuid, usize> = BTreeMap::new();
        for (i, server) in self.wiring.servers.iter().enumerate() {
            let uuid = match &server.uuid {
                Some(text) => match identity::parse_uuid(&text.value) {
                    Ok(uuid) => uuid,
                    Err(reason) => {
                        let finding = Finding::new(
                            Code::InvalidIdentity,
                            text.span.clone(),
                            format!("invalid uuid for server `{}`", server.name.value),
                        )
                        .label(reason)
                        .help("write a hyphenated uuid like `6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0f`, or remove `uuid` to derive one from the instance name");
                        self.report(finding);
                        continue;
                    }
                },
                None => match &kernel {
                    Some(kernel) => wiring_model::server_uuid(kernel, &server.name.value),
                    None => continue,
                },
            };
            match seen.get(&uuid) {
                Some(&first) => {
                    let first_server = &self.wiring.servers[first];
                    let at = |s: &wiring::Server| {
                        s.uuid
                            .as_ref()
                            .map_or(s.name.span.clone(), |u| u.span.clone())
                    };
                    let finding = Finding::new(
                        Code::DuplicateUuid,
                        at(server),
                        format!(
                            "servers `{}` and `{}` share the uuid `{}`",
                            first_server.name.value,
                            server.name.value,
                            uuid.hyphenated()
                        ),
                    )
                    .label(format!("uuid of `{}`", server.name.value))
                    .secondary(at(first_server), format!("also the uuid of `{}`", first_server.name.value))
                    .help("give each server its own uuid, or remove `uuid` to derive one from the instance name");
                    self.report(finding);
                }
                None => {
                    seen.insert(uuid, i);
                }
            }
        }
    }

    /// Processes and servers share one namespace: the control surface and
    /// the event log name both.
    fn process_names(&mut self) {
        for process in &self.wiring.processes {
            let Some(server) = self.server_index(&process.name.value) else {
                continue;
            };
            let name = &process.name.value;
            let finding = Finding::new(
                Code::DuplicateName,
                process.name.span.clone(),
                format!("process `{name}` has the name of a server"),
            )
            .label("process name")
            .secondary(
                self.wiring.servers[server].name.span.clone(),
                format!("server `{name}`"),
            )
            .help("rename the process or the server: names are unique across both");
            self.report(finding);
        }
    }

    /// Resolves an endpoint, reporting E0104, E0102, E0103.
    fn endpoint(&mut self, text: &Spanned<String>, role: Role) -> Option<Ep> {
        let Some((server_name, terminal_name)) = split_endpoint(&text.value) else {
            let help = match self.server_index(text.value.trim()) {
                Some(found) => {
                    let name = text.value.trim();
                    let index = Some(found);
                    let wanted = |k: Kind| match role {
                        Role::To => !k.is_producer(),
                        Role::From | Role::RouteFrom => k.is_producer(),
                    };
                    let suggestion = index
                        .and_then(|i| self.types[i])
                        .and_then(|t| t.def.terminals.iter().find(|term| wanted(term.kind)));
                    match suggestion {
                        Some(t) => format!("name a terminal of `{name}`, e.g. `{name}.{}`", t.name),
                        None => format!("name a terminal of `{name}`: `{name}.<terminal>`"),
                    }
                }
                None => "write endpoints as `server.terminal`".to_string(),
            };
            let finding = Finding::new(
                Code::BadEndpoint,
                text.span.clone(),
                format!("`{}` is not an endpoint", text.value),
            )
            .label("expected `server.terminal`")
            .help(help);
            self.report(finding);
            return None;
        };
        let Some(server) = self.server_index(server_name) else {
            let names: Vec<&str> = self
                .wiring
                .servers
                .iter()
                .map(|s| s.name.value.as_str())
                .collect();
            let is_process = self
                .wiring
                .processes
                .iter()
                .any(|p| p.name.value == server_name);
            let help = match closest(server_name, names) {
                _ if is_process => {
                    format!("`{server_name}` is a process; processes have no terminals to connect")
                }
                Some(near) => format!("a server with a similar name exists: `{near}`"),
                None => format!("declare it with `[servers.{server_name}]`"),
            };
            let finding = Finding::new(
                Code::UnknownServer,
                text.span.clone(),
                format!("unknown server `{server_name}` in `{}`", role.key()),
            )
            .label(format!("no `[servers.{server_name}]`"))
            .help(help);
            self.report(finding);
            return None;
        };
        self.used[server] = true;
        let ty = self.types[server]?;
        let Some(terminal) = ty
            .def
            .terminals
            .iter()
            .position(|t| t.name == terminal_name)
        else {
            self.misspelled.insert(server);
            let type_name = self.type_name(server);
            let names: Vec<&str> = ty.def.terminals.iter().map(|t| t.name.as_str()).collect();
            let mut finding = Finding::new(
                Code::UnknownTerminal,
                text.span.clone(),
                format!("server `{server_name}` has no terminal `{terminal_name}`"),
            )
            .label(format!("not a terminal of `{type_name}`"));
            match closest(terminal_name, names.iter().copied()) {
                Some(near) => {
                    finding = finding.help(format!(
                        "a terminal with a similar name exists: `{server_name}.{near}`"
                    ));
                }
                None => {
                    let list: Vec<String> = ty
                        .def
                        .terminals
                        .iter()
                        .map(|t| format!("`{}` ({})", t.name, type_text(&t.ty)))
                        .collect();
                    finding = finding.note(format!(
                        "the terminals of `{type_name}` are {}",
                        list.join(", ")
                    ));
                }
            }
            self.report(finding);
            return None;
        };
        let ep = Ep { server, terminal };
        self.touched.insert(ep);
        Some(ep)
    }

    fn side(&mut self, side: Option<&Side>, role: Role) -> Option<Vec<Option<Ep>>> {
        let side = side?;
        Some(
            side.endpoints
                .iter()
                .map(|e| self.endpoint(e, role))
                .collect(),
        )
    }

    fn connections(&mut self) -> Vec<Pipe> {
        let mut pipes = Vec::new();
        for connection in &self.wiring.connections {
            let from = self.side(connection.from.as_ref(), Role::From);
            let to = self.side(connection.to.as_ref(), Role::To);
            let (Some(from), Some(to), Some(from_side), Some(to_side)) =
                (from, to, connection.from.as_ref(), connection.to.as_ref())
            else {
                continue;
            };
            let reversed = from.len() == 1
                && to.len() == 1
                && from[0]
                    .and_then(|e| self.kind(e))
                    .is_some_and(|k| !k.is_producer())
                && to[0]
                    .and_then(|e| self.kind(e))
                    .is_some_and(TerminalKind::is_producer);
            let from_ok = self.direction(&from, from_side, Role::From, reversed);
            let to_ok = self.direction(&to, to_side, Role::To, reversed);
            if check_shape(from_side.endpoints.len(), to_side.endpoints.len()).is_err() {
                self.many_to_many(from_side, to_side);
                continue;
            }
            for (i, f) in from_ok.iter().enumerate() {
                for (j, t) in to_ok.iter().enumerate() {
                    let (Some(f), Some(t)) = (f, t) else {
                        continue;
                    };
                    let from_span = from_side.endpoints[i].span.clone();
                    let to_span = to_side.endpoints[j].span.clone();
                    let span = if from_side.endpoints.len() > 1 {
                        from_span.clone()
                    } else {
                        to_span.clone()
                    };
                    pipes.push(Pipe {
                        from: *f,
                        to: *t,
                        span,
                        from_span,
                        to_span,
                    });
                }
            }
        }
        pipes
    }

    /// Reports E0201 / E0202; keeps the endpoints that point the right way.
    fn direction(
        &mut self,
        eps: &[Option<Ep>],
        side: &Side,
        role: Role,
        reversed: bool,
    ) -> Vec<Option<Ep>> {
        let mut ok = Vec::with_capacity(eps.len());
        for (ep, text) in eps.iter().zip(&side.endpoints) {
            let Some(ep) = *ep else {
                ok.push(None);
                continue;
            };
            let Some((ty, terminal)) = self.terminal(ep) else {
                ok.push(None);
                continue;
            };
            // The rule shared with live connects, with the other side taken as right.
            let kind = terminal_kind(terminal.kind);
            let rule = match role {
                Role::From | Role::RouteFrom => check_direction(kind, TerminalKind::Input),
                Role::To => check_direction(TerminalKind::Output, kind),
            };
            if rule.is_ok() {
                ok.push(Some(ep));
                continue;
            }
            ok.push(None);
            let label = format!(
                "`{}` is {} `{}` in `{}`",
                terminal.name,
                article(terminal.kind),
                type_text(&terminal.ty),
                ty.def.ident
            );
            let finding = match role {
                Role::From | Role::RouteFrom => Finding::new(
                    Code::SourceNotOutput,
                    text.span.clone(),
                    format!("source `{}` is not an output", text.value),
                )
                .label(label),
                Role::To => Finding::new(
                    Code::TargetNotInput,
                    text.span.clone(),
                    format!("target `{}` is not an input", text.value),
                )
                .label(label),
            };
            let help = if reversed {
                "the connection runs backwards: swap `from` and `to`".to_string()
            } else if role == Role::To {
                "`to` must name an `Input` or `Combine` terminal".to_string()
            } else {
                format!(
                    "`{}` must name an `Output` or `Multiplex` terminal",
                    role.key()
                )
            };
            self.report(finding.help(help));
        }
        ok
    }

    fn many_to_many(&mut self, from: &Side, to: &Side) {
        let finding = Finding::new(
            Code::ManyToMany,
            from.span.clone(),
            format!(
                "connection from {} to {} is many-to-many",
                plural(from.endpoints.len(), "producer", "producers"),
                plural(to.endpoints.len(), "consumer", "consumers")
            ),
        )
        .label(format!("{} producers", from.endpoints.len()))
        .secondary(to.span.clone(), format!("{} consumers", to.endpoints.len()))
        .help("split it: one `[[connections]]` per producer (fan-out), or per consumer (fan-in)");
        self.report(finding);
    }

    /// Route sources; returns their peers: (producer, span of the route's `to`).
    fn routes(&mut self) -> Vec<(Ep, Span)> {
        let mut peers = Vec::new();
        for route in &self.wiring.routes {
            if let Some(guest) = &route.guest
                && let Err(e) = GuestIdentity::parse(&guest.value)
            {
                let span = narrow(self.source, &guest.span, &guest.value, &e.range);
                let finding = Finding::new(
                    Code::InvalidIdentity,
                    span,
                    match e.field {
                        identity::Field::Shape => "malformed guest identity".to_string(),
                        field => format!("invalid {} in guest identity", field.as_str()),
                    },
                )
                .label(e.reason.clone())
                .note("a guest identity is `fqdn:servername:classHex:owner:authFlag:authMechanism:uuid`")
                .help(match e.field {
                    identity::Field::Class => "write the class as `0x` and up to 8 hex digits, e.g. `0x00000a01`",
                    identity::Field::Uuid => "write a hyphenated uuid like `6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0f`",
                    identity::Field::Fqdn => "use an RFC 1123 host name: dot-separated labels of letters, digits and `-`",
                    identity::Field::AuthMechanism => "the mechanism is `none` exactly when the auth flag is `no`",
                    _ => "copy the identity from the remote kernel's guest book",
                });
                self.report(finding);
            }
            let Some(from) = &route.from else {
                continue;
            };
            let Some(ep) = self.endpoint(from, Role::RouteFrom) else {
                continue;
            };
            let side = Side {
                span: from.span.clone(),
                list: false,
                endpoints: vec![from.clone()],
            };
            if let [Some(ep)] = self.direction(&[Some(ep)], &side, Role::RouteFrom, false)[..] {
                peers.push((ep, route.to_span.clone().unwrap_or(route.span.clone())));
            }
        }
        peers
    }

    /// E0301 and E0302: too many peers on a terminal that takes one.
    fn fan(&mut self, pipes: &[Pipe], route_peers: &[(Ep, Span)]) {
        // producer -> [(consumer or None for a route, span)]
        let mut consumers: BTreeMap<Ep, Vec<(Option<Ep>, Span)>> = BTreeMap::new();
        let mut producers: BTreeMap<Ep, Vec<(Ep, Span)>> = BTreeMap::new();
        // Each producer-consumer pair once, however often it is connected.
        let mut pairs: HashSet<(Ep, Ep)> = HashSet::with_capacity(pipes.len());
        for pipe in pipes {
            if !pairs.insert((pipe.from, pipe.to)) {
                continue;
            }
            consumers
                .entry(pipe.from)
                .or_default()
                .push((Some(pipe.to), pipe.to_span.clone()));
            producers
                .entry(pipe.to)
                .or_default()
                .push((pipe.from, pipe.from_span.clone()));
        }
        for (ep, span) in route_peers {
            consumers.entry(*ep).or_default().push((None, span.clone()));
        }
        for (producer, list) in consumers {
            if self
                .kind(producer)
                .is_none_or(|kind| check_fan(kind, list.len()).is_ok())
            {
                continue;
            }
            let spans: Vec<Span> = list.iter().map(|(_, s)| s.clone()).collect();
            let Some((ty, terminal)) = self.terminal(producer) else {
                continue;
            };
            let finding = self.fan_finding(
                Code::FanOutWithoutMultiplexer,
                format!(
                    "output `{}` has {} consumers but is not a multiplexer",
                    self.name(producer),
                    list.len()
                ),
                &spans,
                format!("{} consumers", list.len()),
                "also consumed here",
                format!(
                    "declare `{}` as `Multiplex<{}>` in `{}`, or keep one consumer",
                    terminal.name,
                    type_text(&terminal.message),
                    ty.def.ident
                ),
            );
            self.report(finding);
        }
        for (consumer, list) in producers {
            if self
                .kind(consumer)
                .is_none_or(|kind| check_fan(kind, list.len()).is_ok())
            {
                continue;
            }
            let spans: Vec<Span> = list.iter().map(|(_, s)| s.clone()).collect();
            let Some((ty, terminal)) = self.terminal(consumer) else {
                continue;
            };
            let finding = self.fan_finding(
                Code::FanInWithoutCombiner,
                format!(
                    "input `{}` has {} producers but is not a combiner",
                    self.name(consumer),
                    list.len()
                ),
                &spans,
                format!("{} producers", list.len()),
                "also produced here",
                format!(
                    "declare `{}` as `Combine<{}>` in `{}`, or keep one producer",
                    terminal.name,
                    type_text(&terminal.message),
                    ty.def.ident
                ),
            );
            self.report(finding);
        }
    }

    /// A fan finding: the peers' spans, merged into their lists where they share one.
    fn fan_finding(
        &self,
        code: Code,
        message: String,
        spans: &[Span],
        label: String,
        also: &str,
        help: String,
    ) -> Finding {
        // Endpoints written in one list are shown as that list.
        let mut groups: Vec<Span> = Vec::new();
        for span in spans {
            let list = self.list_around(span).unwrap_or_else(|| span.clone());
            if !groups.contains(&list) {
                groups.push(list);
            }
        }
        let Some((primary, rest)) = groups.split_last() else {
            return Finding::new(code, 0..0, message);
        };
        let mut finding = Finding::new(code, primary.clone(), message).label(label);
        for span in rest {
            finding = finding.secondary(span.clone(), also);
        }
        finding.help(help)
    }

    /// The span of the `from`/`to` list (or route) that holds the endpoint at `span`.
    fn list_around(&self, span: &Span) -> Option<Span> {
        for connection in &self.wiring.connections {
            for side in [&connection.from, &connection.to].into_iter().flatten() {
                if side.endpoints.iter().any(|e| &e.span == span) {
                    return Some(side.span.clone());
                }
            }
        }
        None
    }

    fn type_mismatches(&mut self, pipes: &[Pipe]) {
        let resolver = Resolver::new(self.scan);
        let mut cache: HashMap<Ep, Option<String>> = HashMap::new();
        let mut canonical = |linter: &Self, ep: Ep| -> Option<String> {
            cache
                .entry(ep)
                .or_insert_with(|| {
                    let (ty, terminal) = linter.terminal(ep)?;
                    resolver.canonical(&ty.module, &terminal.message)
                })
                .clone()
        };
        let mut reported: HashSet<(Ep, Ep)> = HashSet::new();
        for pipe in pipes {
            let (Some(sent), Some(received)) =
                (canonical(self, pipe.from), canonical(self, pipe.to))
            else {
                continue;
            };
            if sent == received || !reported.insert((pipe.from, pipe.to)) {
                continue;
            }
            let (Some((_, from_t)), Some((_, to_t))) =
                (self.terminal(pipe.from), self.terminal(pipe.to))
            else {
                continue;
            };
            let written_sent = type_text(&from_t.message);
            let written_received = type_text(&to_t.message);
            let mut finding = Finding::new(
                Code::TypeMismatch,
                pipe.to_span.clone(),
                format!(
                    "mismatched types: `{}` sends `{written_sent}` but `{}` receives `{written_received}`",
                    self.name(pipe.from),
                    self.name(pipe.to)
                ),
            )
            .label(format!("receives `{written_received}`"))
            .secondary(pipe.from_span.clone(), format!("sends `{written_sent}`"));
            for (written, resolved) in [(&written_sent, &sent), (&written_received, &received)] {
                let shown = resolved.strip_prefix("crate::").unwrap_or(resolved);
                if written != shown {
                    finding = finding.note(format!("`{written}` is `{resolved}`"));
                }
            }
            finding = finding.note(format!(
                "`{}` is `{}` in `{}`; `{}` is `{}` in `{}`",
                from_t.name,
                type_text(&from_t.ty),
                self.type_name(pipe.from.server),
                to_t.name,
                type_text(&to_t.ty),
                self.type_name(pipe.to.server)
            ));
            finding = finding.help("connect terminals that carry the same message type");
            self.report(finding);
        }
    }

    /// E0501; returns the pipes without repeats.
    fn duplicates(&mut self, pipes: &[Pipe]) -> Vec<Pipe> {
        let mut first: HashMap<(Ep, Ep), Span> = HashMap::new();
        let mut unique = Vec::new();
        for pipe in pipes {
            match first.get(&(pipe.from, pipe.to)) {
                Some(earlier) => {
                    let finding = Finding::new(
                        Code::DuplicateConnection,
                        pipe.span.clone(),
                        format!(
                            "`{}` is connected to `{}` twice",
                            self.name(pipe.from),
                            self.name(pipe.to)
                        ),
                    )
                    .label("connected again here")
                    .secondary(earlier.clone(), "first connected here")
                    .help("remove one of them");
                    self.report(finding);
                }
                None => {
                    first.insert((pipe.from, pipe.to), pipe.span.clone());
                    unique.push(pipe.clone());
                }
            }
        }
        unique
    }

    fn cycles(&mut self, pipes: &[Pipe]) {
        let edges: Vec<(usize, usize)> =
            pipes.iter().map(|p| (p.from.server, p.to.server)).collect();
        for found in graph::loops(self.wiring.servers.len(), &edges) {
            let Some(&closing) = found.last() else {
                continue;
            };
            let steps: Vec<String> = found
                .iter()
                .map(|&i| {
                    let pipe = &pipes[i];
                    format!(
                        "{} -> {}  (line {})",
                        self.name(pipe.from),
                        self.name(pipe.to),
                        self.line_of(pipe.span.start)
                    )
                })
                .collect();
            let servers: Vec<String> = found
                .iter()
                .map(|&i| self.wiring.servers[pipes[i].from.server].name.value.clone())
                .collect();
            let closing_pipe = &pipes[closing];
            let finding = Finding::new(
                Code::Cycle,
                closing_pipe.span.clone(),
                format!(
                    "pipes form a cycle through {}",
                    quoted_list(&servers)
                ),
            )
            .label("this pipe closes the loop")
            .note(format!("the loop, one pipe per line:\n{}", steps.join("\n")))
            .help("bounded pipes in a loop can deadlock once they are full; break the loop, or make sure a server in it never blocks");
            self.report_lint(finding);
        }
    }

    fn unconnected(&mut self) {
        for (i, server) in self.wiring.servers.iter().enumerate() {
            if !self.used[i] {
                let finding = Finding::new(
                    Code::UnusedServer,
                    server.name.span.clone(),
                    format!("server `{}` is never used", server.name.value),
                )
                .label("takes part in no connection or route")
                .help(format!(
                    "connect its terminals, or remove `[servers.{}]`",
                    server.name.value
                ));
                let allowed = self.wiring.level(Code::UnusedServer).is_none();
                self.report_lint(finding);
                if !allowed {
                    continue;
                }
            }
            let Some(ty) = self.types[i] else {
                continue;
            };
            if self.misspelled.contains(&i) {
                continue;
            }
            for (t, terminal) in ty.def.terminals.iter().enumerate() {
                let ep = Ep {
                    server: i,
                    terminal: t,
                };
                if self.touched.contains(&ep) {
                    continue;
                }
                let name = format!("{}.{}", server.name.value, terminal.name);
                let finding = if terminal.kind.is_producer() {
                    Finding::new(
                        Code::UnconnectedOutput,
                        server.name.span.clone(),
                        format!("output `{name}` has no consumer"),
                    )
                    .label(format!(
                        "`{}` ({}) is not connected",
                        terminal.name,
                        type_text(&terminal.ty)
                    ))
                    .help(format!(
                        "connect it with `from = \"{name}\"` in a `[[connections]]` or `[[routes]]`"
                    ))
                } else {
                    Finding::new(
                        Code::UnconnectedInput,
                        server.name.span.clone(),
                        format!("input `{name}` has no producer"),
                    )
                    .label(format!(
                        "`{}` ({}) is not connected",
                        terminal.name,
                        type_text(&terminal.ty)
                    ))
                    .help(format!(
                        "connect it with `to = \"{name}\"` in a `[[connections]]`"
                    ))
                };
                self.report_lint(finding);
            }
        }
    }
}

/// The part of a string value's span that holds `range` of its text, when the
/// value is written without escapes; else the whole value.
fn narrow(source: &str, span: &Span, value: &str, range: &std::ops::Range<usize>) -> Span {
    let raw = source.get(span.clone()).unwrap_or_default();
    let quoted = [('"', '"'), ('\'', '\'')].iter().any(|(open, close)| {
        raw.len() == value.len() + 2
            && raw.starts_with(*open)
            && raw.ends_with(*close)
            && raw[1..raw.len() - 1] == *value
    });
    if quoted && range.end <= value.len() && range.start <= range.end && range.start < range.end {
        span.start + 1 + range.start..span.start + 1 + range.end
    } else {
        span.clone()
    }
}

/// The runtime's name for a terminal kind read from source.
fn terminal_kind(kind: Kind) -> TerminalKind {
    match kind {
        Kind::Input => TerminalKind::Input,
        Kind::Output => TerminalKind::Output,
        Kind::Multiplex => TerminalKind::Multiplex,
        Kind::Combine => TerminalKind::Combine,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrows_plain_strings_only() {
        let source = "g = \"a:b\"\nh = \"a\\u003ab\"";
        assert_eq!(narrow(source, &(4..9), "a:b", &(2..3)), 7..8);
        assert_eq!(narrow(source, &(14..24), "a:b", &(2..3)), 14..24);
        assert_eq!(narrow(source, &(4..9), "a:b", &(0..0)), 4..9);
    }
}
