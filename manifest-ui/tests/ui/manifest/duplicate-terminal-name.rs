use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
pub struct Filter {
    pub out: Output<f64>,
    #[terminal(name = "out")]
    pub alarms: Output<String>,
}

// What a user writes with the server: no follow-on error.
impl Server for Filter {
    type Config = ();
    fn new(_: ()) -> Self {
        Filter { out: Output::default(), alarms: Output::default() }
    }
    fn run(&mut self, _: &Context) -> Result<(), ServerError> {
        Ok(())
    }
}

fn main() {
    // What generated wiring code names.
    let _ = Filter::__wiring_port_out();
}
