//! Routes and handlers of the JSON API under `/api/v1/`.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::stream::{self, Stream};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::operations::{
    self, Disconnected, EventFilter, EventJson, EventsJson, NeighboursJson, ProbeJson,
};
use super::{BODY_LIMIT, hmi, mcp, metrics, openapi, tap};
use crate::svg;
use crate::topology::{ConnectionView, ProcessView, RouteView, ServerView, Snapshot, Topology};
use kernel_core::control::{Control, DisconnectMode};
use kernel_hostess::http::{
    ApiError, BearerToken, ErrorJson, json, json_body, json_errors, no_such_endpoint,
    require_bearer,
};

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) control: Control,
    pub(crate) token: BearerToken,
    pub(crate) shutdown: tokio::sync::watch::Receiver<bool>,
    pub(crate) streams: Streams,
}

/// Most event streams open at once; more get 503, so that clients holding
/// streams cannot take every connection the server allows.
pub(crate) const MAX_STREAMS: usize = 64;

/// The event streams open now.
#[derive(Clone, Default)]
pub(crate) struct Streams(Arc<AtomicUsize>);

/// One open event stream, until dropped.
pub(crate) struct StreamSlot(Arc<AtomicUsize>);

impl Streams {
    pub(crate) fn open(&self) -> Option<StreamSlot> {
        let open = self
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_STREAMS).then_some(n + 1)
            })
            .is_ok();
        open.then(|| StreamSlot(self.0.clone()))
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The API, the HMI, the metrics and the MCP endpoint `mcp`.
pub(crate) fn router(state: AppState, mcp: mcp::McpService) -> Router {
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
        .route_layer(middleware::from_fn_with_state(
            state.token.clone(),
            require_bearer,
        ));
    Router::new()
        .route("/", get(hmi_page))
        .route("/metrics", get(prometheus))
        .route("/api/v1/", get(index))
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
        .route("/api/v1/connections/{id}/tap", get(tap::tap))
        .route("/api/v1/events", get(events))
        .route("/api/v1/metrics", get(metrics_json))
        .merge(modifying)
        .nest_service(mcp::MCP_PATH, mcp)
        .fallback(no_such_endpoint)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(json_errors))
        .with_state(state)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    ApiError::new(status, message).into_response()
}

/// `value` with `status`, or the refusal as JSON.
fn answer<T: Serialize>(status: StatusCode, result: Result<T, ApiError>) -> Response {
    match result {
        Ok(value) => json(status, &value),
        Err(e) => e.into_response(),
    }
}

fn text(content_type: &'static str, body: String) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

/// The HMI page: the live topology drawn as SVG, updated from the event
/// stream.
#[utoipa::path(get, path = "/", tag = "kernel", operation_id = "hmi",
    responses((status = 200, description = "HTML page", content_type = "text/html", body = String)))]
pub(crate) async fn hmi_page() -> Response {
    text("text/html; charset=utf-8", hmi::PAGE.to_owned())
}

/// Metrics in the Prometheus (OpenMetrics) text format.
#[utoipa::path(get, path = "/metrics", tag = "kernel", operation_id = "prometheusMetrics",
    responses(
        (status = 200, description = "metrics", content_type = "application/openmetrics-text", body = String),
        (status = 500, description = "the metrics could not be written", body = ErrorJson),
    ))]
pub(crate) async fn prometheus(State(state): State<AppState>) -> Response {
    match metrics::prometheus(&state.control) {
        Ok(body) => text(
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            body,
        ),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "kernel", operation_id = "openapi",
    responses((status = 200, description = "the OpenAPI 3.1 document", body = Object)))]
pub(crate) async fn openapi_json() -> Response {
    json(StatusCode::OK, &openapi())
}

/// One endpoint of the API.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EndpointJson {
    /// `GET`, `POST`, `DELETE`.
    method: String,
    path: String,
    summary: String,
}

/// Every endpoint, as `GET /api/v1/` lists them.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IndexJson {
    endpoints: Vec<EndpointJson>,
    /// Where the full description is.
    openapi: String,
    /// The Model Context Protocol endpoint (streamable HTTP) whose tools
    /// mirror this API.
    mcp: String,
}

