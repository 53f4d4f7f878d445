//! Pipe taps over HTTP: a real client reads the samples of a tappable
//! connection as server-sent events; sampling keeps to its rate; an
//! untappable connection, an unknown one and a bad rate are refused with
//! JSON; the tap of a connection connected again follows the new pipe.
#![cfg(feature = "control")]

use std::time::{Duration, Instant};

use crate::control_common::http::{Events, get};
use crate::control_common::*;
use kernel::control::http::ControlOptions;

/// The `data` of the next `sample` event, as JSON.
fn sample(events: &mut Events) -> serde_json::Value {
    serde_json::from_str(&events.until("sample", "seq")).expect("sample JSON")
}

#[test]
fn a_tap_shows_the_messages_of_a_tappable_pipe_numbered_and_timed() {
    let kernel = build(hosted_spec("tap-show"));
    let server = kernel
        .serve_control(ControlOptions::new().token("tap-token"))
        .expect("control surface");
    let running = Running::start(kernel);
    let addr = server.addr();
    let topology = get(addr, "/api/v1/topology").json();
    let tappable: Vec<(String, bool)> = topology["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .map(|c| {
            (
                c["to"].as_str().unwrap_or("").to_owned(),
                c["tappable"] == true,
            )
        })
        .collect();
    assert_eq!(
        tappable,
        [
            ("a.input".to_owned(), false),
            ("b.input".to_owned(), true),
            ("merge.inputs".to_owned(), true)
        ]
    );
    let mut events = Events::open(addr, &format!("/api/v1/connections/{FAN_B}/tap"));
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64;
    let mut last = 0;
    for _ in 0..5 {
        let s = sample(&mut events);
        let seq = s["seq"].as_u64().expect("seq");
        assert!(seq > last, "newer samples: {s}");
        last = seq;
        // `fan` sends 0, 1, 2, ...: message number `seq` is `seq - 1`.
        assert_eq!(s["message"].as_u64(), Some(seq - 1), "{s}");
        let at = s["at_ms"].as_u64().expect("at_ms");
        assert!(at + 60_000 > now_ms && at < now_ms + 60_000, "{s}");
    }
    drop(events);
    // The consumer saw every message: sampling took none away.
    running.wait_until("b received more than the samples", |c| {
        c.connectome()
            .pipe(FAN_B)
            .is_some_and(|p| p.messages_out > last && p.drops == 0)
    });
}

#[test]
fn samples_keep_to_the_rate_and_a_limit_ends_the_stream() {
    let kernel = build(hosted_spec("tap-rate"));
    let server = kernel
        .serve_control(ControlOptions::new().token("tap-token"))
        .expect("control surface");
    let _running = Running::start(kernel);
    let addr = server.addr();
    // 5 a second: 6 samples take at least 5 periods of 200 ms.
    let start = Instant::now();
    let mut events = Events::open(
        addr,
        &format!("/api/v1/connections/{FAN_MERGE}/tap?rate=5&limit=6"),
    );
    let mut seqs = Vec::new();
    for _ in 0..6 {
        seqs.push(sample(&mut events)["seq"].as_u64().expect("seq"));
    }
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(1000), "6 samples in {took:?}");
    // The ticker sends every 200 µs: samples 200 ms apart skip hundreds.
    assert!(
        seqs.windows(2).all(|w| w[1] > w[0] + 50),
        "newest wins, nothing queued: {seqs:?}"
    );
    // `limit=6`: the stream ends after the sixth.
    let mut rest = String::new();
    let read = std::io::Read::read_to_string(&mut events.into_reader(), &mut rest);
    assert!(read.is_ok() && !rest.contains("event: sample"), "{rest}");
}

#[test]
fn untappable_unknown_and_bad_taps_are_refused_with_json() {
    let kernel = build(hosted_spec("tap-refuse"));
    let server = kernel
        .serve_control(ControlOptions::new().token("tap-token"))
        .expect("control surface");
    let _running = Running::start(kernel);
    let addr = server.addr();
    let r = get(addr, &format!("/api/v1/connections/{SRC_A}/tap"));
    assert_eq!(r.status, 409, "{}", r.body);
    let error = r.json()["error"].as_str().unwrap_or_default().to_owned();
    assert!(
        error.contains("not tappable") && error.contains("tap = true"),
        "{error}"
    );
    let r = get(
        addr,
        "/api/v1/connections/00000000-0000-0000-0000-0000000000ff/tap",
    );
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.json()["error"].is_string());
    for query in ["rate=0", "rate=101", "limit=0", "rate=fast"] {
        let r = get(addr, &format!("/api/v1/connections/{FAN_B}/tap?{query}"));
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        assert!(r.json()["error"].is_string(), "{query}: {}", r.body);
    }
}
