use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
pub struct Sensor {
    #[terminal(doc = "degrees", doc = "kelvin")]
    pub readings: Output<f64>,
}

fn main() {}
