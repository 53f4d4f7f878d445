//! The static description of a kernel that `wiring-build` generates.

use uuid::Uuid;

use crate::manifest::ServerManifest;

/// Restart policy of a server instance (`restart` in `wiring.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Restart {
    /// Never restart (the default).
    #[default]
    Never,
    /// Restart after an error or a panic.
    OnFailure,
    /// Restart whenever `run` returns, unless the kernel is stopping.
    Always,
}

impl Restart {
    /// The policy as `wiring.toml` writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Restart::Never => "never",
            Restart::OnFailure => "on-failure",
            Restart::Always => "always",
        }
    }

    /// The policy `wiring.toml` writes as `text`.
    pub fn parse(text: &str) -> Option<Restart> {
        [Restart::Never, Restart::OnFailure, Restart::Always]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

/// `[kernel]` of `wiring.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelSpec {
    /// `name`: the kernel's name, `[a-z0-9_-]+`.
    pub name: &'static str,
    /// `fqdn`: the host name in its servers' guest identities (`localhost`
    /// when not given).
    pub fqdn: &'static str,
    /// `owner` (`unknown` when not given).
    pub owner: &'static str,
}

/// One `[servers.<name>]` instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerSpec {
    /// Instance name.
    pub name: &'static str,
    /// `type` as written in `wiring.toml`, a path from the crate root.
    pub type_path: &'static str,
    /// The manifest of that type: identity and terminals.
    pub manifest: &'static ServerManifest,
    /// The instance's uuid: `uuid` in wiring.toml, else UUID v5 of
    /// `"<kernel>/<instance>"` ([`server_uuid`]).
    pub uuid: Uuid,
    /// Guest identity `fqdn:servername:classHex:owner:authFlag:authMechanism:uuid`.
    pub identity: &'static str,
    /// `restart`: when the executor starts the server again after `run` ended.
    pub restart: Restart,
    /// The `config` table as a TOML document; `None` means `Config::default()`.
    pub config: Option<&'static str>,
}

/// One `[processes.<name>]` entry: an external program the executor starts
/// at boot, supervises by `restart` and stops on shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessSpec {
    /// Process name, unique among servers and processes.
    pub name: &'static str,
    /// The program: a path, or a name looked up on `PATH`.
    pub command: &'static str,
    /// `args`, in order; passed as they are, without a shell.
    pub args: &'static [&'static str],
    /// Variables added to the kernel's environment, in file order.
    pub env: &'static [(&'static str, &'static str)],
    /// `restart`: when the executor starts the program again after it ended.
    pub restart: Restart,
}

/// One end of a pipe: `server.terminal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// The server instance's name.
    pub server: &'static str,
    /// The terminal's wiring name.
    pub terminal: &'static str,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.server, self.terminal)
    }
}

/// One pipe: exactly one producer terminal and one consumer terminal.
/// A fan-out or fan-in connection in `wiring.toml` becomes one pipe per peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipeSpec {
    /// See [`pipe_id`]; stable across builds.
    pub id: Uuid,
    /// The producing terminal (an `Output` or `Multiplex`).
    pub from: Endpoint,
    /// The consuming terminal (an `Input` or `Combine`).
    pub to: Endpoint,
    /// How many messages the pipe holds at most (`capacity`, default
    /// [`DEFAULT_CAPACITY`]); a full pipe blocks its producer.
    pub capacity: usize,
}

/// Everything the build step knows about a kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// `[kernel]`.
    pub kernel: KernelSpec,
    /// `[servers.<name>]`, in file order.
    pub servers: &'static [ServerSpec],
    /// One pipe per producer-consumer pair of `[[connections]]`, in file order.
    pub pipes: &'static [PipeSpec],
    /// `[control] listen`: the socket address (`ip:port`) the control surface
    /// serves on when the kernel runs, as written; `None` when absent.
    pub control: Option<&'static str>,
    /// `[processes.<name>]`, in file order.
    pub processes: &'static [ProcessSpec],
    /// `[mesh]`: how this kernel joins the mesh; `None` when absent.
    pub mesh: Option<&'static MeshSpec>,
    /// `[[routes]]`: pipes whose consumer is on another kernel, in file order.
    pub routes: &'static [RouteSpec],
    /// The text of the `wiring.toml` this spec was generated from, as
    /// written (comments included); `None` for a spec written by hand. The
    /// topology export edits it, and config errors point into it.
    pub source: Option<&'static str>,
}

