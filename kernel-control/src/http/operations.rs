//! What the JSON API and the MCP tools both do: every query and
//! modification once, answering a value or an [`ApiError`] (the HTTP status
//! and message a refusal gets over either).

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::topology::{ConnectionView, ProcessView, ServerView, Snapshot};
use kernel_core::control::events::{Event, EventLog, Subject};
use kernel_core::control::{Control, ControlError, DisconnectMode};
use kernel_hostess::http::{
    ApiError, GrantJson, GuestJson, GuestsJson, MenuJson, ReservationsJson,
};
use kernel_hostess::{GuestMask, Hostess};

/// The HTTP status that fits a refusal: 400 for a malformed request, 404
/// for something unknown, 409 for a conflict with the live state.
fn control_status(e: &ControlError) -> StatusCode {
    match e {
        ControlError::BadRequest(_) => StatusCode::BAD_REQUEST,
        ControlError::UnknownServer { .. }
        | ControlError::UnknownProcess { .. }
        | ControlError::UnknownTerminal { .. }
        | ControlError::UnknownConnection { .. } => StatusCode::NOT_FOUND,
        _ => StatusCode::CONFLICT,
    }
}

/// A refusal of the kernel as the API answers it.
pub(crate) fn refused(e: &ControlError) -> ApiError {
    ApiError::new(control_status(e), e.to_string())
}

/// A connection id; an id that is not a UUID names no connection.
pub(crate) fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id.trim())
        .map_err(|_| refused(&ControlError::UnknownConnection { id: id.to_owned() }))
}

/// One server instance.
pub(crate) fn server(control: &Control, name: &str) -> Result<ServerView, ApiError> {
    control
        .topology()
        .servers
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| {
            refused(&ControlError::UnknownServer {
                server: name.to_owned(),
            })
        })
}

/// One external process.
pub(crate) fn process(control: &Control, name: &str) -> Result<ProcessView, ApiError> {
    control
        .topology()
        .processes
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| {
            refused(&ControlError::UnknownProcess {
                process: name.to_owned(),
            })
        })
}

/// One connection.
pub(crate) fn connection(control: &Control, id: &str) -> Result<ConnectionView, ApiError> {
    let unknown = || refused(&ControlError::UnknownConnection { id: id.to_owned() });
    let id = parse_id(id).map_err(|_| unknown())?;
    view_of(control, id).ok_or_else(unknown)
}

fn view_of(control: &Control, id: Uuid) -> Option<ConnectionView> {
    let id = id.to_string();
    control
        .topology()
        .connections
        .into_iter()
        .find(|c| c.id == id)
}

/// The connection's view right after a modification; it may have ended
/// meanwhile (410).
fn after(control: &Control, id: Uuid) -> Result<ConnectionView, ApiError> {
    view_of(control, id)
        .ok_or_else(|| ApiError::new(StatusCode::GONE, format!("connection {id} is gone already")))
}

/// Connects `from` to `to` (`server.terminal`), with the producer
/// terminal's capacity unless one is given.
pub(crate) fn connect(
    control: &Control,
    from: &str,
    to: &str,
    capacity: Option<usize>,
) -> Result<ConnectionView, ApiError> {
    let id = control
        .connect(from, to, capacity)
        .map_err(|e| refused(&e))?;
    after(control, id)
}

/// Pauses a connection.
pub(crate) fn pause(control: &Control, id: &str) -> Result<ConnectionView, ApiError> {
    let id = parse_id(id)?;
    control.pause(id).map_err(|e| refused(&e))?;
    after(control, id)
}

/// Resumes a paused connection.
pub(crate) fn resume(control: &Control, id: &str) -> Result<ConnectionView, ApiError> {
    let id = parse_id(id)?;
    control.resume(id).map_err(|e| refused(&e))?;
    after(control, id)
}

/// What a disconnect did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Disconnected {
    #[schema(value_type = Uuid)]
    id: String,
    /// `draining` until the queue is delivered, or `closed`.
    state: String,
    /// Messages queued when it was disconnected.
    queued: u64,
    /// Messages discarded (mode `drop`).
    dropped: u64,
}

/// Disconnects a connection, delivering or discarding what is queued.
pub(crate) fn disconnect(
    control: &Control,
    id: &str,
    mode: DisconnectMode,
) -> Result<Disconnected, ApiError> {
    let id = parse_id(id)?;
    let d = control.disconnect(id, mode).map_err(|e| refused(&e))?;
    Ok(Disconnected {
        id: d.id.to_string(),
        state: d.state.as_str().to_owned(),
        queued: d.queued,
        dropped: d.dropped,
    })
}

/// Asks a server to restart.
pub(crate) fn restart(control: &Control, name: &str) -> Result<ServerView, ApiError> {
    control.restart(name).map_err(|e| refused(&e))?;
    server(control, name)
}

/// Asks a server to stop for good.
pub(crate) fn stop(control: &Control, name: &str) -> Result<ServerView, ApiError> {
    control.stop(name).map_err(|e| refused(&e))?;
    server(control, name)
}

/// The beacon, as `GET /api/v1/probe` shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProbeJson {
    /// Its listeners, the ports it skipped, the last probe report
    /// (candidates and address/port matrix) and the verified candidates,
    /// best first; null when the kernel runs no beacon.
    #[schema(value_type = Option<Object>)]
    beacon: Value,
}

