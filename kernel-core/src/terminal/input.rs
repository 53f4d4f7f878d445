use std::cell::RefCell;
use std::fmt;

use super::inlet::Inlet;
use super::sealed::Attach;
use super::{Consumer, PortEnds, Terminal};
use crate::Error;
use crate::manifest::TerminalKind;

/// An input terminal: exactly one producer.
///
/// `recv` blocks while the pipe is empty and returns `None` once the producer
/// has finished for good and the pipe is drained (end of stream). An
/// unconnected input is at end of stream from the start. While its pipe is
/// paused, `recv` waits and the messages stay in the pipe; after a live
/// disconnect it waits for a new producer (until the kernel stops).
///
/// A server reads until end of stream; returning then ends its own outputs
/// in turn. A whole kernel using one: [`Kernel`](crate::Kernel).
///
/// ```
/// # extern crate kernel_core as kernel;
/// use kernel::prelude::*;
///
/// #[derive(Manifest, Default)]
/// #[manifest(class = 0x0b01, owner = "ops")]
/// pub struct Average {
///     pub celsius: Input<f64>,
///     pub mean: Output<f64>,
/// }
///
/// impl Server for Average {
///     type Config = ();
///     fn new((): ()) -> Self {
///         Average::default()
///     }
///     fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
///         let (mut sum, mut n) = (0.0, 0);
///         while let Some(t) = self.celsius.recv() {
///             sum += t;
///             n += 1;
///         }
///         if n > 0 {
///             self.mean.send(sum / n as f64)?;
///         }
///         Ok(())
///     }
/// }
///
/// // An input nothing is wired to is at end of stream from the start.
/// let average = Average::new(());
/// assert!(!average.celsius.is_connected());
/// assert_eq!(average.celsius.recv(), None);
/// ```
pub struct Input<T> {
    inlet: RefCell<Inlet<T>>,
}

impl<T> Default for Input<T> {
    fn default() -> Self {
        Input {
            inlet: RefCell::new(Inlet::default()),
        }
    }
}

impl<T: 'static> fmt::Debug for Input<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Input")
            .field("connected", &self.is_connected())
            .finish()
    }
}

impl<T: 'static> Input<T> {
    /// The next message; `None` at end of stream.
    #[inline]
    pub fn recv(&self) -> Option<T> {
        self.inlet.try_borrow_mut().ok()?.recv()
    }

    /// Waits for at least one message, then appends to `batch` every message
    /// waiting (up to `max`) at once: one wake-up of the producer per batch
    /// instead of one per message. Returns how many; 0 at end of stream.
    ///
    /// ```
    /// # use kernel_core::Input;
    /// # let input = Input::<u64>::default();
    /// let mut batch = Vec::with_capacity(256);
    /// while input.recv_batch(&mut batch, 256) > 0 {
    ///     for x in batch.drain(..) {
    ///         // work on x
    /// #       let _ = x;
    ///     }
    /// }
    /// ```
    pub fn recv_batch(&self, batch: &mut Vec<T>, max: usize) -> usize {
        self.recv_each(max, |msg| batch.push(msg))
    }

    /// Like [`recv_batch`](Self::recv_batch), handing each message to `f`
    /// straight out of the pipe, without a buffer in between: the cheapest
    /// way to consume many messages.
    ///
    /// ```
    /// # use kernel_core::Input;
    /// # let input = Input::<u64>::default();
    /// let mut sum = 0;
    /// while input.recv_each(256, |x| sum += x) > 0 {}
    /// ```
    pub fn recv_each(&self, max: usize, f: impl FnMut(T)) -> usize {
        match self.inlet.try_borrow_mut() {
            Ok(mut inlet) => inlet.recv_each(max, f),
            Err(_) => 0,
        }
    }

    /// Every message until end of stream.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(|| self.recv())
    }

    /// True when the input has a pipe.
    pub fn is_connected(&self) -> bool {
        self.inlet.try_borrow().is_ok_and(|i| i.len() > 0)
    }
}

impl<T: Send + 'static> Terminal for Input<T> {
    type Message = T;
    const KIND: TerminalKind = TerminalKind::Input;
}

impl<T: Send + 'static> Attach for Input<T> {
    fn attach(&mut self, ends: PortEnds) -> Result<(), Error> {
        ends.register::<T>(Self::KIND);
        ends.at_most_one(Self::KIND)?;
        *self.inlet.get_mut() = Inlet::attach(ends)?;
        Ok(())
    }
}

impl<T: Send + 'static> Consumer for Input<T> {}
