//! Taps: a sampled look at the messages flowing through a pipe, like
//! `ros2 topic echo`, for whoever watches (the control surface).
//!
//! A pipe is tappable when the build step registered an encoder for its
//! message type (`tap = true` on its connection in wiring.toml). The data
//! plane pays nothing while no one watches: the consumer side of a pipe
//! reads one relaxed atomic, the number of watchers, per message or batch,
//! and does nothing else. While someone watches, a watcher *asks* for a
//! sample, the next message through the pipe is encoded once (on the
//! consumer's thread, never waiting on a lock) and left in the tap, newest
//! wins; the watcher picks it up at its own pace. The data plane never
//! waits for a watcher and never queues for one.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::SystemTime;

use super::PipeStats;

/// Encodes one message of a pipe (handed over as `&dyn Any`, of the pipe's
/// message type) as JSON text; `Err` says why it could not.
pub type TapEncoder = fn(&dyn Any) -> Result<String, String>;

/// Why a connection cannot be tapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TapError {
    /// No connection has this id (never made, or disconnected since).
    #[error("no connection `{id}`")]
    UnknownConnection {
        /// The id asked for.
        id: uuid::Uuid,
    },
    /// The connection was not made tappable in wiring.toml.
    #[error(
        "connection `{connection}` is not tappable: set `tap = true` on its `[[connections]]` \
         entry in wiring.toml (its message type must implement `serde::Serialize`)"
    )]
    NotTappable {
        /// The connection, `from -> to`.
        connection: String,
    },
}

/// One message seen through a tap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapSample {
    /// The message's number in the pipe: 1 for the first message its
    /// consumer took, counting every message, sampled or not.
    pub seq: u64,
    /// When the consumer took it.
    pub at: SystemTime,
    /// The message as JSON text, or why it could not be encoded.
    pub message: Result<String, String>,
}

/// The tap of one pipe: who watches, whether a sample is wanted, the
/// newest sample.
#[derive(Default)]
pub(crate) struct Tap {
    watchers: AtomicUsize,
    wanted: AtomicBool,
    encoder: OnceLock<TapEncoder>,
    sample: Mutex<Option<Arc<TapSample>>>,
}

impl std::fmt::Debug for Tap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tap")
            .field("watchers", &self.watchers.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Tap {
    /// The one check the data plane makes: true while someone watches.
    #[inline(always)]
    pub(crate) fn is_watched(&self) -> bool {
        self.watchers.load(Ordering::Relaxed) != 0
    }

    /// Message number `seq` passes while someone watches: encoded and kept
    /// if a watcher asked for a sample since the last one.
    #[cold]
    #[inline(never)]
    pub(crate) fn offer<T: 'static>(&self, seq: u64, msg: &T) {
        if !self.wanted.load(Ordering::Relaxed) || !self.wanted.swap(false, Ordering::Acquire) {
            return;
        }
        let Some(encode) = self.encoder.get() else {
            return;
        };
        // A panicking `Serialize` must not take the server down with it.
        let message = catch_unwind(AssertUnwindSafe(|| encode(msg)))
            .unwrap_or_else(|_| Err("encoding the message panicked".to_owned()));
        let sample = Arc::new(TapSample {
            seq,
            at: SystemTime::now(),
            message,
        });
        match self.sample.try_lock() {
            Ok(mut slot) => *slot = Some(sample),
            // A watcher is reading the slot right now: the next message
            // will do, the data plane does not wait.
            Err(_) => self.wanted.store(true, Ordering::Release),
        }
    }
}

/// A watcher of one pipe's tap; the pipe is watched while it lives.
///
/// [`ask`](Self::ask) for a sample, then [`take`](Self::take) it once the
/// next message passed. Several watchers of one pipe share its samples.
pub struct TapWatch {
    stats: Arc<PipeStats>,
    /// The `seq` of the last sample this watcher took.
    last: u64,
}

impl std::fmt::Debug for TapWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TapWatch")
            .field("last", &self.last)
            .finish_non_exhaustive()
    }
}

impl TapWatch {
    /// Watches `stats`' pipe, encoding its messages with `encoder`.
    pub(crate) fn new(stats: Arc<PipeStats>, encoder: TapEncoder) -> Self {
        let tap = &stats.tap;
        let _ = tap.encoder.set(encoder);
        tap.watchers.fetch_add(1, Ordering::AcqRel);
        TapWatch { stats, last: 0 }
    }

