//! The Hostess ledger never disagrees with the live pipes, whatever an
//! operator or a peer asks over HTTP: the kernel's own booking cannot be
//! released or renewed, a caller holds under the name it authenticated as
//! (not one it claims), and the expiry of someone else's lease never frees
//! the terminals of a flowing pipe.
#![cfg(feature = "control")]

use std::net::SocketAddr;
use std::time::Duration;

use crate::control_common::http::{Response, get, request, terminal_use};
use crate::control_common::*;
use kernel::control::http::{ControlOptions, ControlServer};

const TOKEN: &str = "ledger-token-0123456789";

fn serve(name: &'static str) -> (Running, ControlServer, SocketAddr) {
    let kernel = build(hosted_spec(name));
    let server = kernel
        .serve_control(
            ControlOptions::new()
                .token(TOKEN)
                .hostess_peer("plant-b", "shared secret"),
        )
        .expect("control surface");
    let addr = server.addr();
    (Running::start(kernel), server, addr)
}

fn call(addr: SocketAddr, method: &str, path: &str, body: &str) -> Response {
    request(
        addr,
        method,
        path,
        &[
            ("Authorization", &format!("Bearer {TOKEN}")),
            ("Content-Type", "application/json"),
        ],
        body.as_bytes(),
    )
}

fn uuid_of(running: &Running, server: &str) -> String {
    let connectome = running.control.connectome();
    connectome
        .spec()
        .server(server)
        .expect("server")
        .uuid
        .to_string()
}

/// A local operator's reservation.
fn reserve(addr: SocketAddr, body: &str) -> Response {
    call(addr, "POST", "/api/v1/hostess/reservations", body)
}

fn reserve_body(holder: Option<&str>, guest: &str, terminal: &str, ttl_ms: u64) -> String {
    let holder = holder.map_or(String::new(), |h| format!(r#""holder": "{h}", "#));
    format!(
        r#"{{{holder}"ttl_ms": {ttl_ms}, "terminals": [{{"guest": "{guest}", "terminal": "{terminal}"}}]}}"#
    )
}

#[test]
fn the_kernels_own_booking_is_neither_released_nor_renewed_over_http() {
    let (running, _server, addr) = serve("ledger-release");
    let r = get(addr, "/api/v1/hostess/reservations");
    assert_eq!(r.status, 200, "{}", r.body);
    let reservations = r.json()["reservations"].as_array().expect("list").clone();
    let booking = reservations
        .iter()
        .find(|g| g["holder"] == "control")
        .expect("the kernel's booking");
    let id = booking["id"].as_str().expect("id");

    let r = call(
        addr,
        "DELETE",
        &format!("/api/v1/hostess/reservations/{id}"),
        "",
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("the kernel's own booking"), "{}", r.body);
    let r = call(
        addr,
        "POST",
        &format!("/api/v1/hostess/reservations/{id}/renew"),
        "",
    );
    assert_eq!(r.status, 403, "{}", r.body);

    // The flowing pipe keeps its terminals, and nobody else gets them.
    let src = uuid_of(&running, "src");
    assert_eq!(
        terminal_use(addr, &src, "out"),
        ("in_use".into(), "control".into(), vec![SRC_A.to_string()])
    );
    let r = reserve(addr, &reserve_body(None, &src, "out", 60_000));
    assert_eq!(r.status, 409, "{}", r.body);
    let before = running.pipe(SRC_A).messages_out;
    running.wait_until("the pipe still flows", |c| {
        c.connectome()
            .pipe(SRC_A)
            .is_some_and(|p| p.messages_out > before + 10)
    });
    running.finish().expect("kernel ends cleanly");
}

#[test]
fn a_caller_holds_under_the_name_it_authenticated_as() {
    let (running, _server, addr) = serve("ledger-names");
    let words = uuid_of(&running, "words");
    for claimed in ["control", "peer:plant-b", "mesh", "someone"] {
        let r = reserve(addr, &reserve_body(Some(claimed), &words, "out", 60_000));
        assert_eq!(r.status, 403, "{claimed}: {}", r.body);
        assert!(r.body.contains("`operator`"), "{}", r.body);
        assert_eq!(terminal_use(addr, &words, "out").0, "free", "{claimed}");
    }
    // Without a name, or with its own, a bearer-token caller is the local
    // operator.
    for holder in [None, Some("operator")] {
        let r = reserve(addr, &reserve_body(holder, &words, "out", 60_000));
        assert_eq!(r.status, 201, "{}", r.body);
        let grant = r.json();
        assert_eq!(grant["holder"], "operator");
        let r = call(
            addr,
            "DELETE",
            &format!(
                "/api/v1/hostess/reservations/{}",
                grant["id"].as_str().expect("id")
            ),
            "",
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }

    // A peer is the peer its signature names, whatever its body claims.
    let phone = kernel::hostess::phone::PhoneClient::new(
        addr,
        "/api/v1/hostess",
        "ledger-names",
        "plant-b",
        "shared secret",
    );
    for claimed in ["control", "operator", "peer:plant-c"] {
        let body = reserve_body(Some(claimed), &words, "out", 60_000);
        let r = phone
            .call("POST", "/reservations", body.as_bytes())
            .expect("phone call");
        assert_eq!(r.status, 403, "{claimed}: {}", r.body);
        assert!(r.body.contains("`peer:plant-b`"), "{}", r.body);
    }
    let body = reserve_body(Some("peer:plant-b"), &words, "out", 60_000);
    let r = phone
        .call("POST", "/reservations", body.as_bytes())
        .expect("phone call");
    assert_eq!(r.status, 201, "{}", r.body);
    running.finish().expect("kernel ends cleanly");
}

#[test]
fn an_expiring_lease_never_frees_the_terminals_of_a_flowing_pipe() {
    let (running, _server, addr) = serve("ledger-expiry");
    let spare = uuid_of(&running, "spare");
    // A short lease under the kernel's name (refused now; the sequence of
    // the attack goes on either way).
    let _ = reserve(addr, &reserve_body(Some("control"), &spare, "input", 200));
    let r = call(
        addr,
        "POST",
        "/api/v1/connections",
        r#"{"from": "fan.out", "to": "spare.input"}"#,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().expect("id").to_owned();
    // Well past the lease's TTL: the reaper has run.
    std::thread::sleep(Duration::from_millis(800));
    let pipe = running.pipe(id.parse().expect("uuid"));
    assert_eq!(pipe.state, kernel::ConnectionState::Connected);
    assert_eq!(
        terminal_use(addr, &spare, "input"),
        ("in_use".into(), "control".into(), vec![id.clone()])
    );
    // Nobody else can book the terminal of the flowing pipe.
    let r = reserve(addr, &reserve_body(None, &spare, "input", 60_000));
    assert_eq!(r.status, 409, "{}", r.body);
    running.finish().expect("kernel ends cleanly");
}