/// Every endpoint with its method and a summary (the full description is
/// `/api/v1/openapi.json`).
#[utoipa::path(get, path = "/api/v1/", tag = "kernel", operation_id = "index",
    responses((status = 200, description = "the endpoints", body = IndexJson)))]
pub(crate) async fn index() -> Response {
    let doc = openapi();
    let mut endpoints = Vec::new();
    for (path, item) in &doc.paths.paths {
        let operations = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
        ];
        for (method, operation) in operations {
            if let Some(operation) = operation {
                endpoints.push(EndpointJson {
                    method: method.to_owned(),
                    path: path.clone(),
                    summary: operation
                        .summary
                        .as_deref()
                        .or(operation.description.as_deref())
                        .unwrap_or_default()
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" "),
                });
            }
        }
    }
    json(
        StatusCode::OK,
        &IndexJson {
            endpoints,
            openapi: "/api/v1/openapi.json".to_owned(),
            mcp: mcp::MCP_PATH.to_owned(),
        },
    )
}

/// How a topology is written.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Format {
    #[default]
    Json,
    Dot,
    Mermaid,
    Toml,
    Svg,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct FormatQuery {
    /// JSON, Graphviz DOT, Mermaid, a `wiring.toml` that builds the same
    /// kernel, or SVG.
    #[serde(default)]
    #[param(inline)]
    format: Format,
}

/// The live topology: JSON, Graphviz DOT, Mermaid, `wiring.toml` (export)
/// or SVG.
#[utoipa::path(get, path = "/api/v1/topology", tag = "kernel", operation_id = "topology",
    params(FormatQuery),
    responses(
        (status = 200, description = "the topology", content(
            (Topology = "application/json"),
            (String = "text/vnd.graphviz"),
            (String = "text/plain"),
            (String = "application/toml"),
            (String = "image/svg+xml"),
        )),
        (status = 400, description = "unknown format or query parameter", body = ErrorJson),
    ))]
pub(crate) async fn topology(
    State(state): State<AppState>,
    Query(q): Query<FormatQuery>,
) -> Response {
    let t = state.control.topology();
    match q.format {
        Format::Json => json(StatusCode::OK, &t),
        Format::Dot => text("text/vnd.graphviz; charset=utf-8", t.to_dot()),
        Format::Mermaid => text("text/plain; charset=utf-8", t.to_mermaid()),
        Format::Toml => text("application/toml; charset=utf-8", t.to_wiring_toml()),
        Format::Svg => text("image/svg+xml; charset=utf-8", svg::render(&t)),
    }
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Every server instance with its state and terminals.
#[utoipa::path(get, path = "/api/v1/servers", tag = "kernel", operation_id = "listServers",
    responses((status = 200, description = "the servers", body = Vec<ServerView>)))]
pub(crate) async fn servers(State(state): State<AppState>) -> Response {
    json(StatusCode::OK, &to_value(&state.control.topology().servers))
}

/// A server instance's name in a path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct ServerName {
    /// The server instance's name.
    #[param(example = "column")]
    name: String,
}

/// One server instance.
#[utoipa::path(get, path = "/api/v1/servers/{name}", tag = "kernel", operation_id = "getServer",
    params(ServerName),
    responses(
        (status = 200, description = "the server", body = ServerView),
        (status = 404, description = "unknown server", body = ErrorJson),
    ))]
pub(crate) async fn server(
    State(state): State<AppState>,
    Path(ServerName { name }): Path<ServerName>,
) -> Response {
    answer(StatusCode::OK, operations::server(&state.control, &name))
}

/// Every external process the executor supervises, with its state and pid.
#[utoipa::path(get, path = "/api/v1/processes", tag = "kernel", operation_id = "listProcesses",
    responses((status = 200, description = "the processes", body = Vec<ProcessView>)))]
pub(crate) async fn processes(State(state): State<AppState>) -> Response {
    json(
        StatusCode::OK,
        &to_value(&state.control.topology().processes),
    )
}

/// Every route to or from another kernel, with its state and counters
/// (`sent`, `received`, `in_flight`, `lost`); without the mesh, the
/// wiring's routes as `planned`.
#[utoipa::path(get, path = "/api/v1/routes", tag = "kernel", operation_id = "listRoutes",
    responses((status = 200, description = "the routes", body = Vec<RouteView>)))]
