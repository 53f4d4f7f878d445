//! The integration tests of the wiring step and of generated kernels, one
//! module per subject, in one test binary: a binary per file linked the
//! runtime again for each and ran them one after another, though the
//! chaos run and the fixtures' `cargo build`s wait on each other's CPU
//! only in part.
//!
//! `live_modification.rs` stays a binary of its own: its kernel's servers
//! write the same ledger as the chaos run's.

mod chaos;
mod e2e;
mod generated;
mod lint;
mod lint_never_panics;
mod runtime;
mod wiring_toml;
