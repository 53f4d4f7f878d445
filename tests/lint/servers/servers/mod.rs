//! Producing and transforming servers; most are re-exported from submodules.

mod camera;
mod filter;
mod sensor;
mod valve;

pub use camera::{Camera, Encoder};
pub use filter::Filter;
pub use sensor::Sensor;
pub use valve::{Gate, Valve};

use crate::msgs::Reading;
use kernel::prelude::*;

/// Fan-in: merges readings from several sensors.
#[derive(Manifest)]
#[manifest(class = 0x0a03, owner = "ops")]
pub struct Merge {
    pub inputs: Combine<Reading>,
    pub merged: Output<f64>,
}

/// Passes readings on; used to build loops.
#[derive(Manifest)]
#[manifest(class = 0x0a04, owner = "ops")]
pub struct Relay {
    pub input: Input<f64>,
    pub output: Output<f64>,
}

/// Turns readings into text.
#[derive(Manifest)]
#[manifest(class = 0x0a05, owner = "ops")]
pub struct Formatter {
    pub values: Input<f64>,
    pub text: Output<String>,
}

/// Receives ids from another crate's type: the scan cannot decide it.
#[derive(Manifest)]
#[manifest(class = 0x0a06, owner = "ops")]
pub struct Tagger {
    pub ids: Input<kernel::Uuid>,
    pub tagged: Output<String>,
}

/// Its manifest lacks `owner`: the derive reports it, the lints do not.
#[derive(Manifest)]
#[manifest(class = 0x0a07)]
pub struct Broken {
    pub input: Input<f64>,
}

/// Generic: the derive refuses it, and a `type` cannot name it.
pub struct Pipeline<T> {
    pub input: Input<T>,
}

/// Writes a server struct: the build step does not expand it.
macro_rules! sensor_server {
    ($name:ident) => {
        #[derive(Manifest)]
        #[manifest(class = 0x0a08, owner = "ops")]
        pub struct $name {
            pub readings: Output<f64>,
        }
    };
}

sensor_server!(Thermo);
