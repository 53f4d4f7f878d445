//! Pipes: one bounded, wait-free single-producer single-consumer ring
//! between exactly one producer terminal and one consumer terminal, with
//! counters.
//!
//! Fan-out and fan-in are built from several pipes: a [`Multiplex`] holds one
//! ring per consumer, a [`Combine`] one ring per producer, so every ring has
//! one writer and one reader and needs no lock or read-modify-write per
//! message. The ring ([`rtrb`]) is allocated by the first message sent and
//! its slots are not touched before use: an idle pipe costs a few hundred
//! bytes, a busy one resident memory only for the slots messages went
//! through.
//!
//! The kernel keeps a copy of every pipe end ([`PipeSender`],
//! [`PipeReceiver`]) so a restarted server gets its pipes back; the side of
//! the ring itself is *claimed* by the one terminal that uses it
//! ([`Writer`], [`Reader`]) and handed back when that terminal is dropped.
//! Terminals that wait sleep on their link's [`wake::Waker`].
//!
//! [`Multiplex`]: crate::Multiplex
//! [`Combine`]: crate::Combine

pub(crate) mod tap;
pub(crate) mod wake;

use std::any::Any;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

pub use tap::{TapEncoder, TapError, TapSample, TapWatch};
use wake::Waker;

use crate::connectome::{Endpoint, PipeSpec};

/// Counters written by the producer side of a pipe.
#[derive(Debug, Default)]
struct ProducerCounters {
    messages_in: AtomicU64,
    blocked_nanos: AtomicU64,
    /// While a producer is blocked: when it started, in ns since
    /// [`epoch`] plus one; 0 while it is not.
    blocked_since: AtomicU64,
    drops: AtomicU64,
}

/// Counts the events that can change a connection's state without a message
/// moving: a pipe end dropped, a producer closed, a state transition. The
/// kernel reconciles connection states when the count moved, instead of
/// looking at every pipe of a large idle kernel fifty times a second.
#[derive(Debug, Default)]
pub(crate) struct PipeChanges(AtomicU64);

impl PipeChanges {
    pub(crate) fn note(&self) {
        self.0.fetch_add(1, Ordering::Release);
    }

