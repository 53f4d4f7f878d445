use crate::msgs::{Alert, Reading};
use kernel::prelude::*;

/// Cleans readings and raises alerts.
#[derive(Manifest)]
#[manifest(class = 0x0a02, owner = "ops")]
pub struct Filter {
    pub raw: Input<Reading>,
    pub clean: Multiplex<f64>,
    pub alerts: Output<Alert>,
}
