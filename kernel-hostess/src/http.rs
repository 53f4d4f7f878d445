//! The Hostess's JSON API (feature `control`), mounted by the control
//! surface's server under `/api/v1/hostess`; paths here are relative to it.
//!
//! | method and path | what |
//! |---|---|
//! | `GET /guests?mask=&count=` | guests matching `mask` (default every guest), in the stable order; with `count` exactly that many, or 409 saying how many match |
//! | `GET /guests/{uuid}` | one guest |
//! | `GET /menu` | availability by class and owner, for peers |
//! | `GET /reservations` | live reservations |
//! | `POST /reservations` | reserve terminals (`terminals`) or book by masks and counts (`wants`), all or nothing; 201 |
//! | `GET /reservations/{id}` | one reservation |
//! | `POST /reservations/{id}/renew` | renew the lease |
//! | `DELETE /reservations/{id}` | release |
//!
//! A bad mask, identity or request body gives 400 with the parse error as
//! `{"error": ".."}`; taken terminals and too few guests 409; an unknown
//! reservation 404; an expired or released one 410.
//!
//! Reading is open. Modifying calls (`POST`, `DELETE`) are phone calls
//! signed by a known peer (see [`phone`]), or local
//! calls with `Authorization: Bearer <token>` when [`Api::bearer_token`] is
//! set; an [`Api`] with neither configured accepts every call (for tests and
//! for a server that authenticates in front of it).
//!
//! `POST /reservations` body:
//!
//! ```json
//! {"holder": "ops-console", "ttl_ms": 10000,
//!  "terminals": [{"guest": "6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0f", "terminal": "lines"}]}
//! {"ttl_ms": 10000, "wants": [{"mask": "*:*:0x00000a00/0x0000ff00:ops:*:*:*", "count": 4, "terminals": ["lines"]}]}
//! ```
//!
//! Leases made over HTTP always have a TTL (default [`DEFAULT_TTL`]): a
//! caller that dies releases what it held. A peer's reservations are held by
//! `peer:<name>`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use crate::phone::{self, Verifier};
use crate::{
    Booking, Grant, GuestMask, GuestStatus, Hostess, HostessError, Menu, Plan, ReservationId,
    ReserveRequest, TerminalRef, TerminalUse, Want,
};
use wiring_model::manifest::TerminalKind;

/// TTL of a lease made over HTTP without `ttl_ms`.
pub const DEFAULT_TTL: Duration = Duration::from_secs(10);

/// The API's configuration: the Hostess, and who may modify.
#[derive(Debug)]
pub struct Api {
    hostess: Hostess,
    bearer: Option<String>,
    peers: Verifier,
}

impl Api {
    pub fn new(hostess: Hostess) -> Self {
        Api {
            hostess,
            bearer: None,
            peers: Verifier::new(),
        }
    }

    /// Local modifying calls need `Authorization: Bearer <token>`.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer = Some(token.into());
        self
    }

    /// Accepts phone calls from `peer` signed with `secret`.
    pub fn peer(mut self, peer: impl Into<String>, secret: impl Into<Vec<u8>>) -> Self {
        self.peers = self.peers.peer(peer, secret);
        self
    }

    /// The routes, relative to the API root.
    pub fn router(self) -> Router {
        let api = Arc::new(self);
        Router::new()
            .route("/guests", get(guests))
            .route("/guests/{uuid}", get(guest))
            .route("/menu", get(menu))
            .route("/reservations", get(reservations).post(reserve))
            .route("/reservations/{id}", get(reservation).delete(release))
            .route("/reservations/{id}/renew", post(renew))
            .with_state(api)
    }
}

/// The routes of an open [`Api`] (every call accepted), relative to
/// `/api/v1/hostess`.
pub fn router(hostess: Hostess) -> Router {
    Api::new(hostess).router()
}

