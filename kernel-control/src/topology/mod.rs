//! Snapshots of the live topology and their exports: JSON-ready views
//! (here), the graph every drawing uses ([`Graph`]), Graphviz DOT, Mermaid
//! and `wiring.toml`.

mod dot;
mod graph;
mod mermaid;
mod wiring_toml;

use serde::Serialize;

use kernel_core::control::state::{ConnectionState, Machine};
use kernel_core::{Connectome, Control, RouteStatus};
use kernel_hostess::{GuestStatus, HostessExt, TerminalUse};
use wiring_model::{GuestIdentity, TerminalKind};

pub use graph::{Edge, EdgeKind, Graph, Node, NodeKind};

/// The kernel a snapshot is about.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KernelView {
    /// `[kernel] name`.
    pub name: String,
    /// `[kernel] fqdn`.
    pub fqdn: String,
    /// `[kernel] owner`.
    pub owner: String,
    /// `[control] listen` of `wiring.toml`, as written.
    pub control_listen: Option<String>,
    /// Seconds since the kernel started running.
    pub uptime_s: f64,
    /// True once the stop signal is raised.
    pub stopping: bool,
}

/// One terminal of a server.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TerminalView {
    /// The terminal's wiring name.
    pub name: String,
    /// `input`, `output`, `multiplex` or `combine`.
    pub kind: String,
    /// The message type as written in the server's source (`f64`, `Vec<u8>`).
    pub message_type: String,
    /// `#[terminal(doc = ..)]`, empty when absent.
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
    /// The instance name.
    pub name: String,
    /// `type` as written in `wiring.toml`.
    pub type_path: String,
    /// The instance's uuid, hyphenated.
    pub uuid: String,
    /// Its guest identity `fqdn:server:classHex:owner:authFlag:authMechanism:uuid`.
    pub identity: String,
    /// The guest identity the Hostess has registered for the server's
    /// uuid; `None` when it is not a registered guest.
    pub guest: Option<String>,
    /// `booting`, `running`, `finished`, `failed`, `restarting` or `stopped`.
    pub state: String,
    /// `never`, `on-failure` or `always`.
    pub restart: String,
    /// How many times it was restarted.
    pub restarts: u32,
    /// The last error or panic message, if any.
    pub last_error: Option<String>,
    /// Every terminal the server type declares, in field order.
    pub terminals: Vec<TerminalView>,
    /// The `config` table as a TOML document, if any.
    pub config: Option<String>,
}

/// One connection (pipe).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConnectionView {
    /// The pipe's id (a UUID).
    pub id: String,
    /// `server.terminal`
    pub from: String,
    /// The consuming terminal, `server.terminal`.
    pub to: String,
    /// The producer's terminal kind: `output` or `multiplex`.
    pub from_kind: String,
    /// The consumer's terminal kind: `input` or `combine`.
    pub to_kind: String,
    /// The message type, as the producer's source writes it.
    pub message_type: String,
    /// `planned`, `reserved`, `connected`, `paused`, `draining`, `closed` or
    /// `failed`.
    pub state: String,
    /// Messages the pipe holds at most.
    pub capacity: usize,
    /// Messages producers put in since the pipe was made.
    pub messages_in: u64,
    /// Messages the consumer took out.
    pub messages_out: u64,
    /// Messages waiting in the pipe now.
    pub queue_depth: u64,
    /// `queue_depth / capacity`, 0 to 1.
    pub fill: f64,
    /// Messages per second out of the pipe over about the last second.
    pub rate: f64,
    /// Total time producers spent blocked on the full pipe, in nanoseconds.
    pub blocked_ns: u64,
    /// Time since the consumer last took a message (as the samples of
    /// the rate tell).
    pub since_taken_ns: u64,
    /// Messages are queued but do not move: the pipe is paused, or its
    /// consumer has taken nothing for [`STALL_AFTER`].
    pub stalled: bool,
    /// Messages never delivered (a disconnect in `drop` mode, a consumer that
    /// ended with messages left).
    pub drops: u64,
    /// Made at run time rather than in `wiring.toml`.
    pub live: bool,
    /// Part of a fan-out: its producer is a `Multiplex` with several consumers.
    pub fan_out: bool,
    /// Part of a fan-in: its consumer is a `Combine` with several producers.
    pub fan_in: bool,
    /// Fused by the build step: direct calls in its producer's thread carry
    /// its messages, no ring; it keeps its id and counters.
    pub fused: bool,
    /// `tap = true` in wiring.toml: `GET /api/v1/connections/{id}/tap`
    /// shows its messages.
    pub tappable: bool,
}

