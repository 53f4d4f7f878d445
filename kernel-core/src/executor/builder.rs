//! [`KernelBuilder`]: turns the static [`Spec`] plus typed server and pipe
//! registrations (emitted by `wiring-build`) into a runnable [`Kernel`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::{Factory, Instance, Kernel};
use crate::__private::Pipe;
use crate::Error;
use serde::Deserialize as _;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::connectome::{
    Connectome, Endpoint, PipeLive, PipeSpec, RouteSpec, RouteTarget, ServerParts, ServerSpec, Spec,
};
use crate::fuse::{Chain, Fusion, MemberEnv, Parked, park};
use crate::manifest::{ServerManifest, TerminalKind};
use crate::pipe::{self, ErasedEnd, PipeStats, TapEncoder};
use crate::route::{Drain, RouteDrains};
use crate::server::Server;
use crate::terminal::link::Signal;
use crate::terminal::{Consumer, Ports, Producer};
use uuid::Uuid;

/// Collects the servers and pipes of one kernel, then builds it.
///
/// The code `wiring-build` generates calls [`server`](Self::server) (or
/// [`server_default`](Self::server_default)) once per instance and
/// [`connect`](Self::connect) once per pipe (by its index in the spec), then
/// [`build`](Self::build).
pub struct KernelBuilder {
    spec: &'static Spec,
    /// Index in `spec.servers` by instance name.
    server_index: HashMap<&'static str, usize>,
    servers: Vec<Option<Registered>>,
    pipes: Vec<Option<Connected>>,
    /// Fused chains: the index of the pipe that feeds each, the chain, and
    /// its members' names in order.
    fusions: Vec<(usize, Box<dyn Parked>, Vec<&'static str>)>,
    /// Producer ends of routes' local pipes, by index in `spec.routes`.
    routes: Vec<Option<(Box<dyn ErasedEnd>, TerminalKind)>>,
    /// Input terminals that wait for producers from elsewhere: server
    /// index, terminal name.
    awaiting: Vec<(usize, String, TerminalKind)>,
    /// Encoders of the tappable pipes, by pipe id.
    taps: BTreeMap<Uuid, TapEncoder>,
    built: bool,
}

struct Registered {
    manifest: ServerManifest,
    /// `None` for a transform fused into a chain: it gets no thread.
    factory: Option<Factory>,
}

struct Connected {
    /// Both `None` for a fused pipe: no ring, only counters.
    sender: Option<Box<dyn ErasedEnd>>,
    receiver: Option<Box<dyn ErasedEnd>>,
    stats: Arc<PipeStats>,
    from_kind: TerminalKind,
    to_kind: TerminalKind,
}

impl std::fmt::Debug for KernelBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KernelBuilder")
            .field("kernel", &self.spec.kernel.name)
            .field(
                "servers_added",
                &self.servers.iter().filter(|s| s.is_some()).count(),
            )
            .field(
                "pipes_connected",
                &self.pipes.iter().filter(|p| p.is_some()).count(),
            )
            .finish()
    }
}

/// Deserializes the `config` of server `index` of `spec` into `S::Config`
/// from the table as a TOML document of its own. Only when that fails is
/// the table read again from the wiring file's text (when the spec carries
/// it), so that the error points at the file's line and column: finding it
/// there parses the whole file, which for every server of a large kernel
/// made building it quadratic.
pub(crate) fn parse_config<S: Server>(spec: &Spec, index: usize) -> Result<S::Config, Error> {
    let server = &spec.servers[index];
    let Some(source) = server.config else {
        return Err(Error::MissingConfig {
            server: server.name.to_owned(),
        });
    };
    let error = match parse_config_of::<S::Config>(server, source) {
        Ok(config) => return Ok(config),
        Err(error) => error,
    };
    if let Some(wiring) = spec.source
        && let Some(table) = config_in(wiring, server.name)
        && let Err(e) = S::Config::deserialize(toml::de::ValueDeserializer::from(table))
    {
        return Err(Error::Config {
            server: server.name.to_owned(),
            type_path: server.type_path.to_owned(),
            message: located(wiring, &e),
        });
    }
    Err(error)
}

