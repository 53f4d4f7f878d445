//! The sending core shared by [`Output`](super::Output) and
//! [`Multiplex`](super::Multiplex): the rings the terminal feeds, kept in
//! step with its [`Link`].
//!
//! A send that would wait while the server is asked to restart or stop does
//! not lose its message: the first such send of a run leaves it with the
//! kernel (the link's stash) and returns `Ok`, so a relay's `send(x)?` goes
//! on to see end of stream and returns cleanly; the restarted server sends
//! the stash before anything newer, and an instance that ends for good has
//! it delivered or counted as dropped. A later send of the same run, which
//! only a server ignoring `ctx.stopping()` makes, gets its message back and
//! counts it as dropped.

use std::sync::Arc;
use std::time::Instant;

use super::link::{Link, Request, Stashed, Wait, WaitKind, wall_clock};
use super::{PortEnds, SendError};
use crate::Error;
use crate::connectome::Endpoint;
use crate::fuse::Hosted;
use crate::pipe::wake::Spin;
use crate::pipe::{PipeSender, Writer};

/// One pipe the terminal feeds.
struct OutPipe<T> {
    writer: Writer<T>,
    /// During a slow multiplexed send: this pipe has its copy of the message.
    has_copy: bool,
}

impl<T> OutPipe<T> {
    fn new(writer: Writer<T>) -> Self {
        OutPipe {
            writer,
            has_copy: false,
        }
    }
}

/// An epoch no link reaches: forces the slow path while the link holds
/// stashed messages, which go before anything newer.
const STASHED: u64 = u64::MAX;

/// Most messages `send_iter_all` gathers before it copies them into every
/// pipe: what fits in 8 KiB, so the batch is still in the L1 cache when the
/// copies read it. A batch of a whole ring's room (1,024 messages of 1 KiB)
/// was read back from memory: fan-out of 1 KiB on one CPU ran at 0.62x the
/// hand-written floor so, and at 1.0x with batches of 8 KiB (32 KiB: 0.84x).
fn multiplexed_batch<T>() -> usize {
    (8 * 1024 / std::mem::size_of::<T>().max(1)).max(2)
}

pub(crate) struct Outlet<T> {
    /// Messages of a multiplexed batch on their way to every pipe.
    batch: Vec<T>,
    link: Option<Arc<Link>>,
    epoch: u64,
    pipes: Vec<OutPipe<T>>,
    /// Lost its last pipe to a live disconnect: wait for a new one.
    dormant: bool,
    /// This run already left a message with the kernel.
    stashed: bool,
    spin: Spin,
    /// The fused chain the terminal feeds instead of a pipe.
    fused: Option<Hosted<T>>,
}

impl<T> Default for Outlet<T> {
    fn default() -> Self {
        Outlet {
            batch: Vec::new(),
            link: None,
            epoch: 0,
            pipes: Vec::new(),
            dormant: false,
            stashed: false,
            spin: Spin::default(),
            fused: None,
        }
    }
}

/// Claims the writing side of `tx`; `None` (logged) if another terminal
/// holds it, which the kernel never lets happen.
fn claim<T>(tx: PipeSender<T>) -> Option<Writer<T>> {
    match Writer::claim(tx) {
        Ok(writer) => Some(writer),
        Err(tx) => {
            tracing::error!(pipe = %tx.id(), "the pipe is fed by another terminal; skipped");
            None
        }
    }
}

impl<T: Send + 'static> Outlet<T> {
    pub(crate) fn attach(ends: PortEnds) -> Result<Self, Error> {
        let link = ends.link.clone();
        let (mut epoch, dormant) = (ends.epoch, ends.dormant);
        if link.as_ref().is_some_and(|l| !l.lock().stash.is_empty()) {
            epoch = STASHED;
        }
        let fused = link.as_ref().and_then(Hosted::take);
        Ok(Outlet {
            fused,
            link,
            epoch,
            pipes: ends
                .senders::<T>()?
                .into_iter()
                .filter_map(claim)
                .map(OutPipe::new)
                .collect(),
            dormant,
            ..Outlet::default()
        })
    }
}

/// What to do with a message that cannot be sent now.
enum Stuck {
    /// Wait for room (or a change).
    Wait,
    /// No consumer is left: give it back.
    Gone,
    /// The server was asked to end this run.
    Asked,
}

