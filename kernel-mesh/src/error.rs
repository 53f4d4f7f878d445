//! Errors of the beacon and the probe.

use std::net::SocketAddr;
use std::time::Duration;

use crate::frame::FrameError;
use crate::handshake::HandshakeError;
use crate::ports::PortRangeError;

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error(
        "{addr}: port {} is privileged (below 1024); the beacon and the probe use unprivileged ports only",
        addr.port()
    )]
    Privileged { addr: SocketAddr },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no random numbers from the operating system: {0}")]
    Random(#[from] getrandom::Error),
    #[error(transparent)]
    Ports(#[from] PortRangeError),
    #[error("bad probe instructions: {0}")]
    Instructions(String),
    #[error("beacon at {addr}: {source}")]
    Handshake {
        addr: SocketAddr,
        #[source]
        source: HandshakeError,
    },
    #[error("beacon at {addr}: {source}")]
    Frame {
        addr: SocketAddr,
        #[source]
        source: FrameError,
    },
    #[error("the beacon at {addr} ended the connection without an authenticated terminate")]
    NoTerminate { addr: SocketAddr },
    #[error("the deadline of {0:?} passed before the beacon sent an authenticated terminate")]
    Deadline(Duration),
}

impl NetError {
    /// For `map_err`: an i/o error while doing `context`.
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> NetError {
        let context = context.into();
        move |source| NetError::Io { context, source }
    }
}
