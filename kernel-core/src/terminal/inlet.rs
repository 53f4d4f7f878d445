//! The receiving core shared by [`Input`](super::Input) and
//! [`Combine`](super::Combine): the rings the terminal reads, kept in step
//! with its [`Link`].

use std::sync::Arc;
use std::time::Instant;

use super::PortEnds;
use super::link::{Link, Request, Wait, WaitKind, wall_clock};
use crate::Error;
use crate::pipe::wake::{Settle, Spin};
use crate::pipe::{PipeReceiver, Reader, TryRecv};

/// Messages a terminal takes in a row from one pipe while it has them,
/// before it moves on to the next (fairness).
const BURST: u32 = 64;

struct InPipe<T> {
    reader: Reader<T>,
    paused: bool,
}

impl<T> InPipe<T> {
    fn new(reader: Reader<T>) -> Self {
        InPipe {
            paused: reader.stats().is_paused(),
            reader,
        }
    }
}

pub(crate) struct Inlet<T> {
    link: Option<Arc<Link>>,
    epoch: u64,
    pipes: Vec<InPipe<T>>,
    /// Where the next round-robin scan starts, so no producer starves.
    next: usize,
    /// Messages taken in a row from pipe `next`.
    streak: u32,
    /// Lost its last pipe to a live disconnect: wait for a new one.
    dormant: bool,
    /// The server was asked to end this run: report end of stream.
    ended: bool,
    spin: Spin,
    settle: Settle,
}

impl<T> Default for Inlet<T> {
    fn default() -> Self {
        Inlet {
            link: None,
            epoch: 0,
            pipes: Vec::new(),
            next: 0,
            streak: 0,
            dormant: false,
            ended: false,
            spin: Spin::default(),
            settle: Settle::default(),
        }
    }
}

/// Claims the reading side of `rx`; `None` (logged) if another terminal
/// holds it, which the kernel never lets happen.
fn claim<T>(rx: PipeReceiver<T>) -> Option<Reader<T>> {
    match Reader::claim(rx) {
        Ok(reader) => Some(reader),
        Err(rx) => {
            tracing::error!(pipe = %rx.id(), "the pipe is read by another terminal; skipped");
            None
        }
    }
}

impl<T: Send + 'static> Inlet<T> {
    pub(crate) fn attach(ends: PortEnds) -> Result<Self, Error> {
        let link = ends.link.clone();
        let (epoch, dormant) = (ends.epoch, ends.dormant);
        let ended = link
            .as_ref()
            .is_some_and(|l| l.signal.request() != Request::None);
        let pipes = ends
            .receivers::<T>()?
            .into_iter()
            .filter_map(claim)
            .map(InPipe::new)
            .collect();
        Ok(Inlet {
            link,
            epoch,
            pipes,
            dormant,
            ended,
            ..Inlet::default()
        })
    }
}

