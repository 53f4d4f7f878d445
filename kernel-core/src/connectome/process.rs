//! Live state of the external processes a kernel supervises.
//!
//! A process goes through the same life cycle as a server (`booting` while
//! it is being started, `running`, then `finished`, `failed`, `restarting`
//! or `stopped`), checked by the same transition table and logged in the
//! same event log, under the subject `process`.

use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use super::{Connectome, Restart, ServerState, lock};
use crate::control::events::Subject;
use crate::control::state;

/// What the executor runs for one process: from a `[processes.<name>]`
/// entry of `wiring.toml` ([`ProcessSpec`](super::ProcessSpec)) or added
/// in code with [`Kernel::add_process`](crate::Kernel::add_process).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// The process's name, unique across servers and processes.
    pub name: String,
    /// The program: a path, or a name looked up on `PATH`.
    pub command: String,
    /// Its arguments, in order (no shell: no globbing, no quoting).
    pub args: Vec<String>,
    /// Variables added to the kernel's environment.
    pub env: Vec<(String, String)>,
    /// When the executor starts it again after it ended: `Never`, `OnFailure`
    /// (a non-zero status or a signal) or `Always`.
    pub restart: Restart,
}

impl Process {
    /// A process that runs `command` without arguments, never restarted.
    pub fn new(name: impl Into<String>, command: impl Into<String>) -> Self {
        Process {
            name: name.into(),
            command: command.into(),
            args: Vec::new(),
            env: Vec::new(),
            restart: Restart::Never,
        }
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends several arguments, in order.
    pub fn args(mut self, args: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds the variable `name` = `value` to the kernel's environment for this
    /// process (a later one of the same name wins).
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Sets when the process is started again after it ended.
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }
}

impl From<&super::ProcessSpec> for Process {
    fn from(spec: &super::ProcessSpec) -> Self {
        Process {
            name: spec.name.to_owned(),
            command: spec.command.to_owned(),
            args: spec.args.iter().map(|a| (*a).to_owned()).collect(),
            env: spec
                .env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            restart: spec.restart,
        }
    }
}

/// A snapshot of one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessStatus {
    /// The process's name.
    pub name: String,
    /// The program, as given.
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Its restart policy.
    pub restart: Restart,
    /// Where it is in its life: `running`, `finished` (exited with status
    /// 0), `failed`, `restarting` (waiting for its back-off) or `stopped`.
    pub state: ServerState,
    /// The operating system's id of the running program.
    pub pid: Option<u32>,
    /// How many times it was started again.
    pub restarts: u32,
    /// How its last run ended (`exited with status 0`, `killed by signal 9`,
    /// `cannot start: ...`), if it ended.
    pub last_exit: Option<String>,
}

pub(crate) struct ProcessLive {
    pub(crate) process: Process,
    state: AtomicU8,
    /// Serialises transitions so the log has them in order.
    transition: Mutex<()>,
    /// 0 while no program runs.
    pid: AtomicU32,
    restarts: AtomicU32,
    last_exit: Mutex<Option<String>>,
}

impl ProcessLive {
    pub(crate) fn new(process: Process) -> Self {
        ProcessLive {
            process,
            state: AtomicU8::new(ServerState::Booting.to_u8()),
            transition: Mutex::new(()),
            pid: AtomicU32::new(0),
            restarts: AtomicU32::new(0),
            last_exit: Mutex::new(None),
        }
    }

    pub(crate) fn state(&self) -> ServerState {
        ServerState::from_u8(self.state.load(Ordering::Acquire))
    }

    pub(crate) fn set_pid(&self, pid: Option<u32>) {
        self.pid.store(pid.unwrap_or(0), Ordering::Release);
    }

    pub(crate) fn set_last_exit(&self, how: String) {
        *lock(&self.last_exit) = Some(how);
    }

    pub(crate) fn count_restart(&self) -> u32 {
        self.restarts.fetch_add(1, Ordering::AcqRel) + 1
    }

    fn status(&self) -> ProcessStatus {
        let pid = self.pid.load(Ordering::Acquire);
        ProcessStatus {
            name: self.process.name.clone(),
            command: self.process.command.clone(),
            args: self.process.args.clone(),
            restart: self.process.restart,
            state: self.state(),
            pid: (pid != 0).then_some(pid),
            restarts: self.restarts.load(Ordering::Acquire),
            last_exit: lock(&self.last_exit).clone(),
        }
    }
}

impl Connectome {
    /// Every supervised process, in the order they were declared.
    pub fn processes(&self) -> Vec<ProcessStatus> {
        self.processes_live().iter().map(|p| p.status()).collect()
    }

    /// The process named `name`; `None` when there is none.
    pub fn process(&self, name: &str) -> Option<ProcessStatus> {
        self.processes_live()
            .iter()
            .find(|p| p.process.name == name)
            .map(|p| p.status())
    }

    pub(crate) fn processes_live(&self) -> Vec<Arc<ProcessLive>> {
        lock(&self.live.processes).clone()
    }

    pub(crate) fn add_process(&self, process: Process) -> Arc<ProcessLive> {
        let live = Arc::new(ProcessLive::new(process));
        lock(&self.live.processes).push(Arc::clone(&live));
        live
    }

    /// Moves a process to `to`, logging the event; a refusal by the
    /// transition table is a bug worth a loud log line, never a panic.
    pub(crate) fn set_process_state(&self, p: &ProcessLive, to: ServerState, cause: &str) {
        let _serial = lock(&p.transition);
        let from = p.state();
        if from == to {
            return;
        }
        if let Err(e) = state::check(&p.process.name, from, to) {
            tracing::error!(error = %e, cause, "refused process transition");
            return;
        }
        p.state.store(to.to_u8(), Ordering::Release);
        self.live.events.push(
            Subject::Process(p.process.name.clone()),
            from.as_str(),
            to.as_str(),
            cause,
        );
    }

    /// Logs a line the process wrote, as a note in its current state.
    pub(crate) fn process_output(&self, p: &ProcessLive, stream: &str, line: &str) {
        let state = p.state().as_str();
        self.live.events.push(
            Subject::Process(p.process.name.clone()),
            state,
            state,
            format!("{stream}: {line}"),
        );
    }
}
