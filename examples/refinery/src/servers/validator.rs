//! Signal validation: a sample no instrument could have taken (a reading
//! that is not a number, a pressure below zero or above the transmitter's
//! range) is a sensor fault, not crude; it must not reach the column.
//!
//! A `Transform`: the build fuses it into the manifold's thread, so it costs
//! a function call per sample, not a thread and a pipe.

use kernel::prelude::*;
use serde::Deserialize;

use super::Sample;

#[derive(Manifest)]
#[manifest(class = 0x0a03, owner = "ops")]
pub struct Validator {
    #[terminal(doc = "samples as the wells' transmitters sent them")]
    pub raw: Input<Sample>,
    #[terminal(doc = "the samples an instrument could have taken")]
    pub valid: Output<Sample>,
    max_pressure_bar: f64,
    rejected: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorConfig {
    /// The top of the pressure transmitters' range.
    pub max_pressure_bar: f64,
}

impl Transform for Validator {
    type Config = ValidatorConfig;
    type In = Sample;
    type Out = Sample;

    fn new(config: ValidatorConfig) -> Self {
        Validator {
            raw: Input::default(),
            valid: Output::default(),
            max_pressure_bar: config.max_pressure_bar,
            rejected: 0,
        }
    }

    fn process(&mut self, sample: Sample) -> Result<Option<Sample>, ServerError> {
        let plausible = sample.temperature_c.is_finite()
            && (0.0..=self.max_pressure_bar).contains(&sample.pressure_bar);
        if plausible {
            return Ok(Some(sample));
        }
        self.rejected += 1;
        // The first fault, then one in a thousand: a failing transmitter
        // must not flood the log.
        if self.rejected % 1000 == 1 {
            tracing::warn!(
                well = sample.well,
                seq = sample.seq,
                pressure_bar = sample.pressure_bar,
                temperature_c = sample.temperature_c,
                rejected = self.rejected,
                "sensor fault: sample rejected"
            );
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(pressure_bar: f64, temperature_c: f64) -> Sample {
        Sample {
            well: 1,
            seq: 0,
            pressure_bar,
            temperature_c,
        }
    }

    #[test]
    fn passes_what_an_instrument_can_read_and_rejects_faults() {
        let mut validator = <Validator as Transform>::new(ValidatorConfig {
            max_pressure_bar: 400.0,
        });
        let good = sample(182.0, 305.0);
        assert_eq!(validator.process(good).ok().flatten(), Some(good));
        for fault in [
            sample(-1.0, 305.0),
            sample(400.5, 305.0),
            sample(f64::NAN, 305.0),
            sample(182.0, f64::INFINITY),
        ] {
            assert_eq!(validator.process(fault).ok().flatten(), None, "{fault:?}");
        }
        assert_eq!(validator.rejected, 4);
    }
}
