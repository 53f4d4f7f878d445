use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
pub enum Sensor {
    Idle,
    Reading(Output<f64>),
}

fn main() {}
