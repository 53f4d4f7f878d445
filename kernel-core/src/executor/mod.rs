//! The executor: boots servers in dependency order, runs each on its own
//! thread under `catch_unwind`, restarts them by policy and stops them on
//! ctrl-c.

mod builder;
mod order;
mod process;
mod supervisor;
mod threads;

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub use builder::KernelBuilder;
pub(crate) use builder::{parse_config, parse_config_of};
pub(crate) use supervisor::{
    INITIAL_BACKOFF, MAX_BACKOFF, RestartLimit, RestartWindow, panic_message,
};

use builder::Runnable;
use order::boot_order;
use process::ProcessSupervisor;
use supervisor::Supervisor;

use crate::Error;
use crate::connectome::{Connectome, Process, ServerSpec, ServerState};
use crate::control::PipeWatch;
use crate::error::ServerFailure;
use crate::fuse::Fusion;
use crate::server::Context;
use crate::terminal::Ports;
use crate::terminal::link::Request;

/// Builds a server from its config and attaches it to a fresh set of pipe ends.
pub(crate) type Factory =
    Box<dyn Fn(&mut Ports) -> Result<Box<dyn Runnable>, Error> + Send + Sync + 'static>;

/// One server instance as the kernel holds it.
pub(crate) struct Instance {
    pub(crate) index: usize,
    pub(crate) spec: &'static ServerSpec,
    pub(crate) factory: Factory,
    /// The kernel's own copy of the instance's pipe ends: every (re)start
    /// gets clones, so a restarted server keeps its pipes. Dropped when the
    /// instance is finished for good, which ends the streams it feeds.
    pub(crate) ports: Ports,
}

/// A supervisor thread that ended: a server's (with its instance when it
/// ended normally) or a process's index.
pub(crate) enum Done {
    Server(usize, Option<Instance>),
    Process(usize),
}

/// After the grace period, how long killed processes get to be reaped.
const REAP: Duration = Duration::from_secs(1);

/// How often the kernel looks at the stop flag, restart requests and pipe
/// changes while something moves.
const POLL: Duration = Duration::from_millis(20);

/// How often at the least while nothing moves: the poll doubles from
/// [`POLL`] up to this, so an idle kernel wakes a few times a second (and
/// answers ctrl-c within this time).
const IDLE_POLL: Duration = Duration::from_millis(250);

/// Raises a kernel's stop signal from anywhere (another thread, a test).
#[derive(Debug, Clone)]
pub struct StopHandle {
    flag: Arc<AtomicBool>,
}

