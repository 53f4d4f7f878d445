//! Attacks on the handshake and the report, against a real beacon on
//! 127.0.0.1 (and fake beacons for the probe's side): wrong passphrases,
//! replayed and reflected proofs, forged terminates and reports, malformed
//! frames and datagrams.

use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpListener, UdpSocket};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use crate::common::{Conn, PASSPHRASE, probe, start_beacon, temp_dir, text};
use kernel::net::auth::{Key, nonce};
use kernel::net::beacon::Beacon;
use kernel::net::frame::{Frame, Refusal};
use kernel::net::handshake::{BeaconAuth, Role, SALT_LEN, SessionId, Transcript};

/// One beacon for every attack: primary plus two range ports.
static BEACON: LazyLock<Beacon> = LazyLock::new(|| {
    let state = temp_dir("attacks");
    start_beacon(&state, 2, |_| Some(())).0
});

/// The shared beacon's salt, from a challenge.
static SALT: LazyLock<[u8; SALT_LEN]> = LazyLock::new(|| {
    let (_, challenge) = tcp_hello(BEACON.primary_addr());
    let Frame::Challenge { salt, .. } = challenge else {
        panic!("no challenge: {challenge:?}")
    };
    salt
});

/// The key under the shared beacon's salt, as an honest probe has it. Take
/// it before opening an exchange: deriving it takes long enough, on a busy
/// machine, for the beacon to give up waiting for the proof.
static KEY: LazyLock<Key> = LazyLock::new(|| Key::derive(PASSPHRASE, &*SALT));

fn hello_frame() -> (Frame, SessionId, [u8; 32]) {
    let session = SessionId::random().unwrap();
    let nonce_p = nonce().unwrap();
    (
        Frame::Hello {
            session,
            nonce: nonce_p,
        },
        session,
        nonce_p,
    )
}

fn transcript(session: SessionId, nonce_p: [u8; 32], challenge: &Frame) -> Transcript {
    let Frame::Challenge { nonce, .. } = challenge else {
        panic!("no challenge: {challenge:?}")
    };
    Transcript {
        session,
        nonce_p,
        nonce_b: *nonce,
    }
}

/// Opens an exchange over TCP: the connection and the beacon's challenge.
fn tcp_hello(addr: SocketAddr) -> (Conn, Frame) {
    let mut conn = Conn::connect(addr);
    let (hello, _, _) = hello_frame();
    conn.send(&hello);
    let challenge = conn.recv().unwrap();
    (conn, challenge)
}

/// A complete honest exchange over TCP: connection, transcript, proof sent.
fn tcp_handshake(addr: SocketAddr) -> (Conn, Transcript, Frame, Frame) {
    LazyLock::force(&KEY);
    let mut conn = Conn::connect(addr);
    let (hello, session, nonce_p) = hello_frame();
    conn.send(&hello);
    let challenge = conn.recv().unwrap();
    let t = transcript(session, nonce_p, &challenge);
    let proof = Frame::Proof {
        tag: t.tag(&KEY, Role::Probe, &[]),
    };
    conn.send(&proof);
    assert_eq!(conn.recv(), Ok(Frame::Welcome));
    (conn, t, hello, proof)
}

fn udp_socket() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(BEACON.primary_addr()).unwrap();
    // Only reached when a reply that should come does not.
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket
}

/// Sends one frame; the reply, or `None` after the read timeout.
fn udp_exchange(socket: &UdpSocket, frame: &Frame) -> Option<Frame> {
    socket.send(&frame.encode().unwrap()).unwrap();
    let mut buf = [0u8; 2048];
    let len = socket.recv(&mut buf).ok()?;
    Some(Frame::from_datagram(&buf[..len]).unwrap())
}

/// A complete honest exchange over UDP: the hello and the welcomed proof.
/// The first reply must be the challenge to this hello.
fn udp_handshake(socket: &UdpSocket) -> (Frame, Frame) {
    LazyLock::force(&KEY);
    let (hello, session, nonce_p) = hello_frame();
    let challenge = udp_exchange(socket, &hello).unwrap();
    let t = transcript(session, nonce_p, &challenge);
    let proof = Frame::Proof {
        tag: t.tag(&KEY, Role::Probe, &[]),
    };
    assert_eq!(udp_exchange(socket, &proof), Some(Frame::Welcome));
    (hello, proof)
}

const REFUSED_PROOF: Frame = Frame::Refused(Refusal::BadProof);

#[test]
fn the_beacon_refuses_a_probe_with_another_passphrase() {
    let wrong = Key::derive("not the passphrase", &*SALT);
    // Over TCP: the proof under a wrong key is refused, the connection ends.
    let mut conn = Conn::connect(BEACON.primary_addr());
    let (hello, session, nonce_p) = hello_frame();
    conn.send(&hello);
    let challenge = conn.recv().unwrap();
    let t = transcript(session, nonce_p, &challenge);
    conn.send(&Frame::Proof {
        tag: t.tag(&wrong, Role::Probe, &[]),
    });
    assert_eq!(conn.recv(), Ok(REFUSED_PROOF));
    assert!(conn.closed());

    // Over UDP: the same.
    let socket = udp_socket();
    let (hello, session, nonce_p) = hello_frame();
    let challenge = udp_exchange(&socket, &hello).unwrap();
    let t = transcript(session, nonce_p, &challenge);
    let proof = Frame::Proof {
        tag: t.tag(&wrong, Role::Probe, &[]),
    };
    assert_eq!(udp_exchange(&socket, &proof), Some(REFUSED_PROOF));
}

