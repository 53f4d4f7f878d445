use kernel::prelude::*;

/// Named like a terminal, but not one of the kernel's.
#[derive(Default)]
pub struct Output<T>(Option<T>);

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
pub struct Sensor {
    pub readings: Output<f64>,
}

fn main() {}
