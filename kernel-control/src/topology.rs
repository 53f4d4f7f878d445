//! Snapshots of the live topology and their exports: JSON-ready views,
//! Graphviz DOT, Mermaid and `wiring.toml`.

use std::fmt::Write as _;

use serde::Serialize;

use kernel_core::control::state::{ConnectionState, Machine};
use kernel_core::{Connectome, Control, ServerState};
use kernel_hostess::{GuestStatus, HostessExt, TerminalUse};
use wiring_model::{GuestIdentity, TerminalKind, server_uuid};

/// The kernel a snapshot is about.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KernelView {
    pub name: String,
    pub fqdn: String,
    pub owner: String,
    /// `[control] listen` of `wiring.toml`, as written.
    pub control_listen: Option<String>,
    /// Seconds since the kernel started running.
    pub uptime_s: f64,
    pub stopping: bool,
}

/// One terminal of a server.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TerminalView {
    pub name: String,
    /// `input`, `output`, `multiplex` or `combine`.
    pub kind: String,
    pub message_type: String,
    pub doc: String,
    /// Connections that hold the terminal now.
    pub peers: usize,
    /// Its use as the Hostess books it: `free`, `reserved` or `in_use`;
    /// `None` when the Hostess does not know the terminal.
    pub booking: Option<String>,
    /// The connectome ids (pipe ids) the Hostess has it booked under.
    pub connectome: Vec<String>,
}

/// One server instance.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServerView {
    pub name: String,
    pub type_path: String,
    pub uuid: String,
    pub identity: String,
    /// The guest identity the Hostess has registered for the server's
    /// uuid; `None` when it is not a registered guest.
    pub guest: Option<String>,
    pub state: String,
    /// `never`, `on-failure` or `always`.
    pub restart: String,
    pub restarts: u32,
    pub last_error: Option<String>,
    pub terminals: Vec<TerminalView>,
    /// The `config` table as a TOML document, if any.
    pub config: Option<String>,
}

/// One connection (pipe).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConnectionView {
    pub id: String,
    /// `server.terminal`
    pub from: String,
    pub to: String,
    pub from_kind: String,
    pub to_kind: String,
    pub message_type: String,
    pub state: String,
    pub capacity: usize,
    pub messages_in: u64,
    pub messages_out: u64,
    pub queue_depth: u64,
    /// `queue_depth / capacity`, 0 to 1.
    pub fill: f64,
    /// Messages per second out of the pipe over about the last second.
    pub rate: f64,
    pub blocked_ns: u64,
    /// Time since the consumer last took a message (as the samples of
    /// the rate tell).
    pub since_taken_ns: u64,
    /// Messages are queued but do not move: the pipe is paused, or its
    /// consumer has taken nothing for [`STALL_AFTER`].
    pub stalled: bool,
    pub drops: u64,
    /// Made at run time rather than in `wiring.toml`.
    pub live: bool,
    /// Part of a fan-out: its producer is a `Multiplex` with several consumers.
    pub fan_out: bool,
    /// Part of a fan-in: its consumer is a `Combine` with several producers.
    pub fan_in: bool,
}

/// One external process. Its `env` is left out: it may hold secrets (the
/// probe's passphrase travels there).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProcessView {
    pub name: String,
    pub command: String,
    pub args: Vec<String>,
    /// `never`, `on-failure` or `always`.
    pub restart: String,
    pub state: String,
    pub pid: Option<u32>,
    pub restarts: u32,
    pub last_exit: Option<String>,
}

/// How long queued messages may sit without the consumer taking one, or a
/// producer stay blocked on a full pipe, before the pipe counts as stalled.
pub const STALL_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

/// A snapshot of the whole live topology.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Topology {
    pub kernel: KernelView,
    pub servers: Vec<ServerView>,
    pub connections: Vec<ConnectionView>,
    pub processes: Vec<ProcessView>,
}

