//! Statically wired pipeline kernels: declare servers with
//! `#[derive(Manifest)]`, wire them in `wiring.toml`, let `wiring-build`
//! lint the wiring and generate the kernel, and run it with this crate.
//!
//! ```
//! use kernel::prelude::*;
//!
//! #[derive(Manifest)]
//! #[manifest(class = 0x0a01, owner = "ops")]
//! pub struct Sensor {
//!     pub readings: Output<f64>,
//!     count: u64,
//! }
//!
//! #[derive(serde::Deserialize, Default)]
//! pub struct SensorConfig {
//!     pub count: u64,
//! }
//!
//! impl Server for Sensor {
//!     type Config = SensorConfig;
//!     fn new(config: SensorConfig) -> Self {
//!         Sensor { readings: Output::default(), count: config.count }
//!     }
//!     fn run(&mut self, ctx: &Context) -> Result<(), ServerError> {
//!         for i in 0..self.count {
//!             if ctx.stopping() {
//!                 break;
//!             }
//!             self.readings.send(i as f64)?; // blocks while the pipe is full
//!         }
//!         Ok(()) // finishing closes the output: downstream sees end of stream
//!     }
//! }
//! ```
//!
//! This crate is the facade users depend on: the mechanism comes from
//! `kernel-core` (pipes, terminals, servers, executor, live connectome),
//! the policies from their own crates, each behind a feature:
//!
//! | feature | crate | what |
//! |---|---|---|
//! | `hostess` | `kernel-hostess` | the guest book, reservations, booking of every pipe ([`hostess`]) |
//! | `control` (default) | `kernel-control` | the HTTP control surface, exports, HMI ([`control`]) |
//! | `mesh` | `kernel-mesh` | routes between kernels over Zenoh, the Hostess across kernels, beacon, probe protocol, adverts ([`net`]) |
//!
//! [`KernelBuilder::build`] gives every kernel the policies compiled in.

#![warn(missing_docs)]

pub use kernel_core::*;

mod run;

pub use run::{init_logging, run};

/// What only the code that `#[derive(Manifest)]` and `wiring-build`
/// generate uses; not public API.
#[doc(hidden)]
pub mod __private {
    pub use kernel_core::__private::*;

    pub use crate::__wiring_mesh as mesh;
}

/// The mesh part of a generated kernel (`builder.route(..)`, `builder.offer(..)`):
/// kept as it is with feature `mesh`.
#[doc(hidden)]
#[cfg(feature = "mesh")]
#[macro_export]
macro_rules! __wiring_mesh {
    ($($calls:tt)*) => { $($calls)* };
}

/// Without feature `mesh`, the mesh part of a generated kernel is one error
/// that names the fix, instead of calls to methods that do not exist.
#[doc(hidden)]
#[cfg(not(feature = "mesh"))]
#[macro_export]
macro_rules! __wiring_mesh {
    ($($calls:tt)*) => {
        ::core::compile_error!(
            "wiring.toml has `[mesh]` or `[[routes]]`, but the `kernel` dependency is built \
             without its `mesh` feature: write `kernel = { ..., features = [\"mesh\"] }` \
             in Cargo.toml"
        );
    };
}

/// What a server author needs in scope.
pub mod prelude {
    #[cfg(feature = "control")]
    pub use kernel_control::{ServeControl, Snapshot};
    pub use kernel_core::prelude::*;
    #[cfg(feature = "hostess")]
    pub use kernel_hostess::HostessExt;
    #[cfg(feature = "mesh")]
    pub use kernel_mesh::{MeshExt, MeshKernel};
}

/// Live modification, state machines and the event log; with feature
/// `control` also snapshots, exports and the HTTP control surface.
pub mod control {
    #[cfg(feature = "control")]
    pub use kernel_control::{
        ControlPolicy, ServeControl, Snapshot, Topology, http, svg, topology, watch,
    };
    pub use kernel_core::control::*;
}

/// The Hostess: guests, terminals, masks, reservations.
#[cfg(feature = "hostess")]
pub mod hostess {
    pub use kernel_hostess::*;
}

/// Across machines: the mesh over Zenoh, beacon, probe protocol,
/// capability adverts.
#[cfg(feature = "mesh")]
pub mod net {
    pub use kernel_mesh::*;
}

