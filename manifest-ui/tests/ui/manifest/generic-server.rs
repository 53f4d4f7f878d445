use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
pub struct Relay<T: Send + 'static> {
    pub input: Input<T>,
    pub output: Output<T>,
}

// What a user writes with the server: no follow-on error.
impl<T: Send + 'static> Server for Relay<T> {
    type Config = ();
    fn new(_: ()) -> Self {
        Relay {
            input: Input::default(),
            output: Output::default(),
        }
    }
    fn run(&mut self, _: &Context) -> Result<(), ServerError> {
        Ok(())
    }
}

fn main() {
    let _ = Relay::<u64>::__wiring_port_input();
}
