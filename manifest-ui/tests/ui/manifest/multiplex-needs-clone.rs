use kernel::prelude::*;

pub struct Frame(Vec<u8>);

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
pub struct Camera {
    pub frames: Multiplex<Frame>,
}

fn main() {}
