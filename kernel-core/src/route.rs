//! Routes: pipes with one end on another kernel.
//!
//! The core knows only the local side of a route and what a route looks
//! like to an observer; carrying the messages between kernels (a network
//! engine, encodings, credits) is policy, in the mesh crate.
//!
//! - [`Drain`]: the consumer end of a route's local pipe. The kernel puts
//!   the producer end on the route's output terminal like any other pipe
//!   ([`KernelBuilder::route`](crate::KernelBuilder::route)); whatever
//!   carries the route to the other kernel takes the messages out of the
//!   drain.
//! - [`Feed`]: a producer end into a local input terminal, for messages that
//!   arrive from another kernel ([`Control::feed`](crate::Control::feed)).
//! - [`RouteStatus`] and [`RouteTable`]: the view of every route that
//!   [`Connectome::routes`] gives; the mesh registers the table.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::connectome::Connectome;
use crate::control::events::Subject;
use crate::pipe::wake::Waker;
use crate::pipe::{ErasedEnd, PipeReceiver, PipeSender, PipeStats, Reader, TryRecv, Writer};
use crate::terminal::link::Link;

/// Where a route is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteState {
    /// Waiting for the other kernel (absent, unreachable, or not yet asked).
    Planned,
    /// The remote terminal is booked; messages flow.
    Connected,
    /// The producer finished; what it sent is being delivered.
    Draining,
    /// Everything was delivered (or counted lost) and the route ended.
    Closed,
    /// The other kernel refused the route (type mismatch, not offered,
    /// booked, bad passphrase); it is asked again now and then.
    Failed,
}

impl RouteState {
    /// The lowercase name used in reports and APIs.
    pub const fn as_str(self) -> &'static str {
        match self {
            RouteState::Planned => "planned",
            RouteState::Connected => "connected",
            RouteState::Draining => "draining",
            RouteState::Closed => "closed",
            RouteState::Failed => "failed",
        }
    }
}

impl std::fmt::Display for RouteState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Which way a route goes, seen from this kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteDirection {
    /// From a local output to another kernel (`[[routes]]` of this kernel).
    Outbound,
    /// From another kernel into a local input terminal.
    Inbound,
}

impl RouteDirection {
    /// `outbound` or `inbound`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RouteDirection::Outbound => "outbound",
            RouteDirection::Inbound => "inbound",
        }
    }
}

/// A snapshot of one route.
///
/// The counters are messages, seen from the side that reports them:
/// `sent` left the producer's kernel, `received` were taken by the
/// consuming server, `in_flight` are neither received nor lost yet, `lost`
/// were known to be undelivered when a kernel died or stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteStatus {
    /// The route's id: UUID v5 of the kernel name, its source and its target.
    pub id: Uuid,
    /// `server.terminal` here for an outbound route; `kernel/server.terminal`
    /// of the sender for an inbound one.
    pub from: String,
    /// The remote guest and terminal (as wired, or the guest a mask chose)
    /// for an outbound route; `server.terminal` here for an inbound one.
    pub to: String,
    /// Outbound (from a terminal here) or inbound (into a terminal here).
    pub direction: RouteDirection,
    /// Where it is in its life: planned, connected, draining, closed, failed.
    pub state: RouteState,
    /// Messages that left the producer's kernel.
    pub sent: u64,
    /// Messages the consuming server took.
    pub received: u64,
    /// Messages sent and neither received nor lost yet.
    pub in_flight: u64,
    /// Messages known to be undelivered when a kernel died or stopped.
    pub lost: u64,
    /// Why the route is in its state, when that needs saying (what it
    /// waits for, why it was refused).
    pub reason: Option<String>,
}

/// The routes of a kernel, as whatever runs them sees them.
pub trait RouteTable: Send + Sync + 'static {
    /// Every route, outbound (in wiring order) then inbound.
    fn routes(&self) -> Vec<RouteStatus>;
}

/// The registered table, kept as an extension of the connectome.
struct Table(Arc<dyn RouteTable>);

impl Connectome {
    /// Makes `table` the source of [`routes`](Self::routes).
    pub fn set_route_table(&self, table: Arc<dyn RouteTable>) {
        self.extensions().insert(Table(table));
    }

    /// Every route of this kernel. Without a route table (no mesh runs this
    /// kernel), the wiring's routes are listed as `planned`.
    pub fn routes(&self) -> Vec<RouteStatus> {
        if let Some(table) = self.extensions().get::<Table>() {
            return table.0.routes();
        }
        self.spec()
            .routes
            .iter()
            .map(|r| RouteStatus {
                id: r.id,
                from: r.from.to_string(),
                to: match r.to {
                    wiring_model::RouteTarget::Guest(g) | wiring_model::RouteTarget::Mask(g) => {
                        format!("{g}.{}", r.terminal)
                    }
                },
                direction: RouteDirection::Outbound,
                state: RouteState::Planned,
                sent: 0,
                received: 0,
                in_flight: 0,
                lost: 0,
                reason: Some("no mesh runs this kernel's routes".to_owned()),
            })
            .collect()
    }

    /// Appends a route's transition (or, with `from == to`, a note about
    /// it) to the event log.
    pub fn log_route(&self, id: Uuid, label: &str, from: RouteState, to: RouteState, cause: &str) {
        self.live.events.push(
            Subject::Route {
                id,
                label: label.to_owned(),
            },
            from.as_str(),
            to.as_str(),
            cause,
        );
    }
}

