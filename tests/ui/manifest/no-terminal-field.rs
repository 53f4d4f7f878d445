use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
pub struct Sensor {
    count: u64,
    history: Vec<f64>,
}

fn main() {}
