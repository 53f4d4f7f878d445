//! Flow rates from counter samples, taken on demand by whoever asks.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

/// A new sample is taken when the newest is older than this.
const RESAMPLE: Duration = Duration::from_millis(100);
/// Rates are measured over about this window.
const WINDOW: Duration = Duration::from_secs(1);
/// Samples older than this are forgotten.
const KEEP: Duration = Duration::from_secs(3);

struct Sample {
    at: Instant,
    /// messages_out per pipe.
    out: BTreeMap<Uuid, u64>,
}

/// Samples of every pipe's `messages_out` over the last seconds.
#[derive(Default)]
pub(crate) struct Rates {
    samples: Mutex<VecDeque<Sample>>,
}

impl Rates {
    /// Messages per second per pipe over about the last second, from
    /// `now`'s counters; `None` for a pipe with no older sample.
    pub(crate) fn rates(&self, now: Vec<(Uuid, u64)>) -> BTreeMap<Uuid, f64> {
        let at = Instant::now();
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        while samples
            .front()
            .is_some_and(|s| at.duration_since(s.at) > KEEP)
        {
            samples.pop_front();
        }
        // The newest sample at least WINDOW old, else the oldest one.
        let base = samples
            .iter()
            .rev()
            .find(|s| at.duration_since(s.at) >= WINDOW)
            .or_else(|| samples.front());
        let mut rates = BTreeMap::new();
        if let Some(base) = base {
            let secs = at.duration_since(base.at).as_secs_f64();
            if secs > 0.0 {
                for (id, out) in &now {
                    if let Some(before) = base.out.get(id) {
                        rates.insert(*id, out.saturating_sub(*before) as f64 / secs);
                    }
                }
            }
        }
        if samples
            .back()
            .is_none_or(|s| at.duration_since(s.at) >= RESAMPLE)
        {
            samples.push_back(Sample {
                at,
                out: now.into_iter().collect(),
            });
        }
        rates
    }
}
