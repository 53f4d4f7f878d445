//! What `#[derive(Manifest)]` implements: a server's identity and
//! terminals (the data is in `wiring-model`) and how its fields take their
//! pipe ends.

pub use wiring_model::manifest::*;

/// Implemented by `#[derive(Manifest)]`; not meant to be written by hand.
/// The derive also implements how the terminal fields take their pipe ends.
pub trait Manifest: crate::__private::Attach + Send + 'static {
    /// The server's identity and terminals.
    const MANIFEST: ServerManifest;
}
