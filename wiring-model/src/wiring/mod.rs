//! `wiring.toml`, read and written in one place: the document model with
//! byte spans ([`Wiring`]), the reader that fills it and reports every schema
//! problem ([`parse`]), and the writer that turns a model back into text,
//! editing the text it was read from so that comments and layout stay
//! ([`write`]).

mod read;
mod write;

use std::ops::Range;

use crate::lint::{Code, Level};
use crate::spec::{DEFAULT_CAPACITY, Encoding, Restart};

pub use read::parse;
pub use write::write;

/// A byte range in the wiring file.
pub type Span = Range<usize>;

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value as read.
    pub value: T,
    /// Where it was written: a byte range of the wiring file's text.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// `value`, written at `span`.
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }

    /// A value that was not read from a file (made for writing).
    pub fn unplaced(value: T) -> Self {
        Spanned { value, span: 0..0 }
    }
}

/// What the parser understood of a wiring file. Entries with schema errors are
/// kept as far as they are understood, so later lints do not cascade.
#[derive(Debug, Clone, Default)]
pub struct Wiring {
    /// `[kernel]`.
    pub kernel: Kernel,
    /// `[control]`.
    pub control: Control,
    /// `[lints]`, in file order (a later entry for the same code wins).
    pub lints: Vec<LintSetting>,
    /// `[servers.<name>]`, in file order.
    pub servers: Vec<Server>,
    /// `[processes.<name>]`, in file order.
    pub processes: Vec<Process>,
    /// `[[connections]]`, in file order.
    pub connections: Vec<Connection>,
    /// `[mesh]`; `None` when absent.
    pub mesh: Option<Mesh>,
    /// `[[routes]]`, in file order.
    pub routes: Vec<Route>,
}

impl Wiring {
    /// The `[servers.<name>]` entry named `name`.
    pub fn server(&self, name: &str) -> Option<&Server> {
        self.servers.iter().find(|s| s.name.value == name)
    }

    /// The level `[lints]` gives `code` (`None`: allowed), or its default.
    pub fn level(&self, code: Code) -> Option<Level> {
        self.lints
            .iter()
            .rev()
            .find(|l| l.code == code)
            .map_or(Some(code.default_level()), |l| l.level)
    }

    /// The `[lints]` entry that sets `code`, if any.
    pub fn lint_setting(&self, code: Code) -> Option<&LintSetting> {
        self.lints.iter().rev().find(|l| l.code == code)
    }
}

/// `[kernel]`.
#[derive(Debug, Clone, Default)]
pub struct Kernel {
    /// `name`; `None` when missing or invalid (already reported).
    pub name: Option<Spanned<String>>,
    /// `fqdn`; `None` when absent ([`Kernel::DEFAULT_FQDN`]) or invalid.
    pub fqdn: Option<Spanned<String>>,
    /// `owner`; `None` when absent ([`Kernel::DEFAULT_OWNER`]).
    pub owner: Option<Spanned<String>>,
}

impl Kernel {
    /// The `fqdn` of a kernel whose wiring gives none.
    pub const DEFAULT_FQDN: &'static str = "localhost";
    /// The `owner` of a kernel whose wiring gives none.
    pub const DEFAULT_OWNER: &'static str = "unknown";

    /// `fqdn`, or [`Kernel::DEFAULT_FQDN`].
    pub fn fqdn(&self) -> &str {
        self.fqdn
            .as_ref()
            .map_or(Self::DEFAULT_FQDN, |f| f.value.as_str())
    }

    /// `owner`, or [`Kernel::DEFAULT_OWNER`].
    pub fn owner(&self) -> &str {
        self.owner
            .as_ref()
            .map_or(Self::DEFAULT_OWNER, |o| o.value.as_str())
    }
}

/// `[control]`: where the control surface serves.
#[derive(Debug, Clone, Default)]
pub struct Control {
    /// `listen`, a socket address `ip:port` as written; `None` when missing
    /// or invalid (already reported).
    pub listen: Option<Spanned<String>>,
}

/// One `[lints]` entry for a W-code.
#[derive(Debug, Clone)]
pub struct LintSetting {
    /// The W-code it sets.
    pub code: Code,
    /// `None` for `"allow"`.
    pub level: Option<Level>,
    /// The whole `name = "level"` text, for notes.
    pub text: String,
}

/// `[servers.<name>]`.
#[derive(Debug, Clone)]
pub struct Server {
    /// The instance name, spanned on its key.
    pub name: Spanned<String>,
    /// The span of the server's table (its header for a `[servers.x]` table).
    pub span: Span,
    /// `type`, with a leading `crate::` removed.
    pub ty: Option<Spanned<String>>,
    /// `config` as a TOML table.
    pub config: Option<Spanned<toml::Table>>,
    /// `uuid` as written; `None` for the default (see [`crate::server_uuid`]).
    pub uuid: Option<Spanned<String>>,
    /// `restart`; [`Restart::Never`] when absent.
    pub restart: Restart,
    /// `fuse = false` keeps a transform on its own thread; default `true`.
    pub fuse: bool,
}

