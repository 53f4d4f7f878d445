//! The mesh: kernels carry data to each other over Zenoh.
//!
//! A kernel whose wiring has `[mesh]` or `[[routes]]` opens one Zenoh
//! session in peer mode ([`session`]) when it runs, and through it:
//!
//! - announces its guests as liveliness tokens and answers for its Hostess
//!   (menu, guests by mask, phone calls) as queryables ([`hostess`]);
//! - carries each route from a local output to a terminal of another kernel
//!   ([`outbound`]) and takes routes from other kernels into its offered
//!   terminals ([`inbound`]).
//!
//! Back pressure crosses kernels by credits: the receiver grants no more
//! than its terminal's pipe has room for, the sender sends only within the
//! grant (Zenoh publishes with congestion control `Block`, never `Drop`).
//! Every message carries a sequence number; the receiver takes them in
//! order, drops duplicates and acknowledges what its terminal took, the
//! sender keeps what is not acknowledged and sends it again after a cut.
//!
//! Keys are listed in [`keys`]; the call protocol is [`call`]; message
//! encodings are [`codec`].

pub mod call;
pub mod codec;
mod hostess;
mod inbound;
pub mod keys;
mod outbound;
pub mod session;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kernel_core::Connectome;
use kernel_core::connectome::WeakConnectome;
use kernel_core::policy::{Policy, PolicyError};
use kernel_core::route::{RouteStatus, RouteTable};
use zenoh::Session;

pub use call::MeshKey;
pub use codec::{RouteCodecs, RouteMessage};
pub use session::MeshOptions;

use inbound::Inbound;
use outbound::Outbound;

