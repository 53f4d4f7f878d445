//! The HMI page in a real headless Chromium, driven over the DevTools
//! protocol: load the page from a running `refinery --serve`, wait for the
//! live update, check that every server and connection is drawn with a
//! non-zero rate, click pause on one connection (answering the token
//! prompt) and see its state change. Screenshots are saved as
//! `target/hmi.png` (flowing) and `target/hmi-paused.png`.
//!
//! Skipped, saying so, only when chromium is not installed and `CI` is
//! unset; `.ci/run` installs it.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join(name))
                    .find(|p| p.is_file())
            })
        })
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// Kills a child process when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A DevTools client on the browser's websocket; answers every JavaScript
/// prompt with the token.
struct Cdp {
    ws: tungstenite::WebSocket<TcpStream>,
    next: u64,
    token: String,
    prompts: usize,
}

impl Cdp {
    fn connect(url: &str, token: &str) -> Cdp {
        let rest = url.strip_prefix("ws://").expect("ws url");
        let host = rest.split('/').next().expect("host");
        let stream = TcpStream::connect(host).expect("connect to devtools");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let (ws, _) = tungstenite::client::client(url, stream).expect("websocket handshake");
        Cdp {
            ws,
            next: 1,
            token: token.to_owned(),
            prompts: 0,
        }
    }

    fn send(&mut self, session: Option<&str>, method: &str, params: Value) -> u64 {
        let id = self.next;
        self.next += 1;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.ws
            .send(tungstenite::Message::text(msg.to_string()))
            .expect("send to devtools");
        id
    }

    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.send(session, method, params);
        loop {
            let msg = self.ws.read().expect("read from devtools");
            let tungstenite::Message::Text(text) = msg else {
                continue;
            };
            let v: Value = serde_json::from_str(text.as_str()).expect("devtools JSON");
            if v["method"] == "Page.javascriptDialogOpening" {
                self.prompts += 1;
                let token = self.token.clone();
                let s = v["sessionId"].as_str().map(str::to_owned);
                self.send(
                    s.as_deref(),
                    "Page.handleJavaScriptDialog",
                    json!({ "accept": true, "promptText": token }),
                );
                continue;
            }
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method} failed: {v}");
                return v["result"].clone();
            }
        }
    }

    fn eval(&mut self, session: &str, js: &str) -> Value {
        let r = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({ "expression": js, "returnByValue": true, "awaitPromise": true }),
        );
        r["result"]["value"].clone()
    }

    fn screenshot(&mut self, session: &str, path: &Path) {
        let r = self.call(
            Some(session),
            "Page.captureScreenshot",
            json!({ "format": "png", "captureBeyondViewport": true }),
        );
        let png = base64(r["data"].as_str().expect("screenshot data"));
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        std::fs::write(path, png).expect("write screenshot");
    }
}

fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in text.bytes().filter_map(value) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

const STATE_JS: &str = r#"JSON.stringify({
  updates: +document.body.dataset.updates,
  live: document.body.dataset.live,
  servers: [...document.querySelectorAll('#graph g.server')].map(g => ({ name: g.dataset.name, state: g.dataset.state })),
  conns: [...document.querySelectorAll('#graph g.conn')].map(g => ({ id: g.dataset.id, to: g.dataset.to, state: g.dataset.state, rate: parseFloat(g.dataset.rate) })),
  rows: [...document.querySelectorAll('#connections tbody tr')].map(r => ({ id: r.dataset.id, state: r.dataset.state })),
  fans: document.querySelectorAll('#graph g.fan').length,
})"#;

fn page_state(cdp: &mut Cdp, session: &str) -> Value {
    let text = cdp.eval(session, STATE_JS);
    serde_json::from_str(text.as_str().unwrap_or("{}")).unwrap_or(Value::Null)
}

