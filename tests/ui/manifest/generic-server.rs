use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
pub struct Relay<T: Send + 'static> {
    pub input: Input<T>,
    pub output: Output<T>,
}

fn main() {}
