//! Connection points a probe verified, ordered by an ICE-like priority.
//!
//! The priority follows RFC 8445 section 5.1.2.1:
//! `2^24 * type preference + 2^8 * local preference + (256 - component)`,
//! with one component. The type preference ranks the address scope (a peer
//! on another machine cannot use a loopback address, so loopback comes last);
//! the local preference ranks the transport (TCP before UDP: pipes are
//! streams) and then the family (IPv6 before IPv4, as RFC 8421 advises for
//! dual-stack hosts).

use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};

/// Transport of a connection point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Proto {
    /// `tcp` or `udp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

impl std::fmt::Display for Proto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A connection point the probe reached and verified by challenge-response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Candidate {
    /// TCP or UDP.
    pub proto: Proto,
    /// The address and port reached.
    pub addr: SocketAddr,
    /// See the module documentation; higher is tried first.
    pub priority: u32,
    /// When it was verified, milliseconds since the Unix epoch.
    pub verified_at_ms: u64,
}

impl Candidate {
    /// A candidate verified at `verified_at_ms`, its priority computed from
    /// the address.
    pub fn new(proto: Proto, addr: SocketAddr, verified_at_ms: u64) -> Self {
        Candidate {
            proto,
            addr,
            priority: priority(proto, addr.ip()),
            verified_at_ms,
        }
    }
}

/// The ICE-like priority of a connection point.
pub fn priority(proto: Proto, ip: IpAddr) -> u32 {
    let type_preference: u32 = if ip.is_loopback() {
        0
    } else if is_link_local(ip) {
        63
    } else {
        126
    };
    let transport: u32 = match proto {
        Proto::Tcp => 2,
        Proto::Udp => 1,
    };
    let family: u32 = match ip {
        IpAddr::V6(_) => 1,
        IpAddr::V4(_) => 0,
    };
    let local_preference = (transport << 14) | (family << 13);
    const COMPONENT: u32 = 1;
    (type_preference << 24) + (local_preference << 8) + (256 - COMPONENT)
}

fn is_link_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// Sorts candidates best first (priority, then address for a stable order).
pub fn sort(candidates: &mut [Candidate]) {
    candidates.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(a.proto.cmp(&b.proto))
            .then(a.addr.cmp(&b.addr))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(proto: Proto, addr: &str) -> Candidate {
        Candidate::new(proto, addr.parse().unwrap(), 0)
    }

    #[test]
    fn routable_before_link_local_before_loopback_tcp_before_udp() {
        let mut all = vec![
            candidate(Proto::Udp, "127.0.0.1:5000"),
            candidate(Proto::Tcp, "127.0.0.1:5000"),
            candidate(Proto::Udp, "192.168.1.2:5000"),
            candidate(Proto::Tcp, "169.254.0.7:5000"),
            candidate(Proto::Tcp, "192.168.1.2:5000"),
            candidate(Proto::Tcp, "[2001:db8::1]:5000"),
        ];
        sort(&mut all);
        let order: Vec<String> = all
            .iter()
            .map(|c| format!("{} {}", c.proto, c.addr))
            .collect();
        assert_eq!(
            order,
            [
                "tcp [2001:db8::1]:5000",
                "tcp 192.168.1.2:5000",
                "udp 192.168.1.2:5000",
                "tcp 169.254.0.7:5000",
                "tcp 127.0.0.1:5000",
                "udp 127.0.0.1:5000",
            ]
        );
    }

    #[test]
    fn priority_matches_the_rfc_8445_formula() {
        // Host type preference 126, local preference 2 << 14, component 1.
        assert_eq!(
            priority(Proto::Tcp, "10.0.0.1".parse().unwrap()),
            (126 << 24) + ((2 << 14) << 8) + 255
        );
    }
}
