use crate::msgs::{Bytes, Frame};
use kernel::prelude::*;

/// Captures frames.
#[derive(Manifest)]
#[manifest(class = 0x0c01, owner = "media")]
pub struct Camera {
    #[terminal(name = "video", doc = "raw frames")]
    pub frames: Multiplex<Frame>,
}

/// Encodes frames.
#[derive(Manifest)]
#[manifest(class = 0x0c02, owner = "media")]
pub struct Encoder {
    pub frames: Input<super::super::msgs::Frame>,
    pub bytes: Output<Bytes>,
}
