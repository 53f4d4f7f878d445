//! What `#[derive(Manifest)]` declares about a server: identity and terminals.

use crate::Error;
use crate::terminal::Ports;

/// Whether a server requires its peers to authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Auth {
    Yes,
    No,
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
}

/// One terminal of a server, as declared by its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerminalManifest {
    /// Wiring name (`#[terminal(name = ..)]`, default the field name).
    pub name: &'static str,
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
    pub class: u32,
    pub owner: &'static str,
    pub auth: Auth,
    pub auth_mechanism: &'static str,
    pub terminals: &'static [TerminalManifest],
}

impl ServerManifest {
    /// The terminal with this wiring name.
    pub fn terminal(&self, name: &str) -> Option<&'static TerminalManifest> {
        self.terminals.iter().find(|t| t.name == name)
    }
}

/// Implemented by `#[derive(Manifest)]`; not meant to be written by hand.
pub trait Manifest: Send + 'static {
    const MANIFEST: ServerManifest;

    /// Hands every terminal field its pipe ends, taken from `ports` by terminal name.
    fn attach(&mut self, ports: &mut Ports) -> Result<(), Error>;
}
