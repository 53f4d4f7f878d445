//! The lint codes of `wiring.toml`, in one table: build-time lints and
//! run-time checks (live modification refuses with the same codes) name
//! them from here.

mod finding;

use std::fmt;

pub use finding::Finding;

/// Every lint code, with its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// E0001 `syntax`: not valid TOML.
    Syntax,
    /// E0002 `schema`: unknown key, wrong value type, missing key, bad name, capacity < 1.
    Schema,
    /// E0101 `unknown-server-type`.
    UnknownServerType,
    /// E0102 `unknown-server`.
    UnknownServer,
    /// E0103 `unknown-terminal`.
    UnknownTerminal,
    /// E0104 `bad-endpoint`.
    BadEndpoint,
    /// E0105 `bad-config`: a `config` key its `Config` type does not have, a
    /// value of the wrong type, a required field missing.
    BadConfig,
    /// E0106 `missing-config`: no `config`, and the `Config` type has no `Default`.
    MissingConfig,
    /// E0201 `source-not-output`.
    SourceNotOutput,
    /// E0202 `target-not-input`.
    TargetNotInput,
    /// E0301 `fan-out-without-multiplexer`.
    FanOutWithoutMultiplexer,
    /// E0302 `fan-in-without-combiner`.
    FanInWithoutCombiner,
    /// E0303 `many-to-many`.
    ManyToMany,
    /// E0401 `type-mismatch`.
    TypeMismatch,
    /// E0501 `duplicate-connection`.
    DuplicateConnection,
    /// E0502 `duplicate-uuid`.
    DuplicateUuid,
    /// E0503 `invalid-identity`.
    InvalidIdentity,
    /// E0504 `duplicate-name`: a process and a server share a name.
    DuplicateName,
    /// E0801 `unknown-peer-kernel`: a route's guest names a kernel (its
    /// fqdn) that none of the peer crates is.
    UnknownPeerKernel,
    /// E0802 `unknown-peer-guest`: the peer kernel has no server with the
    /// route's guest identity.
    UnknownPeerGuest,
    /// E0803 `no-peer-guest-matches`: a route's mask matches no server of
    /// the peer kernels.
    NoPeerGuestMatches,
    /// E0804 `unknown-peer-terminal`: the remote server has no terminal of
    /// the route's `terminal` name.
    UnknownPeerTerminal,
    /// E0805 `peer-target-not-input`: the remote terminal is an `Output` or
    /// `Multiplex`.
    PeerTargetNotInput,
    /// E0806 `not-offered`: the remote terminal is not in its kernel's
    /// `[mesh] offer`.
    NotOffered,
    /// E0807 `route-type-mismatch`: the route's two ends carry different
    /// Rust types.
    RouteTypeMismatch,
    /// E0808 `input-routed-twice`: an `Input` is the target of routes from
    /// two kernels, or of a route and a local producer.
    InputRoutedTwice,
    /// E0809 `offered-input-has-producer`: an `Input` in `[mesh] offer` also
    /// has a local producer.
    OfferedInputHasProducer,
    /// W0601 `cycle`.
    Cycle,
    /// W0701 `unconnected-input`.
    UnconnectedInput,
    /// W0702 `unconnected-output`.
    UnconnectedOutput,
    /// W0703 `unused-server`.
    UnusedServer,
}

impl Code {
    /// Every code, in code order.
    pub const ALL: [Code; 31] = [
        Code::Syntax,
        Code::Schema,
        Code::UnknownServerType,
        Code::UnknownServer,
        Code::UnknownTerminal,
        Code::BadEndpoint,
        Code::BadConfig,
        Code::MissingConfig,
        Code::SourceNotOutput,
        Code::TargetNotInput,
        Code::FanOutWithoutMultiplexer,
        Code::FanInWithoutCombiner,
        Code::ManyToMany,
        Code::TypeMismatch,
        Code::DuplicateConnection,
        Code::DuplicateUuid,
        Code::InvalidIdentity,
        Code::DuplicateName,
        Code::UnknownPeerKernel,
        Code::UnknownPeerGuest,
        Code::NoPeerGuestMatches,
        Code::UnknownPeerTerminal,
        Code::PeerTargetNotInput,
        Code::NotOffered,
        Code::RouteTypeMismatch,
        Code::InputRoutedTwice,
        Code::OfferedInputHasProducer,
        Code::Cycle,
        Code::UnconnectedInput,
        Code::UnconnectedOutput,
        Code::UnusedServer,
    ];

