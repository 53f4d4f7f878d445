use kernel::prelude::*;

#[derive(Manifest)]
pub struct Sensor {
    pub readings: Output<f64>,
}

fn main() {}
