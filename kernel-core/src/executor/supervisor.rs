//! Runs one server instance on its thread: `catch_unwind`, restart policy,
//! back-off and intensity limit.

use std::any::Any;
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use super::builder::Runnable;
use super::{Done, Instance};
use crate::connectome::{Connectome, Restart, ServerState};
use crate::server::Context;
use crate::terminal::link::Request;

/// First back-off before a restart; doubles up to [`MAX_BACKOFF`].
pub(crate) const INITIAL_BACKOFF: Duration = Duration::from_millis(50);
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Granularity at which a back-off notices the stop signal.
const BACKOFF_SLICE: Duration = Duration::from_millis(10);

/// More than `max` restarts within `within` and the server is given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RestartLimit {
    pub(crate) max: u32,
    pub(crate) within: Duration,
}

impl Default for RestartLimit {
    fn default() -> Self {
        RestartLimit {
            max: 3,
            within: Duration::from_secs(5),
        }
    }
}

/// The restarts of one server or process within the last `within`.
pub(crate) struct RestartWindow {
    limit: RestartLimit,
    restarts: VecDeque<Instant>,
}

impl RestartWindow {
    pub(crate) fn new(limit: RestartLimit) -> Self {
        RestartWindow {
            limit,
            restarts: VecDeque::new(),
        }
    }

    pub(crate) fn within(&self) -> Duration {
        self.limit.within
    }

    /// Counts a restart at `now`; `Err(n)` when `n` restarts already
    /// happened within the window and this one is refused.
    pub(crate) fn admit(&mut self, now: Instant) -> Result<(), usize> {
        while self
            .restarts
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.limit.within)
        {
            self.restarts.pop_front();
        }
        if self.restarts.len() >= self.limit.max as usize {
            return Err(self.restarts.len());
        }
        self.restarts.push_back(now);
        Ok(())
    }
}

pub(crate) struct Supervisor {
    instance: Instance,
    ctx: Context,
    limit: RestartLimit,
    done: DoneGuard,
}

/// Tells the kernel the instance is done, whatever happens to the thread;
/// hands the instance back when it ended normally, so that an operator can
/// restart it.
struct DoneGuard {
    index: usize,
    ctx: Context,
    tx: Sender<Done>,
    ended: Option<Instance>,
}

impl Drop for DoneGuard {
    fn drop(&mut self) {
        let connectome = self.ctx.connectome();
        if !connectome.state(self.index).is_final() {
            let reason = "the supervisor of this server ended unexpectedly";
            connectome.set_error(self.index, reason.to_owned());
            connectome.set_state(self.index, ServerState::Failed, reason);
        }
        let _ = self.tx.send(Done::Server(self.index, self.ended.take()));
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}

impl Supervisor {
    pub(crate) fn new(
        instance: Instance,
        ctx: Context,
        limit: RestartLimit,
        done: Sender<Done>,
    ) -> Self {
        let done = DoneGuard {
            index: instance.index,
            ctx: ctx.clone(),
            tx: done,
            ended: None,
        };
        Supervisor {
            instance,
            ctx,
            limit,
            done,
        }
    }

