use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(owner = "ops")]
pub struct Sensor {
    pub readings: Output<f64>,
}

fn main() {}
