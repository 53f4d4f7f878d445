use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
#[allow(non_snake_case)]
pub struct Filter {
    #[terminal(name = "raw-input")]
    pub raw: Input<f64>,
    pub Clean: Output<f64>,
}

// What a user writes with the server: no follow-on error.
impl Server for Filter {
    type Config = ();
    fn new(_: ()) -> Self {
        Filter { raw: Input::default(), Clean: Output::default() }
    }
    fn run(&mut self, _: &Context) -> Result<(), ServerError> {
        Ok(())
    }
}

fn main() {}
