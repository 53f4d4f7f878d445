//! Phone calls between two real processes: this test binary starts itself
//! twice more, once as the host kernel (serving its Hostess on loopback)
//! and once as a peer kernel that reserves terminals on it over HTTP with
//! signed calls and renews its lease. The peer is then killed: its lease is
//! released by the host within its TTL of the last renewal. A replayed call
//! is refused.
#![cfg(feature = "http")]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use kernel_hostess::Hostess;
use kernel_hostess::http::{self, Api, ErrorJson, GrantJson, GuestJson, MenuJson};
use kernel_hostess::phone::{PhoneClient, Verifier};

const ROLE: &str = "HOSTESS_PHONE_ROLE";
const SECRET: &str = "correct horse battery staple";
/// The peer renews every quarter of it: 2 s leaves a renewal 1.5 s to
/// arrive on a loaded machine (1 s expired once beside CI's fuzzing).
const TTL_MS: u64 = 2000;

/// Runs this test binary again as `role`.
fn spawn(role: &str, args: &[(&str, String)]) -> Child {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => panic!("{e}"),
    };
    let mut cmd = Command::new(exe);
    cmd.args(["--exact", "phone::role", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in args {
        cmd.env(k, v);
    }
    match cmd.spawn() {
        Ok(c) => c,
        Err(e) => panic!("cannot start the {role}: {e}"),
    }
}

/// What follows `marker` on the first stdout line that has it.
fn read_marker(out: &mut BufReader<ChildStdout>, marker: &str) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        match out.read_line(&mut line) {
            Ok(0) => panic!("the process ended before printing `{marker}`"),
            Ok(_) => {
                // The test harness may have written `test role ... ` first.
                if let Some(at) = line.find(marker) {
                    return line[at + marker.len()..].trim_end().to_owned();
                }
            }
            Err(e) => panic!("{e}"),
        }
    }
}

/// The entry point of the child processes; does nothing in a normal run.
#[test]
fn role() {
    match std::env::var(ROLE).as_deref() {
        Ok("host") => host(),
        Ok("peer") => peer(),
        _ => {}
    }
}

/// The host kernel: 6 guests, serving its Hostess API, accepting calls from
/// `plant-b`; ends when its standard input closes.
fn host() {
    let hostess = Hostess::new();
    populate(&hostess, 6, 2);
    let api = Api::new(hostess).phone(Verifier::new("plant-a").peer("plant-b", SECRET));
    let served = match http::serve(api.router(), SocketAddr::from(([127, 0, 0, 1], 0))) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    println!("HOSTESS-ADDR {}", served.addr);
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
    drop(served);
}

/// The peer kernel: books two terminals of class 0xa01 by mask and count,
/// prints the grant, then renews it every TTL/4 until it is killed.
fn peer() {
    let addr: SocketAddr = match std::env::var("HOSTESS_ADDR").map(|a| a.parse()) {
        Ok(Ok(a)) => a,
        _ => panic!("HOSTESS_ADDR"),
    };
    let client = PhoneClient::new(addr, "", "plant-a", "plant-b", SECRET);
    let body = serde_json::json!({
        "ttl_ms": TTL_MS,
        "wants": [{"mask": "*:*:0xa01:*:*:*:*", "count": 2, "terminals": ["in"]}],
    })
    .to_string();
    let r = client.call("POST", "/reservations", body.as_bytes());
    let r = match r {
        Ok(r) if r.status == 201 => r,
        other => panic!("reservation refused: {other:?}"),
    };
    println!("HOSTESS-GRANT {}", r.body);
    let grant: GrantJson = match serde_json::from_str(&r.body) {
        Ok(g) => g,
        Err(e) => panic!("{e}"),
    };
    loop {
        std::thread::sleep(Duration::from_millis(TTL_MS / 4));
        let r = client.call("POST", &format!("/reservations/{}/renew", grant.id), b"");
        match r {
            Ok(r) if r.status == 200 => println!("HOSTESS-RENEWED"),
            other => panic!("renewal refused: {other:?}"),
        }
    }
}

fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    match agent.get(format!("http://{addr}{path}")).call() {
        Ok(mut r) => (
            r.status().as_u16(),
            r.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(e) => panic!("GET {path}: {e}"),
    }
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_peer_process_reserves_over_the_phone_and_its_death_frees_the_terminals() {
    let mut host = Killed(spawn("host", &[]));
    let Some(out) = host.0.stdout.take() else {
        panic!("no stdout")
    };
    let mut host_out = BufReader::new(out);
    let addr: SocketAddr = match read_marker(&mut host_out, "HOSTESS-ADDR ").parse() {
        Ok(a) => a,
        Err(e) => panic!("{e}"),
    };

    // The menu, as peers see it.
    let (status, body) = get(addr, "/menu");
    assert_eq!(status, 200);
    let menu: MenuJson = match serde_json::from_str(&body) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    };
    let free: usize = menu.entries.iter().map(|e| e.free_terminals).sum();
    assert_eq!(free, 12);

    let mut peer = Killed(spawn("peer", &[("HOSTESS_ADDR", addr.to_string())]));
    let Some(out) = peer.0.stdout.take() else {
        panic!("no stdout")
    };
    let mut peer_out = BufReader::new(out);
    let grant: GrantJson = match serde_json::from_str(&read_marker(&mut peer_out, "HOSTESS-GRANT "))
    {
        Ok(g) => g,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(grant.holder, "peer:plant-b");
    assert_eq!(grant.terminals.len(), 2);

    // The host's guest book shows the peer's hold.
    let held_by = |t: &kernel_hostess::http::TerminalRefJson| {
        let (_, body) = get(addr, &format!("/guests/{}", t.guest));
        let g: GuestJson = match serde_json::from_str(&body) {
            Ok(g) => g,
            Err(e) => panic!("{e}: {body}"),
        };
        g.terminals
            .iter()
            .find(|x| x.name == t.terminal)
            .and_then(|x| x.holder.clone())
    };
    for t in &grant.terminals {
        assert_eq!(held_by(t).as_deref(), Some("peer:plant-b"));
    }
    // The peer keeps its lease alive past the TTL by renewing.
    let started = Instant::now();
    let mut renewals = 0;
    while started.elapsed() < Duration::from_millis(TTL_MS * 3 / 2) || renewals < 5 {
        read_marker(&mut peer_out, "HOSTESS-RENEWED");
        renewals += 1;
    }
    assert!(grant.terminals.iter().all(|t| held_by(t).is_some()));

    // A replayed call is refused: sign one call, send it twice.
    let caller = PhoneClient::new(addr, "", "plant-a", "plant-b", SECRET);
    let body = serde_json::json!({"ttl_ms": TTL_MS, "terminals": [{"guest": uuid(0).to_string(), "terminal": "out"}]}).to_string();
    let call = caller.sign("POST", "/reservations", body.as_bytes());
    let first = caller.send(&call);
    assert!(matches!(first, Ok(ref r) if r.status == 201), "{first:?}");
    let replay = caller.send(&call);
    let Ok(replay) = replay else {
        panic!("{replay:?}")
    };
    assert_eq!(replay.status, 401);
    let e: ErrorJson = serde_json::from_str(&replay.body).unwrap_or(ErrorJson {
        error: replay.body.clone(),
        wanted: None,
        found: None,
        free: None,
    });
    assert!(e.error.contains("replayed"), "{}", e.error);

    // The peer dies without releasing. Its terminals are freed once the
    // lease runs out: within the TTL of its last renewal, so well within
    // twice the TTL of its death.
    let killed_at = Instant::now();
    drop(peer);
    let freed_after = loop {
        if grant.terminals.iter().all(|t| held_by(t).is_none()) {
            break killed_at.elapsed();
        }
        if killed_at.elapsed() > Duration::from_secs(30) {
            panic!("the dead peer's terminals were never freed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let (status, body) = get(addr, &format!("/reservations/{}", grant.id));
    assert_eq!(status, 410, "{body}");
    assert!(body.contains("expired"), "{body}");
    eprintln!("dead peer's lease (TTL {TTL_MS} ms) freed {freed_after:?} after its death");
    assert!(
        freed_after <= Duration::from_millis(2 * TTL_MS),
        "freed {freed_after:?} after the holder died; the TTL is {TTL_MS} ms"
    );
    drop(host.0.stdin.take());
}