/// Serves `router` on `addr` (e.g. `127.0.0.1:0`) on a thread of its own
/// until the returned handle is dropped.
pub fn serve(router: Router, addr: SocketAddr) -> std::io::Result<Served> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    let thread = std::thread::Builder::new()
        .name("hostess-http".to_owned())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::error!("hostess API: {e}");
                        return;
                    }
                };
                let served = axum::serve(listener, router).with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                });
                if let Err(e) = served.await {
                    tracing::error!("hostess API: {e}");
                }
            });
        })?;
    Ok(Served {
        addr: local,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

/// A running server; dropping it stops the server.
#[derive(Debug)]
pub struct Served {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// ---- JSON shapes -------------------------------------------------------

/// A guest and its terminals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestJson {
    /// The canonical identity.
    pub identity: String,
    pub fqdn: String,
    pub server: String,
    /// `0x` and 8 lowercase hex digits.
    pub class: String,
    pub owner: String,
    pub auth: String,
    pub auth_mechanism: String,
    pub uuid: String,
    pub terminals: Vec<TerminalJson>,
}

/// A terminal and its use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalJson {
    pub name: String,
    /// `input`, `output`, `multiplex` or `combine`.
    pub kind: String,
    pub message_type: String,
    /// `free`, `reserved` or `in_use`.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// The connectome ids (pipe ids) it is connected under.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connectome: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestsJson {
    pub guests: Vec<GuestJson>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuJson {
    pub entries: Vec<MenuEntryJson>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuEntryJson {
    pub class: String,
    pub owner: String,
    pub guests: usize,
    pub free_guests: usize,
    pub terminals: usize,
    pub free_terminals: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerminalRefJson {
    pub guest: String,
    pub terminal: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WantJson {
    pub mask: String,
    pub count: usize,
    /// Terminal names; empty or absent: all of each guest's terminals.
    #[serde(default)]
    pub terminals: Vec<String>,
}

/// Body of `POST /reservations`: `terminals` or `wants`, not both.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReserveJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminals: Option<Vec<TerminalRefJson>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wants: Option<Vec<WantJson>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickJson {
    pub identity: String,
    pub terminals: Vec<String>,
}

/// A reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantJson {
    pub id: String,
    pub token: u64,
    pub holder: String,
    pub terminals: Vec<TerminalRefJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_ms: Option<u64>,
    /// Milliseconds until the lease expires unless renewed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_ms: Option<u64>,
    /// For a booking by wants: the guests picked for each want.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picks: Option<Vec<Vec<PickJson>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationsJson {
    pub reservations: Vec<GrantJson>,
}

/// Every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorJson {
    pub error: String,
    /// For 409 on too few guests: how many were wanted, match, and are free.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wanted: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free: Option<usize>,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn kind_name(kind: TerminalKind) -> &'static str {
    match kind {
        TerminalKind::Input => "input",
        TerminalKind::Output => "output",
        TerminalKind::Multiplex => "multiplex",
        TerminalKind::Combine => "combine",
    }
}

impl From<&GuestStatus> for GuestJson {
    fn from(g: &GuestStatus) -> Self {
        let id = &g.identity;
        GuestJson {
            identity: id.to_string(),
            fqdn: id.fqdn().to_owned(),
            server: id.server().to_owned(),
            class: format!("0x{:08x}", id.class()),
            owner: id.owner().to_owned(),
            auth: id.auth().as_str().to_owned(),
            auth_mechanism: id.auth_mechanism().to_owned(),
            uuid: id.uuid().hyphenated().to_string(),
            terminals: g
                .terminals
                .iter()
                .map(|t| {
                    let (state, reservation, token, holder, connectome) = match &t.usage {
                        TerminalUse::Free => ("free", None, None, None, Vec::new()),
                        TerminalUse::Reserved {
                            reservation,
                            token,
                            holder,
                        } => (
                            "reserved",
                            Some(reservation.to_string()),
                            Some(token.0),
                            Some(holder.clone()),
                            Vec::new(),
                        ),
                        TerminalUse::InUse {
                            reservation,
                            token,
                            holder,
                            connectome,
                        } => (
                            "in_use",
                            Some(reservation.to_string()),
                            Some(token.0),
                            Some(holder.clone()),
                            connectome
                                .iter()
                                .map(|c| c.hyphenated().to_string())
                                .collect(),
                        ),
                    };
                    TerminalJson {
                        name: t.info.name.clone(),
                        kind: kind_name(t.info.kind).to_owned(),
                        message_type: t.info.message_type.clone(),
                        state: state.to_owned(),
                        reservation,
                        token,
                        holder,
                        connectome,
                    }
                })
                .collect(),
        }
    }
}

impl From<&Menu> for MenuJson {
    fn from(m: &Menu) -> Self {
        MenuJson {
            entries: m
                .entries
                .iter()
                .map(|e| MenuEntryJson {
                    class: format!("0x{:08x}", e.class),
                    owner: e.owner.clone(),
                    guests: e.guests,
                    free_guests: e.free_guests,
                    terminals: e.terminals,
                    free_terminals: e.free_terminals,
                })
                .collect(),
        }
    }
}

impl GrantJson {
    pub fn new(grant: &Grant, now: Duration) -> Self {
        GrantJson {
            id: grant.id.to_string(),
            token: grant.token.0,
            holder: grant.holder.clone(),
            terminals: grant
                .terminals
                .iter()
                .map(|t| TerminalRefJson {
                    guest: t.guest.hyphenated().to_string(),
                    terminal: t.terminal.clone(),
                })
                .collect(),
            ttl_ms: grant.ttl.map(millis),
            expires_in_ms: grant.deadline.map(|d| millis(d.saturating_sub(now))),
            picks: None,
        }
    }

    fn booked(booking: &Booking, now: Duration) -> Self {
        let mut json = GrantJson::new(&booking.grant, now);
        json.picks = Some(
            booking
                .picks
                .iter()
                .map(|want| {
                    want.iter()
                        .map(|p| PickJson {
                            identity: p.identity.to_string(),
                            terminals: p.terminals.clone(),
                        })
                        .collect()
                })
                .collect(),
        );
        json
    }
}

// ---- handlers ----------------------------------------------------------

fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_string(value) {
        Ok(body) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    json(
        status,
        &ErrorJson {
            error: message.into(),
            wanted: None,
            found: None,
            free: None,
        },
    )
}

fn hostess_error(e: &HostessError) -> Response {
    let status = match e {
        HostessError::NotEnough { .. } | HostessError::Taken { .. } => StatusCode::CONFLICT,
        HostessError::UnknownReservation { .. } => StatusCode::NOT_FOUND,
        HostessError::Expired { .. } | HostessError::Released { .. } => StatusCode::GONE,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut body = ErrorJson {
        error: e.to_string(),
        wanted: None,
        found: None,
        free: None,
    };
    if let HostessError::NotEnough {
        wanted,
        found,
        free,
        ..
    } = e
    {
        body.wanted = Some(*wanted);
        body.found = Some(*found);
        body.free = *free;
    }
    json(status, &body)
}

fn parse_mask(text: &str) -> Result<GuestMask, Refused> {
    GuestMask::parse(text).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            crate::mask::mask_message(&e),
        ))
    })
}

