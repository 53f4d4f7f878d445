//! Benchmarks of the wiring project (issue 5), see `BENCHMARKS.md` at the
//! repository root for the results and the commands that reproduce them.
//!
//! - [`shapes`]: the pipe benchmark cases, as generated kernels
//!   ([`kernels`], from `wiring/*.toml` by `build.rs`) and as the
//!   hand-written crossbeam baseline ([`baseline`]) and the hand-written
//!   batched SPSC floor ([`floor`]);
//! - [`synth`]: synthetic wiring files and server sources of any size, for
//!   the build-time and runtime scaling measurements;
//! - [`stats`]: medians and `/proc/self/status` memory figures.

pub mod baseline;
pub mod floor;
pub mod latency;
pub mod payload;
pub mod servers;
pub mod shapes;
pub mod stats;
pub mod synth;

use std::sync::atomic::{AtomicU64, Ordering};

/// The generated benchmark kernels, one per shape and payload.
pub mod kernels {
    kernel::include_wiring!(chain_1_u64);
    kernel::include_wiring!(chain_1_kib);
    kernel::include_wiring!(chain_1_frame);
    kernel::include_wiring!(chain_3_u64);
    kernel::include_wiring!(chain_3_kib);
    kernel::include_wiring!(chain_3_frame);
    kernel::include_wiring!(fanout_2_u64);
    kernel::include_wiring!(fanout_2_kib);
    kernel::include_wiring!(fanout_2_frame);
    kernel::include_wiring!(fanin_2_u64);
    kernel::include_wiring!(fanin_2_kib);
    kernel::include_wiring!(fanin_2_frame);
    kernel::include_wiring!(latency_u64);
}

/// The messages each benchmark source sends (the 1,000,000).
pub const MESSAGES: u64 = 1_000_000;

static SOURCE_MESSAGES: AtomicU64 = AtomicU64::new(MESSAGES);

/// How many messages each source sends in the next run (read when the
/// servers are built).
pub fn set_messages(messages: u64) {
    SOURCE_MESSAGES.store(messages, Ordering::Relaxed);
}

/// How many messages each source sends.
pub fn messages() -> u64 {
    SOURCE_MESSAGES.load(Ordering::Relaxed)
}
