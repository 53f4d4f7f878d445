//! What the build step (`wiring-build`) and the runtime (`kernel-core` and
//! the policy crates) of statically wired kernels share, written once:
//!
//! - [`spec`]: the static description of a kernel the build step generates
//!   ([`Spec`], [`ServerSpec`], [`PipeSpec`], ...), the stable ids (UUID v5)
//!   and the defaults of `wiring.toml`;
//! - [`manifest`]: what `#[derive(Manifest)]` declares (terminal kinds,
//!   [`Auth`]) and the direction and fan rules a connection must keep;
//! - [`identity`] and [`mask`]: guest identities and the masks that match them;
//! - [`lint`]: the lint codes, `E0001` to `W0703`, and a [`Finding`] of one;
//! - [`wiring`]: `wiring.toml`, its model, reader and writer;
//! - [`names`]: the closest existing name, for "did you mean".

#![warn(missing_docs)]

pub mod identity;
pub mod lint;
pub mod manifest;
pub mod mask;
pub mod names;
pub mod spec;
pub mod wiring;

pub use identity::{Field, GuestIdentity, IdentityError};
pub use lint::{Code, Finding, Level};
pub use manifest::{
    Auth, RuleViolation, ServerManifest, TerminalKind, TerminalManifest, check_direction,
    check_fan, check_shape,
};
pub use mask::{GuestMask, MaskError};
pub use spec::{
    DEFAULT_CAPACITY, Encoding, Endpoint, KernelSpec, MAX_CAPACITY, MeshSpec, PipeSpec,
    ProcessSpec, Restart, RouteSpec, RouteTarget, ServerSpec, Spec, pipe_id, route_id, server_uuid,
};
pub use uuid::{self, Uuid};
