//! What a probe reports: the verified candidates and the address/port
//! matrix, and their encoding in the bodies of report frames.
//!
//! The matrix holds, per local address and transport, runs of consecutive
//! ports in the same [`PortState`]; a scan of 1024-65535 on a host with a
//! handful of listeners is a few dozen runs. A body is a sequence of items:
//!
//! | item | encoding |
//! |---|---|
//! | candidate | `1`, proto, ip, port (2), verified at ms (8) |
//! | run | `2`, proto, ip, first port (2), last port (2), state |
//!
//! with proto `0` tcp / `1` udp and ip `4` + 4 bytes or `6` + 16 bytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use serde::Serialize;

use crate::net::candidate::{self, Candidate, Proto};
use crate::net::frame::MAX_REPORT_BODY;

/// What the probe found at one port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PortState {
    /// A beacon listener that proved the passphrase and accepted ours.
    Verified,
    /// It answered in the protocol, but the passphrase check failed.
    AuthFailed,
    /// It accepted a connection (TCP) or answered (UDP), but not as a beacon.
    Open,
    /// Refused: a TCP reset or an ICMP port unreachable.
    Closed,
    /// No answer within the timeout (or unreachable).
    Filtered,
}

const STATES: [PortState; 5] = [
    PortState::Verified,
    PortState::AuthFailed,
    PortState::Open,
    PortState::Closed,
    PortState::Filtered,
];

impl PortState {
    fn code(self) -> u8 {
        match self {
            PortState::Verified => 1,
            PortState::AuthFailed => 2,
            PortState::Open => 3,
            PortState::Closed => 4,
            PortState::Filtered => 5,
        }
    }

    fn from_code(code: u8) -> Option<PortState> {
        STATES.into_iter().find(|s| s.code() == code)
    }
}

/// Consecutive ports `first..=last` in one state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Run {
    pub first: u16,
    pub last: u16,
    pub state: PortState,
}

impl Run {
    fn len(&self) -> usize {
        usize::from(self.last - self.first) + 1
    }
}

/// The ports of one address over one transport.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub ip: IpAddr,
    pub proto: Proto,
    pub runs: Vec<Run>,
}

impl Row {
    /// How many ports are in `state`.
    pub fn count(&self, state: PortState) -> usize {
        self.runs
            .iter()
            .filter(|r| r.state == state)
            .map(Run::len)
            .sum()
    }
}

/// Why a report body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("report body ends inside an item")]
    Truncated,
    #[error("unknown report item {0}")]
    UnknownItem(u8),
    #[error("unknown transport {0}")]
    UnknownProto(u8),
    #[error("unknown address family {0}")]
    UnknownFamily(u8),
    #[error("unknown port state {0}")]
    UnknownState(u8),
    #[error("port run {first}-{last} is empty")]
    EmptyRun { first: u16, last: u16 },
}

/// A probe's results.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Results {
    /// Best first ([`candidate::sort`]).
    pub candidates: Vec<Candidate>,
    pub matrix: Vec<Row>,
}

const CANDIDATE: u8 = 1;
const RUN: u8 = 2;

fn put_proto(out: &mut Vec<u8>, proto: Proto) {
    out.push(match proto {
        Proto::Tcp => 0,
        Proto::Udp => 1,
    });
}

fn put_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            out.push(4);
            out.extend_from_slice(&v4.octets());
        }
        IpAddr::V6(v6) => {
            out.push(6);
            out.extend_from_slice(&v6.octets());
        }
    }
}

