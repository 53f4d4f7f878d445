//! The benchmark cases: four shapes times two payloads, each runnable as a
//! generated kernel or as the hand-written baseline.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use crate::payload::{Kib, PooledKib};
use crate::servers::set_batched;
use crate::{baseline, floor, set_messages};

/// The topology of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// source -> sink
    Chain1,
    /// source -> a -> b -> sink
    Chain3,
    /// one `Multiplex` source to two sinks
    Fanout2,
    /// two sources into one `Combine`
    Fanin2,
}

impl Shape {
    pub const ALL: [Shape; 4] = [Shape::Chain1, Shape::Chain3, Shape::Fanout2, Shape::Fanin2];

    pub fn name(self) -> &'static str {
        match self {
            Shape::Chain1 => "chain-1",
            Shape::Chain3 => "chain-3",
            Shape::Fanout2 => "fanout-2",
            Shape::Fanin2 => "fanin-2",
        }
    }

    /// Messages the sinks receive in all when every source sends `messages`:
    /// fan-out delivers each message twice, fan-in has two sources.
    pub fn delivered(self, messages: u64) -> u64 {
        match self {
            Shape::Chain1 | Shape::Chain3 => messages,
            Shape::Fanout2 | Shape::Fanin2 => 2 * messages,
        }
    }
}

impl FromStr for Shape {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Shape::ALL
            .into_iter()
            .find(|shape| shape.name() == s)
            .ok_or_else(|| {
                format!("unknown shape `{s}`; expected chain-1, chain-3, fanout-2 or fanin-2")
            })
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The message type of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadKind {
    U64,
    /// 1 KiB by value, see [`Kib`].
    Kib,
    /// 1 KiB in a pooled `Frame`, see [`PooledKib`].
    Frame,
}

impl PayloadKind {
    pub const ALL: [PayloadKind; 3] = [PayloadKind::U64, PayloadKind::Kib, PayloadKind::Frame];

    pub fn name(self) -> &'static str {
        match self {
            PayloadKind::U64 => "u64",
            PayloadKind::Kib => "kib",
            PayloadKind::Frame => "frame",
        }
    }

    /// Bytes of one message.
    pub fn bytes(self) -> usize {
        match self {
            PayloadKind::U64 => 8,
            PayloadKind::Kib | PayloadKind::Frame => crate::payload::KIB,
        }
    }
}

impl FromStr for PayloadKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PayloadKind::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| format!("unknown payload `{s}`; expected u64, kib or frame"))
    }
}

impl fmt::Display for PayloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Who moves the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runner {
    /// The kernel generated from `wiring/<shape>_<payload>.toml`, its
    /// servers calling `send` and `recv` once per message.
    Kernel,
    /// The same kernel, its servers using the batch calls (`send_all`,
    /// `recv_each`).
    KernelBatched,
    /// Bare crossbeam channels and threads ([`crate::baseline`]).
    Baseline,
    /// Fan-in only: one channel per producer and a `Select`.
    BaselineSelect,
    /// Bare SPSC rings, batched ([`crate::floor`]).
    Floor,
}

impl Runner {
    pub const ALL: [Runner; 5] = [
        Runner::Kernel,
        Runner::KernelBatched,
        Runner::Baseline,
        Runner::BaselineSelect,
        Runner::Floor,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Runner::Kernel => "kernel",
            Runner::KernelBatched => "kernel-batched",
            Runner::Baseline => "baseline",
            Runner::BaselineSelect => "baseline-select",
            Runner::Floor => "floor",
        }
    }
}

impl FromStr for Runner {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Runner::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown runner `{s}`; expected kernel, kernel-batched, baseline, baseline-select or floor"
                )
            })
    }
}

/// One benchmark case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    pub shape: Shape,
    pub payload: PayloadKind,
}

impl Case {
    pub fn all() -> Vec<Case> {
        Shape::ALL
            .into_iter()
            .flat_map(|shape| PayloadKind::ALL.map(|payload| Case { shape, payload }))
            .collect()
    }

