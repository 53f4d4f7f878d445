//! The four terminal kinds and the plumbing that hands them their pipe ends.
//!
//! A server struct declares its terminals by field type: [`Input`],
//! [`Output`], [`Multiplex`] (fan-out) and [`Combine`] (fan-in). The kernel
//! creates the pipes and gives every terminal its ends through
//! a hidden step of the generated code (`Ports` hands each field its ends).

mod combine;
mod inlet;
mod input;
pub(crate) mod link;
mod multiplex;
mod outlet;
mod output;
pub(crate) mod ports;

use std::fmt;

pub use combine::Combine;
pub use input::Input;
pub use multiplex::Multiplex;
pub use output::Output;

use crate::manifest::TerminalKind;
pub(crate) use ports::{PortEnds, Ports};

/// A terminal field type: one of [`Input`], [`Output`], [`Multiplex`], [`Combine`].
///
/// Sealed: the kernel knows how to hand these four their pipe ends, and no
/// other type can be a terminal.
pub trait Terminal: Default + Send + 'static + sealed::Attach {
    /// The type of the messages the terminal carries.
    type Message: Send + 'static;
    /// Which of the four kinds this is.
    const KIND: TerminalKind;

    /// Gives the field the ends of the terminal named `name`; for the code
    /// `#[derive(Manifest)]` generates, which names the field's type only as
    /// `<Type as Terminal>`, so a type that is no terminal is one error.
    #[doc(hidden)]
    fn __attach(&mut self, ports: &mut Ports, name: &str) -> Result<(), crate::Error> {
        sealed::Attach::attach(self, ports.take(name))
    }
}

pub(crate) mod sealed {
    use super::PortEnds;
    use crate::Error;

    /// How a terminal takes its pipe ends; implemented by the four kinds only.
    pub trait Attach {
        /// Takes the terminal's pipe ends. A terminal with no ends stays
        /// unconnected (an input then sees end of stream at once, an output
        /// fails to send).
        fn attach(&mut self, ends: PortEnds) -> Result<(), Error>;
    }
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::link::Signal;
    use super::sealed::Attach as _;
    use super::*;
    use crate::connectome::{Endpoint, PipeSpec};
    use crate::pipe::ErasedEnd;
    use crate::pipe::pipe;
    use crate::server::ServerError;

