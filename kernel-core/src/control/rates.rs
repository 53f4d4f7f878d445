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

/// Samples of every pipe's `messages_out` over the last seconds, and when
/// each was last seen to move.
#[derive(Default)]
pub(crate) struct Rates {
    samples: Mutex<VecDeque<Sample>>,
    /// Per pipe: `messages_out` when last seen to change, and when.
    moved: Mutex<BTreeMap<Uuid, (u64, Instant)>>,
}

/// One pipe's counter now, for [`Rates::flows`].
pub(crate) struct Counter {
    pub(crate) id: Uuid,
    pub(crate) messages_out: u64,
    /// When the pipe was made.
    pub(crate) created: Instant,
}

impl Rates {
    /// Per pipe: messages per second over about the last second (`None`
    /// for a pipe with no older sample), and the time since its consumer
    /// last took a message, as far as the samples tell (since the pipe was
    /// made when it never moved; since it was first seen otherwise).
    pub(crate) fn flows(&self, now: Vec<Counter>) -> BTreeMap<Uuid, (Option<f64>, Duration)> {
        let at = Instant::now();
        let mut flows = BTreeMap::new();
        {
            let mut moved = self.moved.lock().unwrap_or_else(|e| e.into_inner());
            moved.retain(|id, _| now.iter().any(|c| c.id == *id));
            for c in &now {
                let seen = moved.entry(c.id).or_insert_with(|| {
                    let since = if c.messages_out == 0 { c.created } else { at };
                    (c.messages_out, since)
                });
                if seen.0 != c.messages_out {
                    *seen = (c.messages_out, at);
                }
                flows.insert(c.id, (None, at.saturating_duration_since(seen.1)));
            }
        }
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
        if let Some(base) = base {
            let secs = at.duration_since(base.at).as_secs_f64();
            if secs > 0.0 {
                for c in &now {
                    if let (Some(before), Some(flow)) = (base.out.get(&c.id), flows.get_mut(&c.id))
                    {
                        flow.0 = Some(c.messages_out.saturating_sub(*before) as f64 / secs);
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
                out: now.iter().map(|c| (c.id, c.messages_out)).collect(),
            });
        }
        flows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(id: u128, messages_out: u64, created: Instant) -> Counter {
        Counter {
            id: Uuid::from_u128(id),
            messages_out,
            created,
        }
    }

    #[test]
    fn the_time_since_a_take_grows_until_the_counter_moves() {
        let rates = Rates::default();
        let made = Instant::now() - Duration::from_secs(5);
        let first = rates.flows(vec![counter(1, 0, made), counter(2, 7, made)]);
        // Never taken: since the pipe was made; taken before: since seen.
        assert!(first[&Uuid::from_u128(1)].1 >= Duration::from_secs(5));
        assert!(first[&Uuid::from_u128(2)].1 < Duration::from_secs(1));
        assert_eq!(first[&Uuid::from_u128(2)].0, None);
        std::thread::sleep(Duration::from_millis(30));
        let still = rates.flows(vec![counter(1, 0, made), counter(2, 7, made)]);
        assert!(still[&Uuid::from_u128(2)].1 >= Duration::from_millis(30));
        let moved = rates.flows(vec![counter(1, 3, made), counter(2, 7, made)]);
        assert!(moved[&Uuid::from_u128(1)].1 < Duration::from_millis(30));
        assert!(moved[&Uuid::from_u128(2)].1 >= Duration::from_millis(30));
        // A rate from the oldest sample while none is a second old.
        assert!(moved[&Uuid::from_u128(1)].0.is_some_and(|r| r > 0.0));
        // Pipes gone are forgotten.
        rates.flows(vec![counter(1, 3, made)]);
        assert_eq!(rates.moved.lock().map(|m| m.len()).unwrap_or_default(), 1);
    }
}