impl StopHandle {
    /// Raises the stop signal: sources see `ctx.stopping()`, end of stream
    /// propagates, the kernel waits at most its grace period.
    pub fn stop(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    /// True once the stop signal is raised (by this handle or ctrl-c).
    pub fn is_stopping(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

/// A wired kernel, ready to [`run`](Self::run).
///
/// Usually `wiring::kernel()` (generated from `wiring.toml`) builds it. Here
/// by hand: a source fans out (`Multiplex`) to a sink (`Combine`) directly
/// and through a `Transform`, so the sink receives every value and every
/// doubled value; `run` returns once every server finished.
///
/// ```
/// # extern crate kernel_core as kernel;
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// use kernel::__private::{ends, pipe_spec, server_spec};
/// use kernel::prelude::*;
/// use kernel::{KernelBuilder, KernelSpec, Restart, Spec};
///
/// #[derive(Manifest, Default)]
/// #[manifest(class = 1, owner = "docs")]
/// pub struct Source {
///     pub out: Multiplex<u64>,
/// }
///
/// impl Server for Source {
///     type Config = ();
///     fn new((): ()) -> Self {
///         Source::default()
///     }
///     fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
///         for i in 1..=10 {
///             self.out.send(i)?; // a copy to each consumer
///         }
///         Ok(()) // returning closes `out`: end of stream downstream
///     }
/// }
///
/// #[derive(Manifest, Default)]
/// #[manifest(class = 2, owner = "docs")]
/// pub struct Double {
///     pub input: Input<u64>,
///     pub output: Output<u64>,
/// }
///
/// impl Transform for Double {
///     type Config = ();
///     type In = u64;
///     type Out = u64;
///     fn new((): ()) -> Self {
///         Double::default()
///     }
///     fn process(&mut self, x: u64) -> Result<Option<u64>, ServerError> {
///         Ok(Some(2 * x))
///     }
/// }
///
/// static TOTAL: AtomicU64 = AtomicU64::new(0);
///
/// #[derive(Manifest, Default)]
/// #[manifest(class = 3, owner = "docs")]
/// pub struct Sink {
///     pub values: Combine<u64>,
/// }
///
/// impl Server for Sink {
///     type Config = ();
///     fn new((): ()) -> Self {
///         Sink::default()
///     }
///     fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
///         // Ends when both producers have finished and their pipes are empty.
///         TOTAL.store(self.values.iter().sum(), Ordering::Relaxed);
///         Ok(())
///     }
/// }
///
/// // The static part, as `wiring-build` generates it from wiring.toml.
/// static SPEC: Spec = Spec {
///     kernel: KernelSpec { name: "fan", fqdn: "localhost", owner: "docs" },
///     servers: &[
///         server_spec("source", "Source", &<Source as Manifest>::MANIFEST,
///             0x7c1e0a52_3f0b_4d5e_9a51_0d6b2f3e4a01,
///             "localhost:source:0x00000001:docs:no:none:7c1e0a52-3f0b-4d5e-9a51-0d6b2f3e4a01",
///             Restart::Never, None),
///         server_spec("double", "Double", &<Double as Manifest>::MANIFEST,
///             0x7c1e0a52_3f0b_4d5e_9a51_0d6b2f3e4a02,
///             "localhost:double:0x00000002:docs:no:none:7c1e0a52-3f0b-4d5e-9a51-0d6b2f3e4a02",
///             Restart::Never, None),
///         server_spec("sink", "Sink", &<Sink as Manifest>::MANIFEST,
///             0x7c1e0a52_3f0b_4d5e_9a51_0d6b2f3e4a03,
///             "localhost:sink:0x00000003:docs:no:none:7c1e0a52-3f0b-4d5e-9a51-0d6b2f3e4a03",
///             Restart::Never, None),
///     ],
///     pipes: &[
///         pipe_spec(0x7c1e0a52_3f0b_4d5e_9a51_0d6b2f3e4b01, "source", "out", "double", "input", 4),
///         pipe_spec(0x7c1e0a52_3f0b_4d5e_9a51_0d6b2f3e4b02, "source", "out", "sink", "values", 4),
///         pipe_spec(0x7c1e0a52_3f0b_4d5e_9a51_0d6b2f3e4b03, "double", "output", "sink", "values", 4),
///     ],
///     control: None,
///     processes: &[],
///     mesh: None,
///     routes: &[],
///     source: None,
/// };
///
/// // The typed part: one call per server and per pipe (by its index).
/// let mut builder = KernelBuilder::new(&SPEC);
/// builder.server_default::<Source>("source")?;
/// builder.server_default::<Double>("double")?; // an unfused transform runs as a server
/// builder.server_default::<Sink>("sink")?;
/// builder.connect(0, ends(Source::__wiring_port_out(), Double::__wiring_port_input()))?;
/// builder.connect(1, ends(Source::__wiring_port_out(), Sink::__wiring_port_values()))?;
/// builder.connect(2, ends(Double::__wiring_port_output(), Sink::__wiring_port_values()))?;
///
/// let kernel = builder.build()?.with_signal_handlers(false);
/// let connectome = kernel.connectome();
/// kernel.run()?;
///
/// assert_eq!(TOTAL.load(Ordering::Relaxed), 55 + 110);
/// assert!(connectome.servers().iter().all(|s| s.state.as_str() == "finished"));
/// # Ok::<(), kernel::Error>(())
/// ```
pub struct Kernel {
    pub(crate) connectome: Connectome,
    instances: Vec<Instance>,
    /// Chains of transforms fused into the threads of their hosts.
    fusions: Vec<Fusion>,
    stop: Arc<AtomicBool>,
    limit: RestartLimit,
    grace: Duration,
    signals: bool,
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernel")
            .field("connectome", &self.connectome)
            .field("max_restarts", &self.limit.max)
            .field("within", &self.limit.within)
            .field("grace", &self.grace)
            .field("signals", &self.signals)
            .finish()
    }
}

impl Kernel {
    pub(crate) fn new(
        connectome: Connectome,
        instances: Vec<Instance>,
        fusions: Vec<Fusion>,
        stop: Arc<AtomicBool>,
    ) -> Self {
        Kernel {
            connectome,
            instances,
            fusions,
            stop,
            limit: RestartLimit::default(),
            grace: Duration::from_secs(5),
            signals: true,
        }
    }

    /// A handle to the live connectome; keep it to read the state and
    /// counters during and after [`run`](Self::run).
    pub fn connectome(&self) -> Connectome {
        self.connectome.clone()
    }

    /// The control surface of this kernel: query and modify its live
    /// topology (also while it runs, from any thread).
    pub fn control(&self) -> crate::control::Control {
        self.connectome.control()
    }

    /// A handle that raises the stop signal, as ctrl-c does.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle {
            flag: Arc::clone(&self.stop),
        }
    }

