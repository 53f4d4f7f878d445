//! Pipes: one bounded channel between exactly one producer terminal and one
//! consumer terminal, with counters.
//!
//! Fan-out and fan-in are built from several pipes: a [`Multiplex`] holds one
//! sender per consumer, a [`Combine`] one receiver per producer.
//!
//! [`Multiplex`]: crate::Multiplex
//! [`Combine`]: crate::Combine

use std::any::Any;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

pub(crate) use crossbeam_channel::TrySendError;
use crossbeam_channel::{Receiver, SelectedOperation, Sender, TryRecvError};
use crossbeam_utils::CachePadded;

use crate::connectome::PipeSpec;

/// Counters written by the producer side of a pipe.
#[derive(Debug, Default)]
struct ProducerCounters {
    messages_in: AtomicU64,
    blocked_nanos: AtomicU64,
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

    /// Total time producers spent blocked on a full pipe.
    pub fn blocked(&self) -> Duration {
        Duration::from_nanos(self.producer.blocked_nanos.load(Ordering::Relaxed))
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

    fn count_blocked(&self, since: Instant) {
        let nanos = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.producer
            .blocked_nanos
            .fetch_add(nanos, Ordering::Relaxed);
    }
}

/// Creates the pipe described by `spec`: a bounded channel of `spec.capacity`
/// messages (at least 1) and its counters.
pub(crate) fn pipe<T: Send + 'static>(
    spec: &'static PipeSpec,
) -> (PipeSender<T>, PipeReceiver<T>, Arc<PipeStats>) {
    let (tx, rx) = crossbeam_channel::bounded(spec.capacity.max(1));
    let stats = Arc::new(PipeStats::default());
    stats.senders.store(1, Ordering::Release);
    stats.receivers.store(1, Ordering::Release);
    (
        PipeSender {
            tx,
            stats: Arc::clone(&stats),
            spec,
        },
        PipeReceiver {
            rx,
            stats: Arc::clone(&stats),
            spec,
        },
        stats,
    )
}

/// The producer end of one pipe.
pub(crate) struct PipeSender<T> {
    tx: Sender<T>,
    stats: Arc<PipeStats>,
    spec: &'static PipeSpec,
}

impl<T> Drop for PipeSender<T> {
    fn drop(&mut self) {
        self.stats.senders.fetch_sub(1, Ordering::AcqRel);
        self.stats.changed();
    }
}

impl<T> Clone for PipeSender<T> {
    fn clone(&self) -> Self {
        self.stats.senders.fetch_add(1, Ordering::AcqRel);
        PipeSender {
            tx: self.tx.clone(),
            stats: Arc::clone(&self.stats),
            spec: self.spec,
        }
    }
}

impl<T> PipeSender<T> {
    /// Sends `msg`, blocking while the pipe is full. `Err(msg)` when every
    /// receiver of the pipe is gone.
    #[cfg(test)]
    pub(crate) fn send(&self, msg: T) -> Result<(), T> {
        match self.try_send(msg) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(msg)) => {
                let since = Instant::now();
                let sent = self.tx.send(msg);
                self.stats.count_blocked(since);
                match sent {
                    Ok(()) => {
                        self.stats.count_in();
                        Ok(())
                    }
                    Err(e) => Err(e.into_inner()),
                }
            }
            Err(TrySendError::Disconnected(msg)) => Err(msg),
        }
    }

    /// Sends `msg` if there is room, counting it.
    #[inline]
    pub(crate) fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        self.tx.try_send(msg)?;
        self.stats.count_in();
        Ok(())
    }

    /// True when a send is worth attempting: the pipe has a free slot, or no
    /// consumer is left (the send fails at once). A failed attempt moves the
    /// message into the channel's `try_send` and back out, two copies of it,
    /// so a blocked producer waits for room first.
    #[inline]
    pub(crate) fn has_room(&self) -> bool {
        !self.tx.is_full() || self.stats.receivers() == 0
    }

    pub(crate) fn add_blocked(&self, since: Instant) {
        self.stats.count_blocked(since);
    }

    pub(crate) fn channel(&self) -> &Sender<T> {
        &self.tx
    }

    pub(crate) fn stats(&self) -> &PipeStats {
        &self.stats
    }
}

/// The consumer end of one pipe.
pub(crate) struct PipeReceiver<T> {
    rx: Receiver<T>,
    stats: Arc<PipeStats>,
    spec: &'static PipeSpec,
}

impl<T> Drop for PipeReceiver<T> {
    fn drop(&mut self) {
        self.stats.receivers.fetch_sub(1, Ordering::AcqRel);
        self.stats.changed();
    }
}

impl<T> Clone for PipeReceiver<T> {
    fn clone(&self) -> Self {
        self.stats.receivers.fetch_add(1, Ordering::AcqRel);
        PipeReceiver {
            rx: self.rx.clone(),
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
    /// Receives the next message, blocking while the pipe is empty; `None` at
    /// end of stream (drained and every sender gone).
    #[cfg(test)]
    pub(crate) fn recv(&self) -> Option<T> {
        let msg = self.rx.recv().ok()?;
        self.stats.count_out();
        Some(msg)
    }

    #[inline]
    pub(crate) fn try_recv(&self) -> TryRecv<T> {
        match self.rx.try_recv() {
            Ok(msg) => {
                self.stats.count_out();
                TryRecv::Message(msg)
            }
            Err(TryRecvError::Empty) => TryRecv::Empty,
            Err(TryRecvError::Disconnected) => TryRecv::Closed,
        }
    }

    /// Receives the next message, waiting at most `timeout`.
    pub(crate) fn recv_timeout(
        &self,
        timeout: Duration,
    ) -> Result<T, crossbeam_channel::RecvTimeoutError> {
        let msg = self.rx.recv_timeout(timeout)?;
        self.stats.count_out();
        Ok(msg)
    }

    /// Completes a receive that a `Select` over this pipe's channel chose,
    /// counting the message; `None` at end of stream.
    pub(crate) fn recv_selected(&self, oper: SelectedOperation<'_>) -> Option<T> {
        let msg = oper.recv(&self.rx).ok()?;
        self.stats.count_out();
        Some(msg)
    }

    pub(crate) fn channel(&self) -> &Receiver<T> {
        &self.rx
    }

    pub(crate) fn stats(&self) -> &PipeStats {
        &self.stats
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
    /// Takes every message waiting in the pipe and counts it as dropped;
    /// returns how many. Nothing for a sender.
    fn discard(&self) -> u64;
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
    fn discard(&self) -> u64 {
        0
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
    fn discard(&self) -> u64 {
        let mut n = 0;
        while self.rx.try_recv().is_ok() {
            n += 1;
        }
        self.stats.count_drops(n);
        n
    }
}
