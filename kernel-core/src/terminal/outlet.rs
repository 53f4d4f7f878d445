//! The sending core shared by [`Output`](super::Output) and
//! [`Multiplex`](super::Multiplex): the pipes the terminal feeds, kept in
//! step with its [`Link`].

use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::Select;
use crossbeam_utils::Backoff;

use super::link::{Link, Request};
use super::{PortEnds, SendError};
use crate::Error;
use crate::pipe::{PipeSender, TrySendError};

/// One pipe the terminal feeds.
struct OutPipe<T> {
    tx: PipeSender<T>,
    /// During a slow `send_all`: this pipe has its copy of the message.
    has_copy: bool,
}

impl<T> OutPipe<T> {
    fn new(tx: PipeSender<T>) -> Self {
        OutPipe {
            tx,
            has_copy: false,
        }
    }
}

pub(crate) struct Outlet<T> {
    link: Option<Arc<Link>>,
    epoch: u64,
    pipes: Vec<OutPipe<T>>,
    /// Lost its last pipe to a live disconnect: wait for a new one.
    dormant: bool,
}

impl<T> Default for Outlet<T> {
    fn default() -> Self {
        Outlet {
            link: None,
            epoch: 0,
            pipes: Vec::new(),
            dormant: false,
        }
    }
}

impl<T: Send + 'static> Outlet<T> {
    pub(crate) fn attach(ends: PortEnds) -> Result<Self, Error> {
        let link = ends.link.clone();
        let (epoch, dormant) = (ends.epoch, ends.dormant);
        Ok(Outlet {
            link,
            epoch,
            pipes: ends.senders::<T>()?.into_iter().map(OutPipe::new).collect(),
            dormant,
        })
    }
}

/// Outcome of one attempt on one pipe.
enum Attempt<T> {
    Sent,
    Full(T),
    Gone(T),
}

impl<T: 'static> Outlet<T> {
    /// Pipes still connected.
    pub(crate) fn len(&self) -> usize {
        self.pipes.len()
    }

    #[inline]
    fn fresh(&self) -> bool {
        self.link.as_ref().is_none_or(|l| l.epoch() == self.epoch)
    }

    /// Sends `msg` to the first (only) pipe, blocking while it is full.
    #[inline]
    pub(crate) fn send_one(&mut self, msg: T) -> Result<(), SendError<T>> {
        if self.fresh()
            && let [pipe] = &self.pipes[..]
        {
            return match pipe.tx.try_send(msg) {
                Ok(()) => Ok(()),
                Err(TrySendError::Full(msg) | TrySendError::Disconnected(msg)) => {
                    self.send_slow(msg).map_err(SendError)
                }
            };
        }
        self.send_slow(msg).map_err(SendError)
    }

    /// Picks up the link's changes when its epoch moved.
    fn sync(&mut self) {
        let Some(link) = self.link.clone() else {
            return;
        };
        if link.epoch() == self.epoch {
            return;
        }
        let state = link.lock();
        self.epoch = link.epoch();
        let mut pipes = Vec::with_capacity(state.ends.len());
        for end in state.ends.iter().filter(|e| e.is_sender()) {
            let pipe = match self
                .pipes
                .iter()
                .position(|p| p.tx.stats().same_pipe(end.stats()))
            {
                Some(i) => self.pipes.swap_remove(i),
                None => match end.clone_end().into_any().downcast::<PipeSender<T>>() {
                    Ok(tx) => OutPipe::new(*tx),
                    // Connections are checked by `TypeId`; never a foreign end.
                    Err(_) => continue,
                },
            };
            pipes.push(pipe);
        }
        self.pipes = pipes;
        self.dormant = state.dormant;
    }

    /// True when an outlet without pipes should wait for a new peer.
    fn waits(&self) -> bool {
        self.dormant && self.link.as_ref().is_some_and(|l| !l.signal.stopping())
    }

    /// The server was asked to end this run (restart or stop): a send that
    /// would wait gives its message back instead, so the server can return.
    fn asked_to_end(&self) -> bool {
        self.link
            .as_ref()
            .is_some_and(|l| l.signal.request() != Request::None)
    }

    fn attempt(&self, i: usize, msg: T) -> Attempt<T> {
        match self.pipes[i].tx.try_send(msg) {
            Ok(()) => Attempt::Sent,
            Err(TrySendError::Full(msg)) => Attempt::Full(msg),
            Err(TrySendError::Disconnected(msg)) => Attempt::Gone(msg),
        }
    }

    /// Forgets pipe `i`, whose consumer is gone for good.
    fn forget(&mut self, i: usize) {
        let pipe = self.pipes.remove(i);
        if let Some(link) = &self.link {
            link.retire(pipe.tx.stats());
        }
    }

    /// Sleeps until pipe `i` has room (or `None`: only the doorbell) or the
    /// doorbell rings.
    fn wait(&self, i: Option<usize>) {
        let mut select = Select::new();
        if let Some(pipe) = i.and_then(|i| self.pipes.get(i)) {
            select.send(pipe.tx.channel());
        }
        if let Some(link) = &self.link {
            select.recv(link.bell());
        }
        select.ready();
        if let Some(link) = &self.link {
            link.quiet();
        }
    }

    /// The general path of `send_one`: waits while the pipe is full or the
    /// terminal is dormant; `Err(msg)` when no consumer is left.
    #[cold]
    fn send_slow(&mut self, mut msg: T) -> Result<(), T> {
        let backoff = Backoff::new();
        let mut blocked: Option<Instant> = None;
        loop {
            self.sync();
            if self.pipes.is_empty() {
                if !self.waits() {
                    return Err(msg);
                }
                self.wait(None);
                continue;
            }
            if self.pipes[0].tx.has_room() {
                match self.attempt(0, msg) {
                    Attempt::Sent => {
                        if let Some(since) = blocked {
                            self.pipes[0].tx.add_blocked(since);
                        }
                        return Ok(());
                    }
                    Attempt::Full(m) => msg = m,
                    Attempt::Gone(m) => {
                        msg = m;
                        self.forget(0);
                        continue;
                    }
                }
            }
            if self.asked_to_end() {
                return Err(msg);
            }
            blocked.get_or_insert_with(Instant::now);
            if backoff.is_completed() {
                self.wait(Some(0));
            } else {
                backoff.snooze();
            }
        }
    }
}

