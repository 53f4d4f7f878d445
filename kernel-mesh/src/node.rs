//! A kernel as a node among its peers: the beacon it runs, the probe it
//! starts as an external process, the adverts it sends and the neighbours it
//! hears from. The control surface reads them from the connectome
//! (`/api/v1/probe`, `/api/v1/neighbours`); `Kernel::run` stops them when it
//! ends, the adverts last, so peers hear "leaving" (TTL 0).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use kernel_core::policy::Policy;
use kernel_core::{Connectome, Kernel, Process};

use super::advert::Advert;
use super::beacon::{Beacon, BeaconOptions, ProbeStatus};
use super::neighbours::{AdvertOptions, Adverts, AdvertsError, Neighbour};
use super::probe::Instructions;
use crate::NetError;

/// The name under which [`MeshKernel::add_probe`] supervises the probe.
pub const PROBE_PROCESS: &str = "probe";

/// Why a node service of a kernel could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The beacon could not start.
    #[error("beacon: {0}")]
    Beacon(#[from] NetError),
    /// The capability adverts could not start.
    #[error("capability adverts: {0}")]
    Adverts(#[from] AdvertsError),
    /// `start_beacon` or `start_adverts` was called twice.
    #[error("this kernel already runs its {what}; start it once")]
    AlreadyStarted {
        /// `beacon` or `capability adverts`.
        what: &'static str,
    },
    /// The kernel refused the probe process (a server or process has its name).
    #[error(transparent)]
    Kernel(#[from] kernel_core::Error),
}

impl From<NodeError> for kernel_core::Error {
    fn from(e: NodeError) -> Self {
        match e {
            NodeError::Kernel(e) => e,
            e => kernel_core::Error::Policy {
                policy: "mesh",
                source: Box::new(e),
            },
        }
    }
}

/// The beacon and the advert service of one kernel, when it runs them; kept
/// as an extension of the kernel's connectome and stopped, as a policy,
/// when `Kernel::run` ends.
#[derive(Default)]
pub struct Node {
    beacon: Mutex<Option<Arc<Beacon>>>,
    /// What the beacon knew when it stopped, for reports after the run.
    last_status: Mutex<Option<ProbeStatus>>,
    adverts: Mutex<Option<Arc<Adverts>>>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("beacon", &self.beacon().map(|b| b.primary_addr()))
            .field("adverts", &self.adverts().map(|a| a.local_addr()))
            .finish()
    }
}

/// Stops the node's services when the kernel's run ends.
struct NodePolicy(Arc<Node>);

impl Policy for NodePolicy {
    fn name(&self) -> &'static str {
        "mesh"
    }

    fn on_stop(&self, _connectome: &Connectome) {
        self.0.stop();
    }
}

/// The node of `connectome`, made (and registered to stop with the run) on
/// first use.
fn node(connectome: &Connectome) -> Arc<Node> {
    if let Some(node) = connectome.extensions().get::<Node>() {
        return node;
    }
    let node = connectome.extensions().get_or_insert_with(Node::default);
    connectome.add_policy(Arc::new(NodePolicy(Arc::clone(&node))));
    node
}

/// The state directory of a kernel named `kernel` (the probe's candidate
/// cache lives there): `$XDG_STATE_HOME/<kernel>`, else
/// `$HOME/.local/state/<kernel>`, else one under the temporary directory.
pub fn default_state_dir(kernel: &str) -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|h| h.is_absolute())
                .map(|h| h.join(".local").join("state"))
        })
        .unwrap_or_else(|| std::env::temp_dir().join("wiring-state"));
    base.join(kernel)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Node {
    fn beacon(&self) -> Option<Arc<Beacon>> {
        lock(&self.beacon).clone()
    }

    fn adverts(&self) -> Option<Arc<Adverts>> {
        lock(&self.adverts).clone()
    }

    /// Stops the beacon, then the adverts (which say goodbye to the peers).
    fn stop(&self) {
        let beacon = lock(&self.beacon).take();
        if let Some(beacon) = &beacon {
            *lock(&self.last_status) = Some(beacon.status());
        }
        let adverts = lock(&self.adverts).take();
        // A control-surface request may hold a clone for a moment; the last
        // one dropped stops the service either way.
        if let Some(beacon) = beacon.and_then(|b| Arc::try_unwrap(b).ok()) {
            beacon.stop();
        }
        if let Some(adverts) = adverts.and_then(|a| Arc::try_unwrap(a).ok()) {
            adverts.stop();
        }
    }
}

/// The node services of a kernel: `kernel.start_beacon(..)`, ...
pub trait MeshKernel {
    /// Starts a beacon at once (so its primary address is known before the
    /// probe is added) and returns that address; it runs until `run` ends.
    fn start_beacon(&mut self, options: BeaconOptions) -> Result<SocketAddr, NodeError>;

    /// Adds the probe as the external process [`PROBE_PROCESS`]: `command`
    /// (the probe binary; `leading` arguments first, for a program that
    /// hosts the probe as a subcommand) with the instructions as arguments
    /// and the passphrase in its environment, never on its command line.
    fn add_probe(
        &mut self,
        command: impl Into<String>,
        leading: &[&str],
        instructions: &Instructions,
    ) -> Result<(), NodeError>;

