use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
pub union Sensor {
    raw: u64,
    value: f64,
}

fn main() {}
