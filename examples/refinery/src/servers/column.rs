//! The distillation column splits the feed into product cuts by boiling point.

use kernel::prelude::*;
use serde::Deserialize;

use super::{Cut, Grade, Sample};

#[derive(Manifest)]
#[manifest(
    class = 0x0b01,
    owner = "ops",
    auth = "optional",
    auth_mechanism = "hmac-sha256"
)]
pub struct Column {
    #[terminal(doc = "feed from the manifold")]
    pub feed: Input<Sample>,
    #[terminal(doc = "every cut goes to every consumer")]
    pub cuts: Multiplex<Cut>,
    cut_points_c: Vec<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnConfig {
    /// Boiling points separating the grades, ascending; up to four.
    pub cut_points_c: Vec<f64>,
}

impl Server for Column {
    type Config = ColumnConfig;

    fn new(config: ColumnConfig) -> Self {
        Column {
            feed: Input::default(),
            cuts: Multiplex::default(),
            cut_points_c: config.cut_points_c,
        }
    }

    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        if self.cut_points_c.len() >= Grade::ALL.len() {
            return Err(ServerError::from(format!(
                "at most {} cut points are supported, got {}",
                Grade::ALL.len() - 1,
                self.cut_points_c.len()
            )));
        }
        while let Some(sample) = self.feed.recv() {
            let index = self
                .cut_points_c
                .iter()
                .take_while(|&&point| sample.temperature_c > point)
                .count();
            self.cuts.send(Cut {
                grade: Grade::ALL[index],
                volume_l: sample.pressure_bar * 0.42,
                temperature_c: sample.temperature_c,
            })?;
        }
        Ok(())
    }
}