/// Wires a kernel from its generated spec: what `wiring::kernel()` uses.
/// The same calls as [`kernel_core::KernelBuilder`]; [`build`](Self::build)
/// also installs the policies compiled in (the Hostess, the control
/// surface).
///
/// `wiring-build` writes these calls for you from `wiring.toml`; written by
/// hand, a kernel of two servers and one pipe, run to completion:
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// use kernel::__private::{ends, pipe_spec, server_spec};
/// use kernel::prelude::*;
/// use kernel::{KernelBuilder, KernelSpec, Restart, Spec};
///
/// #[derive(Manifest)]
/// #[manifest(class = 1, owner = "docs")]
/// pub struct Count {
///     pub out: Output<u64>,
///     to: u64,
/// }
///
/// #[derive(serde::Deserialize)]
/// pub struct CountConfig {
///     to: u64,
/// }
///
/// impl Server for Count {
///     type Config = CountConfig;
///     fn new(config: CountConfig) -> Self {
///         Count { out: Output::default(), to: config.to }
///     }
///     fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
///         for i in 1..=self.to {
///             self.out.send(i)?;
///         }
///         Ok(())
///     }
/// }
///
/// static TOTAL: AtomicU64 = AtomicU64::new(0);
///
/// #[derive(Manifest, Default)]
/// #[manifest(class = 2, owner = "docs")]
/// pub struct Sum {
///     pub values: Input<u64>,
/// }
///
/// impl Server for Sum {
///     type Config = ();
///     fn new((): ()) -> Self {
///         Sum::default()
///     }
///     fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
///         let total: u64 = self.values.iter().sum(); // until end of stream
///         TOTAL.store(total, Ordering::Relaxed);
///         Ok(())
///     }
/// }
///
/// // What `wiring-build` generates from
/// //   [kernel] name = "demo"
/// //   [servers.count] type = "Count", config = { to = 100 }
/// //   [servers.sum] type = "Sum"
/// //   [[connections]] from = "count.out", to = "sum.values", capacity = 16
/// const COUNT: u128 = 0x3f8e4bd6_5c37_4f25_9a9c_2b3c43d1c5a1;
/// const SUM: u128 = 0x8a0c1f6e_0c52_4a8e_b7a6_6a8f3d29e0b2;
/// static SPEC: Spec = Spec {
///     kernel: KernelSpec { name: "demo", fqdn: "localhost", owner: "docs" },
///     servers: &[
///         server_spec("count", "Count", &<Count as Manifest>::MANIFEST, COUNT,
///             "localhost:count:0x00000001:docs:no:none:3f8e4bd6-5c37-4f25-9a9c-2b3c43d1c5a1",
///             Restart::Never, Some("to = 100")),
///         server_spec("sum", "Sum", &<Sum as Manifest>::MANIFEST, SUM,
///             "localhost:sum:0x00000002:docs:no:none:8a0c1f6e-0c52-4a8e-b7a6-6a8f3d29e0b2",
///             Restart::Never, None),
///     ],
///     pipes: &[pipe_spec(0xc0ffee00_0000_4000_8000_000000000001, "count", "out", "sum", "values", 16)],
///     control: None,
///     processes: &[],
///     mesh: None,
///     routes: &[],
///     source: None,
/// };
///
/// let mut builder = KernelBuilder::new(&SPEC);
/// builder.server::<Count>("count")?; // built from its `config`
/// builder.server_default::<Sum>("sum")?; // no `config`: `Config::default()`
/// builder.connect(0, ends(Count::__wiring_port_out(), Sum::__wiring_port_values()))?;
/// let kernel = builder.build()?;
/// let connectome = kernel.connectome(); // a handle that outlives `run`
/// kernel.run()?; // until every server finished
///
/// assert_eq!(TOTAL.load(Ordering::Relaxed), 5050);
/// assert_eq!(connectome.pipes()[0].messages_out, 100);
/// # Ok::<(), kernel::Error>(())
/// ```
pub struct KernelBuilder {
    inner: kernel_core::KernelBuilder,
    /// The typed ends of routes and offered terminals, for the mesh.
    #[cfg(feature = "mesh")]
    codecs: kernel_mesh::RouteCodecs,
}

impl std::fmt::Debug for KernelBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KernelBuilder").finish_non_exhaustive()
    }
}

impl KernelBuilder {
    /// A builder for the kernel `spec` describes.
    pub fn new(spec: &'static Spec) -> Self {
        KernelBuilder {
            inner: kernel_core::KernelBuilder::new(spec),
            #[cfg(feature = "mesh")]
            codecs: kernel_mesh::RouteCodecs::default(),
        }
    }