#[test]
fn the_probe_refuses_a_beacon_with_another_passphrase() {
    let args = [
        "--beacon",
        &BEACON.primary_addr().to_string(),
        "--session",
        &SessionId::random().unwrap().to_string(),
        "--deadline-ms",
        "60000",
    ]
    .map(str::to_owned);
    let output = probe(&args, Some("not the passphrase"));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("does not know our passphrase"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn a_replayed_proof_is_refused() {
    // Over TCP: an honest exchange, recorded, then replayed.
    let (_conn, t, hello, proof) = tcp_handshake(BEACON.primary_addr());
    let mut replay = Conn::connect(BEACON.primary_addr());
    replay.send(&hello);
    let fresh = replay.recv().unwrap();
    let Frame::Challenge { nonce, .. } = fresh else {
        panic!("no challenge")
    };
    assert_ne!(nonce, t.nonce_b, "every challenge has a fresh nonce");
    replay.send(&proof);
    assert_eq!(replay.recv(), Ok(REFUSED_PROOF));

    // Over UDP: replayed into a fresh exchange, and after the exchange ended.
    let socket = udp_socket();
    let (hello, proof) = udp_handshake(&socket);
    assert_eq!(
        udp_exchange(&socket, &proof),
        Some(Frame::Refused(Refusal::Unexpected)),
        "no exchange is pending any more"
    );
    assert!(matches!(
        udp_exchange(&socket, &hello),
        Some(Frame::Challenge { .. })
    ));
    assert_eq!(udp_exchange(&socket, &proof), Some(REFUSED_PROOF));
}

#[test]
fn a_reflected_challenge_is_refused() {
    let (mut conn, challenge) = tcp_hello(BEACON.primary_addr());
    let Frame::Challenge { tag, .. } = challenge else {
        panic!("no challenge")
    };
    conn.send(&Frame::Proof { tag });
    assert_eq!(conn.recv(), Ok(REFUSED_PROOF));

    let socket = udp_socket();
    let (hello, _, _) = hello_frame();
    let Some(Frame::Challenge { tag, .. }) = udp_exchange(&socket, &hello) else {
        panic!("no challenge")
    };
    assert_eq!(
        udp_exchange(&socket, &Frame::Proof { tag }),
        Some(REFUSED_PROOF)
    );
}

#[test]
fn reports_need_a_valid_tag_of_their_own_exchange() {
    let primary = BEACON.primary_addr();
    let bad_report = Frame::Refused(Refusal::BadReport);

    // A forged tag.
    let (mut conn, _, _, _) = tcp_handshake(primary);
    conn.send(&Frame::Report {
        seq: 0,
        tag: [0; 32],
        body: Vec::new(),
    });
    assert_eq!(conn.recv(), Ok(bad_report.clone()));

    // A tag from another exchange.
    let (_, other, _, _) = tcp_handshake(primary);
    let (mut conn, _, _, _) = tcp_handshake(primary);
    let seq: u32 = 0;
    conn.send(&Frame::Report {
        seq,
        tag: other.tag(&KEY, Role::Report, &[&seq.to_be_bytes(), &[]]),
        body: Vec::new(),
    });
    assert_eq!(conn.recv(), Ok(bad_report.clone()));

    // A done notice claiming reports that never came.
    let (mut conn, t, _, _) = tcp_handshake(primary);
    let reports: u32 = 1;
    conn.send(&Frame::Done {
        reports,
        tag: t.tag(&KEY, Role::Done, &[&reports.to_be_bytes()]),
    });
    assert_eq!(conn.recv(), Ok(bad_report));

    // A range port verifies, but takes no report: it closes after welcome.
    let (_, range_port) = BEACON
        .listeners()
        .into_iter()
        .find(|(_, addr)| *addr != primary)
        .unwrap();
    let (mut conn, t, _, _) = tcp_handshake(range_port);
    let reports: u32 = 0;
    let done = Frame::Done {
        reports,
        tag: t.tag(&KEY, Role::Done, &[&reports.to_be_bytes()]),
    };
    // The write may fail already: the beacon has closed its side.
    let _ = conn.0.write_all(&done.encode().unwrap());
    assert!(conn.recv().is_err(), "no terminate from a range port");

    assert!(BEACON.wait_complete(Duration::ZERO).is_none());
}

#[test]
fn malformed_frames_and_datagrams_are_refused_without_a_panic() {
    let primary = BEACON.primary_addr();
    let unexpected = Frame::Refused(Refusal::Unexpected);
    for bytes in [
        &[99u8, 0, 0, 0, 0][..],                          // unknown type
        &[1, 0xff, 0xff, 0xff, 0xff],                     // oversized
        &[1, 0, 1, 0, 1],                                 // just over the limit
        &[1, 0, 0, 0, 3, 1, 2, 3],                        // a hello of the wrong length
        &Frame::Proof { tag: [0; 32] }.encode().unwrap(), // a proof before any hello
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",             // another protocol
    ] {
        let mut conn = Conn::connect(primary);
        conn.send_raw(bytes);
        assert_eq!(conn.recv(), Ok(unexpected.clone()), "{bytes:?}");
        assert!(conn.closed(), "{bytes:?}");
    }
    // Truncated: the stream ends inside a frame.
    let mut conn = Conn::connect(primary);
    conn.send_raw(&[1, 0, 0, 0, 48, 1, 2, 3]);
    conn.0.shutdown(Shutdown::Write).unwrap();
    assert_eq!(conn.recv(), Ok(unexpected.clone()));
    assert!(conn.closed());
    // An oversized frame after a handshake, where reports go.
    let (mut conn, _, _, _) = tcp_handshake(primary);
    conn.send_raw(&[6, 0, 2, 0, 0]);
    assert_eq!(conn.recv(), Ok(unexpected));

    // Malformed datagrams, and frames only a beacon sends, get no answer at
    // all: the first reply the socket sees is the challenge to the honest
    // hello sent after them (loopback keeps the order).
    let socket = udp_socket();
    let beacon_frames = [
        Frame::Refused(Refusal::Unexpected),
        Frame::Welcome,
        Frame::Terminate { tag: [0; 32] },
    ]
    .map(|frame| frame.encode().unwrap());
    for bytes in [
        &[][..],
        &[99, 0, 0, 0, 0],
        &[1, 0, 0, 0, 48, 1],
        &[1, 0xff, 0xff, 0xff, 0xff],
        &[4, 0, 0, 0, 0, 9],
        &vec![1u8; 60_000],
    ]
    .into_iter()
    .chain(beacon_frames.iter().map(Vec::as_slice))
    {
        socket.send(bytes).unwrap();
    }
    udp_handshake(&socket);

    // The beacon still serves TCP too.
    tcp_handshake(primary);
}

/// The key of the fake beacons below.
static FAKE: LazyLock<BeaconAuth> = LazyLock::new(|| BeaconAuth::new(PASSPHRASE, None).unwrap());

/// A beacon that answers the handshake honestly, then answers a done
/// notice with forged terminates: one replayed from the probe's earlier
/// exchange, one with a made-up tag, and then, if `then_valid`, the valid
/// one.
fn fake_beacon(then_valid: bool) -> SocketAddr {
    LazyLock::force(&FAKE);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut earlier: Option<Transcript> = None;
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut conn = Conn(stream);
            let Ok(hello) = conn.recv() else { continue };
            let (t, challenge) = FAKE.challenge(&hello).unwrap();
            conn.send(&challenge);
            let Ok(proof) = conn.recv() else { continue };
            FAKE.check_proof(&t, &proof).unwrap();
            conn.send(&Frame::Welcome);
            loop {
                match conn.recv() {
                    Ok(Frame::Done { .. }) => break,
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            let key = FAKE.key();
            if let Some(earlier) = &earlier {
                conn.send(&Frame::Terminate {
                    tag: earlier.tag(key, Role::Terminate, &[]),
                });
                conn.send(&Frame::Terminate { tag: [0; 32] });
                if then_valid {
                    conn.send(&Frame::Terminate {
                        tag: t.tag(key, Role::Terminate, &[]),
                    });
                }
                conn.closed();
            }
            earlier = Some(t);
        }
    });
    addr
}

fn probe_fake(addr: SocketAddr, deadline_ms: &str) -> (std::process::Output, Duration) {
    let args = [
        "--beacon",
        &addr.to_string(),
        "--session",
        &SessionId::random().unwrap().to_string(),
        "--deadline-ms",
        deadline_ms,
    ]
    .map(str::to_owned);
    let started = Instant::now();
    let output = probe(&args, Some(PASSPHRASE));
    (output, started.elapsed())
}

#[test]
fn a_terminate_without_a_valid_tag_is_ignored() {
    let (output, _) = probe_fake(fake_beacon(true), "60000");
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // Both forged terminates came first: the probe read past them.
    assert_eq!(
        stderr.matches("ignored a terminate with a bad tag").count(),
        2,
        "{stderr}"
    );
}

#[test]
fn without_a_valid_terminate_the_probe_gives_up_at_the_deadline() {
    // Long enough for a loaded machine to derive the key and run both
    // exchanges (5 s was not, on 2 CPUs with builds beside).
    let (output, took) = probe_fake(fake_beacon(false), "15000");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("deadline of 15s passed"), "{stderr}");
    // It got as far as the forged terminates before the deadline.
    assert_eq!(
        stderr.matches("ignored a terminate with a bad tag").count(),
        2,
        "{stderr}"
    );
    assert!(took >= Duration::from_secs(15));
}