pub(crate) async fn routes(State(state): State<AppState>) -> Response {
    json(
        StatusCode::OK,
        &to_value(&RouteView::all(state.control.connectome())),
    )
}

/// One external process.
#[utoipa::path(get, path = "/api/v1/processes/{name}", tag = "kernel", operation_id = "getProcess",
    params(("name" = String, Path, description = "the process's name", example = "probe")),
    responses(
        (status = 200, description = "the process", body = ProcessView),
        (status = 404, description = "unknown process", body = ErrorJson),
    ))]
pub(crate) async fn process(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    answer(StatusCode::OK, operations::process(&state.control, &name))
}

/// The beacon's listeners, last probe report and verified candidates;
/// `{"beacon": null}` when the kernel runs no beacon.
#[utoipa::path(get, path = "/api/v1/probe", tag = "kernel", operation_id = "getProbe",
    responses((status = 200, description = "the beacon", body = ProbeJson)))]
pub(crate) async fn probe(State(state): State<AppState>) -> Response {
    json(StatusCode::OK, &operations::probe(&state.control))
}

/// Peer kernels heard from by capability adverts, until their TTL runs out.
#[utoipa::path(get, path = "/api/v1/neighbours", tag = "kernel", operation_id = "listNeighbours",
    responses((status = 200, description = "the neighbour table", body = NeighboursJson)))]
pub(crate) async fn neighbours(State(state): State<AppState>) -> Response {
    json(StatusCode::OK, &operations::neighbours(&state.control))
}

/// Every connection with state, rate, queue, counters.
#[utoipa::path(get, path = "/api/v1/connections", tag = "kernel", operation_id = "listConnections",
    responses((status = 200, description = "the connections", body = Vec<ConnectionView>)))]
pub(crate) async fn connections(State(state): State<AppState>) -> Response {
    json(StatusCode::OK, &state.control.topology().connections)
}

/// A connection id in a path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct ConnectionId {
    /// The connection's id (an id that is not a UUID names no connection).
    #[param(value_type = Uuid, example = "8a4c1e7e-3b0f-5c1d-9a7e-2f4b6c8d0e1a")]
    pub(crate) id: String,
}

/// One connection.
#[utoipa::path(get, path = "/api/v1/connections/{id}", tag = "kernel", operation_id = "getConnection",
    params(ConnectionId),
    responses(
        (status = 200, description = "the connection", body = ConnectionView),
        (status = 404, description = "unknown connection", body = ErrorJson),
    ))]
pub(crate) async fn connection(
    State(state): State<AppState>,
    Path(ConnectionId { id }): Path<ConnectionId>,
) -> Response {
    answer(StatusCode::OK, operations::connection(&state.control, &id))
}

/// Body of `POST /api/v1/connections`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConnectRequest {
    /// The producer terminal, `server.terminal`.
    #[schema(
        example = "column.cuts",
        pattern = r"^[a-z0-9_-]+\.[A-Za-z_][A-Za-z0-9_]*$"
    )]
    from: String,
    /// The consumer terminal, `server.terminal`.
    #[schema(
        example = "alarm.cuts",
        pattern = r"^[a-z0-9_-]+\.[A-Za-z_][A-Za-z0-9_]*$"
    )]
    to: String,
    /// The pipe's capacity in messages (default: the producer terminal's).
    #[schema(minimum = 1, maximum = 1048576, example = 1024)]
    #[serde(default, deserialize_with = "kernel_hostess::http::whole_number")]
    capacity: Option<usize>,
}

/// Responses every modifying call can give besides its own.
const REFUSED: &str = "refused by a wiring rule, a type check or the state table; nothing changed";

/// Connects a producer terminal to a consumer terminal (same message type,
/// direction and fan rules as the build-time lint).
#[utoipa::path(post, path = "/api/v1/connections", tag = "operator", operation_id = "connect",
    request_body = ConnectRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "connected", body = ConnectionView),
        (status = 400, description = "malformed JSON, endpoint or capacity", body = ErrorJson),
        (status = 401, description = "missing or wrong bearer token; nothing changed", body = ErrorJson),
        (status = 404, description = "unknown server or terminal", body = ErrorJson),
        (status = 409, description = REFUSED, body = ErrorJson),
        (status = 413, description = "body larger than 64 KiB", body = ErrorJson),
        (status = 415, description = "the body is not `application/json`", body = ErrorJson),
    ))]