    /// The spec this builder wires.
    pub fn spec(&self) -> &'static Spec {
        self.inner.spec()
    }

    /// See [`kernel_core::KernelBuilder::server`].
    pub fn server<S: Server>(&mut self, name: &str) -> Result<&mut Self, Error> {
        self.inner.server::<S>(name)?;
        Ok(self)
    }

    /// See [`kernel_core::KernelBuilder::server_default`].
    pub fn server_default<S: Server>(&mut self, name: &str) -> Result<&mut Self, Error>
    where
        S::Config: Default,
    {
        self.inner.server_default::<S>(name)?;
        Ok(self)
    }

    /// See [`kernel_core::KernelBuilder::connect`].
    pub fn connect<P: terminal::Producer, C: terminal::Consumer<Message = P::Message>>(
        &mut self,
        pipe: usize,
        ends: __private::Pipe<P, C>,
    ) -> Result<&mut Self, Error> {
        self.inner.connect(pipe, ends)?;
        Ok(self)
    }

    /// See [`kernel_core::KernelBuilder::connect_fused`].
    pub fn connect_fused<P: terminal::Producer, C: terminal::Consumer<Message = P::Message>>(
        &mut self,
        pipe: usize,
        ends: __private::Pipe<P, C>,
    ) -> Result<&mut Self, Error> {
        self.inner.connect_fused(pipe, ends)?;
        Ok(self)
    }

    /// See [`kernel_core::KernelBuilder::fuse`].
    pub fn fuse<X: 'static, C: kernel_core::fuse::Chain<X> + 'static>(
        &mut self,
        pipe: usize,
        chain: C,
    ) -> Result<&mut Self, Error> {
        self.inner.fuse(pipe, chain)?;
        Ok(self)
    }

    /// Makes pipe `pipe` tappable (`tap = true` on its connection): whoever
    /// watches it through the control surface sees samples of its
    /// messages as JSON. `from_port` is its producer's port marker, which
    /// names the message type.
    pub fn tap<P: terminal::Producer>(
        &mut self,
        pipe: usize,
        _from_port: __private::Port<P>,
    ) -> Result<&mut Self, Error>
    where
        P::Message: serde::Serialize,
    {
        self.inner.tap(pipe, encode_json::<P::Message>)?;
        Ok(self)
    }

    /// Routes output `from` (`server.terminal`) to the other kernels its
    /// `[[routes]]` name: the mesh encodes what the terminal sends
    /// (postcard or JSON, so the message type needs serde).
    #[cfg(feature = "mesh")]
    pub fn route<P: terminal::Producer>(
        &mut self,
        from: &str,
        _from_port: __private::Port<P>,
    ) -> Result<&mut Self, Error>
    where
        P::Message: kernel_mesh::RouteMessage,
    {
        self.codecs.route::<P>(&mut self.inner, from)?;
        Ok(self)
    }

    /// Offers input terminal `to` (`server.terminal`, listed in `[mesh]
    /// offer`) to routes from other kernels: it waits for them, and the mesh
    /// decodes their messages into it.
    #[cfg(feature = "mesh")]
    pub fn offer<C: terminal::Consumer>(
        &mut self,
        to: &str,
        _to_port: __private::Port<C>,
    ) -> Result<&mut Self, Error>
    where
        C::Message: kernel_mesh::RouteMessage,
    {
        self.codecs.offer::<C>(&mut self.inner, to)?;
        Ok(self)
    }

    /// Checks the wiring (see [`kernel_core::KernelBuilder::build`]) and
    /// builds the kernel with the policies of the enabled features.
    pub fn build(&mut self) -> Result<Kernel, Error> {
        let kernel = self.inner.build()?;
        let connectome = kernel.connectome();
        install_policies(&connectome);
        #[cfg(feature = "mesh")]
        kernel_mesh::MeshPolicy::install(&connectome, std::mem::take(&mut self.codecs)).map_err(
            |e| Error::Policy {
                policy: "mesh",
                source: Box::new(e),
            },
        )?;
        Ok(kernel)
    }
}

/// The encoder of a tapped pipe of `T`s: the message as JSON text.
fn encode_json<T: serde::Serialize + 'static>(msg: &dyn std::any::Any) -> Result<String, String> {
    match msg.downcast_ref::<T>() {
        Some(msg) => serde_json::to_string(msg).map_err(|e| e.to_string()),
        None => Err(format!(
            "the tap expected a message of type `{}`",
            std::any::type_name::<T>()
        )),
    }
}

fn install_policies(connectome: &Connectome) {
    #[cfg(feature = "hostess")]
    kernel_hostess::HostessPolicy::install(connectome);
    #[cfg(feature = "control")]
    kernel_control::ControlPolicy::install(connectome);
    #[cfg(not(feature = "mesh"))]
    if connectome.spec().mesh.is_some() || !connectome.spec().routes.is_empty() {
        tracing::warn!(
            kernel = connectome.spec().kernel.name,
            "`[mesh]` or `[[routes]]` is set but the mesh is not compiled in \
             (enable kernel's `mesh` feature); its routes stay planned"
        );
    }
    #[cfg(not(feature = "control"))]
    if let Some(listen) = connectome.spec().control {
        tracing::warn!(
            kernel = connectome.spec().kernel.name,
            listen,
            "`[control] listen` is set but the control surface is not compiled in \
             (enable kernel's `control` feature)"
        );
    }
}

/// Includes the kernel that `wiring-build` generated into `OUT_DIR`.
///
/// `include_wiring!()` defines `mod wiring` from `wiring.rs`;
/// `include_wiring!(name)` defines `mod name` from `name.rs`.
#[macro_export]
macro_rules! include_wiring {
    () => {
        $crate::include_wiring!(wiring);
    };
    ($name:ident) => {
        pub mod $name {
            include!(concat!(env!("OUT_DIR"), "/", stringify!($name), ".rs"));
        }
    };
}
