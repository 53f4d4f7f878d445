use std::cell::{Cell, RefCell};
use std::fmt;

use crossbeam_channel::Select;

use super::{Consumer, PortEnds, Terminal};
use crate::Error;
use crate::manifest::TerminalKind;
use crate::pipe::{PipeReceiver, TryRecv};

/// An input combiner (fan-in): the union of every producer's messages, each
/// exactly once, in each producer's order.
///
/// `recv` returns `None` once every producer has finished for good and every
/// pipe is drained.
pub struct Combine<T> {
    pipes: RefCell<Vec<PipeReceiver<T>>>,
    /// Where the next non-blocking scan starts, so no producer starves.
    next: Cell<usize>,
}

impl<T> Default for Combine<T> {
    fn default() -> Self {
        Combine {
            pipes: RefCell::new(Vec::new()),
            next: Cell::new(0),
        }
    }
}

impl<T> fmt::Debug for Combine<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Combine")
            .field("producers", &self.producers())
            .finish()
    }
}

impl<T> Combine<T> {
    /// Number of producers whose pipes are still open or not yet drained.
    pub fn producers(&self) -> usize {
        self.pipes.try_borrow().map(|p| p.len()).unwrap_or(0)
    }

    /// The next message from any producer; `None` at end of stream.
    pub fn recv(&self) -> Option<T> {
        let mut pipes = self.pipes.try_borrow_mut().ok()?;
        loop {
            let n = pipes.len();
            if n == 0 {
                return None;
            }
            // Fast path: take whatever is ready, round robin.
            let start = self.next.get() % n;
            let mut closed = None;
            for k in 0..n {
                let i = (start + k) % n;
                match pipes[i].try_recv() {
                    TryRecv::Message(msg) => {
                        self.next.set(i + 1);
                        return Some(msg);
                    }
                    TryRecv::Empty => {}
                    TryRecv::Closed => {
                        closed = Some(i);
                        break;
                    }
                }
            }
            if let Some(i) = closed {
                pipes.remove(i);
                continue;
            }
            // Every pipe is empty: wait for the first to become ready.
            let (i, outcome) = {
                let mut select = Select::new();
                for pipe in pipes.iter() {
                    select.recv(pipe.channel());
                }
                let oper = select.select();
                let i = oper.index();
                (i, pipes[i].complete(oper))
            };
            match outcome {
                TryRecv::Message(msg) => {
                    self.next.set(i + 1);
                    return Some(msg);
                }
                TryRecv::Empty => {}
                TryRecv::Closed => {
                    pipes.remove(i);
                }
            }
        }
    }

    /// Every message until end of stream.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(|| self.recv())
    }
}

impl<T: Send + 'static> Terminal for Combine<T> {
    type Message = T;
    const KIND: TerminalKind = TerminalKind::Combine;

    fn attach(&mut self, ends: PortEnds) -> Result<(), Error> {
        *self.pipes.get_mut() = ends.receivers::<T>()?;
        self.next.set(0);
        Ok(())
    }
}

impl<T: Send + 'static> Consumer for Combine<T> {}
