//! One transform of a fused chain ([`Member`]) and the joint to the rest
//! of the chain ([`Then`]).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use super::{BATCH, Boot, Chain, MemberEnv, Parked, park};
use crate::Error;
use crate::connectome::{Connectome, Restart, ServerSpec, ServerState};
use crate::executor::{INITIAL_BACKOFF, MAX_BACKOFF, RestartWindow, panic_message};
use crate::manifest::ServerManifest;
use crate::server::{Stage, Transform};
use crate::terminal::Ports;

/// How often a back-off looks at the stop signal.
const BACKOFF_SLICE: Duration = Duration::from_millis(10);

/// One transform of a fused chain; as a [`Chain`], the last one, which
/// sends on its own output terminal.
#[doc(hidden)]
pub struct Member<T: Transform> {
    name: &'static str,
    make: fn(&'static ServerSpec) -> Result<T, Error>,
    live: Option<Live<T>>,
}

/// A booted member.
struct Live<T: Transform> {
    /// `None` once given up or ended.
    transform: Option<T>,
    env: MemberEnv,
    connectome: Connectome,
    window: RestartWindow,
    backoff: Duration,
    /// Messages handed to the member, and those it consumed: the feed
    /// pipe's `messages_in` and `messages_out`, published per batch.
    handed: u64,
    consumed: u64,
    /// The last member's outputs, sent as one batch at the end of its
    /// host's call.
    held: Vec<T::Out>,
}

/// A member of a chain whose instance has a `config` table.
#[doc(hidden)]
pub fn member<T: Transform>(name: &'static str) -> Member<T> {
    Member {
        name,
        make: |spec| {
            let source = spec.config.unwrap_or_default();
            Ok(T::new(crate::executor::parse_config_of::<T::Config>(
                spec, source,
            )?))
        },
        live: None,
    }
}

/// A member of a chain built from its config's default when its instance
/// has no `config` table.
#[doc(hidden)]
pub fn member_default<T: Transform>(name: &'static str) -> Member<T>
where
    T::Config: Default,
{
    Member {
        name,
        make: |spec| match spec.config {
            Some(source) => Ok(T::new(crate::executor::parse_config_of::<T::Config>(
                spec, source,
            )?)),
            None => Ok(T::new(T::Config::default())),
        },
        live: None,
    }
}

/// Builds a member's transform and attaches it to its terminals.
fn build<T: Transform>(
    make: fn(&'static ServerSpec) -> Result<T, Error>,
    env: &MemberEnv,
) -> Result<T, String> {
    let built = catch_unwind(AssertUnwindSafe(|| {
        let mut transform = make(env.spec)?;
        let mut ports: Ports = env.ports.clone_ends();
        transform.attach(&mut ports)?;
        Ok::<T, Error>(transform)
    }));
    match built {
        Ok(Ok(transform)) => Ok(transform),
        Ok(Err(e)) => Err(e.to_string()),
        Err(payload) => Err(format!(
            "panicked while booting: {}",
            panic_message(&*payload)
        )),
    }
}

impl<T: Transform> Member<T> {
    /// Joins `next` after this member.
    pub fn then<N: Chain<T::Out>>(self, next: N) -> Then<T, N> {
        Then { head: self, next }
    }
}

impl<T: Transform + Stage<T::In, T::Out>> Member<T> {
    fn boot(&mut self, boot: &mut Boot<'_>) -> Result<(), (usize, String)> {
        let Some(env) = boot.members.pop_front() else {
            return Err((0, format!("no place in the kernel for `{}`", self.name)));
        };
        let transform = build(self.make, &env).map_err(|e| (env.index, e))?;
        boot.connectome.set_state(
            env.index,
            ServerState::Running,
            "booted, fused into the thread of the server that feeds it",
        );
        self.live = Some(Live {
            transform: Some(transform),
            env,
            connectome: boot.connectome.clone(),
            window: RestartWindow::new(boot.limit),
            backoff: INITIAL_BACKOFF,
            handed: 0,
            consumed: 0,
            held: Vec::new(),
        });
        Ok(())
    }

    /// Runs `x` through the transform, restarting it on failure (after
    /// `settle` sent on what the members after it hold); `Err(x)` when the
    /// member is gone for good. `Ok(None)`: filtered out, or given up
    /// (counted as dropped).
    #[inline]
    fn process(&mut self, mut x: T::In, mut settle: impl FnMut()) -> Result<Option<T::Out>, T::In> {
        let Some(live) = &mut self.live else {
            return Err(x);
        };
        if live.transform.is_none() {
            return Err(x);
        }
        live.handed += 1;
        if live.env.feed.tap.is_watched() {
            live.env.feed.tap.offer(live.handed, &x);
        }
        loop {
            let Some(transform) = &mut live.transform else {
                live.env.feed.count_drops(1);
                return Ok(None);
            };
            let kept = x.clone();
            let failure = match catch_unwind(AssertUnwindSafe(|| transform.process(x))) {
                Ok(Ok(Some(y))) => return Ok(Some(y)),
                Ok(Ok(None)) => {
                    live.consumed += 1;
                    return Ok(None);
                }
                Ok(Err(e)) => format!("error: {e}"),
                Err(payload) => format!("panicked: {}", panic_message(&*payload)),
            };
            // What came out before goes on before the back-off, and the
            // counters say where every message is meanwhile.
            settle();
            live.send_held();
            live.publish();
            if live.transform.is_none() || !live.restart(self.name, &failure, self.make) {
                live.env.feed.count_drops(1);
                live.publish();
                return Ok(None);
            }
            x = kept;
        }
    }

    /// The message this member processed went on (`true`) or could not
    /// (counted as dropped on the pipe that fed it).
    #[inline]
    fn handed_on(&mut self, delivered: bool) {
        if let Some(live) = &mut self.live {
            if delivered {
                live.consumed += 1;
            } else {
                live.env.feed.count_drops(1);
            }
        }
    }

    /// Publishes the member's counters.
    #[inline]
    fn publish(&self) {
        if let Some(live) = &self.live {
            live.publish();
        }
    }

    /// True once the member is given up or ended.
    fn gone(&self) -> bool {
        self.live.as_ref().is_none_or(|l| l.transform.is_none())
    }

    /// Ends the member (if still running) in `state`.
    fn finish(&mut self, state: ServerState, why: &str) {
        if let Some(live) = &mut self.live {
            live.finish(state, why);
        }
    }
}

impl<T: Transform + Stage<T::In, T::Out>> Live<T> {
    #[inline]
    fn publish(&self) {
        self.env.feed.set_fused_counts(self.handed, self.consumed);
    }

    /// Sends what the member holds; ends it when its consumer is gone.
    #[inline]
    fn send_held(&mut self) {
        if !self.held.is_empty() && self.deliver_held() > 0 {
            self.close(ServerState::Finished, "its consumer is gone");
        }
    }

    /// Sends what the member holds as one batch; returns how many could not
    /// be sent, counted as dropped on the pipe that fed the member.
    fn deliver_held(&mut self) -> u64 {
        let held = self.held.len() as u64;
        let lost = match &mut self.transform {
            Some(transform) if held == 1 => match self.held.pop() {
                Some(y) => u64::from(Stage::send(transform, y).is_err()),
                None => 0,
            },
            Some(transform) => Stage::send_drain(transform, &mut self.held) as u64,
            None => {
                self.held.clear();
                held
            }
        };
        self.consumed += held - lost;
        if lost > 0 {
            self.env.feed.count_drops(lost);
        }
        lost
    }

    /// Builds the transform afresh after `failure`, by its restart policy
    /// and the intensity limit, after a back-off; false when it is given up
    /// (state `failed`, outputs closed).
    fn restart(
        &mut self,
        name: &str,
        failure: &str,
        make: fn(&'static ServerSpec) -> Result<T, Error>,
    ) -> bool {
        let index = self.env.index;
        tracing::warn!(server = name, %failure, "fused transform failed");
        self.connectome.set_error(index, failure.to_owned());
        // The failed instance lets go of its output first.
        let failed = self.transform.take();
        let _ = catch_unwind(AssertUnwindSafe(move || drop(failed)));
        let stopping = self.connectome.stopping();
        let wanted = !stopping && self.env.spec.restart != Restart::Never;
        if !wanted {
            self.close(ServerState::Failed, failure);
            return false;
        }
        let now = Instant::now();
        if let Err(restarts) = self.window.admit(now) {
            let reason = format!(
                "{failure}; gave up after {restarts} restarts within {:?}",
                self.window.within()
            );
            tracing::error!(server = name, %reason, "giving up");
            self.connectome.set_error(index, reason.clone());
            self.close(ServerState::Failed, &reason);
            return false;
        }
        self.connectome.set_state(
            index,
            ServerState::Restarting,
            &format!("restart = {:?} after {failure}", self.env.spec.restart),
        );
        let count = self.connectome.count_restart(index);
        tracing::info!(server = name, restart = count, backoff = ?self.backoff, "restarting fused transform");
        let until = Instant::now() + self.backoff;
        while Instant::now() < until {
            if self.connectome.stopping() {
                self.close(ServerState::Failed, failure);
                return false;
            }
            std::thread::sleep(BACKOFF_SLICE.min(until - Instant::now()));
        }
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        self.connectome
            .set_state(index, ServerState::Booting, "restarting");
        match build(make, &self.env) {
            Ok(transform) => {
                self.transform = Some(transform);
                self.connectome.set_state(
                    index,
                    ServerState::Running,
                    "restarted; handed the message it failed on again",
                );
                true
            }
            Err(e) => {
                let reason = format!("error while rebooting: {e}");
                self.connectome.set_error(index, reason.clone());
                self.close(ServerState::Failed, &reason);
                false
            }
        }
    }

    /// Ends the member for good: its outputs close (the stream ends
    /// downstream) and its feed pipe with them.
    fn close(&mut self, state: ServerState, why: &str) {
        if !self.held.is_empty() {
            self.deliver_held();
        }
        self.publish();
        let last = self.transform.take();
        let _ = catch_unwind(AssertUnwindSafe(move || drop(last)));
        self.env.ports.close_outputs();
        self.env.ports.release();
        self.env.feed.end_fused();
        if !self.connectome.state(self.env.index).is_final() {
            self.connectome.set_state(self.env.index, state, why);
        }
    }

    fn finish(&mut self, state: ServerState, why: &str) {
        if self.transform.is_some() {
            self.close(state, why);
        }
    }
}

/// A member followed by the rest of its chain.
#[doc(hidden)]
pub struct Then<T: Transform, N> {
    head: Member<T>,
    next: N,
}

impl<T, N> Chain<T::In> for Then<T, N>
where
    T: Transform + Stage<T::In, T::Out>,
    N: Chain<T::Out> + 'static,
{
    #[inline]
    fn feed(&mut self, x: T::In) -> Result<(), T::In> {
        let next = &mut self.next;
        match self.head.process(x, || next.flush())? {
            Some(y) => match self.next.feed(y) {
                Ok(()) => self.head.handed_on(true),
                Err(_lost) => {
                    self.head.handed_on(false);
                    self.head
                        .finish(ServerState::Finished, "the rest of its fused chain ended");
                }
            },
            None if self.head.gone() => {
                self.next.flush();
                self.next.end(
                    ServerState::Finished,
                    &format!(
                        "transform `{}` before it in its fused chain ended",
                        self.head.name
                    ),
                );
            }
            None => {}
        }
        Ok(())
    }

    #[inline]
    fn flush(&mut self) {
        self.head.publish();
        self.next.flush();
    }

    fn members(&self, out: &mut Vec<(&'static str, ServerManifest)>) {
        out.push((self.head.name, T::MANIFEST));
        self.next.members(out);
    }

    fn boot(&mut self, boot: &mut Boot<'_>) -> Result<(), (usize, String)> {
        self.head.boot(boot)?;
        self.next.boot(boot)
    }

    fn end(&mut self, state: ServerState, why: &str) {
        self.head.finish(state, why);
        self.next.end(state, why);
    }

    fn park(self: Box<Self>) -> Box<dyn Parked> {
        park::<T::In, Self>(self)
    }
}

impl<T> Chain<T::In> for Member<T>
where
    T: Transform + Stage<T::In, T::Out>,
{
    #[inline]
    fn feed(&mut self, x: T::In) -> Result<(), T::In> {
        if let Some(y) = self.process(x, || {})?
            && let Some(live) = &mut self.live
        {
            live.held.push(y);
            if live.held.len() >= BATCH {
                live.send_held();
            }
        }
        Ok(())
    }

    #[inline]
    fn flush(&mut self) {
        if let Some(live) = &mut self.live {
            live.send_held();
            live.publish();
        }
    }

    fn members(&self, out: &mut Vec<(&'static str, ServerManifest)>) {
        out.push((self.name, T::MANIFEST));
    }

    fn boot(&mut self, boot: &mut Boot<'_>) -> Result<(), (usize, String)> {
        Member::boot(self, boot)
    }

    fn end(&mut self, state: ServerState, why: &str) {
        self.finish(state, why);
    }

    fn park(self: Box<Self>) -> Box<dyn Parked> {
        park::<T::In, Self>(self)
    }
}