impl<T: Clone + 'static> Outlet<T> {
    /// Sends a copy of `msg` to every pipe, in order, blocking on each full
    /// pipe in turn; `Err(msg)` only when no pipe is left.
    #[inline]
    pub(crate) fn send_all(&mut self, msg: T) -> Result<(), SendError<T>> {
        if self.fresh() && !self.pipes.is_empty() {
            let last = self.pipes.len() - 1;
            for i in 0..last {
                match self.pipes[i].tx.try_send(msg.clone()) {
                    Ok(()) => {}
                    Err(_) => return self.send_all_slow(msg, i).map_err(SendError),
                }
            }
            return match self.pipes[last].tx.try_send(msg) {
                Ok(()) => Ok(()),
                Err(TrySendError::Full(msg) | TrySendError::Disconnected(msg)) => {
                    self.send_all_slow(msg, last).map_err(SendError)
                }
            };
        }
        self.send_all_slow(msg, 0).map_err(SendError)
    }

    /// `send_all` once the first `done` pipes have their copy. Pipes
    /// connected meanwhile get a copy too; pipes disconnected meanwhile are
    /// forgotten.
    #[cold]
    fn send_all_slow(&mut self, msg: T, done: usize) -> Result<(), T> {
        for (i, pipe) in self.pipes.iter_mut().enumerate() {
            pipe.has_copy = i < done;
        }
        let mut delivered = done > 0;
        let mut msg = Some(msg);
        let backoff = Backoff::new();
        let mut blocked: Option<Instant> = None;
        loop {
            self.sync();
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
                if !self.waits() {
                    return msg.map_or(Ok(()), Err);
                }
                self.wait(None);
                continue;
            };
            let last = pending.next().is_none();
            if self.pipes[i].tx.has_room() {
                let Some(original) = msg.take() else {
                    return Ok(());
                };
                let copy = if last {
                    original
                } else {
                    let copy = original.clone();
                    msg = Some(original);
                    copy
                };
                match self.attempt(i, copy) {
                    Attempt::Sent => {
                        if let Some(since) = blocked.take() {
                            self.pipes[i].tx.add_blocked(since);
                        }
                        self.pipes[i].has_copy = true;
                        delivered = true;
                        backoff.reset();
                        continue;
                    }
                    Attempt::Full(copy) => {
                        if last {
                            msg = Some(copy);
                        }
                    }
                    Attempt::Gone(copy) => {
                        if last {
                            msg = Some(copy);
                        }
                        self.forget(i);
                        continue;
                    }
                }
            }
            if self.asked_to_end() {
                return msg.map_or(Ok(()), Err);
            }
            blocked.get_or_insert_with(Instant::now);
            if backoff.is_completed() {
                self.wait(Some(i));
            } else {
                backoff.snooze();
            }
        }
    }
}
