//! How a kernel joins the mesh: its Zenoh endpoints (from `[mesh]`, with
//! `KERNEL_MESH_LISTEN` and `KERNEL_MESH_PEERS` overriding), scouting, and
//! the passphrase that authenticates it (`WIRING_PASSPHRASE`).

use std::io::Write;
use std::path::PathBuf;

use wiring_model::MeshSpec;
use zenoh::{Config, Session, Wait};

use super::MeshError;
use super::call::MeshKey;

/// Overrides `[mesh] listen`: comma-separated Zenoh endpoints.
pub const ENV_LISTEN: &str = "KERNEL_MESH_LISTEN";
/// Overrides `[mesh] peers`: comma-separated Zenoh endpoints.
pub const ENV_PEERS: &str = "KERNEL_MESH_PEERS";
/// `1` turns Zenoh's scouting on: multicast, and gossip (peers telling each
/// other where further peers listen). Off by default: a kernel connects to
/// exactly the endpoints it is given.
pub const ENV_SCOUTING: &str = "KERNEL_MESH_SCOUTING";
/// The shared passphrase: the mesh is authenticated when it is set.
pub const ENV_PASSPHRASE: &str = "WIRING_PASSPHRASE";

/// The user name of Zenoh's user/password authentication.
const USER: &str = "wiring";

/// Where and how a kernel joins the mesh.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MeshOptions {
    /// Endpoints this kernel listens on (`tcp/127.0.0.1:7447`).
    pub listen: Vec<String>,
    /// Endpoints of peer kernels it connects to.
    pub peers: Vec<String>,
    /// Zenoh's multicast and gossip scouting (finds peers without
    /// endpoints, connects to the peers of peers).
    pub scouting: bool,
    /// The shared passphrase; `None` for an open mesh.
    pub passphrase: Option<String>,
}

impl std::fmt::Debug for MeshOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeshOptions")
            .field("listen", &self.listen)
            .field("peers", &self.peers)
            .field("scouting", &self.scouting)
            .field("authenticated", &self.passphrase.is_some())
            .finish()
    }
}

fn split(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect()
}

impl MeshOptions {
    /// `[mesh]` as wired, then the environment's overrides.
    pub fn from_spec(mesh: Option<&MeshSpec>) -> Self {
        let mut options = MeshOptions {
            listen: mesh
                .map(|m| m.listen.iter().map(|e| (*e).to_owned()).collect())
                .unwrap_or_default(),
            peers: mesh
                .map(|m| m.peers.iter().map(|e| (*e).to_owned()).collect())
                .unwrap_or_default(),
            scouting: false,
            passphrase: None,
        };
        if let Ok(listen) = std::env::var(ENV_LISTEN) {
            options.listen = split(&listen);
        }
        if let Ok(peers) = std::env::var(ENV_PEERS) {
            options.peers = split(&peers);
        }
        options.scouting = std::env::var(ENV_SCOUTING).is_ok_and(|v| v == "1");
        options.passphrase = std::env::var(ENV_PASSPHRASE).ok().filter(|p| !p.is_empty());
        options
    }

    /// True when the environment asks for a mesh even without `[mesh]`.
    pub fn env_asks_for_mesh() -> bool {
        std::env::var_os(ENV_LISTEN).is_some() || std::env::var_os(ENV_PEERS).is_some()
    }

    /// The Zenoh configuration: peer mode, exactly these endpoints,
    /// scouting only when asked, user/password authentication
    /// with `key`. Returns the dictionary file Zenoh reads its accepted
    /// password from, to delete once the session is open.
    fn config(&self, key: Option<&MeshKey>) -> Result<(Config, Option<Dictionary>), MeshError> {
        let mut config = Config::default();
        let set = |config: &mut Config, path: &str, value: String| {
            config
                .insert_json5(path, &value)
                .map_err(|e| MeshError::Config(format!("{path} = {value}: {e}")))
        };
        let list =
            |items: &[String]| serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned());
        set(&mut config, "mode", "\"peer\"".to_owned())?;
        set(&mut config, "listen/endpoints", list(&self.listen))?;
        set(&mut config, "connect/endpoints", list(&self.peers))?;
        set(
            &mut config,
            "scouting/multicast/enabled",
            self.scouting.to_string(),
        )?;
        set(
            &mut config,
            "scouting/gossip/enabled",
            self.scouting.to_string(),
        )?;
        // A peer that comes back is found again within a second or two,
        // not Zenoh's default of up to four.
        set(
            &mut config,
            "connect/retry",
            "{period_init_ms: 200, period_max_ms: 2000, period_increase_factor: 2}".to_owned(),
        )?;
        // The control surface and the Hostess answer questions about this
        // kernel; Zenoh's admin space need not.
        set(&mut config, "adminspace/enabled", "false".to_owned())?;
        let mut dictionary = None;
        if let Some(key) = key {
            let password = key.zenoh_password();
            let dict = Dictionary::write(&format!("{USER}:{password}\n"))?;
            set(
                &mut config,
                "transport/auth/usrpwd/user",
                format!("\"{USER}\""),
            )?;
            set(
                &mut config,
                "transport/auth/usrpwd/password",
                format!("\"{password}\""),
            )?;
            set(
                &mut config,
                "transport/auth/usrpwd/dictionary_file",
                serde_json::to_string(&dict.path.to_string_lossy())
                    .map_err(|e| MeshError::Config(e.to_string()))?,
            )?;
            dictionary = Some(dict);
        }
        Ok((config, dictionary))
    }

    /// Opens this kernel's Zenoh session.
    pub fn open(&self, key: Option<&MeshKey>) -> Result<Session, MeshError> {
        let (config, dictionary) = self.config(key)?;
        let session = zenoh::open(config)
            .wait()
            .map_err(|e| MeshError::Open(e.to_string()));
        drop(dictionary);
        session
    }
}

/// Zenoh reads the passwords it accepts from a file: one written for the
/// session's opening, readable by this user only, deleted right after.
struct Dictionary {
    path: PathBuf,
}

impl Dictionary {
    fn write(content: &str) -> Result<Self, MeshError> {
        let path = std::env::temp_dir().join(format!(
            "wiring-mesh-{}-{}.dict",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let io = |e: std::io::Error| MeshError::Config(format!("{}: {e}", path.display()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(io)?;
        file.write_all(content.as_bytes()).map_err(io)?;
        Ok(Dictionary { path })
    }
}

impl Drop for Dictionary {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
