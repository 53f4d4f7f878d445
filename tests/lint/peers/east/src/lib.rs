//! East: a kernel whose routes compete with the linted kernel's.

use kernel::prelude::*;

/// Sends readings.
#[derive(Manifest)]
#[manifest(class = 0x0d01, owner = "ops")]
pub struct Feeder {
    pub readings: Output<f64>,
}
