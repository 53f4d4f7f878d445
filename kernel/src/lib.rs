//! Runtime for statically wired pipeline kernels.
//!
//! Servers declare their terminals with `#[derive(Manifest)]`; `wiring-build`
//! lints `wiring.toml` and generates the code that wires them with this crate.
//!
//! ```
//! use kernel::prelude::*;
//!
//! #[derive(Manifest)]
//! #[manifest(class = 0x0a01, owner = "ops")]
//! pub struct Sensor {
//!     pub readings: Output<f64>,
//!     count: u64,
//! }
//!
//! #[derive(serde::Deserialize, Default)]
//! pub struct SensorConfig {
//!     pub count: u64,
//! }
//!
//! impl Server for Sensor {
//!     type Config = SensorConfig;
//!     fn new(config: SensorConfig) -> Self {
//!         Sensor { readings: Output::default(), count: config.count }
//!     }
//!     fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
//!         for i in 0..self.count {
//!             if ctx.stopping() {
//!                 break;
//!             }
//!             self.readings.send(i as f64)?; // blocks while the pipe is full
//!         }
//!         Ok(()) // finishing closes the output: downstream sees end of stream
//!     }
//! }
//! ```
//!
//! Where things are:
//! - [`terminal`]: the four terminal kinds ([`Input`], [`Output`],
//!   [`Multiplex`], [`Combine`]) and how they get their pipe ends;
//! - [`pipe`]: bounded pipes and their counters;
//! - [`server`]: the [`Server`] trait, [`Context`] and [`ServerError`];
//! - [`executor`]: [`KernelBuilder`] and [`Kernel`] (boot, supervise, stop);
//! - [`connectome`]: the static [`Spec`] plus live state and the [`Report`];
//! - [`hostess`]: the guest book of servers and terminals, masks, reservations.

extern crate self as kernel;

pub mod connectome;
pub mod control;
mod error;
pub mod executor;
pub mod hostess;
pub mod manifest;
#[cfg(feature = "net")]
pub mod net;
pub mod pipe;
pub mod server;
pub mod terminal;

pub use connectome::{
    Connectome, Endpoint, KernelSpec, PipeSpec, Process, ProcessSpec, ProcessStatus, Report,
    Restart, ServerSpec, ServerState, Spec,
};
pub use control::{ConnectionState, Control, ControlError};
pub use error::{Error, ServerFailure};
pub use executor::{Kernel, KernelBuilder, StopHandle};
pub use manifest::{Auth, Manifest, RuleViolation, ServerManifest, TerminalKind, TerminalManifest};
pub use server::{Context, Server, ServerError};
pub use terminal::{Combine, Input, Multiplex, Output, Port, Ports, SendError};
pub use uuid::{self, Uuid};

/// Derives [`Manifest`] for a server struct.
pub use manifest_macros::Manifest;

/// What a server author needs in scope.
pub mod prelude {
    pub use crate::{
        Combine, Context, Input, Manifest, Multiplex, Output, SendError, Server, ServerError,
    };
}

/// Includes the kernel that `wiring-build` generated into `OUT_DIR`.
///
/// `include_wiring!()` defines `mod wiring` from `wiring.rs`;
/// `include_wiring!(name)` defines `mod name` from `name.rs`.
#[macro_export]
macro_rules! include_wiring {
    () => {
        $crate::include_wiring!(wiring);
    };
    ($name:ident) => {
        pub mod $name {
            include!(concat!(env!("OUT_DIR"), "/", stringify!($name), ".rs"));
        }
    };
}
