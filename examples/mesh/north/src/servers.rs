//! The plant: a finite stream of sequence numbers.

use kernel::prelude::*;
use serde::Deserialize;

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
pub struct Plant {
    #[terminal(doc = "0, 1, 2, ... up to `count` - 1, in order")]
    pub numbers: Output<u64>,
    count: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlantConfig {
    /// How many numbers to send.
    pub count: u64,
}

impl Server for Plant {
    type Config = PlantConfig;

    fn new(config: PlantConfig) -> Self {
        Plant {
            numbers: Output::default(),
            count: config.count,
        }
    }

    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        for n in 0..self.count {
            self.numbers.send(n)?;
        }
        Ok(())
    }
}