/// The drains of the routes from one output, each with its route.
pub type RouteDrains<T> = Vec<(&'static wiring_model::RouteSpec, Drain<T>)>;

/// What [`Drain::recv_timeout`] got.
#[derive(Debug, PartialEq, Eq)]
pub enum Drained<T> {
    /// A message from the producer.
    Message(T),
    /// Nothing arrived within the timeout.
    Empty,
    /// The producer finished for good and everything was taken.
    Closed,
}

/// The consumer end of a route's local pipe: what the route's output
/// terminal sends comes out here, in order, under the pipe's back pressure.
pub struct Drain<T> {
    /// The reading side, held for good: no terminal reads this pipe.
    reader: Reader<T>,
    /// Where the drain's owner sleeps; the route's output terminal wakes it.
    waker: Arc<Waker>,
}

impl<T: Send + 'static> std::fmt::Debug for Drain<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Drain")
            .field("route", &self.reader.id())
            .field("queued", &self.queued())
            .finish()
    }
}

impl<T: Send + 'static> Drain<T> {
    /// The drain of a new pipe's consumer end `rx`.
    pub(crate) fn new(rx: PipeReceiver<T>) -> Self {
        let waker = Arc::new(Waker::default());
        rx.bind(&waker);
        match Reader::claim(rx) {
            Ok(reader) => Drain { reader, waker },
            Err(_) => unreachable!("a route's pipe is new: nothing else reads it"),
        }
    }

    /// The next message, waiting at most `timeout` for one.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Drained<T> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.try_recv() {
                Drained::Empty => {}
                got => return got,
            }
            // Woken without a message (the kernel rang: a producer end
            // came or went): wait on for what is left of the time.
            let left = deadline.saturating_duration_since(Instant::now());
            let reader = &self.reader;
            if left.is_zero() || !self.waker.sleep_for(left, || reader.is_ready()) {
                return self.try_recv();
            }
        }
    }

    /// The next message if one is waiting.
    pub fn try_recv(&mut self) -> Drained<T> {
        match self.reader.poll() {
            TryRecv::Message(msg) => Drained::Message(msg),
            TryRecv::Empty => Drained::Empty,
            TryRecv::Closed => Drained::Closed,
        }
    }

    /// Messages waiting in the local pipe.
    pub fn queued(&self) -> u64 {
        self.reader.stats().queue_depth()
    }

    /// The local pipe's counters.
    pub fn stats(&self) -> &PipeStats {
        self.reader.stats()
    }
}

/// Why [`Feed::try_send`] gave a message back.
#[derive(Debug, PartialEq, Eq)]
pub enum FeedError<T> {
    /// The pipe has no room: the sender sent beyond the room it was given.
    Full(T),
    /// The terminal's server is gone for good.
    Gone(T),
}

/// A producer end into a local input terminal, for messages that arrive
/// from another kernel. The terminal reads it like any pipe.
///
/// [`finish`](Self::finish) ends the stream (the terminal sees end of
/// stream once every producer finished); dropping the feed instead detaches
/// it: the terminal takes what is queued, then waits for a new producer.
pub struct Feed<T> {
    /// The writing side, held until the feed finishes or is dropped; a
    /// lock because the mesh delivers from whichever thread a message
    /// arrived on (uncontended: one route, one thread at a time).
    writer: Mutex<Option<Writer<T>>>,
    stats: Arc<PipeStats>,
    link: Arc<Link>,
    capacity: usize,
}

impl<T> std::fmt::Debug for Feed<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed")
            .field(
                "terminal",
                &format_args!("{}.{}", self.link.server, self.link.terminal),
            )
            .field("capacity", &self.capacity)
            .field("queued", &self.stats.queue_depth())
            .finish()
    }
}

impl<T: Send + 'static> Feed<T> {
    pub(crate) fn new(
        tx: PipeSender<T>,
        stats: Arc<PipeStats>,
        link: Arc<Link>,
        capacity: usize,
    ) -> Self {
        Feed {
            writer: Mutex::new(Writer::claim(tx).ok()),
            stats,
            link,
            capacity,
        }
    }

    /// Puts `msg` into the pipe if it has room; never waits.
    pub fn try_send(&self, msg: T) -> Result<(), FeedError<T>> {
        let mut writer = self.writer();
        let Some(writer) = writer.as_mut().filter(|w| !w.is_gone()) else {
            return Err(FeedError::Gone(msg));
        };
        match writer.try_push(msg) {
            Ok(()) => {
                writer.notify();
                Ok(())
            }
            Err(msg) => Err(FeedError::Full(msg)),
        }
    }

    fn writer(&self) -> MutexGuard<'_, Option<Writer<T>>> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Room left in the pipe, in messages.
    pub fn free(&self) -> usize {
        let queued = usize::try_from(self.stats.queue_depth()).unwrap_or(usize::MAX);
        self.capacity.saturating_sub(queued)
    }

    /// The pipe's counters; they stay readable after the feed is gone, so
    /// what the terminal takes from a detached feed can still be counted.
    pub fn stats(&self) -> Arc<PipeStats> {
        Arc::clone(&self.stats)
    }

    /// Ends the stream: the terminal takes what is queued, and sees end of
    /// stream once no other producer feeds it.
    pub fn finish(self) {
        let Some(writer) = self.writer().take() else {
            return;
        };
        self.stats.close();
        drop(writer);
        self.link.change(|s| {
            let others = s
                .ends
                .iter()
                .filter(|e| !e.is_sender() && !e.stats().same_pipe(&self.stats))
                .any(|e| e.stats().senders() > 0);
            if !others {
                s.dormant = false;
            }
        });
    }
}

impl<T> Drop for Feed<T> {
    fn drop(&mut self) {
        let writer = self
            .writer
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(writer) = writer {
            // Detached, not finished: the terminal drains the pipe, then
            // waits for a new producer. Dormant before the end goes, or the
            // terminal could see end of stream in between.
            self.link.change(|s| s.dormant = true);
            self.stats.close();
            drop(writer);
        }
    }
}
