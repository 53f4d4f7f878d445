//! Supervises one external process: starts it, logs each line it writes,
//! restarts it by policy (with the servers' back-off and intensity limit)
//! and, when the kernel stops, terminates it and kills it after the grace
//! period.
//!
//! Each program runs in a process group of its own, so a ctrl-c in the
//! terminal reaches the kernel only and the kernel decides how it ends; the
//! terminate and kill signals go to the whole group, so a shell's children
//! end with it. On Linux a program also gets SIGTERM when the kernel dies
//! without stopping it.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use super::Done;
use super::supervisor::{INITIAL_BACKOFF, MAX_BACKOFF, RestartWindow};
use crate::connectome::process::ProcessLive;
use crate::connectome::{Connectome, Restart, ServerState};

/// How often a running program is checked for exit and for the stop signal.
const POLL: Duration = Duration::from_millis(20);
/// Longer lines are cut here, so one process cannot flood the event log.
const MAX_LINE: usize = 4096;
/// How long a finished program's last lines may take to reach the log.
const DRAIN: Duration = Duration::from_millis(200);

/// How one run of the program ended.
enum Ending {
    /// It could not be started.
    NotStarted(std::io::Error),
    /// It exited on its own.
    Exited(ExitStatus),
    /// The kernel stopped it; `killed` when it outlived the grace period.
    Stopped { status: String, killed: bool },
}

pub(crate) struct ProcessSupervisor {
    pub(crate) index: usize,
    pub(crate) live: Arc<ProcessLive>,
    pub(crate) connectome: Connectome,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) window: RestartWindow,
    pub(crate) grace: Duration,
    pub(crate) done: Sender<Done>,
}

impl ProcessSupervisor {
    pub(crate) fn run(mut self) {
        let name = self.live.process.name.clone();
        let span = tracing::info_span!("process", name);
        let _enter = span.enter();
        let mut backoff = INITIAL_BACKOFF;
        let (state, cause) = loop {
            if self.stopping() {
                break (ServerState::Stopped, "kernel stopping".to_owned());
            }
            let started = Instant::now();
            let failure = match self.run_once() {
                Ending::NotStarted(e) => {
                    let how = format!("cannot start `{}`: {e}", self.live.process.command);
                    self.live.set_last_exit(how.clone());
                    Some(how)
                }
                Ending::Exited(status) => {
                    let how = describe(status);
                    self.live.set_last_exit(how.clone());
                    (!status.success()).then_some(how)
                }
                Ending::Stopped { status, killed } => {
                    let cause = if killed {
                        format!(
                            "killed: still running {:?} after the terminate signal ({status})",
                            self.grace
                        )
                    } else {
                        format!("terminated by the kernel ({status})")
                    };
                    self.live.set_last_exit(status);
                    break (ServerState::Stopped, cause);
                }
            };
            if let Some(reason) = &failure {
                tracing::warn!(%reason, "process failed");
            }
            let wants_restart = !self.stopping()
                && match self.live.process.restart {
                    Restart::Never => false,
                    Restart::OnFailure => failure.is_some(),
                    Restart::Always => true,
                };
            if !wants_restart {
                break match failure {
                    Some(reason) => (ServerState::Failed, reason),
                    None if self.stopping() => (ServerState::Stopped, "kernel stopping".into()),
                    None => (ServerState::Finished, "exited with status 0".to_owned()),
                };
            }
            if let Err(restarts) = self.window.admit(Instant::now()) {
                let last = failure.unwrap_or_else(|| "exited with status 0".to_owned());
                let reason = format!(
                    "{last}; gave up after {restarts} restarts within {:?}",
                    self.window.within()
                );
                tracing::error!(%reason, "giving up");
                self.live.set_last_exit(reason.clone());
                break (ServerState::Failed, reason);
            }
            if started.elapsed() >= self.window.within() {
                backoff = INITIAL_BACKOFF;
            }
            let why = match &failure {
                Some(reason) => format!("restart = {:?} after {reason}", self.live.process.restart),
                None => "restart = always after it exited".to_owned(),
            };
            self.connectome
                .set_process_state(&self.live, ServerState::Restarting, &why);
            let count = self.live.count_restart();
            tracing::info!(restart = count, ?backoff, "restarting");
            if !self.sleep_unless_stopping(backoff) {
                break match failure {
                    Some(reason) => (ServerState::Failed, reason),
                    None => (ServerState::Stopped, "kernel stopping".to_owned()),
                };
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        };
        self.connectome.set_process_state(&self.live, state, &cause);
        tracing::info!(%state, %cause, "process ended");
        let _ = self.done.send(Done::Process(self.index));
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn run_once(&self) -> Ending {
        let process = &self.live.process;
        self.connectome
            .set_process_state(&self.live, ServerState::Booting, "starting");
        let mut command = Command::new(&process.command);
        command
            .args(&process.args)
            .envs(process.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        // If the kernel dies without stopping it (SIGKILL, a second ctrl-c),
        // the program gets SIGTERM instead of living on as an orphan. The
        // signal follows the spawning thread, which is this supervisor: it
        // outlives the program.
        // SAFETY: prctl(2) is async-signal-safe; the closure allocates nothing.
        #[cfg(target_os = "linux")]
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => return Ending::NotStarted(e),
        };
        let pid = child.id();
        self.live.set_pid(Some(pid));
        self.connectome.set_process_state(
            &self.live,
            ServerState::Running,
            &format!("started `{}` (pid {pid})", process.command),
        );
        tracing::info!(pid, "started");
        let (lines_done, lines_ended) = crossbeam_channel::unbounded::<()>();
        let mut readers = 0;
        if let Some(out) = child.stdout.take() {
            readers += self.capture("stdout", out, lines_done.clone());
        }
        if let Some(err) = child.stderr.take() {
            readers += self.capture("stderr", err, lines_done);
        }
        let ending = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ending::Exited(status),
                Ok(None) if self.stopping() => break self.terminate(&mut child),
                Ok(None) => std::thread::sleep(POLL),
                Err(e) => {
                    tracing::error!(error = %e, "cannot wait for the process; killing it");
                    break self.terminate(&mut child);
                }
            }
        };
        self.live.set_pid(None);
        // Let the last lines in before the exit is logged; a grandchild that
        // keeps the pipe open must not hold the supervisor.
        let deadline = Instant::now() + DRAIN;
        for _ in 0..readers {
            if lines_ended.recv_deadline(deadline).is_err() {
                break;
            }
        }
        ending
    }