    /// Runs the case once with `messages` per source; the wall time from
    /// building the pipes to the last thread's end.
    pub fn run(self, runner: Runner, messages: u64) -> Result<Duration, String> {
        set_messages(messages);
        let started = Instant::now();
        match runner {
            Runner::Kernel | Runner::KernelBatched => {
                set_batched(runner == Runner::KernelBatched);
                self.kernel()?
            }
            Runner::Baseline => self.baseline(messages)?,
            Runner::Floor => self.floor(messages)?,
            Runner::BaselineSelect => match (self.shape, self.payload) {
                (Shape::Fanin2, PayloadKind::U64) => baseline::fanin_2_select::<u64>(messages)?,
                (Shape::Fanin2, PayloadKind::Kib) => baseline::fanin_2_select::<Kib>(messages)?,
                (Shape::Fanin2, PayloadKind::Frame) => {
                    baseline::fanin_2_select::<PooledKib>(messages)?
                }
                _ => return Err(format!("{} has no select baseline", self.shape)),
            },
        }
        Ok(started.elapsed())
    }

    fn kernel(self) -> Result<(), String> {
        use crate::kernels::*;
        let kernel = match (self.shape, self.payload) {
            (Shape::Chain1, PayloadKind::U64) => chain_1_u64::kernel(),
            (Shape::Chain1, PayloadKind::Kib) => chain_1_kib::kernel(),
            (Shape::Chain1, PayloadKind::Frame) => chain_1_frame::kernel(),
            (Shape::Chain3, PayloadKind::U64) => chain_3_u64::kernel(),
            (Shape::Chain3, PayloadKind::Kib) => chain_3_kib::kernel(),
            (Shape::Chain3, PayloadKind::Frame) => chain_3_frame::kernel(),
            (Shape::Fanout2, PayloadKind::U64) => fanout_2_u64::kernel(),
            (Shape::Fanout2, PayloadKind::Kib) => fanout_2_kib::kernel(),
            (Shape::Fanout2, PayloadKind::Frame) => fanout_2_frame::kernel(),
            (Shape::Fanin2, PayloadKind::U64) => fanin_2_u64::kernel(),
            (Shape::Fanin2, PayloadKind::Kib) => fanin_2_kib::kernel(),
            (Shape::Fanin2, PayloadKind::Frame) => fanin_2_frame::kernel(),
        };
        kernel
            .and_then(|k| k.with_signal_handlers(false).run())
            .map_err(|e| e.to_string())
    }

    fn baseline(self, messages: u64) -> Result<(), String> {
        match (self.shape, self.payload) {
            (Shape::Chain1, PayloadKind::U64) => baseline::chain_1::<u64>(messages),
            (Shape::Chain1, PayloadKind::Kib) => baseline::chain_1::<Kib>(messages),
            (Shape::Chain1, PayloadKind::Frame) => baseline::chain_1::<PooledKib>(messages),
            (Shape::Chain3, PayloadKind::U64) => baseline::chain_3::<u64>(messages),
            (Shape::Chain3, PayloadKind::Kib) => baseline::chain_3::<Kib>(messages),
            (Shape::Chain3, PayloadKind::Frame) => baseline::chain_3::<PooledKib>(messages),
            (Shape::Fanout2, PayloadKind::U64) => baseline::fanout_2::<u64>(messages),
            (Shape::Fanout2, PayloadKind::Kib) => baseline::fanout_2::<Kib>(messages),
            (Shape::Fanout2, PayloadKind::Frame) => baseline::fanout_2::<PooledKib>(messages),
            (Shape::Fanin2, PayloadKind::U64) => baseline::fanin_2::<u64>(messages),
            (Shape::Fanin2, PayloadKind::Kib) => baseline::fanin_2::<Kib>(messages),
            (Shape::Fanin2, PayloadKind::Frame) => baseline::fanin_2::<PooledKib>(messages),
        }
    }
}

impl Case {
    fn floor(self, messages: u64) -> Result<(), String> {
        let run = match self.shape {
            Shape::Chain1 => [
                floor::chain_1::<u64>,
                floor::chain_1::<Kib>,
                floor::chain_1::<PooledKib>,
            ],
            Shape::Chain3 => [
                floor::chain_3::<u64>,
                floor::chain_3::<Kib>,
                floor::chain_3::<PooledKib>,
            ],
            Shape::Fanout2 => [
                floor::fanout_2::<u64>,
                floor::fanout_2::<Kib>,
                floor::fanout_2::<PooledKib>,
            ],
            Shape::Fanin2 => [
                floor::fanin_2::<u64>,
                floor::fanin_2::<Kib>,
                floor::fanin_2::<PooledKib>,
            ],
        };
        let i = match self.payload {
            PayloadKind::U64 => 0,
            PayloadKind::Kib => 1,
            PayloadKind::Frame => 2,
        };
        run[i](messages)
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.shape, self.payload)
    }
}
