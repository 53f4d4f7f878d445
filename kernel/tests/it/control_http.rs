//! The HTTP control surface on a running kernel: every endpoint of
//! openapi.json answers, security (401, 400, 413, 404), the event stream,
//! the exports and the metrics.
#![cfg(feature = "control")]

use crate::control_common;
use std::net::SocketAddr;

use crate::control_common::http::{Events, Response, get, request};
use crate::control_common::*;
use kernel::ServerState;
use kernel::control::http::{ControlOptions, ControlServer};

const TOKEN: &str = "test-token-0123456789";

fn serve(name: &'static str) -> (Running, ControlServer, SocketAddr) {
    serve_spec(spec(name))
}

fn serve_spec(spec: &'static kernel::Spec) -> (Running, ControlServer, SocketAddr) {
    let kernel = build(spec);
    let server = kernel
        .serve_control(ControlOptions::new().token(TOKEN))
        .expect("control surface");
    let addr = server.addr();
    (Running::start(kernel), server, addr)
}

fn auth() -> [(&'static str, &'static str); 1] {
    [("Authorization", "Bearer test-token-0123456789")]
}

fn post(addr: SocketAddr, path: &str, body: &str) -> Response {
    request(
        addr,
        "POST",
        path,
        &[
            ("Authorization", &format!("Bearer {TOKEN}")),
            ("Content-Type", "application/json"),
        ],
        body.as_bytes(),
    )
}

