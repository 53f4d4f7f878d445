//! The two state machines of the control surface, validated in one place.
//!
//! Connections: `planned -> reserved -> connected <-> paused -> draining ->
//! closed`, with `failed` reachable from every state that is not final.
//! Servers: `booting -> running -> finished | failed | stopped`, with
//! `restarting` between runs. [`check`] is the only gate: whoever changes a
//! state asks it first, and a refused transition changes nothing.

use std::fmt;

pub use crate::connectome::ServerState;

/// Life-cycle state of one connection (pipe).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConnectionState {
    /// Known to the plan, nothing booked yet.
    Planned,
    /// Both terminals are booked for it.
    Reserved,
    /// Messages flow.
    Connected,
    /// The consumer takes nothing out; messages stay queued.
    Paused,
    /// No new messages enter; the consumer empties what is queued.
    Draining,
    /// Gone for good, nothing left in it.
    Closed,
    /// Gone for good after an error; see the event's cause.
    Failed,
}

/// A state of one of the two machines.
pub trait Machine: Copy + Eq + fmt::Debug + 'static {
    /// What the machine is about, for messages: `connection`, `server`.
    const WHAT: &'static str;
    /// Every state, in table order.
    const ALL: &'static [Self];
    /// Row and column of the state in [`Machine::TABLE`].
    fn index(self) -> usize;
    /// `TABLE[from][to]`: may a subject in `from` go to `to`?
    const TABLE: &'static [&'static [bool]];
    /// The lowercase name used in APIs and events.
    fn as_str(self) -> &'static str;
    /// Parses [`as_str`](Self::as_str).
    fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.as_str() == text)
    }
}

const T: bool = true;
const F: bool = false;

impl Machine for ConnectionState {
    const WHAT: &'static str = "connection";
    const ALL: &'static [Self] = &[
        ConnectionState::Planned,
        ConnectionState::Reserved,
        ConnectionState::Connected,
        ConnectionState::Paused,
        ConnectionState::Draining,
        ConnectionState::Closed,
        ConnectionState::Failed,
    ];
    #[rustfmt::skip]
    const TABLE: &'static [&'static [bool]] = &[
        //             planned reserved connected paused draining closed failed
        /* planned   */ &[F,    T,       F,        F,     F,       T,     T],
        /* reserved  */ &[F,    F,       T,        F,     F,       T,     T],
        /* connected */ &[F,    F,       F,        T,     T,       F,     T],
        /* paused    */ &[F,    F,       T,        F,     T,       F,     T],
        /* draining  */ &[F,    F,       F,        F,     F,       T,     T],
        /* closed    */ &[F,    F,       F,        F,     F,       F,     F],
        /* failed    */ &[F,    F,       F,        F,     F,       F,     F],
    ];
    fn index(self) -> usize {
        self as usize
    }
    fn as_str(self) -> &'static str {
        ConnectionState::as_str(self)
    }
}

impl ConnectionState {
    /// The lowercase name used in APIs and events.
    pub const fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Planned => "planned",
            ConnectionState::Reserved => "reserved",
            ConnectionState::Connected => "connected",
            ConnectionState::Paused => "paused",
            ConnectionState::Draining => "draining",
            ConnectionState::Closed => "closed",
            ConnectionState::Failed => "failed",
        }
    }

    /// True for `closed` and `failed`.
    pub const fn is_final(self) -> bool {
        matches!(self, ConnectionState::Closed | ConnectionState::Failed)
    }

    /// True while the connection counts as a peer of its terminals
    /// (`reserved`, `connected`, `paused`, `draining`).
    pub const fn holds_terminals(self) -> bool {
        matches!(
            self,
            ConnectionState::Reserved
                | ConnectionState::Connected
                | ConnectionState::Paused
                | ConnectionState::Draining
        )
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl Machine for ServerState {
    const WHAT: &'static str = "server";
    const ALL: &'static [Self] = &[
        ServerState::Booting,
        ServerState::Running,
        ServerState::Finished,
        ServerState::Failed,
        ServerState::Restarting,
        ServerState::Stopped,
    ];
    #[rustfmt::skip]
    const TABLE: &'static [&'static [bool]] = &[
        //              booting running finished failed restarting stopped
        /* booting    */ &[F,     T,      F,       T,     T,         T],
        /* running    */ &[F,     F,      T,       T,     T,         T],
        // An ended server leaves its state only when an operator restarts
        // it (the kernel builds it afresh).
        /* finished   */ &[F,     F,      F,       F,     T,         F],
        /* failed     */ &[F,     F,      F,       F,     T,         F],
        /* restarting */ &[T,     F,      F,       T,     F,         T],
        /* stopped    */ &[F,     F,      F,       F,     T,         F],
    ];
    fn index(self) -> usize {
        self.to_u8() as usize
    }
    fn as_str(self) -> &'static str {
        ServerState::as_str(self)
    }
}