    /// Runs `first`, then restarts by policy until the instance is finished
    /// for good. Dropping `self` at the end drops the kernel's copy of the
    /// instance's pipe ends, so end of stream propagates.
    pub(crate) fn run(self, first: Box<dyn Runnable>) {
        let Supervisor {
            instance,
            ctx,
            limit,
            mut done,
        } = self;
        let index = instance.index;
        let name = instance.spec.name;
        let connectome = ctx.connectome().clone();
        let span = tracing::info_span!("server", name);
        let _enter = span.enter();

        let signal = std::sync::Arc::clone(instance.ports.signal());
        let request_cause = |fallback: &str| {
            connectome
                .server_live(name)
                .map(|(_, s)| {
                    s.request_cause
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .clone()
                })
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| fallback.to_owned())
        };
        let mut server = Some(first);
        let mut window = RestartWindow::new(limit);
        let mut backoff = INITIAL_BACKOFF;
        let (final_state, final_cause) = loop {
            let started = Instant::now();
            let failure = match server.take() {
                Some(mut running) => {
                    connectome.set_state(index, ServerState::Running, "booted");
                    tracing::debug!("running");
                    let outcome = catch_unwind(AssertUnwindSafe(|| running.run(&ctx)));
                    // Dropping closes this run's pipe ends; a panicking drop
                    // must not take the supervisor down.
                    let dropped = catch_unwind(AssertUnwindSafe(move || drop(running)));
                    match (outcome, dropped) {
                        (Ok(Ok(())), Ok(())) => None,
                        (Ok(Err(e)), _) => Some(format!("error: {e}")),
                        (Err(payload), _) => {
                            Some(format!("panicked: {}", panic_message(&*payload)))
                        }
                        (Ok(Ok(())), Err(payload)) => Some(format!(
                            "panicked while dropping: {}",
                            panic_message(&*payload)
                        )),
                    }
                }
                // The rebuild below failed; its error is already recorded.
                None => connectome.server(name).and_then(|s| s.last_error),
            };
            // A run that ended with an error after the kernel interrupted one
            // of its sends (its message kept or counted) ended because it
            // was asked to: that is the reason, not a failure.
            let interrupted = signal.take_interrupted();
            let failure = match failure {
                Some(reason) if interrupted && signal.request() != Request::None => {
                    tracing::info!(%reason, "run ended by a send the restart or stop request interrupted");
                    None
                }
                other => other,
            };
            if let Some(reason) = &failure {
                tracing::warn!(%reason, "server failed");
                connectome.set_error(index, reason.clone());
            }
            // An operator's (or a server's) request comes first.
            match signal.request() {
                Request::Stop => break (ServerState::Stopped, request_cause("stop requested")),
                Request::Restart => {
                    let cause = request_cause("restart requested");
                    server = restart_now(&instance, &connectome, &signal, &cause);
                    continue;
                }
                Request::None => {}
            }
            let stopping = signal.kernel_stopping();
            let wants_restart = !stopping
                && match instance.spec.restart {
                    Restart::Never => false,
                    Restart::OnFailure => failure.is_some(),
                    // A consumer whose every input ended would only see end
                    // of stream again.
                    Restart::Always => failure.is_some() || !instance.ports.inputs_ended(),
                };
            if !wants_restart {
                break match (&failure, stopping) {
                    (Some(reason), _) => (ServerState::Failed, reason.clone()),
                    (None, true) => (ServerState::Stopped, "kernel stopping".to_owned()),
                    (None, false) => (ServerState::Finished, "run returned".to_owned()),
                };
            }

            // Intensity limit: at most `max` restarts within `within`.
            if let Err(restarts) = window.admit(Instant::now()) {
                let last = failure.unwrap_or_else(|| "finished".to_owned());
                let reason = format!(
                    "{last}; gave up after {restarts} restarts within {:?}",
                    window.within()
                );
                tracing::error!(%reason, "giving up");
                connectome.set_error(index, reason.clone());
                break (ServerState::Failed, reason);
            }
            if started.elapsed() >= window.within() {
                backoff = INITIAL_BACKOFF;
            }

            let why = match &failure {
                Some(reason) => format!("restart = {:?} after {reason}", instance.spec.restart),
                None => "restart = always after the run returned".to_owned(),
            };
            connectome.set_state(index, ServerState::Restarting, &why);
            let count = connectome.count_restart(index);
            tracing::info!(restart = count, backoff = ?backoff, "restarting");
            if !sleep_unless_stopping(&ctx, backoff) {
                match signal.request() {
                    Request::Restart => {
                        signal.clear();
                    }
                    Request::Stop => {
                        break (ServerState::Stopped, request_cause("stop requested"));
                    }
                    Request::None => {
                        break match failure {
                            Some(reason) => (ServerState::Failed, reason),
                            None => (ServerState::Stopped, "kernel stopping".to_owned()),
                        };
                    }
                }
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);

            // Built afresh from its config, attached to the same pipes.
            connectome.set_state(index, ServerState::Booting, "restarting");
            server = rebuild(&instance, &connectome);
        };
        connectome.set_state(index, final_state, &final_cause);
        tracing::info!(state = %final_state, "server ended");
        // Drop the kernel's pipe ends before reporting done; what it kept
        // for a restart is delivered or counted first.
        instance.ports.settle_stash();
        instance.ports.close_outputs();
        instance.ports.release();
        done.ended = Some(instance);
        drop(done);
    }
}

/// A restart someone asked for: no back-off, no intensity limit.
pub(crate) fn restart_now(
    instance: &Instance,
    connectome: &Connectome,
    signal: &crate::terminal::link::Signal,
    cause: &str,
) -> Option<Box<dyn Runnable>> {
    connectome.set_state(instance.index, ServerState::Restarting, cause);
    let count = connectome.count_restart(instance.index);
    tracing::info!(restart = count, cause, "restarting on request");
    signal.clear();
    connectome.set_state(instance.index, ServerState::Booting, "restart requested");
    rebuild(instance, connectome)
}

/// Builds the server afresh from its config and attaches it to its pipes;
/// `None` (error recorded) when that fails.
fn rebuild(instance: &Instance, connectome: &Connectome) -> Option<Box<dyn Runnable>> {
    let mut ports = instance.ports.clone_ends();
    match catch_unwind(AssertUnwindSafe(|| (instance.factory)(&mut ports))) {
        Ok(Ok(fresh)) => Some(fresh),
        Ok(Err(e)) => {
            connectome.set_error(instance.index, format!("error while rebooting: {e}"));
            None
        }
        Err(payload) => {
            connectome.set_error(
                instance.index,
                format!("panicked while rebooting: {}", panic_message(&*payload)),
            );
            None
        }
    }
}

/// Sleeps for `duration`; false when the stop signal came first.
fn sleep_unless_stopping(ctx: &Context, duration: Duration) -> bool {
    let until = Instant::now() + duration;
    loop {
        if ctx.stopping() {
            return false;
        }
        let now = Instant::now();
        if now >= until {
            return true;
        }
        std::thread::sleep((until - now).min(BACKOFF_SLICE));
    }
}