    /// Logs every line of `stream` on a thread of its own; 1 when started.
    fn capture(
        &self,
        stream: &'static str,
        source: impl Read + Send + 'static,
        done: Sender<()>,
    ) -> usize {
        let live = Arc::clone(&self.live);
        let connectome = self.connectome.clone();
        let name = format!("{}-{stream}", live.process.name);
        let spawned = std::thread::Builder::new().name(name).spawn(move || {
            let mut reader = BufReader::new(source);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader
                    .by_ref()
                    .take(MAX_LINE as u64)
                    .read_until(b'\n', &mut buf)
                {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&buf);
                        let line = text.trim_end_matches(['\n', '\r']);
                        tracing::info!(process = %live.process.name, stream, "{line}");
                        connectome.process_output(&live, stream, line);
                    }
                }
            }
            let _ = done.send(());
        });
        match spawned {
            Ok(_) => 1,
            Err(e) => {
                tracing::warn!(error = %e, stream, "cannot capture the process's output");
                0
            }
        }
    }

    /// SIGTERM to the group, then SIGKILL once the grace period is over.
    fn terminate(&self, child: &mut Child) -> Ending {
        let Ok(group) = libc::pid_t::try_from(child.id()) else {
            let _ = child.kill();
            let status = child.wait().map(describe).unwrap_or_else(|e| e.to_string());
            return Ending::Stopped {
                status,
                killed: true,
            };
        };
        tracing::info!(pid = group, "terminating");
        // SAFETY: kill(2) with a negative pid signals the process group the
        // child leads; the child is not reaped yet, so the id is still ours.
        unsafe { libc::kill(-group, libc::SIGTERM) };
        let deadline = Instant::now() + self.grace;
        while Instant::now() < deadline {
            match child.try_wait() {
                Ok(Some(status)) => {
                    return Ending::Stopped {
                        status: describe(status),
                        killed: false,
                    };
                }
                Ok(None) => std::thread::sleep(POLL),
                Err(_) => break,
            }
        }
        tracing::warn!(pid = group, grace = ?self.grace, "still running; killing");
        // SAFETY: as above.
        unsafe { libc::kill(-group, libc::SIGKILL) };
        let status = child.wait().map(describe).unwrap_or_else(|e| e.to_string());
        Ending::Stopped {
            status,
            killed: true,
        }
    }

    fn sleep_unless_stopping(&self, duration: Duration) -> bool {
        let until = Instant::now() + duration;
        while Instant::now() < until {
            if self.stopping() {
                return false;
            }
            std::thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
        }
        !self.stopping()
    }
}

/// `exited with status 3`, `killed by signal 9`.
fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => status.to_string(),
    }
}
