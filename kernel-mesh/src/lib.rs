//! Across machines: the mesh over Zenoh that carries routes between kernels
//! and the Hostess across them ([`mesh`]), the beacon and the probe
//! protocol, capability adverts and the neighbour table. A kernel runs them through [`MeshKernel`]
//! (`kernel.start_beacon(..)`, ...) and reports them through [`MeshExt`].

#![warn(missing_docs)]

pub mod advert;
pub mod auth;
pub mod beacon;
pub mod cache;
pub mod candidate;
mod error;
pub mod frame;
pub mod handshake;
#[cfg(feature = "routes")]
pub mod mesh;
pub mod neighbours;
pub mod node;
pub mod ports;
pub mod probe;
pub mod report;
mod scan;

pub use advert::{Advert, AdvertError};
pub use beacon::{Beacon, BeaconOptions, ProbeStatus};
pub use candidate::{Candidate, Proto};
pub use error::NetError;
#[cfg(feature = "routes")]
pub use mesh::{MeshError, MeshOptions, MeshPolicy, RouteCodecs, RouteMessage};
pub use neighbours::{AdvertOptions, Adverts, AdvertsError, Neighbour, NeighbourTable};
pub use node::{MeshExt, MeshKernel, Node, NodeError, PROBE_PROCESS, default_state_dir};
