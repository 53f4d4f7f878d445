use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
pub struct Sensor {
    count: u64,
    history: Vec<f64>,
}

// What a user writes with the server: no follow-on error.
impl Server for Sensor {
    type Config = ();
    fn new(_: ()) -> Self {
        Sensor { count: 0, history: Vec::new() }
    }
    fn run(&mut self, _: &Context) -> Result<(), ServerError> {
        Ok(())
    }
}

fn main() {}
