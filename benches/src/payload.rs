//! The message payloads of the pipe benchmarks.
//!
//! `u64` is the smallest useful message. `Kib` is 1 KiB held by value
//! (`[u8; 1024]`, not a `Vec<u8>`): every message is copied into and out of
//! the channel's slot, so an extra move anywhere in the kernel's send or
//! receive path shows up, and no allocator is involved. A `Vec` would add one
//! allocation and one cross-thread free per message (and one more per
//! consumer on fan-out) to both sides alike, which dilutes the overhead the
//! benchmark is meant to expose. `PooledKib` is the same kilobyte in a
//! pooled [`Frame`]: passed by pointer, shared on fan-out, its buffer reused,
//! the way GStreamer passes buffers, for the comparison with it.

use kernel::{Frame, FramePool};

/// Bytes in a [`Kib`] message.
pub const KIB: usize = 1024;

/// A 1 KiB message held by value; its first 8 bytes carry the sequence number.
#[derive(Clone, Copy)]
pub struct Kib(pub [u8; KIB]);

/// 1 KiB in a pooled [`Frame`]: sending moves a pointer, fan-out shares the
/// bytes instead of copying them, and the buffer goes back to its pool.
/// This is how GStreamer passes its buffers, so it is the payload to
/// compare with it.
#[derive(Clone)]
pub struct PooledKib(pub Frame);

/// What the benchmark servers and the hand-written baseline send.
pub trait Payload: Clone + Send + 'static {
    /// `u64` or `kib`, as written in the shape names.
    const NAME: &'static str;
    /// The message with sequence number `seq`; pooled payloads take their
    /// buffer from `pool`.
    fn make(seq: u64, pool: &FramePool) -> Self;
    /// The sequence number it carries.
    fn seq(&self) -> u64;
}

impl Payload for u64 {
    const NAME: &'static str = "u64";
    #[inline]
    fn make(seq: u64, _: &FramePool) -> Self {
        seq
    }
    #[inline]
    fn seq(&self) -> u64 {
        *self
    }
}

impl Payload for Kib {
    const NAME: &'static str = "kib";
    #[inline]
    fn make(seq: u64, _: &FramePool) -> Self {
        let mut bytes = [0u8; KIB];
        bytes[..8].copy_from_slice(&seq.to_le_bytes());
        Kib(bytes)
    }
    #[inline]
    fn seq(&self) -> u64 {
        let mut head = [0u8; 8];
        head.copy_from_slice(&self.0[..8]);
        u64::from_le_bytes(head)
    }
}

impl Payload for PooledKib {
    const NAME: &'static str = "frame";
    #[inline]
    fn make(seq: u64, pool: &FramePool) -> Self {
        let mut frame = pool.frame(KIB);
        frame[..8].copy_from_slice(&seq.to_le_bytes());
        PooledKib(frame.freeze())
    }
    #[inline]
    fn seq(&self) -> u64 {
        let mut head = [0u8; 8];
        head.copy_from_slice(&self.0[..8]);
        u64::from_le_bytes(head)
    }
}

/// What a sink checks at the end: how many messages and the sum of their
/// sequence numbers (wrapping), so a lost or duplicated message is noticed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub count: u64,
    pub sum: u64,
}

impl Tally {
    #[inline]
    pub fn add<P: Payload>(&mut self, msg: &P) {
        self.count += 1;
        self.sum = self.sum.wrapping_add(msg.seq());
    }

    /// What a sink fed by `sources` sources of `messages` messages each expects.
    pub fn expected(messages: u64, sources: u64) -> Tally {
        let one = if messages == 0 {
            0
        } else {
            // 0 + 1 + .. + (messages - 1), wrapping like `add`.
            let (a, b) = if messages.is_multiple_of(2) {
                (messages / 2, messages - 1)
            } else {
                (messages, (messages - 1) / 2)
            };
            a.wrapping_mul(b)
        };
        Tally {
            count: messages * sources,
            sum: one.wrapping_mul(sources),
        }
    }

    /// `Err` naming both tallies when they differ.
    pub fn check(self, expected: Tally) -> Result<(), String> {
        if self == expected {
            Ok(())
        } else {
            Err(format!(
                "received {} messages (sum {}), expected {} (sum {})",
                self.count, self.sum, expected.count, expected.sum
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_carry_their_sequence_number() {
        let pool = FramePool::new();
        assert_eq!(u64::make(7, &pool).seq(), 7);
        assert_eq!(Kib::make(u64::MAX - 3, &pool).seq(), u64::MAX - 3);
        assert_eq!(PooledKib::make(9, &pool).seq(), 9);
    }

    #[test]
    fn the_expected_tally_is_what_adding_gives() {
        for (messages, sources) in [(0, 1), (1, 1), (5, 1), (6, 2), (1001, 3)] {
            let mut tally = Tally::default();
            for _ in 0..sources {
                for seq in 0..messages {
                    tally.add(&seq);
                }
            }
            assert_eq!(tally, Tally::expected(messages, sources));
        }
    }
}
