//! How a server instance's terminals get their pipe ends: the kernel keeps
//! one [`Ports`] per instance, and the code `#[derive(Manifest)]` generates
//! hands every terminal field its [`PortEnds`]. Only generated code names
//! these (through `kernel::__private`).

use std::any::TypeId;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use super::link::{Link, Signal, TerminalType};
use crate::Error;
use crate::manifest::TerminalKind;
use crate::pipe::{ErasedEnd, PipeReceiver, PipeSender};

/// A type-level marker for the terminal field type `T` (`Output<f64>`, ...).
///
/// `#[derive(Manifest)]` emits one `Port` constructor per terminal; the
/// generated wiring passes them to [`KernelBuilder::connect`] so that rustc
/// checks direction and message type of every connection.
///
/// [`KernelBuilder::connect`]: crate::KernelBuilder::connect
pub struct Port<T>(PhantomData<fn() -> T>);

impl<T> Port<T> {
    /// The port of a terminal of type `T`.
    pub const fn new() -> Self {
        Port(PhantomData)
    }
}

impl<T> Default for Port<T> {
    fn default() -> Self {
        Port::new()
    }
}

impl<T> Clone for Port<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Port<T> {}

impl<T> fmt::Debug for Port<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Port<{}>", std::any::type_name::<T>())
    }
}

/// The pipe ends of every terminal of one server instance, by terminal name.
///
/// Each terminal's ends live in a link the kernel keeps for the life of the
/// instance; every (re)start of the server takes a fresh view of them, and
/// live modification changes them while the server runs.
pub struct Ports {
    server: &'static str,
    signal: Arc<Signal>,
    links: BTreeMap<&'static str, Arc<Link>>,
    /// Terminals `take` has not handed out yet.
    untaken: BTreeSet<&'static str>,
}

impl Ports {
    #[cfg(test)]
    pub(crate) fn new(server: &'static str) -> Self {
        Ports::with_signal(server, Arc::new(Signal::default()))
    }

    pub(crate) fn with_signal(server: &'static str, signal: Arc<Signal>) -> Self {
        Ports {
            server,
            signal,
            links: BTreeMap::new(),
            untaken: BTreeSet::new(),
        }
    }

    /// The link of `terminal`, created without ends if it has none yet.
    pub(crate) fn link(&mut self, terminal: &'static str) -> Arc<Link> {
        self.untaken.insert(terminal);
        Arc::clone(self.links.entry(terminal).or_insert_with(|| {
            Arc::new(Link::new(self.server, terminal, Arc::clone(&self.signal)))
        }))
    }

    /// Adds one pipe end to `terminal`, after the ends it already has.
    #[cfg(test)]
    pub(crate) fn push(&mut self, terminal: &'static str, end: Box<dyn ErasedEnd>) {
        self.link(terminal).push(end);
    }

    /// A fresh view of every link, for one (re)start of the server.
    pub(crate) fn clone_ends(&self) -> Ports {
        Ports {
            server: self.server,
            signal: Arc::clone(&self.signal),
            links: self.links.clone(),
            untaken: self.links.keys().copied().collect(),
        }
    }

    /// Every terminal's link, by terminal name.
    pub(crate) fn links(&self) -> &BTreeMap<&'static str, Arc<Link>> {
        &self.links
    }

    pub(crate) fn signal(&self) -> &Arc<Signal> {
        &self.signal
    }

    /// Marks every pipe this instance feeds as closed: it is finished for good.
    pub(crate) fn close_outputs(&self) {
        for link in self.links.values() {
            link.lock()
                .ends
                .iter()
                .filter(|e| e.is_sender())
                .for_each(|e| e.stats().close());
        }
    }

    /// The instance is finished for good: messages the kernel kept for a
    /// restart go into their pipes if there is room, or are counted as
    /// dropped. Returns how many were dropped.
    pub(crate) fn settle_stash(&self) -> u64 {
        self.links.values().map(|l| l.settle_stash()).sum()
    }

    /// Drops the kernel's copy of every end (the instance is finished for
    /// good), which ends the streams it feeds.
    pub(crate) fn release(&self) {
        for link in self.links.values() {
            link.release();
        }
    }

    /// True when the instance has inputs and every one of them is at end of
    /// stream (producer finished for good, pipe drained).
    pub(crate) fn inputs_ended(&self) -> bool {
        let mut inputs = 0;
        for link in self.links.values() {
            let state = link.lock();
            let consumer = state.ty.map(|t| !t.kind.is_producer());
            let receivers: Vec<_> = state.ends.iter().filter(|e| !e.is_sender()).collect();
            if consumer == Some(true) || !receivers.is_empty() {
                inputs += 1;
                if state.dormant
                    || receivers
                        .iter()
                        .any(|e| !(e.stats().is_closed() && e.stats().queue_depth() == 0))
                {
                    return false;
                }
            }
        }
        inputs > 0
    }

    /// Terminals that hold ends nothing took.
    pub(crate) fn remaining(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.untaken
            .iter()
            .copied()
            .filter(|t| self.links.get(t).is_some_and(|l| !l.lock().ends.is_empty()))
    }

    /// Takes the ends of `terminal`; empty when the terminal is not connected.
    pub(crate) fn take(&mut self, terminal: &str) -> PortEnds {
        self.untaken.remove(terminal);
        let link = self.links.get(terminal).cloned();
        let (epoch, dormant, ends) = match &link {
            Some(link) => {
                let state = link.lock();
                (
                    link.epoch(),
                    state.dormant,
                    state.ends.iter().map(|e| e.clone_end()).collect(),
                )
            }
            None => (0, false, Vec::new()),
        };
        PortEnds {
            server: self.server,
            terminal: terminal.to_owned(),
            link,
            epoch,
            dormant,
            ends,
        }
    }
}