fn parse_id(text: &str) -> Result<ReservationId, Refused> {
    text.parse::<ReservationId>()
        .map_err(|e| Box::new(error(StatusCode::BAD_REQUEST, e)))
}

async fn guests(
    State(api): State<Arc<Api>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(unknown) = query
        .keys()
        .find(|k| !matches!(k.as_str(), "mask" | "count"))
    {
        return error(
            StatusCode::BAD_REQUEST,
            format!("unknown query parameter `{unknown}`; use `mask` and `count`"),
        );
    }
    let mask = match query.get("mask").map(String::as_str) {
        None | Some("") => GuestMask::any(),
        Some(text) => match parse_mask(text) {
            Ok(m) => m,
            Err(r) => return *r,
        },
    };
    let count = match query.get("count").map(String::as_str) {
        None | Some("") => None,
        Some(text) => match text.parse::<usize>() {
            Ok(n) => Some(n),
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("`count` must be a whole number, not `{text}`"),
                );
            }
        },
    };
    match api.hostess.query(&mask, count) {
        Ok(found) => json(
            StatusCode::OK,
            &GuestsJson {
                guests: found.iter().map(GuestJson::from).collect(),
            },
        ),
        Err(e) => hostess_error(&e),
    }
}

async fn guest(State(api): State<Arc<Api>>, Path(uuid): Path<String>) -> Response {
    let uuid = match crate::identity::parse_uuid(&uuid) {
        Ok(u) => u,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("invalid guest uuid: {e}")),
    };
    match api.hostess.guest(uuid) {
        Some(g) => json(StatusCode::OK, &GuestJson::from(&g)),
        None => error(
            StatusCode::NOT_FOUND,
            format!("no guest has the uuid {uuid}"),
        ),
    }
}

async fn menu(State(api): State<Arc<Api>>) -> Response {
    json(StatusCode::OK, &MenuJson::from(&api.hostess.menu()))
}

async fn reservations(State(api): State<Arc<Api>>) -> Response {
    let now = api.hostess.now();
    json(
        StatusCode::OK,
        &ReservationsJson {
            reservations: api
                .hostess
                .reservations()
                .iter()
                .map(|g| GrantJson::new(g, now))
                .collect(),
        },
    )
}

async fn reservation(State(api): State<Arc<Api>>, Path(id): Path<String>) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    match api.hostess.grant(id) {
        Ok(g) => json(StatusCode::OK, &GrantJson::new(&g, api.hostess.now())),
        Err(e) => hostess_error(&e),
    }
}

/// A refusal: the error response, boxed (responses are large).
type Refused = Box<Response>;

/// Who is calling.
enum Caller {
    Local,
    Peer(String),
}