/// The lowercase name of a terminal kind: `input`, `output`, `multiplex`, `combine`.
pub fn kind_str(kind: TerminalKind) -> &'static str {
    match kind {
        TerminalKind::Input => "input",
        TerminalKind::Output => "output",
        TerminalKind::Multiplex => "multiplex",
        TerminalKind::Combine => "combine",
    }
}

/// A snapshot of the live topology, from anything that holds a kernel.
pub trait Snapshot {
    /// Servers, terminals, connections and processes with their states,
    /// counters, rates and bookings.
    fn topology(&self) -> Topology;
}

impl Snapshot for Connectome {
    fn topology(&self) -> Topology {
        self.control().topology()
    }
}

impl Snapshot for Control {
    fn topology(&self) -> Topology {
        self.reconcile();
        Topology::capture(self.connectome())
    }
}

impl Snapshot for kernel_core::Kernel {
    fn topology(&self) -> Topology {
        self.control().topology()
    }
}

impl Topology {
    fn capture(connectome: &Connectome) -> Self {
        let spec = connectome.spec();
        let pipes = connectome.pipes();
        let flows = connectome.flows();
        let terminals = connectome.terminals();
        let holding: Vec<_> = pipes.iter().filter(|p| p.state.holds_terminals()).collect();
        let peers = |server: &str, terminal: &str| {
            holding
                .iter()
                .filter(|p| {
                    (p.from.server == server && p.from.terminal == terminal)
                        || (p.to.server == server && p.to.terminal == terminal)
                })
                .count()
        };
        let lookup = |server: &str, terminal: &str| {
            terminals
                .iter()
                .find(|t| t.server == server && t.name == terminal)
                .map(|t| (t.kind, t.message_type.to_owned()))
                .unwrap_or((TerminalKind::Input, String::new()))
        };
        let hostess = connectome.hostess();
        let servers = spec
            .servers
            .iter()
            .zip(connectome.servers())
            .map(|(s, status)| {
                // The guest registered under the server's uuid, if it is
                // this server (hand-written specs may share a uuid).
                let guest: Option<GuestStatus> = hostess
                    .guest(s.uuid)
                    .filter(|g| GuestIdentity::parse(s.identity).is_ok_and(|i| i == g.identity));
                let booking = |t: &str| {
                    let usage = guest.as_ref().and_then(|g| g.terminal(t)).map(|t| &t.usage);
                    let state = usage.map(|u| {
                        match u {
                            TerminalUse::Free => "free",
                            TerminalUse::Reserved { .. } => "reserved",
                            TerminalUse::InUse { .. } => "in_use",
                        }
                        .to_owned()
                    });
                    let ids = usage
                        .map(|u| u.connectome().iter().map(|c| c.to_string()).collect())
                        .unwrap_or_default();
                    (state, ids)
                };
                ServerView {
                    name: s.name.to_owned(),
                    type_path: s.type_path.to_owned(),
                    uuid: s.uuid.to_string(),
                    identity: s.identity.to_owned(),
                    guest: guest.as_ref().map(|g| g.identity.to_string()),
                    state: status.state.as_str().to_owned(),
                    restart: s.restart.as_str().to_owned(),
                    restarts: status.restarts,
                    last_error: status.last_error,
                    terminals: terminals
                        .iter()
                        .filter(|t| t.server == s.name)
                        .map(|t| {
                            let (booking, connectome) = booking(t.name);
                            TerminalView {
                                name: t.name.to_owned(),
                                kind: kind_str(t.kind).to_owned(),
                                message_type: t.message_type.to_owned(),
                                doc: t.doc.to_owned(),
                                peers: peers(s.name, t.name),
                                booking,
                                connectome,
                            }
                        })
                        .collect(),
                    config: s.config.map(str::to_owned),
                }
            })
            .collect();
        let connections = pipes
            .iter()
            .map(|p| {
                let (from_kind, message_type) = lookup(p.from.server, p.from.terminal);
                let (to_kind, _) = lookup(p.to.server, p.to.terminal);
                let holds = p.state.holds_terminals();
                let flow = flows.get(&p.id);
                let since_taken = flow.map(|f| f.since_taken).unwrap_or_default();
                let stalled = holds
                    && p.queue_depth > 0
                    && (p.state == ConnectionState::Paused || since_taken >= STALL_AFTER);
                ConnectionView {
                    id: p.id.to_string(),
                    from: p.from.to_string(),
                    to: p.to.to_string(),
                    from_kind: kind_str(from_kind).to_owned(),
                    to_kind: kind_str(to_kind).to_owned(),
                    message_type,
                    state: p.state.as_str().to_owned(),
                    capacity: p.capacity,
                    messages_in: p.messages_in,
                    messages_out: p.messages_out,
                    queue_depth: p.queue_depth,
                    fill: (p.queue_depth as f64 / p.capacity.max(1) as f64).min(1.0),
                    rate: flow.map(|f| f.rate).unwrap_or(0.0),
                    blocked_ns: nanos(p.blocked),
                    since_taken_ns: nanos(since_taken),
                    stalled,
                    drops: p.drops,
                    live: p.live,
                    fan_out: holds
                        && from_kind == TerminalKind::Multiplex
                        && peers(p.from.server, p.from.terminal) > 1,
                    fan_in: holds
                        && to_kind == TerminalKind::Combine
                        && peers(p.to.server, p.to.terminal) > 1,
                }
            })
            .collect();
        Topology {
            kernel: KernelView {
                name: spec.kernel.name.to_owned(),
                fqdn: spec.kernel.fqdn.to_owned(),
                owner: spec.kernel.owner.to_owned(),
                control_listen: spec.control.map(str::to_owned),
                uptime_s: connectome.elapsed().as_secs_f64(),
                stopping: connectome.stopping(),
            },
            servers,
            connections,
            processes: connectome
                .processes()
                .into_iter()
                .map(|p| ProcessView {
                    name: p.name,
                    command: p.command,
                    args: p.args,
                    restart: p.restart.as_str().to_owned(),
                    state: p.state.as_str().to_owned(),
                    pid: p.pid,
                    restarts: p.restarts,
                    last_exit: p.last_exit,
                })
                .collect(),
        }
    }