impl fmt::Debug for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ports")
            .field("server", &self.server)
            .field(
                "terminals",
                &self
                    .links
                    .iter()
                    .map(|(k, v)| (*k, v.lock().ends.len()))
                    .collect::<BTreeMap<_, _>>(),
            )
            .finish()
    }
}

/// The pipe ends of one terminal (type-erased until the terminal takes them).
pub struct PortEnds {
    server: &'static str,
    terminal: String,
    pub(crate) link: Option<Arc<Link>>,
    /// The link's epoch when the ends were copied.
    pub(crate) epoch: u64,
    pub(crate) dormant: bool,
    ends: Vec<Box<dyn ErasedEnd>>,
}

impl fmt::Debug for PortEnds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortEnds")
            .field("server", &self.server)
            .field("terminal", &self.terminal)
            .field("ends", &self.ends.len())
            .finish()
    }
}

impl PortEnds {
    /// Number of pipes attached to the terminal.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when the terminal is not connected.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Records the terminal's kind and message type with the kernel, so
    /// that connections made at run time are checked by `TypeId`.
    pub(crate) fn register<T: Send + 'static>(&self, kind: TerminalKind) {
        if let Some(link) = &self.link {
            link.register(TerminalType {
                kind,
                type_id: TypeId::of::<T>(),
                type_name: std::any::type_name::<T>(),
                make_pipe: crate::pipe::erased_pipe::<T>,
            });
        }
    }

    fn error(&self, reason: String) -> Error {
        Error::Attach {
            server: self.server.to_owned(),
            terminal: self.terminal.clone(),
            reason,
        }
    }

    fn downcast<E: 'static>(self, what: &str) -> Result<Vec<E>, Error> {
        let mut out = Vec::with_capacity(self.ends.len());
        for end in self.ends {
            let spec = end.spec();
            match end.into_any().downcast::<E>() {
                Ok(end) => out.push(*end),
                Err(_) => {
                    return Err(Error::Attach {
                        server: self.server.to_owned(),
                        terminal: self.terminal,
                        reason: format!(
                            "the pipe `{} -> {}` is not {what} of `{}`",
                            spec.from,
                            spec.to,
                            std::any::type_name::<E>()
                        ),
                    });
                }
            }
        }
        Ok(out)
    }

    pub(crate) fn senders<T: Send + 'static>(self) -> Result<Vec<PipeSender<T>>, Error> {
        self.downcast::<PipeSender<T>>("a sending end")
    }

    pub(crate) fn receivers<T: Send + 'static>(self) -> Result<Vec<PipeReceiver<T>>, Error> {
        self.downcast::<PipeReceiver<T>>("a receiving end")
    }

    /// Fails unless at most one open pipe is attached (for `Input` and
    /// `Output`); pipes a disconnect closed and that still drain do not
    /// count, their messages are delivered first.
    pub(crate) fn at_most_one(&self, kind: TerminalKind) -> Result<(), Error> {
        let open = self.ends.iter().filter(|e| !e.stats().is_closed()).count();
        if crate::manifest::check_fan(kind, open).is_err() {
            let peers = if kind.is_producer() {
                "consumers"
            } else {
                "producers"
            };
            return Err(self.error(format!(
                "{open} {peers} are connected but the terminal is an `{}`; declare it as `{}`",
                kind.type_name(),
                kind.fan_kind().type_name()
            )));
        }
        Ok(())
    }
}
