use std::cell::RefCell;
use std::fmt;

use super::inlet::Inlet;
use super::sealed::Attach;
use super::{Consumer, PortEnds, Terminal};
use crate::Error;
use crate::manifest::TerminalKind;

/// An input combiner (fan-in): the union of every producer's messages, each
/// exactly once, in each producer's order.
///
/// `recv` returns `None` once every producer has finished for good and every
/// pipe is drained. Paused pipes are skipped; their messages stay queued.
///
/// `wiring.toml` lists its producers (`from = ["a.out", "b.out"]`); an
/// [`Input`](crate::Input) with more than one is lint error E0302. A whole
/// kernel using one: [`Kernel`](crate::Kernel).
///
/// ```
/// # extern crate kernel_core as kernel;
/// use kernel::prelude::*;
///
/// #[derive(Manifest, Default)]
/// #[manifest(class = 0x0c01, owner = "ops")]
/// pub struct Logbook {
///     pub entries: Combine<String>,
/// }
///
/// impl Server for Logbook {
///     type Config = ();
///     fn new((): ()) -> Self {
///         Logbook::default()
///     }
///     fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
///         // Until every producer finished and every pipe is drained.
///         for entry in self.entries.iter() {
///             tracing::info!("{entry}");
///         }
///         Ok(())
///     }
/// }
///
/// // Without producers the stream is over before it began.
/// let logbook = Logbook::new(());
/// assert_eq!(logbook.entries.producers(), 0);
/// assert_eq!(logbook.entries.recv(), None);
/// ```
pub struct Combine<T> {
    inlet: RefCell<Inlet<T>>,
}

impl<T> Default for Combine<T> {
    fn default() -> Self {
        Combine {
            inlet: RefCell::new(Inlet::default()),
        }
    }
}

impl<T: 'static> fmt::Debug for Combine<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Combine")
            .field("producers", &self.producers())
            .finish()
    }
}

impl<T: 'static> Combine<T> {
    /// Number of producers whose pipes are still open or not yet drained.
    pub fn producers(&self) -> usize {
        self.inlet.try_borrow().map(|i| i.len()).unwrap_or(0)
    }

    /// The next message from any producer; `None` at end of stream.
    #[inline]
    pub fn recv(&self) -> Option<T> {
        self.inlet.try_borrow_mut().ok()?.recv()
    }

    /// Waits for at least one message, then appends to `batch` every message
    /// waiting (up to `max`) at once: one wake-up of the producer per batch
    /// instead of one per message. Returns how many; 0 at end of stream.
    ///
    /// ```
    /// # use kernel_core::Combine;
    /// # let input = Combine::<u64>::default();
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
    /// # use kernel_core::Combine;
    /// # let input = Combine::<u64>::default();
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
}

impl<T: Send + 'static> Terminal for Combine<T> {
    type Message = T;
    const KIND: TerminalKind = TerminalKind::Combine;
}

impl<T: Send + 'static> Attach for Combine<T> {
    fn attach(&mut self, ends: PortEnds) -> Result<(), Error> {
        ends.register::<T>(Self::KIND);
        *self.inlet.get_mut() = Inlet::attach(ends)?;
        Ok(())
    }
}

impl<T: Send + 'static> Consumer for Combine<T> {}
