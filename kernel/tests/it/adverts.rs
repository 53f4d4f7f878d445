//! Capability adverts between real UDP sockets on 127.0.0.1: kernels see
//! each other appear, see a leaving one go at once and a silent one go when
//! its TTL runs out, and never see a peer with another passphrase.
#![cfg(feature = "mesh")]

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use kernel::net::advert::{self, MAX_DATAGRAM};
use kernel::net::{Advert, AdvertOptions, Adverts, Candidate, Proto};

const INTERVAL: Duration = Duration::from_millis(100);
/// Far longer than any wait below: a neighbour that goes, went by itself.
const TTL: Duration = Duration::from_secs(30);
const DEADLINE: Duration = Duration::from_secs(5);

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn options(peers: Vec<SocketAddr>, passphrase: Option<&str>) -> AdvertOptions {
    AdvertOptions {
        listen: loopback(),
        peers,
        interval: INTERVAL,
        ttl: TTL,
        passphrase: passphrase.map(str::to_owned),
    }
}

fn content(identity: &str) -> impl Fn() -> Advert + Send + 'static {
    let identity = identity.to_owned();
    move || Advert {
        identity: identity.clone(),
        ttl_s: 0,
        sequence: 0,
        control: Some(SocketAddr::from(([127, 0, 0, 1], 8080))),
        classes: vec![0x0a01],
        candidates: vec![Candidate::new(
            Proto::Tcp,
            SocketAddr::from(([127, 0, 0, 1], 5000)),
            1,
        )],
    }
}

fn start(identity: &str, options: AdvertOptions) -> Adverts {
    match Adverts::start(options, content(identity)) {
        Ok(a) => a,
        Err(e) => panic!("cannot start adverts for {identity}: {e}"),
    }
}

fn seen(adverts: &Adverts) -> Vec<String> {
    adverts
        .neighbours()
        .into_iter()
        .map(|n| n.advert.identity)
        .collect()
}

/// Polls `done` until it holds; panics after [`DEADLINE`].
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn raw_socket() -> UdpSocket {
    let socket = UdpSocket::bind(loopback()).unwrap();
    socket.set_read_timeout(Some(DEADLINE)).unwrap();
    socket
}

#[test]
fn two_kernels_see_each_other_appear_and_one_leave_at_once() {
    let a = start("a.test", options(vec![], None));
    let b = start("b.test", options(vec![a.local_addr()], None));
    a.add_peer(b.local_addr()).unwrap();

    wait_for("a and b to see each other", || {
        seen(&a) == ["b.test"] && seen(&b) == ["a.test"]
    });
    let b_from_a = a.neighbours().remove(0);
    assert_eq!(b_from_a.source, b.local_addr());
    assert_eq!(
        b_from_a.advert.control,
        Some(SocketAddr::from(([127, 0, 0, 1], 8080)))
    );
    assert_eq!(b_from_a.advert.classes, [0x0a01]);
    assert_eq!(b_from_a.advert.candidates.len(), 1);
    assert_eq!(b_from_a.advert.ttl_s, 30);

    let stopped = Instant::now();
    b.stop();
    wait_for("a to see b leave", || seen(&a).is_empty());
    assert!(stopped.elapsed() < TTL);
}

#[test]
fn a_silent_peer_is_forgotten_when_its_ttl_runs_out() {
    let a = start("a.test", options(vec![], None));
    let silent = raw_socket();
    let advert = Advert {
        identity: "silent.test".into(),
        ttl_s: 1,
        sequence: 1,
        control: None,
        classes: vec![],
        candidates: vec![],
    };
    let sent = Instant::now();
    silent
        .send_to(&advert::encode(&advert, None).unwrap(), a.local_addr())
        .unwrap();
    wait_for("the silent peer to appear", || seen(&a) == ["silent.test"]);
    wait_for("the silent peer to expire", || seen(&a).is_empty());
    assert!(
        sent.elapsed() >= Duration::from_secs(1),
        "forgotten before its TTL"
    );
}

#[test]
fn a_peer_with_another_passphrase_never_appears() {
    // Each start derives its key (slow on purpose): all three at once.
    let [a, b, c] = std::thread::scope(|scope| {
        [
            ("a.test", "correct horse"),
            ("b.test", "correct horse"),
            ("c.test", "battery staple"),
        ]
        .map(|(identity, passphrase)| {
            scope.spawn(move || start(identity, options(vec![], Some(passphrase))))
        })
        .map(|started| started.join().unwrap())
    });
    b.add_peer(a.local_addr()).unwrap();
    c.add_peer(a.local_addr()).unwrap();
    a.add_peer(c.local_addr()).unwrap();
    let unkeyed = raw_socket();
    let plain = advert::encode(&content("plain.test")(), None).unwrap();
    unkeyed.send_to(&plain, a.local_addr()).unwrap();

    wait_for("a to see b", || seen(&a) == ["b.test"]);
    // c's adverts and the untagged one reached a and were refused; a's
    // reached c and were refused there.
    wait_for("a to refuse c's adverts", || a.refused() >= 3);
    wait_for("c to refuse a's adverts", || c.refused() >= 2);
    assert_eq!(seen(&a), ["b.test"]);
    assert!(seen(&c).is_empty());
}

#[test]
fn malformed_datagrams_are_counted_and_the_service_goes_on() {
    let a = start("a.test", options(vec![], None));
    let peer = raw_socket();
    peer.send_to(b"not an advert", a.local_addr()).unwrap();
    peer.send_to(&[0u8; MAX_DATAGRAM + 1], a.local_addr())
        .unwrap();
    let mut truncated = advert::encode(&content("cut.test")(), None).unwrap();
    truncated.pop();
    peer.send_to(&truncated, a.local_addr()).unwrap();
    wait_for("three refusals", || a.refused() == 3);
    let good = Advert {
        ttl_s: 30,
        sequence: 1,
        ..content("good.test")()
    };
    let good = advert::encode(&good, None).unwrap();
    peer.send_to(&good, a.local_addr()).unwrap();
    wait_for("the good advert", || seen(&a) == ["good.test"]);
    assert_eq!(a.refused(), 3);
}

