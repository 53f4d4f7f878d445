//! The connectome: the static description of a kernel from the build plus
//! its live state. It is the source of truth for topology.

pub(crate) mod process;
mod report;

pub use process::{Process, ProcessStatus};
pub use report::Report;
pub use wiring_model::spec::*;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};
use std::time::{Duration, Instant, SystemTime};

use uuid::Uuid;

use crate::control::events::{EventLog, Subject};
use crate::control::rates::{Counter, Rates};
use crate::control::state::{self, ConnectionState};
use crate::manifest::TerminalKind;
use crate::pipe::{ErasedEnd, PipeChanges, PipeStats, TapEncoder, TapError, TapWatch};
use crate::policy::{Extensions, Policy};
pub use crate::terminal::link::WaitKind;
use crate::terminal::link::{Link, Signal};

/// Life-cycle state of a server instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerState {
    /// Being built from its config and attached to its pipes.
    Booting,
    /// `run` is executing.
    Running,
    /// `run` returned `Ok` on its own.
    Finished,
    /// `run` failed or panicked and will not be restarted (or it did not stop).
    Failed,
    /// Waiting for its back-off before the next start.
    Restarting,
    /// Ended after the kernel raised the stop signal.
    Stopped,
}

impl ServerState {
    /// The lowercase name used in reports and APIs.
    pub const fn as_str(self) -> &'static str {
        match self {
            ServerState::Booting => "booting",
            ServerState::Running => "running",
            ServerState::Finished => "finished",
            ServerState::Failed => "failed",
            ServerState::Restarting => "restarting",
            ServerState::Stopped => "stopped",
        }
    }

    /// True for `finished`, `failed` and `stopped`: the server has ended,
    /// and only an operator's restart leaves the state.
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            ServerState::Finished | ServerState::Failed | ServerState::Stopped
        )
    }

    pub(crate) fn from_u8(v: u8) -> Self {
        match v {
            0 => ServerState::Booting,
            1 => ServerState::Running,
            2 => ServerState::Finished,
            3 => ServerState::Failed,
            4 => ServerState::Restarting,
            _ => ServerState::Stopped,
        }
    }

    pub(crate) const fn to_u8(self) -> u8 {
        match self {
            ServerState::Booting => 0,
            ServerState::Running => 1,
            ServerState::Finished => 2,
            ServerState::Failed => 3,
            ServerState::Restarting => 4,
            ServerState::Stopped => 5,
        }
    }
}

impl fmt::Display for ServerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A snapshot of one server instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerStatus {
    /// The instance name (`[servers.<name>]`).
    pub name: &'static str,
    /// `type` as written in `wiring.toml`.
    pub type_path: &'static str,
    /// The instance's uuid (`uuid` in wiring.toml, else derived from the
    /// kernel and instance names).
    pub uuid: Uuid,
    /// Its guest identity `fqdn:server:classHex:owner:authFlag:authMechanism:uuid`.
    pub identity: &'static str,
    /// Its restart policy (`restart` in wiring.toml).
    pub restart: Restart,
    /// Where it is in its life (booting, running, finished, failed, ...).
    pub state: ServerState,
    /// How many times the instance was restarted.
    pub restarts: u32,
    /// The last error or panic message, if any.
    pub last_error: Option<String>,
    /// What the server waits on right now, if it sleeps in one of its
    /// terminals (a full output, empty inputs, a terminal without peer).
    pub waiting: Option<Waiting>,
}

/// What a running server waits on, live: "waiting on pipe X since T".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// The terminal it sleeps in.
    pub terminal: &'static str,
    /// Why: a full output, empty inputs, no peer.
    pub kind: WaitKind,
    /// The pipes it waits on (every pipe of a combiner; none without peer).
    pub pipes: Vec<Uuid>,
    /// When the wait began (the send or receive that found nothing to do).
    pub since: SystemTime,
    /// How long it has waited when the status was taken.
    pub waited: Duration,
}

/// The flow through one pipe, as [`Connectome::flows`] measures it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Flow {
    /// Messages per second out of the pipe over about the last second.
    pub rate: f64,
    /// Time since the consumer last took a message, as far as the samples
    /// tell: since the sample that first saw the present count (since the
    /// pipe was made when it never moved).
    pub since_taken: Duration,
}

