//! A kernel as a node among its peers: the beacon it runs, the probe it
//! starts as an external process, the adverts it sends and the neighbours it
//! hears from. The control surface reads them from the connectome
//! (`/api/v1/probe`, `/api/v1/neighbours`); `Kernel::run` stops them when it
//! ends, the adverts last, so peers hear "leaving" (TTL 0).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use super::advert::Advert;
use super::beacon::{Beacon, BeaconOptions, ProbeStatus};
use super::neighbours::{AdvertOptions, Adverts, Neighbour};
use super::probe::Instructions;
use crate::connectome::{Connectome, Live, Process};
use crate::{Error, Kernel};

/// The name under which [`Kernel::add_probe`] supervises the probe.
pub const PROBE_PROCESS: &str = "probe";

/// The beacon and the advert service of one kernel, when it runs them.
#[derive(Default)]
pub(crate) struct Node {
    beacon: Mutex<Option<Arc<Beacon>>>,
    /// What the beacon knew when it stopped, for reports after the run.
    last_status: Mutex<Option<ProbeStatus>>,
    adverts: Mutex<Option<Arc<Adverts>>>,
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
    pub(crate) fn stop(&self) {
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

impl Kernel {
    /// Starts a beacon at once (so its primary address is known before the
    /// probe is added) and returns that address; it runs until `run` ends.
    pub fn start_beacon(&mut self, options: BeaconOptions) -> Result<SocketAddr, Error> {
        let node = &self.connectome.live.node;
        if node.beacon().is_some() {
            return Err(Error::AlreadyStarted { what: "beacon" });
        }
        let beacon = Beacon::start(options)?;
        let primary = beacon.primary_addr();
        *lock(&node.beacon) = Some(Arc::new(beacon));
        Ok(primary)
    }

    /// Adds the probe as the external process [`PROBE_PROCESS`]: `command`
    /// (the probe binary; `leading` arguments first, for a program that
    /// hosts the probe as a subcommand) with the instructions as arguments
    /// and the passphrase in its environment, never on its command line.
    pub fn add_probe(
        &mut self,
        command: impl Into<String>,
        leading: &[&str],
        instructions: &Instructions,
    ) -> Result<(), Error> {
        let mut process = Process::new(PROBE_PROCESS, command)
            .args(leading.iter().copied())
            .args(instructions.to_args());
        for (name, value) in instructions.to_env() {
            process = process.env(name, value);
        }
        self.add_process(process)
    }

    /// Starts sending capability adverts to `options.peers` and listening for
    /// theirs; returns the address it listens on. Each advert carries this
    /// kernel's identity (`name@fqdn:pid`), its control-surface address, the
    /// classes of its servers and the beacon's verified candidates.
    pub fn start_adverts(&mut self, options: AdvertOptions) -> Result<SocketAddr, Error> {
        let node = &self.connectome.live.node;
        if node.adverts().is_some() {
            return Err(Error::AlreadyStarted {
                what: "capability adverts",
            });
        }
        let live: Weak<Live> = Arc::downgrade(&self.connectome.live);
        let spec = self.connectome.spec();
        let identity = format!(
            "{}@{}:{}",
            spec.kernel.name,
            spec.kernel.fqdn,
            std::process::id()
        );
        let mut classes: Vec<u32> = spec.servers.iter().map(|s| s.manifest.class).collect();
        classes.sort_unstable();
        classes.dedup();
        let adverts = Adverts::start(options, move || {
            // Weak: the connectome holds the service, the service must not
            // hold the connectome.
            let connectome = live.upgrade().map(|live| Connectome { live });
            Advert {
                identity: identity.clone(),
                ttl_s: 0,
                sequence: 0,
                control: connectome.as_ref().and_then(Connectome::control_addr),
                classes: classes.clone(),
                candidates: connectome
                    .and_then(|c| c.live.node.beacon())
                    .map(|b| b.candidates())
                    .unwrap_or_default(),
            }
        })?;
        let local = adverts.local_addr();
        *lock(&node.adverts) = Some(Arc::new(adverts));
        Ok(local)
    }
}

impl Connectome {
    /// What this kernel's beacon knows: listeners, the last probe report,
    /// the verified candidates (after the run: what it knew when it
    /// stopped); `None` without a beacon.
    pub fn probe_status(&self) -> Option<ProbeStatus> {
        let node = &self.live.node;
        node.beacon()
            .map(|b| b.status())
            .or_else(|| lock(&node.last_status).clone())
    }

    /// Waits until a probe's report to this kernel's beacon completed.
    pub fn wait_probe_complete(
        &self,
        timeout: std::time::Duration,
    ) -> Option<super::beacon::ReportStatus> {
        self.live.node.beacon()?.wait_complete(timeout)
    }

    /// The peers whose adverts this kernel heard and whose TTL has not run
    /// out; `None` when it sends no adverts.
    pub fn neighbours(&self) -> Option<Vec<Neighbour>> {
        self.live.node.adverts().map(|a| a.neighbours())
    }

    /// Where this kernel listens for adverts, when it sends them.
    pub fn adverts_addr(&self) -> Option<SocketAddr> {
        self.live.node.adverts().map(|a| a.local_addr())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    static SPEC: crate::Spec = crate::Spec {
        kernel: crate::KernelSpec {
            name: "node-test",
            fqdn: "localhost",
            owner: "test",
        },
        servers: &[],
        pipes: &[],
        control: None,
        processes: &[],
    };

    #[test]
    fn adverts_start_once_and_stop_with_the_run() {
        let mut kernel = crate::KernelBuilder::new(&SPEC)
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
            Err(Error::AlreadyStarted {
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
