//! The Hostess as a policy of a kernel: at start it books the terminals of
//! every wired pipe under the pipe ids; at run time it admits a new
//! connection only when both terminals are free (or already in the
//! kernel's own booking), and frees them when the connection lets go
//! (disconnected, closed or failed). These bookings are the kernel's own:
//! nobody releases, renews or joins them, and they never expire (see
//! [`reservation`](crate::reservation)).

use std::sync::Arc;

use kernel_core::policy::{Policy, PolicyError};
use kernel_core::{Connectome, Context, Kernel, PipeSpec};
use uuid::Uuid;
use wiring_model::{Endpoint, GuestIdentity};

use crate::{Hostess, TerminalRef, book_spec};

/// Holder of the terminals a kernel books for its own pipes; no other lease
/// may be held under this name.
pub const BOOKING_HOLDER: &str = "control";

/// The kernel's Hostess, for anything that holds its connectome.
pub trait HostessExt {
    /// The Hostess of this kernel: its servers as guests and the use of
    /// their terminals (booked under connectome ids, the pipe ids). Made
    /// on first use, with every server registered as a walk-in.
    fn hostess(&self) -> Hostess;
}

impl HostessExt for Connectome {
    fn hostess(&self) -> Hostess {
        let spec = self.spec();
        self.extensions()
            .get_or_insert_with(|| Hostess::for_spec(spec))
            .as_ref()
            .clone()
    }
}

impl HostessExt for Context {
    fn hostess(&self) -> Hostess {
        self.connectome().hostess()
    }
}

impl HostessExt for Kernel {
    fn hostess(&self) -> Hostess {
        self.connectome().hostess()
    }
}

/// Books with the kernel's Hostess; see the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostessPolicy;

impl HostessPolicy {
    /// Gives `connectome` a Hostess with its servers registered and makes
    /// it book the kernel's pipes.
    pub fn install(connectome: &Connectome) {
        connectome.hostess();
        connectome.add_policy(Arc::new(HostessPolicy));
    }
}

/// The terminal at `endpoint` as the Hostess knows it: its server is a
/// registered guest (same identity) with a terminal of that name.
fn hosted(connectome: &Connectome, hostess: &Hostess, endpoint: Endpoint) -> Option<TerminalRef> {
    let spec = connectome.spec().server(endpoint.server)?;
    let guest = hostess.guest(spec.uuid)?;
    let same = GuestIdentity::parse(spec.identity).is_ok_and(|i| i == guest.identity);
    (same && guest.terminal(endpoint.terminal).is_some())
        .then(|| TerminalRef::new(spec.uuid, endpoint.terminal))
}

impl Policy for HostessPolicy {
    fn name(&self) -> &'static str {
        "hostess"
    }

    /// Books every terminal the wiring's pipes use (plan, ask by mask and
    /// count, bind under the pipe ids). A kernel whose servers are not
    /// proper guests (hand-written specs) cannot be booked: that is logged,
    /// and the kernel runs without bookings.
    fn on_start(&self, connectome: &Connectome) -> Result<(), PolicyError> {
        let spec = connectome.spec();
        let hostess = connectome.hostess();
        match book_spec(&hostess, spec, BOOKING_HOLDER) {
            Ok(booking) => {
                // Pipes disconnected before the kernel ran give theirs back.
                for pipe in connectome.pipes() {
                    if pipe.state.is_final() {
                        hostess.unbind(pipe.id);
                    }
                }
                tracing::debug!(
                    kernel = spec.kernel.name,
                    terminals = booking.terminals.len(),
                    "terminals booked with the hostess"
                );
            }
            Err(e) => tracing::warn!(
                kernel = spec.kernel.name,
                "terminals not booked with the hostess: {e}"
            ),
        }
        Ok(())
    }

    /// Books both terminals under the new pipe id (refused when another
    /// holder has them); terminals the Hostess does not know stay unbooked.
    fn admit(&self, connectome: &Connectome, pipe: &PipeSpec) -> Result<(), PolicyError> {
        let hostess = connectome.hostess();
        let bindings: Vec<(TerminalRef, Uuid)> = [pipe.from, pipe.to]
            .into_iter()
            .filter_map(|end| hosted(connectome, &hostess, end))
            .map(|terminal| (terminal, pipe.id))
            .collect();
        if !bindings.is_empty() {
            hostess.connect(BOOKING_HOLDER, &bindings)?;
        }
        Ok(())
    }

    /// Gives the terminals booked under the pipe's id back.
    fn release(&self, connectome: &Connectome, pipe: &PipeSpec) {
        let freed = connectome.hostess().unbind(pipe.id);
        if !freed.is_empty() {
            tracing::debug!(id = %pipe.id, terminals = freed.len(), "terminals freed");
        }
    }
}
