use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(colour = "red", class = 0x1_0000_0000, auth = "yes")]
pub struct Sensor {
    #[terminal(name = "out", name = "readings")]
    pub readings: Output<f64>,
    #[terminal(name = "out")]
    pub alarms: Multiplex<String>,
    #[terminal(doc = "how many")]
    count: u64,
}

fn main() {}
