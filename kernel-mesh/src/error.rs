//! Errors of the beacon and the probe.

use std::net::SocketAddr;
use std::time::Duration;

use crate::frame::FrameError;
use crate::handshake::HandshakeError;
use crate::ports::PortRangeError;

/// Why the beacon or the probe failed.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// An address with a port below 1024: use a port of 1024 or above.
    #[error(
        "{addr}: port {} is privileged (below 1024); the beacon and the probe use unprivileged ports only",
        addr.port()
    )]
    Privileged {
        /// The address refused.
        addr: SocketAddr,
    },
    /// A socket operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done (`bind 127.0.0.1:7000`, ...).
        context: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The operating system gave no random numbers (for nonces and keys).
    #[error("no random numbers from the operating system: {0}")]
    Random(#[from] getrandom::Error),
    /// A port range that does not parse or is empty.
    #[error(transparent)]
    Ports(#[from] PortRangeError),
    /// The probe's instructions from the beacon are malformed.
    #[error("bad probe instructions: {0}")]
    Instructions(String),
    /// The authenticated handshake with the beacon failed (another
    /// passphrase, a replay, a timeout).
    #[error("beacon at {addr}: {source}")]
    Handshake {
        /// The beacon's address.
        addr: SocketAddr,
        /// What went wrong.
        #[source]
        source: HandshakeError,
    },
    /// A frame from the beacon was malformed or failed authentication.
    #[error("beacon at {addr}: {source}")]
    Frame {
        /// The beacon's address.
        addr: SocketAddr,
        /// What went wrong.
        #[source]
        source: FrameError,
    },
    /// The beacon closed the connection before the exchange was complete.
    #[error("the beacon at {addr} ended the connection without an authenticated terminate")]
    NoTerminate {
        /// The beacon's address.
        addr: SocketAddr,
    },
    /// The probe's deadline passed before the exchange was complete.
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
