//! The connectome: the static description of a kernel from the build plus
//! its live state. It is the source of truth for topology.

mod report;
mod spec;

pub use report::Report;
pub use spec::*;

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::pipe::PipeStats;

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

    /// True for `finished`, `failed` and `stopped`.
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            ServerState::Finished | ServerState::Failed | ServerState::Stopped
        )
    }

    fn from_u8(v: u8) -> Self {
        match v {
            0 => ServerState::Booting,
            1 => ServerState::Running,
            2 => ServerState::Finished,
            3 => ServerState::Failed,
            4 => ServerState::Restarting,
            _ => ServerState::Stopped,
        }
    }

    const fn to_u8(self) -> u8 {
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
    pub name: &'static str,
    /// `type` as written in `wiring.toml`.
    pub type_path: &'static str,
    pub uuid: Uuid,
    pub identity: &'static str,
    pub restart: Restart,
    pub state: ServerState,
    /// How many times the instance was restarted.
    pub restarts: u32,
    /// The last error or panic message, if any.
    pub last_error: Option<String>,
}

/// A snapshot of one pipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipeStatus {
    pub id: Uuid,
    pub from: Endpoint,
    pub to: Endpoint,
    pub capacity: usize,
    pub messages_in: u64,
    pub messages_out: u64,
    pub queue_depth: u64,
    /// Total time producers spent blocked on the full pipe.
    pub blocked: Duration,
    /// Always 0: pipes never drop.
    pub drops: u64,
}

/// Handle to a kernel's live connectome; cheap to clone, shared by the
/// kernel, its servers' contexts and observers.
#[derive(Clone)]
pub struct Connectome {
    live: Arc<Live>,
}

struct Live {
    spec: &'static Spec,
    servers: Vec<ServerLive>,
    pipes: Vec<PipeLive>,
    started: OnceLock<Instant>,
    ended: OnceLock<Instant>,
}

struct ServerLive {
    spec: &'static ServerSpec,
    state: AtomicU8,
    restarts: AtomicU32,
    last_error: Mutex<Option<String>>,
    /// Reported as not stopping: later updates from its thread are ignored.
    abandoned: AtomicBool,
}

struct PipeLive {
    spec: &'static PipeSpec,
    stats: Arc<PipeStats>,
}

impl fmt::Debug for Connectome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connectome")
            .field("kernel", &self.live.spec.kernel.name)
            .field("servers", &self.live.servers.len())
            .field("pipes", &self.live.pipes.len())
            .finish()
    }
}

impl Connectome {
    /// `stats[i]` are the counters of `spec.pipes[i]`.
    pub(crate) fn new(spec: &'static Spec, stats: Vec<Arc<PipeStats>>) -> Self {
        let servers = spec
            .servers
            .iter()
            .map(|spec| ServerLive {
                spec,
                state: AtomicU8::new(ServerState::Booting.to_u8()),
                restarts: AtomicU32::new(0),
                last_error: Mutex::new(None),
                abandoned: AtomicBool::new(false),
            })
            .collect();
        let pipes = spec
            .pipes
            .iter()
            .zip(stats)
            .map(|(spec, stats)| PipeLive { spec, stats })
            .collect();
        Connectome {
            live: Arc::new(Live {
                spec,
                servers,
                pipes,
                started: OnceLock::new(),
                ended: OnceLock::new(),
            }),
        }
    }

    /// The static description from the build.
    pub fn spec(&self) -> &'static Spec {
        self.live.spec
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

    /// Every pipe, in wiring order.
    pub fn pipes(&self) -> Vec<PipeStatus> {
        self.live.pipes.iter().map(PipeLive::status).collect()
    }

    /// The pipe with this id.
    pub fn pipe(&self, id: Uuid) -> Option<PipeStatus> {
        self.live
            .pipes
            .iter()
            .find(|p| p.spec.id == id)
            .map(PipeLive::status)
    }

    /// The live counters of the pipe with this id.
    pub fn pipe_stats(&self, id: Uuid) -> Option<Arc<PipeStats>> {
        self.live
            .pipes
            .iter()
            .find(|p| p.spec.id == id)
            .map(|p| Arc::clone(&p.stats))
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

    /// A snapshot of servers and pipes that prints as a table.
    pub fn report(&self) -> Report {
        Report::new(
            self.live.spec.kernel.name,
            self.elapsed(),
            self.servers(),
            self.pipes(),
        )
    }

    pub(crate) fn mark_started(&self) {
        let _ = self.live.started.set(Instant::now());
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

    pub(crate) fn set_state(&self, index: usize, state: ServerState) {
        if let Some(s) = self.live_server(index) {
            s.state.store(state.to_u8(), Ordering::Release);
        }
    }

    pub(crate) fn set_error(&self, index: usize, error: String) {
        if let Some(s) = self.live_server(index) {
            *s.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
        }
    }

    /// Marks the server failed for good with `reason`; whatever its thread
    /// does later is no longer recorded.
    pub(crate) fn abandon(&self, index: usize, reason: String) {
        self.set_error(index, reason);
        self.set_state(index, ServerState::Failed);
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

impl ServerLive {
    fn status(&self) -> ServerStatus {
        ServerStatus {
            name: self.spec.name,
            type_path: self.spec.type_path,
            uuid: self.spec.uuid,
            identity: self.spec.identity,
            restart: self.spec.restart,
            state: ServerState::from_u8(self.state.load(Ordering::Acquire)),
            restarts: self.restarts.load(Ordering::Acquire),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }
}

impl PipeLive {
    fn status(&self) -> PipeStatus {
        let messages_out = self.stats.messages_out();
        let messages_in = self.stats.messages_in();
        PipeStatus {
            id: self.spec.id,
            from: self.spec.from,
            to: self.spec.to,
            capacity: self.spec.capacity,
            messages_in,
            messages_out,
            queue_depth: messages_in.saturating_sub(messages_out),
            blocked: self.stats.blocked(),
            drops: self.stats.drops(),
        }
    }
}
