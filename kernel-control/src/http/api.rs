//! Routes and handlers of the JSON API under `/api/v1/`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{BODY_LIMIT, hmi, metrics, openapi};
use crate::svg;
use crate::topology::{Snapshot, Topology};
use kernel_core::control::events::Event;
use kernel_core::control::{Control, ControlError, DisconnectMode};

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) control: Control,
    pub(crate) token: Arc<str>,
    pub(crate) shutdown: tokio::sync::watch::Receiver<bool>,
}

pub(crate) fn router(state: AppState) -> Router {
    let modifying = Router::new()
        .route("/api/v1/connections", post(connect))
        .route(
            "/api/v1/connections/{id}",
            axum::routing::delete(disconnect),
        )
        .route("/api/v1/connections/{id}/pause", post(pause))
        .route("/api/v1/connections/{id}/resume", post(resume))
        .route("/api/v1/servers/{name}/restart", post(restart))
        .route("/api/v1/servers/{name}/stop", post(stop))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    Router::new()
        .route("/", get(hmi_page))
        .route("/metrics", get(prometheus))
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/topology", get(topology))
        .route("/api/v1/servers", get(servers))
        .route("/api/v1/servers/{name}", get(server))
        .route("/api/v1/processes", get(processes))
        .route("/api/v1/processes/{name}", get(process))
        .route("/api/v1/routes", get(routes))
        .route("/api/v1/probe", get(probe))
        .route("/api/v1/neighbours", get(neighbours))
        .route("/api/v1/connections", get(connections))
        .route("/api/v1/connections/{id}", get(connection))
        .route("/api/v1/events", get(events))
        .route("/api/v1/metrics", get(metrics_json))
        .merge(modifying)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// A JSON response.
pub(crate) fn json_response(status: StatusCode, value: &Value) -> Response {
    let body = serde_json::to_vec_pretty(value).unwrap_or_else(|_| b"{}".to_vec());
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    json_response(
        status,
        &json!({ "error": message.into(), "status": status.as_u16() }),
    )
}

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

fn control_error(e: &ControlError) -> Response {
    error(control_status(e), e.to_string())
}

fn text(content_type: &'static str, body: String) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "no such endpoint; see /api/v1/openapi.json",
    )
}

/// Constant-time comparison, so the token cannot be guessed by timing.
fn same(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= usize::from(x ^ b.get(i).copied().unwrap_or(0));
    }
    diff == 0
}

async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(token) if same(token.as_bytes(), state.token.as_bytes()) => next.run(request).await,
        Some(_) => unauthorized("wrong bearer token"),
        None => unauthorized("this call modifies the kernel: send `Authorization: Bearer <token>`"),
    }
}

fn unauthorized(message: &str) -> Response {
    let mut response = error(StatusCode::UNAUTHORIZED, message);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"kernel control\""),
    );
    response
}

async fn hmi_page() -> Response {
    text("text/html; charset=utf-8", hmi::PAGE.to_owned())
}