    /// A server restarted more than `max` times within `within` is given up
    /// and marked failed. Default: 3 restarts in 5 s.
    pub fn with_restart_limit(mut self, max: u32, within: Duration) -> Self {
        self.limit = RestartLimit { max, within };
        self
    }

    /// How long servers get to end after the stop signal before they are
    /// reported as not stopping. Default: 5 s.
    pub fn with_grace_period(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Adds an external process to start at boot, next to those of
    /// `[processes]` in `wiring.toml`: the executor logs its output, restarts
    /// it by its policy and terminates it when the kernel stops (killing it
    /// after the grace period).
    pub fn add_process(&mut self, process: Process) -> Result<(), Error> {
        let name = process.name.as_str();
        let taken = self.connectome.spec().server(name).is_some()
            || self.connectome.process(name).is_some();
        if taken {
            return Err(Error::DuplicateName {
                name: name.to_owned(),
            });
        }
        self.connectome.add_process(process);
        Ok(())
    }

    /// Whether `run` handles SIGINT and SIGTERM (ctrl-c) by raising the stop
    /// signal; a second one exits the process at once. Default: true.
    pub fn with_signal_handlers(mut self, on: bool) -> Self {
        self.signals = on;
        self
    }

    /// Boots every server (consumers before producers), runs each on its own
    /// thread until every server finished or the stop signal was raised and
    /// the streams drained.
    ///
    /// `Ok` when every server finished or stopped cleanly; otherwise an
    /// error naming each failed server and why.
    pub fn run(self) -> Result<(), Error> {
        let Kernel {
            connectome,
            instances,
            mut fusions,
            stop,
            limit,
            grace,
            signals,
        } = self;
        let kernel = connectome.spec().kernel.name;
        // A thread per threaded server and per external process.
        threads::check_room(kernel, instances.len() + connectome.processes_live().len())?;
        let control = connectome.control().with_cause("kernel");
        let policies = connectome.policies();
        for (i, policy) in policies.iter().enumerate() {
            if let Err(source) = policy.on_start(&connectome) {
                for started in policies[..i].iter().rev() {
                    started.on_stop(&connectome);
                }
                return Err(Error::Policy {
                    policy: policy.name(),
                    source,
                });
            }
        }
        let _stop_policies = StopPolicies {
            connectome: &connectome,
            policies: &policies,
        };
        let _signals = if signals {
            Some(SignalGuard::install(&stop)?)
        } else {
            None
        };

        // Boot everything before starting anything.
        let mut booted = Vec::with_capacity(instances.len());
        let mut failures = Vec::new();
        let mut slots: Vec<Option<Instance>> =
            connectome.spec().servers.iter().map(|_| None).collect();
        for instance in instances {
            let index = instance.index;
            if let Some(slot) = slots.get_mut(index) {
                *slot = Some(instance);
            }
        }
        let mut instances = slots;
        // Fused chains first: their hosts take them when they attach.
        for fusion in &mut fusions {
            if let Err(failure) = fusion.boot(&connectome, limit) {
                failures.push(failure);
            }
        }
        let present: Vec<bool> = instances.iter().map(Option::is_some).collect();
        for i in boot_order(connectome.spec(), &present) {
            let Some(instance) = instances[i].take() else {
                continue;
            };
            tracing::debug!(server = instance.spec.name, "booting");
            let mut ports = instance.ports.clone_ends();
            match catch_unwind(AssertUnwindSafe(|| (instance.factory)(&mut ports))) {
                Ok(Ok(server)) => {
                    warn_leftovers(instance.spec, &ports);
                    booted.push((instance, server));
                }
                Ok(Err(e)) => failures.push((instance.index, e.to_string())),
                Err(payload) => failures.push((
                    instance.index,
                    format!("panicked while booting: {}", panic_message(&*payload)),
                )),
            }
        }
        if !failures.is_empty() {
            let spec = connectome.spec();
            for fusion in &fusions {
                fusion.end(ServerState::Stopped, "another server failed to boot");
            }
            for (instance, _) in &booted {
                connectome.set_state(
                    instance.index,
                    ServerState::Stopped,
                    "another server failed to boot",
                );
                instance.ports.release();
            }
            let failures = failures
                .into_iter()
                .map(|(index, reason)| {
                    connectome.set_state(index, ServerState::Failed, &reason);
                    connectome.set_error(index, reason.clone());
                    ServerFailure {
                        server: spec.servers[index].name.to_owned(),
                        reason,
                    }
                })
                .collect::<Vec<_>>();
            for f in &failures {
                tracing::error!(server = %f.server, reason = %f.reason, "boot failed");
            }
            return Err(Error::Boot {
                kernel: kernel.to_owned(),
                failures,
            });
        }

        // One thread per server.
        connectome.mark_started();
        control.reconcile();
        tracing::info!(kernel, servers = booted.len(), "kernel running");
        let (done_tx, done_rx) = crossbeam_channel::unbounded::<Done>();
        let mut running = BTreeSet::new();
        for (instance, server) in booted {
            connectome.set_state(instance.index, ServerState::Running, "kernel started");
            spawn_supervisor(&connectome, instance, server, limit, &done_tx, &mut running);
        }
        let mut processes = BTreeSet::new();
        for (index, live) in connectome.processes_live().into_iter().enumerate() {
            let name = live.process.name.clone();
            let supervisor = ProcessSupervisor {
                index,
                live,
                connectome: connectome.clone(),
                stop: Arc::clone(&stop),
                window: RestartWindow::new(limit),
                grace,
                done: done_tx.clone(),
            };
            match std::thread::Builder::new()
                .name(format!("process-{name}"))
                .spawn(move || supervisor.run())
            {
                Ok(_) => {
                    processes.insert(index);
                }
                Err(e) => tracing::error!(process = %name, error = %e, "cannot supervise"),
            }
        }

        // Wait for every server and process (and, while a policy such as
        // the control surface keeps the kernel up, for the stop signal); on stop, give them the grace
        // period (processes are killed then and get a moment to be reaped).
        let mut stopping_since: Option<Instant> = None;
        let mut watch = PipeWatch::default();
        // Servers that ended, kept so that an operator can restart them.
        let mut ended: BTreeMap<usize, Instance> = BTreeMap::new();
        let mut kept_up = false;
        let mut poll = POLL;
        loop {
            if running.is_empty() && processes.is_empty() {
                let keeper = policies
                    .iter()
                    .find(|p| stopping_since.is_none() && p.keeps_kernel_up(&connectome));
                match keeper {
                    Some(policy) if !kept_up => {
                        kept_up = true;
                        tracing::info!(
                            kernel,
                            policy = policy.name(),
                            "every server has ended; the kernel stays up for its operator until ctrl-c"
                        );
                    }
                    Some(_) => {}
                    None => break,
                }
            }
            let mut moved = true;
            match done_rx.recv_timeout(poll) {
                Ok(Done::Server(index, instance)) => {
                    running.remove(&index);
                    if let Some(instance) = instance {
                        instance.ports.signal().clear();
                        ended.insert(index, instance);
                    }
                }
                Ok(Done::Process(index)) => {
                    processes.remove(&index);
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => moved = false,
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
            }
            if stopping_since.is_none() {
                moved |= restart_ended(&connectome, &mut ended, &mut running, limit, &done_tx);
            }
            moved |= control.reconcile_changes(&mut watch);
            poll = if moved || stopping_since.is_some() {
                POLL
            } else {
                (poll * 2).min(IDLE_POLL)
            };
            if stopping_since.is_none() && stop.load(Ordering::SeqCst) {
                tracing::info!(kernel, "stop signal raised; draining");
                stopping_since = Some(Instant::now());
                control.on_kernel_stop();
            }
            if let Some(since) = stopping_since
                && since.elapsed() >= grace + REAP
            {
                break;
            }
            if let Some(since) = stopping_since
                && since.elapsed() >= grace
                && !running.is_empty()
            {
                for &index in &running {
                    let name = connectome.spec().servers[index].name;
                    let reason =
                        format!("not stopping: still running {grace:?} after the stop signal");
                    tracing::error!(server = name, "{reason}");
                    connectome.abandon(index, reason);
                }
                running.clear();
            }
        }
        control.reconcile();
        drop(_stop_policies);
        connectome.mark_ended();

        let failures: Vec<ServerFailure> = connectome
            .servers()
            .into_iter()
            .filter(|s| s.state == ServerState::Failed)
            .map(|s| ServerFailure {
                server: s.name.to_owned(),
                reason: s
                    .last_error
                    .unwrap_or_else(|| "failed for an unknown reason".to_owned()),
            })
            .chain(
                connectome
                    .processes()
                    .into_iter()
                    .filter(|p| p.state == ServerState::Failed)
                    .map(|p| ServerFailure {
                        server: format!("process {}", p.name),
                        reason: p
                            .last_exit
                            .unwrap_or_else(|| "failed for an unknown reason".to_owned()),
                    }),
            )
            .collect();
        if failures.is_empty() {
            tracing::info!(kernel, "kernel ended cleanly");
            Ok(())
        } else {
            Err(Error::Failed {
                kernel: kernel.to_owned(),
                failures,
            })
        }
    }
}

/// Starts again each ended server an operator asked to restart: built
/// afresh from its config; its pipes were released when it ended, so it
/// runs unconnected until connected live. True when one was asked.
fn restart_ended(
    connectome: &Connectome,
    ended: &mut BTreeMap<usize, Instance>,
    running: &mut BTreeSet<usize>,
    limit: RestartLimit,
    done: &crossbeam_channel::Sender<Done>,
) -> bool {
    let asked: Vec<usize> = ended
        .iter()
        .filter(|(_, i)| i.ports.signal().request() == Request::Restart)
        .map(|(index, _)| *index)
        .collect();
    let any = !asked.is_empty();
    for index in asked {
        let Some(instance) = ended.remove(&index) else {
            continue;
        };
        let signal = Arc::clone(instance.ports.signal());
        let Some(server) =
            supervisor::restart_now(&instance, connectome, &signal, "restart requested")
        else {
            connectome.set_state(index, ServerState::Failed, "could not be rebuilt");
            ended.insert(index, instance);
            continue;
        };
        spawn_supervisor(connectome, instance, server, limit, done, running);
    }
    any
}

/// Runs `server` under a supervisor on a thread of its own; `running`
/// gains its index, or the server is failed when no thread can be had.
fn spawn_supervisor(
    connectome: &Connectome,
    instance: Instance,
    server: Box<dyn Runnable>,
    limit: RestartLimit,
    done: &crossbeam_channel::Sender<Done>,
    running: &mut BTreeSet<usize>,
) {
    let index = instance.index;
    let name = instance.spec.name;
    let ctx = Context::new(
        instance.spec,
        Arc::clone(instance.ports.signal()),
        connectome.clone(),
    );
    let supervisor = Supervisor::new(instance, ctx, limit, done.clone());
    match std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || supervisor.run(server))
    {
        Ok(_) => {
            running.insert(index);
        }
        Err(e) => {
            let reason = Error::Spawn {
                server: name.to_owned(),
                source: e,
            }
            .to_string();
            tracing::error!(server = name, %reason, "not started");
            connectome.set_error(index, reason.clone());
            connectome.set_state(index, ServerState::Failed, &reason);
        }
    }
}

/// Calls every policy's `on_stop`, last added first, when `run` ends
/// (also on an early return).
struct StopPolicies<'a> {
    connectome: &'a Connectome,
    policies: &'a [Arc<dyn crate::policy::Policy>],
}

