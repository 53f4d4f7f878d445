//! The alarm watches cut temperatures against the column's trip limit.

use std::fmt;

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

/// What the alarm has seen: how many cuts, how many too hot, the hottest.
#[derive(Debug, Clone, PartialEq)]
struct Watch {
    limit_c: f64,
    cuts: u64,
    alarms: u64,
    /// `None` until a cut came.
    hottest_c: Option<f64>,
}

impl Watch {
    fn new(limit_c: f64) -> Self {
        Watch {
            limit_c,
            cuts: 0,
            alarms: 0,
            hottest_c: None,
        }
    }

    fn see(&mut self, temperature_c: f64) {
        self.cuts += 1;
        if temperature_c > self.limit_c {
            self.alarms += 1;
        }
        self.hottest_c = Some(
            self.hottest_c
                .map_or(temperature_c, |h| h.max(temperature_c)),
        );
    }
}

impl fmt::Display for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.hottest_c {
            Some(hottest) => write!(
                f,
                "{} of {} cuts above {:.0} C (hottest {hottest:.1} C)",
                self.alarms, self.cuts, self.limit_c
            ),
            None => write!(f, "no cuts seen (limit {:.0} C)", self.limit_c),
        }
    }
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
        let mut watch = Watch::new(self.max_temperature_c);
        while let Some(cut) = self.cuts.recv() {
            watch.see(cut.temperature_c);
        }
        tracing::info!("{watch}");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    // Named in each test: the benchmark that includes this module builds
    // it with `cfg(test)` but without its tests.
    #[test]
    fn without_cuts_it_says_so_instead_of_a_hottest_temperature() {
        assert_eq!(
            super::Watch::new(420.0).to_string(),
            "no cuts seen (limit 420 C)"
        );
    }

    #[test]
    fn it_counts_the_cuts_above_the_limit_and_the_hottest() {
        let mut watch = super::Watch::new(420.0);
        for t in [-5.25, 430.04, 419.9, 421.0] {
            watch.see(t);
        }
        assert_eq!(
            watch.to_string(),
            "2 of 4 cuts above 420 C (hottest 430.0 C)"
        );
        let mut cold = super::Watch::new(420.0);
        cold.see(-40.0);
        assert_eq!(
            cold.to_string(),
            "0 of 1 cuts above 420 C (hottest -40.0 C)"
        );
    }
}
