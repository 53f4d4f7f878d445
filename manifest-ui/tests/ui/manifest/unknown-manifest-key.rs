use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops", colour = "blue")]
pub struct Sensor {
    pub readings: Output<f64>,
}

// What a user writes with the server: no follow-on error.
impl Server for Sensor {
    type Config = ();
    fn new(_: ()) -> Self {
        Sensor { readings: Output::default() }
    }
    fn run(&mut self, _: &Context) -> Result<(), ServerError> {
        Ok(())
    }
}

fn main() {
    // What generated wiring code names.
    let _ = Sensor::__wiring_port_readings();
}
