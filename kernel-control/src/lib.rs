//! The control surface of a statically wired kernel, for human and AI
//! operators: live snapshots of the topology and their exports (JSON,
//! Graphviz DOT, Mermaid, SVG, `wiring.toml`), a live terminal view, and
//! over HTTP the JSON API, OpenAPI, Prometheus metrics, server-sent events
//! and the HMI page.
//!
//! - [`topology`]: [`Topology`] snapshots ([`Snapshot::topology`]) and exports;
//! - [`svg`]: the topology drawn as SVG;
//! - [`watch`]: the live table in a terminal;
//! - [`http`]: the axum server ([`ControlServer`]), started by hand with
//!   [`ServeControl::serve_control`] or by the kernel through [`ControlPolicy`].

#![warn(missing_docs)]

pub mod http;
pub mod svg;
pub mod topology;
pub mod watch;

use std::sync::{Arc, Mutex, PoisonError};

use kernel_core::Connectome;
use kernel_core::policy::{Policy, PolicyError};

pub use http::{ControlOptions, ControlServer, ServeControl, ServeError};
pub use topology::{Snapshot, Topology};

/// Serves the control surface while `Kernel::run` runs, when
/// `KERNEL_CONTROL_LISTEN` is set or the wiring has `[control] listen` (the
/// environment wins) and no control surface serves the kernel yet.
#[derive(Debug, Default)]
pub struct ControlPolicy {
    served: Mutex<Option<ControlServer>>,
}

impl ControlPolicy {
    /// Makes `connectome`'s kernel serve its control surface when it runs.
    pub fn install(connectome: &Connectome) {
        connectome.add_policy(Arc::new(ControlPolicy::default()));
    }
}

impl Policy for ControlPolicy {
    fn name(&self) -> &'static str {
        "control"
    }

    fn on_start(&self, connectome: &Connectome) -> Result<(), PolicyError> {
        let server = http::serve_at_run(connectome)?;
        *self.served.lock().unwrap_or_else(PoisonError::into_inner) = server;
        Ok(())
    }

    /// While a control surface serves the kernel (this policy's or one
    /// started with [`ServeControl::serve_control`]), the kernel stays up
    /// after every server has ended, until ctrl-c: an operator may restart
    /// servers.
    fn keeps_kernel_up(&self, connectome: &Connectome) -> bool {
        connectome.control_addr().is_some()
    }

    fn on_stop(&self, _connectome: &Connectome) {
        let server = self
            .served
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(server);
    }
}
