//! The probe's scan: parallel TCP connects and UDP hellos with timeouts,
//! each answer verified by the handshake, gathered into the port matrix.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use if_addrs::IfOperStatus;
use tokio::net::{TcpStream, UdpSocket};
use tokio::task::JoinSet;
use tokio::time::timeout;
use tracing::{debug, warn};

use crate::candidate::{Candidate, Proto};
use crate::error::NetError;
use crate::frame::Frame;
use crate::handshake::{self, HandshakeError, Opening, ProbeKey, SessionId};
use crate::ports::{self, PortRange};
use crate::report::{PortState, Results, Row, Run};
use kernel_hostess::clock::unix_millis;

/// Largest UDP reply read; a beacon's replies are under 100 bytes, and a
/// longer datagram is cut and then fails to decode, as it should.
const UDP_REPLY_MAX: usize = 512;

/// What every probe of the scan needs.
pub(crate) struct Scan {
    pub session: SessionId,
    pub key: Arc<ProbeKey>,
    /// For a connect and for each reply.
    pub timeout: Duration,
}

/// A probe's finding at one point, and the error behind `Filtered` if any.
struct Finding {
    proto: Proto,
    addr: SocketAddr,
    state: PortState,
    error: Option<io::Error>,
}

fn classify(result: Result<(), HandshakeError>) -> PortState {
    match result {
        Ok(()) => PortState::Verified,
        Err(e) if e.is_auth_failure() => PortState::AuthFailed,
        Err(_) => PortState::Open,
    }
}

fn connect_failure(e: io::Error) -> (PortState, Option<io::Error>) {
    if e.kind() == io::ErrorKind::ConnectionRefused {
        (PortState::Closed, None)
    } else {
        (PortState::Filtered, Some(e))
    }
}

async fn probe_tcp(addr: SocketAddr, scan: &Scan) -> (PortState, Option<io::Error>) {
    let mut stream = match timeout(scan.timeout, TcpStream::connect(addr)).await {
        Err(_) => return (PortState::Filtered, None),
        Ok(Err(e)) => return connect_failure(e),
        Ok(Ok(stream)) => stream,
    };
    // Connecting to a free port in the ephemeral range can pick that very
    // port as the source: a connection to itself, not a listener.
    if stream.local_addr().is_ok_and(|local| local == addr) {
        return (PortState::Closed, None);
    }
    let result = handshake::connect(&mut stream, scan.session, &scan.key, scan.timeout).await;
    (classify(result.map(|_| ())), None)
}

