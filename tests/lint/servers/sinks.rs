//! Consuming servers.

mod text;

pub use text::{Logger, Store};

use crate::msgs::Alert;
use kernel::prelude::*;

/// Sounds alerts; needs authenticated peers.
#[derive(Manifest)]
#[manifest(class = 0x0b01, owner = "sec", auth = "yes", auth_mechanism = "hmac-sha256")]
pub struct Alarm {
    pub alerts: Input<Alert>,
    pub lines: Input<std::string::String>,
}

/// Stores encoded bytes.
#[derive(Manifest)]
#[manifest(class = 0x0b02, owner = "media")]
pub struct Archive {
    pub bytes: Combine<Vec<u8>>,
}
