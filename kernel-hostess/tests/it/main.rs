//! The Hostess's integration tests, one module per subject, in one test
//! binary, so they share one link and run side by side. The phone tests
//! start this binary again in a role (`--exact phone::role`).

#[path = "../common/mod.rs"]
mod common;

mod guestbook;
#[cfg(feature = "http")]
mod http;
#[cfg(feature = "http")]
mod phone;
mod reservations;
