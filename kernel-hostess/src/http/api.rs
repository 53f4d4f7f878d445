//! The Hostess's routes and handlers.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::shapes::{GrantJson, GuestJson, GuestsJson, MenuJson, ReservationsJson, ReserveJson};
use super::{ApiError, BearerToken, ErrorJson, json, json_body};
use crate::phone::{self, Verifier};
use crate::{
    Grant, GuestMask, Hostess, HostessError, Plan, ReservationId, ReserveRequest, TerminalRef, Want,
};

/// The OpenAPI description of the Hostess's routes, relative to its root.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(guests, guest, menu, reservations, reservation, reserve, renew, release),
    components(schemas(ErrorJson)),
    tags((name = "hostess", description = "The guest book: registered servers, the use of their terminals, reservations under leases")),
)]
pub struct HostessDoc;

/// The path of calls on one reservation.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
struct ReservationPath {
    /// The reservation's id.
    #[param(value_type = uuid::Uuid, example = "0b7e2f5a-58c1-4c8e-9d1e-2a3b4c5d6e7f")]
    id: String,
}

/// TTL of a lease made over HTTP without `ttl_ms`.
pub const DEFAULT_TTL: Duration = Duration::from_secs(10);

/// The API's configuration: the Hostess, and who may modify.
#[derive(Debug)]
pub struct Api {
    hostess: Hostess,
    bearer: Option<BearerToken>,
    peers: Option<Verifier>,
}

impl Api {
    /// The API of `hostess`; it accepts every call until
    /// [`Api::bearer_token`] or [`Api::phone`] says who may modify.
    pub fn new(hostess: Hostess) -> Self {
        Api {
            hostess,
            bearer: None,
            peers: None,
        }
    }

    /// Local modifying calls need `Authorization: Bearer <token>`.
    pub fn bearer_token(mut self, token: impl AsRef<str>) -> Self {
        self.bearer = Some(BearerToken::new(token));
        self
    }

    /// Accepts phone calls that `verifier` accepts: signed by one of its
    /// peers and addressed to its kernel.
    pub fn phone(mut self, verifier: Verifier) -> Self {
        self.peers = Some(verifier);
        self
    }

    /// The routes, relative to the API root; every refusal is JSON.
    pub fn router(self) -> Router {
        let api = Arc::new(self);
        Router::new()
            .route("/guests", get(guests))
            .route("/guests/{uuid}", get(guest))
            .route("/menu", get(menu))
            .route("/reservations", get(reservations).post(reserve))
            .route("/reservations/{id}", get(reservation).delete(release))
            .route("/reservations/{id}/renew", post(renew))
            .fallback(super::no_such_endpoint)
            .layer(axum::middleware::from_fn(super::json_errors))
            .with_state(api)
    }
}

/// The routes of an open [`Api`] (every call accepted), relative to
/// `/api/v1/hostess`.
pub fn router(hostess: Hostess) -> Router {
    Api::new(hostess).router()
}

/// The status of each refusal of the Hostess: 409 for taken terminals and
/// too few guests (saying how many there are), 404 for an unknown
/// reservation, 410 for an expired or released one, 400 for the rest.
impl From<HostessError> for ApiError {
    fn from(e: HostessError) -> Self {
        let status = match e {
            HostessError::NotEnough { .. } | HostessError::Taken { .. } => StatusCode::CONFLICT,
            HostessError::UnknownReservation { .. } => StatusCode::NOT_FOUND,
            HostessError::Expired { .. } | HostessError::Released { .. } => StatusCode::GONE,
            HostessError::KernelBooking { .. } | HostessError::KernelHolder { .. } => {
                StatusCode::FORBIDDEN
            }
            _ => StatusCode::BAD_REQUEST,
        };
        let mut body = ErrorJson::new(e.to_string());
        if let HostessError::NotEnough {
            wanted,
            found,
            free,
            ..
        } = e
        {
            body.wanted = Some(wanted);
            body.found = Some(found);
            body.free = free;
        }
        ApiError { status, body }
    }
}

