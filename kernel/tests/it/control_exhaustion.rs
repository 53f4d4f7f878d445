//! Clients that hold the control surface's resources do not starve it: idle
//! connections, slow requests, oversized requests and event streams.
//!
//! The kernel runs in a child process (this test binary started again) with
//! the usual default of 1,024 open files, as a kernel started from a shell
//! has; the attacker is this process, on loopback.
#![cfg(feature = "control")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::control_common::http::{Events, get, request};
use crate::control_common::*;
use kernel::control::http::ControlOptions;
use kernel::hostess::http::Limits;

const ROLE: &str = "CONTROL_EXHAUSTION_ROLE";
const TOKEN: &str = "exhaustion-token-0123456789";
/// Idle connections the attacker holds.
const HELD: usize = 1_100;
/// Time any answer may take while the attack goes on.
const BOUND: Duration = Duration::from_secs(2);
const HEADER_TIMEOUT: Duration = Duration::from_secs(1);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// The child's entry point; does nothing in a normal run.
#[test]
fn role() {
    if std::env::var(ROLE).as_deref() == Ok("kernel") {
        kernel_role();
    }
}

/// Serves a running kernel's control surface with 1,024 open files at most
/// until standard input closes.
fn kernel_role() {
    let limit = libc::rlimit {
        rlim_cur: 1024,
        rlim_max: 1024,
    };
    // SAFETY: setrlimit reads the struct we pass and has no other effect
    // on memory.
    assert_eq!(
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) },
        0,
        "setrlimit"
    );
    let kernel = build(spec("exhaustion"));
    let server = kernel
        .serve_control(ControlOptions::new().token(TOKEN).limits(Limits {
            header_timeout: HEADER_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
            ..Limits::default()
        }))
        .expect("control surface");
    let _running = Running::start(kernel);
    println!("CONTROL-ADDR {}", server.addr());
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

struct Kernel {
    child: Child,
    addr: SocketAddr,
}

impl Kernel {
    fn start() -> Kernel {
        let exe = std::env::current_exe().expect("test binary");
        let mut child = Command::new(exe)
            .args([
                "--exact",
                "control_exhaustion::role",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ROLE, "kernel")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the kernel");
        let out = child.stdout.take().expect("stdout");
        let mut out = BufReader::new(out);
        let mut line = String::new();
        let addr = loop {
            line.clear();
            assert!(
                out.read_line(&mut line).expect("read") > 0,
                "the kernel ended"
            );
            if let Some(at) = line.find("CONTROL-ADDR ") {
                break line[at + 13..].trim().parse().expect("address");
            }
        };
        Kernel { child, addr }
    }
}

impl Drop for Kernel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GETs `path`, asserting 200 within [`BOUND`]; returns the time taken.
fn answers(addr: SocketAddr, path: &str) -> Duration {
    let started = Instant::now();
    let r = get(addr, path);
    let took = started.elapsed();
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    assert!(took < BOUND, "{path} took {took:?} under attack");
    took
}

/// Whether the server closed `stream` (read gives end of file or a reset)
/// within `within`.
fn closed_by_server(mut stream: &TcpStream, within: Duration) -> bool {
    let _ = stream.set_read_timeout(Some(within.max(Duration::from_millis(1))));
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
    }
}

#[test]
fn idle_connections_do_not_starve_the_api_the_hmi_or_the_metrics() {
    let kernel = Kernel::start();
    let addr = kernel.addr;
    let mut held = Vec::with_capacity(HELD);
    for _ in 0..HELD {
        held.push(TcpStream::connect(addr).expect("connect"));
    }
    let mut slowest = Duration::ZERO;
    for _ in 0..3 {
        for path in ["/api/v1/servers", "/", "/metrics"] {
            slowest = slowest.max(answers(addr, path));
        }
    }
    eprintln!(
        "{HELD} idle connections held: API, HMI and /metrics answered, slowest in {slowest:?}"
    );
    // Nothing sent: every held connection is closed once its header time
    // is up (or earlier, to make room).
    let deadline = HEADER_TIMEOUT * 3;
    let open = held
        .iter()
        .filter(|s| !closed_by_server(s, Duration::from_millis(1)))
        .count();
    let started = Instant::now();
    let still_open = held
        .iter()
        .filter(|s| !closed_by_server(s, deadline.saturating_sub(started.elapsed())))
        .count();
    assert_eq!(still_open, 0, "idle connections left open");
    eprintln!("{open} were still open after the requests; all closed within {deadline:?}");
    answers(addr, "/api/v1/servers");
}

#[test]
fn slow_and_oversized_requests_are_cut_off_with_json_errors() {
    let kernel = Kernel::start();
    let addr = kernel.addr;

    // A request head sent a byte at a time, slower than the header time.
    let mut slow_head = TcpStream::connect(addr).expect("connect");
    slow_head
        .write_all(b"GET /api/v1/servers HTTP/1.1\r\n")
        .expect("write");
    let started = Instant::now();
    let mut cut = false;
    while started.elapsed() < HEADER_TIMEOUT * 4 {
        if slow_head.write_all(b"X").is_err()
            || closed_by_server(&slow_head, Duration::from_millis(200))
        {
            cut = true;
            break;
        }
    }
    assert!(cut, "a head trickling in was not cut off");

    // A body announced but sent too slowly: 408, as JSON.
    let mut slow_body = TcpStream::connect(addr).expect("connect");
    write!(
        slow_body,
        "POST /api/v1/connections HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
    )
    .expect("write");
    let _ = slow_body.set_read_timeout(Some(REQUEST_TIMEOUT * 3));
    let mut answer = String::new();
    let _ = slow_body.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("{\"error\":"), "{answer}");

    // A body over the limit: 413, as JSON.
    let big = vec![b'x'; 200 * 1024];
    let r = request(
        addr,
        "POST",
        "/api/v1/connections",
        &[
            ("Authorization", &format!("Bearer {TOKEN}")),
            ("Content-Type", "application/json"),
        ],
        &big,
    );
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.json()["error"].is_string(), "{}", r.body);

    // A head over the limit: refused, the server goes on.
    let mut big_head = TcpStream::connect(addr).expect("connect");
    let _ = write!(
        big_head,
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "y".repeat(200 * 1024)
    );
    let _ = big_head.set_read_timeout(Some(BOUND));
    let mut answer = Vec::new();
    let _ = big_head.read_to_end(&mut answer);
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 431"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    answers(addr, "/api/v1/servers");
}

#[test]
fn event_streams_are_bounded_and_do_not_starve_the_api() {
    let kernel = Kernel::start();
    let addr = kernel.addr;
    let mut streams = Vec::new();
    // Open streams until the server says no.
    while let Ok(events) = Events::try_open(addr, "/api/v1/events") {
        streams.push(events);
        assert!(streams.len() <= 64, "more than 64 event streams accepted");
    }
    assert_eq!(streams.len(), 64);
    let refused = request(addr, "GET", "/api/v1/events", &[], b"");
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(refused.json()["error"].is_string());
    // Idle connections on top of the streams: still answered.
    let held: Vec<TcpStream> = (0..HELD)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect();
    answers(addr, "/api/v1/servers");
    answers(addr, "/metrics");
    // The streams still flow.
    streams[0].until("tick", "uptime_s");
    drop(held);
    drop(streams);
    // Closed streams give their places back.
    let started = Instant::now();
    while Events::try_open(addr, "/api/v1/events").is_err() {
        assert!(
            started.elapsed() < BOUND * 5,
            "stream places not given back"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