    /// The code as printed: `E0301`, `W0701`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::Syntax => "E0001",
            Code::Schema => "E0002",
            Code::UnknownServerType => "E0101",
            Code::UnknownServer => "E0102",
            Code::UnknownTerminal => "E0103",
            Code::BadEndpoint => "E0104",
            Code::BadConfig => "E0105",
            Code::MissingConfig => "E0106",
            Code::SourceNotOutput => "E0201",
            Code::TargetNotInput => "E0202",
            Code::FanOutWithoutMultiplexer => "E0301",
            Code::FanInWithoutCombiner => "E0302",
            Code::ManyToMany => "E0303",
            Code::TypeMismatch => "E0401",
            Code::DuplicateConnection => "E0501",
            Code::DuplicateUuid => "E0502",
            Code::InvalidIdentity => "E0503",
            Code::DuplicateName => "E0504",
            Code::UnknownPeerKernel => "E0801",
            Code::UnknownPeerGuest => "E0802",
            Code::NoPeerGuestMatches => "E0803",
            Code::UnknownPeerTerminal => "E0804",
            Code::PeerTargetNotInput => "E0805",
            Code::NotOffered => "E0806",
            Code::RouteTypeMismatch => "E0807",
            Code::InputRoutedTwice => "E0808",
            Code::OfferedInputHasProducer => "E0809",
            Code::Cycle => "W0601",
            Code::UnconnectedInput => "W0701",
            Code::UnconnectedOutput => "W0702",
            Code::UnusedServer => "W0703",
        }
    }

    /// The lint's name, as used in `[lints]`.
    pub const fn name(self) -> &'static str {
        match self {
            Code::Syntax => "syntax",
            Code::Schema => "schema",
            Code::UnknownServerType => "unknown-server-type",
            Code::UnknownServer => "unknown-server",
            Code::UnknownTerminal => "unknown-terminal",
            Code::BadEndpoint => "bad-endpoint",
            Code::BadConfig => "bad-config",
            Code::MissingConfig => "missing-config",
            Code::SourceNotOutput => "source-not-output",
            Code::TargetNotInput => "target-not-input",
            Code::FanOutWithoutMultiplexer => "fan-out-without-multiplexer",
            Code::FanInWithoutCombiner => "fan-in-without-combiner",
            Code::ManyToMany => "many-to-many",
            Code::TypeMismatch => "type-mismatch",
            Code::DuplicateConnection => "duplicate-connection",
            Code::DuplicateUuid => "duplicate-uuid",
            Code::InvalidIdentity => "invalid-identity",
            Code::DuplicateName => "duplicate-name",
            Code::UnknownPeerKernel => "unknown-peer-kernel",
            Code::UnknownPeerGuest => "unknown-peer-guest",
            Code::NoPeerGuestMatches => "no-peer-guest-matches",
            Code::UnknownPeerTerminal => "unknown-peer-terminal",
            Code::PeerTargetNotInput => "peer-target-not-input",
            Code::NotOffered => "not-offered",
            Code::RouteTypeMismatch => "route-type-mismatch",
            Code::InputRoutedTwice => "input-routed-twice",
            Code::OfferedInputHasProducer => "offered-input-has-producer",
            Code::Cycle => "cycle",
            Code::UnconnectedInput => "unconnected-input",
            Code::UnconnectedOutput => "unconnected-output",
            Code::UnusedServer => "unused-server",
        }
    }

    /// W-codes can be set in `[lints]`; E-codes are always errors.
    pub const fn is_lint(self) -> bool {
        matches!(
            self,
            Code::Cycle | Code::UnconnectedInput | Code::UnconnectedOutput | Code::UnusedServer
        )
    }

    /// The level a finding of this code has when `[lints]` does not set it.
    pub const fn default_level(self) -> Level {
        if self.is_lint() {
            Level::Warning
        } else {
            Level::Error
        }
    }

    /// The code whose name or code text is `text` (`"cycle"` or `"W0601"`).
    pub fn from_name(text: &str) -> Option<Code> {
        Code::ALL
            .into_iter()
            .find(|c| c.name() == text || c.as_str() == text)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Fails the build (every E-code; a W-code set to `deny`).
    Error,
    /// Printed; the build goes on.
    Warning,
}

impl Level {
    /// `error` or `warning`, as diagnostics print it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
