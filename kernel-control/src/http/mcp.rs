//! The Model Context Protocol endpoint at `/mcp` (streamable HTTP,
//! stateless, JSON responses) through `rmcp`: tools that mirror the JSON
//! API so that AI agents can operate the kernel.
//!
//! Reading tools are open, like the API's `GET`s. Modifying tools (pause,
//! resume, connect, disconnect, restart, stop) need the control surface's
//! bearer token on the HTTP requests of the MCP connection
//! (`Authorization: Bearer <token>`); without it they answer a tool error
//! saying so and change nothing. Every tool answers JSON: the value the API
//! answers (lists wrapped in an object), or `{"error": ..., "status": ...}`
//! with the HTTP status the API would give.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::http::request::Parts;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::Extension;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::operations::{self, EventFilter};
use super::{BODY_LIMIT, metrics, tap};
use crate::svg;
use crate::topology::{RouteView, Snapshot};
use kernel_core::control::{Control, DisconnectMode};
use kernel_hostess::HostessExt;
use kernel_hostess::http::{ApiError, BearerToken, bearer_credentials};

/// Where the MCP endpoint is served.
pub const MCP_PATH: &str = "/mcp";

/// Most events the `events` tool answers at once.
const MAX_EVENTS: usize = 1000;

/// The endpoint as a tower service.
pub(crate) type McpService = StreamableHttpService<Operator, NeverSessionManager>;

/// The MCP service for `control`'s kernel, served on `listen`. Stateless:
/// no session outlives its request, so it ends with the control surface.
pub(crate) fn service(control: Control, token: BearerToken, listen: SocketAddr) -> McpService {
    let operator = Operator {
        control,
        token,
        tools: Arc::new(Operator::tool_router()),
    };
    let mut config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_max_request_body_bytes(BODY_LIMIT);
    // rmcp accepts loopback `Host` headers only (against DNS rebinding);
    // a control surface on another address is reached by that address, and
    // one on every address by whatever name its operators use.
    config = if listen.ip().is_unspecified() {
        config.disable_allowed_hosts()
    } else if listen.ip().is_loopback() {
        config
    } else {
        let mut hosts = config.allowed_hosts.clone();
        hosts.push(listen.ip().to_string());
        config.with_allowed_hosts(hosts)
    };
    StreamableHttpService::new(
        move || Ok(operator.clone()),
        Arc::new(NeverSessionManager::default()),
        config,
    )
}

/// The MCP server: one per request (stateless), cloned from the one made
/// when the control surface started.
#[derive(Clone)]
pub(crate) struct Operator {
    control: Control,
    token: BearerToken,
    tools: Arc<ToolRouter<Operator>>,
}

/// A tool's answer: the value as JSON.
fn ok<T: Serialize>(value: &T) -> CallToolResult {
    match serde_json::to_value(value) {
        Ok(value) => CallToolResult::structured(value),
        Err(e) => CallToolResult::structured_error(json!({
            "error": format!("cannot write the answer: {e}"),
            "status": 500,
        })),
    }
}

/// A refusal, as the API would answer it.
fn refused(e: ApiError) -> CallToolResult {
    CallToolResult::structured_error(json!({
        "error": e.body.error,
        "status": e.status.as_u16(),
    }))
}