    pub(crate) fn count(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// Live counters of one pipe.
///
/// Producer-written and consumer-written counters live on separate cache lines
/// so the hot path does not false-share. All counters use relaxed ordering:
/// they are statistics, not synchronisation.
#[derive(Debug, Default)]
pub struct PipeStats {
    producer: CachePadded<ProducerCounters>,
    messages_out: CachePadded<AtomicU64>,
    /// The producer is finished for good: no message will be added.
    closed: AtomicBool,
    /// The consumer does not take messages while set (they stay queued).
    paused: AtomicBool,
    /// Live producer ends (kernel copies and terminals' copies).
    senders: AtomicUsize,
    /// Live consumer ends (kernel copies and terminals' copies).
    receivers: AtomicUsize,
    /// The kernel's change count, told when an end goes or the producer
    /// closes; set when the pipe joins a connectome.
    changes: OnceLock<Arc<PipeChanges>>,
    /// Who watches the messages, read by the consumer per message or batch.
    pub(crate) tap: tap::Tap,
}

impl PipeStats {
    /// True when both are the counters of one pipe. A pipe reconnected
    /// between the same terminals keeps its id but is a new pipe: ends are
    /// matched by this, never by id.
    pub(crate) fn same_pipe(&self, other: &PipeStats) -> bool {
        std::ptr::eq(self, other)
    }

    /// Messages a producer put into the pipe.
    pub fn messages_in(&self) -> u64 {
        self.producer.messages_in.load(Ordering::Relaxed)
    }

    /// Messages a consumer took out of the pipe.
    pub fn messages_out(&self) -> u64 {
        self.messages_out.load(Ordering::Relaxed)
    }

    /// Messages waiting in the pipe (`messages_in - messages_out - drops`).
    pub fn queue_depth(&self) -> u64 {
        // Read `out` first: `in` only grows, so the difference never underflows
        // unless a consumer overtook between the reads; saturate to be safe.
        let out = self.messages_out() + self.drops();
        self.messages_in().saturating_sub(out)
    }

    /// Total time producers spent blocked on a full pipe, including the
    /// wait of a producer blocked right now.
    pub fn blocked(&self) -> Duration {
        let done = self.producer.blocked_nanos.load(Ordering::Relaxed);
        Duration::from_nanos(done) + self.blocked_now().unwrap_or_default()
    }

    /// How long the producer has been blocked on this full pipe, while it is.
    pub fn blocked_now(&self) -> Option<Duration> {
        match self.producer.blocked_since.load(Ordering::Relaxed) {
            0 => None,
            since => Some(Duration::from_nanos(
                epoch_nanos().saturating_sub(since - 1),
            )),
        }
    }

    /// Messages the pipe never delivered: discarded by a disconnect in
    /// `drop` mode, or left behind by a consumer that ended for good. A pipe
    /// never drops a message on its own.
    pub fn drops(&self) -> u64 {
        self.producer.drops.load(Ordering::Relaxed)
    }

    /// True while the pipe is paused: its consumer takes nothing out of it,
    /// the messages stay queued and the producer blocks once it is full.
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    /// Producer ends still alive; 0 once no message can enter any more.
    pub fn senders(&self) -> usize {
        self.senders.load(Ordering::Acquire)
    }

    /// Consumer ends still alive; 0 once nothing can take a message out.
    pub fn receivers(&self) -> usize {
        self.receivers.load(Ordering::Acquire)
    }

    /// Once no consumer end is left, whatever is still counted as queued
    /// can never be delivered: counts it as dropped and returns how many.
    pub(crate) fn settle(&self) -> u64 {
        if self.receivers() > 0 {
            return 0;
        }
        let lost = self.queue_depth();
        self.count_drops(lost);
        lost
    }

    pub(crate) fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Release);
    }

    /// `n` messages a server handed to its terminal never entered the pipe
    /// and never will: counted as entered and dropped, so the counters
    /// still balance and say so.
    pub(crate) fn count_undelivered(&self, n: u64) {
        self.producer.messages_in.fetch_add(n, Ordering::Relaxed);
        self.count_drops(n);
    }

    pub(crate) fn count_drops(&self, n: u64) {
        self.producer.drops.fetch_add(n, Ordering::Relaxed);
    }

