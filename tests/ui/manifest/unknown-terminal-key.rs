use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
pub struct Sensor {
    #[terminal(name = "readings", capacity = 16)]
    pub out: Output<f64>,
}

fn main() {}
