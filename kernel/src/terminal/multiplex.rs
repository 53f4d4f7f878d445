use std::cell::RefCell;
use std::fmt;

use super::{PortEnds, Producer, SendError, Terminal};
use crate::Error;
use crate::manifest::TerminalKind;
use crate::pipe::PipeSender;

/// An output multiplexer (fan-out): every consumer receives every message.
///
/// `send` hands a clone to each consumer in wiring order, blocking on each
/// full pipe in turn, so the slowest consumer sets the pace. A consumer that
/// is gone for good is dropped from the set; `send` fails only when none is
/// left.
pub struct Multiplex<T> {
    pipes: RefCell<Vec<PipeSender<T>>>,
}

impl<T> Default for Multiplex<T> {
    fn default() -> Self {
        Multiplex {
            pipes: RefCell::new(Vec::new()),
        }
    }
}

impl<T> fmt::Debug for Multiplex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Multiplex")
            .field("consumers", &self.consumers())
            .finish()
    }
}

impl<T> Multiplex<T> {
    /// Number of consumers still connected.
    pub fn consumers(&self) -> usize {
        self.pipes.try_borrow().map(|p| p.len()).unwrap_or(0)
    }
}

impl<T: Clone> Multiplex<T> {
    /// Sends `msg` to every consumer; fails, giving `msg` back, only when no
    /// consumer is left.
    pub fn send(&self, msg: T) -> Result<(), SendError<T>> {
        let Ok(mut pipes) = self.pipes.try_borrow_mut() else {
            // Only reachable through re-entrancy from a `Clone` impl.
            return Err(SendError(msg));
        };
        let mut i = 0;
        while i + 1 < pipes.len() {
            if pipes[i].send(msg.clone()).is_ok() {
                i += 1;
            } else {
                pipes.remove(i);
            }
        }
        // `i` is now the last pipe (or there is none): it gets the original.
        let Some(last) = pipes.last() else {
            return Err(SendError(msg));
        };
        match last.send(msg) {
            Ok(()) => Ok(()),
            Err(msg) => {
                pipes.pop();
                if pipes.is_empty() {
                    Err(SendError(msg))
                } else {
                    Ok(())
                }
            }
        }
    }
}

impl<T: Clone + Send + 'static> Terminal for Multiplex<T> {
    type Message = T;
    const KIND: TerminalKind = TerminalKind::Multiplex;

    fn attach(&mut self, ends: PortEnds) -> Result<(), Error> {
        *self.pipes.get_mut() = ends.senders::<T>()?;
        Ok(())
    }
}

impl<T: Clone + Send + 'static> Producer for Multiplex<T> {}
