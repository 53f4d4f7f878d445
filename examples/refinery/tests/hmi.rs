//! The HMI page in a real headless Chromium, driven over the DevTools
//! protocol: load the page from a running `refinery --serve` (with an
//! external process and a neighbour kernel sending adverts), wait for the
//! live update, check that every server and connection is drawn with a
//! non-zero rate, that the process (state, pid), the neighbour and the event
//! log (live, filterable) are shown, then pause the pipe into the column with
//! the page's button (answering the token prompt), resume it, and open a
//! tap on it to see its messages live. Screenshots are saved as
//! `target/hmi.png` (flowing), `target/hmi-paused.png` and
//! `target/hmi-tap.png`.
//!
//! Skipped, saying so, only when chromium is not installed and `CI` is
//! unset; `.ci/run` installs it.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream, UdpSocket};
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
  conns: [...document.querySelectorAll('#graph g.conn')].map(g => ({ id: g.dataset.id, to: g.dataset.to, state: g.dataset.state, stalled: g.dataset.stalled === "true", label: g.querySelector('text.rate').textContent, rate: parseFloat(g.dataset.rate) })),
  alerts: [...document.querySelectorAll('#alerts li')].map(l => ({ class: l.className, id: l.dataset.id || l.dataset.name, text: l.textContent })),
  rows: [...document.querySelectorAll('#connections tbody tr[data-id]')].map(r => ({ id: r.dataset.id, state: r.dataset.state })),
  fans: document.querySelectorAll('#graph g.fan').length,
  processes: [...document.querySelectorAll('#processes tbody tr[data-name]')].map(r => ({ name: r.dataset.name, state: r.dataset.state, pid: r.dataset.pid, text: r.textContent })),
  neighbours: [...document.querySelectorAll('#neighbours tbody tr[data-identity]')].map(r => r.dataset.identity),
  events: +document.body.dataset.events,
  shown: [...document.querySelectorAll('#events li')].map(l => ({ subject: l.dataset.subject, id: l.dataset.id, from: l.dataset.from, to: l.dataset.to, text: l.textContent })),
  tap: document.body.dataset.tap || null,
  tap_open: !document.getElementById("tap-view").hidden,
  tap_samples: [...document.querySelectorAll('#tap-samples li')].map(l => ({ seq: +l.dataset.seq, text: l.textContent })),
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

fn free_udp_port() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket.local_addr().expect("addr")
}

/// Whether the list (graph or table) has connection `id` in `state`.
fn has_state(list: &Value, id: &str, state: &str) -> bool {
    list.as_array()
        .into_iter()
        .flatten()
        .any(|c| c["id"] == id && c["state"] == state)
}

/// Clicks the page's `action` button of connection `id`.
fn click(cdp: &mut Cdp, session: &str, action: &str, id: &str) {
    let clicked = cdp.eval(
        session,
        &format!(
            r#"(() => {{ const b = document.querySelector('button[data-action="{action}"][data-id="{id}"]'); if (!b) return false; b.click(); return true; }})()"#
        ),
    );
    assert_eq!(clicked, json!(true), "no {action} button for {id}");
}

