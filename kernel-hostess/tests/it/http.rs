//! The Hostess JSON API over a real loopback listener: queries, the menu,
//! reservations, status codes, and who may modify (bearer token, signed
//! phone calls, replays refused).
#![cfg(feature = "http")]

use std::net::SocketAddr;

use crate::common::*;
use kernel_hostess::Hostess;
use kernel_hostess::http::{self, Api, ErrorJson, GrantJson, GuestsJson, MenuJson, ReserveJson};
use kernel_hostess::phone::{PhoneClient, Verifier};

fn serve(api: Api) -> http::Served {
    match http::serve(api.router(), SocketAddr::from(([127, 0, 0, 1], 0))) {
        Ok(s) => s,
        Err(e) => panic!("cannot serve: {e}"),
    }
}

/// Sends an unsigned request (optionally with a bearer token).
fn plain(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
    bearer: Option<&str>,
) -> (u16, String) {
    let mut request = ureq::http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    if !body.is_empty() {
        request = request.header("content-type", "application/json");
    }
    if let Some(token) = bearer {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let response = request
        .body(body.as_bytes().to_vec())
        .map_err(ureq::Error::from)
        .and_then(|r| agent.run(r));
    match response {
        Ok(mut r) => (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(e) => panic!("{method} {path}: {e}"),
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &str) -> T {
    match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => panic!("{e}: {body}"),
    }
}

fn hostess() -> Hostess {
    let h = Hostess::new();
    populate(&h, 12, 3); // classes 0xa00..0xa02, four guests each
    h
}

#[test]
fn guests_by_mask_and_count() {
    let server = serve(Api::new(hostess()));
    let a = server.addr;
    let (status, body) = plain(a, "GET", "/guests", "", None);
    assert_eq!(status, 200);
    assert_eq!(parse::<GuestsJson>(&body).guests.len(), 12);

    let (status, body) = plain(a, "GET", "/guests?mask=*:*:0xa01:*:*:*:*&count=4", "", None);
    assert_eq!(status, 200, "{body}");
    let guests = parse::<GuestsJson>(&body).guests;
    assert_eq!(guests.len(), 4);
    assert!(guests.iter().all(|g| g.class == "0x00000a01"));
    let t = &guests[0].terminals[0];
    assert_eq!(
        (t.name.as_str(), t.kind.as_str(), t.state.as_str()),
        ("in", "input", "free")
    );

    // Too few: 409 saying how many there are.
    let (status, body) = plain(a, "GET", "/guests?mask=*:*:0xa01:*:*:*:*&count=5", "", None);
    assert_eq!(status, 409);
    let e = parse::<ErrorJson>(&body);
    assert_eq!((e.wanted, e.found), (Some(5), Some(4)));
    assert_eq!(
        e.error,
        "wanted 5 but only 4 guests match `*:*:0x00000a01:*:*:*:*`"
    );

    // A bad mask: 400 with the parse error.
    let (status, body) = plain(a, "GET", "/guests?mask=*:*:0xa00/0xf000:*:*:*:*", "", None);
    assert_eq!(status, 400);
    let e = parse::<ErrorJson>(&body);
    assert!(
        e.error.starts_with(
            "invalid class in guest mask: the value 0x00000a00 has bits outside the mask 0x0000f000"
        ),
        "{}",
        e.error
    );
    let (status, body) = plain(a, "GET", "/guests?mask=a:b", "", None);
    assert_eq!(status, 400);
    assert!(
        parse::<ErrorJson>(&body)
            .error
            .starts_with("malformed guest mask: expected 7 fields")
    );
    let (status, _) = plain(a, "GET", "/guests?count=many", "", None);
    assert_eq!(status, 400);
    let (status, _) = plain(a, "GET", "/guests?colour=red", "", None);
    assert_eq!(status, 400);

    // One guest by uuid.
    let (status, body) = plain(a, "GET", &format!("/guests/{}", uuid(3)), "", None);
    assert_eq!(status, 200);
    assert_eq!(parse::<http::GuestJson>(&body).server, "srv000003");
    assert_eq!(plain(a, "GET", "/guests/nope", "", None).0, 400);
    assert_eq!(
        plain(a, "GET", &format!("/guests/{}", uuid(99)), "", None).0,
        404
    );
}

#[test]
fn menu_and_reservations() {
    let server = serve(Api::new(hostess()));
    let a = server.addr;
    let (status, body) = plain(a, "GET", "/menu", "", None);
    assert_eq!(status, 200);
    let menu = parse::<MenuJson>(&body);
    assert_eq!(menu.entries.len(), 6); // 3 classes x 2 owners
    assert_eq!(menu.entries[0].class, "0x00000a00");

    // Reserve by terminals.
    let body = serde_json::json!({
        "holder": "operator",
        "ttl_ms": 5000,
        "terminals": [{"guest": uuid(0).to_string(), "terminal": "in"}],
    })
    .to_string();
    let (status, out) = plain(a, "POST", "/reservations", &body, None);
    assert_eq!(status, 201, "{out}");
    let grant = parse::<GrantJson>(&out);
    assert_eq!(grant.holder, "operator");
    assert_eq!(grant.ttl_ms, Some(5000));
    assert!(grant.expires_in_ms.is_some_and(|ms| ms <= 5000));
    // Taken now: 409, nothing reserved.
    let (status, out) = plain(a, "POST", "/reservations", &body, None);
    assert_eq!(status, 409);
    assert!(
        parse::<ErrorJson>(&out)
            .error
            .contains("is held by `operator`")
    );
    // The guest shows it.
    let (_, out) = plain(a, "GET", &format!("/guests/{}", uuid(0)), "", None);
    let g = parse::<http::GuestJson>(&out);
    assert_eq!(g.terminals[0].state, "reserved");
    assert_eq!(
        g.terminals[0].reservation.as_deref(),
        Some(grant.id.as_str())
    );

    // Book by mask and count.
    let body = serde_json::json!({
        "wants": [{"mask": "*:*:0xa02:*:*:*:*", "count": 4, "terminals": ["out"]}],
    })
    .to_string();
    let (status, out) = plain(a, "POST", "/reservations", &body, None);
    assert_eq!(status, 201, "{out}");
    let booked = parse::<GrantJson>(&out);
    assert_eq!(booked.terminals.len(), 4);
    assert_eq!(booked.picks.as_ref().map(|p| p[0].len()), Some(4));
    assert_eq!(booked.ttl_ms, Some(10_000), "default TTL over HTTP");
    let (status, out) = plain(a, "POST", "/reservations", &body, None);
    assert_eq!(status, 409);
    assert_eq!(parse::<ErrorJson>(&out).free, Some(0));
    // A bad mask in a want, a bad body.
    let bad = r#"{"wants": [{"mask": "*:*:*:*:maybe:*:*", "count": 1}]}"#;
    let (status, out) = plain(a, "POST", "/reservations", bad, None);
    assert_eq!(status, 400);
    assert_eq!(
        parse::<ErrorJson>(&out).error,
        "want 1: invalid auth flag in guest mask: `maybe` is not `yes`, `no` or `optional`"
    );
    assert_eq!(plain(a, "POST", "/reservations", "{", None).0, 400);
    assert_eq!(
        plain(a, "POST", "/reservations", r#"{"colour": 1}"#, None).0,
        400
    );
    assert_eq!(plain(a, "POST", "/reservations", "{}", None).0, 400);
    let bad_ttl = serde_json::json!({"ttl_ms": 1, "terminals": [{"guest": uuid(1).to_string(), "terminal": "in"}]}).to_string();
    assert_eq!(plain(a, "POST", "/reservations", &bad_ttl, None).0, 400);

    // List, renew, release; then 410, 404, 400.
    let (_, out) = plain(a, "GET", "/reservations", "", None);
    assert_eq!(parse::<http::ReservationsJson>(&out).reservations.len(), 2);
    let (status, out) = plain(
        a,
        "POST",
        &format!("/reservations/{}/renew", grant.id),
        "",
        None,
    );
    assert_eq!(status, 200, "{out}");
    assert_eq!(parse::<GrantJson>(&out).token, grant.token);
    let (status, _) = plain(
        a,
        "DELETE",
        &format!("/reservations/{}", grant.id),
        "",
        None,
    );
    assert_eq!(status, 200);
    let (status, out) = plain(
        a,
        "DELETE",
        &format!("/reservations/{}", grant.id),
        "",
        None,
    );
    assert_eq!(status, 410);
    assert_eq!(
        parse::<ErrorJson>(&out).error,
        format!("reservation {} was released", grant.id)
    );
    let (status, _) = plain(
        a,
        "POST",
        &format!("/reservations/{}/renew", grant.id),
        "",
        None,
    );
    assert_eq!(status, 410);
    let unknown = wiring_model::Uuid::from_u128(77);
    assert_eq!(
        plain(a, "DELETE", &format!("/reservations/{unknown}"), "", None).0,
        404
    );
    assert_eq!(
        plain(a, "GET", &format!("/reservations/{unknown}"), "", None).0,
        404
    );
    assert_eq!(plain(a, "DELETE", "/reservations/xyz", "", None).0, 400);
}

#[test]
fn who_may_modify() {
    let h = hostess();
    let server = serve(
        Api::new(h.clone()).bearer_token("t0ken").phone(
            Verifier::new("plant-a")
                .peer("plant-b", "b-secret")
                .peer("plant-c", "c-secret"),
        ),
    );
    let a = server.addr;
    let body = |i: usize| {
        serde_json::json!({"ttl_ms": 2000, "terminals": [{"guest": uuid(i).to_string(), "terminal": "in"}]})
            .to_string()
    };
    // Reading is open.
    assert_eq!(plain(a, "GET", "/menu", "", None).0, 200);
    // Modifying needs a token or a signature.
    assert_eq!(plain(a, "POST", "/reservations", &body(0), None).0, 401);
    assert_eq!(
        plain(a, "POST", "/reservations", &body(0), Some("wrong")).0,
        401
    );
    let (status, out) = plain(a, "POST", "/reservations", &body(0), Some("t0ken"));
    assert_eq!(status, 201, "{out}");
    assert_eq!(parse::<GrantJson>(&out).holder, "operator");

    // A phone call from plant-b: held by `peer:plant-b`.
    let b = PhoneClient::new(a, "", "plant-a", "plant-b", "b-secret");
    let call = b.sign("POST", "/reservations", body(1).as_bytes());
    let r = b.send(&call);
    let Ok(r) = r else { panic!("{r:?}") };
    assert_eq!(r.status, 201, "{}", r.body);
    let grant = parse::<GrantJson>(&r.body);
    assert_eq!(grant.holder, "peer:plant-b");
    // The same call replayed is refused, and reserves nothing.
    let Ok(again) = b.send(&call) else { panic!() };
    assert_eq!(again.status, 401);
    assert_eq!(
        parse::<ErrorJson>(&again.body).error,
        "phone call refused: replayed call: the nonce was already used"
    );
    assert_eq!(h.reservations().len(), 2);
    // A wrong secret, an unknown peer.
    let forged = PhoneClient::new(a, "", "plant-a", "plant-b", "guess");
    let r = forged.call("POST", "/reservations", body(2).as_bytes());
    assert!(matches!(r, Ok(ref r) if r.status == 401), "{r:?}");
    let stranger = PhoneClient::new(a, "", "plant-a", "plant-z", "b-secret");
    let r = stranger.call("POST", "/reservations", body(2).as_bytes());
    assert!(
        matches!(r, Ok(ref r) if r.status == 401 && r.body.contains("unknown peer `plant-z`")),
        "{r:?}"
    );
    // Another peer cannot renew or release plant-b's reservation.
    let c = PhoneClient::new(a, "", "plant-a", "plant-c", "c-secret");
    let r = c.call("DELETE", &format!("/reservations/{}", grant.id), b"");
    assert!(matches!(r, Ok(ref r) if r.status == 403), "{r:?}");
    // plant-b can.
    let r = b.call("POST", &format!("/reservations/{}/renew", grant.id), b"");
    assert!(matches!(r, Ok(ref r) if r.status == 200), "{r:?}");
    let r = b.call("DELETE", &format!("/reservations/{}", grant.id), b"");
    assert!(matches!(r, Ok(ref r) if r.status == 200), "{r:?}");

    // A kernel that knows no peer refuses signed calls.
    let closed = serve(Api::new(hostess()));
    let b2 = PhoneClient::new(closed.addr, "", "plant-a", "plant-b", "b-secret");
    let r = b2.call("POST", "/reservations", body(1).as_bytes());
    assert!(matches!(r, Ok(ref r) if r.status == 401), "{r:?}");
    let _ = ReserveJson::default();
}

#[test]
fn the_router_nests_under_the_api_prefix() {
    // As the control surface mounts it: signatures cover the path relative
    // to the Hostess API root.
    let h = hostess();
    let router = axum::Router::new().nest(
        "/api/v1/hostess",
        Api::new(h)
            .phone(Verifier::new("plant-a").peer("plant-b", "s"))
            .router(),
    );
    let server = match http::serve(router, SocketAddr::from(([127, 0, 0, 1], 0))) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let (status, _) = plain(server.addr, "GET", "/api/v1/hostess/menu", "", None);
    assert_eq!(status, 200);
    let b = PhoneClient::new(server.addr, "/api/v1/hostess", "plant-a", "plant-b", "s");
    let body = serde_json::json!({"terminals": [{"guest": uuid(0).to_string(), "terminal": "in"}]})
        .to_string();
    let r = b.call("POST", "/reservations", body.as_bytes());
    assert!(matches!(r, Ok(ref r) if r.status == 201), "{r:?}");
}