/// A snapshot of one pipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipeStatus {
    /// The pipe's id (UUID v5 of the kernel name and both endpoints).
    pub id: Uuid,
    /// The producing terminal.
    pub from: Endpoint,
    /// The consuming terminal.
    pub to: Endpoint,
    /// How many messages the pipe holds at most (`capacity`).
    pub capacity: usize,
    /// Messages producers put in since the pipe was made.
    pub messages_in: u64,
    /// Messages the consumer took out.
    pub messages_out: u64,
    /// Messages waiting in the pipe when the snapshot was taken.
    pub queue_depth: u64,
    /// Total time producers spent blocked on the full pipe, the wait of a
    /// producer blocked right now included.
    pub blocked: Duration,
    /// How long the producer has been blocked on the full pipe, while it is.
    pub blocked_now: Option<Duration>,
    /// Messages never delivered (a disconnect in `drop` mode, a consumer
    /// that ended with messages left); a pipe never drops on its own.
    pub drops: u64,
    /// Where the connection is in its life cycle.
    pub state: ConnectionState,
    /// True when the connection was made at run time (not in `wiring.toml`).
    pub live: bool,
    /// Fused by the build step into the thread of its producer: no ring,
    /// same id and counters.
    pub fused: bool,
    /// Time since the pipe was made.
    pub age: Duration,
}

/// One terminal of a server instance, as its server registered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalStatus {
    /// The server instance.
    pub server: &'static str,
    /// The terminal's wiring name.
    pub name: &'static str,
    /// Its kind: what the server attached, else what its manifest declares.
    pub kind: TerminalKind,
    /// The message type as the manifest writes it (else the Rust type name).
    pub message_type: &'static str,
    /// `#[terminal(doc = ..)]`, empty when absent.
    pub doc: &'static str,
}

/// Handle to a kernel's live connectome; cheap to clone, shared by the
/// kernel, its servers' contexts, the control surface and observers.
#[derive(Clone)]
pub struct Connectome {
    pub(crate) live: Arc<Live>,
}

/// A handle on a connectome that does not keep it alive (for services the
/// connectome itself holds).
#[derive(Clone)]
pub struct WeakConnectome {
    live: std::sync::Weak<Live>,
}

impl WeakConnectome {
    /// The connectome, while its kernel is alive.
    pub fn upgrade(&self) -> Option<Connectome> {
        self.live.upgrade().map(|live| Connectome { live })
    }
}

impl fmt::Debug for WeakConnectome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakConnectome").finish_non_exhaustive()
    }
}

pub(crate) struct Live {
    pub(crate) spec: &'static Spec,
    pub(crate) servers: Vec<ServerLive>,
    pipes: RwLock<Vec<Arc<PipeLive>>>,
    /// Moves whenever a connection's state may have to follow its pipe.
    pub(crate) pipe_changes: Arc<PipeChanges>,
    /// Encoders of the pipes that may be tapped (`tap = true`), by id.
    taps: BTreeMap<Uuid, TapEncoder>,
    /// Specs of pipes made at run time, by id and capacity: each pair of
    /// endpoints gets one per capacity it was ever connected with, for the
    /// life of the process (connecting again reuses it).
    pub(crate) live_specs: Mutex<BTreeMap<(Uuid, usize), &'static PipeSpec>>,
    pub(crate) events: EventLog,
    /// External processes, from the spec and added in code before the run.
    pub(crate) processes: Mutex<Vec<Arc<process::ProcessLive>>>,
    refused: AtomicU64,
    pub(crate) rates: Rates,
    pub(crate) stop: Arc<AtomicBool>,
    /// The policies the kernel calls (admission, start and stop hooks).
    pub(crate) policies: RwLock<Vec<Arc<dyn Policy>>>,
    /// What policy crates keep per kernel.
    extensions: Extensions,
    /// The kernel's pool of frame buffers.
    frames: crate::FramePool,
    /// Where a control surface serves this connectome, while one does.
    served_at: Mutex<Option<std::net::SocketAddr>>,
    started: OnceLock<Instant>,
    ended: OnceLock<Instant>,
}

