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

// What a user writes with the server: no follow-on error.
impl Server for Sensor {
    type Config = ();
    fn new(_: ()) -> Self {
        Sensor { readings: Output::default(), alarms: Multiplex::default(), count: 0 }
    }
    fn run(&mut self, _: &Context) -> Result<(), ServerError> {
        Ok(())
    }
}

fn main() {
    // What generated wiring code names.
    let _ = Sensor::__wiring_port_out();
}
