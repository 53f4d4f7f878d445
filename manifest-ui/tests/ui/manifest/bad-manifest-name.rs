use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(name = "Flow Meter", class = 0x0a01, owner = "ops")]
pub struct FlowMeter {
    pub readings: Output<f64>,
}

// What a user writes with the server: no follow-on error.
impl Server for FlowMeter {
    type Config = ();
    fn new(_: ()) -> Self {
        FlowMeter { readings: Output::default() }
    }
    fn run(&mut self, _: &Context) -> Result<(), ServerError> {
        Ok(())
    }
}

fn main() {
    // What generated wiring code names.
    let _ = FlowMeter::__wiring_port_readings();
}
