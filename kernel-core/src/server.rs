//! What a server author implements ([`Server`]) and what a running server
//! sees of its kernel ([`Context`]).

use std::fmt;
use std::sync::Arc;

use uuid::Uuid;

use crate::connectome::{Connectome, ServerSpec};
use crate::control::Control;
use crate::manifest::Manifest;
use crate::terminal::SendError;
use crate::terminal::link::Signal;

/// A server: built from its config, attached to its pipes, then run on its
/// own thread.
///
/// `#[derive(Manifest)]` declares its terminals (the fields of type
/// [`Input`](crate::Input), [`Output`](crate::Output),
/// [`Multiplex`](crate::Multiplex), [`Combine`](crate::Combine)), its class
/// and owner; `wiring.toml` names it by path (`type = "sensors::Thermo"`)
/// and gives each instance its `config`. A whole kernel of servers:
/// [`Kernel`](crate::Kernel).
///
/// ```
/// # extern crate kernel_core as kernel;
/// use kernel::prelude::*;
///
/// /// `[servers.<name>.config]` in wiring.toml.
/// #[derive(serde::Deserialize, Default)]
/// #[serde(deny_unknown_fields)]
/// pub struct ThermoConfig {
///     /// Readings to take; 0 for as many as the kernel lets it.
///     #[serde(default)]
///     pub samples: u64,
///     pub offset_c: f64,
/// }
///
/// #[derive(Manifest)]
/// #[manifest(class = 0x0a01, owner = "ops")]
/// pub struct Thermo {
///     pub celsius: Output<f64>,
///     config: ThermoConfig,
/// }
///
/// impl Server for Thermo {
///     type Config = ThermoConfig;
///     fn new(config: ThermoConfig) -> Self {
///         Thermo { celsius: Output::default(), config }
///     }
///     fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
///         let mut taken = 0;
///         while !ctx.stopping() && (self.config.samples == 0 || taken < self.config.samples) {
///             self.celsius.send(20.0 + self.config.offset_c)?;
///             taken += 1;
///         }
///         Ok(()) // closes `celsius`: its consumer sees end of stream
///     }
/// }
///
/// // The derive lists the terminals for the build step and the control surface.
/// let terminals: Vec<_> = Thermo::MANIFEST.terminals.iter().map(|t| t.name).collect();
/// assert_eq!(terminals, ["celsius"]);
/// assert_eq!(Thermo::MANIFEST.class, 0x0a01);
/// ```
pub trait Server: Manifest {
    /// Deserialized from the instance's `config` table in `wiring.toml`.
    type Config: serde::de::DeserializeOwned;

    /// Builds the server from its config; terminals start unattached
    /// (`Default`), the kernel attaches them afterwards.
    fn new(config: Self::Config) -> Self;

    /// Does the server's work. Returning (or panicking) closes its outputs
    /// unless the server is restarted; `Err` and panics mark it failed.
    fn run(&mut self, ctx: &Context) -> Result<(), ServerError>;
}

/// A server whose work is one message in, at most one message out: no loop
/// and no thread of its own.
///
/// Declare its terminals with `#[derive(Manifest)]` as for any server (one
/// `Input<In>` or `Combine<In>`, one `Output<Out>` or `Multiplex<Out>`) and
/// wire it the same way. The build step fuses each chain of transforms
/// joined by one-to-one pipes into the thread of the server that feeds it,
/// as direct calls; `fuse = false` on the instance in `wiring.toml` gives it
/// a thread of its own, where it runs as a server that receives, processes
/// and sends.
///
/// A fused transform that returns `Err` or panics is restarted by its
/// policy and handed the message it failed on again (hence `In: Clone`);
/// its host server is not disturbed.
///
/// ```
/// # extern crate kernel_core as kernel;
/// use kernel::prelude::*;
///
/// #[derive(serde::Deserialize)]
/// pub struct ClampConfig {
///     pub max: f64,
/// }
///
/// /// Drops readings that are not numbers, caps the rest at `max`.
/// #[derive(Manifest)]
/// #[manifest(class = 0x0b02, owner = "ops")]
/// pub struct Clamp {
///     pub raw: Input<f64>,
///     pub clamped: Output<f64>,
///     max: f64,
/// }
///
/// impl Transform for Clamp {
///     type Config = ClampConfig;
///     type In = f64;
///     type Out = f64;
///     fn new(config: ClampConfig) -> Self {
///         Clamp { raw: Input::default(), clamped: Output::default(), max: config.max }
///     }
///     fn process(&mut self, x: f64) -> Result<Option<f64>, ServerError> {
///         Ok((!x.is_nan()).then(|| x.min(self.max)))
///     }
/// }
///
/// // `process` is a plain method: test it without a kernel.
/// let mut clamp = <Clamp as Transform>::new(ClampConfig { max: 100.0 });
/// assert_eq!(clamp.process(250.0)?, Some(100.0));
/// assert_eq!(clamp.process(f64::NAN)?, None);
/// # Ok::<(), ServerError>(())
/// ```
pub trait Transform: Manifest {
    /// Deserialized from the instance's `config` table in `wiring.toml`.
    type Config: serde::de::DeserializeOwned;
    /// The message the input terminal takes.
    type In: Clone + Send + 'static;
    /// The message the output terminal sends.
    type Out: Send + 'static;

    /// Builds the transform from its config; terminals start unattached.
    fn new(config: Self::Config) -> Self;

    /// Processes one message: `Some` is sent on, `None` filters it out.
    fn process(&mut self, x: Self::In) -> Result<Option<Self::Out>, ServerError>;
}