fn answer<T: Serialize>(result: Result<T, ApiError>) -> CallToolResult {
    match result {
        Ok(value) => ok(&value),
        Err(e) => refused(e),
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum TopologyFormat {
    /// The snapshot as JSON (servers, connections, processes).
    Json,
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
    /// A `wiring.toml` that builds the same kernel.
    Toml,
    /// The drawing the HMI shows.
    Svg,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct TopologyParams {
    /// How to write the topology; JSON when absent.
    #[serde(default)]
    format: Option<TopologyFormat>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ServersParams {
    /// Only the server instance of this name (as in `wiring.toml`).
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ServerName {
    /// The server instance's name, e.g. `column`; `servers` lists them.
    name: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ConnectionsParams {
    /// Only the connection with this id.
    #[serde(default)]
    id: Option<String>,
    /// Only connections into or out of this server instance.
    #[serde(default)]
    server: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct TapParams {
    /// The connection's id (a UUID, see `connections`); its connection
    /// needs `tap = true` in wiring.toml.
    id: String,
    /// How many messages to take, 1 to 100 (default 5).
    #[serde(default)]
    #[schemars(range(min = 1, max = 100))]
    count: Option<u32>,
    /// Most messages per second, 1 to 100 (default 10).
    #[serde(default)]
    #[schemars(range(min = 1, max = 100))]
    rate: Option<u32>,
    /// Stop waiting for messages after this many seconds, 1 to 30
    /// (default 5).
    #[serde(default)]
    #[schemars(range(min = 1, max = 30))]
    seconds: Option<u32>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ConnectionId {
    /// The connection's id (a UUID); `connections` lists them with their
    /// `from` and `to` terminals.
    id: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ConnectParams {
    /// The producer terminal, `server.terminal` (an output or multiplex).
    from: String,
    /// The consumer terminal, `server.terminal` (an input or combine).
    to: String,
    /// The pipe's capacity in messages, 1 to 1048576; the producer
    /// terminal's when absent.
    #[serde(default)]
    #[schemars(range(min = 1, max = 1_048_576))]
    capacity: Option<usize>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Mode {
    /// Deliver what is queued to the consumer, then close.
    #[default]
    Drain,
    /// Discard what is queued (counted as drops) and close.
    Drop,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct DisconnectParams {
    /// The connection's id (a UUID).
    id: String,
    /// What happens to the queued messages; `drain` when absent.
    #[serde(default)]
    mode: Mode,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum SubjectKind {
    Server,
    Connection,
    Process,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct EventsParams {
    /// Only events after this sequence number (the `seq` of the last event
    /// seen: poll with it to follow the log).
    #[serde(default)]
    since: Option<u64>,
    /// Only events about servers, connections or processes.
    #[serde(default)]
    subject: Option<SubjectKind>,
    /// Only events whose subject's name or connection id or label
    /// (`from -> to`) contains this text, e.g. `column`.
    #[serde(default)]
    about: Option<String>,
    /// At most this many, the newest (default 100, at most 1000).
    #[serde(default)]
    #[schemars(range(min = 1, max = 1000))]
    limit: Option<usize>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct GuestsParams {
    /// Seven-field guest mask `fqdn:server:class/mask:owner:auth:mechanism:uuid`
    /// with `*` and `?` globs, e.g. `*:*:0x00000a00/0x0000ff00:*:*:*:*`;
    /// every guest when absent.
    #[serde(default)]
    mask: Option<String>,
    /// Exactly this many guests must match, else the error says how many do.
    #[serde(default)]
    count: Option<usize>,
}

impl Operator {
    /// Accepts a modifying tool call whose HTTP request carries the bearer
    /// token; else the refusal to answer.
    fn authorize(&self, parts: &Parts, tool: &str) -> Result<(), CallToolResult> {
        let reason = match bearer_credentials(&parts.headers) {
            Some(given) if self.token.matches(given) => return Ok(()),
            Some(_) => "the bearer token sent is wrong",
            None => "no bearer token was sent",
        };
        Err(refused(ApiError::unauthorized(format!(
            "`{tool}` modifies the kernel and needs the control surface's bearer token, sent on the MCP connection as the HTTP header `Authorization: Bearer <token>` (the kernel prints where the token is when it starts); {reason}; nothing changed"
        ))))
    }
}

#[tool_router]
impl Operator {
    /// The live topology: the kernel, every server instance with its state
    /// and terminals, every connection (pipe) with its state, rate, queue
    /// and counters, every external process. Start here.
    #[tool(annotations(read_only_hint = true))]
    fn topology(&self, Parameters(p): Parameters<TopologyParams>) -> CallToolResult {
        let t = self.control.topology();
        let text = match p.format.unwrap_or(TopologyFormat::Json) {
            TopologyFormat::Json => return ok(&t),
            TopologyFormat::Dot => t.to_dot(),
            TopologyFormat::Mermaid => t.to_mermaid(),
            TopologyFormat::Toml => t.to_wiring_toml(),
            TopologyFormat::Svg => svg::render(&t),
        };
        CallToolResult::success(vec![ContentBlock::text(text)])
    }

    /// Server instances with their state (`booting`, `running`, `finished`,
    /// `failed`, `restarting`, `stopped`), restarts, last error and
    /// terminals; one with `name`.
    #[tool(annotations(read_only_hint = true))]
    fn servers(&self, Parameters(p): Parameters<ServersParams>) -> CallToolResult {
        match p.name {
            Some(name) => answer(operations::server(&self.control, &name)),
            None => ok(&json!({ "servers": self.control.topology().servers })),
        }
    }

    /// External processes the kernel supervises, with state, pid,
    /// restarts and how the last run ended.
    #[tool(annotations(read_only_hint = true))]
    fn processes(&self) -> CallToolResult {
        ok(&json!({ "processes": self.control.topology().processes }))
    }

    /// Routes to and from other kernels over the mesh, with direction,
    /// state (`planned`, `connected`, `draining`, `closed`, `failed`), why
    /// (`reason`), and counters `sent`, `received`, `in_flight`, `lost`.
    #[tool(annotations(read_only_hint = true))]
    fn routes(&self) -> CallToolResult {
        ok(&json!({ "routes": RouteView::all(self.control.connectome()) }))
    }

    /// Connections (pipes) `from` -> `to` with their id, state (`connected`,
    /// `paused`, `draining`, ...), rate in messages per second, queue depth
    /// and fill, counters and blocked time; filter by `id` or by `server`.
    #[tool(annotations(read_only_hint = true))]
    fn connections(&self, Parameters(p): Parameters<ConnectionsParams>) -> CallToolResult {
        if let Some(id) = p.id {
            return answer(operations::connection(&self.control, &id));
        }
        let mut connections = self.control.topology().connections;
        if let Some(server) = p.server {
            if let Err(e) = operations::server(&self.control, &server) {
                return refused(e);
            }
            let prefix = format!("{server}.");
            connections.retain(|c| c.from.starts_with(&prefix) || c.to.starts_with(&prefix));
        }
        ok(&json!({ "connections": connections }))
    }

    /// A look at the messages flowing through a connection, like `ros2
    /// topic echo`: up to `count` messages as JSON, each with its number in
    /// the pipe (`seq`) and when it passed (`at_ms`), sampled at most `rate`
    /// a second, within `seconds`; `complete` is false when fewer passed.
    /// Only connections with `tap = true` in wiring.toml can be tapped.
    #[tool(annotations(read_only_hint = true))]
    async fn tap(&self, Parameters(p): Parameters<TapParams>) -> CallToolResult {
        let within = |value: Option<u32>, default: u32, max: u32, what: &str| match value {
            None => Ok(default),
            Some(v) if (1..=max).contains(&v) => Ok(v),
            Some(v) => Err(refused(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("`{what}` must be 1 to {max}, not {v}"),
            ))),
        };
        let (count, rate, seconds) = match (
            within(p.count, 5, 100, "count"),
            within(p.rate, tap::DEFAULT_RATE, tap::MAX_RATE, "rate"),
            within(p.seconds, 5, 30, "seconds"),
        ) {
            (Ok(c), Ok(r), Ok(s)) => (c as usize, r, s),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return e,
        };
        let connectome = self.control.connectome();
        let within = std::time::Duration::from_secs(u64::from(seconds));
        match tap::take(connectome, &p.id, count, rate, within).await {
            Ok(samples) => ok(&json!({
                "complete": samples.len() == count,
                "samples": samples,
            })),
            Err(e) => refused(e),
        }
    }

    /// Metrics: per connection counters, queue, rate and blocked time; per
    /// server state and restarts; totals and event log counters.
    #[tool(annotations(read_only_hint = true))]
    fn metrics(&self) -> CallToolResult {
        ok(&metrics::json(&self.control))
    }

    /// The recent transitions of the event log (servers, connections,
    /// processes; process output lines too), oldest first, filterable; each
    /// has a `seq`: pass the last one as `since` to read only what follows.
    #[tool(annotations(read_only_hint = true))]
    fn events(&self, Parameters(p): Parameters<EventsParams>) -> CallToolResult {
        let filter = EventFilter {
            since: p.since.unwrap_or(0),
            subject: p.subject.map(|s| match s {
                SubjectKind::Server => "server",
                SubjectKind::Connection => "connection",
                SubjectKind::Process => "process",
            }),
            about: p.about.as_deref(),
            limit: Some(p.limit.unwrap_or(100).clamp(1, MAX_EVENTS)),
        };
        let log = self.control.connectome().events();
        let events = operations::events(log, &filter);
        ok(&json!({
            "last_seq": log.last_seq(),
            "missed": events.missed,
            "events": events.events,
        }))
    }

    /// Peer kernels heard from by capability adverts (identity, control
    /// address, classes, last seen).
    #[tool(annotations(read_only_hint = true))]
    fn neighbours(&self) -> CallToolResult {
        ok(&operations::neighbours(&self.control))
    }

    /// Hostess: the guests (registered servers of this kernel) matching a
    /// guest mask, with the use of each terminal (`free`, `reserved`,
    /// `in_use`); with `count`, exactly that many or an error saying how
    /// many match.
    #[tool(annotations(read_only_hint = true))]
    fn hostess_guests(&self, Parameters(p): Parameters<GuestsParams>) -> CallToolResult {
        let hostess = self.control.connectome().hostess();
        answer(operations::guests(&hostess, p.mask.as_deref(), p.count))
    }

    /// Hostess: availability by class and owner (guests and terminals, and
    /// how many are free), as shared with peer kernels.
    #[tool(annotations(read_only_hint = true))]
    fn hostess_menu(&self) -> CallToolResult {
        ok(&operations::menu(&self.control.connectome().hostess()))
    }

    /// Hostess: the live reservations (holder, terminals, lease left).
    #[tool(annotations(read_only_hint = true))]
    fn hostess_reservations(&self) -> CallToolResult {
        ok(&operations::reservations(
            &self.control.connectome().hostess(),
        ))
    }

    /// Pauses a connection: its consumer takes nothing out, messages stay
    /// queued, and once the queue is full the producer blocks (back
    /// pressure up the line). Needs the bearer token. Answers the
    /// connection.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false
    ))]
    fn pause(
        &self,
        Parameters(p): Parameters<ConnectionId>,
        Extension(parts): Extension<Parts>,
    ) -> CallToolResult {
        if let Err(refusal) = self.authorize(&parts, "pause") {
            return refusal;
        }
        answer(operations::pause(&self.control, &p.id))
    }

    /// Resumes a paused connection. Needs the bearer token. Answers the
    /// connection.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false
    ))]
    fn resume(
        &self,
        Parameters(p): Parameters<ConnectionId>,
        Extension(parts): Extension<Parts>,
    ) -> CallToolResult {
        if let Err(refusal) = self.authorize(&parts, "resume") {
            return refusal;
        }
        answer(operations::resume(&self.control, &p.id))
    }

    /// Connects a producer terminal to a consumer terminal at run time
    /// (same message type, direction and fan rules as the build-time
    /// lint; `servers` shows each terminal's kind and message type). Needs
    /// the bearer token. Answers the new connection.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false
    ))]
    fn connect(
        &self,
        Parameters(p): Parameters<ConnectParams>,
        Extension(parts): Extension<Parts>,
    ) -> CallToolResult {
        if let Err(refusal) = self.authorize(&parts, "connect") {
            return refusal;
        }
        answer(operations::connect(
            &self.control,
            &p.from,
            &p.to,
            p.capacity,
        ))
    }

    /// Disconnects a connection: the producer stops feeding it; queued
    /// messages are delivered (`drain`) or discarded and counted (`drop`).
    /// Needs the bearer token.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false
    ))]
    fn disconnect(
        &self,
        Parameters(p): Parameters<DisconnectParams>,
        Extension(parts): Extension<Parts>,
    ) -> CallToolResult {
        if let Err(refusal) = self.authorize(&parts, "disconnect") {
            return refusal;
        }
        let mode = match p.mode {
            Mode::Drain => DisconnectMode::Drain,
            Mode::Drop => DisconnectMode::Drop,
        };
        answer(operations::disconnect(&self.control, &p.id, mode))
    }

    /// Restarts a server instance: it is asked to stop, its inputs end,
    /// then it is built afresh and keeps its pipes; an ended server is
    /// built afresh. Needs the bearer token. Answers the server.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false
    ))]
    fn restart(
        &self,
        Parameters(p): Parameters<ServerName>,
        Extension(parts): Extension<Parts>,
    ) -> CallToolResult {
        if let Err(refusal) = self.authorize(&parts, "restart") {
            return refusal;
        }
        answer(operations::restart(&self.control, &p.name))
    }

    /// Stops a server instance for good (until restarted); the streams it
    /// feeds end. Needs the bearer token. Answers the server.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false
    ))]
    fn stop(
        &self,
        Parameters(p): Parameters<ServerName>,
        Extension(parts): Extension<Parts>,
    ) -> CallToolResult {
        if let Err(refusal) = self.authorize(&parts, "stop") {
            return refusal;
        }
        answer(operations::stop(&self.control, &p.name))
    }
}

#[tool_handler(router = self.tools)]
impl ServerHandler for Operator {
    fn get_info(&self) -> ServerConfig {
        let kernel = self.control.connectome().spec().kernel.name;
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("kernel-control", env!("CARGO_PKG_VERSION")))
            .with_instructions(format!(
                "Operates the statically wired pipeline kernel `{kernel}`: servers (threads) exchange messages through bounded pipes (connections). Read `topology` first; `connections` gives each pipe's id, state, rate and queue; `events` the transition log. A paused or slow consumer fills its pipe and blocks its producer (back pressure). Modifying tools (pause, resume, connect, disconnect, restart, stop) need `Authorization: Bearer <token>` on this connection. Errors are JSON {{\"error\", \"status\"}} with the status the HTTP API would give."
            ))
    }
}