pub(crate) struct ServerLive {
    pub(crate) spec: &'static ServerSpec,
    state: AtomicU8,
    /// Serialises transitions so the log has them in order.
    transition: Mutex<()>,
    restarts: AtomicU32,
    last_error: Mutex<Option<String>>,
    /// Reported as not stopping: later updates from its thread are ignored.
    abandoned: AtomicBool,
    pub(crate) signal: Arc<Signal>,
    /// Who asked for the pending restart or stop.
    pub(crate) request_cause: Mutex<String>,
    /// Every terminal's link, by terminal name.
    pub(crate) links: BTreeMap<&'static str, Arc<Link>>,
    /// The server whose thread runs this transform, when it is fused.
    pub(crate) host: Option<&'static str>,
}

/// One connection as the control surface holds it.
pub(crate) struct PipeLive {
    pub(crate) spec: &'static PipeSpec,
    pub(crate) stats: Arc<PipeStats>,
    state: Mutex<ConnectionState>,
    pub(crate) from: Arc<Link>,
    pub(crate) to: Arc<Link>,
    pub(crate) live: bool,
    /// Fused by the build step: a chain of direct calls carries its
    /// messages, no ring; it cannot be paused or disconnected.
    pub(crate) fused: bool,
    /// A disconnect in `drop` mode holds the consumer end here until the
    /// producer let go, then discards what is left.
    pub(crate) held: Mutex<Option<Box<dyn ErasedEnd>>>,
    pub(crate) drop_requested: AtomicBool,
    /// The policies were told the pipe no longer holds its terminals
    /// (disconnected, or gone for good): they are told once.
    released: AtomicBool,
    pub(crate) created: Instant,
    /// What earlier pipes of this connection (same id, same endpoints,
    /// disconnected and connected again) counted: a connection's counters
    /// never go back, and nothing they dropped is forgotten. Pipes nothing
    /// refers to any more are summed up; the others are read live, since a
    /// terminal that has not noticed the reconnect yet, or a message the
    /// kernel keeps for one, may still count there (as dropped).
    earlier: PipeTotals,
    previous: Vec<Arc<PipeStats>>,
}

/// Counters of the finished pipes of one connection.
#[derive(Debug, Clone, Copy, Default)]
struct PipeTotals {
    messages_in: u64,
    messages_out: u64,
    drops: u64,
    blocked: Duration,
}

impl PipeTotals {
    fn add(&mut self, stats: &PipeStats) {
        self.messages_in += stats.messages_in();
        self.messages_out += stats.messages_out();
        self.drops += stats.drops();
        self.blocked += stats.blocked();
    }
}

impl PipeLive {
    pub(crate) fn new(
        spec: &'static PipeSpec,
        stats: Arc<PipeStats>,
        from: Arc<Link>,
        to: Arc<Link>,
        live: bool,
    ) -> Self {
        PipeLive {
            spec,
            stats,
            state: Mutex::new(ConnectionState::Planned),
            from,
            to,
            live,
            fused: false,
            held: Mutex::new(None),
            drop_requested: AtomicBool::new(false),
            released: AtomicBool::new(false),
            created: Instant::now(),
            earlier: PipeTotals::default(),
            previous: Vec::new(),
        }
    }

