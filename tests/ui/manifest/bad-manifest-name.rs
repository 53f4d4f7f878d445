use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(name = "Flow Meter", class = 0x0a01, owner = "ops")]
pub struct FlowMeter {
    pub readings: Output<f64>,
}

fn main() {}