async fn prometheus(State(state): State<AppState>) -> Response {
    match metrics::prometheus(&state.control) {
        Ok(body) => text(
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            body,
        ),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

async fn openapi_json() -> Response {
    json_response(StatusCode::OK, &openapi())
}

#[derive(Deserialize)]
struct FormatQuery {
    format: Option<String>,
}

async fn topology(State(state): State<AppState>, Query(q): Query<FormatQuery>) -> Response {
    let t = state.control.topology();
    match q.format.as_deref().unwrap_or("json") {
        "json" => json_response(StatusCode::OK, &to_value(&t)),
        "dot" => text("text/vnd.graphviz; charset=utf-8", t.to_dot()),
        "mermaid" => text("text/plain; charset=utf-8", t.to_mermaid()),
        "toml" => text("application/toml; charset=utf-8", t.to_wiring_toml()),
        "svg" => text("image/svg+xml; charset=utf-8", svg::render(&t)),
        other => error(
            StatusCode::BAD_REQUEST,
            format!("unknown format `{other}`; use json, dot, mermaid, toml or svg"),
        ),
    }
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

async fn servers(State(state): State<AppState>) -> Response {
    json_response(StatusCode::OK, &to_value(&state.control.topology().servers))
}

async fn server(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    match state.control.topology().server(&name) {
        Some(s) => json_response(StatusCode::OK, &to_value(s)),
        None => control_error(&ControlError::UnknownServer { server: name }),
    }
}

async fn processes(State(state): State<AppState>) -> Response {
    json_response(
        StatusCode::OK,
        &to_value(&state.control.topology().processes),
    )
}

async fn routes(State(state): State<AppState>) -> Response {
    let routes: Vec<Value> = state
        .control
        .connectome()
        .routes()
        .iter()
        .map(|r| {
            json!({"id": r.id.to_string(), "from": r.from, "to": r.to, "direction": r.direction.as_str(),
                   "state": r.state.as_str(), "sent": r.sent, "received": r.received,
                   "in_flight": r.in_flight, "lost": r.lost, "reason": r.reason})
        })
        .collect();
    json_response(StatusCode::OK, &Value::Array(routes))
}

async fn process(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    match state
        .control
        .topology()
        .processes
        .into_iter()
        .find(|p| p.name == name)
    {
        Some(p) => json_response(StatusCode::OK, &to_value(&p)),
        None => control_error(&ControlError::UnknownProcess { process: name }),
    }
}

/// The beacon's listeners, last probe report and verified candidates;
/// `{"beacon": null}` when the kernel runs no beacon.
async fn probe(State(state): State<AppState>) -> Response {
    #[cfg(feature = "mesh")]
    let beacon = to_value(&kernel_mesh::MeshExt::probe_status(
        state.control.connectome(),
    ));
    #[cfg(not(feature = "mesh"))]
    let beacon = {
        let _ = &state;
        Value::Null
    };
    json_response(StatusCode::OK, &json!({ "beacon": beacon }))
}

/// The peers heard from, until their TTL runs out; `{"adverts": null, ...}`
/// when the kernel sends no adverts.
async fn neighbours(State(state): State<AppState>) -> Response {
    #[cfg(feature = "mesh")]
    let (adverts, neighbours) = {
        use kernel_mesh::MeshExt as _;
        let connectome = state.control.connectome();
        (
            to_value(&connectome.adverts_addr().map(|a| a.to_string())),
            to_value(&connectome.neighbours().unwrap_or_default()),
        )
    };
    #[cfg(not(feature = "mesh"))]
    let (adverts, neighbours) = {
        let _ = &state;
        (Value::Null, json!([]))
    };
    json_response(
        StatusCode::OK,
        &json!({ "adverts": adverts, "neighbours": neighbours }),
    )
}

async fn connections(State(state): State<AppState>) -> Response {
    json_response(
        StatusCode::OK,
        &to_value(&state.control.topology().connections),
    )
}

/// The connection id in a path; an id that is not a UUID is unknown too.
fn parse_id(id: &str) -> Result<Uuid, Box<Response>> {
    Uuid::parse_str(id).map_err(|_| {
        Box::new(control_error(&ControlError::UnknownConnection {
            id: id.to_owned(),
        }))
    })
}

async fn connection(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let t = state.control.topology();
    let found = Uuid::parse_str(&id)
        .ok()
        .and_then(|u| t.connection(&u.to_string()));
    match found {
        Some(c) => json_response(StatusCode::OK, &to_value(c)),
        None => control_error(&ControlError::UnknownConnection { id }),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectRequest {
    from: String,
    to: String,
    capacity: Option<usize>,
}

async fn connect(State(state): State<AppState>, body: Bytes) -> Response {
    let request: ConnectRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "malformed JSON body: {e}; expected {{\"from\": \"server.terminal\", \"to\": \"server.terminal\", \"capacity\": 1024}}"
                ),
            );
        }
    };
    match state
        .control
        .connect(&request.from, &request.to, request.capacity)
    {
        Ok(id) => {
            let t = state.control.topology();
            let view = t
                .connection(&id.to_string())
                .map(to_value)
                .unwrap_or(Value::Null);
            json_response(StatusCode::CREATED, &view)
        }
        Err(e) => control_error(&e),
    }
}

#[derive(Deserialize)]
struct ModeQuery {
    mode: Option<String>,
}

async fn disconnect(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ModeQuery>,
) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let mode = match q.mode.as_deref().unwrap_or("drain") {
        "drain" => DisconnectMode::Drain,
        "drop" => DisconnectMode::Drop,
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("unknown mode `{other}`; use drain or drop"),
            );
        }
    };
    match state.control.disconnect(id, mode) {
        Ok(d) => json_response(
            StatusCode::OK,
            &json!({
                "id": d.id.to_string(),
                "state": d.state.as_str(),
                "queued": d.queued,
                "dropped": d.dropped,
            }),
        ),
        Err(e) => control_error(&e),
    }
}

fn connection_after(state: &AppState, id: Uuid, result: Result<(), ControlError>) -> Response {
    match result {
        Ok(()) => {
            let t = state.control.topology();
            let view = t
                .connection(&id.to_string())
                .map(to_value)
                .unwrap_or(Value::Null);
            json_response(StatusCode::OK, &view)
        }
        Err(e) => control_error(&e),
    }
}

