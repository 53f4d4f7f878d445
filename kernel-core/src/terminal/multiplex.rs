use std::cell::RefCell;
use std::fmt;

use super::outlet::Outlet;
use super::sealed::Attach;
use super::{PortEnds, Producer, SendError, Terminal};
use crate::Error;
use crate::manifest::TerminalKind;

/// An output multiplexer (fan-out): every consumer receives every message.
///
/// `send` hands a clone to each consumer in wiring order, blocking on each
/// full pipe in turn, so the slowest consumer sets the pace. A consumer that
/// is gone for good is dropped from the set; `send` fails only when none is
/// left.
///
/// `wiring.toml` lists its consumers (`to = ["a.input", "b.input"]`); an
/// [`Output`](crate::Output) with more than one is lint error E0301. The
/// message type must be `Clone`. A whole kernel using one:
/// [`Kernel`](crate::Kernel).
///
/// ```
/// # extern crate kernel_core as kernel;
/// use kernel::prelude::*;
///
/// #[derive(Manifest, Default)]
/// #[manifest(class = 0x0a02, owner = "ops")]
/// pub struct Broadcast {
///     pub lines: Multiplex<String>,
/// }
///
/// impl Server for Broadcast {
///     type Config = ();
///     fn new((): ()) -> Self {
///         Broadcast::default()
///     }
///     fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
///         for line in ["start", "stop"] {
///             self.lines.send(line.to_owned())?; // to every consumer
///         }
///         Ok(())
///     }
/// }
///
/// // No consumer at all: the message comes back.
/// let broadcast = Broadcast::new(());
/// assert_eq!(broadcast.lines.consumers(), 0);
/// assert_eq!(broadcast.lines.send("x".into()), Err(SendError("x".to_owned())));
/// ```
pub struct Multiplex<T> {
    outlet: RefCell<Outlet<T>>,
}

impl<T> Default for Multiplex<T> {
    fn default() -> Self {
        Multiplex {
            outlet: RefCell::new(Outlet::default()),
        }
    }
}

impl<T: 'static> fmt::Debug for Multiplex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Multiplex")
            .field("consumers", &self.consumers())
            .finish()
    }
}

impl<T: 'static> Multiplex<T> {
    /// Number of consumers still connected.
    pub fn consumers(&self) -> usize {
        self.outlet.try_borrow().map(|o| o.len()).unwrap_or(0)
    }
}

impl<T: Clone + Send + 'static> Multiplex<T> {
    /// Sends `msg` to every consumer; fails, giving `msg` back, when no
    /// consumer is left, or when a consumer's pipe is full and this server
    /// was asked to restart or stop (the consumers that had room have their
    /// copy).
    #[inline]
    pub fn send(&self, msg: T) -> Result<(), SendError<T>> {
        match self.outlet.try_borrow_mut() {
            Ok(mut outlet) => outlet.send_all(msg),
            // Only reachable through re-entrancy from a `Clone` impl.
            Err(_) => Err(SendError(msg)),
        }
    }

    /// Sends every message of `msgs` to every consumer, in order, as many
    /// at a time as every pipe has room for: each consumer is woken once per
    /// batch instead of once per message.
    ///
    /// Fails like [`send`](Self::send), giving back the message that could
    /// not be sent and the rest of `msgs`, not yet taken.
    pub fn send_all<I: IntoIterator<Item = T>>(
        &self,
        msgs: I,
    ) -> Result<(), SendError<(T, I::IntoIter)>> {
        let mut msgs = msgs.into_iter();
        match self.outlet.try_borrow_mut() {
            Ok(mut outlet) => outlet.send_iter_all(msgs),
            Err(_) => match msgs.next() {
                Some(first) => Err(SendError((first, msgs))),
                None => Ok(()),
            },
        }
    }
}

impl<T: Clone + Send + 'static> Terminal for Multiplex<T> {
    type Message = T;
    const KIND: TerminalKind = TerminalKind::Multiplex;
}

impl<T: Send + 'static> Attach for Multiplex<T> {
    fn attach(&mut self, ends: PortEnds) -> Result<(), Error> {
        ends.register::<T>(TerminalKind::Multiplex);
        *self.outlet.get_mut() = Outlet::attach(ends)?;
        Ok(())
    }
}

impl<T: Clone + Send + 'static> Producer for Multiplex<T> {}