/// Reads items off the front of a body.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], ReportError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(ReportError::Truncated)?;
        self.0 = rest;
        Ok(*head)
    }

    fn u8(&mut self) -> Result<u8, ReportError> {
        Ok(self.take::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, ReportError> {
        Ok(u16::from_be_bytes(self.take()?))
    }

    fn proto(&mut self) -> Result<Proto, ReportError> {
        match self.u8()? {
            0 => Ok(Proto::Tcp),
            1 => Ok(Proto::Udp),
            other => Err(ReportError::UnknownProto(other)),
        }
    }

    fn ip(&mut self) -> Result<IpAddr, ReportError> {
        match self.u8()? {
            4 => Ok(IpAddr::V4(Ipv4Addr::from(self.take::<4>()?))),
            6 => Ok(IpAddr::V6(Ipv6Addr::from(self.take::<16>()?))),
            other => Err(ReportError::UnknownFamily(other)),
        }
    }
}

impl Results {
    /// The results as report bodies, each at most [`MAX_REPORT_BODY`] bytes.
    pub fn encode(&self) -> Vec<Vec<u8>> {
        let mut items: Vec<Vec<u8>> = Vec::new();
        for c in &self.candidates {
            let mut item = vec![CANDIDATE];
            put_proto(&mut item, c.proto);
            put_ip(&mut item, c.addr.ip());
            item.extend_from_slice(&c.addr.port().to_be_bytes());
            item.extend_from_slice(&c.verified_at_ms.to_be_bytes());
            items.push(item);
        }
        for row in &self.matrix {
            for run in &row.runs {
                let mut item = vec![RUN];
                put_proto(&mut item, row.proto);
                put_ip(&mut item, row.ip);
                item.extend_from_slice(&run.first.to_be_bytes());
                item.extend_from_slice(&run.last.to_be_bytes());
                item.push(run.state.code());
                items.push(item);
            }
        }
        let mut bodies: Vec<Vec<u8>> = Vec::new();
        let mut body = Vec::new();
        for item in items {
            if body.len() + item.len() > MAX_REPORT_BODY {
                bodies.push(std::mem::take(&mut body));
            }
            body.extend_from_slice(&item);
        }
        if !body.is_empty() {
            bodies.push(body);
        }
        bodies
    }

    /// Adds the items of one body; call [`Results::finish`] after the last.
    pub fn decode_into(&mut self, body: &[u8]) -> Result<(), ReportError> {
        let mut r = Reader(body);
        while !r.0.is_empty() {
            match r.u8()? {
                CANDIDATE => {
                    let proto = r.proto()?;
                    let addr = SocketAddr::new(r.ip()?, r.u16()?);
                    let verified_at_ms = u64::from_be_bytes(r.take()?);
                    // The priority is this side's to compute, not the wire's.
                    self.candidates
                        .push(Candidate::new(proto, addr, verified_at_ms));
                }
                RUN => {
                    let proto = r.proto()?;
                    let ip = r.ip()?;
                    let (first, last) = (r.u16()?, r.u16()?);
                    let code = r.u8()?;
                    let state =
                        PortState::from_code(code).ok_or(ReportError::UnknownState(code))?;
                    if first > last {
                        return Err(ReportError::EmptyRun { first, last });
                    }
                    let run = Run { first, last, state };
                    match self
                        .matrix
                        .iter_mut()
                        .find(|row| row.ip == ip && row.proto == proto)
                    {
                        Some(row) => row.runs.push(run),
                        None => self.matrix.push(Row {
                            ip,
                            proto,
                            runs: vec![run],
                        }),
                    }
                }
                other => return Err(ReportError::UnknownItem(other)),
            }
        }
        Ok(())
    }

    /// Candidates best first, rows by address and transport, runs by port.
    pub fn finish(&mut self) {
        candidate::sort(&mut self.candidates);
        self.matrix.sort_by_key(|row| (row.ip, row.proto));
        for row in &mut self.matrix {
            row.runs.sort_by_key(|run| run.first);
        }
    }
}

/// One matrix row in a status: counts per state, and the runs worth
/// looking at (everything but closed and filtered ports).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowSummary {
    pub ip: IpAddr,
    pub proto: Proto,
    pub verified: usize,
    pub auth_failed: usize,
    pub open: usize,
    pub closed: usize,
    pub filtered: usize,
    pub runs: Vec<Run>,
}

impl From<&Row> for RowSummary {
    fn from(row: &Row) -> Self {
        RowSummary {
            ip: row.ip,
            proto: row.proto,
            verified: row.count(PortState::Verified),
            auth_failed: row.count(PortState::AuthFailed),
            open: row.count(PortState::Open),
            closed: row.count(PortState::Closed),
            filtered: row.count(PortState::Filtered),
            runs: row
                .runs
                .iter()
                .filter(|r| !matches!(r.state, PortState::Closed | PortState::Filtered))
                .copied()
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn decode(bodies: &[Vec<u8>]) -> Results {
        let mut out = Results::default();
        for body in bodies {
            out.decode_into(body).unwrap();
        }
        out.finish();
        out
    }

    #[test]
    fn results_round_trip() {
        let mut results = Results {
            candidates: vec![
                Candidate::new(Proto::Udp, "127.0.0.1:5000".parse().unwrap(), 7),
                Candidate::new(Proto::Tcp, "[::1]:5001".parse().unwrap(), 8),
            ],
            matrix: vec![Row {
                ip: "127.0.0.1".parse().unwrap(),
                proto: Proto::Tcp,
                runs: vec![
                    Run {
                        first: 1024,
                        last: 4999,
                        state: PortState::Closed,
                    },
                    Run {
                        first: 5000,
                        last: 5000,
                        state: PortState::Verified,
                    },
                ],
            }],
        };
        results.finish();
        assert_eq!(decode(&results.encode()), results);
        assert_eq!(results.matrix[0].count(PortState::Closed), 3976);
    }

    #[test]
    fn a_worst_case_matrix_splits_into_bodies_under_the_limit() {
        // Every port alternating: 64512 runs.
        let runs = (1024..=65535u16)
            .map(|p| Run {
                first: p,
                last: p,
                state: if p % 2 == 0 {
                    PortState::Closed
                } else {
                    PortState::Open
                },
            })
            .collect();
        let results = Results {
            candidates: Vec::new(),
            matrix: vec![Row {
                ip: "::1".parse().unwrap(),
                proto: Proto::Udp,
                runs,
            }],
        };
        let bodies = results.encode();
        assert!(bodies.iter().all(|b| b.len() <= MAX_REPORT_BODY));
        assert!(bodies.len() > 1);
        assert_eq!(decode(&bodies), results);
    }

    #[test]
    fn bad_items_are_errors() {
        let mut r = Results::default();
        assert_eq!(r.decode_into(&[9]), Err(ReportError::UnknownItem(9)));
        assert_eq!(r.decode_into(&[RUN, 0, 4, 1]), Err(ReportError::Truncated));
        assert_eq!(r.decode_into(&[RUN, 2]), Err(ReportError::UnknownProto(2)));
        assert_eq!(
            r.decode_into(&[RUN, 0, 5]),
            Err(ReportError::UnknownFamily(5))
        );
        assert_eq!(
            r.decode_into(&[RUN, 0, 4, 127, 0, 0, 1, 0, 9, 0, 8, 1]),
            Err(ReportError::EmptyRun { first: 9, last: 8 })
        );
        assert_eq!(
            r.decode_into(&[RUN, 0, 4, 127, 0, 0, 1, 0, 8, 0, 9, 6]),
            Err(ReportError::UnknownState(6))
        );
    }

    proptest! {
        #[test]
        fn the_body_decoder_never_panics(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Results::default().decode_into(&body);
        }
    }
}