pub(crate) async fn connect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request: ConnectRequest = match json_body(&headers, &body) {
        Ok(r) => r,
        Err(e) => {
            return ApiError::new(
                e.status,
                format!(
                    "{}; expected {{\"from\": \"server.terminal\", \"to\": \"server.terminal\", \"capacity\": 1024}}",
                    e.body.error
                ),
            )
            .into_response();
        }
    };
    answer(
        StatusCode::CREATED,
        operations::connect(&state.control, &request.from, &request.to, request.capacity),
    )
}

/// What happens to the messages still queued.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mode {
    /// Delivered to the consumer.
    #[default]
    Drain,
    /// Discarded and counted as drops.
    Drop,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ModeQuery {
    /// `drain` delivers what is queued, `drop` discards it (counted).
    #[serde(default)]
    #[param(inline)]
    mode: Mode,
}

/// Disconnects: the producer stops feeding the pipe; queued messages are
/// delivered (drain) or discarded and counted as drops (drop).
#[utoipa::path(delete, path = "/api/v1/connections/{id}", tag = "operator", operation_id = "disconnect",
    params(ConnectionId, ModeQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "disconnecting", body = Disconnected),
        (status = 400, description = "unknown mode or query parameter", body = ErrorJson),
        (status = 401, description = "missing or wrong bearer token; nothing changed", body = ErrorJson),
        (status = 404, description = "unknown connection", body = ErrorJson),
        (status = 409, description = REFUSED, body = ErrorJson),
    ))]
pub(crate) async fn disconnect(
    State(state): State<AppState>,
    Path(ConnectionId { id }): Path<ConnectionId>,
    Query(q): Query<ModeQuery>,
) -> Response {
    let mode = match q.mode {
        Mode::Drain => DisconnectMode::Drain,
        Mode::Drop => DisconnectMode::Drop,
    };
    answer(
        StatusCode::OK,
        operations::disconnect(&state.control, &id, mode),
    )
}

/// Pauses a connection: the consumer takes nothing out, messages stay
/// queued.
#[utoipa::path(post, path = "/api/v1/connections/{id}/pause", tag = "operator", operation_id = "pauseConnection",
    params(ConnectionId),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "paused", body = ConnectionView),
        (status = 401, description = "missing or wrong bearer token; nothing changed", body = ErrorJson),
        (status = 404, description = "unknown connection", body = ErrorJson),
        (status = 409, description = REFUSED, body = ErrorJson),
        (status = 410, description = "the connection ended meanwhile", body = ErrorJson),
    ))]
pub(crate) async fn pause(
    State(state): State<AppState>,
    Path(ConnectionId { id }): Path<ConnectionId>,
) -> Response {
    answer(StatusCode::OK, operations::pause(&state.control, &id))
}

/// Resumes a paused connection.
#[utoipa::path(post, path = "/api/v1/connections/{id}/resume", tag = "operator", operation_id = "resumeConnection",
    params(ConnectionId),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "resumed", body = ConnectionView),
        (status = 401, description = "missing or wrong bearer token; nothing changed", body = ErrorJson),
        (status = 404, description = "unknown connection", body = ErrorJson),
        (status = 409, description = REFUSED, body = ErrorJson),
        (status = 410, description = "the connection ended meanwhile", body = ErrorJson),
    ))]
pub(crate) async fn resume(
    State(state): State<AppState>,
    Path(ConnectionId { id }): Path<ConnectionId>,
) -> Response {
    answer(StatusCode::OK, operations::resume(&state.control, &id))
}

/// Restarts a server: it sees `stopping`, its inputs end, then it is built
/// afresh and keeps its pipes; an ended server is built afresh unconnected.
#[utoipa::path(post, path = "/api/v1/servers/{name}/restart", tag = "operator", operation_id = "restartServer",
    params(ServerName),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "restart requested", body = ServerView),
        (status = 401, description = "missing or wrong bearer token; nothing changed", body = ErrorJson),
        (status = 404, description = "unknown server", body = ErrorJson),
        (status = 409, description = "a request is pending, or the kernel is stopping; nothing changed", body = ErrorJson),
    ))]
