//! What the generated kernel holds, resolved from a lint-clean wiring file.

use wiring_model::{Encoding, Restart, Uuid};

use crate::error::Error;
use crate::fuse::ChainPlan;
use crate::scan::Scan;
use manifest_syntax::ManifestDef;
use wiring_model::identity::{class_hex, parse_uuid};
use wiring_model::wiring::{self, Kernel, Spanned, Wiring, split_endpoint};

/// Everything [`generate`](crate::generate) needs; built by the build step, or
/// by hand in tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// `[kernel]`, with its defaults applied.
    pub kernel: KernelPlan,
    /// In the order of `wiring.toml`.
    pub servers: Vec<ServerPlan>,
    /// One per producer-consumer pair, in the order of `wiring.toml`.
    pub pipes: Vec<PipePlan>,
    /// `[control] listen` as written; `None` when absent.
    pub control: Option<String>,
    /// `[processes.<name>]`, in the order of `wiring.toml`.
    pub processes: Vec<ProcessPlan>,
    /// `[mesh]`; `None` when absent.
    pub mesh: Option<MeshPlan>,
    /// `[[routes]]`, in the order of `wiring.toml`.
    pub routes: Vec<RoutePlan>,
    /// The text of the wiring file, embedded in the kernel.
    pub source: String,
    /// The chains of transforms fused into the threads of their hosts.
    pub chains: Vec<ChainPlan>,
}

/// One external process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessPlan {
    /// The process's name, unique among servers and processes.
    pub name: String,
    /// `command`: a path, or a name looked up on `PATH`.
    pub command: String,
    /// `args`, in order.
    pub args: Vec<String>,
    /// `env`: variables added to the kernel's environment, in file order.
    pub env: Vec<(String, String)>,
    /// `restart`: when the executor starts it again after it ended.
    pub restart: Restart,
}

/// `[kernel]` with defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelPlan {
    /// `name`.
    pub name: String,
    /// `fqdn` (`localhost` when not given).
    pub fqdn: String,
    /// `owner` (`unknown` when not given).
    pub owner: String,
}

/// One server instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerPlan {
    /// Instance name.
    pub name: String,
    /// `type` as written: a path from the crate root (`servers::Sensor`) or
    /// into another crate (`fieldlib::Thermo`).
    pub type_path: String,
    /// The Rust path the kernel's crate names the type by:
    /// `crate::servers::Sensor`, `::fieldlib::Thermo`.
    pub rust_path: String,
    /// `uuid`, or UUID v5 of `"<kernel>/<instance>"`.
    pub uuid: Uuid,
    /// `fqdn:servername:classHex:owner:authFlag:authMechanism:uuid`.
    pub identity: String,
    /// `restart`: when the executor starts it again after `run` ended.
    pub restart: Restart,
    /// The `config` table as a TOML document; `None`: `Config::default()`.
    pub config: Option<String>,
}

/// One pipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipePlan {
    /// UUID v5 of the kernel name and both endpoints ([`wiring_model::pipe_id`]).
    pub id: Uuid,
    /// The producing terminal.
    pub from: EndpointPlan,
    /// The consuming terminal.
    pub to: EndpointPlan,
    /// `capacity`: messages the pipe holds at most.
    pub capacity: usize,
    /// `tap = true` on its connection.
    pub tap: bool,
}

/// `[mesh]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MeshPlan {
    pub listen: Vec<String>,
    pub peers: Vec<String>,
    /// Local input terminals peers may route into.
    pub offer: Vec<EndpointPlan>,
}

/// The remote end of a route, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetPlan {
    /// `to.guest`: one guest identity.
    Guest(String),
    /// `to.mask`: the guests a mask matches.
    Mask(String),
}

impl TargetPlan {
    /// The identity or mask as written.
    pub fn text(&self) -> &str {
        match self {
            TargetPlan::Guest(text) | TargetPlan::Mask(text) => text,
        }
    }
}

/// One route to another kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePlan {
    /// The route's id (UUID v5 of the kernel, its source and its target).
    pub id: Uuid,
    /// The output terminal here that feeds it.
    pub from: EndpointPlan,
    /// The guest (or mask) it goes to.
    pub to: TargetPlan,
    /// The remote server's terminal.
    pub terminal: String,
    /// Messages in flight at most (the receiver's credit).
    pub capacity: usize,
    /// How messages cross: postcard or JSON.
    pub encoding: Encoding,
}

/// `server.terminal`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EndpointPlan {
    /// The server instance's name.
    pub server: String,
    /// The terminal's wiring name.
    pub terminal: String,
}

impl std::fmt::Display for EndpointPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.server, self.terminal)
    }
}

