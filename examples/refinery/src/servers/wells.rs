//! Well heads: sources of pressure and temperature samples.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kernel::prelude::*;
use serde::Deserialize;

use super::Sample;

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
pub struct Well {
    #[terminal(doc = "one sample per reading, in order")]
    pub samples: Output<Sample>,
    config: WellConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WellConfig {
    /// Well number written into every sample.
    pub well: u8,
    /// How many samples to take before the well is shut in.
    pub samples: u64,
    /// Nominal head pressure; readings wander around it.
    pub pressure_bar: f64,
    /// Nominal fluid temperature; readings wander around it.
    pub temperature_c: f64,
}

/// Microseconds between two samples when the plant runs steadily
/// (`--serve`, `--watch`); 0: take `samples` readings as fast as possible.
static STEADY_INTERVAL_US: AtomicU64 = AtomicU64::new(0);

/// Makes every well produce without end, one sample per `interval`, until
/// the kernel stops (or the well is restarted or stopped).
pub fn run_steadily(interval: Duration) {
    let micros = u64::try_from(interval.as_micros())
        .unwrap_or(u64::MAX)
        .max(1);
    STEADY_INTERVAL_US.store(micros, Ordering::Relaxed);
}

impl Server for Well {
    type Config = WellConfig;

    fn new(config: WellConfig) -> Self {
        Well {
            samples: Output::default(),
            config,
        }
    }

    fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
        let c = &self.config;
        let mut noise = Noise::new(u64::from(c.well));
        let steady = Duration::from_micros(STEADY_INTERVAL_US.load(Ordering::Relaxed));
        let count = if steady.is_zero() {
            c.samples
        } else {
            u64::MAX
        };
        let start = Instant::now();
        for seq in 0..count {
            if ctx.stopping() {
                break;
            }
            if !steady.is_zero() {
                // Paced from the start, so the rate stays steady.
                let due = start + steady.saturating_mul(u32::try_from(seq).unwrap_or(u32::MAX));
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            self.samples.send(Sample {
                well: c.well,
                seq,
                pressure_bar: c.pressure_bar * (1.0 + 0.05 * noise.next()),
                temperature_c: c.temperature_c * (1.0 + 0.5 * noise.next()),
            })?;
        }
        Ok(())
    }
}

/// Deterministic noise in [-1, 1] (xorshift), so every run reads the same field.
struct Noise(u64);

impl Noise {
    fn new(seed: u64) -> Self {
        Noise(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}
