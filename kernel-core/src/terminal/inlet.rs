//! The receiving core shared by [`Input`](super::Input) and
//! [`Combine`](super::Combine): the pipes the terminal reads, kept in step
//! with its [`Link`].

use std::sync::Arc;

use crossbeam_channel::Select;
use crossbeam_utils::Backoff;

use super::PortEnds;
use super::link::{Link, Request};
use crate::Error;
use crate::pipe::{PipeReceiver, TryRecv};

/// Messages a terminal takes in a row from one pipe while it has them,
/// before it moves on to the next (fairness).
const BURST: u32 = 64;

struct InPipe<T> {
    rx: PipeReceiver<T>,
    paused: bool,
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
            .map(|rx| InPipe {
                paused: rx.stats().is_paused(),
                rx,
            })
            .collect();
        Ok(Inlet {
            link,
            epoch,
            pipes,
            next: 0,
            streak: 0,
            dormant,
            ended,
        })
    }
}

impl<T: 'static> Inlet<T> {
    /// Pipes still open or not yet drained (paused ones included).
    pub(crate) fn len(&self) -> usize {
        self.pipes.len()
    }

    /// The next message from any pipe that is not paused; `None` at end of
    /// stream.
    #[inline]
    pub(crate) fn recv(&mut self) -> Option<T> {
        let fresh = self.link.as_ref().is_none_or(|l| l.epoch() == self.epoch);
        if fresh && !self.pipes.is_empty() {
            let i = if self.next < self.pipes.len() {
                self.next
            } else {
                0
            };
            let pipe = &self.pipes[i];
            if !pipe.paused
                && let TryRecv::Message(msg) = pipe.rx.try_recv()
            {
                self.took(i);
                return Some(msg);
            }
        }
        self.recv_slow()
    }

    #[cold]
    fn recv_slow(&mut self) -> Option<T> {
        let backoff = Backoff::new();
        loop {
            self.sync();
            if self.ended {
                return None;
            }
            if let Some(msg) = self.scan() {
                return Some(msg);
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
            if !backoff.is_completed() {
                backoff.snooze();
            } else if let Some(msg) = self.wait() {
                return Some(msg);
            }
        }
    }

    /// Stays on pipe `i` for up to [`BURST`] messages in a row, then moves
    /// on: fewer channel switches, and no producer starves.
    #[inline]
    fn took(&mut self, i: usize) {
        if i != self.next {
            self.streak = 0;
        }
        self.streak += 1;
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
        let state = link.lock();
        self.epoch = link.epoch();
        let mut pipes = Vec::with_capacity(state.ends.len());
        for end in state.ends.iter().filter(|e| !e.is_sender()) {
            let rx = match self
                .pipes
                .iter()
                .position(|p| p.rx.stats().same_pipe(end.stats()))
            {
                Some(i) => self.pipes.swap_remove(i).rx,
                None => match end.clone_end().into_any().downcast::<PipeReceiver<T>>() {
                    Ok(rx) => *rx,
                    // Connections are checked by `TypeId`; never a foreign end.
                    Err(_) => continue,
                },
            };
            pipes.push(InPipe {
                paused: rx.stats().is_paused(),
                rx,
            });
        }
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
            match self.pipes[i].rx.try_recv() {
                TryRecv::Message(msg) => {
                    self.took(i);
                    return Some(msg);
                }
                TryRecv::Empty => k += 1,
                TryRecv::Closed => {
                    let pipe = self.pipes.remove(i);
                    if let Some(link) = &self.link {
                        link.retire(pipe.rx.stats());
                    }
                }
            }
        }
        None
    }

    /// Sleeps until a pipe that is not paused has a message (or ended) or the
    /// doorbell rings; returns the message that woke it, counted. No timeout:
    /// every change a terminal must see (stop, request, pause, connect) rings
    /// the doorbell, so an idle server costs no wake-ups. `Select::select`
    /// takes the message as it wakes up; `Select::ready` would first spin and
    /// yield again, as the terminal just did.
    fn wait(&mut self) -> Option<T> {
        let got = {
            let mut select = Select::new();
            for pipe in self.pipes.iter().filter(|p| !p.paused) {
                select.recv(pipe.rx.channel());
            }
            if let Some(link) = &self.link {
                select.recv(link.bell());
            }
            let oper = select.select();
            let k = oper.index();
            let pipe = self
                .pipes
                .iter()
                .enumerate()
                .filter(|(_, p)| !p.paused)
                .nth(k);
            match (pipe, &self.link) {
                // A pipe at end of stream wakes it too: `scan` retires it.
                (Some((i, pipe)), _) => pipe.rx.recv_selected(oper).map(|msg| (i, msg)),
                (None, Some(link)) => {
                    let _ = oper.recv(link.bell());
                    None
                }
                (None, None) => unreachable!("select chose operation {k}, never added"),
            }
        };
        if let Some(link) = &self.link {
            link.quiet();
        }
        let (i, msg) = got?;
        self.took(i);
        Some(msg)
    }
}
