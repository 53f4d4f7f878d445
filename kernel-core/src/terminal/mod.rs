//! The four terminal kinds and the plumbing that hands them their pipe ends.
//!
//! A server struct declares its terminals by field type: [`Input`],
//! [`Output`], [`Multiplex`] (fan-out) and [`Combine`] (fan-in). The kernel
//! creates the pipes and gives every terminal its ends through
//! [`Manifest::attach`](crate::Manifest::attach) and [`Ports`].

mod combine;
mod inlet;
mod input;
pub(crate) mod link;
mod multiplex;
mod outlet;
mod output;

use std::any::TypeId;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

pub use combine::Combine;
pub use input::Input;
pub use multiplex::Multiplex;
pub use output::Output;

use crate::Error;
use crate::manifest::TerminalKind;
use crate::pipe::{ErasedEnd, PipeReceiver, PipeSender};
use link::{Link, Signal, TerminalType};

/// A type-level marker for the terminal field type `T` (`Output<f64>`, ...).
///
/// `#[derive(Manifest)]` emits one `Port` constructor per terminal; the
/// generated wiring passes them to [`KernelBuilder::connect`] so that rustc
/// checks direction and message type of every connection.
///
/// [`KernelBuilder::connect`]: crate::KernelBuilder::connect
pub struct Port<T>(PhantomData<fn() -> T>);

impl<T> Port<T> {
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

/// A terminal field type: one of [`Input`], [`Output`], [`Multiplex`], [`Combine`].
pub trait Terminal: Default + Send + 'static {
    /// The type of the messages the terminal carries.
    type Message: Send + 'static;
    /// Which of the four kinds this is.
    const KIND: TerminalKind;
    /// Takes the terminal's pipe ends. A terminal with no ends stays
    /// unconnected (an input then sees end of stream at once, an output
    /// fails to send).
    fn attach(&mut self, ends: PortEnds) -> Result<(), Error>;
}

/// A sending terminal: [`Output`] or [`Multiplex`].
pub trait Producer: Terminal {}

/// A receiving terminal: [`Input`] or [`Combine`].
pub trait Consumer: Terminal {}

/// The error of a send whose consumers are all gone for good; gives the
/// message back.
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The message that could not be sent.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError { .. }")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("send failed: no consumer is connected to this output any more")
    }
}