impl Plan {
    /// Resolves a wiring file that linted without errors; `source` is its text.
    pub fn build(source: &str, wiring: &Wiring, scan: &Scan) -> Result<Plan, Error> {
        let name = wiring
            .kernel
            .name
            .as_ref()
            .map(|n| n.value.clone())
            .unwrap_or_default();
        let kernel = KernelPlan {
            fqdn: wiring.kernel.fqdn().to_string(),
            owner: wiring.kernel.owner().to_string(),
            name,
        };
        let mut servers = Vec::with_capacity(wiring.servers.len());
        for server in &wiring.servers {
            let type_path = server
                .ty
                .as_ref()
                .map(|t| t.value.clone())
                .unwrap_or_default();
            let uuid = server_uuid(&kernel.name, server);
            // A type whose derive fails gets a placeholder; rustc stops the build anyway.
            let def = scan.server(&type_path).map(|ty| &ty.def);
            let identity = server_identity(&kernel.fqdn, &server.name.value, def, uuid);
            let config = match &server.config {
                Some(table) => Some(toml::to_string(&table.value).map_err(|e| Error::Config {
                    server: server.name.value.clone(),
                    message: e.to_string(),
                })?),
                None => None,
            };
            servers.push(ServerPlan {
                name: server.name.value.clone(),
                rust_path: scan.rust_path(&type_path),
                type_path,
                uuid,
                identity,
                restart: server.restart,
                config,
            });
        }
        let mut pipes = Vec::new();
        for connection in &wiring.connections {
            let (Some(from), Some(to)) = (&connection.from, &connection.to) else {
                continue;
            };
            for f in &from.endpoints {
                for t in &to.endpoints {
                    let (Some(from_ep), Some(to_ep)) = (endpoint(&f.value), endpoint(&t.value))
                    else {
                        continue;
                    };
                    pipes.push(PipePlan {
                        id: wiring_model::pipe_id(&kernel.name, &f.value, &t.value),
                        from: from_ep,
                        to: to_ep,
                        capacity: connection.capacity,
                        tap: connection.tap,
                    });
                }
            }
        }
        let mesh = wiring.mesh.as_ref().map(|mesh| {
            let texts = |list: &[Spanned<String>]| list.iter().map(|s| s.value.clone()).collect();
            MeshPlan {
                listen: texts(&mesh.listen),
                peers: texts(&mesh.peers),
                offer: mesh
                    .offer
                    .iter()
                    .filter_map(|o| endpoint(&o.value))
                    .collect(),
            }
        });
        let routes = wiring
            .routes
            .iter()
            .filter_map(|route| {
                let from = route.from.as_ref()?;
                let to = match (&route.guest, &route.mask) {
                    (Some(guest), _) => TargetPlan::Guest(guest.value.clone()),
                    (None, Some(mask)) => TargetPlan::Mask(mask.value.clone()),
                    (None, None) => return None,
                };
                let terminal = route.terminal.as_ref()?.value.clone();
                Some(RoutePlan {
                    id: wiring_model::route_id(&kernel.name, &from.value, to.text(), &terminal),
                    from: endpoint(&from.value)?,
                    to,
                    terminal,
                    capacity: route.capacity,
                    encoding: route.encoding,
                })
            })
            .collect();
        let mut plan = Plan {
            kernel,
            servers,
            pipes,
            mesh,
            routes,
            control: wiring.control.listen.as_ref().map(|l| l.value.clone()),
            processes: wiring
                .processes
                .iter()
                .map(|p| ProcessPlan {
                    name: p.name.value.clone(),
                    command: p
                        .command
                        .as_ref()
                        .map(|c| c.value.clone())
                        .unwrap_or_default(),
                    args: p.args.clone(),
                    env: p.env.clone(),
                    restart: p.restart,
                })
                .collect(),
            source: source.to_string(),
            chains: Vec::new(),
        };
        plan.chains = crate::fuse::chains(&plan, wiring, scan);
        Ok(plan)
    }
}

/// A server's uuid: `uuid` as written, else UUID v5 of `<kernel>/<instance>`.
pub(crate) fn server_uuid(kernel: &str, server: &wiring::Server) -> Uuid {
    server
        .uuid
        .as_ref()
        .and_then(|u| parse_uuid(&u.value).ok())
        .unwrap_or_else(|| wiring_model::server_uuid(kernel, &server.name.value))
}

/// `fqdn:servername:classHex:owner:authFlag:authMechanism:uuid` of a server
/// whose manifest is `def` (a placeholder class and owner without one).
pub(crate) fn server_identity(
    fqdn: &str,
    name: &str,
    def: Option<&ManifestDef>,
    uuid: Uuid,
) -> String {
    let (class, owner, auth, mechanism) = match def {
        Some(def) => (
            def.class,
            def.owner.as_str(),
            def.auth.as_str(),
            def.auth_mechanism.as_str(),
        ),
        None => (0, Kernel::DEFAULT_OWNER, "no", "none"),
    };
    format!(
        "{fqdn}:{name}:{}:{owner}:{auth}:{mechanism}:{}",
        class_hex(class),
        uuid.hyphenated()
    )
}

fn endpoint(text: &str) -> Option<EndpointPlan> {
    let (server, terminal) = split_endpoint(text)?;
    Some(EndpointPlan {
        server: server.to_string(),
        terminal: terminal.to_string(),
    })
}
