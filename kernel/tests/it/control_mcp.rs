//! The MCP endpoint (`/mcp`) of the control surface, driven by rmcp's own
//! streamable HTTP client: the tools and their schemas, reading the
//! topology, pausing and resuming a pipe with the bearer token, refusals
//! without it or with a wrong one, errors as JSON, the event log and the
//! Hostess queries.
#![cfg(feature = "control")]

use crate::control_common::*;
use kernel::control::http::{ControlOptions, ControlServer, MCP_PATH};
use rmcp::model::{CallToolRequestParams, CallToolResult, Tool};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt as _};
use serde_json::{Value, json};

const TOKEN: &str = "mcp-test-token-0123456789";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// An MCP client of `server`'s `/mcp`, sending `token` as bearer token.
async fn client(server: &ControlServer, token: Option<&str>) -> RunningService<RoleClient, ()> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(format!(
        "http://{}{MCP_PATH}",
        server.addr()
    ));
    if let Some(token) = token {
        config = config.auth_header(token);
    }
    ().serve(StreamableHttpClientTransport::from_config(config))
        .await
        .expect("MCP initialize")
}

async fn call(client: &RunningService<RoleClient, ()>, tool: &str, args: Value) -> CallToolResult {
    let args = args.as_object().cloned().unwrap_or_default();
    client
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
        .await
        .unwrap_or_else(|e| panic!("calling `{tool}`: {e}"))
}

/// The structured answer of a tool that succeeded.
fn answer(result: &CallToolResult) -> &Value {
    assert_ne!(result.is_error, Some(true), "tool error: {result:?}");
    result
        .structured_content
        .as_ref()
        .expect("structured answer")
}

/// The `{"error", "status"}` of a tool that refused.
fn refusal(result: &CallToolResult) -> (String, u64) {
    assert_eq!(result.is_error, Some(true), "not refused: {result:?}");
    let body = result
        .structured_content
        .as_ref()
        .expect("structured error");
    (
        body["error"].as_str().expect("error message").to_owned(),
        body["status"].as_u64().expect("status"),
    )
}

fn serve(spec: &'static kernel::Spec) -> (Running, ControlServer) {
    let kernel = build(spec);
    let server = kernel
        .serve_control(ControlOptions::new().token(TOKEN))
        .expect("control surface");
    (Running::start(kernel), server)
}

fn read_only(tool: &Tool) -> Option<bool> {
    tool.annotations.as_ref().and_then(|a| a.read_only_hint)
}