/// Deserializes a config of type `C` from the TOML document `source` (a
/// fused transform's, which has no wiring file text at hand).
pub(crate) fn parse_config_of<C: serde::de::DeserializeOwned>(
    server: &ServerSpec,
    source: &str,
) -> Result<C, Error> {
    toml::from_str::<C>(source).map_err(|e| Error::Config {
        server: server.name.to_owned(),
        type_path: server.type_path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })
}

/// The value of `servers.<server>.config` in the wiring file's text.
fn config_in<'i>(wiring: &'i str, server: &str) -> Option<Spanned<DeValue<'i>>> {
    fn get<'i>(table: DeTable<'i>, key: &str) -> Option<Spanned<DeValue<'i>>> {
        table
            .into_iter()
            .find(|(k, _)| k.get_ref() == key)
            .map(|(_, v)| v)
    }
    let document = DeTable::parse(wiring).ok()?.into_inner();
    let DeValue::Table(servers) = get(document, "servers")?.into_inner() else {
        return None;
    };
    let DeValue::Table(instance) = get(servers, server)?.into_inner() else {
        return None;
    };
    get(instance, "config")
}

/// `wiring.toml:LINE:COL: message`, then the line with the offending text
/// underlined, as rustc shows an error.
fn located(wiring: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim_end();
    let Some(span) = error.span().filter(|s| s.start <= wiring.len()) else {
        return format!("wiring.toml: {message}");
    };
    let line_start = wiring[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = wiring[span.start..]
        .find('\n')
        .map_or(wiring.len(), |i| span.start + i);
    let line = &wiring[line_start..line_end];
    let number = wiring[..span.start].matches('\n').count() + 1;
    let column = wiring[line_start..span.start].chars().count() + 1;
    let width = wiring[span.start..span.end.clamp(span.start, line_end)]
        .chars()
        .count()
        .max(1);
    let gutter = " ".repeat(number.to_string().len());
    format!(
        "wiring.toml:{number}:{column}: {message}\n{gutter} |\n{number} | {line}\n{gutter} | {}{}",
        " ".repeat(column - 1),
        "^".repeat(width)
    )
}

fn build_server<S: Server>(
    config: S::Config,
    ports: &mut Ports,
) -> Result<Box<dyn Runnable>, Error> {
    let mut server = S::new(config);
    server.attach(ports)?;
    Ok(Box::new(server))
}

/// A built, attached server, ready to run.
pub(crate) trait Runnable: Send {
    fn run(&mut self, ctx: &crate::Context) -> Result<(), crate::ServerError>;
}

impl<S: Server> Runnable for S {
    fn run(&mut self, ctx: &crate::Context) -> Result<(), crate::ServerError> {
        Server::run(self, ctx)
    }
}

impl KernelBuilder {
    /// A builder for the kernel `spec` describes; nothing is added or
    /// connected yet.
    pub fn new(spec: &'static Spec) -> Self {
        KernelBuilder {
            spec,
            server_index: spec
                .servers
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name, i))
                .collect(),
            servers: spec.servers.iter().map(|_| None).collect(),
            pipes: spec.pipes.iter().map(|_| None).collect(),
            fusions: Vec::new(),
            routes: spec.routes.iter().map(|_| None).collect(),
            awaiting: Vec::new(),
            taps: BTreeMap::new(),
            built: false,
        }
    }

    /// The spec this builder wires.
    pub fn spec(&self) -> &'static Spec {
        self.spec
    }

    fn slot(&self, name: &str) -> Result<usize, Error> {
        let index = self
            .server_index
            .get(name)
            .copied()
            .ok_or_else(|| Error::UnknownServer {
                server: name.to_owned(),
            })?;
        if self.servers[index].is_some() {
            return Err(Error::DuplicateServer {
                server: name.to_owned(),
            });
        }
        Ok(index)
    }

    /// Adds instance `name` (must be in `spec.servers` and have a `config`),
    /// its config parsed from TOML now and again at every (re)start.
    pub fn server<S: Server>(&mut self, name: &str) -> Result<&mut Self, Error> {
        let index = self.slot(name)?;
        let spec = self.spec;
        parse_config::<S>(spec, index)?;
        let factory: Factory =
            Box::new(move |ports| build_server::<S>(parse_config::<S>(spec, index)?, ports));
        self.servers[index] = Some(Registered {
            manifest: S::MANIFEST,
            factory: Some(factory),
        });
        Ok(self)
    }

    /// Adds instance `name`, built from `S::Config::default()` (or from its
    /// `config`, should the wiring have one).
    pub fn server_default<S: Server>(&mut self, name: &str) -> Result<&mut Self, Error>
    where
        S::Config: Default,
    {
        let index = self.slot(name)?;
        let spec = self.spec;
        let factory: Factory = match spec.servers[index].config {
            Some(_) => {
                parse_config::<S>(spec, index)?;
                Box::new(move |ports| build_server::<S>(parse_config::<S>(spec, index)?, ports))
            }
            None => Box::new(move |ports| build_server::<S>(S::Config::default(), ports)),
        };
        self.servers[index] = Some(Registered {
            manifest: S::MANIFEST,
            factory: Some(factory),
        });
        Ok(self)
    }

    /// Creates pipe `pipe` of `spec.pipes`. The port markers paired in
    /// `ends` make rustc check direction and message type.
    pub fn connect<P: Producer, C: Consumer<Message = P::Message>>(
        &mut self,
        pipe: usize,
        ends: Pipe<P, C>,
    ) -> Result<&mut Self, Error> {
        self.add_pipe(pipe, ends, false)
    }

    /// Records pipe `pipe` of `spec.pipes` as fused: its counters, no ring;
    /// the chain that [`fuse`](Self::fuse) adds carries its messages.
    pub fn connect_fused<P: Producer, C: Consumer<Message = P::Message>>(
        &mut self,
        pipe: usize,
        ends: Pipe<P, C>,
    ) -> Result<&mut Self, Error> {
        self.add_pipe(pipe, ends, true)
    }

    /// Adds the transforms of `chain` (each once, as with
    /// [`server`](Self::server)), fused into the thread of the server that
    /// feeds pipe `pipe`, the chain's first fused pipe.
    pub fn fuse<X: 'static, C: Chain<X> + 'static>(
        &mut self,
        pipe: usize,
        chain: C,
    ) -> Result<&mut Self, Error> {
        let mut members = Vec::new();
        chain.members(&mut members);
        for (name, manifest) in &members {
            let index = self.slot(name)?;
            self.servers[index] = Some(Registered {
                manifest: *manifest,
                factory: None,
            });
        }
        let names = members.into_iter().map(|(name, _)| name).collect();
        self.fusions
            .push((pipe, park::<X, C>(Box::new(chain)), names));
        Ok(self)
    }

    /// Makes pipe `pipe` of `spec.pipes` tappable: a watcher sees its
    /// messages encoded by `encoder`, which takes the pipe's message type.
    pub fn tap(&mut self, pipe: usize, encoder: TapEncoder) -> Result<&mut Self, Error> {
        let spec = self.spec.pipes.get(pipe).ok_or(Error::UnknownPipe {
            index: pipe,
            pipes: self.spec.pipes.len(),
        })?;
        self.taps.insert(spec.id, encoder);
        Ok(self)
    }

    fn add_pipe<P: Producer, C: Consumer<Message = P::Message>>(
        &mut self,
        pipe: usize,
        _ends: Pipe<P, C>,
        fused: bool,
    ) -> Result<&mut Self, Error> {
        let spec = self.spec.pipes.get(pipe).ok_or(Error::UnknownPipe {
            index: pipe,
            pipes: self.spec.pipes.len(),
        })?;
        let slot = &mut self.pipes[pipe];
        if slot.is_some() {
            return Err(Error::DuplicatePipe {
                from: spec.from.to_string(),
                to: spec.to.to_string(),
            });
        }
        *slot = Some(if fused {
            Connected {
                sender: None,
                receiver: None,
                stats: PipeStats::fused(),
                from_kind: P::KIND,
                to_kind: C::KIND,
            }
        } else {
            let (sender, receiver, stats) = pipe::pipe::<P::Message>(spec);
            Connected {
                sender: Some(Box::new(sender)),
                receiver: Some(Box::new(receiver)),
                stats,
                from_kind: P::KIND,
                to_kind: C::KIND,
            }
        });
        Ok(self)
    }

    /// Gives every route of the spec from `from` (`server.terminal`) its
    /// local pipe: the terminal sends into it as into any pipe (blocking
    /// while it holds the route's `capacity`), and the returned [`Drain`]s
    /// (one per route, in wiring order) take the messages out. Whatever
    /// carries the routes to the other kernels owns the drains.
    pub fn route<P: Producer>(&mut self, from: &str) -> Result<RouteDrains<P::Message>, Error> {
        let spec = self.spec;
        let mut drains = Vec::new();
        for (index, route) in spec.routes.iter().enumerate() {
            if route.from.to_string() != from {
                continue;
            }
            if self.routes[index].is_some() {
                return Err(Error::DuplicateRoute {
                    from: from.to_owned(),
                });
            }
            let (sender, receiver, _) = pipe::pipe::<P::Message>(route_pipe(route));
            self.routes[index] = Some((Box::new(sender), P::KIND));
            drains.push((route, Drain::new(receiver)));
        }
        if drains.is_empty() {
            return Err(Error::UnknownRoute {
                from: from.to_owned(),
            });
        }
        Ok(drains)
    }

    /// Makes the input terminal `to` (`server.terminal`) wait for producers
    /// that connect while the kernel runs (from other kernels) instead of
    /// seeing end of stream at once when no pipe feeds it.
    pub fn await_producers<C: Consumer>(&mut self, to: &str) -> Result<&mut Self, Error> {
        let unknown = || Error::UnknownTerminal {
            endpoint: to.to_owned(),
        };
        let (server, terminal) = to.split_once('.').ok_or_else(unknown)?;
        let index = *self.server_index.get(server).ok_or_else(unknown)?;
        self.awaiting.push((index, terminal.to_owned(), C::KIND));
        Ok(self)
    }

    /// Checks that every server and pipe of the spec was added exactly once
    /// and agrees with the servers' manifests, then builds the kernel.
    pub fn build(&mut self) -> Result<Kernel, Error> {
        if self.built {
            return Err(Error::AlreadyBuilt);
        }
        let spec = self.spec;
        let mut problems = Vec::new();
        for (s, slot) in spec.servers.iter().zip(&self.servers) {
            if slot.is_none() {
                problems.push(format!(
                    "server `{}` (type `{}`) was not added",
                    s.name, s.type_path
                ));
            }
        }
        for (p, slot) in spec.pipes.iter().zip(&self.pipes) {
            if p.capacity == 0 {
                problems.push(format!(
                    "pipe `{} -> {}` has capacity 0; it must be at least 1",
                    p.from, p.to
                ));
            }
            let Some(c) = slot else {
                problems.push(format!("pipe `{} -> {}` was not connected", p.from, p.to));
                continue;
            };
            for (end, kind) in [(p.from, c.from_kind), (p.to, c.to_kind)] {
                let Some(&index) = self.server_index.get(end.server) else {
                    problems.push(format!(
                        "pipe `{} -> {}` names server `{}`, which the wiring does not have",
                        p.from, p.to, end.server
                    ));
                    continue;
                };
                let Some(Some(reg)) = self.servers.get(index) else {
                    continue;
                };
                match reg.manifest.terminal(end.terminal) {
                    None => problems.push(format!(
                        "server `{}` (type `{}`) has no terminal `{}`",
                        end.server, spec.servers[index].type_path, end.terminal
                    )),
                    Some(t) if t.kind != kind => problems.push(format!(
                        "terminal `{end}` is declared `{}` but connected as `{}`",
                        t.kind.type_name(),
                        kind.type_name()
                    )),
                    Some(_) => {}
                }
            }
        }
        for (r, slot) in spec.routes.iter().zip(&self.routes) {
            let Some((_, kind)) = slot else { continue };
            let Some(&index) = self.server_index.get(r.from.server) else {
                problems.push(format!(
                    "route `{}` starts at server `{}`, which the wiring does not have",
                    r.id, r.from.server
                ));
                continue;
            };
            let Some(Some(reg)) = self.servers.get(index) else {
                continue;
            };
            match reg.manifest.terminal(r.from.terminal) {
                None => problems.push(format!(
                    "server `{}` (type `{}`) has no terminal `{}` for route `{}`",
                    r.from.server, spec.servers[index].type_path, r.from.terminal, r.id
                )),
                Some(t) if t.kind != *kind => problems.push(format!(
                    "terminal `{}` is declared `{}` but routed as `{}`",
                    r.from,
                    t.kind.type_name(),
                    kind.type_name()
                )),
                Some(_) => {}
            }
        }
        for (index, terminal, kind) in &self.awaiting {
            let Some(reg) = &self.servers[*index] else {
                continue;
            };
            let server = spec.servers[*index].name;
            match reg.manifest.terminal(terminal) {
                None => problems.push(format!(
                    "server `{server}` (type `{}`) has no terminal `{terminal}` to await producers on",
                    spec.servers[*index].type_path
                )),
                Some(t) if t.kind != *kind => problems.push(format!(
                    "terminal `{server}.{terminal}` is declared `{}` but awaited as `{}`",
                    t.kind.type_name(),
                    kind.type_name()
                )),
                Some(_) => {}
            }
        }
        // `Input` and `Output` take exactly one peer. Peers counted in one
        // pass: a search per terminal was quadratic (a third of the build
        // of a 10,000-server kernel).
        let mut peers: HashMap<(&str, &str), usize> = HashMap::new();
        for p in spec.pipes {
            for end in [p.from, p.to] {
                *peers.entry((end.server, end.terminal)).or_default() += 1;
            }
        }
        for (r, slot) in spec.routes.iter().zip(&self.routes) {
            if slot.is_some() {
                *peers.entry((r.from.server, r.from.terminal)).or_default() += 1;
            }
        }
        for (s, slot) in spec.servers.iter().zip(&self.servers) {
            let Some(reg) = slot else { continue };
            for t in reg.manifest.terminals {
                let n = peers.get(&(s.name, t.name)).copied().unwrap_or(0);
                if n > 1 && matches!(t.kind, TerminalKind::Input | TerminalKind::Output) {
                    let (peers, instead) = if t.kind.is_producer() {
                        ("consumers", "Multiplex")
                    } else {
                        ("producers", "Combine")
                    };
                    problems.push(format!(
                        "terminal `{}.{}` is an `{}` with {n} {peers}; declare it as `{instead}`",
                        s.name,
                        t.name,
                        t.kind.type_name()
                    ));
                }
            }
        }
        // A fused chain starts at a fused pipe and every member is fed by one.
        let fed: HashMap<&str, usize> = spec
            .pipes
            .iter()
            .zip(&self.pipes)
            .enumerate()
            .filter(|(_, (_, c))| c.as_ref().is_some_and(|c| c.sender.is_none()))
            .map(|(i, (p, _))| (p.to.server, i))
            .collect();
        for (pipe, _, members) in &self.fusions {
            if members.first().and_then(|m| fed.get(m)) != Some(pipe) {
                problems.push(format!(
                    "the fused chain of `{}` does not start at fused pipe {pipe}",
                    members.join(" -> ")
                ));
            }
            for member in members {
                if !fed.contains_key(member) {
                    problems.push(format!(
                        "transform `{member}` is fused but no fused pipe feeds it"
                    ));
                }
            }
        }
        if !problems.is_empty() {
            return Err(Error::Incomplete {
                kernel: spec.kernel.name.to_owned(),
                problems,
            });
        }

        self.built = true;
        let stop = Arc::new(AtomicBool::new(false));
        let mut ports: Vec<Ports> = spec
            .servers
            .iter()
            .map(|s| Ports::with_signal(s.name, Arc::new(Signal::new(Arc::clone(&stop)))))
            .collect();
        // Every terminal gets a link, connected or not, so that it can be
        // connected at run time.
        for (p, slot) in ports.iter_mut().zip(&self.servers) {
            if let Some(reg) = slot {
                for t in reg.manifest.terminals {
                    p.link(t.name);
                }
            }
        }
        let mut pipes = Vec::with_capacity(spec.pipes.len());
        // Where each pipe of the spec is in `pipes`, for the fused members.
        let mut made: Vec<Option<usize>> = vec![None; spec.pipes.len()];
        for (k, (p, slot)) in spec
            .pipes
            .iter()
            .zip(std::mem::take(&mut self.pipes))
            .enumerate()
        {
            let Some(c) = slot else { continue };
            let from = self.server_index.get(p.from.server);
            let to = self.server_index.get(p.to.server);
            let (Some(&from), Some(&to)) = (from, to) else {
                continue;
            };
            let from_link = ports[from].link(p.from.terminal);
            let to_link = ports[to].link(p.to.terminal);
            let fused = c.sender.is_none();
            if let (Some(sender), Some(receiver)) = (c.sender, c.receiver) {
                from_link.push(sender);
                to_link.push(receiver);
            }
            let mut live = PipeLive::new(p, c.stats, from_link, to_link, false);
            live.fused = fused;
            made[k] = Some(pipes.len());
            pipes.push(live);
        }
        let mut hosts: Vec<Option<&'static str>> = vec![None; spec.servers.len()];
        let mut fusions = Vec::with_capacity(self.fusions.len());
        for (pipe, chain, members) in std::mem::take(&mut self.fusions) {
            let host = spec.pipes[pipe].from;
            let Some(&host_index) = self.server_index.get(host.server) else {
                continue;
            };
            let mut envs = Vec::with_capacity(members.len());
            for member in members {
                let (Some(&index), Some(feed)) = (
                    self.server_index.get(member),
                    fed.get(member)
                        .and_then(|&i| made.get(i).copied().flatten())
                        .and_then(|k| pipes.get(k)),
                ) else {
                    continue;
                };
                hosts[index] = Some(host.server);
                envs.push(MemberEnv {
                    index,
                    spec: &spec.servers[index],
                    ports: ports[index].clone_ends(),
                    feed: Arc::clone(&feed.stats),
                });
            }
            fusions.push(Fusion {
                link: ports[host_index].link(host.terminal),
                chain: Some(chain),
                members: envs,
            });
        }
        for (r, slot) in spec.routes.iter().zip(std::mem::take(&mut self.routes)) {
            let Some((sender, _)) = slot else { continue };
            if let Some(&from) = self.server_index.get(r.from.server) {
                ports[from].link(r.from.terminal).push(sender);
            }
        }
        for (index, terminal, _) in &self.awaiting {
            let Some(name) = self.servers[*index]
                .as_ref()
                .and_then(|reg| reg.manifest.terminal(terminal))
                .map(|t| t.name)
            else {
                continue;
            };
            ports[*index].link(name).change(|s| {
                if s.ends.is_empty() {
                    s.dormant = true;
                }
            });
        }
        let parts = ports
            .iter()
            .zip(hosts)
            .map(|(p, host)| ServerParts {
                signal: Arc::clone(p.signal()),
                links: p.links().clone(),
                host,
            })
            .collect();
        let connectome = Connectome::new(
            spec,
            parts,
            pipes,
            std::mem::take(&mut self.taps),
            Arc::clone(&stop),
        );
        let instances = spec
            .servers
            .iter()
            .zip(std::mem::take(&mut self.servers))
            .zip(ports)
            .enumerate()
            .filter_map(|(index, ((spec, reg), ports))| {
                reg.and_then(|reg| reg.factory).map(|factory| Instance {
                    index,
                    spec,
                    factory,
                    ports,
                })
            })
            .collect();
        Ok(Kernel::new(connectome, instances, fusions, stop))
    }
}

/// The spec of a route's local pipe: the route's id and capacity, from its
/// output to the remote guest (or mask) and terminal.
fn route_pipe(route: &'static RouteSpec) -> &'static PipeSpec {
    static SPECS: std::sync::Mutex<Vec<&'static PipeSpec>> = std::sync::Mutex::new(Vec::new());
    let mut specs = SPECS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(spec) = specs
        .iter()
        .find(|s| s.id == route.id && s.from == route.from && s.capacity == route.capacity)
    {
        return spec;
    }
    let server = match route.to {
        RouteTarget::Guest(g) | RouteTarget::Mask(g) => g,
    };
    let spec: &'static PipeSpec = Box::leak(Box::new(PipeSpec {
        id: route.id,
        from: route.from,
        to: Endpoint {
            server,
            terminal: route.terminal,
        },
        capacity: route.capacity.max(1),
    }));
    specs.push(spec);
    spec
}