#[test]
fn the_hmi_shows_the_live_refinery_its_process_neighbour_and_events_pauses_and_taps_the_column() {
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
    // A neighbour kernel, and the plant serving, with an external process.
    let (plant_adverts, peer_adverts) = (free_udp_port(), free_udp_port());
    let peer = Command::new(env!("CARGO_BIN_EXE_refinery"))
        .args(["--adverts", &peer_adverts.to_string()])
        .args(["--peer", &plant_adverts.to_string()])
        .env("WIRING_PASSPHRASE", "shared by the plants")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the neighbour refinery");
    let peer_pid = peer.id();
    let _peer = Guard(peer);
    let mut plant = Command::new(env!("CARGO_BIN_EXE_refinery"))
        .arg("--serve")
        .args(["--adverts", &plant_adverts.to_string()])
        .args(["--peer", &peer_adverts.to_string()])
        // A brisk flow (10,000 samples/s) fills the 4,096 messages of the
        // pipe into the column in under half a second once it is paused.
        .args(["--sample-interval-us", "200"])
        .args([
            "--process",
            "assay=n=0; while :; do n=$((n+1)); echo assay $n; sleep 0.5; done",
        ])
        .env("KERNEL_CONTROL_LISTEN", "127.0.0.1:0")
        .env("WIRING_PASSPHRASE", "shared by the plants")
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
        if line.starts_with("adverts: ") {
            break;
        }
    }
    // Keep reading until the end, for the report after ctrl-c.
    let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<String>>());
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
            && s["servers"].as_array().is_some_and(|v| v.len() == 8)
            && s["conns"].as_array().is_some_and(|v| {
                v.len() == 7 && v.iter().all(|c| c["rate"].as_f64().unwrap_or(0.0) > 0.0)
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
        "validator",
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

    // The external process with its state and pid, and the neighbour.
    let state = wait_for(&mut cdp, &session, "the process and the neighbour", |s| {
        s["processes"].as_array().is_some_and(|p| {
            p.iter()
                .any(|p| p["name"] == "assay" && p["state"] == "running" && p["pid"] != "")
        }) && s["neighbours"].as_array().is_some_and(|n| {
            n.iter().any(|i| {
                i.as_str()
                    .is_some_and(|i| i.ends_with(&format!(":{peer_pid}")))
            })
        })
    });
    let assay: u32 = state["processes"][0]["pid"]
        .as_str()
        .and_then(|p| p.parse().ok())
        .expect("the process's pid");
    let cmdline = std::fs::read(format!("/proc/{assay}/cmdline")).expect("the process runs");
    assert!(
        String::from_utf8_lossy(&cmdline).contains("echo assay"),
        "pid {assay} is not the assay process"
    );

    // The event log: live, with the process's output, filterable.
    wait_for(
        &mut cdp,
        &session,
        "the process's output in the event log",
        |s| {
            s["shown"].as_array().is_some_and(|e| {
                e.iter().any(|e| {
                    e["subject"] == "process"
                        && e["id"] == "assay"
                        && e["text"]
                            .as_str()
                            .is_some_and(|t| t.contains("stdout: assay"))
                }) && e
                    .iter()
                    .any(|e| e["subject"] == "server" && e["to"] == "running")
            })
        },
    );
    let filter = |cdp: &mut Cdp, text: &str, subject: &str| {
        cdp.eval(
            &session,
            &format!(
                r#"(() => {{ const f = document.getElementById("event-filter"); f.value = {text:?}; f.dispatchEvent(new Event("input")); const s = document.getElementById("event-subject"); s.value = {subject:?}; s.dispatchEvent(new Event("change")); return true; }})()"#
            ),
        );
        page_state(cdp, &session)["shown"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let assay = filter(&mut cdp, "assay", "");
    assert!(!assay.is_empty());
    assert!(assay.iter().all(|e| e["id"] == "assay"), "{assay:?}");
    let servers = filter(&mut cdp, "", "server");
    assert!(!servers.is_empty());
    assert!(
        servers.iter().all(|e| e["subject"] == "server"),
        "{servers:?}"
    );
    filter(&mut cdp, "", "");

    // Pause the pipe into the column with the page's button.
    let feed = state["conns"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["to"] == "column.feed")
        .and_then(|c| c["id"].as_str())
        .expect("the pipe into the column")
        .to_owned();
    click(&mut cdp, &session, "pause", &feed);
    let paused = Instant::now();
    let state = wait_for(&mut cdp, &session, "the stall marked", |s| {
        let stalled_edge = s["conns"].as_array().into_iter().flatten().any(|c| {
            c["id"] == feed.as_str()
                && c["stalled"] == true
                && c["label"]
                    .as_str()
                    .is_some_and(|l| l.starts_with("STALLED"))
        });
        let alert = s["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["class"] == "stall" && a["id"] == feed.as_str());
        stalled_edge && alert && has_state(&s["rows"], &feed, "paused")
    });
    let took = paused.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "the stall showed after {took:?}: {state:#}"
    );
    assert_eq!(cdp.prompts, 1, "the page asks for the token once");
    cdp.screenshot(&session, &target.join("hmi-paused.png"));
    wait_for(&mut cdp, &session, "the pause in the event log", |s| {
        s["shown"].as_array().is_some_and(|e| {
            e.iter().any(|e| {
                e["subject"] == "connection" && e["id"] == feed.as_str() && e["to"] == "paused"
            })
        })
    });

    // Resume: it flows again.
    click(&mut cdp, &session, "resume", &feed);
    wait_for(&mut cdp, &session, "the pipe flows again, no stall", |s| {
        has_state(&s["conns"], &feed, "connected")
            && has_state(&s["rows"], &feed, "connected")
            && s["alerts"].as_array().is_some_and(Vec::is_empty)
            && s["conns"]
                .as_array()
                .is_some_and(|c| c.iter().all(|c| c["stalled"] == false))
    });

    // Tap the pipe into the column: its messages (well samples) show live,
    // newest first, numbered in the pipe.
    click(&mut cdp, &session, "tap", &feed);
    let state = wait_for(&mut cdp, &session, "samples in the tap view", |s| {
        s["tap"] == feed.as_str()
            && s["tap_open"] == true
            && s["tap_samples"].as_array().is_some_and(|v| v.len() >= 3)
    });
    let samples = state["tap_samples"].as_array().cloned().unwrap_or_default();
    assert!(
        samples.iter().all(|s| {
            let text = s["text"].as_str().unwrap_or_default();
            text.contains("\"pressure_bar\"") && text.contains("\"well\"")
        }),
        "{samples:#?}"
    );
    let seqs: Vec<u64> = samples.iter().filter_map(|s| s["seq"].as_u64()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seqs:?}"
    );
    cdp.screenshot(&session, &target.join("hmi-tap.png"));
    cdp.eval(
        &session,
        r#"document.querySelector('button[data-action="untap"]').click()"#,
    );
    wait_for(&mut cdp, &session, "the tap view closed", |s| {
        s["tap_open"] == false && s["tap"].is_null()
    });
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
    let rest = rest.join().expect("stdout reader");
    assert!(
        rest.iter().any(|l| l.starts_with("kernel `refinery`")),
        "{rest:?}"
    );
    let _ = std::fs::remove_dir_all(&profile);
}