async fn probe_udp(addr: SocketAddr, scan: &Scan) -> (PortState, Option<io::Error>) {
    let any: SocketAddr = match addr {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = match UdpSocket::bind(any).await {
        Ok(socket) => socket,
        Err(e) => return (PortState::Filtered, Some(e)),
    };
    if let Err(e) = socket.connect(addr).await {
        return connect_failure(e);
    }
    let opening = match Opening::new(scan.session) {
        Ok(opening) => opening,
        Err(e) => return (PortState::Filtered, Some(io::Error::other(e))),
    };
    let reply = match exchange(&socket, &opening.hello(), scan.timeout).await {
        Reply::Frame(frame) => frame,
        Reply::Refused => return (PortState::Closed, None),
        Reply::Silent => return (PortState::Filtered, None),
        Reply::Failed(e) => return (PortState::Filtered, Some(e)),
        Reply::Garbage => return (PortState::Open, None),
    };
    // Our own hello back: the socket got the port it was sending to.
    if opening.is_echo(&reply) {
        return (PortState::Closed, None);
    }
    let (_, _, proof) = match opening.answer(&reply, &scan.key) {
        Ok(answer) => answer,
        Err(e) => return (classify(Err(e)), None),
    };
    let state = match exchange(&socket, &proof, scan.timeout).await {
        Reply::Frame(frame) => classify(handshake::expect_welcome(&frame)),
        // It answered the hello, so it is there; it just did not finish.
        _ => PortState::Open,
    };
    (state, None)
}

enum Reply {
    Frame(Frame),
    /// ICMP port unreachable.
    Refused,
    Silent,
    Failed(io::Error),
    Garbage,
}

/// Sends one frame on a connected UDP socket and waits for one reply.
async fn exchange(socket: &UdpSocket, frame: &Frame, limit: Duration) -> Reply {
    let bytes = match frame.encode() {
        Ok(bytes) => bytes,
        Err(e) => return Reply::Failed(io::Error::other(e)),
    };
    if let Err(e) = socket.send(&bytes).await {
        return match connect_failure(e) {
            (PortState::Closed, _) => Reply::Refused,
            (_, e) => Reply::Failed(e.unwrap_or_else(|| io::Error::other("send failed"))),
        };
    }
    let mut buf = [0u8; UDP_REPLY_MAX];
    match timeout(limit, socket.recv(&mut buf)).await {
        Err(_) => Reply::Silent,
        Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => Reply::Refused,
        Ok(Err(e)) => Reply::Failed(e),
        Ok(Ok(len)) => match Frame::from_datagram(buf.get(..len).unwrap_or_default()) {
            Ok(frame) => Reply::Frame(frame),
            Err(e) => {
                debug!(error = %e, "malformed udp reply");
                Reply::Garbage
            }
        },
    }
}

/// Scans `tcp` and `udp` ports of every address, at most `concurrency`
/// probes at a time.
pub(crate) async fn run(
    scan: Scan,
    addresses: &[IpAddr],
    tcp: Option<PortRange>,
    udp: Option<PortRange>,
    concurrency: usize,
) -> Results {
    let scan = Arc::new(scan);
    let targets = [(Proto::Tcp, tcp), (Proto::Udp, udp)]
        .into_iter()
        .filter_map(|(proto, range)| Some((proto, range?)))
        .flat_map(|(proto, range)| {
            addresses.iter().flat_map(move |ip| {
                range
                    .ports()
                    .map(move |port| (proto, SocketAddr::new(*ip, port)))
            })
        });
    let mut states: HashMap<(IpAddr, Proto), Vec<PortState>> = HashMap::new();
    for ip in addresses {
        for (proto, range) in [(Proto::Tcp, tcp), (Proto::Udp, udp)] {
            if let Some(range) = range {
                states.insert((*ip, proto), vec![PortState::Filtered; range.count()]);
            }
        }
    }

    let mut candidates = Vec::new();
    let mut errors = 0usize;
    let mut first_error = None;
    let mut record = |finding: Finding| {
        let range = match finding.proto {
            Proto::Tcp => tcp,
            Proto::Udp => udp,
        };
        let slot = range.and_then(|r| {
            let index = usize::from(finding.addr.port().checked_sub(r.first())?);
            states
                .get_mut(&(finding.addr.ip(), finding.proto))?
                .get_mut(index)
        });
        if let Some(slot) = slot {
            *slot = finding.state;
        }
        if finding.state == PortState::Verified {
            candidates.push(Candidate::new(finding.proto, finding.addr, unix_millis()));
        }
        if let Some(e) = finding.error {
            errors += 1;
            first_error.get_or_insert_with(|| format!("{} {}: {e}", finding.proto, finding.addr));
        }
    };

    let mut targets = targets;
    let mut running = JoinSet::new();
    loop {
        while running.len() < concurrency.max(1) {
            let Some((proto, addr)) = targets.next() else {
                break;
            };
            let scan = scan.clone();
            running.spawn(async move {
                let (state, error) = match proto {
                    Proto::Tcp => probe_tcp(addr, &scan).await,
                    Proto::Udp => probe_udp(addr, &scan).await,
                };
                Finding {
                    proto,
                    addr,
                    state,
                    error,
                }
            });
        }
        match running.join_next().await {
            Some(Ok(finding)) => record(finding),
            Some(Err(e)) => warn!(error = %e, "a probe task failed; its port stays filtered"),
            None => break,
        }
    }
    if let Some(first) = first_error {
        warn!(
            errors,
            first = %first,
            "some probes failed with errors other than refused or timed out (counted as filtered)"
        );
    }

    let mut matrix: Vec<Row> = states
        .into_iter()
        .map(|((ip, proto), states)| {
            let first = match proto {
                Proto::Tcp => tcp,
                Proto::Udp => udp,
            }
            .map(PortRange::first)
            .unwrap_or(0);
            let ports = (first..=u16::MAX).zip(states);
            Row {
                ip,
                proto,
                runs: ports::runs(ports)
                    .into_iter()
                    .map(|(first, last, state)| Run { first, last, state })
                    .collect(),
            }
        })
        .collect();
    matrix.sort_by_key(|row| (row.ip, row.proto));
    let mut results = Results { candidates, matrix };
    results.finish();
    results
}

/// The addresses of the interfaces that are up, that this process can bind.
/// IPv6 link-local addresses are left out: they need a scope id, which
/// means nothing to a peer.
pub(crate) fn local_addresses() -> Result<Vec<IpAddr>, NetError> {
    let interfaces =
        if_addrs::get_if_addrs().map_err(NetError::io("listing the local addresses"))?;
    let mut out = Vec::new();
    for interface in interfaces {
        let ip = interface.ip();
        let down = matches!(
            interface.oper_status,
            IfOperStatus::Down | IfOperStatus::NotPresent | IfOperStatus::LowerLayerDown
        );
        let link_local_v6 = matches!(ip, IpAddr::V6(v6) if v6.is_unicast_link_local());
        if down || link_local_v6 || out.contains(&ip) {
            debug!(interface = %interface.name, %ip, down, link_local_v6, "address not scanned");
            continue;
        }
        if let Err(e) = std::net::UdpSocket::bind((ip, 0)) {
            debug!(interface = %interface.name, %ip, error = %e, "address cannot be bound; not scanned");
            continue;
        }
        out.push(ip);
    }
    Ok(out)
}
