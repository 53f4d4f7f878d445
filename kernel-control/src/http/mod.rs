//! The control surface over HTTP: axum on its own thread with its own
//! single-threaded tokio runtime, so the data plane never waits on it.
//!
//! ```no_run
//! # fn demo(kernel: kernel_core::Kernel) -> Result<(), kernel_core::Error> {
//! use kernel_control::http::{ControlOptions, ServeControl};
//! let server = kernel.serve_control(ControlOptions::from_env()?)?;
//! println!("HMI at {} (token in {:?})", server.url(), server.token_file());
//! kernel.run()
//! # }
//! ```
//!
//! Reading calls are open; modifying calls need `Authorization: Bearer
//! <token>`. The token comes from [`ControlOptions::token`] or
//! `KERNEL_CONTROL_TOKEN`, or is generated and written to a file only the
//! owner can read. The default listen address is `127.0.0.1:0` (loopback, a
//! free port); `KERNEL_CONTROL_LISTEN` sets another. `Kernel::run` serves by
//! itself when `KERNEL_CONTROL_LISTEN` is set or the wiring has `[control]
//! listen` (the environment wins), unless `serve_control` already serves.
//!
//! The kernel's Hostess (guests, terminals, reservations; see
//! [`kernel_hostess::http`]) is served under [`HOSTESS_PATH`]; its modifying
//! calls take the same bearer token, or a signature of a peer kernel named
//! with [`ControlOptions::hostess_peer`].

mod api;
mod hmi;
mod mcp;
mod metrics;
mod openapi;
mod operations;
mod tap;
mod token_file;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};

use kernel_core::{Connectome, Control, Kernel};
use kernel_hostess::HostessExt;
use kernel_hostess::http::{BearerToken, Limits, Served};
use kernel_hostess::phone::Verifier;

pub use mcp::MCP_PATH;
pub use openapi::openapi;

/// Environment variable with the listen address (`host:port`).
pub const LISTEN_ENV: &str = "KERNEL_CONTROL_LISTEN";
/// Environment variable with the bearer token for modifying calls.
pub const TOKEN_ENV: &str = "KERNEL_CONTROL_TOKEN";
/// Largest request body accepted (64 KiB); larger ones get 413.
pub const BODY_LIMIT: usize = 64 * 1024;
/// Where the Hostess's API is mounted.
pub const HOSTESS_PATH: &str = "/api/v1/hostess";

/// Peer kernels whose signed phone calls the Hostess accepts; the secrets
/// never show in `Debug` output.
#[derive(Clone, Default)]
struct Peers(Vec<(String, Vec<u8>)>);

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(peer, _)| peer))
            .finish()
    }
}

/// Where and how the control surface serves.
#[derive(Debug, Clone)]
pub struct ControlOptions {
    listen: SocketAddr,
    token: Option<String>,
    token_dir: Option<PathBuf>,
    extra: Vec<(String, axum::Router)>,
    peers: Peers,
    limits: Limits,
}

impl Default for ControlOptions {
    fn default() -> Self {
        ControlOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            token: None,
            token_dir: None,
            extra: Vec::new(),
            peers: Peers::default(),
            limits: Limits::default(),
        }
    }
}

/// Why the control surface could not start: a bad listen address, a port
/// in use, a token file that cannot be written, ...
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot start the control surface: {message}")]
pub struct ServeError {
    /// What went wrong.
    pub message: String,
}

impl From<ServeError> for kernel_core::Error {
    fn from(e: ServeError) -> Self {
        kernel_core::Error::Policy {
            policy: "control",
            source: Box::new(e),
        }
    }
}

fn control_error(message: impl Into<String>) -> ServeError {
    ServeError {
        message: message.into(),
    }
}

impl ControlOptions {
    /// Loopback, a free port, a generated token.
    pub fn new() -> Self {
        ControlOptions::default()
    }

    /// The defaults, with `KERNEL_CONTROL_LISTEN` and `KERNEL_CONTROL_TOKEN`
    /// applied when set.
    pub fn from_env() -> Result<Self, ServeError> {
        ControlOptions::from_env_or(None)
    }

    /// [`ControlOptions::from_env`], listening on `listen` (`[control] listen`
    /// of the spec) when `KERNEL_CONTROL_LISTEN` is not set.
    pub(crate) fn from_env_or(listen: Option<&str>) -> Result<Self, ServeError> {
        let mut options = ControlOptions::new();
        if let Ok(listen) = std::env::var(LISTEN_ENV) {
            options.listen = listen.trim().parse().map_err(|e| {
                control_error(format!(
                    "{LISTEN_ENV}=`{listen}` is not a `host:port` socket address: {e}"
                ))
            })?;
        } else if let Some(listen) = listen {
            options.listen = listen.trim().parse().map_err(|e| {
                control_error(format!(
                    "`[control] listen = \"{listen}\"` is not a `host:port` socket address: {e}"
                ))
            })?;
        }
        if let Ok(token) = std::env::var(TOKEN_ENV) {
            let token = token.trim();
            if token.is_empty() {
                return Err(control_error(format!("{TOKEN_ENV} is set but empty")));
            }
            options.token = Some(token.to_owned());
        }
        Ok(options)
    }