impl<T> Outlet<T> {
    /// Pipes still connected (a fused chain counts as one).
    pub(crate) fn len(&self) -> usize {
        self.pipes.len() + usize::from(self.fused.is_some())
    }

    #[inline]
    fn fresh(&self) -> bool {
        self.link.as_ref().is_none_or(|l| l.epoch() == self.epoch)
    }
}

impl<T: Send + 'static> Outlet<T> {
    /// Sends `msg` to the first (only) pipe, blocking while it is full.
    #[inline]
    pub(crate) fn send_one(&mut self, msg: T) -> Result<(), SendError<T>> {
        if let Some(chain) = &mut self.fused {
            return chain.push(msg).map_err(SendError);
        }
        if self.fresh()
            && let [pipe] = &mut self.pipes[..]
            && !pipe.writer.is_gone()
        {
            return match pipe.writer.try_push(msg) {
                Ok(()) => {
                    pipe.writer.notify();
                    Ok(())
                }
                Err(msg) => self.send_slow(msg).map_err(SendError),
            };
        }
        self.send_slow(msg).map_err(SendError)
    }

    /// Sends every message of `msgs` to the first (only) pipe, as many at a
    /// time as the ring has room for, waking the consumer once per batch.
    pub(crate) fn send_iter<I: Iterator<Item = T>>(
        &mut self,
        mut msgs: I,
    ) -> Result<(), SendError<(T, I)>> {
        if let Some(chain) = &mut self.fused {
            return chain.push_iter(msgs).map_err(SendError);
        }
        loop {
            if self.fresh()
                && let [pipe] = &mut self.pipes[..]
                && !pipe.writer.is_gone()
            {
                let n = pipe.writer.push_from(&mut msgs);
                if n > 0 {
                    pipe.writer.notify();
                }
            }
            // Full, or something changed: one message the slow way.
            let Some(msg) = msgs.next() else {
                return Ok(());
            };
            if let Err(msg) = self.send_slow(msg) {
                return Err(SendError((msg, msgs)));
            }
        }
    }

    /// Picks up the link's changes when its epoch moved (and delivers what
    /// the link holds back for this terminal).
    fn sync(&mut self) {
        let Some(link) = self.link.clone() else {
            return;
        };
        if link.epoch() == self.epoch {
            return;
        }
        link.waker().quiet();
        let state = link.lock();
        self.epoch = link.epoch();
        let mut pipes = Vec::with_capacity(state.ends.len());
        for end in state.ends.iter().filter(|e| e.is_sender()) {
            let pipe = match self
                .pipes
                .iter()
                .position(|p| p.writer.stats().same_pipe(end.stats()))
            {
                Some(i) => self.pipes.swap_remove(i),
                None => match end.clone_end().into_any().downcast::<PipeSender<T>>() {
                    Ok(tx) => match claim(*tx) {
                        Some(writer) => OutPipe::new(writer),
                        None => continue,
                    },
                    // Connections are checked by `TypeId`; never a foreign end.
                    Err(_) => continue,
                },
            };
            pipes.push(pipe);
        }
        self.pipes = pipes;
        self.dormant = state.dormant;
        drop(state);
        self.deliver_stash(&link);
    }

    /// Sends what the link stashed while it fits, oldest first; keeps the
    /// slow path on while anything is left.
    fn deliver_stash(&mut self, link: &Link) {
        let mut state = link.lock();
        if state.stash.is_empty() {
            return;
        }
        let mut kept = Vec::new();
        let mut blocked: Vec<uuid::Uuid> = Vec::new();
        for item in std::mem::take(&mut state.stash) {
            let pipe = self.pipes.iter_mut().find(|p| p.writer.id() == item.pipe);
            let Some(pipe) = pipe else {
                // The consumer went meanwhile: nothing can deliver it.
                item.stats.count_undelivered(1);
                continue;
            };
            // Order per pipe: nothing overtakes an older stashed message.
            if blocked.contains(&item.pipe) {
                kept.push(item);
                continue;
            }
            match item.parcel.downcast::<T>() {
                Ok(msg) => match pipe.writer.try_push(*msg) {
                    Ok(()) => pipe.writer.notify(),
                    Err(msg) => {
                        blocked.push(item.pipe);
                        kept.push(Stashed {
                            parcel: Box::new(msg),
                            ..item
                        });
                    }
                },
                // Connections are checked by `TypeId`; never a foreign message.
                Err(_) => item.stats.count_undelivered(1),
            }
        }
        state.stash = kept;
        if !state.stash.is_empty() {
            self.epoch = STASHED;
        }
    }

    /// True while pipe `i` has stashed messages that must go before a new one.
    fn behind_stash(&self, i: usize) -> bool {
        self.epoch == STASHED
            && self.link.as_ref().is_some_and(|l| {
                let id = self.pipes[i].writer.id();
                l.lock().stash.iter().any(|s| s.pipe == id)
            })
    }

    /// True when an outlet without pipes should wait for a new peer.
    fn waits(&self) -> bool {
        self.dormant && self.link.as_ref().is_some_and(|l| !l.signal.stopping())
    }

    /// The server was asked to end this run (restart or stop).
    fn asked_to_end(&self) -> bool {
        self.link
            .as_ref()
            .is_some_and(|l| l.signal.request() != Request::None)
    }

    /// `msg` has no pipe to go to. A terminal that waits for a new peer
    /// after a disconnect and whose server is asked to end (restart, stop,
    /// kernel stop) counts it as dropped on the pipe it lost, and the send
    /// succeeds: the kernel asked the server to end, the server did nothing
    /// wrong. Otherwise no consumer is left for good: `Err(msg)`.
    fn nowhere(&mut self, msg: T) -> Result<(), T> {
        let lost_peer = self
            .link
            .as_ref()
            .filter(|_| self.dormant)
            .and_then(|l| l.lock().lost_peer.clone());
        let Some(stats) = lost_peer else {
            return Err(msg);
        };
        stats.count_undelivered(1);
        if let Some(link) = &self.link {
            tracing::warn!(
                server = link.server,
                terminal = link.terminal,
                "asked to end while waiting for a consumer: the message is counted as dropped"
            );
        }
        Ok(())
    }

    /// Forgets pipe `i`, whose consumer is gone for good.
    fn forget(&mut self, i: usize) {
        let pipe = self.pipes.remove(i);
        pipe.writer.unblock();
        if let Some(link) = &self.link {
            link.retire(pipe.writer.stats());
        }
    }

    /// A send interrupted by a restart or stop request: the first of the
    /// run leaves `copies` (one per pipe still owed the message) with the
    /// kernel and succeeds. A later one (the server goes on sending after it
    /// was asked to end) is handed back, uncounted: the server has it again
    /// and may send it once more; unless some pipe already took the message
    /// (`delivered`, a multiplexed send): then handing it back would make a
    /// retry deliver it twice, and the kernel keeps the copies still owed.
    /// `copies` is never empty; `original` is what to hand back when the
    /// copies are not kept (the first copy when `None`).
    fn interrupted(
        &mut self,
        mut copies: Vec<(usize, T)>,
        original: Option<T>,
        delivered: bool,
    ) -> Result<(), T> {
        let hand_back = |copies: &mut Vec<(usize, T)>, original: Option<T>| match original {
            Some(m) => Ok(m),
            None if !copies.is_empty() => Ok(copies.swap_remove(0).1),
            None => Err(()),
        };
        let Some(link) = self.link.clone() else {
            return match hand_back(&mut copies, original) {
                Ok(m) => Err(m),
                Err(()) => Ok(()),
            };
        };
        link.signal.interrupt();
        for (i, _) in &copies {
            self.pipes[*i].writer.unblock();
        }
        if self.stashed && !delivered {
            tracing::debug!(
                server = link.server,
                terminal = link.terminal,
                "a send after a restart or stop request gave its message back"
            );
            return match hand_back(&mut copies, original) {
                Ok(m) => Err(m),
                Err(()) => Ok(()),
            };
        }
        self.stashed = true;
        drop(original);
        let items: Vec<Stashed> = copies
            .into_iter()
            .map(|(i, msg)| Stashed {
                pipe: self.pipes[i].writer.id(),
                stats: Arc::clone(self.pipes[i].writer.stats()),
                parcel: Box::new(msg),
            })
            .collect();
        tracing::debug!(
            server = link.server,
            terminal = link.terminal,
            messages = items.len(),
            "send interrupted by a request; the kernel keeps the message"
        );
        link.lock().stash.extend(items);
        self.epoch = STASHED;
        Ok(())
    }

    /// Waits until pipe `i` (`None`: only the link) may take a message or
    /// something changed: a short spin, then sleep.
    fn wait(&mut self, i: Option<usize>, since: Instant) {
        let Some(link) = self.link.clone() else {
            return;
        };
        let epoch = link.epoch();
        let pipe = i.and_then(|i| self.pipes.get(i));
        let ready = || link.epoch() != epoch || pipe.is_some_and(|p| p.writer.has_room());
        if self.spin.until(ready) {
            return;
        }
        link.set_wait(Some(Wait {
            kind: if pipe.is_some() {
                WaitKind::FullOutput
            } else {
                WaitKind::NoPeer
            },
            pipes: pipe.map(|p| p.writer.id()).into_iter().collect(),
            since,
            since_wall: wall_clock(since),
        }));
        link.waker()
            .sleep(|| link.epoch() != epoch || pipe.is_some_and(|p| p.writer.has_room()));
        link.set_wait(None);
    }

    /// Why pipe `i` cannot take `msg` now; `None` when it took it.
    fn attempt(&mut self, i: usize, msg: T, since: Instant) -> Result<(), (Stuck, T)> {
        let pipe = &mut self.pipes[i];
        if pipe.writer.is_gone() {
            return Err((Stuck::Gone, msg));
        }
        if !self.behind_stash(i) {
            let pipe = &mut self.pipes[i];
            match pipe.writer.try_push(msg) {
                Ok(()) => {
                    pipe.writer.unblock();
                    pipe.writer.notify();
                    return Ok(());
                }
                Err(m) => return self.stuck(i, m, since),
            }
        }
        self.stuck(i, msg, since)
    }

    fn stuck(&self, i: usize, msg: T, since: Instant) -> Result<(), (Stuck, T)> {
        if self.asked_to_end() {
            return Err((Stuck::Asked, msg));
        }
        self.pipes[i].writer.block(since);
        Err((Stuck::Wait, msg))
    }

    /// The general path of `send_one`: waits while the pipe is full or the
    /// terminal is dormant; `Err(msg)` when no consumer is left.
    #[cold]
    fn send_slow(&mut self, mut msg: T) -> Result<(), T> {
        let mut since: Option<Instant> = None;
        loop {
            self.sync();
            let since = *since.get_or_insert_with(Instant::now);
            if self.pipes.is_empty() {
                if self.waits() {
                    self.wait(None, since);
                    continue;
                }
                return self.nowhere(msg);
            }
            match self.attempt(0, msg, since) {
                Ok(()) => return Ok(()),
                Err((Stuck::Gone, m)) => {
                    msg = m;
                    self.forget(0);
                }
                Err((Stuck::Asked, m)) => {
                    return self.interrupted(vec![(0, m)], None, false);
                }
                Err((Stuck::Wait, m)) => {
                    msg = m;
                    self.wait(Some(0), since);
                }
            }
        }
    }
}