/// One external process. Its `env` is left out: it may hold secrets (the
/// probe's passphrase travels there).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProcessView {
    /// The process's name.
    pub name: String,
    /// The program: a path, or a name looked up on `PATH`.
    pub command: String,
    /// Its arguments, in order.
    pub args: Vec<String>,
    /// `never`, `on-failure` or `always`.
    pub restart: String,
    /// `running`, `finished`, `failed`, `restarting` or `stopped`.
    pub state: String,
    /// The operating system's id of the running program.
    pub pid: Option<u32>,
    /// How many times it was started again.
    pub restarts: u32,
    /// How its last run ended (`exited with status 1`, `killed by signal 9`).
    pub last_exit: Option<String>,
}

/// One route to or from another kernel, with its counters.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RouteView {
    /// The route's id.
    pub id: String,
    /// `server.terminal` here (outbound), or `kernel/server.terminal` of
    /// the sending kernel (inbound).
    pub from: String,
    /// The remote guest and terminal (outbound), or `server.terminal` here
    /// (inbound).
    pub to: String,
    /// `outbound` or `inbound`.
    pub direction: String,
    /// `planned`, `connected`, `draining`, `closed` or `failed`.
    pub state: String,
    /// Messages that left the producer's kernel.
    pub sent: u64,
    /// Messages the consuming server took.
    pub received: u64,
    /// Messages sent and neither received nor lost yet.
    pub in_flight: u64,
    /// Messages known to be undelivered when a kernel died or stopped.
    pub lost: u64,
    /// Why the route is in its state, when that needs saying.
    pub reason: Option<String>,
}

impl RouteView {
    /// Every route of the kernel, without a snapshot of the whole topology.
    pub fn all(connectome: &Connectome) -> Vec<RouteView> {
        connectome
            .routes()
            .into_iter()
            .map(RouteView::from)
            .collect()
    }
}

impl From<RouteStatus> for RouteView {
    fn from(route: RouteStatus) -> Self {
        RouteView {
            id: route.id.to_string(),
            from: route.from,
            to: route.to,
            direction: route.direction.as_str().to_owned(),
            state: route.state.as_str().to_owned(),
            sent: route.sent,
            received: route.received,
            in_flight: route.in_flight,
            lost: route.lost,
            reason: route.reason,
        }
    }
}

/// How long queued messages may sit without the consumer taking one, or a
/// producer stay blocked on a full pipe, before the pipe counts as stalled.
pub const STALL_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

/// A snapshot of the whole live topology.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Topology {
    /// The kernel: name, host, uptime.
    pub kernel: KernelView,
    /// Every server instance, in wiring order.
    pub servers: Vec<ServerView>,
    /// Every connection, those made at run time included.
    pub connections: Vec<ConnectionView>,
    /// Every external process.
    pub processes: Vec<ProcessView>,
    /// Every route to or from another kernel.
    pub routes: Vec<RouteView>,
    /// The text of the wiring file the kernel was built from, if known:
    /// what [`Topology::to_wiring_toml`] edits.
    #[serde(skip)]
    pub wiring_source: Option<&'static str>,
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
                    fused: p.fused,
                    tappable: connectome.is_tappable(p.id),
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
            routes: RouteView::all(connectome),
            wiring_source: spec.source,
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

/// The label of a drawn pipe: state, rate and queue.
pub(crate) fn edge_label(c: &ConnectionView) -> String {
    if c.fused {
        return format!("{} (fused)\n{}", c.state, rate_text(c.rate));
    }
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

/// The label of a drawn route: state, counters and why it is in its state.
pub(crate) fn route_label(r: &RouteView) -> String {
    let mut label = format!(
        "route {}\nsent {} · received {} · lost {}",
        r.state, r.sent, r.received, r.lost
    );
    if let Some(reason) = &r.reason {
        label.push('\n');
        label.push_str(reason);
    }
    label
}

/// Colour of a route by state: blue while it carries messages, grey while
/// it waits, red when it failed or lost messages.
pub(crate) fn route_colour(r: &RouteView) -> &'static str {
    match r.state.as_str() {
        "failed" => "#c62828",
        _ if r.lost > 0 => "#c62828",
        "connected" | "draining" => "#1565c0",
        _ => "#9e9e9e",
    }
}

fn nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
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
