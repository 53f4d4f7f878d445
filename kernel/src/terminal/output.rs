use std::fmt;

use super::{PortEnds, Producer, SendError, Terminal};
use crate::Error;
use crate::manifest::TerminalKind;
use crate::pipe::PipeSender;

/// An output terminal: exactly one consumer.
///
/// `send` blocks while the pipe is full (back pressure) and fails with
/// [`SendError`] once the consumer is gone for good. Dropping the output (or
/// the server finishing for good) closes the pipe: the consumer sees end of
/// stream after draining.
pub struct Output<T> {
    pipe: Option<PipeSender<T>>,
}

impl<T> Default for Output<T> {
    fn default() -> Self {
        Output { pipe: None }
    }
}

impl<T> fmt::Debug for Output<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Output");
        match &self.pipe {
            Some(p) => d.field(
                "pipe",
                &format_args!("{} -> {}", p.spec().from, p.spec().to),
            ),
            None => d.field("pipe", &"unconnected"),
        };
        d.finish()
    }
}

impl<T> Output<T> {
    /// Sends `msg` to the consumer, blocking while the pipe is full.
    ///
    /// Fails, giving `msg` back, when the consumer is gone for good or the
    /// output is not connected.
    pub fn send(&self, msg: T) -> Result<(), SendError<T>> {
        match &self.pipe {
            Some(pipe) => pipe.send(msg).map_err(SendError),
            None => Err(SendError(msg)),
        }
    }

    /// True when the output has a pipe.
    pub fn is_connected(&self) -> bool {
        self.pipe.is_some()
    }
}

impl<T: Send + 'static> Terminal for Output<T> {
    type Message = T;
    const KIND: TerminalKind = TerminalKind::Output;

    fn attach(&mut self, ends: PortEnds) -> Result<(), Error> {
        ends.at_most_one(Self::KIND)?;
        self.pipe = ends.senders::<T>()?.pop();
        Ok(())
    }
}

impl<T: Send + 'static> Producer for Output<T> {}
