//! The alarm watches cut temperatures against the column's trip limit.

use kernel::prelude::*;
use serde::Deserialize;

use super::Cut;

#[derive(Manifest)]
#[manifest(class = 0x0d01, owner = "safety")]
pub struct Alarm {
    pub cuts: Input<Cut>,
    max_temperature_c: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmConfig {
    /// Cuts hotter than this raise an alarm.
    pub max_temperature_c: f64,
}

impl Server for Alarm {
    type Config = AlarmConfig;

    fn new(config: AlarmConfig) -> Self {
        Alarm {
            cuts: Input::default(),
            max_temperature_c: config.max_temperature_c,
        }
    }

    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        let mut alarms = 0u64;
        let mut hottest = f64::MIN;
        while let Some(cut) = self.cuts.recv() {
            hottest = hottest.max(cut.temperature_c);
            if cut.temperature_c > self.max_temperature_c {
                alarms += 1;
            }
        }
        tracing::info!(
            "{alarms} cuts above {:.0} C (hottest {hottest:.1} C)",
            self.max_temperature_c
        );
        Ok(())
    }
}