/// An unfused transform runs as a server: receive, process, send, until
/// end of stream.
impl<T> Server for T
where
    T: Transform + Stage<<T as Transform>::In, <T as Transform>::Out>,
{
    type Config = <T as Transform>::Config;

    fn new(config: Self::Config) -> Self {
        <T as Transform>::new(config)
    }

    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        while let Some(x) = Stage::recv(self) {
            if let Some(y) = self.process(x)? {
                Stage::send(self, y)?;
            }
        }
        Ok(())
    }
}

/// The one input and one output terminal of a server, as
/// `#[derive(Manifest)]` implements it for a struct that has exactly one of
/// each; what lets a [`Transform`] run on its own thread and end a fused
/// chain. Only generated code implements it. The message types are
/// parameters, not associated types, so that a server whose messages are
/// private to its crate keeps a private impl.
#[doc(hidden)]
pub trait Stage<In, Out> {
    fn recv(&mut self) -> Option<In>;
    fn send(&mut self, msg: Out) -> Result<(), SendError<Out>>;
    /// Sends every message of `msgs` as one batch (`send_all`), leaving
    /// `msgs` empty; how many could not be sent (the consumer is gone).
    fn send_drain(&mut self, msgs: &mut Vec<Out>) -> usize;
}

/// A running server's window on its kernel.
#[derive(Debug, Clone)]
pub struct Context {
    spec: &'static ServerSpec,
    signal: Arc<Signal>,
    connectome: Connectome,
}

impl Context {
    pub(crate) fn new(
        spec: &'static ServerSpec,
        signal: Arc<Signal>,
        connectome: Connectome,
    ) -> Self {
        Context {
            spec,
            signal,
            connectome,
        }
    }

    /// The instance name (`[servers.<name>]`).
    pub fn name(&self) -> &'static str {
        self.spec.name
    }

    /// The guest identity `fqdn:servername:classHex:owner:authFlag:authMechanism:uuid`.
    pub fn identity(&self) -> &'static str {
        self.spec.identity
    }

    /// The instance's uuid.
    pub fn uuid(&self) -> Uuid {
        self.spec.uuid
    }

    /// The instance's static description.
    pub fn spec(&self) -> &'static ServerSpec {
        self.spec
    }

    /// True once the kernel is stopping, or this server was asked to
    /// restart or stop: a source that loops forever should return; end of
    /// stream then propagates downstream.
    pub fn stopping(&self) -> bool {
        self.signal.stopping()
    }

    /// The kernel's pool of frame buffers: take a [`Frame`](crate::Frame)
    /// for a large message here.
    pub fn frames(&self) -> &crate::FramePool {
        self.connectome.frames()
    }

    /// The live connectome: topology, server states, pipe counters.
    pub fn connectome(&self) -> &Connectome {
        &self.connectome
    }

    /// The control surface: query and modify the live topology (connect,
    /// disconnect, pause, resume, restart, stop); changes are logged with
    /// this server as their cause.
    pub fn control(&self) -> Control {
        self.connectome
            .control()
            .with_cause(format!("server `{}`", self.spec.name))
    }

    /// What policy crates keep for this kernel, one value per type (the
    /// Hostess, say, which `kernel` offers as `ctx.hostess()`).
    pub fn extension<T: std::any::Any + Send + Sync>(&self) -> Option<std::sync::Arc<T>> {
        self.connectome.extensions().get::<T>()
    }

    /// How many times this instance has been restarted so far.
    pub fn restarts(&self) -> u32 {
        self.connectome
            .server(self.spec.name)
            .map(|s| s.restarts)
            .unwrap_or(0)
    }
}

/// Why a server's `run` failed.
///
/// Converts with `?` from [`SendError`], `String`, `&str`, [`std::io::Error`]
/// and [`crate::Error`]; wrap any other error with [`ServerError::new`].
pub struct ServerError {
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl ServerError {
    /// Wraps any error, keeping it as the source.
    pub fn new<E: std::error::Error + Send + Sync + 'static>(error: E) -> Self {
        ServerError {
            message: error.to_string(),
            source: Some(Box::new(error)),
        }
    }

    /// An error with just a message.
    pub fn msg(message: impl fmt::Display) -> Self {
        ServerError {
            message: message.to_string(),
            source: None,
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Debug for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerError")
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ServerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl<T> From<SendError<T>> for ServerError {
    fn from(e: SendError<T>) -> Self {
        ServerError::msg(e)
    }
}

impl From<String> for ServerError {
    fn from(message: String) -> Self {
        ServerError::msg(message)
    }
}

impl From<&str> for ServerError {
    fn from(message: &str) -> Self {
        ServerError::msg(message)
    }
}

impl From<std::io::Error> for ServerError {
    fn from(e: std::io::Error) -> Self {
        ServerError::new(e)
    }
}

impl From<crate::Error> for ServerError {
    fn from(e: crate::Error) -> Self {
        ServerError::new(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fails_with_io() -> Result<(), ServerError> {
        Err(std::io::Error::other("disk gone"))?;
        Ok(())
    }

    fn fails_with_send() -> Result<(), ServerError> {
        Err(SendError(5u8))?;
        Ok(())
    }

    #[test]
    fn errors_convert_with_the_question_mark() {
        assert_eq!(fails_with_io().unwrap_err().to_string(), "disk gone");
        assert!(
            fails_with_send()
                .unwrap_err()
                .message()
                .contains("no consumer")
        );
        assert_eq!(ServerError::from("bad").to_string(), "bad");
        assert_eq!(
            ServerError::from(String::from("worse")).to_string(),
            "worse"
        );
        let parse = "x".parse::<u32>().unwrap_err();
        let e = ServerError::new(parse);
        assert!(std::error::Error::source(&e).is_some());
    }
}