impl<T: Clone + Send + 'static> Outlet<T> {
    /// Sends a copy of `msg` to every pipe, in order, blocking on each full
    /// pipe in turn; `Err(msg)` only when no pipe is left.
    #[inline]
    pub(crate) fn send_all(&mut self, msg: T) -> Result<(), SendError<T>> {
        if self.fresh() && !self.pipes.is_empty() {
            let last = self.pipes.len() - 1;
            for i in 0..last {
                let pipe = &mut self.pipes[i];
                if pipe.writer.is_gone() || pipe.writer.try_push(msg.clone()).is_err() {
                    return self.send_all_slow(msg, i).map_err(SendError);
                }
                pipe.writer.notify();
            }
            let pipe = &mut self.pipes[last];
            if pipe.writer.is_gone() {
                return self.send_all_slow(msg, last).map_err(SendError);
            }
            return match pipe.writer.try_push(msg) {
                Ok(()) => {
                    pipe.writer.notify();
                    Ok(())
                }
                Err(msg) => self.send_all_slow(msg, last).map_err(SendError),
            };
        }
        self.send_all_slow(msg, 0).map_err(SendError)
    }

    /// Sends a copy of every message of `msgs` to every pipe, in order: as
    /// many messages at a time as every pipe has room for, one publication
    /// and one wake-up per pipe and batch.
    pub(crate) fn send_iter_all<I: Iterator<Item = T>>(
        &mut self,
        mut msgs: I,
    ) -> Result<(), SendError<(T, I)>> {
        loop {
            let room = if self.fresh() && self.pipes.iter().all(|p| !p.writer.is_gone()) {
                self.pipes
                    .iter()
                    .map(|p| p.writer.room())
                    .min()
                    .unwrap_or(0)
            } else {
                0
            };
            if room > 1 {
                let mut batch = std::mem::take(&mut self.batch);
                batch.extend(msgs.by_ref().take(room.min(multiplexed_batch::<T>())));
                if batch.is_empty() {
                    self.batch = batch;
                    return Ok(());
                }
                let last = self.pipes.len() - 1;
                for pipe in &mut self.pipes[..last] {
                    pipe.writer.push_from(&mut batch.iter().cloned());
                    pipe.writer.notify();
                }
                let pipe = &mut self.pipes[last];
                pipe.writer.push_from(&mut batch.drain(..));
                pipe.writer.notify();
                self.batch = batch;
                continue;
            }
            // A full pipe, or something changed: one message the slow way.
            let Some(msg) = msgs.next() else {
                return Ok(());
            };
            if let Err(SendError(msg)) = self.send_all(msg) {
                return Err(SendError((msg, msgs)));
            }
        }
    }

    /// `send_all` once the first `done` pipes have their copy. Pipes
    /// connected meanwhile get a copy too; pipes disconnected meanwhile are
    /// forgotten. Clones only what a pipe takes: the last pending pipe gets
    /// the original, and a copy a full pipe refused is kept for the retry.
    #[cold]
    fn send_all_slow(&mut self, msg: T, done: usize) -> Result<(), T> {
        for (i, pipe) in self.pipes.iter_mut().enumerate() {
            pipe.has_copy = i < done;
        }
        // The consumers that have their copy: one disconnected and connected
        // again meanwhile is a new pipe to the same terminal, and must not
        // get the message twice.
        let mut reached: Vec<Endpoint> = self.pipes[..done]
            .iter()
            .map(|p| p.writer.endpoints().1)
            .collect();
        let mut delivered = done > 0;
        let mut msg = Some(msg);
        let mut spare: Option<T> = None;
        let mut since: Option<Instant> = None;
        loop {
            self.sync();
            for pipe in &mut self.pipes {
                if !pipe.has_copy && reached.contains(&pipe.writer.endpoints().1) {
                    pipe.has_copy = true;
                }
            }
            let since = *since.get_or_insert_with(Instant::now);
            let mut pending = self
                .pipes
                .iter()
                .enumerate()
                .filter(|(_, p)| !p.has_copy)
                .map(|(i, _)| i);
            let Some(i) = pending.next() else {
                if delivered {
                    return Ok(());
                }
                if self.waits() {
                    self.wait(None, since);
                    continue;
                }
                return msg.or(spare).map_or(Ok(()), |m| self.nowhere(m));
            };
            let last = pending.next().is_none();
            let value = match (spare.take(), last) {
                (Some(v), true) => v,
                (Some(v), false) => {
                    if msg.is_none() {
                        msg = Some(v.clone());
                    }
                    v
                }
                (None, true) => match msg.take() {
                    Some(m) => m,
                    None => return Ok(()),
                },
                (None, false) => match &msg {
                    Some(m) => m.clone(),
                    None => return Ok(()),
                },
            };
            match self.attempt(i, value, since) {
                Ok(()) => {
                    self.pipes[i].has_copy = true;
                    reached.push(self.pipes[i].writer.endpoints().1);
                    delivered = true;
                }
                Err((Stuck::Gone, v)) => {
                    spare = Some(v);
                    self.forget(i);
                }
                Err((Stuck::Asked, v)) => {
                    let source = msg.take();
                    let mut copies = Vec::new();
                    for (k, pipe) in self.pipes.iter().enumerate() {
                        if k != i && !pipe.has_copy {
                            copies.push((k, v.clone()));
                        }
                    }
                    copies.insert(0, (i, v));
                    return self.interrupted(copies, source, delivered);
                }
                Err((Stuck::Wait, v)) => {
                    spare = Some(v);
                    self.wait(Some(i), since);
                }
            }
        }
    }
}
