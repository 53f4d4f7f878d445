//! What `#[derive(Manifest)]` implements: a server's identity and
//! terminals (the data is in `wiring-model`) and how its fields take their
//! pipe ends.

pub use wiring_model::manifest::*;

use crate::Error;
use crate::terminal::Ports;

/// Implemented by `#[derive(Manifest)]`; not meant to be written by hand.
pub trait Manifest: Send + 'static {
    const MANIFEST: ServerManifest;

    /// Hands every terminal field its pipe ends, taken from `ports` by terminal name.
    fn attach(&mut self, ports: &mut Ports) -> Result<(), Error>;
}
