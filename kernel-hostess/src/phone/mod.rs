//! Phone calls: peer kernels calling this kernel's Hostess over HTTP,
//! authenticated with HMAC-SHA256 under a shared peer secret.
//!
//! A call carries five headers:
//!
//! | header | value |
//! |---|---|
//! | `x-hostess-peer` | the calling peer's name (`[A-Za-z0-9._-]{1,64}`) |
//! | `x-hostess-kernel` | the name of the kernel called |
//! | `x-hostess-timestamp` | Unix time in milliseconds when the call was signed |
//! | `x-hostess-nonce` | 16 to 64 characters `[A-Za-z0-9_-]`, fresh for every call |
//! | `x-hostess-signature` | lowercase hex HMAC-SHA256 of the [`canonical`] text |
//!
//! The signed text binds the kernel called, the method, the path and query
//! (relative to the Hostess API root, e.g. `/reservations/{id}/renew`), the
//! peer, timestamp, nonce and the SHA-256 of the body. The callee accepts a
//! call when it is the kernel called (a call signed for one kernel is
//! refused by every other that trusts the same peer secret), the peer is
//! known, the timestamp is within [`WINDOW`] of its own clock, the nonce
//! was not seen from that peer within the window, and the signature matches
//! (compared in constant time). A replayed call is refused: within the
//! window its nonce is known, after it its timestamp is stale.
//!
//! - [`sign`](mod@sign): the canonical text and its signature;
//! - [`verify`]: the callee's side, [`Verifier`];
//! - `client`: the caller's side, `PhoneClient` (an HTTP client; with
//!   feature `http`).

#[cfg(feature = "http")]
pub mod client;
pub mod sign;
pub mod verify;

use std::time::Duration;

#[cfg(feature = "http")]
pub use client::{CallError, PhoneClient, Response, SignedRequest};
pub use sign::{canonical, nonce, sign};
pub use verify::{PhoneError, Verifier};

/// The calling peer's name, as the called kernel knows its key.
pub const HEADER_PEER: &str = "x-hostess-peer";
/// The name of the kernel called: a call to another kernel is refused.
pub const HEADER_KERNEL: &str = "x-hostess-kernel";
/// When the call was signed, milliseconds since the Unix epoch.
pub const HEADER_TIMESTAMP: &str = "x-hostess-timestamp";
/// A random value used once: a replayed call is refused.
pub const HEADER_NONCE: &str = "x-hostess-nonce";
/// HMAC-SHA256 over the canonical request, hex.
pub const HEADER_SIGNATURE: &str = "x-hostess-signature";

/// How far a call's timestamp may be from the callee's clock.
pub const WINDOW: Duration = Duration::from_secs(30);