    /// Starts sending capability adverts to `options.peers` and listening for
    /// theirs; returns the address it listens on. Each advert carries this
    /// kernel's identity (`name@fqdn:pid`), its control-surface address, the
    /// classes of its servers and the beacon's verified candidates.
    fn start_adverts(&mut self, options: AdvertOptions) -> Result<SocketAddr, NodeError>;
}

impl MeshKernel for Kernel {
    fn start_beacon(&mut self, options: BeaconOptions) -> Result<SocketAddr, NodeError> {
        let node = node(&self.connectome());
        if node.beacon().is_some() {
            return Err(NodeError::AlreadyStarted { what: "beacon" });
        }
        let beacon = Beacon::start(options)?;
        let primary = beacon.primary_addr();
        *lock(&node.beacon) = Some(Arc::new(beacon));
        Ok(primary)
    }

    fn add_probe(
        &mut self,
        command: impl Into<String>,
        leading: &[&str],
        instructions: &Instructions,
    ) -> Result<(), NodeError> {
        let mut process = Process::new(PROBE_PROCESS, command)
            .args(leading.iter().copied())
            .args(instructions.to_args());
        for (name, value) in instructions.to_env() {
            process = process.env(name, value);
        }
        Ok(self.add_process(process)?)
    }

    fn start_adverts(&mut self, options: AdvertOptions) -> Result<SocketAddr, NodeError> {
        let connectome = self.connectome();
        let node = node(&connectome);
        if node.adverts().is_some() {
            return Err(NodeError::AlreadyStarted {
                what: "capability adverts",
            });
        }
        let spec = connectome.spec();
        let identity = format!(
            "{}@{}:{}",
            spec.kernel.name,
            spec.kernel.fqdn,
            std::process::id()
        );
        let mut classes: Vec<u32> = spec.servers.iter().map(|s| s.manifest.class).collect();
        classes.sort_unstable();
        classes.dedup();
        // Weak: the connectome holds the service, the service must not
        // hold the connectome.
        let weak = connectome.downgrade();
        let weak_node = Arc::downgrade(&node);
        let adverts = Adverts::start(options, move || Advert {
            identity: identity.clone(),
            ttl_s: 0,
            sequence: 0,
            control: weak.upgrade().as_ref().and_then(Connectome::control_addr),
            classes: classes.clone(),
            candidates: weak_node
                .upgrade()
                .and_then(|n| n.beacon())
                .map(|b| b.candidates())
                .unwrap_or_default(),
        })?;
        let local = adverts.local_addr();
        *lock(&node.adverts) = Some(Arc::new(adverts));
        Ok(local)
    }
}

/// What a kernel's node knows: `connectome.neighbours()`, ...
pub trait MeshExt {
    /// What this kernel's beacon knows: listeners, the last probe report,
    /// the verified candidates (after the run: what it knew when it
    /// stopped); `None` without a beacon.
    fn probe_status(&self) -> Option<ProbeStatus>;

    /// The peers whose adverts this kernel heard and whose TTL has not run
    /// out; `None` when it sends no adverts.
    fn neighbours(&self) -> Option<Vec<Neighbour>>;

    /// Where this kernel listens for adverts, when it sends them.
    fn adverts_addr(&self) -> Option<SocketAddr>;
}

impl MeshExt for Connectome {
    fn probe_status(&self) -> Option<ProbeStatus> {
        let node = self.extensions().get::<Node>()?;
        node.beacon()
            .map(|b| b.status())
            .or_else(|| lock(&node.last_status).clone())
    }

    fn neighbours(&self) -> Option<Vec<Neighbour>> {
        let node = self.extensions().get::<Node>()?;
        node.adverts().map(|a| a.neighbours())
    }

    fn adverts_addr(&self) -> Option<SocketAddr> {
        let node = self.extensions().get::<Node>()?;
        node.adverts().map(|a| a.local_addr())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    static SPEC: kernel_core::Spec = kernel_core::Spec {
        kernel: kernel_core::KernelSpec {
            name: "node-test",
            fqdn: "localhost",
            owner: "test",
        },
        servers: &[],
        pipes: &[],
        control: None,
        processes: &[],
        mesh: None,
        routes: &[],
        source: None,
    };

    #[test]
    fn adverts_start_once_and_stop_with_the_run() {
        let mut kernel = kernel_core::KernelBuilder::new(&SPEC)
            .build()
            .expect("build")
            .with_signal_handlers(false);
        let options = || AdvertOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            peers: Vec::new(),
            interval: Duration::from_millis(100),
            ttl: Duration::from_secs(1),
            passphrase: None,
        };
        let local = kernel.start_adverts(options()).expect("first start");
        assert!(matches!(
            kernel.start_adverts(options()),
            Err(NodeError::AlreadyStarted {
                what: "capability adverts"
            })
        ));
        let connectome = kernel.connectome();
        assert_eq!(connectome.adverts_addr(), Some(local));
        assert_eq!(connectome.neighbours(), Some(Vec::new()));
        kernel.run().expect("an empty kernel ends at once");
        assert_eq!(connectome.adverts_addr(), None, "stopped with the run");
    }
}
