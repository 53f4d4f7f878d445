//! What `#[derive(Manifest)]` declares about a server: identity and terminals.

use crate::lint::Code;

/// Whether a server requires its peers to authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Auth {
    /// Peers must authenticate (`#[manifest(auth = "yes")]`).
    Yes,
    /// No authentication (the default).
    No,
    /// Authentication is offered but not required.
    Optional,
}

impl Auth {
    /// The spelling used in manifests, wiring files and guest identities.
    pub const fn as_str(self) -> &'static str {
        match self {
            Auth::Yes => "yes",
            Auth::No => "no",
            Auth::Optional => "optional",
        }
    }
}

/// The four terminal kinds; a terminal field's type declares which one it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TerminalKind {
    /// `Input<T>`: exactly one producer.
    Input,
    /// `Output<T>`: exactly one consumer.
    Output,
    /// `Multiplex<T>`: fan-out, every consumer receives every message.
    Multiplex,
    /// `Combine<T>`: fan-in, the union of all producers' messages.
    Combine,
}

impl TerminalKind {
    /// True for the kinds that send (`Output`, `Multiplex`).
    pub const fn is_producer(self) -> bool {
        matches!(self, TerminalKind::Output | TerminalKind::Multiplex)
    }

    /// The Rust type name of the kind, as written in a server struct.
    pub const fn type_name(self) -> &'static str {
        match self {
            TerminalKind::Input => "Input",
            TerminalKind::Output => "Output",
            TerminalKind::Multiplex => "Multiplex",
            TerminalKind::Combine => "Combine",
        }
    }

    /// How many peers the kind takes at most: one for `Input` and `Output`,
    /// any number for `Multiplex` (fan-out) and `Combine` (fan-in).
    pub const fn max_peers(self) -> Option<usize> {
        match self {
            TerminalKind::Input | TerminalKind::Output => Some(1),
            TerminalKind::Multiplex | TerminalKind::Combine => None,
        }
    }

    /// The kind that accepts more peers in the same direction: `Multiplex`
    /// for `Output`, `Combine` for `Input` (itself otherwise).
    pub const fn fan_kind(self) -> TerminalKind {
        match self {
            TerminalKind::Output | TerminalKind::Multiplex => TerminalKind::Multiplex,
            TerminalKind::Input | TerminalKind::Combine => TerminalKind::Combine,
        }
    }
}

/// A wiring rule a connection breaks: the direction and fan rules shared by
/// the build-time lint (`wiring-build`) and live modification (the control
/// surface), written once here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleViolation {
    /// E0201: the producing side is an `Input` or `Combine`.
    SourceNotOutput {
        /// The kind the producing side has.
        kind: TerminalKind,
    },
    /// E0202: the consuming side is an `Output` or `Multiplex`.
    TargetNotInput {
        /// The kind the consuming side has.
        kind: TerminalKind,
    },
    /// E0301: an `Output` would have more than one consumer.
    FanOutWithoutMultiplexer {
        /// How many consumers it would have.
        consumers: usize,
    },
    /// E0302: an `Input` would have more than one producer.
    FanInWithoutCombiner {
        /// How many producers it would have.
        producers: usize,
    },
    /// E0303: several producers connected to several consumers at once.
    ManyToMany {
        /// How many producers.
        producers: usize,
        /// How many consumers.
        consumers: usize,
    },
}

impl RuleViolation {
    /// The lint code: E0201, E0202, E0301, E0302 or E0303.
    pub const fn code(self) -> Code {
        match self {
            RuleViolation::SourceNotOutput { .. } => Code::SourceNotOutput,
            RuleViolation::TargetNotInput { .. } => Code::TargetNotInput,
            RuleViolation::FanOutWithoutMultiplexer { .. } => Code::FanOutWithoutMultiplexer,
            RuleViolation::FanInWithoutCombiner { .. } => Code::FanInWithoutCombiner,
            RuleViolation::ManyToMany { .. } => Code::ManyToMany,
        }
    }
}

impl std::fmt::Display for RuleViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            RuleViolation::SourceNotOutput { kind } => write!(
                f,
                "the source is an `{}`; `from` must name an `Output` or `Multiplex` terminal",
                kind.type_name()
            ),
            RuleViolation::TargetNotInput { kind } => write!(
                f,
                "the target is an `{}`; `to` must name an `Input` or `Combine` terminal",
                kind.type_name()
            ),
            RuleViolation::FanOutWithoutMultiplexer { consumers } => write!(
                f,
                "an `Output` would have {consumers} consumers; only a `Multiplex` fans out"
            ),
            RuleViolation::FanInWithoutCombiner { producers } => write!(
                f,
                "an `Input` would have {producers} producers; only a `Combine` fans in"
            ),
            RuleViolation::ManyToMany {
                producers,
                consumers,
            } => write!(
                f,
                "{producers} producers to {consumers} consumers is many-to-many; \
                 connect one producer to many consumers or many producers to one consumer"
            ),
        }
    }
}