#[cfg(feature = "mesh")]
fn to_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The kernel's beacon.
pub(crate) fn probe(control: &Control) -> ProbeJson {
    #[cfg(feature = "mesh")]
    let beacon = to_value(&kernel_mesh::MeshExt::probe_status(control.connectome()));
    #[cfg(not(feature = "mesh"))]
    let beacon = {
        let _ = control;
        Value::Null
    };
    ProbeJson { beacon }
}

/// The neighbour table, as `GET /api/v1/neighbours` shows it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct NeighboursJson {
    /// Where this kernel listens for adverts; null when it sends none.
    adverts: Option<String>,
    /// Peer kernels heard from: identity, TTL, sequence, control address,
    /// classes, candidates, source, first and last seen.
    #[schema(value_type = Vec<Object>)]
    neighbours: Vec<Value>,
}

/// Peer kernels heard from by capability adverts.
pub(crate) fn neighbours(control: &Control) -> NeighboursJson {
    #[cfg(feature = "mesh")]
    {
        use kernel_mesh::MeshExt as _;
        let connectome = control.connectome();
        NeighboursJson {
            adverts: connectome.adverts_addr().map(|a| a.to_string()),
            neighbours: connectome
                .neighbours()
                .unwrap_or_default()
                .iter()
                .map(to_value)
                .collect(),
        }
    }
    #[cfg(not(feature = "mesh"))]
    {
        let _ = control;
        NeighboursJson {
            adverts: None,
            neighbours: Vec::new(),
        }
    }
}

/// One transition of the event log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct EventJson {
    pub(crate) seq: u64,
    /// Milliseconds since the Unix epoch.
    pub(crate) at_ms: u64,
    /// `server`, `connection` or `process`.
    pub(crate) subject: &'static str,
    /// The server's or process's name, or the connection's id.
    pub(crate) id: String,
    /// For a connection: `from -> to`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) label: Option<String>,
    pub(crate) from: &'static str,
    pub(crate) to: &'static str,
    /// Why; when `from` equals `to` the event is a line a process wrote:
    /// `stdout: ...` or `stderr: ...`.
    pub(crate) cause: String,
}

impl From<&Event> for EventJson {
    fn from(e: &Event) -> Self {
        let label = match &e.subject {
            Subject::Connection { label, .. } => Some(label.to_string()),
            _ => None,
        };
        EventJson {
            seq: e.seq,
            at_ms: e.at_ms,
            subject: e.subject.kind(),
            id: e.subject.id(),
            label,
            from: e.from,
            to: e.to,
            cause: e.cause.to_string(),
        }
    }
}

/// The event log as JSON.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EventsJson {
    /// Events the bounded log forgot before they were asked for.
    pub(crate) missed: u64,
    pub(crate) events: Vec<EventJson>,
}

/// Which events of the log to read.
#[derive(Debug, Default)]
pub(crate) struct EventFilter<'a> {
    /// Only events after this sequence number.
    pub(crate) since: u64,
    /// Only events about this kind of subject: `server`, `connection`,
    /// `process`.
    pub(crate) subject: Option<&'a str>,
    /// Only events whose subject's name or id, or connection label,
    /// contains this text.
    pub(crate) about: Option<&'a str>,
    /// At most this many, the newest.
    pub(crate) limit: Option<usize>,
}

/// The events of `log` that `filter` lets through, oldest first.
pub(crate) fn events(log: &EventLog, filter: &EventFilter<'_>) -> EventsJson {
    let since = log.since(filter.since);
    let mut events: Vec<EventJson> = since
        .events
        .iter()
        .filter(|e| filter.subject.is_none_or(|s| e.subject.kind() == s))
        .map(EventJson::from)
        .filter(|e| {
            filter.about.is_none_or(|text| {
                e.id.contains(text) || e.label.as_deref().is_some_and(|l| l.contains(text))
            })
        })
        .collect();
    if let Some(limit) = filter.limit {
        let skip = events.len().saturating_sub(limit);
        events.drain(..skip);
    }
    EventsJson {
        missed: since.missed,
        events,
    }
}

/// Guests matching `mask` (every guest when absent or empty); with `count`,
/// exactly that many or a 409 saying how many match.
pub(crate) fn guests(
    hostess: &Hostess,
    mask: Option<&str>,
    count: Option<usize>,
) -> Result<GuestsJson, ApiError> {
    let mask = match mask.map(str::trim) {
        None | Some("") => GuestMask::any(),
        Some(text) => GuestMask::parse(text)
            .map_err(|e| ApiError::bad_request(kernel_hostess::mask::mask_message(&e)))?,
    };
    let found = hostess.query(&mask, count)?;
    Ok(GuestsJson {
        guests: found.iter().map(GuestJson::from).collect(),
    })
}

/// Availability by class and owner.
pub(crate) fn menu(hostess: &Hostess) -> MenuJson {
    MenuJson::from(&hostess.menu())
}

/// The live reservations.
pub(crate) fn reservations(hostess: &Hostess) -> ReservationsJson {
    let now = hostess.now();
    ReservationsJson {
        reservations: hostess
            .reservations()
            .iter()
            .map(|g| GrantJson::new(g, now))
            .collect(),
    }
}