impl<T: 'static> Inlet<T> {
    /// Pipes still open or not yet drained (paused ones included).
    pub(crate) fn len(&self) -> usize {
        self.pipes.len()
    }

    #[inline]
    fn fresh(&self) -> bool {
        self.link.as_ref().is_none_or(|l| l.epoch() == self.epoch)
    }

    /// The pipe to read first.
    #[inline]
    fn current(&self) -> usize {
        if self.next < self.pipes.len() {
            self.next
        } else {
            0
        }
    }

    /// The next message from any pipe that is not paused; `None` at end of
    /// stream.
    #[inline]
    pub(crate) fn recv(&mut self) -> Option<T> {
        let mut settled = false;
        if self.fresh() && !self.pipes.is_empty() {
            let i = self.current();
            let pipe = &mut self.pipes[i];
            if !pipe.paused {
                if let Some(msg) = pipe.reader.try_pop() {
                    self.took(i, 1);
                    return Some(msg);
                }
                settled = self.outran();
            }
        }
        self.recv_slow(settled)
    }

    /// Waits for at least one message, then hands every message waiting in
    /// the current pipe (up to `max`) to `f`; 0 at end of stream.
    pub(crate) fn recv_each(&mut self, max: usize, mut f: impl FnMut(T)) -> usize {
        let max = max.max(1);
        let mut settled = false;
        if self.fresh() && !self.pipes.is_empty() {
            let i = self.current();
            let pipe = &mut self.pipes[i];
            if !pipe.paused {
                let n = pipe.reader.pop_each(max, &mut f);
                if n > 0 {
                    self.took(i, n);
                    return n;
                }
                settled = self.outran();
            }
        }
        match self.recv_slow(settled) {
            None => 0,
            Some(first) => {
                f(first);
                let i = self.current();
                let fresh = self.fresh();
                let more = match self.pipes.get_mut(i) {
                    Some(pipe) if !pipe.paused && fresh => pipe.reader.pop_each(max - 1, f),
                    _ => 0,
                };
                self.took(i, more);
                1 + more
            }
        }
    }

    /// The only pipe was found empty: settles before the next look (see
    /// [`Settle`]); true when it had the choice.
    #[inline]
    fn outran(&mut self) -> bool {
        let alone = self.pipes.len() == 1;
        if alone {
            self.settle_all();
        }
        alone
    }

    /// Every pipe was found empty: this consumer outran its producers, and
    /// leaves them a moment to write (see [`Settle`]).
    fn settle_all(&mut self) {
        let pipes = &self.pipes;
        self.settle
            .wait(|| pipes.iter().any(|p| !p.paused && p.reader.has_message()));
    }

    /// The general path of `recv`; `settled`: the caller already settled
    /// after finding the pipe empty.
    #[cold]
    fn recv_slow(&mut self, mut settled: bool) -> Option<T> {
        let mut since: Option<Instant> = None;
        loop {
            self.sync();
            if self.ended {
                return None;
            }
            if let Some(msg) = self.scan() {
                return Some(msg);
            }
            if !settled && !self.pipes.is_empty() {
                self.settle_all();
                settled = true;
                continue;
            }
            if self.pipes.is_empty() {
                let waits = self.dormant
                    && self
                        .link
                        .as_ref()
                        .is_some_and(|l| !l.signal.kernel_stopping());
                if !waits {
                    return None;
                }
            }
            let since = *since.get_or_insert_with(Instant::now);
            let Some(link) = self.link.clone() else {
                // A terminal without a link has no pipes: handled above.
                return None;
            };
            let (epoch, pipes) = (self.epoch, &self.pipes);
            let ready = || link.epoch() != epoch || any_ready(pipes);
            if self.spin.until(ready) {
                continue;
            }
            let kind = if self.pipes.is_empty() {
                WaitKind::NoPeer
            } else {
                WaitKind::EmptyInput
            };
            link.set_wait(Some(Wait {
                kind,
                pipes: self.pipes.iter().map(|p| p.reader.id()).collect(),
                since,
                since_wall: wall_clock(since),
            }));
            let pipes = &self.pipes;
            link.waker()
                .sleep(|| link.epoch() != epoch || any_ready(pipes));
            link.set_wait(None);
        }
    }

    /// Stays on pipe `i` for up to [`BURST`] messages in a row, then moves
    /// on: fewer switches between rings, and no producer starves.
    #[inline]
    fn took(&mut self, i: usize, n: usize) {
        if i != self.next {
            self.streak = 0;
        }
        self.streak = self
            .streak
            .saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
        if self.streak >= BURST {
            self.streak = 0;
            self.next = i + 1;
        } else {
            self.next = i;
        }
    }

    /// Picks up the link's changes when its epoch moved.
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
        for end in state.ends.iter().filter(|e| !e.is_sender()) {
            let pipe = match self
                .pipes
                .iter()
                .position(|p| p.reader.stats().same_pipe(end.stats()))
            {
                Some(i) => self.pipes.swap_remove(i),
                None => match end.clone_end().into_any().downcast::<PipeReceiver<T>>() {
                    Ok(rx) => match claim(*rx) {
                        Some(reader) => InPipe::new(reader),
                        None => continue,
                    },
                    // Connections are checked by `TypeId`; never a foreign end.
                    Err(_) => continue,
                },
            };
            pipes.push(pipe);
        }
        for pipe in &mut pipes {
            pipe.paused = pipe.reader.stats().is_paused();
        }
        // Pipes no longer in the link are dropped here: their rings go back
        // to the kernel, which may discard what is left.
        self.pipes = pipes;
        self.dormant = state.dormant;
        self.ended = link.signal.request() != Request::None;
    }

    /// One round-robin pass over the pipes that are not paused; retires
    /// pipes at end of stream.
    fn scan(&mut self) -> Option<T> {
        let mut k = 0;
        while k < self.pipes.len() {
            let n = self.pipes.len();
            let i = (self.next + k) % n;
            if self.pipes[i].paused {
                k += 1;
                continue;
            }
            match self.pipes[i].reader.poll() {
                TryRecv::Message(msg) => {
                    self.took(i, 1);
                    return Some(msg);
                }
                TryRecv::Empty => k += 1,
                TryRecv::Closed => {
                    let pipe = self.pipes.remove(i);
                    if let Some(link) = &self.link {
                        link.retire(pipe.reader.stats());
                    }
                }
            }
        }
        None
    }
}

/// True when a pipe that is not paused has a message or ended.
fn any_ready<T>(pipes: &[InPipe<T>]) -> bool {
    pipes.iter().any(|p| !p.paused && p.reader.is_ready())
}