/// Direction rule: `from` must send, `to` must receive (E0201, E0202).
pub const fn check_direction(from: TerminalKind, to: TerminalKind) -> Result<(), RuleViolation> {
    if !from.is_producer() {
        return Err(RuleViolation::SourceNotOutput { kind: from });
    }
    if to.is_producer() {
        return Err(RuleViolation::TargetNotInput { kind: to });
    }
    Ok(())
}

/// Fan rule: may a terminal of `kind` have `peers` peers in total (E0301,
/// E0302)? Zero peers is allowed (an unconnected terminal is a warning).
pub const fn check_fan(kind: TerminalKind, peers: usize) -> Result<(), RuleViolation> {
    match kind.max_peers() {
        Some(max) if peers > max => Err(match kind {
            TerminalKind::Output | TerminalKind::Multiplex => {
                RuleViolation::FanOutWithoutMultiplexer { consumers: peers }
            }
            TerminalKind::Input | TerminalKind::Combine => {
                RuleViolation::FanInWithoutCombiner { producers: peers }
            }
        }),
        _ => Ok(()),
    }
}

/// Shape rule of one `[[connections]]` entry: lists on both sides are
/// many-to-many (E0303).
pub const fn check_shape(producers: usize, consumers: usize) -> Result<(), RuleViolation> {
    if producers > 1 && consumers > 1 {
        return Err(RuleViolation::ManyToMany {
            producers,
            consumers,
        });
    }
    Ok(())
}

/// One terminal of a server, as declared by its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerminalManifest {
    /// Wiring name (`#[terminal(name = ..)]`, default the field name).
    pub name: &'static str,
    /// `Input`, `Output`, `Multiplex` or `Combine`, from the field's type.
    pub kind: TerminalKind,
    /// The message type as written in the source, e.g. `f64` or `Vec<u8>`.
    pub message_type: &'static str,
    /// `#[terminal(doc = ..)]`, empty when absent.
    pub doc: &'static str,
}

/// A server's manifest: identity plus terminals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerManifest {
    /// `#[manifest(name = ..)]`, default the struct name in snake_case.
    pub name: &'static str,
    /// `#[manifest(class = ..)]`: the server type's class, a number its
    /// kind of server shares (printed as `0x` and 8 hex digits).
    pub class: u32,
    /// `#[manifest(owner = ..)]`: who answers for the server type.
    pub owner: &'static str,
    /// `#[manifest(auth = ..)]`, default [`Auth::No`].
    pub auth: Auth,
    /// `#[manifest(auth_mechanism = ..)]`: how peers authenticate (`none`
    /// exactly when `auth` is `No`, e.g. `hmac-sha256`).
    pub auth_mechanism: &'static str,
    /// Every terminal field, in declaration order.
    pub terminals: &'static [TerminalManifest],
}

impl ServerManifest {
    /// The terminal with this wiring name.
    pub fn terminal(&self, name: &str) -> Option<&'static TerminalManifest> {
        self.terminals.iter().find(|t| t.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TerminalKind::*;

    #[test]
    fn direction_fan_and_shape_rules() {
        assert_eq!(check_direction(Output, Input), Ok(()));
        assert_eq!(check_direction(Multiplex, Combine), Ok(()));
        assert_eq!(
            check_direction(Input, Input).map_err(RuleViolation::code),
            Err(Code::SourceNotOutput)
        );
        assert_eq!(
            check_direction(Output, Multiplex).map_err(RuleViolation::code),
            Err(Code::TargetNotInput)
        );
        assert_eq!(check_fan(Output, 1), Ok(()));
        assert_eq!(check_fan(Output, 0), Ok(()));
        assert_eq!(
            check_fan(Output, 2),
            Err(RuleViolation::FanOutWithoutMultiplexer { consumers: 2 })
        );
        assert_eq!(
            check_fan(Input, 3).map_err(RuleViolation::code),
            Err(Code::FanInWithoutCombiner)
        );
        assert_eq!(check_fan(Multiplex, 9), Ok(()));
        assert_eq!(check_fan(Combine, 9), Ok(()));
        assert_eq!(check_shape(1, 5), Ok(()));
        assert_eq!(check_shape(5, 1), Ok(()));
        assert_eq!(
            check_shape(2, 2).map_err(|v| v.code().name()),
            Err("many-to-many")
        );
        assert_eq!(Output.fan_kind(), Multiplex);
        assert_eq!(Input.fan_kind(), Combine);
        assert!(
            RuleViolation::FanOutWithoutMultiplexer { consumers: 2 }
                .to_string()
                .contains("only a `Multiplex` fans out")
        );
    }
}
