use std::cell::RefCell;
use std::fmt;

use super::outlet::Outlet;
use super::sealed::Attach;
use super::{PortEnds, Producer, SendError, Terminal};
use crate::Error;
use crate::manifest::TerminalKind;

/// An output terminal: exactly one consumer.
///
/// `send` blocks while the pipe is full (back pressure) and fails with
/// [`SendError`] once the consumer is gone for good. Dropping the output (or
/// the server finishing for good) closes the pipe: the consumer sees end of
/// stream after draining. After a live disconnect `send` waits for a new
/// consumer (until the server or the kernel stops).
///
/// A server declares its outputs as fields; `?` turns a failed send into
/// the server's error. A whole kernel using one: [`Kernel`](crate::Kernel).
///
/// ```
/// # extern crate kernel_core as kernel;
/// use kernel::prelude::*;
///
/// #[derive(Manifest, Default)]
/// #[manifest(class = 0x0a01, owner = "ops")]
/// pub struct Ticker {
///     pub ticks: Output<u64>,
/// }
///
/// impl Server for Ticker {
///     type Config = ();
///     fn new((): ()) -> Self {
///         Ticker::default()
///     }
///     fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
///         let mut n = 0;
///         while !ctx.stopping() {
///             self.ticks.send(n)?; // blocks while the consumer lags behind
///             n += 1;
///         }
///         Ok(())
///     }
/// }
///
/// // Not wired to anything: nobody could ever receive, so `send` fails at
/// // once and hands the message back.
/// let ticker = Ticker::new(());
/// assert!(!ticker.ticks.is_connected());
/// assert_eq!(ticker.ticks.send(7), Err(SendError(7)));
/// ```
pub struct Output<T> {
    outlet: RefCell<Outlet<T>>,
}

impl<T> Default for Output<T> {
    fn default() -> Self {
        Output {
            outlet: RefCell::new(Outlet::default()),
        }
    }
}

impl<T: 'static> fmt::Debug for Output<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Output")
            .field("connected", &self.is_connected())
            .finish()
    }
}

impl<T: Send + 'static> Output<T> {
    /// Sends `msg` to the consumer, blocking while the pipe is full.
    ///
    /// Fails, giving `msg` back, when the consumer is gone for good, the
    /// output is not connected, or the pipe is full and this server was asked
    /// to restart or stop (so that it can return from `run`).
    #[inline]
    pub fn send(&self, msg: T) -> Result<(), SendError<T>> {
        match self.outlet.try_borrow_mut() {
            Ok(mut outlet) => outlet.send_one(msg),
            // Only reachable through re-entrancy.
            Err(_) => Err(SendError(msg)),
        }
    }

    /// Sends every message of `msgs` in order, blocking while the pipe is
    /// full, as many at a time as the pipe has room for: the consumer is
    /// woken once per batch instead of once per message. For a server that
    /// has several messages at hand (a parsed file, a decoded packet).
    ///
    /// Fails like [`send`](Self::send), giving back the message that could
    /// not be sent and the rest of `msgs`, not yet taken.
    pub fn send_all<I: IntoIterator<Item = T>>(
        &self,
        msgs: I,
    ) -> Result<(), SendError<(T, I::IntoIter)>> {
        let mut msgs = msgs.into_iter();
        match self.outlet.try_borrow_mut() {
            Ok(mut outlet) => outlet.send_iter(msgs),
            Err(_) => match msgs.next() {
                Some(first) => Err(SendError((first, msgs))),
                None => Ok(()),
            },
        }
    }
}

impl<T> Output<T> {
    /// True when the output has a pipe.
    pub fn is_connected(&self) -> bool {
        self.outlet.try_borrow().is_ok_and(|o| o.len() > 0)
    }
}

impl<T: Send + 'static> Terminal for Output<T> {
    type Message = T;
    const KIND: TerminalKind = TerminalKind::Output;
}

impl<T: Send + 'static> Attach for Output<T> {
    fn attach(&mut self, ends: PortEnds) -> Result<(), Error> {
        ends.register::<T>(Self::KIND);
        ends.at_most_one(Self::KIND)?;
        *self.outlet.get_mut() = Outlet::attach(ends)?;
        Ok(())
    }
}

impl<T: Send + 'static> Producer for Output<T> {}
