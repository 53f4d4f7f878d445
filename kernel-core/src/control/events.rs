//! The bounded log of every state transition.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use uuid::Uuid;

/// Default number of events the log keeps.
pub const DEFAULT_LOG_CAPACITY: usize = 4096;

/// What a transition is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A server instance, by name.
    Server(&'static str),
    /// A connection: its id and `from -> to`.
    Connection {
        /// The connection's pipe id.
        id: Uuid,
        /// `server.terminal -> server.terminal`.
        label: String,
    },
    /// An external process, by name.
    Process(String),
    /// A route to or from another kernel: its id and `from -> to`.
    Route {
        /// The route's id (UUID v5 of the kernel, its source and target).
        id: Uuid,
        /// `server.terminal -> target.terminal`.
        label: String,
    },
}

impl Subject {
    /// `server`, `connection`, `process` or `route`.
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::Server(_) => "server",
            Subject::Connection { .. } => "connection",
            Subject::Process(_) => "process",
            Subject::Route { .. } => "route",
        }
    }

    /// The server or process name, or the connection or route id.
    pub fn id(&self) -> String {
        match self {
            Subject::Server(name) => (*name).to_owned(),
            Subject::Connection { id, .. } | Subject::Route { id, .. } => id.to_string(),
            Subject::Process(name) => name.clone(),
        }
    }
}

/// One transition, or a note: an event whose `from` equals `to` is a line
/// an external process wrote (`cause` starts with `stdout: ` or `stderr: `).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Strictly increasing, from 1.
    pub seq: u64,
    /// Milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// The server, connection, process or route that changed.
    pub subject: Subject,
    /// The state before (`running`, `active`, `connected`, ...).
    pub from: &'static str,
    /// The state after; equal to `from` for a note.
    pub to: &'static str,
    /// Why: `boot`, `operator`, `producer finished`, an error message, ...
    pub cause: String,
}

struct Ring {
    events: VecDeque<Event>,
    next: u64,
}

/// Keeps the last `capacity` events; older ones are forgotten (a reader
/// that asks for them is told how many it missed).
pub struct EventLog {
    ring: Mutex<Ring>,
    capacity: usize,
}

impl std::fmt::Debug for EventLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLog")
            .field("capacity", &self.capacity)
            .field("last_seq", &self.last_seq())
            .finish()
    }
}

impl Default for EventLog {
    fn default() -> Self {
        EventLog::new(DEFAULT_LOG_CAPACITY)
    }
}

/// Events after a sequence number, and how many were already forgotten.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Since {
    /// The events after the asked sequence number that the log still has,
    /// oldest first.
    pub events: Vec<Event>,
    /// Events newer than the asked sequence number that the log no longer has.
    pub missed: u64,
}

impl EventLog {
    /// A log that keeps the last `capacity` events.
    pub fn new(capacity: usize) -> Self {
        EventLog {
            ring: Mutex::new(Ring {
                events: VecDeque::with_capacity(capacity.min(1024)),
                next: 1,
            }),
            capacity: capacity.max(1),
        }
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends one transition; returns its sequence number.
    pub(crate) fn push(
        &self,
        subject: Subject,
        from: &'static str,
        to: &'static str,
        cause: impl Into<String>,
    ) -> u64 {
        let at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        let mut ring = self.ring();
        let seq = ring.next;
        ring.next += 1;
        if ring.events.len() >= self.capacity {
            ring.events.pop_front();
        }
        ring.events.push_back(Event {
            seq,
            at_ms,
            subject,
            from,
            to,
            cause: cause.into(),
        });
        seq
    }

    /// Sequence number of the newest event, 0 when there is none.
    pub fn last_seq(&self) -> u64 {
        self.ring().next - 1
    }

    /// How many events the log keeps at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Every event it still has with `seq > after`, oldest first.
    pub fn since(&self, after: u64) -> Since {
        let ring = self.ring();
        let oldest = ring.events.front().map(|e| e.seq).unwrap_or(ring.next);
        let missed = oldest.saturating_sub(after + 1);
        Since {
            events: ring
                .events
                .iter()
                .filter(|e| e.seq > after)
                .cloned()
                .collect(),
            missed,
        }
    }

    /// The newest `n` events, oldest first.
    pub fn recent(&self, n: usize) -> Vec<Event> {
        let ring = self.ring();
        let skip = ring.events.len().saturating_sub(n);
        ring.events.iter().skip(skip).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_and_counts_what_it_forgot() {
        let log = EventLog::new(3);
        for i in 0..5 {
            log.push(
                Subject::Server("s"),
                "running",
                "restarting",
                format!("{i}"),
            );
        }
        assert_eq!(log.last_seq(), 5);
        let all = log.since(0);
        assert_eq!(
            all.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            [3, 4, 5]
        );
        assert_eq!(all.missed, 2);
        let tail = log.since(4);
        assert_eq!((tail.events.len(), tail.missed), (1, 0));
        assert_eq!(log.recent(2).len(), 2);
        assert!(log.since(5).events.is_empty());
    }
}
