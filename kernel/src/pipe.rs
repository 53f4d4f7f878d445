//! Pipes: one bounded channel between exactly one producer terminal and one
//! consumer terminal, with counters.
//!
//! Fan-out and fan-in are built from several pipes: a [`Multiplex`] holds one
//! sender per consumer, a [`Combine`] one receiver per producer.
//!
//! [`Multiplex`]: crate::Multiplex
//! [`Combine`]: crate::Combine

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError, TrySendError};
use crossbeam_utils::CachePadded;

use crate::connectome::PipeSpec;

/// Counters written by the producer side of a pipe.
#[derive(Debug, Default)]
struct ProducerCounters {
    messages_in: AtomicU64,
    blocked_nanos: AtomicU64,
    drops: AtomicU64,
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
}

impl PipeStats {
    /// Messages a producer put into the pipe.
    pub fn messages_in(&self) -> u64 {
        self.producer.messages_in.load(Ordering::Relaxed)
    }

    /// Messages a consumer took out of the pipe.
    pub fn messages_out(&self) -> u64 {
        self.messages_out.load(Ordering::Relaxed)
    }

    /// Messages waiting in the pipe (`messages_in - messages_out`).
    pub fn queue_depth(&self) -> u64 {
        // Read `out` first: `in` only grows, so the difference never underflows
        // unless a consumer overtook between the reads; saturate to be safe.
        let out = self.messages_out();
        self.messages_in().saturating_sub(out)
    }

    /// Total time producers spent blocked on a full pipe.
    pub fn blocked(&self) -> Duration {
        Duration::from_nanos(self.producer.blocked_nanos.load(Ordering::Relaxed))
    }

    /// Messages dropped by the pipe; always 0 (pipes never drop).
    pub fn drops(&self) -> u64 {
        self.producer.drops.load(Ordering::Relaxed)
    }

    /// True once the producing server is finished for good: nothing more
    /// will enter the pipe, and the consumer sees end of stream once
    /// [`queue_depth`](Self::queue_depth) is 0.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    fn count_in(&self) {
        self.producer.messages_in.fetch_add(1, Ordering::Relaxed);
    }

    fn count_out(&self) {
        self.messages_out.fetch_add(1, Ordering::Relaxed);
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

impl<T> Clone for PipeSender<T> {
    fn clone(&self) -> Self {
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
    pub(crate) fn send(&self, msg: T) -> Result<(), T> {
        match self.tx.try_send(msg) {
            Ok(()) => {
                self.stats.count_in();
                Ok(())
            }
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

    pub(crate) fn spec(&self) -> &'static PipeSpec {
        self.spec
    }
}

/// The consumer end of one pipe.
pub(crate) struct PipeReceiver<T> {
    rx: Receiver<T>,
    stats: Arc<PipeStats>,
    spec: &'static PipeSpec,
}

impl<T> Clone for PipeReceiver<T> {
    fn clone(&self) -> Self {
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
    pub(crate) fn recv(&self) -> Option<T> {
        let msg = self.rx.recv().ok()?;
        self.stats.count_out();
        Some(msg)
    }

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

    /// Completes a receive that `crossbeam_channel::Select` chose.
    pub(crate) fn complete(&self, oper: crossbeam_channel::SelectedOperation<'_>) -> TryRecv<T> {
        match oper.recv(&self.rx) {
            Ok(msg) => {
                self.stats.count_out();
                TryRecv::Message(msg)
            }
            Err(_) => TryRecv::Closed,
        }
    }

    pub(crate) fn channel(&self) -> &Receiver<T> {
        &self.rx
    }

    pub(crate) fn spec(&self) -> &'static PipeSpec {
        self.spec
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
}