    pub(crate) fn state(&self) -> ConnectionState {
        *self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn label(&self) -> String {
        format!("{} -> {}", self.spec.from, self.spec.to)
    }

    /// The counters of the earlier pipes of this connection.
    fn earlier(&self) -> PipeTotals {
        let mut totals = self.earlier;
        for previous in &self.previous {
            totals.add(previous);
        }
        totals
    }

    /// Takes over the counters of `old`, the pipe this one replaces.
    fn succeed(&mut self, old: &PipeLive) {
        self.earlier = old.earlier;
        self.previous = old.previous.clone();
        self.previous.push(Arc::clone(&old.stats));
        // A pipe only these lists refer to (the old pipe's, about to go, and
        // this one's) has no end or kept message left to count with: sum it up.
        let (settled, live): (Vec<_>, Vec<_>) = std::mem::take(&mut self.previous)
            .into_iter()
            .partition(|stats| Arc::strong_count(stats) <= 2);
        for stats in &settled {
            self.earlier.add(stats);
        }
        self.previous = live;
    }

    fn status(&self) -> PipeStatus {
        let earlier = self.earlier();
        // Out and drops before in: a message counted out is already in.
        let messages_out = self.stats.messages_out();
        let drops = self.stats.drops();
        let messages_in = self.stats.messages_in();
        PipeStatus {
            id: self.spec.id,
            from: self.spec.from,
            to: self.spec.to,
            capacity: self.spec.capacity,
            messages_in: earlier.messages_in + messages_in,
            messages_out: earlier.messages_out + messages_out,
            queue_depth: messages_in.saturating_sub(messages_out + drops),
            blocked: earlier.blocked + self.stats.blocked(),
            blocked_now: self.stats.blocked_now(),
            drops: earlier.drops + drops,
            state: self.state(),
            live: self.live,
            fused: self.fused,
            age: self.created.elapsed(),
        }
    }
}

impl fmt::Debug for Connectome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connectome")
            .field("kernel", &self.live.spec.kernel.name)
            .field("servers", &self.live.servers.len())
            .field("pipes", &self.pipes_live().len())
            .finish()
    }
}

/// What the builder hands the connectome for one server instance.
pub(crate) struct ServerParts {
    pub(crate) signal: Arc<Signal>,
    pub(crate) links: BTreeMap<&'static str, Arc<Link>>,
    /// The server whose thread runs this transform, when it is fused.
    pub(crate) host: Option<&'static str>,
}

impl Connectome {
    /// `servers[i]` belongs to `spec.servers[i]`; every pipe starts `planned`
    /// and is booked (`reserved`) at once: its ends are in the links.
    pub(crate) fn new(
        spec: &'static Spec,
        servers: Vec<ServerParts>,
        pipes: Vec<PipeLive>,
        taps: BTreeMap<Uuid, TapEncoder>,
        stop: Arc<AtomicBool>,
    ) -> Self {
        let servers = spec
            .servers
            .iter()
            .zip(servers)
            .map(|(spec, parts)| ServerLive {
                spec,
                state: AtomicU8::new(ServerState::Booting.to_u8()),
                transition: Mutex::new(()),
                restarts: AtomicU32::new(0),
                last_error: Mutex::new(None),
                abandoned: AtomicBool::new(false),
                signal: parts.signal,
                request_cause: Mutex::new(String::new()),
                links: parts.links,
                host: parts.host,
            })
            .collect();
        let pipe_changes = Arc::new(PipeChanges::default());
        for pipe in &pipes {
            pipe.stats.watch(&pipe_changes);
        }
        let connectome = Connectome {
            live: Arc::new(Live {
                spec,
                servers,
                pipes: RwLock::new(pipes.into_iter().map(Arc::new).collect()),
                pipe_changes,
                taps,
                live_specs: Mutex::new(BTreeMap::new()),
                events: EventLog::default(),
                processes: Mutex::new(Vec::new()),
                refused: AtomicU64::new(0),
                rates: Rates::default(),
                stop,
                policies: RwLock::new(Vec::new()),
                extensions: Extensions::default(),
                frames: crate::FramePool::new(),
                served_at: Mutex::new(None),
                started: OnceLock::new(),
                ended: OnceLock::new(),
            }),
        };
        for pipe in connectome.pipes_live() {
            let _ = connectome.transition_pipe(&pipe, ConnectionState::Reserved, "wiring.toml");
        }
        for process in spec.processes {
            connectome.add_process(process.into());
        }
        connectome
    }

    /// A handle that does not keep this connectome alive.
    pub fn downgrade(&self) -> WeakConnectome {
        WeakConnectome {
            live: Arc::downgrade(&self.live),
        }
    }