fn parse_mask(text: &str) -> Result<GuestMask, ApiError> {
    GuestMask::parse(text).map_err(|e| ApiError::bad_request(crate::mask::mask_message(&e)))
}

fn parse_id(text: &str) -> Result<ReservationId, ApiError> {
    text.parse::<ReservationId>().map_err(ApiError::bad_request)
}

fn parse_guest(text: &str) -> Result<uuid::Uuid, ApiError> {
    crate::identity::parse_uuid(text)
        .map_err(|e| ApiError::bad_request(format!("invalid guest uuid: {e}")))
}

/// The query of `GET /guests`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct GuestsQuery {
    /// Seven-field guest mask; absent or empty: every guest.
    #[param(example = "*:*:0x00000a00/0x0000ff00:*:*:*:*")]
    mask: Option<String>,
    /// Exactly this many guests, or 409 saying how many match.
    #[param(value_type = Option<u64>, minimum = 0)]
    count: Option<String>,
}

/// Guests (registered servers) matching a mask, in a stable order (host
/// name, server name, uuid), with the use of each terminal.
#[utoipa::path(get, path = "/guests", tag = "hostess", operation_id = "hostessGuests",
    params(GuestsQuery),
    responses(
        (status = 200, description = "the guests", body = GuestsJson),
        (status = 400, description = "bad mask or count, or an unknown query parameter", body = ErrorJson),
        (status = 409, description = "not exactly `count` guests match; says how many do", body = ErrorJson),
    ))]
async fn guests(
    State(api): State<Arc<Api>>,
    Query(query): Query<GuestsQuery>,
) -> Result<Response, ApiError> {
    let mask = match query.mask.as_deref() {
        None | Some("") => GuestMask::any(),
        Some(text) => parse_mask(text)?,
    };
    let count = match query.count.as_deref() {
        None => None,
        Some(text) => Some(text.parse::<usize>().map_err(|_| {
            ApiError::bad_request(format!("`count` must be a whole number, not `{text}`"))
        })?),
    };
    let found = api.hostess.query(&mask, count)?;
    Ok(json(
        StatusCode::OK,
        &GuestsJson {
            guests: found.iter().map(GuestJson::from).collect(),
        },
    ))
}

/// One guest by its uuid.
#[utoipa::path(get, path = "/guests/{uuid}", tag = "hostess", operation_id = "hostessGuest",
    params(("uuid" = uuid::Uuid, Path, description = "the guest's (server's) uuid",
        example = "6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0f")),
    responses(
        (status = 200, description = "the guest", body = GuestJson),
        (status = 400, description = "not a uuid", body = ErrorJson),
        (status = 404, description = "no guest has this uuid", body = ErrorJson),
    ))]
async fn guest(
    State(api): State<Arc<Api>>,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let uuid = parse_guest(&uuid)?;
    match api.hostess.guest(uuid) {
        Some(g) => Ok(json(StatusCode::OK, &GuestJson::from(&g))),
        None => Err(ApiError::not_found(format!("no guest has the uuid {uuid}"))),
    }
}

/// Availability by class and owner, as shared with peers.
#[utoipa::path(get, path = "/menu", tag = "hostess", operation_id = "hostessMenu",
    responses((status = 200, description = "the menu", body = MenuJson)))]
async fn menu(State(api): State<Arc<Api>>) -> Response {
    json(StatusCode::OK, &MenuJson::from(&api.hostess.menu()))
}

/// The live reservations.
#[utoipa::path(get, path = "/reservations", tag = "hostess", operation_id = "hostessReservations",
    responses((status = 200, description = "the reservations", body = ReservationsJson)))]
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

/// One reservation.
#[utoipa::path(get, path = "/reservations/{id}", tag = "hostess", operation_id = "hostessReservation",
    params(ReservationPath),
    responses(
        (status = 200, description = "the reservation", body = GrantJson),
        (status = 400, description = "not a uuid", body = ErrorJson),
        (status = 404, description = "unknown reservation", body = ErrorJson),
        (status = 410, description = "expired or released", body = ErrorJson),
    ))]