async fn pause(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match parse_id(&id) {
        Ok(id) => connection_after(&state, id, state.control.pause(id)),
        Err(r) => *r,
    }
}

async fn resume(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match parse_id(&id) {
        Ok(id) => connection_after(&state, id, state.control.resume(id)),
        Err(r) => *r,
    }
}

fn server_after(state: &AppState, name: &str, result: Result<(), ControlError>) -> Response {
    match result {
        Ok(()) => {
            let t = state.control.topology();
            let view = t.server(name).map(to_value).unwrap_or(Value::Null);
            json_response(StatusCode::ACCEPTED, &view)
        }
        Err(e) => control_error(&e),
    }
}

async fn restart(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    let result = state.control.restart(&name);
    server_after(&state, &name, result)
}

async fn stop(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    let result = state.control.stop(&name);
    server_after(&state, &name, result)
}

async fn metrics_json(State(state): State<AppState>) -> Response {
    json_response(StatusCode::OK, &metrics::json(&state.control))
}

pub(crate) fn event_json(e: &Event) -> Value {
    let mut v = json!({
        "seq": e.seq,
        "at_ms": e.at_ms,
        "subject": e.subject.kind(),
        "id": e.subject.id(),
        "from": e.from,
        "to": e.to,
        "cause": e.cause,
    });
    if let kernel_core::control::events::Subject::Connection { label, .. } = &e.subject {
        v["label"] = json!(label);
    }
    v
}

/// A compact live summary for the `tick` event: states, rates, queues.
fn tick_json(t: &Topology) -> Value {
    json!({
        "uptime_s": t.kernel.uptime_s,
        "servers": t.servers.iter().map(|s| json!({
            "name": s.name, "state": s.state, "restarts": s.restarts,
        })).collect::<Vec<_>>(),
        "connections": t.connections.iter().map(|c| json!({
            "id": c.id, "state": c.state, "rate": c.rate, "fill": c.fill,
            "queue_depth": c.queue_depth, "messages_out": c.messages_out,
        })).collect::<Vec<_>>(),
    })
}

#[derive(Deserialize)]
struct EventsQuery {
    since: Option<u64>,
    format: Option<String>,
}

/// Server-sent events: every transition (`event: transition`), a `tick`
/// with rates and states every second, `missed` when the log forgot some.
/// `?format=json` returns the log as one JSON array instead.
async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<EventsQuery>,
) -> Response {
    let log = state.control.connectome().events();
    if q.format.as_deref() == Some("json") {
        let since = log.since(q.since.unwrap_or(0));
        return json_response(
            StatusCode::OK,
            &json!({
                "missed": since.missed,
                "events": since.events.iter().map(event_json).collect::<Vec<_>>(),
            }),
        );
    }
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let after = q.since.or(resume).unwrap_or(0);
    Sse::new(event_stream(state, after))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(10)))
        .into_response()
}

struct Cursor {
    state: AppState,
    after: u64,
    pending: std::collections::VecDeque<SseEvent>,
    last_tick: Option<std::time::Instant>,
}

fn event_stream(
    state: AppState,
    after: u64,
) -> impl Stream<Item = Result<SseEvent, Infallible>> + Send {
    let cursor = Cursor {
        state,
        after,
        pending: std::collections::VecDeque::new(),
        last_tick: None,
    };
    stream::unfold(cursor, |mut c| async move {
        loop {
            if let Some(event) = c.pending.pop_front() {
                return Some((Ok(event), c));
            }
            if *c.state.shutdown.borrow() {
                return None;
            }
            let since = c.state.control.connectome().events().since(c.after);
            if since.missed > 0 {
                c.pending.push_back(
                    SseEvent::default()
                        .event("missed")
                        .data(json!({ "missed": since.missed }).to_string()),
                );
            }
            for e in &since.events {
                c.after = e.seq;
                c.pending.push_back(
                    SseEvent::default()
                        .event("transition")
                        .id(e.seq.to_string())
                        .data(event_json(e).to_string()),
                );
            }
            // A tick at once, then every second.
            if c.last_tick
                .is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
            {
                c.last_tick = Some(std::time::Instant::now());
                let t = c.state.control.topology();
                c.pending.push_back(
                    SseEvent::default()
                        .event("tick")
                        .data(tick_json(&t).to_string()),
                );
            }
            if c.pending.is_empty() {
                let mut shutdown = c.state.shutdown.clone();
                let wait = shutdown.wait_for(|stop| *stop);
                if tokio::time::timeout(Duration::from_millis(250), wait)
                    .await
                    .is_ok()
                {
                    return None;
                }
            }
        }
    })
}
