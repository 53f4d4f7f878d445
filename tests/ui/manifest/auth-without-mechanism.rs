use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops", auth = "optional")]
pub struct Sensor {
    pub readings: Output<f64>,
}

fn main() {}
