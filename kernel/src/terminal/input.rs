use std::fmt;

use super::{Consumer, PortEnds, Terminal};
use crate::Error;
use crate::manifest::TerminalKind;
use crate::pipe::PipeReceiver;

/// An input terminal: exactly one producer.
///
/// `recv` blocks while the pipe is empty and returns `None` once the producer
/// has finished for good and the pipe is drained (end of stream). An
/// unconnected input is at end of stream from the start.
pub struct Input<T> {
    pipe: Option<PipeReceiver<T>>,
}

impl<T> Default for Input<T> {
    fn default() -> Self {
        Input { pipe: None }
    }
}

impl<T> fmt::Debug for Input<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Input");
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

impl<T> Input<T> {
    /// The next message; `None` at end of stream.
    pub fn recv(&self) -> Option<T> {
        self.pipe.as_ref()?.recv()
    }

    /// Every message until end of stream.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(|| self.recv())
    }

    /// True when the input has a pipe.
    pub fn is_connected(&self) -> bool {
        self.pipe.is_some()
    }
}

impl<T: Send + 'static> Terminal for Input<T> {
    type Message = T;
    const KIND: TerminalKind = TerminalKind::Input;

    fn attach(&mut self, ends: PortEnds) -> Result<(), Error> {
        ends.at_most_one(Self::KIND)?;
        self.pipe = ends.receivers::<T>()?.pop();
        Ok(())
    }
}

impl<T: Send + 'static> Consumer for Input<T> {}