    /// True once the producing server is finished for good: nothing more
    /// will enter the pipe, and the consumer sees end of stream once
    /// [`queue_depth`](Self::queue_depth) is 0.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.changed();
    }

    /// Counters for a pipe the build step fused away: no ring, one
    /// producer and one consumer (the fused chain) until [`end_fused`](Self::end_fused).
    pub(crate) fn fused() -> Arc<PipeStats> {
        let stats = Arc::new(PipeStats::default());
        stats.senders.store(1, Ordering::Release);
        stats.receivers.store(1, Ordering::Release);
        stats
    }

    /// A fused pipe's counts, written by the one thread that runs its chain:
    /// plain stores, no read-modify-write per message.
    #[inline]
    pub(crate) fn set_fused_counts(&self, messages_in: u64, messages_out: u64) {
        self.producer
            .messages_in
            .store(messages_in, Ordering::Relaxed);
        self.messages_out.store(messages_out, Ordering::Relaxed);
    }

    /// The fused chain of this pipe ended: closed, no end left.
    pub(crate) fn end_fused(&self) {
        self.closed.store(true, Ordering::Release);
        self.senders.store(0, Ordering::Release);
        self.receivers.store(0, Ordering::Release);
        self.changed();
    }

    /// Reports this pipe's end changes to `changes` from now on.
    pub(crate) fn watch(&self, changes: &Arc<PipeChanges>) {
        let _ = self.changes.set(Arc::clone(changes));
    }

    fn changed(&self) {
        if let Some(changes) = self.changes.get() {
            changes.note();
        }
    }

    // One thread sends into a pipe and one takes out of it at a time (the
    // terminals are not `Sync`), so each counter has a single writer: a
    // plain load and store, no `lock`-prefixed read-modify-write per message.
    // Inlined: they are called from the terminals' generic code, compiled in
    // the server's crate.
    #[inline]
    fn count_in(&self) {
        let c = &self.producer.messages_in;
        c.store(c.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    #[inline]
    fn count_out(&self) {
        let c = &*self.messages_out;
        c.store(c.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    #[inline]
    fn count_in_n(&self, n: usize) {
        let c = &self.producer.messages_in;
        c.store(c.load(Ordering::Relaxed) + n as u64, Ordering::Relaxed);
    }

    #[inline]
    fn count_out_n(&self, n: usize) {
        let c = &*self.messages_out;
        c.store(c.load(Ordering::Relaxed) + n as u64, Ordering::Relaxed);
    }

    /// The producer found the pipe full: visible in [`blocked`](Self::blocked)
    /// from now on, while it waits.
    fn block(&self, at: Instant) {
        let since = &self.producer.blocked_since;
        if since.load(Ordering::Relaxed) == 0 {
            let nanos = at.saturating_duration_since(epoch()).as_nanos();
            since.store(
                u64::try_from(nanos).unwrap_or(u64::MAX) + 1,
                Ordering::Relaxed,
            );
        }
    }

    /// The producer is no longer blocked: adds the wait to the total.
    fn unblock(&self) {
        let since = self.producer.blocked_since.swap(0, Ordering::Relaxed);
        if since != 0 {
            let waited = epoch_nanos().saturating_sub(since - 1);
            self.producer
                .blocked_nanos
                .fetch_add(waited, Ordering::Relaxed);
        }
    }
}

/// Nanoseconds since the first call in this process: cheap timestamps for
/// counters that are read from other threads.
fn epoch_nanos() -> u64 {
    u64::try_from(epoch().elapsed().as_nanos()).unwrap_or(u64::MAX)
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One side of a ring: whether a terminal holds it, and the side itself
/// while nobody does (`None` too before the first message made the ring).
struct Side<H> {
    claimed: bool,
    half: Option<H>,
}

impl<H> Side<H> {
    fn new() -> Mutex<Self> {
        Mutex::new(Side {
            claimed: false,
            half: None,
        })
    }

    /// Takes the side for one terminal: `Err` when another holds it,
    /// else the half if the ring exists.
    fn claim(side: &Mutex<Self>) -> Result<Option<H>, ()> {
        let mut side = lock(side);
        if side.claimed {
            return Err(());
        }
        side.claimed = true;
        Ok(side.half.take())
    }

    fn release(side: &Mutex<Self>, half: Option<H>) {
        let mut side = lock(side);
        side.claimed = false;
        if half.is_some() {
            side.half = half;
        }
    }
}

/// The ring of one pipe and who to wake on either side.
struct Ring<T> {
    capacity: usize,
    /// The writing side.
    producer: Mutex<Side<rtrb::Producer<T>>>,
    /// The reading side; the writer puts the reading half here when it
    /// makes the ring, for the reader to pick up.
    consumer: Mutex<Side<rtrb::Consumer<T>>>,
    /// The consumer terminal's waker, once its end joined a link.
    consumer_waker: OnceLock<Arc<Waker>>,
    /// The producer terminal's waker, once its end joined a link.
    producer_waker: OnceLock<Arc<Waker>>,
}

/// Creates the pipe described by `spec`: a ring of `spec.capacity` messages
/// (at least 1), made when the first message is sent, and its counters.
pub(crate) fn pipe<T: Send + 'static>(
    spec: &'static PipeSpec,
) -> (PipeSender<T>, PipeReceiver<T>, Arc<PipeStats>) {
    wake::init();
    // Blocked times are counted from this epoch: fix it before any pipe
    // can block.
    epoch();
    let ring = Arc::new(Ring {
        capacity: spec.capacity.max(1),
        producer: Side::new(),
        consumer: Side::new(),
        consumer_waker: OnceLock::new(),
        producer_waker: OnceLock::new(),
    });
    let stats = Arc::new(PipeStats::default());
    stats.senders.store(1, Ordering::Release);
    stats.receivers.store(1, Ordering::Release);
    (
        PipeSender {
            ring: Arc::clone(&ring),
            stats: Arc::clone(&stats),
            spec,
        },
        PipeReceiver {
            ring,
            stats: Arc::clone(&stats),
            spec,
        },
        stats,
    )
}

/// The producer end of one pipe: a handle the kernel and the terminal each
/// hold; the terminal [claims](Writer::claim) the ring's writing side.
pub(crate) struct PipeSender<T> {
    ring: Arc<Ring<T>>,
    stats: Arc<PipeStats>,
    spec: &'static PipeSpec,
}

impl<T> Drop for PipeSender<T> {
    fn drop(&mut self) {
        self.stats.senders.fetch_sub(1, Ordering::AcqRel);
        self.stats.changed();
        // A consumer waiting for end of stream must look again.
        if let Some(waker) = self.ring.consumer_waker.get() {
            waker.ring();
        }
    }
}

impl<T> Clone for PipeSender<T> {
    fn clone(&self) -> Self {
        self.stats.senders.fetch_add(1, Ordering::AcqRel);
        PipeSender {
            ring: Arc::clone(&self.ring),
            stats: Arc::clone(&self.stats),
            spec: self.spec,
        }
    }
}

impl<T> PipeSender<T> {
    /// Sends `msg`, waiting while the pipe is full; `Err(msg)` when every
    /// receiver of the pipe is gone. For tests: terminals use a [`Writer`].
    #[cfg(test)]
    pub(crate) fn send(&self, msg: T) -> Result<(), T> {
        let mut writer = loop {
            match Writer::claim(self.clone()) {
                Ok(w) => break w,
                Err(_) => std::thread::yield_now(),
            }
        };
        let mut msg = msg;
        loop {
            if writer.is_gone() {
                return Err(msg);
            }
            match writer.try_push(msg) {
                Ok(()) => {
                    writer.unblock();
                    writer.notify();
                    return Ok(());
                }
                Err(m) => msg = m,
            }
            writer.block(Instant::now());
            std::thread::sleep(Duration::from_micros(100));
        }
    }

    pub(crate) fn id(&self) -> uuid::Uuid {
        self.spec.id
    }
}

/// The consumer end of one pipe; see [`PipeSender`].
pub(crate) struct PipeReceiver<T> {
    ring: Arc<Ring<T>>,
    stats: Arc<PipeStats>,
    spec: &'static PipeSpec,
}

impl<T> Drop for PipeReceiver<T> {
    fn drop(&mut self) {
        self.stats.receivers.fetch_sub(1, Ordering::AcqRel);
        self.stats.changed();
        // A producer waiting for room must look again.
        if let Some(waker) = self.ring.producer_waker.get() {
            waker.ring();
        }
    }
}

impl<T> Clone for PipeReceiver<T> {
    fn clone(&self) -> Self {
        self.stats.receivers.fetch_add(1, Ordering::AcqRel);
        PipeReceiver {
            ring: Arc::clone(&self.ring),
            stats: Arc::clone(&self.stats),
            spec: self.spec,
        }
    }
}

/// Outcome of a non-blocking receive.
pub(crate) enum TryRecv<T> {
    Message(T),
    Empty,
    /// Drained and every sender is gone: end of stream.
    Closed,
}

impl<T> PipeReceiver<T> {
    /// Receives the next message, waiting while the pipe is empty; `None` at
    /// end of stream. For tests: terminals use a [`Reader`].
    #[cfg(test)]
    pub(crate) fn recv(&self) -> Option<T>
    where
        T: 'static,
    {
        let mut reader = loop {
            match Reader::claim(self.clone()) {
                Ok(r) => break r,
                Err(_) => std::thread::yield_now(),
            }
        };
        loop {
            match reader.poll() {
                TryRecv::Message(msg) => return Some(msg),
                TryRecv::Closed => return None,
                TryRecv::Empty => std::thread::sleep(Duration::from_micros(100)),
            }
        }
    }

    pub(crate) fn id(&self) -> uuid::Uuid {
        self.spec.id
    }
}

/// The writing side of a pipe's ring, claimed by the one terminal that
/// sends into it; handed back to the pipe when dropped.
pub(crate) struct Writer<T> {
    /// `None` until the first message makes the ring.
    ring: Option<rtrb::Producer<T>>,
    end: PipeSender<T>,
    /// The consumer terminal's waker.
    peer: Option<Arc<Waker>>,
}

impl<T> Drop for Writer<T> {
    fn drop(&mut self) {
        Side::release(&self.end.ring.producer, self.ring.take());
    }
}

impl<T> Writer<T> {
    /// Claims the writing side of `end`'s ring; gives `end` back when another
    /// terminal holds it.
    pub(crate) fn claim(end: PipeSender<T>) -> Result<Self, PipeSender<T>> {
        let Ok(ring) = Side::claim(&end.ring.producer) else {
            return Err(end);
        };
        Ok(Writer {
            ring,
            peer: end.ring.consumer_waker.get().cloned(),
            end,
        })
    }

    pub(crate) fn id(&self) -> uuid::Uuid {
        self.end.spec.id
    }

    pub(crate) fn stats(&self) -> &Arc<PipeStats> {
        &self.end.stats
    }

    /// The pipe's producer and consumer terminals.
    pub(crate) fn endpoints(&self) -> (Endpoint, Endpoint) {
        (self.end.spec.from, self.end.spec.to)
    }

    /// True once no consumer end is left: nothing sent can be delivered.
    #[inline]
    pub(crate) fn is_gone(&self) -> bool {
        self.end.stats.receivers.load(Ordering::Relaxed) == 0
    }

    /// Puts `msg` into the ring if it has room, counting it; does not wake
    /// the consumer (see [`notify`](Self::notify)).
    #[inline]
    pub(crate) fn try_push(&mut self, msg: T) -> Result<(), T> {
        let ring = match self.ring.as_mut() {
            Some(ring) => ring,
            None => self.make(),
        };
        match ring.push(msg) {
            Ok(()) => {
                self.end.stats.count_in();
                Ok(())
            }
            Err(rtrb::PushError::Full(msg)) => Err(msg),
        }
    }

    /// Moves messages from `msgs` into the ring while it has room, with one
    /// publication for all of them; returns how many.
    pub(crate) fn push_from(&mut self, msgs: &mut impl Iterator<Item = T>) -> usize {
        let ring = match self.ring.as_mut() {
            Some(ring) => ring,
            None => self.make(),
        };
        let room = ring.slots();
        if room == 0 {
            return 0;
        }
        let Ok(chunk) = ring.write_chunk_uninit(room) else {
            return 0;
        };
        let n = chunk.fill_from_iter(msgs);
        self.end.stats.count_in_n(n);
        n
    }

    /// Makes the ring (the first message is on its way): keeps the writing
    /// half, leaves the reading half for the reader.
    #[cold]
    fn make(&mut self) -> &mut rtrb::Producer<T> {
        let (producer, consumer) = rtrb::RingBuffer::new(self.end.ring.capacity);
        lock(&self.end.ring.consumer).half = Some(consumer);
        self.ring.insert(producer)
    }

    /// Free slots now.
    pub(crate) fn room(&self) -> usize {
        self.ring
            .as_ref()
            .map_or(self.end.ring.capacity, rtrb::Producer::slots)
    }

    /// True when a push would find a free slot, or no consumer is left.
    #[inline]
    pub(crate) fn has_room(&self) -> bool {
        self.ring.as_ref().is_none_or(|r| !r.is_full()) || self.is_gone()
    }

    /// Wakes the consumer if it sleeps; once per message or batch pushed.
    #[inline]
    pub(crate) fn notify(&mut self) {
        if self.peer.is_none() {
            self.peer = self.end.ring.consumer_waker.get().cloned();
        }
        if let Some(peer) = &self.peer {
            peer.notify();
        }
    }

    /// The pipe was found full at `at`: counted as blocked from then on.
    pub(crate) fn block(&self, at: Instant) {
        self.end.stats.block(at);
    }

    pub(crate) fn unblock(&self) {
        self.end.stats.unblock();
    }
}

/// The reading side of a pipe's ring, claimed by the one terminal that
/// receives from it; handed back to the pipe when dropped.
pub(crate) struct Reader<T> {
    /// `None` until the writer made the ring and this reader picked it up.
    ring: Option<rtrb::Consumer<T>>,
    end: PipeReceiver<T>,
    /// The producer terminal's waker.
    peer: Option<Arc<Waker>>,
}

impl<T> Drop for Reader<T> {
    fn drop(&mut self) {
        Side::release(&self.end.ring.consumer, self.ring.take());
        // The kernel may be waiting to discard what is left.
        self.end.stats.changed();
    }
}

impl<T> Reader<T> {
    /// Claims the reading side of `end`'s ring; gives `end` back when
    /// another terminal holds it.
    pub(crate) fn claim(end: PipeReceiver<T>) -> Result<Self, PipeReceiver<T>> {
        let Ok(ring) = Side::claim(&end.ring.consumer) else {
            return Err(end);
        };
        Ok(Reader {
            ring,
            peer: end.ring.producer_waker.get().cloned(),
            end,
        })
    }

    pub(crate) fn id(&self) -> uuid::Uuid {
        self.end.spec.id
    }

    pub(crate) fn stats(&self) -> &PipeStats {
        &self.end.stats
    }

    /// The next message if one is there, counted; wakes a producer that
    /// waits for room.
    #[inline]
    pub(crate) fn try_pop(&mut self) -> Option<T>
    where
        T: 'static,
    {
        let msg = self.ring.as_mut()?.pop().ok()?;
        let stats = &self.end.stats;
        stats.count_out();
        if stats.tap.is_watched() {
            stats.tap.offer(stats.messages_out(), &msg);
        }
        self.notify();
        Some(msg)
    }

    /// Picks up the ring once the writer made it; true when it has it.
    #[cold]
    fn fetch(&mut self) -> bool {
        if self.ring.is_none() {
            self.ring = lock(&self.end.ring.consumer).half.take();
        }
        self.ring.is_some()
    }

    /// Like [`try_pop`](Self::try_pop), and tells an empty pipe from one at
    /// end of stream (drained, every sender gone).
    pub(crate) fn poll(&mut self) -> TryRecv<T>
    where
        T: 'static,
    {
        self.fetch();
        if let Some(msg) = self.try_pop() {
            return TryRecv::Message(msg);
        }
        if self.end.stats.senders() > 0 {
            return TryRecv::Empty;
        }
        // The last sender may have made the ring and pushed just before it
        // went.
        self.fetch();
        match self.try_pop() {
            Some(msg) => TryRecv::Message(msg),
            None => TryRecv::Closed,
        }
    }

    /// Hands up to `max` waiting messages to `f`, straight out of the ring,
    /// with one publication and one wake-up for all of them; returns how
    /// many.
    pub(crate) fn pop_each(&mut self, max: usize, mut f: impl FnMut(T)) -> usize
    where
        T: 'static,
    {
        let Some(ring) = self.ring.as_mut() else {
            return 0;
        };
        let n = ring.slots().min(max);
        if n == 0 {
            return 0;
        }
        let Ok(chunk) = ring.read_chunk(n) else {
            return 0;
        };
        let stats = &self.end.stats;
        if stats.tap.is_watched() {
            let mut seq = stats.messages_out();
            chunk.into_iter().for_each(|msg| {
                seq += 1;
                stats.tap.offer(seq, &msg);
                f(msg);
            });
        } else {
            chunk.into_iter().for_each(f);
        }
        self.end.stats.count_out_n(n);
        self.notify();
        n
    }

    /// Takes every waiting message without counting it as delivered;
    /// returns how many.
    fn discard(&mut self) -> u64 {
        self.fetch();
        let Some(ring) = self.ring.as_mut() else {
            return 0;
        };
        let mut n = 0;
        while ring.pop().is_ok() {
            n += 1;
        }
        self.notify();
        n
    }

    /// True when a message waits in the ring now.
    #[inline]
    pub(crate) fn has_message(&self) -> bool {
        self.ring.as_ref().is_some_and(|r| r.slots() > 0)
    }

    /// True when a message is waiting or the pipe is at end of stream.
    pub(crate) fn is_ready(&self) -> bool {
        let has_message = match &self.ring {
            Some(ring) => ring.slots() > 0,
            // Made since: the first message is there.
            None => lock(&self.end.ring.consumer).half.is_some(),
        };
        has_message || self.end.stats.senders() == 0
    }

    #[inline]
    fn notify(&mut self) {
        if self.peer.is_none() {
            self.peer = self.end.ring.producer_waker.get().cloned();
        }
        if let Some(peer) = &self.peer {
            peer.notify();
        }
    }
}

/// A new pipe with type-erased ends, for connections made at run time.
pub(crate) struct ErasedPipe {
    pub(crate) sender: Box<dyn ErasedEnd>,
    pub(crate) receiver: Box<dyn ErasedEnd>,
    pub(crate) stats: Arc<PipeStats>,
}

/// Creates a pipe of `T` behind type-erased ends.
pub(crate) fn erased_pipe<T: Send + 'static>(spec: &'static PipeSpec) -> ErasedPipe {
    let (sender, receiver, stats) = pipe::<T>(spec);
    ErasedPipe {
        sender: Box::new(sender),
        receiver: Box::new(receiver),
        stats,
    }
}

/// A message the kernel holds for a pipe, type-erased.
pub(crate) type Parcel = Box<dyn Any + Send>;

/// A type-erased pipe end ([`PipeSender`] or [`PipeReceiver`]) that can be
/// cloned, so that the kernel keeps one copy per server instance and hands a
/// fresh clone to every (re)start.
pub(crate) trait ErasedEnd: Send {
    fn clone_end(&self) -> Box<dyn ErasedEnd>;
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
    fn spec(&self) -> &'static PipeSpec;
    fn stats(&self) -> &PipeStats;
    /// True for a [`PipeSender`].
    fn is_sender(&self) -> bool;
    /// Tells the ring which terminal's waker to wake on this end's side.
    fn bind(&self, waker: &Arc<Waker>);
    /// Takes every message waiting in the pipe and counts it as dropped;
    /// returns how many. Nothing for a sender; `None` while the consumer
    /// terminal still holds the ring (it lets go once it sees the change).
    fn try_discard(&self) -> Option<u64>;
    /// [`try_discard`](Self::try_discard), giving the consumer terminal up
    /// to `patience` to let go of the ring; 0 if it did not.
    fn discard(&self, patience: Duration) -> u64 {
        let start = Instant::now();
        loop {
            if let Some(n) = self.try_discard() {
                return n;
            }
            if start.elapsed() >= patience {
                return 0;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    /// Puts `parcel` (a message of the pipe's type) into the pipe if it has
    /// room and no terminal holds the writing side; gives it back otherwise.
    /// Always gives it back for a receiver.
    fn offer(&self, parcel: Parcel) -> Result<(), Parcel>;
}

impl<T: Send + 'static> ErasedEnd for PipeSender<T> {
    fn clone_end(&self) -> Box<dyn ErasedEnd> {
        Box::new(self.clone())
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
    fn spec(&self) -> &'static PipeSpec {
        self.spec
    }
    fn stats(&self) -> &PipeStats {
        &self.stats
    }
    fn is_sender(&self) -> bool {
        true
    }
    fn bind(&self, waker: &Arc<Waker>) {
        let _ = self.ring.producer_waker.set(Arc::clone(waker));
    }
    fn try_discard(&self) -> Option<u64> {
        Some(0)
    }
    fn offer(&self, parcel: Parcel) -> Result<(), Parcel> {
        let msg = parcel.downcast::<T>()?;
        let Ok(mut writer) = Writer::claim(self.clone()) else {
            return Err(msg);
        };
        if writer.is_gone() {
            return Err(msg);
        }
        match writer.try_push(*msg) {
            Ok(()) => {
                writer.notify();
                Ok(())
            }
            Err(msg) => Err(Box::new(msg)),
        }
    }
}

impl<T: Send + 'static> ErasedEnd for PipeReceiver<T> {
    fn clone_end(&self) -> Box<dyn ErasedEnd> {
        Box::new(self.clone())
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
    fn spec(&self) -> &'static PipeSpec {
        self.spec
    }
    fn stats(&self) -> &PipeStats {
        &self.stats
    }
    fn is_sender(&self) -> bool {
        false
    }
    fn bind(&self, waker: &Arc<Waker>) {
        let _ = self.ring.consumer_waker.set(Arc::clone(waker));
    }
    fn try_discard(&self) -> Option<u64> {
        let mut reader = Reader::claim(self.clone()).ok()?;
        let n = reader.discard();
        self.stats.count_drops(n);
        Some(n)
    }
    fn offer(&self, parcel: Parcel) -> Result<(), Parcel> {
        Err(parcel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectome::Endpoint;

    static SPEC: PipeSpec = PipeSpec {
        id: uuid::Uuid::from_u128(1),
        from: Endpoint {
            server: "p",
            terminal: "out",
        },
        to: Endpoint {
            server: "c",
            terminal: "in",
        },
        capacity: 1024,
    };

    #[test]
    fn the_ring_is_made_by_the_first_message_and_each_side_claimed_once() {
        let (tx, rx, stats) = pipe::<u64>(&SPEC);
        let mut reader = Reader::claim(rx.clone()).ok().expect("free");
        assert!(Reader::claim(rx.clone()).is_err(), "one reader at a time");
        // An idle pipe has no ring: nothing allocated for its slots.
        assert!(matches!(reader.poll(), TryRecv::Empty));
        assert!(reader.ring.is_none() && !reader.is_ready());
        let mut writer = Writer::claim(tx.clone()).ok().expect("free");
        assert!(Writer::claim(tx.clone()).is_err(), "one writer at a time");
        assert_eq!(writer.room(), 1024);
        assert!(writer.try_push(7).is_ok());
        assert!(reader.is_ready());
        assert!(matches!(reader.poll(), TryRecv::Message(7)));
        // Let go and claimed again: the same ring.
        drop((writer, reader));
        let mut writer = Writer::claim(tx).ok().expect("released");
        assert!(writer.try_push(8).is_ok());
        drop(writer);
        let mut reader = Reader::claim(rx).ok().expect("released");
        assert!(matches!(reader.poll(), TryRecv::Message(8)));
        assert_eq!((stats.messages_in(), stats.messages_out()), (2, 2));
    }
}
