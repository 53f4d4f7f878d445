//! The mechanism of statically wired pipeline kernels: pipes, terminals,
//! servers, the executor and the live connectome. No HTTP, no crypto, no
//! network: policy (the Hostess, control surfaces, the mesh) plugs in
//! through [`Policy`] and [`Extensions`](policy::Extensions).
//!
//! Server authors use the `kernel` facade, which re-exports this crate.
//!
//! Servers declare their terminals with `#[derive(Manifest)]`; `wiring-build`
//! lints `wiring.toml` and generates the code that wires them with this crate.
//!
//! Where things are:
//! - [`terminal`]: the four terminal kinds ([`Input`], [`Output`],
//!   [`Multiplex`], [`Combine`]) and how they get their pipe ends;
//! - [`pipe`]: bounded pipes and their counters;
//! - [`frame`]: pooled payloads for large messages ([`Frame`]);
//! - [`server`]: the [`Server`] trait, [`Context`] and [`ServerError`];
//! - [`executor`]: [`KernelBuilder`] and [`Kernel`] (boot, supervise, stop);
//! - [`connectome`]: the static [`Spec`] plus live state and the [`Report`];
//! - [`control`]: live modification, the state machines and the event log;
//! - [`route`]: the local sides of routes to other kernels and their view;
//! - [`policy`]: the hooks policy crates plug in with.

#![warn(missing_docs)]

extern crate self as kernel;

#[doc(hidden)]
pub mod __private;
pub mod connectome;
pub mod control;
mod error;
pub mod executor;
pub mod frame;
#[doc(hidden)]
pub mod fuse;
pub mod manifest;
pub mod pipe;
pub mod policy;
pub mod route;
pub mod server;
pub mod terminal;

pub use connectome::{
    Connectome, Endpoint, KernelSpec, PipeSpec, Process, ProcessSpec, ProcessStatus, Report,
    Restart, ServerSpec, ServerState, ServerStatus, Spec, WaitKind, Waiting,
};
pub use control::{ConnectionState, Control, ControlError};
pub use error::{Error, ServerFailure};
pub use executor::{Kernel, KernelBuilder, StopHandle};
pub use frame::{Frame, FrameMut, FramePool};
pub use manifest::{Auth, Manifest, RuleViolation, ServerManifest, TerminalKind, TerminalManifest};
pub use pipe::{TapEncoder, TapError, TapSample, TapWatch};
pub use policy::{Extensions, Policy, PolicyError};
pub use route::{RouteDirection, RouteState, RouteStatus, RouteTable};
pub use server::{Context, Server, ServerError, Transform};
pub use terminal::{Combine, Input, Multiplex, Output, SendError};
pub use uuid::{self, Uuid};

/// Derives [`Manifest`] for a server struct.
pub use manifest_macros::Manifest;

/// What a server author needs in scope.
pub mod prelude {
    pub use crate::{
        Combine, Context, Frame, FrameMut, FramePool, Input, Manifest, Multiplex, Output,
        SendError, Server, ServerError, Transform,
    };
}