/// The next advert `peer` receives from `sender`. Unkeyed: a tag is there
/// but not checked. Datagrams from elsewhere are skipped: other tests of this
/// binary run services and sockets on loopback too, and a port one of them
/// sent to may have been given to `peer` since.
fn receive(peer: &UdpSocket, sender: SocketAddr) -> Advert {
    let mut buf = [0u8; MAX_DATAGRAM];
    loop {
        let (len, from) = peer.recv_from(&mut buf).unwrap();
        if from == sender {
            return advert::decode(&buf[..len], None).unwrap();
        }
    }
}

#[test]
fn dropping_the_service_says_goodbye_on_the_wire() {
    let peer = raw_socket();
    let a = start(
        "a.test",
        options(vec![peer.local_addr().unwrap()], Some("correct horse")),
    );
    let sender = a.local_addr();
    let first = receive(&peer, sender);
    assert_eq!((first.identity.as_str(), first.ttl_s), ("a.test", 30));
    let second = receive(&peer, sender);
    assert!(second.sequence > first.sequence);
    drop(a);
    // Adverts sent before the drop may still be queued; the goodbye is last.
    let mut last = second;
    while last.ttl_s != 0 {
        let next = receive(&peer, sender);
        assert!(next.sequence > last.sequence);
        last = next;
    }
    assert_eq!(last.identity, "a.test");
}

/// A forged advert: a valid identity of no kernel, the longest TTL.
fn forged(i: usize) -> Vec<u8> {
    let advert = Advert {
        identity: format!("forged-{i}@evil.example:{i}"),
        ttl_s: u16::MAX,
        sequence: 1,
        control: None,
        classes: vec![],
        candidates: vec![],
    };
    advert::encode(&advert, None).unwrap()
}

#[test]
fn a_flood_of_forged_adverts_does_not_lock_real_peers_out() {
    use kernel::net::neighbours::{MAX_NEIGHBOURS, MAX_TTL};

    let a = start("a.test", options(vec![], None));
    let b = start("b.test", options(vec![a.local_addr()], None));
    let c = start("c.test", options(vec![a.local_addr()], None));
    wait_for("a to see b and c", || seen(&a) == ["b.test", "c.test"]);

    // 20,000 forged adverts: half from one socket, half from 300 (more
    // than the table holds at 4 identities each), paced so that the
    // receive buffer does not drop them.
    const FORGED: usize = 20_000;
    const SOCKETS: usize = 300;
    let attackers: Vec<UdpSocket> = (0..=SOCKETS).map(|_| raw_socket()).collect();
    let target = a.local_addr();
    let started = Instant::now();
    let mut held_by_peers = true;
    let mut late = None;
    for i in 0..FORGED {
        let socket = if i < FORGED / 2 {
            &attackers[0]
        } else {
            &attackers[1 + i % SOCKETS]
        };
        socket.send_to(&forged(i), target).unwrap();
        if i % 50 == 49 {
            std::thread::sleep(Duration::from_millis(1));
            let now = seen(&a);
            held_by_peers &=
                now.contains(&"b.test".to_owned()) && now.contains(&"c.test".to_owned());
        }
        // A real peer appears in the middle of the flood.
        if i == FORGED / 2 {
            late = Some(start("late.test", options(vec![target], None)));
        }
    }
    let flood = started.elapsed();
    wait_for("a to have heard the flood", || {
        a.evicted() > 0 && seen(&a).len() > 100
    });
    let shown = a.neighbours();
    let forged_held = shown
        .iter()
        .filter(|n| n.advert.identity.starts_with("forged-"))
        .count();
    eprintln!(
        "adverts: {FORGED} forged adverts from {} sockets in {flood:.1?}; the table holds {} neighbours, {forged_held} of them forged; {} forgotten to make room",
        SOCKETS + 1,
        shown.len(),
        a.evicted()
    );
    assert!(held_by_peers, "a real peer was displaced during the flood");
    assert!(shown.len() <= MAX_NEIGHBOURS);
    assert!(
        shown.iter().all(|n| n.expires_in_s <= MAX_TTL.as_secs()),
        "a forged TTL of 18 h is cut to {MAX_TTL:?}"
    );
    wait_for("a to see the peer that came during the flood", || {
        seen(&a).contains(&"late.test".to_owned())
    });
    for peer in ["b.test", "c.test"] {
        assert!(seen(&a).contains(&peer.to_owned()), "{peer}");
    }
    drop((b, c, late));
}

#[test]
fn adverts_with_a_malformed_identity_are_refused() {
    let a = start("a.test", options(vec![], None));
    let peer = raw_socket();
    for identity in ["two words", "evil\u{1b}[2J", "x@y"] {
        // Encoding refuses them: put the bytes together by hand.
        let mut bytes = b"KADV\x01".to_vec();
        for (kind, value) in [
            (1u8, identity.as_bytes().to_vec()),
            (2, 30u16.to_be_bytes().to_vec()),
            (3, 1u64.to_be_bytes().to_vec()),
        ] {
            bytes.push(kind);
            bytes.extend_from_slice(&u16::try_from(value.len()).unwrap().to_be_bytes());
            bytes.extend_from_slice(&value);
        }
        peer.send_to(&bytes, a.local_addr()).unwrap();
    }
    wait_for("three refusals", || a.refused() == 3);
    assert!(seen(&a).is_empty());
}
