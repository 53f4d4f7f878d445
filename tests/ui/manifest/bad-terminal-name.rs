use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
#[allow(non_snake_case)]
pub struct Filter {
    #[terminal(name = "raw-input")]
    pub raw: Input<f64>,
    pub Clean: Output<f64>,
}

fn main() {}