impl<T> std::error::Error for SendError<T> {}

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
    pub fn take(&mut self, terminal: &str) -> PortEnds {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::connectome::{Endpoint, PipeSpec};
    use crate::pipe::pipe;
    use crate::server::ServerError;

    const fn spec(id: u128, capacity: usize) -> PipeSpec {
        PipeSpec {
            id: uuid::Uuid::from_u128(id),
            from: Endpoint {
                server: "p",
                terminal: "out",
            },
            to: Endpoint {
                server: "c",
                terminal: "in",
            },
            capacity,
        }
    }
    static A: PipeSpec = spec(1, 4);
    static B: PipeSpec = spec(2, 4);
    static C: PipeSpec = spec(3, 4);

    fn ends(
        server: &'static str,
        terminal: &'static str,
        ends: Vec<Box<dyn ErasedEnd>>,
    ) -> PortEnds {
        let mut ports = Ports::new(server);
        for end in ends {
            ports.push(terminal, end);
        }
        ports.take(terminal)
    }

    #[test]
    fn unattached_terminals_are_closed() {
        assert!(Input::<u8>::default().recv().is_none());
        assert!(Combine::<u8>::default().recv().is_none());
        assert_eq!(Output::default().send(7u8), Err(SendError(7)));
        assert_eq!(Multiplex::default().send(7u8), Err(SendError(7)));
        let mut ports = Ports::new("s");
        assert!(ports.take("nothing").is_empty());
    }

    #[test]
    fn output_and_input_carry_messages_then_end_of_stream() {
        let (tx, rx, stats) = pipe::<u32>(&A);
        let mut out = Output::<u32>::default();
        out.attach(ends("p", "out", vec![Box::new(tx)])).unwrap();
        let mut input = Input::<u32>::default();
        input.attach(ends("c", "in", vec![Box::new(rx)])).unwrap();
        out.send(1).unwrap();
        out.send(2).unwrap();
        assert_eq!(stats.queue_depth(), 2);
        drop(out);
        assert_eq!(input.iter().collect::<Vec<_>>(), [1, 2]);
        assert_eq!(
            (stats.messages_in(), stats.messages_out(), stats.drops()),
            (2, 2, 0)
        );
    }

    #[test]
    fn a_send_to_a_gone_consumer_gives_the_message_back() {
        let (tx, rx, _) = pipe::<String>(&A);
        let mut out = Output::default();
        out.attach(ends("p", "out", vec![Box::new(tx)])).unwrap();
        drop(rx);
        let err = out.send("lost".to_owned()).unwrap_err();
        assert_eq!(err.0, "lost");
        let server_error: ServerError = err.into();
        assert!(server_error.to_string().contains("no consumer"));
    }

    #[test]
    fn a_full_pipe_blocks_the_producer_and_counts_the_time() {
        let (tx, rx, stats) = pipe::<u32>(&A);
        for i in 0..4 {
            tx.send(i).unwrap();
        }
        let consumer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            let first = rx.recv();
            (first, rx)
        });
        tx.send(4).unwrap();
        let (first, _rx) = consumer.join().unwrap();
        assert_eq!(first, Some(0));
        assert!(stats.blocked() >= Duration::from_millis(10));
    }

    #[test]
    fn multiplex_drops_gone_consumers_and_fails_only_when_none_is_left() {
        let (ta, ra, _) = pipe::<u32>(&A);
        let (tb, rb, _) = pipe::<u32>(&B);
        let (tc, rc, _) = pipe::<u32>(&C);
        let mut mux = Multiplex::<u32>::default();
        mux.attach(ends(
            "p",
            "out",
            vec![Box::new(ta), Box::new(tb), Box::new(tc)],
        ))
        .unwrap();
        mux.send(1).unwrap();
        drop(rc); // the last consumer goes
        mux.send(2).unwrap();
        assert_eq!(mux.consumers(), 2);
        drop(ra); // the first consumer goes
        mux.send(3).unwrap();
        assert_eq!(mux.consumers(), 1);
        drop(rb);
        assert_eq!(mux.send(4), Err(SendError(4)));
        assert_eq!(mux.consumers(), 0);
    }

    #[test]
    fn multiplex_clones_to_every_consumer() {
        let (ta, ra, _) = pipe::<Vec<u8>>(&A);
        let (tb, rb, _) = pipe::<Vec<u8>>(&B);
        let mut mux = Multiplex::<Vec<u8>>::default();
        mux.attach(ends("p", "out", vec![Box::new(ta), Box::new(tb)]))
            .unwrap();
        mux.send(vec![1, 2]).unwrap();
        drop(mux);
        assert_eq!(ra.recv(), Some(vec![1, 2]));
        assert_eq!(rb.recv(), Some(vec![1, 2]));
        assert_eq!((ra.recv(), rb.recv()), (None, None));
    }

    #[test]
    fn output_waits_for_room_then_fails_once_the_consumer_is_gone() {
        static ONE: PipeSpec = spec(5, 1);
        let (tx, rx, stats) = pipe::<u32>(&ONE);
        let mut out = Output::<u32>::default();
        out.attach(ends("p", "out", vec![Box::new(tx)])).unwrap();
        out.send(1).unwrap();
        let consumer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            let first = rx.recv();
            (first, rx)
        });
        // Full: waits until the consumer takes 1.
        out.send(2).unwrap();
        let (first, rx) = consumer.join().unwrap();
        assert_eq!(first, Some(1));
        assert!(stats.blocked() >= Duration::from_millis(10));
        let gone = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            drop(rx);
        });
        // Full again, and the consumer goes while the send waits.
        assert_eq!(out.send(3), Err(SendError(3)));
        gone.join().unwrap();
        assert_eq!(stats.messages_in(), 2);
        assert!(!out.is_connected());
    }

    #[test]
    fn a_request_gives_a_waiting_send_its_message_back() {
        static ONE: PipeSpec = spec(6, 1);
        let (ta, ra, _) = pipe::<u32>(&A);
        let (t1, r1, _) = pipe::<u32>(&ONE);
        let signal = Arc::new(Signal::default());
        let mut ports = Ports::with_signal("p", Arc::clone(&signal));
        ports.push("out", Box::new(ta));
        ports.push("out", Box::new(t1));
        let link = ports.link("out");
        let mut mux = Multiplex::<u32>::default();
        mux.attach(ports.take("out")).unwrap();
        mux.send(1).unwrap();
        // The second pipe is full and nobody reads it; a stop request while
        // the send waits gives the message back.
        let asker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            assert!(signal.ask(link::Request::Stop));
            link.touch();
        });
        assert_eq!(mux.send(2), Err(SendError(2)));
        asker.join().unwrap();
        // The pipe that had room has its copy; the full one kept its queue.
        assert_eq!((ra.recv(), ra.recv()), (Some(1), Some(2)));
        assert_eq!(r1.recv(), Some(1));
        // With room again, sends go through even while the request is pending.
        assert_eq!(mux.send(3), Ok(()));
    }

    #[test]
    fn multiplex_waits_for_a_full_consumer_and_copies_once_to_each() {
        static ONE: PipeSpec = spec(4, 1);
        let (ta, ra, sa) = pipe::<u32>(&A);
        let (t1, r1, s1) = pipe::<u32>(&ONE);
        let (tc, rc, sc) = pipe::<u32>(&C);
        let mut mux = Multiplex::<u32>::default();
        mux.attach(ends(
            "p",
            "out",
            vec![Box::new(ta), Box::new(t1), Box::new(tc)],
        ))
        .unwrap();
        mux.send(1).unwrap();
        // The middle pipe is full: the first has its copy, the send waits
        // for the middle one, then the last gets its copy.
        let slow = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            let first = r1.recv();
            (first, r1)
        });
        mux.send(2).unwrap();
        let (first, r1) = slow.join().unwrap();
        assert_eq!(first, Some(1));
        assert!(s1.blocked() >= Duration::from_millis(10));
        assert_eq!(
            (sa.blocked(), sc.blocked()),
            (Duration::ZERO, Duration::ZERO)
        );
        // The middle consumer goes while the send waits on it: the others
        // still get their copy, each exactly once.
        let gone = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            drop(r1);
        });
        mux.send(3).unwrap();
        gone.join().unwrap();
        assert_eq!(mux.consumers(), 2);
        drop(mux);
        let a: Vec<u32> = std::iter::from_fn(|| ra.recv()).collect();
        let c: Vec<u32> = std::iter::from_fn(|| rc.recv()).collect();
        assert_eq!((a, c), (vec![1, 2, 3], vec![1, 2, 3]));
        assert_eq!(
            (sa.messages_in(), s1.messages_in(), sc.messages_in()),
            (3, 2, 3)
        );
    }

    #[test]
    fn combine_drains_every_producer_then_ends() {
        let (ta, ra, _) = pipe::<u32>(&A);
        let (tb, rb, _) = pipe::<u32>(&B);
        let mut combine = Combine::default();
        combine
            .attach(ends("c", "in", vec![Box::new(ra), Box::new(rb)]))
            .unwrap();
        ta.send(1).unwrap();
        tb.send(10).unwrap();
        ta.send(2).unwrap();
        drop(ta);
        let late = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            tb.send(11).unwrap();
        });
        let mut got: Vec<u32> = combine.iter().collect();
        late.join().unwrap();
        got.sort_unstable();
        assert_eq!(got, [1, 2, 10, 11]);
        assert_eq!(combine.producers(), 0);
    }

    #[test]
    fn attach_refuses_two_peers_on_a_single_terminal() {
        let (ta, _ra, _) = pipe::<u32>(&A);
        let (tb, _rb, _) = pipe::<u32>(&B);
        let err = Output::<u32>::default()
            .attach(ends("p", "out", vec![Box::new(ta), Box::new(tb)]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot attach terminal `p.out`: 2 consumers are connected but the terminal is an \
             `Output`; declare it as `Multiplex`"
        );
    }

    #[test]
    fn attach_refuses_ends_of_another_message_type() {
        let (_ta, ra, _) = pipe::<u32>(&A);
        let err = Input::<String>::default()
            .attach(ends("c", "in", vec![Box::new(ra)]))
            .unwrap_err();
        assert!(err.to_string().contains("is not a receiving end"), "{err}");
        let (ta, _ra, _) = pipe::<u32>(&A);
        let err = Input::<u32>::default()
            .attach(ends("c", "in", vec![Box::new(ta)]))
            .unwrap_err();
        assert!(err.to_string().contains("is not a receiving end"), "{err}");
    }

    #[test]
    fn ports_hand_out_fresh_clones_for_restarts() {
        let (ta, ra, _) = pipe::<u32>(&A);
        let mut master = Ports::new("p");
        master.push("out", Box::new(ta));
        let mut first = master.clone_ends();
        let mut out = Output::<u32>::default();
        out.attach(first.take("out")).unwrap();
        out.send(1).unwrap();
        drop(out);
        let mut second = master.clone_ends();
        let mut out = Output::<u32>::default();
        out.attach(second.take("out")).unwrap();
        out.send(2).unwrap();
        // The instance is finished for good: the kernel lets go of its ends.
        master.release();
        drop(out);
        assert_eq!((ra.recv(), ra.recv(), ra.recv()), (Some(1), Some(2), None));
    }
}