    /// The server called `name`.
    pub fn server(&self, name: &str) -> Option<&ServerView> {
        self.servers.iter().find(|s| s.name == name)
    }

    /// The connection with id `id`.
    pub fn connection(&self, id: &str) -> Option<&ConnectionView> {
        self.connections.iter().find(|c| c.id == id)
    }

    /// Connections that still hold their terminals (not closed or failed).
    pub fn active(&self) -> impl Iterator<Item = &ConnectionView> + '_ {
        self.connections.iter().filter(|c| {
            ConnectionState::parse(&c.state).is_some_and(ConnectionState::holds_terminals)
        })
    }

    /// The graph every drawing uses: servers, fan nodes and edges.
    pub fn graph(&self) -> Graph {
        Graph::of(self)
    }

    /// Graphviz DOT: servers as boxes coloured by state, fan-out and fan-in
    /// as junction nodes, every pipe labelled with state, rate and queue.
    pub fn to_dot(&self) -> String {
        let g = self.graph();
        let mut out = String::new();
        let _ = writeln!(out, "digraph {} {{", dot_id(&self.kernel.name));
        let _ = writeln!(
            out,
            "  graph [rankdir=LR, fontname=\"Helvetica\", label={}, labelloc=t];",
            dot_id(&format!(
                "kernel {} ({}), uptime {:.0} s",
                self.kernel.name, self.kernel.fqdn, self.kernel.uptime_s
            ))
        );
        out.push_str("  node [fontname=\"Helvetica\", fontsize=11];\n");
        out.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
        for node in &g.nodes {
            match &node.kind {
                NodeKind::Server { state, type_path } => {
                    let _ = writeln!(
                        out,
                        "  {} [shape=box, style=\"rounded,filled\", fillcolor={}, label={}];",
                        dot_id(&node.id),
                        dot_id(state_colour(state)),
                        dot_id(&format!("{}\n{}\n[{}]", node.label, type_path, state))
                    );
                }
                NodeKind::FanOut => {
                    let _ = writeln!(
                        out,
                        "  {} [shape=triangle, orientation=270, style=filled, fillcolor=\"#dddddd\", width=0.3, height=0.3, fixedsize=true, label=\"\", xlabel={}];",
                        dot_id(&node.id),
                        dot_id(&format!("fan-out {}", node.label))
                    );
                }
                NodeKind::FanIn => {
                    let _ = writeln!(
                        out,
                        "  {} [shape=invtriangle, orientation=90, style=filled, fillcolor=\"#dddddd\", width=0.3, height=0.3, fixedsize=true, label=\"\", xlabel={}];",
                        dot_id(&node.id),
                        dot_id(&format!("fan-in {}", node.label))
                    );
                }
            }
        }
        for edge in &g.edges {
            match &edge.pipe {
                Some(c) => {
                    let style = match c.state.as_str() {
                        "paused" => "dashed",
                        "draining" => "dotted",
                        "closed" | "failed" => "invis",
                        _ => "solid",
                    };
                    let _ = writeln!(
                        out,
                        "  {} -> {} [id={}, color={}, style={}, penwidth=2, label={}];",
                        dot_id(&edge.from),
                        dot_id(&edge.to),
                        dot_id(&format!("conn-{}", c.id)),
                        dot_id(fill_colour(c.fill, &c.state)),
                        style,
                        dot_id(&edge_label(c))
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "  {} -> {} [color=\"#555555\", penwidth=2, arrowhead=none];",
                        dot_id(&edge.from),
                        dot_id(&edge.to)
                    );
                }
            }
        }
        out.push_str("}\n");
        out
    }

    /// A Mermaid flowchart of the same graph.
    pub fn to_mermaid(&self) -> String {
        let g = self.graph();
        let mid = |id: &str| -> String {
            id.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect()
        };
        let text = |s: &str| s.replace('"', "#quot;");
        let mut out = String::from("flowchart LR\n");
        for node in &g.nodes {
            match &node.kind {
                NodeKind::Server { state, type_path } => {
                    let _ = writeln!(
                        out,
                        "  {}[\"{}<br/>{}<br/>[{}]\"]:::{}",
                        mid(&node.id),
                        text(&node.label),
                        text(type_path),
                        state,
                        state
                    );
                }
                NodeKind::FanOut => {
                    let _ = writeln!(
                        out,
                        "  {}{{{{\"fan-out {}\"}}}}",
                        mid(&node.id),
                        text(&node.label)
                    );
                }
                NodeKind::FanIn => {
                    let _ = writeln!(
                        out,
                        "  {}{{{{\"fan-in {}\"}}}}",
                        mid(&node.id),
                        text(&node.label)
                    );
                }
            }
        }
        for edge in &g.edges {
            match &edge.pipe {
                Some(c) if c.state == "closed" || c.state == "failed" => {}
                Some(c) => {
                    let arrow = if c.state == "paused" { "-.->" } else { "-->" };
                    let _ = writeln!(
                        out,
                        "  {} {}|\"{}\"| {}",
                        mid(&edge.from),
                        arrow,
                        text(&edge_label(c).replace('\n', " · ")),
                        mid(&edge.to)
                    );
                }
                None => {
                    let _ = writeln!(out, "  {} --- {}", mid(&edge.from), mid(&edge.to));
                }
            }
        }
        for state in ServerState::ALL {
            let _ = writeln!(
                out,
                "  classDef {} fill:{},stroke:#333",
                state.as_str(),
                state_colour(state.as_str())
            );
        }
        out
    }

    /// The live topology as a `wiring.toml` that builds the same kernel:
    /// `[control] listen`, every server with its type, config, restart
    /// policy (and uuid when it is not the default), every process with its
    /// command, arguments and restart policy (not its `env`, which may hold
    /// secrets), every connection that still holds its terminals, fan-out and
    /// fan-in written as lists. `[lints]` levels are not known at run time.
    pub fn to_wiring_toml(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Exported from the live kernel `{}`.",
            self.kernel.name
        );
        out.push_str("[kernel]\n");
        let _ = writeln!(out, "name = {}", toml_str(&self.kernel.name));
        let _ = writeln!(out, "fqdn = {}", toml_str(&self.kernel.fqdn));
        let _ = writeln!(out, "owner = {}", toml_str(&self.kernel.owner));
        if let Some(listen) = &self.kernel.control_listen {
            let _ = writeln!(out, "\n[control]\nlisten = {}", toml_str(listen));
        }
        for s in &self.servers {
            let _ = writeln!(out, "\n[servers.{}]", s.name);
            let _ = writeln!(out, "type = {}", toml_str(&s.type_path));
            if let Some(config) = &s.config {
                let inline = toml::from_str::<toml::Table>(config)
                    .map(|t| toml::Value::Table(t).to_string())
                    .unwrap_or_else(|_| "{}".to_owned());
                let _ = writeln!(out, "config = {}", inline.trim());
            }
            if s.restart != "never" {
                let _ = writeln!(out, "restart = {}", toml_str(&s.restart));
            }
            if server_uuid(&self.kernel.name, &s.name).to_string() != s.uuid {
                let _ = writeln!(out, "uuid = {}", toml_str(&s.uuid));
            }
        }
        for p in &self.processes {
            let _ = writeln!(out, "\n[processes.{}]", p.name);
            let _ = writeln!(out, "command = {}", toml_str(&p.command));
            if !p.args.is_empty() {
                let args: Vec<String> = p.args.iter().map(|a| toml_str(a)).collect();
                let _ = writeln!(out, "args = [{}]", args.join(", "));
            }
            if p.restart != "never" {
                let _ = writeln!(out, "restart = {}", toml_str(&p.restart));
            }
        }
        // Fan-outs grouped first, then fan-ins, then the single pipes; written
        // in the order of each group's first pipe, as in the wiring file.
        let active: Vec<&ConnectionView> = self.active().collect();
        let mut done = vec![false; active.len()];
        let mut groups: Vec<(usize, Vec<&str>, Vec<&str>, usize)> = Vec::new();
        for fan_out in [true, false] {
            for i in 0..active.len() {
                if done[i] {
                    continue;
                }
                let c = active[i];
                let key = |d: &ConnectionView| {
                    if fan_out {
                        d.from_kind == "multiplex" && d.from == c.from
                    } else {
                        d.to_kind == "combine" && d.to == c.to
                    }
                };
                let members: Vec<usize> = (0..active.len())
                    .filter(|&j| !done[j] && key(active[j]) && active[j].capacity == c.capacity)
                    .collect();
                if members.len() < 2 {
                    continue;
                }
                let mut froms = Vec::new();
                let mut tos = Vec::new();
                for &j in &members {
                    done[j] = true;
                    if fan_out {
                        tos.push(active[j].to.as_str());
                    } else {
                        froms.push(active[j].from.as_str());
                    }
                }
                if fan_out {
                    froms.push(c.from.as_str());
                } else {
                    tos.push(c.to.as_str());
                }
                groups.push((i, froms, tos, c.capacity));
            }
        }
        for (i, c) in active.iter().enumerate() {
            if !done[i] {
                groups.push((i, vec![c.from.as_str()], vec![c.to.as_str()], c.capacity));
            }
        }
        groups.sort_by_key(|g| g.0);
        let side = |list: &[&str]| match list {
            [one] => toml_str(one),
            many => format!(
                "[{}]",
                many.iter()
                    .map(|e| toml_str(e))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        for (_, froms, tos, capacity) in groups {
            out.push_str("\n[[connections]]\n");
            let _ = writeln!(out, "from = {}", side(&froms));
            let _ = writeln!(out, "to = {}", side(&tos));
            if capacity != wiring_model::DEFAULT_CAPACITY {
                let _ = writeln!(out, "capacity = {capacity}");
            }
        }
        out
    }
}

