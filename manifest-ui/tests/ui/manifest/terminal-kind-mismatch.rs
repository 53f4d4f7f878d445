use kernel::prelude::*;

mod alias {
    /// Reads like an output, but is the kernel's input terminal.
    pub type Output<T> = kernel::Input<T>;
}

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
pub struct Sensor {
    pub readings: alias::Output<f64>,
}

fn main() {}
