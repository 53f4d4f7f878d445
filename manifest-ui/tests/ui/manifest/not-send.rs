use std::rc::Rc;

use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
pub struct Sensor {
    pub readings: Output<f64>,
    calibration: Rc<Vec<f64>>,
}

fn main() {}