async fn reservation(
    State(api): State<Arc<Api>>,
    Path(ReservationPath { id }): Path<ReservationPath>,
) -> Result<Response, ApiError> {
    let grant = api.hostess.grant(parse_id(&id)?)?;
    Ok(json(
        StatusCode::OK,
        &GrantJson::new(&grant, api.hostess.now()),
    ))
}

/// The holder of a local caller's leases: a caller with the bearer token
/// (or any caller of an [`Api`] that authenticates nobody) is the local
/// operator.
pub const OPERATOR: &str = "operator";

/// Who is calling, as authenticated.
enum Caller {
    /// A local operator.
    Local,
    /// A peer kernel whose signature verified.
    Peer(String),
}

impl Caller {
    /// The name the caller holds leases under: its identity, never a name
    /// it gives itself.
    fn holder(&self) -> String {
        match self {
            Caller::Local => OPERATOR.to_owned(),
            Caller::Peer(peer) => format!("peer:{peer}"),
        }
    }
}

impl Api {
    /// Authenticates a modifying call: a phone call signed by a known peer,
    /// or a local call with the bearer token.
    fn authorize(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Caller, ApiError> {
        if headers.contains_key(phone::HEADER_SIGNATURE) || headers.contains_key(phone::HEADER_PEER)
        {
            let Some(peers) = &self.peers else {
                return Err(ApiError::unauthorized(
                    "phone call refused: this kernel accepts calls from no peer",
                ));
            };
            let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            return peers
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
                    ApiError::unauthorized(format!("phone call refused: {e}"))
                });
        }
        match (&self.bearer, &self.peers) {
            (Some(token), _) => token.check(headers).map(|()| Caller::Local).map_err(|_| {
                ApiError::unauthorized(
                    "modifying calls need `Authorization: Bearer <token>` or a peer signature",
                )
            }),
            (None, None) => Ok(Caller::Local),
            (None, Some(_)) => Err(ApiError::unauthorized(
                "modifying calls must be signed by a known peer",
            )),
        }
    }

    /// Authenticates a call on reservation `id` (as written in the path)
    /// and checks that a peer calling holds it: a peer may renew and
    /// release only its own reservations, a local operator any but the
    /// kernel's own booking (which the Hostess refuses).
    fn authorize_holder(
        &self,
        id: &str,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<ReservationId, ApiError> {
        let caller = self.authorize(method, uri, headers, body)?;
        let id = parse_id(id)?;
        if let Caller::Peer(peer) = &caller
            && let Ok(g) = self.hostess.grant(id)
            && g.holder != caller.holder()
        {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("reservation {id} is not held by peer `{peer}`"),
            ));
        }
        // Unknown, expired or released: the operation says so.
        Ok(id)
    }
}

/// Reserves terminals (`terminals`) or books guests by masks and counts
/// (`wants`), all or nothing, under a lease.
#[utoipa::path(post, path = "/reservations", tag = "hostess", operation_id = "hostessReserve",
    request_body = ReserveJson,
    security(("bearer" = []), ("peer" = [])),
    responses(
        (status = 201, description = "reserved", body = GrantJson),
        (status = 400, description = "malformed body, mask or uuid", body = ErrorJson),
        (status = 401, description = "neither the bearer token nor a valid peer signature; nothing changed", body = ErrorJson),
        (status = 403, description = "`holder` names someone other than the caller (`operator` for the bearer token, `peer:<name>` for a signed call); nothing changed", body = ErrorJson),
        (status = 409, description = "a terminal is taken, or too few guests match (says how many)", body = ErrorJson),
        (status = 413, description = "body larger than 64 KiB", body = ErrorJson),
        (status = 415, description = "the body is not `application/json`", body = ErrorJson),
    ))]
