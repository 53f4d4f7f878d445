//! The one error type of the kernel runtime.

use std::fmt;

/// Everything that can go wrong while wiring, booting or running a kernel.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A policy of the kernel (its control surface, its mesh node, ...)
    /// could not start; nothing was started.
    #[error("{policy}: {source}")]
    Policy {
        /// The policy's name.
        policy: &'static str,
        /// What went wrong, in the policy's own error type.
        source: crate::policy::PolicyError,
    },

    /// [`Kernel::add_process`](crate::Kernel::add_process) was given a
    /// name a server or another process already has.
    #[error("a server or process named `{name}` already exists; names are unique across both")]
    DuplicateName {
        /// The name asked for.
        name: String,
    },

    /// The wiring names a server instance the spec does not have.
    #[error("unknown server instance `{server}`: wiring.toml has no `[servers.{server}]`")]
    UnknownServer {
        /// The instance name asked for.
        server: String,
    },

    /// `KernelBuilder::server` was called twice for one instance.
    #[error("server instance `{server}` is added twice; add each instance exactly once")]
    DuplicateServer {
        /// The instance added twice.
        server: String,
    },

    /// The instance's `config` did not deserialize into its `Config` type.
    #[error("bad config for server `{server}` (type `{type_path}`): {message}")]
    Config {
        /// The instance (`[servers.<name>]`).
        server: String,
        /// Its `type` as wiring.toml writes it.
        type_path: String,
        /// serde's complaint; `wiring.toml:LINE:COL: ...` with the line
        /// underlined when the spec carries the wiring file's text.
        message: String,
    },

    /// `KernelBuilder::server` was used for an instance without a `config`.
    #[error(
        "server `{server}` has no `config` in wiring.toml; add one or build it with `server_default`"
    )]
    MissingConfig {
        /// The instance without `config`.
        server: String,
    },

    /// `KernelBuilder::connect` names a pipe the spec does not have.
    #[error("no pipe {index} in the wiring, which has {pipes}")]
    UnknownPipe {
        /// The index asked for.
        index: usize,
        /// How many pipes the spec has (valid indices are below).
        pipes: usize,
    },

    /// `KernelBuilder::connect` was called twice for one pipe.
    #[error("the pipe from `{from}` to `{to}` is connected twice; connect each pipe exactly once")]
    DuplicatePipe {
        /// The producing end, `server.terminal`.
        from: String,
        /// The consuming end, `server.terminal`.
        to: String,
    },

    /// `KernelBuilder::route` names an output no route of the wiring starts at.
    #[error("no route starts at `{from}` in the wiring")]
    UnknownRoute {
        /// The output asked for, `server.terminal`.
        from: String,
    },

    /// `KernelBuilder::route` was called twice for one output.
    #[error("the routes from `{from}` are given their pipes twice; route each output once")]
    DuplicateRoute {
        /// The output routed twice, `server.terminal`.
        from: String,
    },

    /// `KernelBuilder::await_producers` names a terminal no server declares.
    #[error("unknown terminal `{endpoint}`: no server of the wiring declares it")]
    UnknownTerminal {
        /// The terminal asked for, `server.terminal`.
        endpoint: String,
    },

    /// A terminal could not take its pipe ends.
    #[error("cannot attach terminal `{server}.{terminal}`: {reason}")]
    Attach {
        /// The instance.
        server: String,
        /// The terminal's field name.
        terminal: String,
        /// Why, e.g. a second producer on an `Input` or a message type
        /// other than the pipe's.
        reason: String,
    },

    /// `KernelBuilder::build` found the wiring incomplete or inconsistent.
    #[error("kernel `{kernel}` is not wired completely:{}", list(problems))]
    Incomplete {
        /// The kernel's name (`[kernel] name`).
        kernel: String,
        /// One line per problem: a server not added, a pipe not connected, ...
        problems: Vec<String>,
    },

    /// `KernelBuilder::build` was called a second time.
    #[error("this kernel builder was already built; make a new `KernelBuilder`")]
    AlreadyBuilt,

    /// Some servers could not be built and attached; nothing was started.
    #[error(
        "kernel `{kernel}` did not start, servers failed to boot:{}",
        list(failures)
    )]
    Boot {
        /// The kernel's name (`[kernel] name`).
        kernel: String,
        /// Every server that could not be built or attached, and why.
        failures: Vec<ServerFailure>,
    },

    /// The kernel ran, but not every server finished or stopped cleanly.
    #[error("kernel `{kernel}` ended with failed servers:{}", list(failures))]
    Failed {
        /// The kernel's name (`[kernel] name`).
        kernel: String,
        /// Every server that returned `Err`, panicked past its restart
        /// policy or did not stop within the grace period, and why.
        failures: Vec<ServerFailure>,
    },

    /// The ctrl-c / SIGTERM handler could not be installed.
    #[error("cannot install the ctrl-c handler: {0}")]
    Signal(#[source] std::io::Error),

    /// The system has too few memory maps left for the kernel's threads;
    /// checked before any starts.
    #[error(
        "kernel `{kernel}` needs {threads} threads, and this process has memory maps for about {room} more (4 a thread; vm.max_map_count is {max_map_count}): raise it, e.g. `sysctl -w vm.max_map_count=262144`, or run fewer servers on threads of their own (transforms fused into the server that feeds them need none)"
    )]
    ThreadRoom {
        /// The kernel's name.
        kernel: String,
        /// Threads the kernel would start.
        threads: usize,
        /// Threads the memory maps left allow.
        room: usize,
        /// The system's `vm.max_map_count`.
        max_map_count: usize,
    },

    /// The operating system refused a thread for a server.
    #[error("cannot start a thread for server `{server}`: {source}")]
    Spawn {
        /// The instance that got no thread.
        server: String,
        /// The operating system's error (often too many threads).
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Names of the servers this error is about (failed to boot or to run).
    pub fn failed_servers(&self) -> Vec<&str> {
        match self {
            Error::Boot { failures, .. } | Error::Failed { failures, .. } => {
                failures.iter().map(|f| f.server.as_str()).collect()
            }
            _ => Vec::new(),
        }
    }
}

/// One server that failed and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFailure {
    /// Instance name.
    pub server: String,
    /// What happened, e.g. `panicked: index out of bounds; gave up after 3 restarts within 5s`.
    pub reason: String,
}

impl fmt::Display for ServerFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.server, self.reason)
    }
}

fn list<T: fmt::Display>(items: &[T]) -> String {
    items.iter().map(|i| format!("\n  - {i}")).collect()
}