impl Drop for StopPolicies<'_> {
    fn drop(&mut self) {
        for policy in self.policies.iter().rev() {
            policy.on_stop(self.connectome);
        }
    }
}

fn warn_leftovers(spec: &ServerSpec, ports: &Ports) {
    for terminal in ports.remaining() {
        tracing::warn!(
            server = spec.name,
            terminal,
            "the server's `attach` did not take the pipes of this terminal"
        );
    }
}

/// Kernels currently running with signal handlers installed.
static ACTIVE_KERNELS: std::sync::Mutex<usize> = std::sync::Mutex::new(0);
/// True while no kernel handles signals, after one did: then SIGINT and
/// SIGTERM get their default action back (signal-hook cannot restore the
/// previous handler, so an emulation of the default stays registered).
static SIGNALS_IDLE: AtomicBool = AtomicBool::new(false);
static DEFAULT_ACTIONS: std::sync::Once = std::sync::Once::new();

const SIGNALS: [std::ffi::c_int; 2] = [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM];

/// SIGINT/SIGTERM handlers for the duration of `run`: the first raises the
/// stop flag, a second one exits at once (status 128 + signal).
struct SignalGuard {
    ids: Vec<signal_hook::SigId>,
}

impl SignalGuard {
    fn install(stop: &Arc<AtomicBool>) -> Result<Self, Error> {
        let mut active = ACTIVE_KERNELS.lock().unwrap_or_else(|e| e.into_inner());
        let mut guard = SignalGuard { ids: Vec::new() };
        SIGNALS_IDLE.store(false, Ordering::SeqCst);
        *active += 1;
        drop(active);
        for signal in SIGNALS {
            // The conditional shutdown must come first: it only fires when
            // the flag is already raised, i.e. on the second signal.
            guard.ids.push(
                signal_hook::flag::register_conditional_shutdown(
                    signal,
                    128 + signal,
                    Arc::clone(stop),
                )
                .map_err(Error::Signal)?,
            );
            guard.ids.push(
                signal_hook::flag::register(signal, Arc::clone(stop)).map_err(Error::Signal)?,
            );
        }
        Ok(guard)
    }
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
        let mut active = ACTIVE_KERNELS.lock().unwrap_or_else(|e| e.into_inner());
        *active = active.saturating_sub(1);
        if *active == 0 {
            DEFAULT_ACTIONS.call_once(|| {
                for signal in SIGNALS {
                    if let Err(e) = signal_hook::flag::register_conditional_default(signal, &SIGNALS_IDLE) {
                        tracing::warn!(signal, error = %e, "cannot restore the default signal action");
                    }
                }
            });
            SIGNALS_IDLE.store(true, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectome::{Endpoint, KernelSpec, PipeSpec, Restart, Spec};

    /// Stands in for a server type's manifest where a spec is written by hand.
    static TEST_MANIFEST: crate::ServerManifest = crate::ServerManifest {
        name: "test",
        class: 1,
        owner: "test",
        auth: crate::Auth::No,
        auth_mechanism: "none",
        terminals: &[],
    };

    const fn server(name: &'static str) -> ServerSpec {
        ServerSpec {
            name,
            type_path: "T",
            manifest: &TEST_MANIFEST,
            uuid: uuid::Uuid::nil(),
            identity: "",
            restart: Restart::Never,
            config: None,
        }
    }

    const fn pipe(from: &'static str, to: &'static str) -> PipeSpec {
        PipeSpec {
            id: uuid::Uuid::nil(),
            from: Endpoint {
                server: from,
                terminal: "out",
            },
            to: Endpoint {
                server: to,
                terminal: "in",
            },
            capacity: 1,
        }
    }

    // source -> filter -> sink, plus a cycle a <-> b fed by the filter.
    static SPEC: Spec = Spec {
        kernel: KernelSpec {
            name: "k",
            fqdn: "localhost",
            owner: "o",
        },
        servers: &[
            server("source"),
            server("a"),
            server("filter"),
            server("b"),
            server("sink"),
        ],
        pipes: &[
            pipe("source", "filter"),
            pipe("filter", "sink"),
            pipe("filter", "a"),
            pipe("a", "b"),
            pipe("b", "a"),
        ],
        control: None,
        processes: &[],
        mesh: None,
        routes: &[],
        source: None,
    };

    #[test]
    fn consumers_boot_before_producers_and_cycles_do_not_hang() {
        let order: Vec<&str> = boot_order(&SPEC, &[true; 5])
            .into_iter()
            .map(|i| SPEC.servers[i].name)
            .collect();
        // Within the cycle a <-> b any order is fine; everything else boots
        // after its consumers.
        assert_eq!(order, ["sink", "a", "filter", "source", "b"]);
        let order = boot_order(&SPEC, &[true, false, true, false, true]);
        assert_eq!(order, [4, 2, 0]);
    }
}