    /// The static description from the build.
    pub fn spec(&self) -> &'static Spec {
        self.live.spec
    }

    /// The address the control surface of this kernel listens on, while
    /// one serves.
    pub fn control_addr(&self) -> Option<std::net::SocketAddr> {
        *self
            .live
            .served_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Publishes where a control surface serves this connectome (`None`
    /// when it stopped), so adverts and reports can say it. The surface
    /// calls this; a second one sees the address taken.
    pub fn set_control_addr(&self, addr: Option<std::net::SocketAddr>) {
        *self
            .live
            .served_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = addr;
    }

    /// The kernel's pool of frame buffers, shared by its servers.
    pub fn frames(&self) -> &crate::FramePool {
        &self.live.frames
    }

    /// What policy crates keep for this kernel (its Hostess, its mesh
    /// node, ...), one value per type.
    pub fn extensions(&self) -> &Extensions {
        &self.live.extensions
    }

    /// Adds a policy the kernel calls from now on (see [`Policy`]).
    pub fn add_policy(&self, policy: Arc<dyn Policy>) {
        self.live
            .policies
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(policy);
    }

    /// The policies, in the order they were added.
    pub(crate) fn policies(&self) -> Vec<Arc<dyn Policy>> {
        self.live
            .policies
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Every server instance, in wiring order.
    pub fn servers(&self) -> Vec<ServerStatus> {
        self.live.servers.iter().map(ServerLive::status).collect()
    }

    /// The server instance called `name`.
    pub fn server(&self, name: &str) -> Option<ServerStatus> {
        self.live
            .servers
            .iter()
            .find(|s| s.spec.name == name)
            .map(ServerLive::status)
    }

    /// Every pipe: those of the wiring in wiring order, then those made at
    /// run time.
    pub fn pipes(&self) -> Vec<PipeStatus> {
        self.pipes_live().iter().map(|p| p.status()).collect()
    }

    /// The pipe with this id.
    pub fn pipe(&self, id: Uuid) -> Option<PipeStatus> {
        self.pipe_live(id).map(|p| p.status())
    }

    /// Every terminal of every server instance, in wiring order.
    pub fn terminals(&self) -> Vec<TerminalStatus> {
        let mut all = Vec::new();
        for s in &self.live.servers {
            for (name, link) in &s.links {
                let manifest = s.spec.manifest.terminal(name);
                let ty = link.ty();
                all.push(TerminalStatus {
                    server: s.spec.name,
                    name,
                    kind: ty
                        .map(|t| t.kind)
                        .or(manifest.map(|m| m.kind))
                        .unwrap_or(TerminalKind::Input),
                    message_type: manifest
                        .map(|m| m.message_type)
                        .or(ty.map(|t| t.type_name))
                        .unwrap_or_default(),
                    doc: manifest.map(|m| m.doc).unwrap_or_default(),
                });
            }
        }
        all
    }

    /// Messages per second out of each pipe over about the last second;
    /// a pipe with no older sample yet gets its average since it was made.
    /// Every view of the flow (API, graph, table, metrics) reads this one
    /// computation (see [`Connectome::flows`]).
    pub fn rates(&self) -> BTreeMap<Uuid, f64> {
        self.flows()
            .into_iter()
            .map(|(id, flow)| (id, flow.rate))
            .collect()
    }

    /// Per pipe, its rate (as [`Connectome::rates`]) and the time since its
    /// consumer last took a message, from counter samples taken by whoever
    /// asks (a control surface polling once a second sees a stall grow).
    pub fn flows(&self) -> BTreeMap<Uuid, Flow> {
        let pipes = self.pipes_live();
        let measured = self.live.rates.flows(
            pipes
                .iter()
                .map(|p| Counter {
                    id: p.spec.id,
                    messages_out: p.stats.messages_out(),
                    created: p.created,
                })
                .collect(),
        );
        pipes
            .iter()
            .map(|p| {
                let (rate, since_taken) = measured
                    .get(&p.spec.id)
                    .copied()
                    .unwrap_or((None, Duration::ZERO));
                let rate = rate.unwrap_or_else(|| {
                    let secs = p.created.elapsed().as_secs_f64();
                    if secs > 0.0 && p.state().holds_terminals() {
                        p.stats.messages_out() as f64 / secs
                    } else {
                        0.0
                    }
                });
                (p.spec.id, Flow { rate, since_taken })
            })
            .collect()
    }

    /// The live counters of the pipe with this id.
    pub fn pipe_stats(&self, id: Uuid) -> Option<Arc<PipeStats>> {
        self.pipe_live(id).map(|p| Arc::clone(&p.stats))
    }

    /// True when the connection with this id may be tapped.
    pub fn is_tappable(&self, id: Uuid) -> bool {
        self.live.taps.contains_key(&id)
    }

    /// Watches the messages through the connection with this id (see
    /// [`TapWatch`]); the connection must be tappable.
    pub fn tap(&self, id: Uuid) -> Result<TapWatch, TapError> {
        let pipe = self
            .pipe_live(id)
            .ok_or(TapError::UnknownConnection { id })?;
        let encoder = self
            .live
            .taps
            .get(&id)
            .ok_or_else(|| TapError::NotTappable {
                connection: pipe.label(),
            })?;
        Ok(TapWatch::new(Arc::clone(&pipe.stats), *encoder))
    }

    /// The log of every state transition.
    pub fn events(&self) -> &EventLog {
        &self.live.events
    }

    /// Transitions refused by the state tables so far.
    pub fn refused_transitions(&self) -> u64 {
        self.live.refused.load(Ordering::Relaxed)
    }

    /// True once the kernel's stop signal is raised.
    pub fn stopping(&self) -> bool {
        self.live.stop.load(Ordering::Relaxed)
    }

    /// Time since the kernel started running, up to when it ended; zero
    /// before `run`.
    pub fn elapsed(&self) -> Duration {
        match (self.live.started.get(), self.live.ended.get()) {
            (Some(start), Some(end)) => end.saturating_duration_since(*start),
            (Some(start), None) => start.elapsed(),
            _ => Duration::ZERO,
        }
    }

    /// True between the start of `run` and its end.
    pub fn is_running(&self) -> bool {
        self.live.started.get().is_some() && self.live.ended.get().is_none()
    }

    /// A snapshot of servers and pipes that prints as a table.
    pub fn report(&self) -> Report {
        Report::new(
            self.live.spec.kernel.name,
            self.elapsed(),
            self.servers(),
            self.pipes(),
            self.processes(),
        )
    }

    pub(crate) fn pipes_live(&self) -> Vec<Arc<PipeLive>> {
        self.live
            .pipes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn pipe_live(&self, id: Uuid) -> Option<Arc<PipeLive>> {
        self.live
            .pipes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|p| p.spec.id == id)
            .cloned()
    }

    /// Adds a pipe made at run time, replacing a final one with the same id.
    /// The new pipe carries the counters of the one it replaces.
    pub(crate) fn add_pipe(&self, mut pipe: PipeLive) -> Arc<PipeLive> {
        let mut pipes = self.live.pipes.write().unwrap_or_else(|e| e.into_inner());
        let replaced = pipes.iter().position(|p| p.spec.id == pipe.spec.id);
        if let Some(i) = replaced {
            pipe.succeed(&pipes[i]);
        }
        let pipe = Arc::new(pipe);
        pipe.stats.watch(&self.live.pipe_changes);
        match replaced {
            Some(i) => pipes[i] = Arc::clone(&pipe),
            None => pipes.push(Arc::clone(&pipe)),
        }
        pipe
    }

    /// Tells every policy that `pipe` no longer holds its terminals (what
    /// they booked for it is given back), once per pipe.
    pub(crate) fn release_pipe(&self, pipe: &PipeLive) {
        if pipe.released.swap(true, Ordering::AcqRel) {
            return;
        }
        for policy in self.policies() {
            policy.release(self, pipe.spec);
        }
    }

    /// Moves `pipe` to `to` if the table allows it, logging the event. A
    /// pipe going for good (closed, failed) gives its terminals back just
    /// before: until it is final, a connection made again between the same
    /// terminals (same id) is refused as a duplicate, so what the policies
    /// book for the new pipe is never given back for the old one.
    pub(crate) fn transition_pipe(
        &self,
        pipe: &PipeLive,
        to: ConnectionState,
        cause: &str,
    ) -> Result<(), state::TransitionError> {
        let check = |from| {
            state::check(&pipe.spec.id.to_string(), from, to).inspect_err(|_| {
                self.live.refused.fetch_add(1, Ordering::Relaxed);
            })
        };
        if to.is_final() {
            // Not under the state's lock: a policy may look at the pipes.
            check(pipe.state())?;
            self.release_pipe(pipe);
        }
        let mut state = pipe.state.lock().unwrap_or_else(|e| e.into_inner());
        let from = *state;
        check(from)?;
        *state = to;
        self.live.pipe_changes.note();
        self.live.events.push(
            Subject::Connection {
                id: pipe.spec.id,
                label: pipe.label(),
            },
            from.as_str(),
            to.as_str(),
            cause,
        );
        Ok(())
    }

    pub(crate) fn mark_started(&self) {
        let _ = self.live.started.set(Instant::now());
        for pipe in self.pipes_live() {
            if pipe.state() == ConnectionState::Reserved {
                let _ = self.transition_pipe(&pipe, ConnectionState::Connected, "kernel started");
            }
        }
    }

    pub(crate) fn mark_ended(&self) {
        let _ = self.live.ended.set(Instant::now());
    }

    pub(crate) fn state(&self, index: usize) -> ServerState {
        self.live
            .servers
            .get(index)
            .map(|s| ServerState::from_u8(s.state.load(Ordering::Acquire)))
            .unwrap_or(ServerState::Stopped)
    }

    fn live_server(&self, index: usize) -> Option<&ServerLive> {
        self.live
            .servers
            .get(index)
            .filter(|s| !s.abandoned.load(Ordering::Acquire))
    }

    pub(crate) fn server_live(&self, name: &str) -> Option<(usize, &ServerLive)> {
        self.live
            .servers
            .iter()
            .enumerate()
            .find(|(_, s)| s.spec.name == name)
    }

    /// Moves server `index` to `to` if the table allows it, logging the
    /// event; staying in the same state is not a transition and does nothing.
    pub(crate) fn transition(
        &self,
        index: usize,
        to: ServerState,
        cause: &str,
    ) -> Result<(), state::TransitionError> {
        let Some(s) = self.live_server(index) else {
            return Ok(());
        };
        let _serial = s.transition.lock().unwrap_or_else(|e| e.into_inner());
        let from = ServerState::from_u8(s.state.load(Ordering::Acquire));
        if from == to {
            return Ok(());
        }
        if let Err(e) = state::check(s.spec.name, from, to) {
            self.live.refused.fetch_add(1, Ordering::Relaxed);
            return Err(e);
        }
        s.state.store(to.to_u8(), Ordering::Release);
        self.live.events.push(
            Subject::Server(s.spec.name),
            from.as_str(),
            to.as_str(),
            cause,
        );
        Ok(())
    }

    /// [`transition`](Self::transition) for the executor: a refusal is a
    /// bug worth a loud log line, never a panic.
    pub(crate) fn set_state(&self, index: usize, to: ServerState, cause: &str) {
        if let Err(e) = self.transition(index, to, cause) {
            tracing::error!(error = %e, cause, "refused server transition");
        }
    }

    pub(crate) fn set_error(&self, index: usize, error: String) {
        if let Some(s) = self.live_server(index) {
            *lock(&s.last_error) = Some(error);
        }
    }

    /// Marks the server failed for good with `reason`; whatever its thread
    /// does later is no longer recorded.
    pub(crate) fn abandon(&self, index: usize, reason: String) {
        self.set_error(index, reason.clone());
        self.set_state(index, ServerState::Failed, &reason);
        if let Some(s) = self.live.servers.get(index) {
            s.abandoned.store(true, Ordering::Release);
        }
    }

    pub(crate) fn count_restart(&self, index: usize) -> u32 {
        self.live
            .servers
            .get(index)
            .map(|s| s.restarts.fetch_add(1, Ordering::AcqRel) + 1)
            .unwrap_or(0)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl ServerLive {
    pub(crate) fn state(&self) -> ServerState {
        ServerState::from_u8(self.state.load(Ordering::Acquire))
    }

    pub(crate) fn status(&self) -> ServerStatus {
        ServerStatus {
            name: self.spec.name,
            type_path: self.spec.type_path,
            uuid: self.spec.uuid,
            identity: self.spec.identity,
            restart: self.spec.restart,
            state: self.state(),
            restarts: self.restarts.load(Ordering::Acquire),
            last_error: lock(&self.last_error).clone(),
            waiting: self.links.iter().find_map(|(terminal, link)| {
                link.wait().map(|w| Waiting {
                    terminal,
                    kind: w.kind,
                    pipes: w.pipes,
                    since: w.since_wall,
                    waited: w.since.elapsed(),
                })
            }),
        }
    }
}
