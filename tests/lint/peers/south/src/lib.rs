//! South: the kernel the golden cases route to.

use kernel::prelude::*;

/// A message only this crate defines.
pub struct Tick {
    pub seq: u64,
}

/// Keeps values and lines that other kernels route to it.
#[derive(Manifest)]
#[manifest(class = 0x0b03, owner = "ops")]
pub struct Store {
    pub values: Input<f64>,
    pub lines: Combine<String>,
    pub ticks: Input<Tick>,
    pub kept: Input<f64>,
    pub log: Output<String>,
}

/// Archives lines; found by a mask.
#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
pub struct Archive {
    pub lines: Combine<String>,
}