/// `[processes.<name>]`: an external program the executor supervises.
#[derive(Debug, Clone)]
pub struct Process {
    /// The process name, spanned on its key.
    pub name: Spanned<String>,
    /// The span of the process's table.
    pub span: Span,
    /// `command`; `None` when missing or invalid (already reported).
    pub command: Option<Spanned<String>>,
    /// `args`, in order.
    pub args: Vec<String>,
    /// `env`, in file order.
    pub env: Vec<(String, String)>,
    /// `restart`; [`Restart::Never`] when absent.
    pub restart: Restart,
}

/// One side of a connection: one endpoint or a list.
#[derive(Debug, Clone)]
pub struct Side {
    /// The span of the value (`"a.b"` or `["a.b", "c.d"]`).
    pub span: Span,
    /// True when written as an array (`["a.b"]`), even of one endpoint.
    pub list: bool,
    /// The endpoints (`server.terminal` texts), in order.
    pub endpoints: Vec<Spanned<String>>,
}

/// `[[connections]]`.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The span of the entry (its `[[connections]]` header).
    pub span: Span,
    /// `None` when missing or malformed (already reported).
    pub from: Option<Side>,
    /// `to`; `None` when missing or malformed (already reported).
    pub to: Option<Side>,
    /// `capacity`: messages the pipe holds at most; [`DEFAULT_CAPACITY`]
    /// when absent.
    pub capacity: usize,
    /// `tap = true`: the control surface may show the messages flowing
    /// through the connection's pipes (their type must implement
    /// `serde::Serialize`).
    pub tap: bool,
}

impl Connection {
    /// A connection made for writing: one endpoint or a list on each side.
    pub fn new(from: &[&str], to: &[&str], capacity: usize) -> Self {
        let side = |endpoints: &[&str]| Side {
            span: 0..0,
            list: endpoints.len() != 1,
            endpoints: endpoints
                .iter()
                .map(|e| Spanned::unplaced((*e).to_string()))
                .collect(),
        };
        Connection {
            span: 0..0,
            from: Some(side(from)),
            to: Some(side(to)),
            capacity,
            tap: false,
        }
    }

    /// Each producer-consumer pair of the connection, as `server.terminal` texts.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        fn endpoints(side: &Option<Side>) -> &[Spanned<String>] {
            side.as_ref()
                .map(|s| s.endpoints.as_slice())
                .unwrap_or_default()
        }
        let (from, to) = (endpoints(&self.from), endpoints(&self.to));
        from.iter()
            .flat_map(move |f| to.iter().map(move |t| (f.value.as_str(), t.value.as_str())))
    }
}

/// `[mesh]`: how this kernel joins the mesh of kernels.
#[derive(Debug, Clone, Default)]
pub struct Mesh {
    /// The span of the `[mesh]` table.
    pub span: Span,
    /// `listen`: Zenoh endpoints of this kernel (`tcp/127.0.0.1:7447`).
    pub listen: Vec<Spanned<String>>,
    /// `peers`: Zenoh endpoints of peer kernels.
    pub peers: Vec<Spanned<String>>,
    /// `offer`: local input terminals (`server.terminal`) peers may route into.
    pub offer: Vec<Spanned<String>>,
}

/// `[[routes]]`.
#[derive(Debug, Clone)]
pub struct Route {
    /// The span of the entry (its `[[routes]]` header).
    pub span: Span,
    /// The span of its `to` value.
    pub to_span: Option<Span>,
    /// `from`: the local producing terminal (`server.terminal`); `None` when
    /// missing or malformed (already reported).
    pub from: Option<Spanned<String>>,
    /// `to.guest`: one exact remote guest identity.
    pub guest: Option<Spanned<String>>,
    /// `to.mask`: whichever remote guest matches, booked when the route opens.
    pub mask: Option<Spanned<String>>,
    /// `to.terminal`: the remote server's input terminal.
    pub terminal: Option<Spanned<String>>,
    /// `capacity`: the credit window.
    pub capacity: usize,
    /// `encoding`: postcard (the default) or JSON on the wire.
    pub encoding: Encoding,
}

impl Route {
    /// A route made for writing, to an exact guest.
    pub fn to_guest(from: &str, guest: &str, terminal: &str) -> Self {
        Route {
            span: 0..0,
            to_span: None,
            from: Some(Spanned::unplaced(from.to_string())),
            guest: Some(Spanned::unplaced(guest.to_string())),
            mask: None,
            terminal: Some(Spanned::unplaced(terminal.to_string())),
            capacity: DEFAULT_CAPACITY,
            encoding: Encoding::default(),
        }
    }
}

/// `server.terminal`, split; `None` when the text is not of that shape.
pub fn split_endpoint(text: &str) -> Option<(&str, &str)> {
    let (server, terminal) = text.split_once('.')?;
    if server.is_empty() || terminal.is_empty() || terminal.contains('.') {
        return None;
    }
    Some((server, terminal))
}

/// `[a-z0-9_]+`: instance and terminal names.
pub fn is_instance_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// `[a-z0-9_-]+`: kernel names.
pub fn is_kernel_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}
