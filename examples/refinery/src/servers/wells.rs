//! Well heads: sources of pressure and temperature samples.

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
        for seq in 0..c.samples {
            if ctx.stopping() {
                break;
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
