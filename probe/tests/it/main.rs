//! The probe's integration tests, one module per subject, in one test
//! binary, so they share one link and run side by side. The namespace test
//! starts this binary again inside a network namespace
//! (`--exact namespace::inside_the_namespace`).

#[path = "../common/mod.rs"]
mod common;

mod attacks;
mod end_to_end;
mod namespace;
