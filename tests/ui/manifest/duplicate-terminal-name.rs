use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
pub struct Filter {
    pub out: Output<f64>,
    #[terminal(name = "out")]
    pub alarms: Output<String>,
}

fn main() {}
