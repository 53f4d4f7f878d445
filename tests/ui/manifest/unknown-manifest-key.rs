use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops", colour = "blue")]
pub struct Sensor {
    pub readings: Output<f64>,
}

fn main() {}