fn nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// A DOT quoted id.
fn dot_id(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `12.3 msg/s`, `4.5k msg/s`, `1.2M msg/s`.
pub fn rate_text(per_sec: f64) -> String {
    if per_sec >= 1e6 {
        format!("{:.1}M msg/s", per_sec / 1e6)
    } else if per_sec >= 1e3 {
        format!("{:.1}k msg/s", per_sec / 1e3)
    } else {
        format!("{per_sec:.1} msg/s")
    }
}

fn edge_label(c: &ConnectionView) -> String {
    let flow = if c.stalled {
        format!("STALLED {:.1} s", c.since_taken_ns as f64 / 1e9)
    } else {
        rate_text(c.rate)
    };
    format!(
        "{}\n{} · queue {}/{}",
        c.state, flow, c.queue_depth, c.capacity
    )
}

/// Colour of a server state.
pub fn state_colour(state: &str) -> &'static str {
    match state {
        "running" => "#c8e6c9",
        "booting" | "restarting" => "#fff59d",
        "finished" | "stopped" => "#e0e0e0",
        "failed" => "#ef9a9a",
        _ => "#ffffff",
    }
}

/// Colour of a pipe by queue fill (green, amber, red) or state.
pub fn fill_colour(fill: f64, state: &str) -> &'static str {
    match state {
        "paused" => "#1e88e5",
        "draining" => "#8e24aa",
        "closed" | "failed" | "planned" | "reserved" => "#9e9e9e",
        _ if fill >= 0.9 => "#c62828",
        _ if fill >= 0.5 => "#f9a825",
        _ => "#2e7d32",
    }
}