#[test]
fn every_endpoint_in_openapi_answers() {
    // A supervised process too, for the `/api/v1/processes/{name}` path.
    let mut kernel = build(hosted_spec("http-all"));
    kernel
        .add_process(kernel::Process::new("idle", "sleep").arg("60"))
        .expect("process");
    let _server = kernel
        .serve_control(ControlOptions::new().token(TOKEN))
        .expect("control surface");
    let addr = _server.addr();
    let running = Running::start(kernel);
    let doc = get(addr, "/api/v1/openapi.json").json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    let id = FAN_MERGE.to_string();
    let mut answered = Vec::new();
    // A reservation of the Hostess for its `{id}` paths.
    let words = running
        .control
        .connectome()
        .spec()
        .server("words")
        .expect("words")
        .uuid
        .to_string();
    let r = post(
        addr,
        "/api/v1/hostess/reservations",
        &format!(
            r#"{{"ttl_ms": 60000, "terminals": [{{"guest": "{words}", "terminal": "out"}}]}}"#
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let reservation = r.json()["id"].as_str().expect("id").to_owned();
    answered.push("POST /api/v1/hostess/reservations".to_owned());
    // Reading calls first, then the modifying ones in an order that works.
    for (path, item) in paths {
        if item.get("get").is_none() {
            continue;
        }
        let url = if path.starts_with("/api/v1/hostess/") {
            path.replace("{id}", &reservation).replace("{uuid}", &words)
        } else if path.starts_with("/api/v1/processes/") {
            path.replace("{name}", "idle")
        } else {
            path.replace("{id}", &id).replace("{name}", "b")
        };
        let r = if url == "/api/v1/events" {
            let mut events = Events::open(addr, &url);
            events.until("tick", "connections");
            answered.push(format!("GET {path}"));
            continue;
        } else if url.ends_with("/tap") {
            let mut samples = Events::open(addr, &url);
            samples.until("sample", "message");
            answered.push(format!("GET {path}"));
            continue;
        } else {
            get(addr, &url)
        };
        assert_eq!(r.status, 200, "GET {url}: {}", r.body);
        answered.push(format!("GET {path}"));
    }
    let r = post(addr, &format!("/api/v1/connections/{id}/pause"), "");
    assert_eq!(
        (r.status, r.json()["state"].as_str()),
        (200, Some("paused"))
    );
    let r = post(addr, &format!("/api/v1/connections/{id}/resume"), "");
    assert_eq!(
        (r.status, r.json()["state"].as_str()),
        (200, Some("connected"))
    );
    let r = post(
        addr,
        "/api/v1/connections",
        r#"{"from": "fan.out", "to": "spare.input", "capacity": 32}"#,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let new_id = r.json()["id"].as_str().expect("id").to_owned();
    assert_eq!(r.json()["capacity"], 32);
    let r = request(
        addr,
        "DELETE",
        &format!("/api/v1/connections/{new_id}?mode=drop"),
        &auth(),
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["dropped"].is_u64());
    let r = post(addr, "/api/v1/servers/b/restart", "");
    assert_eq!(r.status, 202, "{}", r.body);
    running.wait_until("b restarted", |c| {
        c.connectome().server("b").is_some_and(|s| s.restarts == 1)
    });
    let r = post(addr, "/api/v1/servers/spare/stop", "");
    assert_eq!(r.status, 202, "{}", r.body);
    running.wait_until("spare stopped", |c| {
        c.connectome()
            .server("spare")
            .is_some_and(|s| s.state == ServerState::Stopped)
    });
    let r = post(
        addr,
        &format!("/api/v1/hostess/reservations/{reservation}/renew"),
        "",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = request(
        addr,
        "DELETE",
        &format!("/api/v1/hostess/reservations/{reservation}"),
        &auth(),
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    for done in [
        "POST /api/v1/hostess/reservations/{id}/renew",
        "DELETE /api/v1/hostess/reservations/{id}",
        "POST /api/v1/connections/{id}/pause",
        "POST /api/v1/connections/{id}/resume",
        "POST /api/v1/connections",
        "DELETE /api/v1/connections/{id}",
        "POST /api/v1/servers/{name}/restart",
        "POST /api/v1/servers/{name}/stop",
    ] {
        answered.push(done.to_owned());
    }
    // Everything documented was called, and nothing else exists.
    let mut documented: Vec<String> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flat_map(|m| m.keys())
                .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    documented.sort();
    answered.sort();
    assert_eq!(documented, answered);
    running.finish().expect("kernel ends cleanly");
}

#[test]
fn modifying_calls_need_the_token_and_bad_requests_change_nothing() {
    let (running, _server, addr) = serve("http-security");
    let id = SRC_A.to_string();
    let pause = format!("/api/v1/connections/{id}/pause");
    let seq = || running.control.connectome().events().last_seq();
    let before = seq();
    // Without a token, with a wrong one: 401, nothing changes.
    let r = request(addr, "POST", &pause, &[], b"");
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").is_some());
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap_or_default()
            .contains("Bearer")
    );
    let r = request(
        addr,
        "POST",
        &pause,
        &[("Authorization", "Bearer wrong")],
        b"",
    );
    assert_eq!(r.status, 401);
    let r = request(
        addr,
        "POST",
        "/api/v1/servers/a/stop",
        &[("Authorization", "Basic x")],
        b"",
    );
    assert_eq!(r.status, 401);
    let r = request(
        addr,
        "POST",
        "/api/v1/connections",
        &[],
        br#"{"from": "fan.out", "to": "spare.input"}"#,
    );
    assert_eq!(r.status, 401);
    assert_eq!(seq(), before, "a refused call logged a transition");
    assert_eq!(
        running.pipe(SRC_A).state,
        kernel::ConnectionState::Connected
    );
    assert_eq!(running.control.connectome().pipes().len(), 3);
    // Malformed JSON: 400 with a message.
    for body in [
        "{not json",
        r#"{"from": 1}"#,
        r#"{"from": "a.b", "to": "c.d", "x": 1}"#,
        "",
    ] {
        let r = post(addr, "/api/v1/connections", body);
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap_or_default()
                .contains("malformed JSON")
        );
    }
    let r = post(
        addr,
        "/api/v1/connections",
        r#"{"from": "fan", "to": "spare.input"}"#,
    );
    assert_eq!(r.status, 400, "{}", r.body);
    // Over 64 KiB: 413.
    let big = format!(
        r#"{{"from": "fan.out", "to": "spare.input", "pad": "{}"}}"#,
        "x".repeat(70 * 1024)
    );
    let r = post(addr, "/api/v1/connections", &big);
    assert_eq!(r.status, 413, "{}", r.body);
    // Unknown ids and names: 404.
    let unknown = "6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0f";
    for (method, path) in [
        ("GET", format!("/api/v1/connections/{unknown}")),
        ("GET", "/api/v1/connections/not-a-uuid".to_owned()),
        ("GET", "/api/v1/servers/nobody".to_owned()),
        ("POST", format!("/api/v1/connections/{unknown}/pause")),
        ("POST", format!("/api/v1/connections/{unknown}/resume")),
        ("DELETE", format!("/api/v1/connections/{unknown}")),
        ("POST", "/api/v1/servers/nobody/restart".to_owned()),
        ("POST", "/api/v1/servers/nobody/stop".to_owned()),
        ("GET", "/api/v1/nothing".to_owned()),
    ] {
        let r = request(addr, method, &path, &auth(), b"");
        assert_eq!(r.status, 404, "{method} {path}: {}", r.body);
    }
    let r = post(
        addr,
        "/api/v1/connections",
        r#"{"from": "nobody.out", "to": "spare.input"}"#,
    );
    assert_eq!(r.status, 404);
    // A rule violation: 409 with the lint code.
    let r = post(
        addr,
        "/api/v1/connections",
        r#"{"from": "src.out", "to": "spare.input"}"#,
    );
    assert_eq!(r.status, 409);
    assert!(r.body.contains("E0301"), "{}", r.body);
    assert_eq!(seq(), before, "a refused call logged a transition");
    running.finish().expect("kernel ends cleanly");
}

#[test]
fn events_stream_transitions_and_ticks() {
    let (running, _server, addr) = serve("http-events");
    let mut events = Events::open(addr, "/api/v1/events");
    let tick = events.until("tick", "connections");
    let tick: serde_json::Value = serde_json::from_str(&tick).expect("tick JSON");
    assert_eq!(tick["connections"].as_array().map(Vec::len), Some(3));
    let r = post(addr, &format!("/api/v1/connections/{SRC_A}/pause"), "");
    assert_eq!(r.status, 200);
    let data = events.until("transition", r#""to":"paused""#);
    assert!(data.contains(&SRC_A.to_string()), "{data}");
    assert!(data.contains("operator (http)"), "{data}");
    let log = get(addr, "/api/v1/events?format=json").json();
    assert!(log["events"].as_array().is_some_and(|e| e.len() > 5));
    running.finish().expect("kernel ends cleanly");
}

#[test]
fn topology_exports_and_metrics() {
    let (running, _server, addr) = serve("http-exports");
    running.wait_until("flow", |c| {
        c.connectome()
            .pipe(FAN_B)
            .is_some_and(|p| p.messages_out > 10)
    });
    let t = get(addr, "/api/v1/topology").json();
    assert_eq!(t["servers"].as_array().map(Vec::len), Some(7));
    assert_eq!(t["connections"].as_array().map(Vec::len), Some(3));
    let dot = get(addr, "/api/v1/topology?format=dot");
    assert_eq!(dot.status, 200);
    assert!(
        dot.body.starts_with("digraph \"http-exports\" {"),
        "{}",
        dot.body
    );
    assert!(dot.body.contains("fan-out fan.out"), "{}", dot.body);
    check_with_graphviz(&dot.body);
    let mermaid = get(addr, "/api/v1/topology?format=mermaid").body;
    assert!(mermaid.starts_with("flowchart LR\n"));
    assert!(mermaid.contains("fan-out fan.out"), "{mermaid}");
    let toml_text = get(addr, "/api/v1/topology?format=toml").body;
    let doc: toml::Table = toml::from_str(&toml_text).expect("exported wiring.toml parses");
    assert_eq!(doc["servers"].as_table().map(|s| s.len()), Some(7));
    assert!(
        toml_text.contains(r#"to = ["b.input", "merge.inputs"]"#),
        "{toml_text}"
    );
    let svg = get(addr, "/api/v1/topology?format=svg");
    assert_eq!(
        svg.header("content-type"),
        Some("image/svg+xml; charset=utf-8")
    );
    assert_eq!(svg.body.matches(r#"<g class="conn""#).count(), 3);
    assert_eq!(svg.body.matches(r#"<g class="server""#).count(), 7);
    // The snapshot drawn, embedded: what the HMI's tables show.
    let embedded = svg
        .body
        .split_once(r#"<metadata id="snapshot">"#)
        .and_then(|(_, rest)| rest.split_once("</metadata>"))
        .map(|(json, _)| {
            json.replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .expect("the embedded snapshot");
    let snapshot: serde_json::Value = serde_json::from_str(&embedded).expect("snapshot JSON");
    assert_eq!(snapshot["kernel"]["name"], "http-exports");
    assert_eq!(snapshot["connections"].as_array().map(Vec::len), Some(3));
    for c in snapshot["connections"].as_array().into_iter().flatten() {
        let drawn = format!(
            r#"data-id="{}" data-from="{}" data-to="{}" data-state="{}" data-stalled="{}" data-rate="{:.3}""#,
            c["id"].as_str().unwrap_or_default(),
            c["from"].as_str().unwrap_or_default(),
            c["to"].as_str().unwrap_or_default(),
            c["state"].as_str().unwrap_or_default(),
            c["stalled"].as_bool().unwrap_or_default(),
            c["rate"].as_f64().unwrap_or(-1.0),
        );
        assert!(svg.body.contains(&drawn), "{drawn} not drawn");
    }
    assert_eq!(get(addr, "/api/v1/topology?format=png").status, 400);
    let metrics = get(addr, "/metrics");
    assert!(
        metrics
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/openmetrics-text"))
    );
    for needle in [
        "# TYPE kernel_pipe_messages_out counter",
        "kernel_pipe_messages_out_total{kernel=\"http-exports\",pipe=\"00000000-0000-0000-0000-000000000002\"",
        "kernel_pipe_queue_depth{",
        "kernel_server_state{kernel=\"http-exports\",server=\"src\",state=\"running\"} 1",
        "kernel_connection_state{",
        "# EOF",
    ] {
        assert!(
            metrics.body.contains(needle),
            "missing {needle} in\n{}",
            metrics.body
        );
    }
    let m = get(addr, "/api/v1/metrics").json();
    assert!(m["totals"]["messages_out"].as_u64().is_some_and(|n| n > 0));
    let page = get(addr, "/");
    assert!(page.body.contains("<svg") || page.body.contains("topology?format=svg"));
    assert!(
        !page.body.contains("http://") && !page.body.contains("https://"),
        "no external fetch"
    );
    running.finish().expect("kernel ends cleanly");
}

/// `dot -Tsvg` must accept the DOT; graphviz is installed by `.ci/run`.
fn check_with_graphviz(dot: &str) {
    use std::io::Write as _;
    let child = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!(
                "skipping the graphviz check: `dot` is not installed ({e}); apt-get install graphviz"
            );
            return;
        }
        Err(e) => panic!("`dot` is required in CI (apt-get install graphviz): {e}"),
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(dot.as_bytes())
        .expect("write dot");
    let out = child.wait_with_output().expect("dot");
    assert!(
        out.status.success(),
        "dot -Tsvg refused the DOT:\n{}\n{dot}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("<svg"));
}

#[test]
fn a_generated_token_is_written_for_the_owner_only() {
    let kernel = build(spec("http-token"));
    let dir = std::env::temp_dir().join(format!("kernel-token-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let server = kernel
        .serve_control(ControlOptions::new().token_dir(&dir))
        .expect("serve");
    let path = server.token_file().expect("a token file").to_owned();
    let text = std::fs::read_to_string(&path).expect("read token");
    assert_eq!(text.trim(), server.token());
    assert_eq!(server.token().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(server.addr().ip().is_loopback());
    drop(server);
    assert!(!path.exists(), "the token file is removed at shutdown");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The uuid of server `name` of a running plant.
fn uuid_of(running: &Running, name: &str) -> String {
    running
        .control
        .connectome()
        .spec()
        .server(name)
        .expect("server")
        .uuid
        .to_string()
}

/// `(state, connectome ids)` of `terminal` of guest `uuid`, over HTTP.
fn terminal_use(addr: SocketAddr, uuid: &str, terminal: &str) -> (String, Vec<String>) {
    let (state, _, ids) = control_common::http::terminal_use(addr, uuid, terminal);
    (state, ids)
}

#[test]
fn the_hostess_is_served_under_the_api_with_the_same_token() {
    let kernel = build(hosted_spec("http-hostess"));
    let server = kernel
        .serve_control(
            ControlOptions::new()
                .token(TOKEN)
                .hostess_peer("plant-b", "shared secret"),
        )
        .expect("control surface");
    let addr = server.addr();
    let running = Running::start(kernel);

    // Queries by mask and count; the wiring's terminals are booked.
    let r = get(addr, "/api/v1/hostess/guests?mask=*:b:*:*:*:*:*&count=1");
    assert_eq!(r.status, 200, "{}", r.body);
    let guests = r.json();
    assert_eq!(guests["guests"].as_array().map(Vec::len), Some(1));
    assert_eq!(guests["guests"][0]["server"], "b");
    assert_eq!(guests["guests"][0]["terminals"][0]["state"], "in_use");
    assert_eq!(
        guests["guests"][0]["terminals"][0]["connectome"][0],
        FAN_B.to_string()
    );
    let r = get(addr, "/api/v1/hostess/guests?mask=*:*:*:test:*:*:*&count=8");
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(
        (r.json()["wanted"].as_u64(), r.json()["found"].as_u64()),
        (Some(8), Some(7))
    );
    let r = get(addr, "/api/v1/hostess/guests?mask=nonsense");
    assert_eq!(r.status, 400, "{}", r.body);
    let r = get(addr, "/api/v1/hostess/menu");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["entries"][0]["guests"], 7);

    // Modifying calls take the control surface's token, checked by the
    // Hostess itself.
    let words = uuid_of(&running, "words");
    let body = format!(r#"{{"terminals": [{{"guest": "{words}", "terminal": "out"}}]}}"#);
    let r = request(
        addr,
        "POST",
        "/api/v1/hostess/reservations",
        &[],
        body.as_bytes(),
    );
    assert_eq!(r.status, 401, "{}", r.body);
    let r = request(
        addr,
        "POST",
        "/api/v1/hostess/reservations",
        &[("Authorization", "Bearer wrong")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 401, "{}", r.body);
    let r = request(
        addr,
        "POST",
        "/api/v1/hostess/reservations",
        &auth(),
        &vec![b' '; 65 * 1024],
    );
    assert_eq!(r.status, 413);
    // A phone call carries no bearer token: it reaches the Hostess, which
    // checks its signature.
    let r = request(
        addr,
        "POST",
        "/api/v1/hostess/reservations",
        &[("x-hostess-peer", "plant-b"), ("x-hostess-signature", "00")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.body.contains("phone call refused"), "{}", r.body);
    let phone = kernel::hostess::phone::PhoneClient::new(
        addr,
        "/api/v1/hostess",
        "http-hostess",
        "plant-b",
        "shared secret",
    );
    // The same peer and secret, but signed for another kernel: refused.
    let elsewhere = kernel::hostess::phone::PhoneClient::new(
        addr,
        "/api/v1/hostess",
        "plant-z",
        "plant-b",
        "shared secret",
    );
    let r = elsewhere
        .call("POST", "/reservations", body.as_bytes())
        .expect("phone call");
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(
        r.body
            .contains("addressed to kernel `plant-z`, not to `http-hostess`"),
        "{}",
        r.body
    );
    let r = phone
        .call("POST", "/reservations", body.as_bytes())
        .expect("phone call");
    assert_eq!(r.status, 201, "{}", r.body);
    let grant: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(grant["holder"], "peer:plant-b");
    assert_eq!(terminal_use(addr, &words, "out").0, "reserved");
    let r = phone
        .call(
            "DELETE",
            &format!("/reservations/{}", grant["id"].as_str().expect("id")),
            b"",
        )
        .expect("phone call");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(terminal_use(addr, &words, "out").0, "free");

    // A live connect books both terminals under the new id; a disconnect
    // frees them again.
    let spare = uuid_of(&running, "spare");
    let fan = uuid_of(&running, "fan");
    let r = post(
        addr,
        "/api/v1/connections",
        r#"{"from": "fan.out", "to": "spare.input"}"#,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().expect("id").to_owned();
    assert_eq!(
        terminal_use(addr, &spare, "input"),
        ("in_use".to_owned(), vec![id.clone()])
    );
    assert_eq!(terminal_use(addr, &fan, "out").1.len(), 3);
    let r = request(
        addr,
        "DELETE",
        &format!("/api/v1/connections/{id}?mode=drop"),
        &auth(),
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        terminal_use(addr, &spare, "input"),
        ("free".to_owned(), vec![])
    );
    assert_eq!(terminal_use(addr, &fan, "out").1.len(), 2);

    // The topology shows each server's guest and each terminal's ids.
    let t = get(addr, "/api/v1/topology").json();
    let fan_view = t["servers"]
        .as_array()
        .expect("servers")
        .iter()
        .find(|s| s["name"] == "fan")
        .cloned()
        .expect("fan");
    assert_eq!(fan_view["guest"], fan_view["identity"]);
    assert_eq!(fan_view["terminals"][0]["booking"], "in_use");
    assert_eq!(
        fan_view["terminals"][0]["connectome"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let doc = get(addr, "/api/v1/openapi.json").json();
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["Server"]["properties"]["guest"].is_object());
    assert!(schemas["Terminal"]["properties"]["connectome"].is_object());
    assert!(schemas["GuestJson"].is_object());
    running.finish().expect("kernel ends cleanly");
}

#[test]
fn run_serves_on_the_listen_address_of_the_spec() {
    let spec: &'static kernel::Spec = Box::leak(Box::new(kernel::Spec {
        control: Some("127.0.0.1:0"),
        processes: &[],
        mesh: None,
        routes: &[],
        source: None,
        ..*spec("http-spec-listen")
    }));
    let running = Running::start(build(spec));
    running.wait_until("the control surface serves", |c| {
        c.connectome().control_addr().is_some()
    });
    let addr = running
        .control
        .connectome()
        .control_addr()
        .expect("control address");
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
    let r = get(addr, "/api/v1/connections");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(&SRC_A.to_string()), "{}", r.body);
    // The export keeps where to serve.
    let exported = running.control.topology().to_wiring_toml();
    assert!(
        exported.contains("\n[control]\nlisten = \"127.0.0.1:0\"\n"),
        "{exported}"
    );
    let control = running.control.clone();
    running.finish().expect("clean stop");
    assert_eq!(control.connectome().control_addr(), None);
}

#[test]
fn serve_control_wins_over_the_listen_address_of_the_spec() {
    let spec: &'static kernel::Spec = Box::leak(Box::new(kernel::Spec {
        control: Some("127.0.0.1:0"),
        processes: &[],
        mesh: None,
        routes: &[],
        source: None,
        ..*spec("http-spec-explicit")
    }));
    let (running, server, addr) = serve_spec(spec);
    assert_eq!(running.control.connectome().control_addr(), Some(addr));
    assert_eq!(get(addr, "/api/v1/connections").status, 200);
    drop(running);
    drop(server);
}

#[test]
fn the_control_surface_outlives_its_servers_so_one_can_be_restarted() {
    let (running, _server, addr) = serve("http-outlives");
    let names: Vec<String> = get(addr, "/api/v1/servers")
        .json()
        .as_array()
        .expect("servers")
        .iter()
        .filter_map(|s| s["name"].as_str().map(str::to_owned))
        .collect();
    for name in &names {
        let r = post(addr, &format!("/api/v1/servers/{name}/stop"), "");
        // A server may have ended already when its producers stopped.
        assert!(
            matches!(r.status, 202 | 409),
            "{name}: {} {}",
            r.status,
            r.body
        );
    }
    running.wait_until("every server has ended", |c| {
        c.topology()
            .servers
            .iter()
            .all(|s| s.state != "running" && s.state != "booting")
    });
    // Longer than the kernel's poll: it would have ended by now.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        running.control.connectome().is_running(),
        "the kernel ended"
    );
    assert_eq!(get(addr, "/").status, 200);
    assert_eq!(get(addr, "/api/v1/servers").status, 200);
    assert_eq!(get(addr, "/metrics").status, 200);
    // An ended server can be restarted (built afresh, its pipes released:
    // `spare` waits for a live connection), but not stopped again.
    let r = post(addr, "/api/v1/servers/spare/restart", "");
    assert_eq!(r.status, 202, "{}", r.body);
    let runs = |c: &kernel::Control| {
        c.topology()
            .server("spare")
            .is_some_and(|s| s.state == "running" && s.restarts == 1)
    };
    running.wait_until("spare runs again", runs);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(runs(&running.control), "{:#?}", running.control.topology());
    let r = post(addr, "/api/v1/servers/words/stop", "");
    assert_eq!(r.status, 409, "{}", r.body);
    // ctrl-c (the stop signal) ends it.
    assert!(running.finish().is_ok());
}

#[test]
fn every_refusal_is_json_with_its_status() {
    let (_running, _server, addr) = serve("http-json-errors");
    let json_error = |r: &Response| {
        assert_eq!(
            r.header("content-type"),
            Some("application/json"),
            "{} {}",
            r.status,
            r.body
        );
        r.json()["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {}", r.body))
            .to_owned()
    };
    let id = FAN_MERGE.to_string();
    // axum's own refusals, before any handler runs.
    let r = get(addr, "/api/v1/connections?x=1/../nope");
    assert_eq!(r.status, 200, "{}", r.body);
    let r = get(addr, "/api/v1/topology?format=json&format=dot");
    assert_eq!(r.status, 400);
    assert!(json_error(&r).contains("duplicate field"), "{}", r.body);
    let r = get(addr, "/api/v1/topology?format=png");
    assert_eq!(r.status, 400);
    json_error(&r);
    let r = get(addr, "/api/v1/nowhere");
    assert_eq!(r.status, 404);
    assert!(json_error(&r).contains("GET /api/v1/"), "{}", r.body);
    let r = request(addr, "PUT", "/api/v1/servers", &[], b"");
    assert_eq!(r.status, 405);
    assert!(r.header("allow").is_some_and(|a| a.contains("GET")));
    assert!(json_error(&r).contains("method not allowed"), "{}", r.body);
    let r = request(addr, "DELETE", "/api/v1/hostess/menu", &[], b"");
    assert_eq!(r.status, 405);
    json_error(&r);
    let r = get(addr, "/api/v1/hostess/guests?mask=*:*:*:*:*:*:*&mask=x");
    assert_eq!(r.status, 400);
    json_error(&r);
    let r = get(addr, "/api/v1/events?since=-1&format=json");
    assert_eq!(r.status, 400);
    json_error(&r);
    // A bad body: malformed JSON, a wrong content type, too large.
    let token = format!("Bearer {TOKEN}");
    let bad = request(
        addr,
        "POST",
        "/api/v1/connections",
        &[
            ("Authorization", &token),
            ("Content-Type", "application/json"),
        ],
        b"{\"from\": ",
    );
    assert_eq!(bad.status, 400);
    assert!(json_error(&bad).contains("malformed JSON"), "{}", bad.body);
    let text = request(
        addr,
        "POST",
        "/api/v1/connections",
        &[("Authorization", &token), ("Content-Type", "text/plain")],
        br#"{"from": "src.out", "to": "spare.input"}"#,
    );
    assert_eq!(text.status, 415);
    json_error(&text);
    let hostess = request(
        addr,
        "POST",
        "/api/v1/hostess/reservations",
        &[("Authorization", &token)],
        br#"{"wants": []}"#,
    );
    assert_eq!(hostess.status, 415);
    json_error(&hostess);
    // The bearer scheme is case-insensitive; a wrong token is 401 with a
    // challenge.
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let r = request(
            addr,
            "POST",
            &format!("/api/v1/connections/{id}/pause"),
            &[("Authorization", &format!("{scheme} {TOKEN}"))],
            b"",
        );
        assert_eq!(r.status, 200, "{scheme}: {}", r.body);
        let r = request(
            addr,
            "POST",
            &format!("/api/v1/connections/{id}/resume"),
            &[("Authorization", &format!("{scheme} {TOKEN}"))],
            b"",
        );
        assert_eq!(r.status, 200, "{scheme}: {}", r.body);
    }
    let r = request(
        addr,
        "POST",
        &format!("/api/v1/connections/{id}/pause"),
        &[("Authorization", "Bearer nope")],
        b"",
    );
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").is_some());
    json_error(&r);
    // `GET /api/v1/` lists every path of the OpenAPI document.
    let index = get(addr, "/api/v1/").json();
    let doc = get(addr, "/api/v1/openapi.json").json();
    let listed: std::collections::BTreeSet<String> = index["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .filter_map(|e| e["path"].as_str().map(str::to_owned))
        .collect();
    let documented: std::collections::BTreeSet<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .cloned()
        .collect();
    assert_eq!(listed, documented);
    assert!(listed.contains("/api/v1/hostess/reservations/{id}/renew"));
}
