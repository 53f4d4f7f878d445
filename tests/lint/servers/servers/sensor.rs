use kernel::prelude::*;

/// Emits `count` readings.
#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
pub struct Sensor {
    pub readings: Output<f64>,
    count: u64,
}

#[derive(serde::Deserialize, Default)]
pub struct SensorConfig {
    pub count: u64,
}

impl Server for Sensor {
    type Config = SensorConfig;
    fn new(config: SensorConfig) -> Self {
        Sensor {
            readings: Output::default(),
            count: config.count,
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        for i in 0..self.count {
            self.readings.send(i as f64)?;
        }
        Ok(())
    }
}