/// What a node of the drawn graph is.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Server {
        state: String,
        type_path: String,
    },
    /// The junction of a `Multiplex` with several consumers.
    FanOut,
    /// The junction of a `Combine` with several producers.
    FanIn,
}

/// A node of the drawn graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Server name, or `fan-out:server.terminal` / `fan-in:server.terminal`.
    pub id: String,
    pub label: String,
    pub kind: NodeKind,
}

/// An edge of the drawn graph: a pipe, or the stub between a server and
/// its fan junction.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub pipe: Option<ConnectionView>,
}

/// Servers, fan junctions and edges, as every drawing shows them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

impl Graph {
    fn of(t: &Topology) -> Self {
        let mut g = Graph::default();
        for s in &t.servers {
            g.nodes.push(Node {
                id: s.name.clone(),
                label: s.name.clone(),
                kind: NodeKind::Server {
                    state: s.state.clone(),
                    type_path: s.type_path.clone(),
                },
            });
        }
        let server_of = |endpoint: &str| {
            endpoint
                .split_once('.')
                .map(|(s, _)| s.to_owned())
                .unwrap_or_default()
        };
        for c in &t.connections {
            let from = if c.fan_out {
                let id = format!("fan-out:{}", c.from);
                if !g.nodes.iter().any(|n| n.id == id) {
                    g.nodes.push(Node {
                        id: id.clone(),
                        label: c.from.clone(),
                        kind: NodeKind::FanOut,
                    });
                    g.edges.push(Edge {
                        from: server_of(&c.from),
                        to: id.clone(),
                        pipe: None,
                    });
                }
                id
            } else {
                server_of(&c.from)
            };
            let to = if c.fan_in {
                let id = format!("fan-in:{}", c.to);
                if !g.nodes.iter().any(|n| n.id == id) {
                    g.nodes.push(Node {
                        id: id.clone(),
                        label: c.to.clone(),
                        kind: NodeKind::FanIn,
                    });
                    g.edges.push(Edge {
                        from: id.clone(),
                        to: server_of(&c.to),
                        pipe: None,
                    });
                }
                id
            } else {
                server_of(&c.to)
            };
            g.edges.push(Edge {
                from,
                to,
                pipe: Some(c.clone()),
            });
        }
        g
    }
}