fn wait_for(cdp: &mut Cdp, session: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let state = page_state(cdp, session);
        if check(&state) {
            return state;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting until {what}; page state: {state:#}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_hmi_shows_the_live_refinery_and_pauses_a_connection() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is required in CI (apt-get install chromium)"
        );
        eprintln!(
            "SKIPPED: chromium is not installed (apt-get install chromium); the HMI test did not run"
        );
        return;
    };
    // The plant, serving.
    let mut plant = Command::new(env!("CARGO_BIN_EXE_refinery"))
        .arg("--serve")
        .env("KERNEL_CONTROL_LISTEN", "127.0.0.1:0")
        .env_remove("KERNEL_CONTROL_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start refinery --serve");
    let stdout = plant.stdout.take().expect("stdout");
    let pid = plant.id();
    let mut plant = Guard(plant);
    let mut lines = BufReader::new(stdout).lines();
    let (mut url, mut token) = (String::new(), String::new());
    for line in lines.by_ref() {
        let line = line.expect("stdout line");
        if let Some(u) = line.strip_prefix("HMI: ") {
            url = u.to_owned();
        }
        if let Some(t) = line.strip_prefix("token: ") {
            token = t.to_owned();
        }
        if line.starts_with("ctrl-c") {
            break;
        }
    }
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "no HMI address printed"
    );
    assert_eq!(token.len(), 64, "no token printed");

    // The browser.
    let profile = std::env::temp_dir().join(format!("refinery-hmi-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).expect("profile dir");
    let chrome = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--remote-debugging-port=0",
            "--window-size=1600,1200",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let _chrome = Guard(chrome);
    let port_file = profile.join("DevToolsActivePort");
    let start = Instant::now();
    let ws_url = loop {
        if let Ok(text) = std::fs::read_to_string(&port_file)
            && let [port, path, ..] = text.lines().collect::<Vec<_>>()[..]
        {
            break format!("ws://127.0.0.1:{port}{path}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "chromium did not open its DevTools port"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut cdp = Cdp::connect(&ws_url, &token);
    let target = cdp.call(None, "Target.createTarget", json!({ "url": "about:blank" }));
    let target_id = target["targetId"].as_str().expect("target id").to_owned();
    let attached = cdp.call(
        None,
        "Target.attachToTarget",
        json!({ "targetId": target_id, "flatten": true }),
    );
    let session = attached["sessionId"].as_str().expect("session").to_owned();
    cdp.call(Some(&session), "Page.enable", json!({}));
    cdp.call(Some(&session), "Runtime.enable", json!({}));
    cdp.call(
        Some(&session),
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": 1600, "height": 1200, "deviceScaleFactor": 1, "mobile": false }),
    );
    cdp.call(Some(&session), "Page.navigate", json!({ "url": url }));

    // Live: every server and every connection drawn, every rate above zero.
    let state = wait_for(&mut cdp, &session, "the live topology with rates", |s| {
        s["live"] == "true"
            && s["updates"].as_u64().unwrap_or(0) >= 3
            && s["servers"].as_array().is_some_and(|v| v.len() == 7)
            && s["conns"].as_array().is_some_and(|v| {
                v.len() == 6 && v.iter().all(|c| c["rate"].as_f64().unwrap_or(0.0) > 0.0)
            })
    });
    let names: Vec<&str> = state["servers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .collect();
    for server in [
        "north_well",
        "south_well",
        "manifold",
        "column",
        "tank_farm",
        "alarm",
        "historian",
    ] {
        assert!(names.contains(&server), "{server} not drawn: {names:?}");
    }
    assert_eq!(state["fans"], 2, "fan-in and fan-out junctions: {state:#}");
    let target = target_dir();
    std::fs::create_dir_all(&target).expect("target dir");
    cdp.screenshot(&session, &target.join("hmi.png"));

    // Pause the alarm's connection with the page's button.
    let alarm = state["conns"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["to"] == "alarm.cuts")
        .and_then(|c| c["id"].as_str())
        .expect("alarm connection")
        .to_owned();
    let clicked = cdp.eval(
        &session,
        &format!(
            r#"(() => {{ const b = document.querySelector('button[data-action="pause"][data-id="{alarm}"]'); if (!b) return false; b.click(); return true; }})()"#
        ),
    );
    assert_eq!(clicked, json!(true), "no pause button for {alarm}");
    wait_for(&mut cdp, &session, "the connection shows as paused", |s| {
        let paused = |list: &Value| {
            list.as_array()
                .into_iter()
                .flatten()
                .any(|c| c["id"] == alarm.as_str() && c["state"] == "paused")
        };
        paused(&s["conns"]) && paused(&s["rows"])
    });
    assert_eq!(cdp.prompts, 1, "the page asks for the token once");
    cdp.screenshot(&session, &target.join("hmi-paused.png"));
    let _ = cdp.call(None, "Browser.close", json!({}));

    // ctrl-c stops the plant cleanly.
    let status = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let start = Instant::now();
    let exit = loop {
        if let Some(exit) = plant.0.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "refinery did not stop on ctrl-c"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "refinery --serve ended with {exit}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|l| l.starts_with("kernel `refinery`")),
        "{rest:?}"
    );
    let _ = std::fs::remove_dir_all(&profile);
}