/// `[mesh]` of `wiring.toml`: the Zenoh endpoints of this kernel and of its
/// peers, and the local input terminals peers may route into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeshSpec {
    /// Endpoints this kernel listens on (`tcp/127.0.0.1:7447`).
    pub listen: &'static [&'static str],
    /// Endpoints of peer kernels to connect to.
    pub peers: &'static [&'static str],
    /// Input terminals of this kernel that peers may route into.
    pub offer: &'static [Endpoint],
}

/// The remote end of a route: one exact guest, or whichever guest matches a
/// mask (booked when the route opens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteTarget {
    /// A guest identity, `fqdn:server:class:owner:auth:mechanism:uuid`.
    Guest(&'static str),
    /// A guest mask: seven globs, the class also `value/mask`.
    Mask(&'static str),
}

/// How a route encodes its messages on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// Compact binary (the default).
    #[default]
    Postcard,
    /// JSON, readable by any Zenoh client.
    Json,
}

impl Encoding {
    /// The encoding as `wiring.toml` writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Encoding::Postcard => "postcard",
            Encoding::Json => "json",
        }
    }

    /// The encoding `wiring.toml` writes as `text`.
    pub fn parse(text: &str) -> Option<Encoding> {
        [Encoding::Postcard, Encoding::Json]
            .into_iter()
            .find(|e| e.as_str() == text)
    }
}

/// One `[[routes]]` entry: a pipe from a local output to a terminal of a
/// server on another kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSpec {
    /// Stable id: UUID v5 of the kernel name, the local endpoint and the target.
    pub id: Uuid,
    /// The local output (`server.terminal`).
    pub from: Endpoint,
    /// The remote guest, exact or by mask.
    pub to: RouteTarget,
    /// The remote server's input terminal.
    pub terminal: &'static str,
    /// The credit window: messages in flight at most.
    pub capacity: usize,
    /// The wire encoding.
    pub encoding: Encoding,
}

impl Spec {
    /// The server instance named `name`.
    pub fn server(&self, name: &str) -> Option<&'static ServerSpec> {
        self.servers.iter().find(|s| s.name == name)
    }
}

/// Namespace of every UUID v5 the project derives (server uuids, pipe ids).
pub const NAMESPACE: Uuid = Uuid::from_u128(0x6b1f_0c2e_9a4d_5e7b_8c3a_1d2f_4e5a_6b7c);

/// Default uuid of a server instance: UUID v5 of `"<kernel>/<instance>"`.
pub fn server_uuid(kernel: &str, instance: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{kernel}/{instance}").as_bytes())
}

/// Id of the pipe from `from` to `to` (both `server.terminal`):
/// UUID v5 of `"<kernel>/<from>-><to>"`.
pub fn pipe_id(kernel: &str, from: &str, to: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{kernel}/{from}->{to}").as_bytes())
}

/// Id of the route from `from` (`server.terminal`) to `terminal` of the
/// remote guest `target` (an identity or a mask, as written): UUID v5 of
/// `"<kernel>/<from>=><target>/<terminal>"`.
pub fn route_id(kernel: &str, from: &str, target: &str, terminal: &str) -> Uuid {
    Uuid::new_v5(
        &NAMESPACE,
        format!("{kernel}/{from}=>{target}/{terminal}").as_bytes(),
    )
}

/// Capacity of a pipe whose `capacity` is not given, in `wiring.toml` and
/// for connections made at run time.
pub const DEFAULT_CAPACITY: usize = 1024;

/// The largest capacity a pipe may have: a pipe's slots are allocated as it
/// fills, but its bound must stay a size the runtime can index.
pub const MAX_CAPACITY: usize = 1 << 20;
