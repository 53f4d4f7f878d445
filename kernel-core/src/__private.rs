//! What only the code that `#[derive(Manifest)]` and `wiring-build` generate
//! uses. Not public API: it changes whenever the generators change.

use std::marker::PhantomData;

use crate::connectome::{Endpoint, PipeSpec, Restart, ServerSpec, Spec};
use crate::server::Server;
use crate::terminal::{Consumer, Producer};

pub use crate::Error;
pub use crate::fuse::{member, member_default};
pub use crate::manifest::{Auth, Manifest, ServerManifest, TerminalKind, TerminalManifest};
pub use crate::server::Stage;
pub use crate::terminal::SendError;
pub use crate::terminal::Terminal;
pub use crate::terminal::ports::{Port, Ports};

/// Hands every terminal field of a server its pipe ends; implemented by
/// `#[derive(Manifest)]` with one [`attach`] call per terminal.
pub trait Attach {
    fn attach(&mut self, ports: &mut Ports) -> Result<(), Error>;
}

/// The producer and consumer terminal types of one pipe, paired so that a
/// mismatch of their message types is one rustc error showing both ports.
pub struct Pipe<P, C>(PhantomData<fn() -> (P, C)>);

/// Pairs the port markers of a pipe's two terminals for
/// [`KernelBuilder::connect`](crate::KernelBuilder::connect).
pub const fn ends<P: Producer, C: Consumer>(_from: Port<P>, _to: Port<C>) -> Pipe<P, C> {
    Pipe(PhantomData)
}

/// A server's spec from the values generated code lists, in field order
/// (few tokens per server keep the generated file quick to format).
pub const fn server_spec(
    name: &'static str,
    type_path: &'static str,
    manifest: &'static ServerManifest,
    uuid: u128,
    identity: &'static str,
    restart: Restart,
    config: Option<&'static str>,
) -> ServerSpec {
    ServerSpec {
        name,
        type_path,
        manifest,
        uuid: uuid::Uuid::from_u128(uuid),
        identity,
        restart,
        config,
    }
}

/// A pipe's spec from the values generated code lists: its id, the
/// producer's server and terminal, the consumer's, and the capacity.
pub const fn pipe_spec(
    id: u128,
    from_server: &'static str,
    from_terminal: &'static str,
    to_server: &'static str,
    to_terminal: &'static str,
    capacity: usize,
) -> PipeSpec {
    PipeSpec {
        id: uuid::Uuid::from_u128(id),
        from: Endpoint {
            server: from_server,
            terminal: from_terminal,
        },
        to: Endpoint {
            server: to_server,
            terminal: to_terminal,
        },
        capacity,
    }
}

/// For the generated `#[cfg(test)]` tests: does the config of server
/// `index` deserialize into `S::Config`? An instance without `config` passes.
pub fn check_config<S: Server>(spec: &Spec, index: usize) -> Result<(), Error> {
    match spec.servers.get(index).and_then(|s| s.config) {
        Some(_) => crate::executor::parse_config::<S>(spec, index).map(drop),
        None => Ok(()),
    }
}