/// Why the mesh of a kernel could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MeshError {
    /// The endpoints or another setting were not accepted by Zenoh.
    #[error("bad mesh configuration: {0}")]
    Config(String),
    /// The Zenoh session could not open (an endpoint to listen on is taken, ...).
    #[error("cannot open the mesh session: {0}")]
    Open(String),
    /// The wiring and what the kernel was built with disagree.
    #[error("{0}")]
    Wiring(String),
    /// A thread could not be started.
    #[error("cannot start the mesh's {what} thread: {source}")]
    Spawn {
        /// Which thread (`route`, `inbound`, ...).
        what: &'static str,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

/// How long a call waits for the callee's answer.
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// What every part of a kernel's mesh shares.
pub(crate) struct Shared {
    pub(crate) kernel: &'static str,
    pub(crate) session: Session,
    pub(crate) zid: String,
    pub(crate) key: Option<MeshKey>,
    pub(crate) stop: AtomicBool,
    pub(crate) connectome: WeakConnectome,
}

impl Shared {
    pub(crate) fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// Sleeps `d`, waking early (and returning true) when the mesh stops.
    pub(crate) fn sleep(&self, d: Duration) -> bool {
        let step = Duration::from_millis(10);
        let mut left = d;
        while !left.is_zero() {
            if self.stopping() {
                return true;
            }
            let now = left.min(step);
            std::thread::sleep(now);
            left -= now;
        }
        self.stopping()
    }
}

/// The routes of a kernel as the mesh runs them: [`RouteTable`] of its
/// connectome.
struct MeshRoutes {
    outbound: Vec<Arc<Outbound>>,
    inbound: Mutex<Option<Arc<Inbound>>>,
}

impl RouteTable for MeshRoutes {
    fn routes(&self) -> Vec<RouteStatus> {
        let mut all: Vec<RouteStatus> = self.outbound.iter().map(|o| o.status()).collect();
        if let Some(inbound) = lock(&self.inbound).as_ref() {
            all.extend(inbound.statuses());
        }
        all
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running mesh node.
struct Running {
    shared: Arc<Shared>,
    inbound: Arc<Inbound>,
    /// Liveliness tokens and queryables: undeclared when dropped.
    _declared: hostess::Declared,
    threads: Vec<std::thread::JoinHandle<()>>,
}

/// The mesh as a policy of a kernel: starts the node when `Kernel::run`
/// starts, keeps the kernel up while a route still delivers what its
/// finished producer sent, and stops the node (counting what could not be
/// delivered) when the run ends.
pub struct MeshPolicy {
    codecs: Mutex<Option<codec::RouteCodecs>>,
    routes: Arc<MeshRoutes>,
    running: Mutex<Option<Running>>,
}

impl std::fmt::Debug for MeshPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeshPolicy")
            .field("routes", &self.routes.outbound.len())
            .field("running", &lock(&self.running).is_some())
            .finish()
    }
}

impl MeshPolicy {
    /// Gives `connectome`'s kernel a mesh node when its wiring has `[mesh]`
    /// or `[[routes]]` (or `KERNEL_MESH_LISTEN` / `KERNEL_MESH_PEERS` are
    /// set), with the typed route ends in `codecs`. Refused when a route or
    /// an offered terminal has no codec, or a codec belongs to nothing of
    /// the wiring.
    pub fn install(connectome: &Connectome, codecs: RouteCodecs) -> Result<(), MeshError> {
        let spec = connectome.spec();
        let mut problems = Vec::new();
        for route in spec.routes {
            if !codecs.sources.iter().any(|(r, _)| r.id == route.id) {
                problems.push(format!(
                    "route `{}` from `{}` has no codec: route its output with \
                     `KernelBuilder::route` (its message type needs serde)",
                    route.id, route.from
                ));
            }
        }
        let offered: Vec<String> = spec
            .mesh
            .map(|m| m.offer.iter().map(ToString::to_string).collect())
            .unwrap_or_default();
        for endpoint in &offered {
            if !codecs.sinks.contains_key(endpoint) {
                problems.push(format!(
                    "offered terminal `{endpoint}` has no codec: offer it with \
                     `KernelBuilder::offer` (its message type needs serde)"
                ));
            }
        }
        for endpoint in codecs.sinks.keys() {
            if !offered.contains(endpoint) {
                problems.push(format!(
                    "terminal `{endpoint}` has a codec but `[mesh] offer` does not list it"
                ));
            }
        }
        if !problems.is_empty() {
            return Err(MeshError::Wiring(format!(
                "kernel `{}`: {}",
                spec.kernel.name,
                problems.join("; ")
            )));
        }
        let wanted =
            spec.mesh.is_some() || !spec.routes.is_empty() || MeshOptions::env_asks_for_mesh();
        if !wanted {
            return Ok(());
        }
        let outbound = codecs
            .sources
            .iter()
            .map(|(route, source)| Arc::new(Outbound::new(route, source.type_name())))
            .collect();
        let routes = Arc::new(MeshRoutes {
            outbound,
            inbound: Mutex::new(None),
        });
        connectome.set_route_table(Arc::clone(&routes) as Arc<dyn RouteTable>);
        connectome.add_policy(Arc::new(MeshPolicy {
            codecs: Mutex::new(Some(codecs)),
            routes,
            running: Mutex::new(None),
        }));
        Ok(())
    }

    fn start(&self, connectome: &Connectome) -> Result<Running, MeshError> {
        let spec = connectome.spec();
        let options = MeshOptions::from_spec(spec.mesh);
        let key = options.passphrase.as_deref().map(MeshKey::derive);
        let session = options.open(key.as_ref())?;
        let zid = session.zid().to_string();
        tracing::info!(
            kernel = spec.kernel.name,
            %zid,
            listen = ?options.listen,
            peers = ?options.peers,
            authenticated = key.is_some(),
            "mesh session open"
        );
        let shared = Arc::new(Shared {
            kernel: spec.kernel.name,
            session,
            zid,
            key,
            stop: AtomicBool::new(false),
            connectome: connectome.downgrade(),
        });
        let codecs = lock(&self.codecs).take().unwrap_or_default();
        let inbound = Arc::new(Inbound::new(Arc::clone(&shared), codecs.sinks));
        *lock(&self.routes.inbound) = Some(Arc::clone(&inbound));
        let mut threads = Vec::new();
        let declared = hostess::declare(&shared, connectome, &inbound, &mut threads)?;
        threads.push(inbound::spawn_keeper(&inbound)?);
        for ((_, source), route) in codecs.sources.into_iter().zip(&self.routes.outbound) {
            threads.push(outbound::spawn(&shared, Arc::clone(route), source)?);
        }
        Ok(Running {
            shared,
            inbound,
            _declared: declared,
            threads,
        })
    }
}

impl Policy for MeshPolicy {
    fn name(&self) -> &'static str {
        "mesh"
    }

    fn on_start(&self, connectome: &Connectome) -> Result<(), PolicyError> {
        let running = self.start(connectome)?;
        *lock(&self.running) = Some(running);
        Ok(())
    }

    /// While a route still holds messages its finished producer sent, or
    /// a sender has not yet been told that all it sent here was taken.
    fn keeps_kernel_up(&self, _connectome: &Connectome) -> bool {
        self.routes.outbound.iter().any(|o| o.undelivered())
            || lock(&self.routes.inbound)
                .as_ref()
                .is_some_and(|inbound| inbound.owes_last_word())
    }

    fn on_stop(&self, _connectome: &Connectome) {
        let Some(running) = lock(&self.running).take() else {
            return;
        };
        running.shared.stop.store(true, Ordering::Release);
        for thread in running.threads {
            let _ = thread.join();
        }
        running.inbound.stop();
        drop(running._declared);
        if let Err(e) = running.shared.session.close().wait_close() {
            tracing::warn!(
                kernel = running.shared.kernel,
                "closing the mesh session: {e}"
            );
        }
        tracing::info!(kernel = running.shared.kernel, "mesh session closed");
    }
}

/// `session.close()` resolved synchronously.
trait WaitClose {
    fn wait_close(self) -> zenoh::Result<()>;
}

impl<T: zenoh::Wait<To = zenoh::Result<()>>> WaitClose for T {
    fn wait_close(self) -> zenoh::Result<()> {
        zenoh::Wait::wait(self)
    }
}