impl Api {
    /// Authenticates a modifying call.
    fn authorize(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Caller, Refused> {
        let unauthorized = |message: String| Box::new(error(StatusCode::UNAUTHORIZED, message));
        if headers.contains_key(phone::HEADER_SIGNATURE) || headers.contains_key(phone::HEADER_PEER)
        {
            if self.peers.is_empty() {
                return Err(unauthorized(
                    "phone call refused: this kernel accepts calls from no peer".to_owned(),
                ));
            }
            let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            return self
                .peers
                .verify(
                    method.as_str(),
                    path,
                    header,
                    body,
                    crate::clock::unix_millis(),
                )
                .map(Caller::Peer)
                .map_err(|e| {
                    tracing::warn!("hostess: phone call refused: {e}");
                    unauthorized(format!("phone call refused: {e}"))
                });
        }
        match &self.bearer {
            Some(token) => {
                let given = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "));
                match given {
                    Some(given) if constant_time_eq(given.as_bytes(), token.as_bytes()) => {
                        Ok(Caller::Local)
                    }
                    _ => Err(unauthorized(
                        "modifying calls need `Authorization: Bearer <token>` or a peer signature"
                            .to_owned(),
                    )),
                }
            }
            None if self.peers.is_empty() => Ok(Caller::Local),
            None => Err(unauthorized(
                "modifying calls must be signed by a known peer".to_owned(),
            )),
        }
    }
}

impl Api {
    /// A peer may renew and release only its own reservations.
    /// Authenticates a call on reservation `id` (as written in the path) and
    /// checks that a peer calling holds it.
    fn authorize_holder(
        &self,
        id: &str,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<ReservationId, Refused> {
        let caller = self.authorize(method, uri, headers, body)?;
        let id = parse_id(id)?;
        self.owns(&caller, id)?;
        Ok(id)
    }

    fn owns(&self, caller: &Caller, id: ReservationId) -> Result<(), Refused> {
        let Caller::Peer(peer) = caller else {
            return Ok(());
        };
        match self.hostess.grant(id) {
            Ok(g) if g.holder != format!("peer:{peer}") => Err(Box::new(error(
                StatusCode::FORBIDDEN,
                format!("reservation {id} is not held by peer `{peer}`"),
            ))),
            // Unknown, expired or released: the operation says so.
            _ => Ok(()),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn reserve(
    State(api): State<Arc<Api>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = match api.authorize(&method, &uri, &headers, &body) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let request: ReserveJson = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("bad reservation request: {e}"),
            );
        }
    };
    let holder = match (&caller, request.holder) {
        (Caller::Peer(peer), _) => format!("peer:{peer}"),
        (Caller::Local, Some(holder)) => holder,
        (Caller::Local, None) => "api".to_owned(),
    };
    let ttl = match request.ttl_ms {
        Some(ms) => Duration::from_millis(ms),
        None => DEFAULT_TTL,
    };
    match (request.terminals, request.wants) {
        (Some(terminals), None) => {
            let mut refs = Vec::with_capacity(terminals.len());
            for t in terminals {
                match crate::identity::parse_uuid(&t.guest) {
                    Ok(guest) => refs.push(TerminalRef::new(guest, t.terminal)),
                    Err(e) => {
                        return error(StatusCode::BAD_REQUEST, format!("invalid guest uuid: {e}"));
                    }
                }
            }
            let result = api.hostess.reserve(ReserveRequest {
                holder,
                terminals: refs,
                ttl: Some(ttl),
            });
            match result {
                Ok(g) => json(StatusCode::CREATED, &GrantJson::new(&g, api.hostess.now())),
                Err(e) => hostess_error(&e),
            }
        }
        (None, Some(wants)) => {
            let mut plan = Plan {
                holder,
                ttl: Some(ttl),
                wants: Vec::with_capacity(wants.len()),
            };
            for (i, w) in wants.into_iter().enumerate() {
                let mask = match GuestMask::parse(&w.mask) {
                    Ok(m) => m,
                    Err(e) => {
                        return error(
                            StatusCode::BAD_REQUEST,
                            format!("want {}: {}", i + 1, crate::mask::mask_message(&e)),
                        );
                    }
                };
                plan.wants.push(Want {
                    mask,
                    count: w.count,
                    terminals: w.terminals,
                });
            }
            match api.hostess.book(&plan) {
                Ok(b) => json(
                    StatusCode::CREATED,
                    &GrantJson::booked(&b, api.hostess.now()),
                ),
                Err(e) => hostess_error(&e),
            }
        }
        _ => error(
            StatusCode::BAD_REQUEST,
            "bad reservation request: give either `terminals` or `wants`",
        ),
    }
}

async fn renew(
    State(api): State<Arc<Api>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    on_holders_reservation(&api, &id, &method, &uri, &headers, &body, Hostess::renew)
}

async fn release(
    State(api): State<Arc<Api>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    on_holders_reservation(&api, &id, &method, &uri, &headers, &body, Hostess::release)
}

/// Runs `op` on reservation `id` once the caller is shown to hold it.
fn on_holders_reservation(
    api: &Api,
    id: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    op: fn(&Hostess, ReservationId) -> Result<Grant, HostessError>,
) -> Response {
    let id = match api.authorize_holder(id, method, uri, headers, body) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    match op(&api.hostess, id) {
        Ok(g) => json(StatusCode::OK, &GrantJson::new(&g, api.hostess.now())),
        Err(e) => hostess_error(&e),
    }
}