/// A transition the table forbids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} `{subject}` cannot go from `{from}` to `{to}`")]
pub struct TransitionError {
    /// `connection` or `server`.
    pub what: &'static str,
    /// Server name or connection id.
    pub subject: String,
    /// The state it is in.
    pub from: &'static str,
    /// The state asked for.
    pub to: &'static str,
}

/// May `from` become `to`? The only gate for both machines.
pub fn allowed<S: Machine>(from: S, to: S) -> bool {
    S::TABLE
        .get(from.index())
        .and_then(|row| row.get(to.index()))
        .copied()
        .unwrap_or(false)
}

/// [`allowed`] as a `Result` naming the subject.
pub fn check<S: Machine>(subject: &str, from: S, to: S) -> Result<(), TransitionError> {
    if allowed(from, to) {
        Ok(())
    } else {
        Err(TransitionError {
            what: S::WHAT,
            subject: subject.to_owned(),
            from: from.as_str(),
            to: to.as_str(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_square_and_final_states_are_dead_ends() {
        fn square<S: Machine>() {
            assert_eq!(S::TABLE.len(), S::ALL.len());
            for (i, (row, s)) in S::TABLE.iter().zip(S::ALL).enumerate() {
                assert_eq!(row.len(), S::ALL.len());
                assert_eq!(s.index(), i);
                assert!(!row[i], "{s:?} -> itself is not a transition");
                assert_eq!(S::parse(s.as_str()), Some(*s));
            }
        }
        square::<ConnectionState>();
        square::<ServerState>();
        for s in ConnectionState::ALL {
            let leaves = ConnectionState::ALL.iter().any(|t| allowed(*s, *t));
            assert_eq!(!leaves, s.is_final(), "{s:?}");
            if !s.is_final() {
                assert!(allowed(*s, ConnectionState::Failed), "{s:?} -> failed");
            }
        }
        for s in ServerState::ALL {
            // An ended server leaves only when an operator restarts it.
            let leaves = ServerState::ALL
                .iter()
                .any(|t| *t != ServerState::Restarting && allowed(*s, *t));
            assert_eq!(!leaves, s.is_final(), "{s:?}");
        }
    }

    #[test]
    fn the_documented_path_is_allowed() {
        use ConnectionState::*;
        for (a, b) in [
            (Planned, Reserved),
            (Reserved, Connected),
            (Connected, Paused),
            (Paused, Connected),
            (Paused, Draining),
            (Connected, Draining),
            (Draining, Closed),
        ] {
            assert!(allowed(a, b), "{a} -> {b}");
        }
        let e = check("x", Closed, Connected).unwrap_err();
        assert_eq!(
            e.to_string(),
            "connection `x` cannot go from `closed` to `connected`"
        );
        assert!(check("s", ServerState::Running, ServerState::Restarting).is_ok());
        assert!(check("s", ServerState::Finished, ServerState::Running).is_err());
    }
}
