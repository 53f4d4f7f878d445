//! Fixture servers for the lint golden tests (`tests/lint/<case>/`).
//!
//! wiring-build scans this tree from here, following the `mod` declarations;
//! it is never compiled, but it is kept valid Rust against the kernel API.

pub mod msgs;
pub mod servers;
pub mod sinks;