#[test]
fn an_agent_lists_the_tools_reads_the_topology_and_pauses_and_resumes_with_the_token() {
    let (running, server) = serve(hosted_spec("mcp-operate"));
    runtime().block_on(async {
        let operator = client(&server, Some(TOKEN)).await;
        let info = operator.peer_info().expect("server info");
        assert!(
            info.instructions
                .as_deref()
                .is_some_and(|i| i.contains("mcp-operate") && i.contains("Bearer")),
            "{info:?}"
        );

        // Every tool with a description, an object schema, and a hint
        // telling reading from modifying.
        let tools = operator.list_all_tools().await.expect("tools/list");
        let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "connect",
                "connections",
                "disconnect",
                "events",
                "hostess_guests",
                "hostess_menu",
                "hostess_reservations",
                "metrics",
                "neighbours",
                "pause",
                "processes",
                "restart",
                "resume",
                "routes",
                "servers",
                "stop",
                "tap",
                "topology",
            ]
        );
        for tool in &tools {
            let description = tool.description.as_deref().unwrap_or_default();
            assert!(description.len() > 40, "{}: {description:?}", tool.name);
            assert_eq!(tool.input_schema["type"], "object", "{}", tool.name);
            let modifies = [
                "connect",
                "disconnect",
                "pause",
                "resume",
                "restart",
                "stop",
            ]
            .contains(&tool.name.as_ref());
            assert_eq!(read_only(tool), Some(!modifies), "{}", tool.name);
            if modifies {
                assert!(description.contains("bearer token"), "{}", tool.name);
            }
        }
        let pause = tools.iter().find(|t| t.name == "pause").expect("pause");
        assert_eq!(pause.input_schema["required"], json!(["id"]));
        assert_eq!(pause.input_schema["additionalProperties"], json!(false));

        // The topology, as the API has it.
        let topology = call(&operator, "topology", json!({})).await;
        let topology = answer(&topology);
        assert_eq!(topology["kernel"]["name"], "mcp-operate");
        let src_a = SRC_A.to_string();
        let pipe = topology["connections"]
            .as_array()
            .expect("connections")
            .iter()
            .find(|c| c["id"] == src_a.as_str())
            .expect("src -> a");
        assert_eq!(pipe["from"], "src.out");
        assert_eq!(pipe["state"], "connected");
        let dot = call(&operator, "topology", json!({"format": "dot"})).await;
        let text = format!("{:?}", dot.content);
        assert!(text.contains("digraph"), "{text}");

        // Pause and resume with the token.
        let paused = call(&operator, "pause", json!({ "id": src_a })).await;
        assert_eq!(answer(&paused)["state"], "paused");
        assert_eq!(running.pipe(SRC_A).state, kernel::ConnectionState::Paused);
        let resumed = call(&operator, "resume", json!({ "id": src_a })).await;
        assert_eq!(answer(&resumed)["state"], "connected");
        assert_eq!(
            running.pipe(SRC_A).state,
            kernel::ConnectionState::Connected
        );

        // The event log has both, filtered to this pipe, with the cause.
        let events = call(
            &operator,
            "events",
            json!({ "subject": "connection", "about": "src.out" }),
        )
        .await;
        let events = answer(&events);
        let transitions: Vec<(&str, &str)> = events["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["cause"] == "operator (mcp)")
            .map(|e| {
                (
                    e["from"].as_str().unwrap_or_default(),
                    e["to"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            transitions,
            [("connected", "paused"), ("paused", "connected")]
        );
        assert!(
            events["events"]
                .as_array()
                .expect("events")
                .iter()
                .all(|e| e["subject"] == "connection" && e["label"] == "src.out -> a.input"),
            "{events}"
        );
        let last = events["last_seq"].as_u64().expect("last_seq");
        let after = call(&operator, "events", json!({ "since": last })).await;
        assert_eq!(answer(&after)["events"], json!([]));

        // Refusals are the API's: status and message.
        let (error, status) = refusal(&call(&operator, "pause", json!({ "id": "nope" })).await);
        assert_eq!(status, 404, "{error}");
        assert!(error.contains("unknown connection"), "{error}");
        let (error, status) = refusal(
            &call(
                &operator,
                "connect",
                json!({ "from": "words.out", "to": "spare.input" }),
            )
            .await,
        );
        assert_eq!(status, 409, "{error}");
        assert!(error.contains("E0401"), "{error}");
        let (error, status) = refusal(&call(&operator, "servers", json!({ "name": "x" })).await);
        assert_eq!((error.as_str(), status), ("unknown server `x`", 404));
        // Arguments the schema does not allow are refused, saying which.
        let typo = call(&operator, "pause", json!({ "uid": src_a })).await;
        assert_eq!(typo.is_error, Some(true), "{typo:?}");
        assert!(format!("{:?}", typo.content).contains("unknown field `uid`"));
        assert_eq!(
            running.pipe(SRC_A).state,
            kernel::ConnectionState::Connected
        );

        // The Hostess: seven guests, exactly.
        let guests = call(&operator, "hostess_guests", json!({ "count": 7 })).await;
        assert_eq!(answer(&guests)["guests"].as_array().map(Vec::len), Some(7));
        let (error, status) =
            refusal(&call(&operator, "hostess_guests", json!({ "count": 8 })).await);
        assert_eq!(status, 409, "{error}");
        let (error, status) =
            refusal(&call(&operator, "hostess_guests", json!({ "mask": "a:b" })).await);
        assert_eq!(status, 400, "{error}");
        assert!(error.contains("guest mask"), "{error}");
        let menu = call(&operator, "hostess_menu", json!({})).await;
        assert!(answer(&menu)["entries"].is_array());
        operator.cancel().await.expect("close");
    });
}

#[test]
fn without_the_token_an_agent_reads_but_cannot_modify() {
    let (running, server) = serve(spec("mcp-refused"));
    runtime().block_on(async {
        for token in [None, Some("wrong-token")] {
            let visitor = client(&server, token).await;
            let servers = call(&visitor, "servers", json!({})).await;
            assert_eq!(
                answer(&servers)["servers"].as_array().map(Vec::len),
                Some(7)
            );
            for (tool, args) in [
                ("pause", json!({ "id": SRC_A.to_string() })),
                (
                    "disconnect",
                    json!({ "id": SRC_A.to_string(), "mode": "drop" }),
                ),
                ("connect", json!({ "from": "src.out", "to": "spare.input" })),
                ("restart", json!({ "name": "src" })),
                ("stop", json!({ "name": "a" })),
            ] {
                let (error, status) = refusal(&call(&visitor, tool, args).await);
                assert_eq!(status, 401, "{tool}: {error}");
                assert!(
                    error.contains("Authorization: Bearer") && error.contains("nothing changed"),
                    "{tool}: {error}"
                );
            }
            visitor.cancel().await.expect("close");
        }
    });
    // Nothing changed.
    assert_eq!(
        running.pipe(SRC_A).state,
        kernel::ConnectionState::Connected
    );
    assert_eq!(running.control.topology().connections.len(), 3);
    assert!(
        running
            .control
            .connectome()
            .servers()
            .iter()
            .all(|s| s.state == kernel::ServerState::Running && s.restarts == 0)
    );
}

/// Whether python3 with the `mcp` package is here; CI must have it.
fn python_mcp() -> bool {
    let found = std::process::Command::new("python3")
        .args(["-c", "import mcp.client.streamable_http"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have python3 with the mcp package (pip install mcp)"
        );
        eprintln!("skipped: python3 with the mcp package is not installed");
    }
    found
}

#[test]
fn the_python_mcp_sdk_reads_is_refused_without_the_token_and_pauses_with_it() {
    if !python_mcp() {
        return;
    }
    let (running, server) = serve(spec("mcp-python"));
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_client.py");
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(format!("http://{}{MCP_PATH}", server.addr()))
        .arg(TOKEN)
        .arg(SRC_A.to_string())
        .output()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(
        report["tools"].as_array().map(Vec::len),
        Some(18),
        "{report}"
    );
    assert_eq!(report["schemas"]["pause"]["required"], json!(["id"]));
    assert_eq!(report["topology"]["is_error"], false);
    assert_eq!(report["topology"]["value"]["kernel"]["name"], "mcp-python");
    assert_eq!(report["refused"]["is_error"], true);
    assert_eq!(report["refused"]["value"]["status"], 401);
    assert_eq!(report["paused"]["value"]["state"], "paused");
    assert_eq!(report["resumed"]["value"]["state"], "connected");
    let causes: Vec<String> = running
        .control
        .connectome()
        .events()
        .since(0)
        .events
        .iter()
        .filter(|e| e.cause == "operator (mcp)")
        .map(|e| format!("{} -> {}", e.from, e.to))
        .collect();
    assert_eq!(causes, ["connected -> paused", "paused -> connected"]);
}

#[test]
fn the_tap_tool_takes_a_bounded_sample_of_a_tappable_pipe() {
    let (_running, server) = serve(hosted_spec("mcp-tap"));
    runtime().block_on(async {
        let operator = client(&server, None).await;
        let tapped = call(
            &operator,
            "tap",
            json!({ "id": FAN_B.to_string(), "count": 3, "rate": 50 }),
        )
        .await;
        let tapped = answer(&tapped);
        assert_eq!(tapped["complete"], true, "{tapped}");
        let samples = tapped["samples"].as_array().expect("samples");
        assert_eq!(samples.len(), 3, "{tapped}");
        for s in samples {
            let seq = s["seq"].as_u64().expect("seq");
            assert_eq!(s["message"].as_u64(), Some(seq - 1), "{s}");
        }
        assert!(
            samples
                .windows(2)
                .all(|w| w[1]["seq"].as_u64() > w[0]["seq"].as_u64()),
            "{tapped}"
        );
        let refused = call(&operator, "tap", json!({ "id": SRC_A.to_string() })).await;
        let (error, status) = refusal(&refused);
        assert_eq!(status, 409);
        assert!(error.contains("tap = true"), "{error}");
        let bad = call(
            &operator,
            "tap",
            json!({ "id": FAN_B.to_string(), "count": 0 }),
        )
        .await;
        assert_eq!(refusal(&bad).1, 400);
        operator.cancel().await.ok();
    });
}