    /// Asks for the next message through the pipe.
    pub fn ask(&self) {
        self.stats.tap.wanted.store(true, Ordering::Release);
    }

    /// The newest sample, if it is newer than the last one this watcher
    /// took.
    pub fn take(&mut self) -> Option<Arc<TapSample>> {
        let slot = self
            .stats
            .tap
            .sample
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let sample = slot.as_ref().filter(|s| s.seq > self.last)?;
        self.last = sample.seq;
        Some(Arc::clone(sample))
    }

    /// True when `stats` are the counters of the pipe this watcher watches
    /// (a connection connected again gets a new pipe).
    pub fn watches(&self, stats: &PipeStats) -> bool {
        self.stats.same_pipe(stats)
    }
}

impl Drop for TapWatch {
    fn drop(&mut self) {
        let tap = &self.stats.tap;
        if tap.watchers.fetch_sub(1, Ordering::AcqRel) == 1 {
            tap.wanted.store(false, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectome::{Endpoint, PipeSpec};
    use crate::pipe::{Reader, Writer, pipe};

    static SPEC: PipeSpec = PipeSpec {
        id: uuid::Uuid::from_u128(7),
        from: Endpoint {
            server: "p",
            terminal: "out",
        },
        to: Endpoint {
            server: "c",
            terminal: "in",
        },
        capacity: 64,
    };

    fn encode_u64(msg: &dyn Any) -> Result<String, String> {
        msg.downcast_ref::<u64>()
            .map(u64::to_string)
            .ok_or_else(|| "not a u64".to_owned())
    }

    #[test]
    fn a_watcher_gets_the_next_message_it_asked_for_and_only_that() {
        let (tx, rx, stats) = pipe::<u64>(&SPEC);
        let mut writer = Writer::claim(tx).ok().expect("free");
        let mut reader = Reader::claim(rx).ok().expect("free");
        let mut push = |n: u64| {
            for i in 0..n {
                assert!(writer.try_push(i).is_ok());
            }
        };
        // Unwatched: nothing is encoded or kept.
        push(3);
        assert!(matches!(reader.poll(), crate::pipe::TryRecv::Message(0)));
        assert!(stats.tap.sample.lock().expect("slot").is_none());
        let mut watch = TapWatch::new(Arc::clone(&stats), encode_u64);
        assert!(stats.tap.is_watched());
        // Watched but not asked: still nothing.
        assert!(reader.try_pop().is_some());
        assert!(watch.take().is_none());
        watch.ask();
        assert_eq!(reader.try_pop(), Some(2));
        let sample = watch.take().expect("the message after asking");
        assert_eq!((sample.seq, sample.message.clone()), (3, Ok("2".into())));
        assert!(watch.take().is_none(), "each sample once");
        // A batch: the first message after asking, numbered in the pipe.
        push(10);
        watch.ask();
        let mut got = Vec::new();
        assert_eq!(reader.pop_each(10, |m| got.push(m)), 10);
        assert_eq!(got, (0..10).collect::<Vec<_>>());
        let sample = watch.take().expect("a sample of the batch");
        assert_eq!((sample.seq, sample.message.clone()), (4, Ok("0".into())));
        // The last watcher gone: unwatched, and an old ask is forgotten.
        watch.ask();
        drop(watch);
        assert!(!stats.tap.is_watched());
        assert!(!stats.tap.wanted.load(Ordering::Relaxed));
    }

    #[test]
    fn a_failing_or_panicking_encoder_is_a_sample_that_says_why() {
        let (tx, rx, stats) = pipe::<u64>(&SPEC);
        let mut writer = Writer::claim(tx).ok().expect("free");
        let mut reader = Reader::claim(rx).ok().expect("free");
        let mut watch = TapWatch::new(Arc::clone(&stats), |_| panic!("bad Serialize"));
        assert!(writer.try_push(1).is_ok());
        watch.ask();
        assert!(
            matches!(reader.poll(), crate::pipe::TryRecv::Message(1)),
            "the message still arrives"
        );
        let sample = watch.take().expect("sample");
        assert_eq!(sample.message, Err("encoding the message panicked".into()));
    }
}