async fn reserve(
    State(api): State<Arc<Api>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = api.authorize(&method, &uri, &headers, &body)?;
    let request: ReserveJson = json_body(&headers, &body).map_err(|e| {
        ApiError::new(
            e.status,
            format!("bad reservation request: {}", e.body.error),
        )
    })?;
    let holder = caller.holder();
    if let Some(claimed) = request.holder
        && claimed != holder
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "this call comes from `{holder}` and cannot hold as `{claimed}`: a lease is held under the caller's authenticated name"
            ),
        ));
    }
    let ttl = Some(request.ttl_ms.map_or(DEFAULT_TTL, Duration::from_millis));
    let now = || api.hostess.now();
    match (request.terminals, request.wants) {
        (Some(terminals), None) => {
            let terminals = terminals
                .into_iter()
                .map(|t| Ok(TerminalRef::new(parse_guest(&t.guest)?, t.terminal)))
                .collect::<Result<Vec<_>, ApiError>>()?;
            let grant = api.hostess.reserve(ReserveRequest {
                holder,
                terminals,
                ttl,
            })?;
            Ok(json(StatusCode::CREATED, &GrantJson::new(&grant, now())))
        }
        (None, Some(wants)) => {
            let wants = wants
                .into_iter()
                .enumerate()
                .map(|(i, w)| {
                    let mask = GuestMask::parse(&w.mask).map_err(|e| {
                        ApiError::bad_request(format!(
                            "want {}: {}",
                            i + 1,
                            crate::mask::mask_message(&e)
                        ))
                    })?;
                    Ok(Want {
                        mask,
                        count: w.count,
                        terminals: w.terminals,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            let booking = api.hostess.book(&Plan { holder, ttl, wants })?;
            Ok(json(
                StatusCode::CREATED,
                &GrantJson::booked(&booking, now()),
            ))
        }
        _ => Err(ApiError::bad_request(
            "bad reservation request: give either `terminals` or `wants`",
        )),
    }
}

/// Renews a reservation's lease.
#[utoipa::path(post, path = "/reservations/{id}/renew", tag = "hostess", operation_id = "hostessRenew",
    params(ReservationPath),
    security(("bearer" = []), ("peer" = [])),
    responses(
        (status = 200, description = "renewed", body = GrantJson),
        (status = 400, description = "not a uuid", body = ErrorJson),
        (status = 401, description = "neither the bearer token nor a valid peer signature; nothing changed", body = ErrorJson),
        (status = 403, description = "the kernel's own booking, or a peer renewing another's reservation", body = ErrorJson),
        (status = 404, description = "unknown reservation", body = ErrorJson),
        (status = 410, description = "expired or released", body = ErrorJson),
    ))]
async fn renew(
    State(api): State<Arc<Api>>,
    Path(ReservationPath { id }): Path<ReservationPath>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    on_holders_reservation(&api, &id, &method, &uri, &headers, &body, Hostess::renew)
}

/// Releases a reservation: its terminals are free again.
#[utoipa::path(delete, path = "/reservations/{id}", tag = "hostess", operation_id = "hostessRelease",
    params(ReservationPath),
    security(("bearer" = []), ("peer" = [])),
    responses(
        (status = 200, description = "released", body = GrantJson),
        (status = 400, description = "not a uuid", body = ErrorJson),
        (status = 401, description = "neither the bearer token nor a valid peer signature; nothing changed", body = ErrorJson),
        (status = 403, description = "the kernel's own booking (it ends when its pipes are disconnected), or a peer releasing another's reservation", body = ErrorJson),
        (status = 404, description = "unknown reservation", body = ErrorJson),
        (status = 410, description = "expired or released already", body = ErrorJson),
    ))]
async fn release(
    State(api): State<Arc<Api>>,
    Path(ReservationPath { id }): Path<ReservationPath>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
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
) -> Result<Response, ApiError> {
    let id = api.authorize_holder(id, method, uri, headers, body)?;
    let grant = op(&api.hostess, id)?;
    Ok(json(
        StatusCode::OK,
        &GrantJson::new(&grant, api.hostess.now()),
    ))
}