    /// Pipe `id` from `p.out` to consumer `c<id>.in` (one consumer per
    /// pipe, as a wiring has them).
    const fn spec(id: u128, capacity: usize) -> PipeSpec {
        const CONSUMERS: [&str; 16] = [
            "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "c11", "c12", "c13",
            "c14", "c15",
        ];
        PipeSpec {
            id: uuid::Uuid::from_u128(id),
            from: Endpoint {
                server: "p",
                terminal: "out",
            },
            to: Endpoint {
                server: CONSUMERS[(id % 16) as usize],
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
    fn multiplex_batches_reach_every_consumer_in_order() {
        static SMALL: PipeSpec = spec(10, 8);
        let (ta, ra, _) = pipe::<u32>(&SMALL);
        let (tb, rb, sb) = pipe::<u32>(&B);
        let mut mux = Multiplex::<u32>::default();
        mux.attach(ends("p", "out", vec![Box::new(ta), Box::new(tb)]))
            .unwrap();
        let producer = std::thread::spawn(move || mux.send_all(0..500).map_err(|_| ()));
        let left = std::thread::spawn(move || std::iter::from_fn(|| ra.recv()).collect::<Vec<_>>());
        let right: Vec<u32> = std::iter::from_fn(|| rb.recv()).collect();
        producer.join().unwrap().unwrap();
        let expected: Vec<u32> = (0..500).collect();
        assert_eq!(left.join().unwrap(), expected);
        assert_eq!(right, expected);
        assert_eq!(sb.messages_in(), 500);
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
    fn a_request_leaves_a_waiting_send_with_the_kernel_for_the_next_run() {
        static ONE: PipeSpec = spec(6, 1);
        let (ta, ra, sa) = pipe::<u32>(&A);
        let (t1, r1, s1) = pipe::<u32>(&ONE);
        let signal = Arc::new(Signal::default());
        let mut ports = Ports::with_signal("p", Arc::clone(&signal));
        ports.push("out", Box::new(ta));
        ports.push("out", Box::new(t1));
        let link = ports.link("out");
        let mut mux = Multiplex::<u32>::default();
        mux.attach(ports.take("out")).unwrap();
        mux.send(1).unwrap();
        // The second pipe is full and nobody reads it; a stop request while
        // the send waits leaves its copy with the kernel and the send
        // succeeds, so `send(x)?` goes on and the server can return.
        let asker = {
            let (signal, link) = (Arc::clone(&signal), Arc::clone(&link));
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                assert!(signal.ask(link::Request::Stop));
                link.touch();
            })
        };
        assert_eq!(mux.send(2), Ok(()));
        asker.join().unwrap();
        assert!(signal.take_interrupted());
        assert_eq!(link.lock().stash.len(), 1);
        // A second send of the same run reaches the first pipe and would
        // wait on the second: handing it back would make a retry deliver it
        // twice to the first, so the kernel keeps this copy too.
        assert_eq!(mux.send(3), Ok(()));
        assert_eq!(link.lock().stash.len(), 2);
        assert_eq!((s1.messages_in(), s1.drops()), (1, 0));
        // A send that reaches no pipe before it would wait is handed back,
        // uncounted: the server has it again.
        static FULL: PipeSpec = spec(8, 1);
        let (tf, _rf, sf) = pipe::<u32>(&FULL);
        let mut lone = Ports::with_signal("q", Arc::clone(&signal));
        lone.push("out", Box::new(tf));
        let mut out = Output::<u32>::default();
        out.attach(lone.take("out")).unwrap();
        out.send(10).unwrap();
        assert_eq!(out.send(11), Ok(()), "the first one of the run is kept");
        assert_eq!(out.send(12), Err(SendError(12)));
        assert_eq!((sf.messages_in(), sf.drops()), (1, 0));
        drop(out);
        lone.release();
        // The next run sends what the kernel kept before anything newer.
        drop(mux);
        signal.clear();
        let mut mux = Multiplex::<u32>::default();
        mux.attach(ports.take("out")).unwrap();
        let reader = std::thread::spawn(move || (r1.recv(), r1.recv(), r1.recv(), r1.recv()));
        mux.send(4).unwrap();
        drop(mux);
        ports.release();
        assert_eq!(reader.join().unwrap(), (Some(1), Some(2), Some(3), Some(4)));
        let a: Vec<u32> = std::iter::from_fn(|| ra.recv()).collect();
        assert_eq!(a, [1, 2, 3, 4]);
        assert!(link.lock().stash.is_empty());
        // Every message is delivered, once.
        assert_eq!((sa.messages_in(), sa.drops()), (4, 0));
        assert_eq!((s1.messages_in(), s1.messages_out(), s1.drops()), (4, 4, 0));
    }

    #[test]
    fn a_kept_message_is_delivered_or_counted_when_the_instance_ends() {
        static ONE: PipeSpec = spec(7, 1);
        let (tx, rx, stats) = pipe::<u32>(&ONE);
        let signal = Arc::new(Signal::default());
        let mut ports = Ports::with_signal("p", Arc::clone(&signal));
        ports.push("out", Box::new(tx));
        let link = ports.link("out");
        let stash_one = |ports: &mut Ports, value| {
            let mut out = Output::<u32>::default();
            out.attach(ports.take("out")).unwrap();
            out.send(value).unwrap();
            assert!(signal.ask(link::Request::Stop));
            link.touch();
            assert_eq!(out.send(value + 1), Ok(()));
            signal.clear();
        };
        // Full: the kept message cannot go in; counted as entered and dropped.
        stash_one(&mut ports, 1);
        assert_eq!(ports.settle_stash(), 1);
        assert_eq!(
            (stats.messages_in(), stats.drops(), stats.queue_depth()),
            (2, 1, 1)
        );
        // With room it is delivered.
        assert_eq!(rx.recv(), Some(1));
        stash_one(&mut ports, 10);
        assert_eq!(rx.recv(), Some(10));
        assert_eq!(ports.settle_stash(), 0);
        assert_eq!(rx.recv(), Some(11));
        assert_eq!(
            (stats.messages_in(), stats.messages_out(), stats.drops()),
            (4, 3, 1)
        );
    }

    #[test]
    fn blocked_time_shows_while_the_producer_waits() {
        static ONE: PipeSpec = spec(8, 1);
        let (tx, rx, stats) = pipe::<u32>(&ONE);
        let signal = Arc::new(Signal::default());
        let mut ports = Ports::with_signal("p", signal);
        ports.push("out", Box::new(tx));
        let link = ports.link("out");
        let mut out = Output::<u32>::default();
        out.attach(ports.take("out")).unwrap();
        out.send(1).unwrap();
        let producer = std::thread::spawn(move || out.send(2));
        std::thread::sleep(Duration::from_millis(60));
        // Still blocked: the wait so far is counted, and the terminal says
        // what it waits on.
        assert!(stats.blocked_now().is_some());
        assert!(stats.blocked() >= Duration::from_millis(40));
        let wait = link.wait().expect("the output waits");
        assert_eq!(wait.kind, link::WaitKind::FullOutput);
        assert_eq!(wait.pipes, [ONE.id]);
        assert_eq!(rx.recv(), Some(1));
        producer.join().unwrap().unwrap();
        assert!(stats.blocked_now().is_none());
        assert!(link.wait().is_none());
        // The producer blocked shortly after the 60 ms began.
        assert!(stats.blocked() >= Duration::from_millis(50));
    }

    #[test]
    fn batches_go_through_in_order_with_end_of_stream() {
        static SMALL: PipeSpec = spec(9, 8);
        let (tx, rx, stats) = pipe::<u32>(&SMALL);
        let mut out = Output::<u32>::default();
        out.attach(ends("p", "out", vec![Box::new(tx)])).unwrap();
        let mut input = Input::<u32>::default();
        input.attach(ends("c", "in", vec![Box::new(rx)])).unwrap();
        let producer = std::thread::spawn(move || out.send_all(0..1000).map_err(|_| ()));
        let mut got = Vec::new();
        let mut batch = Vec::new();
        let mut largest = 0;
        loop {
            let n = input.recv_batch(&mut batch, 64);
            if n == 0 {
                break;
            }
            largest = largest.max(n);
            assert_eq!(n, batch.len());
            got.append(&mut batch);
        }
        producer.join().unwrap().unwrap();
        assert_eq!(got, (0..1000).collect::<Vec<_>>());
        assert!(largest <= 64);
        assert_eq!((stats.messages_in(), stats.messages_out()), (1000, 1000));
    }

    #[test]
    fn send_all_gives_back_the_rest_when_the_consumer_is_gone() {
        let (tx, rx, _) = pipe::<u32>(&A);
        let mut out = Output::<u32>::default();
        out.attach(ends("p", "out", vec![Box::new(tx)])).unwrap();
        drop(rx);
        let SendError((first, rest)) = out.send_all(vec![1, 2, 3]).unwrap_err();
        assert_eq!((first, rest.collect::<Vec<_>>()), (1, vec![2, 3]));
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