    /// Listens on `addr` (port 0: any free port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Uses this bearer token instead of generating one.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Writes a generated token into this folder (default: `$XDG_RUNTIME_DIR`
    /// or the temporary folder).
    pub fn token_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.token_dir = Some(dir.into());
        self
    }

    /// Serves `router` under `path` too. The kernel's Hostess is served
    /// under [`HOSTESS_PATH`] unless another router is nested there.
    pub fn nest(mut self, path: impl Into<String>, router: axum::Router) -> Self {
        self.extra.push((path.into(), router));
        self
    }

    /// Bounds what clients can hold: connections, and the time to send a
    /// request (default [`Limits::default`]).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The Hostess accepts phone calls from peer kernel `peer` signed with
    /// `secret` and addressed to this kernel (see [`kernel_hostess::phone`]).
    pub fn hostess_peer(mut self, peer: impl Into<String>, secret: impl Into<Vec<u8>>) -> Self {
        self.peers.0.push((peer.into(), secret.into()));
        self
    }
}

/// A running control surface; dropping it shuts it down (and removes a
/// generated token file).
#[derive(Debug)]
pub struct ControlServer {
    addr: SocketAddr,
    token: String,
    token_file: Option<PathBuf>,
    /// Ends the event streams, so that shutting down does not wait on them.
    shutdown: tokio::sync::watch::Sender<bool>,
    served: Option<Served>,
    connectome: Connectome,
}

impl ControlServer {
    /// Binds now (so the address is known and errors come back here), then
    /// serves on a thread of its own.
    pub fn start(control: &Control, options: ControlOptions) -> Result<Self, ServeError> {
        let listener = TcpListener::bind(options.listen)
            .map_err(|e| control_error(format!("cannot listen on {}: {e}", options.listen)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| control_error(format!("no local address: {e}")))?;
        let connectome = control.connectome().clone();
        let kernel = connectome.spec().kernel.name;
        let (token, token_file) = match options.token {
            Some(token) => (token, None),
            None => {
                let token = generate_token();
                let dir = options.token_dir.unwrap_or_else(default_token_dir);
                let path = token_file::write(&dir, kernel, &token)?;
                (token, Some(path))
            }
        };
        let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
        let state = api::AppState {
            control: control.with_cause("operator (http)"),
            token: BearerToken::new(&token),
            shutdown: shutdown_rx,
            streams: api::Streams::default(),
        };
        let mut extra = options.extra;
        if !extra.iter().any(|(path, _)| path == HOSTESS_PATH) {
            // Not behind the bearer middleware: the Hostess checks the same
            // token itself, or a peer's signature on a phone call.
            let mut peers = Verifier::new(kernel);
            for (peer, secret) in options.peers.0 {
                peers = peers.peer(peer, secret);
            }
            let hostess = kernel_hostess::http::Api::new(connectome.hostess())
                .bearer_token(&token)
                .phone(peers);
            extra.push((HOSTESS_PATH.to_owned(), hostess.router()));
        }
        let mcp = mcp::service(
            control.with_cause("operator (mcp)"),
            BearerToken::new(&token),
            addr,
        );
        let mut router = api::router(state, mcp);
        for (path, extra) in extra {
            router = router.nest(
                &path,
                extra.layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT)),
            );
        }
        let served =
            kernel_hostess::http::serve_on(listener, router, options.limits, "kernel-control")
                .map_err(|e| control_error(format!("cannot serve on {addr}: {e}")))?;
        connectome.set_control_addr(Some(addr));
        match &token_file {
            Some(path) => tracing::info!(
                kernel,
                url = %format!("http://{addr}/"),
                token_file = %path.display(),
                "control surface serving"
            ),
            None => {
                tracing::info!(kernel, url = %format!("http://{addr}/"), "control surface serving")
            }
        }
        Ok(ControlServer {
            addr,
            token,
            token_file,
            shutdown,
            served: Some(served),
            connectome,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>/`, the HMI page.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The bearer token of modifying calls.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Where a generated token was written (owner-only file).
    pub fn token_file(&self) -> Option<&Path> {
        self.token_file.as_deref()
    }

    /// Stops serving and waits for the control thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(served) = self.served.take() {
            served.shutdown();
        }
        if let Some(path) = self.token_file.take() {
            let _ = std::fs::remove_file(path);
        }
        self.connectome.set_control_addr(None);
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts a control server when `KERNEL_CONTROL_LISTEN` is set or the spec
/// has `[control] listen` (the environment wins), and none serves this kernel
/// yet, say from [`ServeControl::serve_control`] (what `Kernel::run` does
/// through [`ControlPolicy`](crate::ControlPolicy)).
pub(crate) fn serve_at_run(connectome: &Connectome) -> Result<Option<ControlServer>, ServeError> {
    let spec_listen = connectome.spec().control;
    if (std::env::var_os(LISTEN_ENV).is_none() && spec_listen.is_none())
        || connectome.control_addr().is_some()
    {
        return Ok(None);
    }
    let options = ControlOptions::from_env_or(spec_listen)?;
    let server = ControlServer::start(&connectome.control(), options)?;
    Ok(Some(server))
}

/// 256 random bits as 64 hex digits.
fn generate_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

fn default_token_dir() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_dir())
        .unwrap_or_else(std::env::temp_dir)
}

/// `kernel.serve_control(options)`: the HTTP control surface of a kernel.
pub trait ServeControl {
    /// Starts the HTTP control surface of this kernel on its own thread;
    /// it serves until the returned server is dropped.
    fn serve_control(&self, options: ControlOptions) -> Result<ControlServer, ServeError>;
}

impl ServeControl for Kernel {
    fn serve_control(&self, options: ControlOptions) -> Result<ControlServer, ServeError> {
        ControlServer::start(&self.control(), options)
    }
}
