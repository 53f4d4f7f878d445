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
//! with proto and ip in the wire forms that adverts use too (see
//! [`crate::frame`]).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use crate::candidate::{self, Candidate, Proto};
use crate::frame::{self, IpWireError, MAX_REPORT_BODY};

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
    /// The first port of the run.
    pub first: u16,
    /// The last port of the run (inclusive).
    pub last: u16,
    /// What the probe found on each of them.
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
    /// The local address scanned.
    pub ip: IpAddr,
    /// TCP or UDP.
    pub proto: Proto,
    /// The scanned ports in order, consecutive ports of one state merged.
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
    /// The body ends inside an item.
    #[error("report body ends inside an item")]
    Truncated,
    /// An item tag this version does not know.
    #[error("unknown report item {0}")]
    UnknownItem(u8),
    /// A transport code other than TCP or UDP.
    #[error("unknown transport {0}")]
    UnknownProto(u8),
    /// An address family code other than IPv4 or IPv6.
    #[error("unknown address family {0}")]
    UnknownFamily(u8),
    /// A port state code this version does not know.
    #[error("unknown port state {0}")]
    UnknownState(u8),
    /// A run whose first port is above its last.
    #[error("port run {first}-{last} is empty")]
    EmptyRun {
        /// The first port given.
        first: u16,
        /// The last port given.
        last: u16,
    },
}

/// A probe's results.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Results {
    /// Best first ([`candidate::sort`]).
    pub candidates: Vec<Candidate>,
    /// What every scanned port of every address showed.
    pub matrix: Vec<Row>,
}

const CANDIDATE: u8 = 1;
const RUN: u8 = 2;

/// Reads items off the front of a body.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], ReportError> {
        frame::take(&mut self.0).ok_or(ReportError::Truncated)
    }

    fn u8(&mut self) -> Result<u8, ReportError> {
        let [byte] = self.take()?;
        Ok(byte)
    }

    fn u16(&mut self) -> Result<u16, ReportError> {
        Ok(u16::from_be_bytes(self.take()?))
    }

    fn proto(&mut self) -> Result<Proto, ReportError> {
        let code = self.u8()?;
        frame::proto_from_code(code).ok_or(ReportError::UnknownProto(code))
    }

    fn ip(&mut self) -> Result<IpAddr, ReportError> {
        frame::take_ip(&mut self.0).map_err(|e| match e {
            IpWireError::Truncated => ReportError::Truncated,
            IpWireError::UnknownFamily(family) => ReportError::UnknownFamily(family),
        })
    }
}

impl Results {
    /// The results as report bodies, each at most [`MAX_REPORT_BODY`] bytes.
    pub fn encode(&self) -> Vec<Vec<u8>> {
        let mut items: Vec<Vec<u8>> = Vec::new();
        for c in &self.candidates {
            let mut item = vec![CANDIDATE, frame::proto_code(c.proto)];
            frame::put_ip(&mut item, c.addr.ip());
            item.extend_from_slice(&c.addr.port().to_be_bytes());
            item.extend_from_slice(&c.verified_at_ms.to_be_bytes());
            items.push(item);
        }
        for row in &self.matrix {
            for run in &row.runs {
                let mut item = vec![RUN, frame::proto_code(row.proto)];
                frame::put_ip(&mut item, row.ip);
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

    /// Candidates best first, rows by address and transport, runs by port.
    pub fn finish(&mut self) {
        candidate::sort(&mut self.candidates);
        self.matrix.sort_by_key(|row| (row.ip, row.proto));
        for row in &mut self.matrix {
            row.runs.sort_by_key(|run| run.first);
        }
    }
}

/// Report bodies as they arrive, gathered into [`Results`]. Rows are kept
/// by address and transport, so a report with many rows costs no more than
/// one with a few.
#[derive(Debug, Default)]
pub struct ResultsDecoder {
    candidates: Vec<Candidate>,
    rows: BTreeMap<(IpAddr, Proto), Vec<Run>>,
}

impl ResultsDecoder {
    /// Adds the items of one body.
    pub fn add_body(&mut self, body: &[u8]) -> Result<(), ReportError> {
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
                    self.rows
                        .entry((ip, proto))
                        .or_default()
                        .push(Run { first, last, state });
                }
                other => return Err(ReportError::UnknownItem(other)),
            }
        }
        Ok(())
    }

    /// The results of every body added, in the order [`Results::finish`] gives.
    pub fn finish(self) -> Results {
        let mut results = Results {
            candidates: self.candidates,
            matrix: self
                .rows
                .into_iter()
                .map(|((ip, proto), runs)| Row { ip, proto, runs })
                .collect(),
        };
        results.finish();
        results
    }
}

/// One matrix row in a status: counts per state, and the runs worth
/// looking at (everything but closed and filtered ports).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowSummary {
    /// The local address scanned.
    pub ip: IpAddr,
    /// TCP or UDP.
    pub proto: Proto,
    /// Ports where the beacon answered the challenge.
    pub verified: usize,
    /// Ports that answered in the protocol but failed the passphrase check.
    pub auth_failed: usize,
    /// Ports that accepted a connection (TCP) or answered (UDP), not as a
    /// beacon.
    pub open: usize,
    /// Ports that refused (a TCP reset or an ICMP port unreachable).
    pub closed: usize,
    /// Ports that did not answer within the timeout (or were unreachable).
    pub filtered: usize,
    /// The runs of every state but closed and filtered.
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
        let mut decoder = ResultsDecoder::default();
        for body in bodies {
            decoder.add_body(body).unwrap();
        }
        decoder.finish()
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
        let add = |body: &[u8]| ResultsDecoder::default().add_body(body);
        assert_eq!(add(&[9]), Err(ReportError::UnknownItem(9)));
        assert_eq!(add(&[RUN, 1, 4, 1]), Err(ReportError::Truncated));
        assert_eq!(add(&[RUN, 3]), Err(ReportError::UnknownProto(3)));
        assert_eq!(add(&[RUN, 1, 5]), Err(ReportError::UnknownFamily(5)));
        assert_eq!(
            add(&[RUN, 1, 4, 127, 0, 0, 1, 0, 9, 0, 8, 1]),
            Err(ReportError::EmptyRun { first: 9, last: 8 })
        );
        assert_eq!(
            add(&[RUN, 1, 4, 127, 0, 0, 1, 0, 8, 0, 9, 6]),
            Err(ReportError::UnknownState(6))
        );
        assert_eq!(add(&[CANDIDATE, 2, 6, 0]), Err(ReportError::Truncated));
    }

    #[test]
    fn runs_of_one_row_from_several_bodies_are_gathered_in_port_order() {
        let run = |first: u8, state: u8| vec![RUN, 1, 4, 10, 0, 0, 1, 0, first, 0, first, state];
        let results = decode(&[run(9, 4), [run(5, 1), run(7, 5)].concat()]);
        let ports: Vec<(u16, PortState)> = results.matrix[0]
            .runs
            .iter()
            .map(|r| (r.first, r.state))
            .collect();
        assert_eq!(results.matrix.len(), 1);
        assert_eq!(
            ports,
            [
                (5, PortState::Verified),
                (7, PortState::Filtered),
                (9, PortState::Closed)
            ]
        );
    }

    proptest! {
        #[test]
        fn the_body_decoder_never_panics(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = ResultsDecoder::default().add_body(&body);
        }
    }
}