pub(crate) async fn restart(
    State(state): State<AppState>,
    Path(ServerName { name }): Path<ServerName>,
) -> Response {
    answer(
        StatusCode::ACCEPTED,
        operations::restart(&state.control, &name),
    )
}

/// Stops a server for good; the streams it feeds end.
#[utoipa::path(post, path = "/api/v1/servers/{name}/stop", tag = "operator", operation_id = "stopServer",
    params(ServerName),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "stop requested", body = ServerView),
        (status = 401, description = "missing or wrong bearer token; nothing changed", body = ErrorJson),
        (status = 404, description = "unknown server", body = ErrorJson),
        (status = 409, description = "ended already, or a request is pending; nothing changed", body = ErrorJson),
    ))]
pub(crate) async fn stop(
    State(state): State<AppState>,
    Path(ServerName { name }): Path<ServerName>,
) -> Response {
    answer(
        StatusCode::ACCEPTED,
        operations::stop(&state.control, &name),
    )
}

/// Metrics as JSON: per connection counters, queue, rate; per server state
/// and restarts; event counts.
#[utoipa::path(get, path = "/api/v1/metrics", tag = "kernel", operation_id = "metrics",
    responses((status = 200, description = "the metrics", body = Object)))]
pub(crate) async fn metrics_json(State(state): State<AppState>) -> Response {
    json(StatusCode::OK, &metrics::json(&state.control))
}

/// What kind of server-sent event.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // a schema only
enum SseKind {
    /// A state change; `data` is an [`EventJson`].
    Transition,
    /// Every second: uptime, server states, connection rates and queues.
    Tick,
    /// The bounded log forgot events: `{"missed": n}`.
    Missed,
}

/// One server-sent event of `GET /api/v1/events`.
#[derive(ToSchema)]
#[allow(dead_code)] // a schema only
struct ServerSentEvent {
    #[schema(inline)]
    event: SseKind,
    /// JSON text.
    data: String,
    /// The transition's sequence number.
    id: Option<String>,
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
            "stalled": c.stalled,
        })).collect::<Vec<_>>(),
    })
}

/// How the event log is read.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum EventsFormat {
    /// Server-sent events.
    #[default]
    Sse,
    /// The log so far as one JSON document.
    Json,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsQuery {
    /// Only events after this sequence number (also `Last-Event-ID`).
    #[param(minimum = 0)]
    since: Option<i64>,
    #[serde(default)]
    #[param(inline)]
    format: EventsFormat,
}

/// Server-sent events: `transition` for every state change, `tick` with
/// rates and states every second, `missed` when the bounded log forgot
/// events; `?format=json` for the log as JSON.
#[utoipa::path(get, path = "/api/v1/events", tag = "kernel", operation_id = "events",
    params(EventsQuery),
    responses(
        (status = 200, description = "the event stream, or the log as JSON", content(
            (ServerSentEvent = "text/event-stream"),
            (EventsJson = "application/json"),
        )),
        (status = 400, description = "bad query parameter", body = ErrorJson),
        (status = 503, description = "too many event streams are open; poll `?format=json`", body = ErrorJson),
    ))]
pub(crate) async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<EventsQuery>,
) -> Response {
    let since = match u64::try_from(q.since.unwrap_or(0)) {
        Ok(since) => since,
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "`since` is a sequence number, 0 or more",
            );
        }
    };
    if let EventsFormat::Json = q.format {
        let filter = EventFilter {
            since,
            ..EventFilter::default()
        };
        let log = state.control.connectome().events();
        return json(StatusCode::OK, &operations::events(log, &filter));
    }
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let after = q.since.map(|_| since).or(resume).unwrap_or(0);
    let Some(slot) = state.streams.open() else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "{MAX_STREAMS} event streams are open already; try again later or poll `?format=json`"
            ),
        );
    };
    Sse::new(event_stream(state, after, slot))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(10)))
        .into_response()
}

struct Cursor {
    state: AppState,
    _slot: StreamSlot,
    after: u64,
    pending: std::collections::VecDeque<SseEvent>,
    last_tick: Option<std::time::Instant>,
}

fn event_stream(
    state: AppState,
    after: u64,
    slot: StreamSlot,
) -> impl Stream<Item = Result<SseEvent, Infallible>> + Send {
    let cursor = Cursor {
        state,
        _slot: slot,
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
                        .data(to_value(&EventJson::from(e)).to_string()),
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
