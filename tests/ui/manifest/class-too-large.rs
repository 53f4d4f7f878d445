use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(class = 0x1_0000_0000, owner = "ops")]
pub struct Sensor {
    pub readings: Output<f64>,
}

fn main() {}
