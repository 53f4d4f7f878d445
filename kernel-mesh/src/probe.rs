//! The probe: finds a beacon's listeners on the local addresses, verifies
//! each by challenge-response, and reports to the beacon's primary port.
//!
//! A run first asks the primary port for the beacon's salt and derives the
//! key once, then completes a handshake with the primary (so a wrong
//! passphrase or a wrong beacon fails at once, with a clear error), then
//! scans, then reports
//! on a fresh connection to the primary, sends the done notice and waits
//! for the beacon's authenticated terminate. Everything happens within the
//! instructions' deadline.
//!
//! The executor starts the `probe` binary with [`Instructions::to_args`] as
//! its arguments and [`Instructions::to_env`] in its environment: the
//! passphrase travels only in [`PASSPHRASE_ENV`], never on the command line
//! (which other users of the host can read).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tracing::{info, warn};

use crate::auth::Key;
use crate::candidate::Candidate;
use crate::error::NetError;
use crate::frame::{self, Frame, FrameError};
use crate::handshake::{
    self, HandshakeError, Opening, ProbeKey, Role, SALT_LEN, SessionId, Transcript,
};
use crate::ports::{FIRST_UNPRIVILEGED, PortRange};
use crate::report::{Results, Row};
use crate::scan::{self, Scan};

/// Environment variable with the shared passphrase.
pub const PASSPHRASE_ENV: &str = "WIRING_PROBE_PASSPHRASE";

/// Most probes in flight by default (each holds a socket).
pub const DEFAULT_CONCURRENCY: usize = 512;
/// Upper bound on concurrency: every probe holds a file descriptor.
pub const MAX_CONCURRENCY: usize = 16_384;
/// Default timeout of a connect and of each reply.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(1000);
/// Default deadline of a whole probe run.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(120);

/// The command line, for `--help`.
pub const USAGE: &str = "\
Usage: probe --beacon <ip:port> --session <32 hex digits> [options]

Scans local addresses for a beacon's listeners, verifies each by
challenge-response, reports the working connection points and the
address/port matrix to the beacon's primary port, and exits once the beacon
sends an authenticated terminate. Prints the verified candidates, one per
line: `<proto> <address> <priority>`, best first.

The shared passphrase is read from the environment variable
WIRING_PROBE_PASSPHRASE (never from the command line).

Options:
  --beacon <ip:port>          the beacon's primary address (required)
  --session <hex>             session id, 32 hex digits (required)
  --tcp <first-last>          TCP ports to scan (1024 or above; default: none)
  --udp <first-last>          UDP ports to scan (1024 or above; default: none)
  --address <ip>              an address to scan; repeat for more
                              (default: every local address that is up)
  --concurrency <n>           probes in flight (default 512, at most 16384)
  --connect-timeout-ms <ms>   timeout of a connect and of each reply (default 1000)
  --deadline-ms <ms>          deadline of the whole run (default 120000)
  -h, --help                  this text

Exit status: 0 after the beacon's authenticated terminate, 1 when the run
failed (unreachable beacon, wrong passphrase, deadline passed), 2 for bad
arguments.
";

/// What a probe run does; the passphrase never shows in `Debug`.
#[derive(Clone)]
pub struct Instructions {
    /// The beacon's primary address.
    pub beacon: SocketAddr,
    /// The session the beacon opened for this probe.
    pub session: SessionId,
    /// TCP ports to scan; `None` scans none.
    pub tcp: Option<PortRange>,
    /// UDP ports to scan; `None` scans none.
    pub udp: Option<PortRange>,
    /// Addresses to scan; empty scans every local address that is up.
    pub addresses: Vec<IpAddr>,
    /// Probes in flight at most (each holds a socket).
    pub concurrency: usize,
    /// Timeout of a connect and of each reply.
    pub connect_timeout: Duration,
    /// Deadline of the whole run.
    pub deadline: Duration,
    passphrase: String,
}

impl std::fmt::Debug for Instructions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instructions")
            .field("beacon", &self.beacon)
            .field("session", &self.session)
            .field("tcp", &self.tcp)
            .field("udp", &self.udp)
            .field("addresses", &self.addresses)
            .field("concurrency", &self.concurrency)
            .field("connect_timeout", &self.connect_timeout)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

fn bad(message: impl Into<String>) -> NetError {
    NetError::Instructions(message.into())
}

fn millis(d: Duration) -> String {
    d.as_millis().to_string()
}

impl Instructions {
    /// Verifies only the beacon's primary port; set the other fields to scan.
    pub fn new(beacon: SocketAddr, session: SessionId, passphrase: impl Into<String>) -> Self {
        Instructions {
            beacon,
            session,
            tcp: None,
            udp: None,
            addresses: Vec::new(),
            concurrency: DEFAULT_CONCURRENCY,
            connect_timeout: DEFAULT_TIMEOUT,
            deadline: DEFAULT_DEADLINE,
            passphrase: passphrase.into(),
        }
    }

    /// Parses the arguments (without the program name) as in [`USAGE`];
    /// the passphrase comes from `env(PASSPHRASE_ENV)`.
    pub fn from_args<I, S>(args: I, env: impl Fn(&str) -> Option<String>) -> Result<Self, NetError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut beacon = None;
        let mut session = None;
        let mut tcp = None;
        let mut udp = None;
        let mut addresses = Vec::new();
        let mut concurrency = DEFAULT_CONCURRENCY;
        let mut connect_timeout = DEFAULT_TIMEOUT;
        let mut deadline = DEFAULT_DEADLINE;

        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let arg = arg.as_ref();
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
                _ => (arg, None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next().map(|v| v.as_ref().to_owned()))
                    .ok_or_else(|| bad(format!("`{flag}` needs a value")))
            };
            let ms = |text: String| {
                text.parse::<u64>()
                    .ok()
                    .filter(|ms| *ms > 0)
                    .map(Duration::from_millis)
                    .ok_or_else(|| bad(format!("`{flag} {text}`: expected milliseconds above 0")))
            };
            match flag {
                "--beacon" => {
                    let text = value()?;
                    beacon = Some(text.parse::<SocketAddr>().map_err(|_| {
                        bad(format!("`--beacon {text}`: expected an address `ip:port`"))
                    })?);
                }
                "--session" => {
                    session = Some(
                        value()?
                            .parse::<SessionId>()
                            .map_err(|e| bad(e.to_string()))?,
                    );
                }
                "--tcp" => tcp = Some(value()?.parse::<PortRange>()?.unprivileged()?),
                "--udp" => udp = Some(value()?.parse::<PortRange>()?.unprivileged()?),
                "--address" => {
                    let text = value()?;
                    addresses.push(
                        text.parse::<IpAddr>().map_err(|_| {
                            bad(format!("`--address {text}`: expected an ip address"))
                        })?,
                    );
                }
                "--concurrency" => {
                    let text = value()?;
                    concurrency = text
                        .parse()
                        .map_err(|_| bad(format!("`--concurrency {text}`: expected a number")))?;
                }
                "--connect-timeout-ms" => connect_timeout = ms(value()?)?,
                "--deadline-ms" => deadline = ms(value()?)?,
                other => return Err(bad(format!("unknown argument `{other}`"))),
            }
        }
        let passphrase = env(PASSPHRASE_ENV)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| bad(format!("the passphrase is missing: set {PASSPHRASE_ENV}")))?;
        let instructions = Instructions {
            beacon: beacon.ok_or_else(|| bad("`--beacon <ip:port>` is required"))?,
            session: session.ok_or_else(|| bad("`--session <32 hex digits>` is required"))?,
            tcp,
            udp,
            addresses,
            concurrency,
            connect_timeout,
            deadline,
            passphrase,
        };
        instructions.validate()?;
        Ok(instructions)
    }

    /// The arguments that [`Instructions::from_args`] reads back; the
    /// passphrase is not among them (see [`Instructions::to_env`]).
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec![
            "--beacon".to_owned(),
            self.beacon.to_string(),
            "--session".to_owned(),
            self.session.to_string(),
        ];
        for (flag, range) in [("--tcp", self.tcp), ("--udp", self.udp)] {
            if let Some(range) = range {
                args.extend([flag.to_owned(), range.to_string()]);
            }
        }
        for address in &self.addresses {
            args.extend(["--address".to_owned(), address.to_string()]);
        }
        args.extend([
            "--concurrency".to_owned(),
            self.concurrency.to_string(),
            "--connect-timeout-ms".to_owned(),
            millis(self.connect_timeout),
            "--deadline-ms".to_owned(),
            millis(self.deadline),
        ]);
        args
    }

    /// The environment the probe process needs: the passphrase.
    pub fn to_env(&self) -> Vec<(&'static str, String)> {
        vec![(PASSPHRASE_ENV, self.passphrase.clone())]
    }

    fn validate(&self) -> Result<(), NetError> {
        if self.beacon.port() < FIRST_UNPRIVILEGED {
            return Err(NetError::Privileged { addr: self.beacon });
        }
        for range in [self.tcp, self.udp].into_iter().flatten() {
            range.unprivileged()?;
        }
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            return Err(bad(format!(
                "concurrency {} is not between 1 and {MAX_CONCURRENCY}",
                self.concurrency
            )));
        }
        if self.connect_timeout.is_zero() || self.deadline.is_zero() {
            return Err(bad("timeouts must be above 0"));
        }
        if self.passphrase.is_empty() {
            return Err(bad("the passphrase is empty"));
        }
        Ok(())
    }
}

/// What a run found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Verified candidates, best first.
    pub candidates: Vec<Candidate>,
    /// Per address and transport, the ports in runs of equal state.
    pub matrix: Vec<Row>,
    /// How long the scan took (without the first handshake and the report).
    pub scan_time: Duration,
}

/// Runs the probe: first handshake, scan, report, terminate.
pub fn run(instructions: &Instructions) -> Result<Outcome, NetError> {
    instructions.validate()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(NetError::io("starting the probe's runtime"))?;
    runtime.block_on(async {
        tokio::time::timeout(instructions.deadline, run_async(instructions))
            .await
            .map_err(|_| NetError::Deadline(instructions.deadline))?
    })
}

async fn connect_tcp(addr: SocketAddr, limit: Duration) -> Result<TcpStream, NetError> {
    let context = format!("connecting to the beacon at {addr}");
    match tokio::time::timeout(limit, TcpStream::connect(addr)).await {
        Ok(connected) => connected.map_err(NetError::io(context)),
        Err(_) => Err(NetError::io(context)(std::io::ErrorKind::TimedOut.into())),
    }
}

/// The beacon's salt, from a challenge on a connection dropped at once:
/// the key derivation that follows is slow on purpose and must not race the
/// beacon's handshake timeout.
async fn beacon_salt(instructions: &Instructions) -> Result<[u8; SALT_LEN], NetError> {
    let addr = instructions.beacon;
    let limit = instructions.connect_timeout;
    let frame_error = |source| NetError::Frame { addr, source };
    let mut stream = connect_tcp(addr, limit).await?;
    let hello = Opening::new(instructions.session)?.hello();
    frame::write(&mut stream, &hello, limit)
        .await
        .map_err(frame_error)?;
    match frame::read(&mut stream, limit).await.map_err(frame_error)? {
        Frame::Challenge { salt, .. } => Ok(salt),
        other => Err(NetError::Handshake {
            addr,
            source: handshake::unexpected("challenge", &other),
        }),
    }
}

/// A connection to the beacon's primary port after a complete handshake.
async fn connect_beacon<'k>(
    instructions: &Instructions,
    key: &'k ProbeKey,
) -> Result<(TcpStream, Transcript, &'k Key), NetError> {
    let addr = instructions.beacon;
    let limit = instructions.connect_timeout;
    let mut stream = connect_tcp(addr, limit).await?;
    let (transcript, key) = handshake::connect(&mut stream, instructions.session, key, limit)
        .await
        .map_err(|source| NetError::Handshake { addr, source })?;
    Ok((stream, transcript, key))
}

async fn run_async(instructions: &Instructions) -> Result<Outcome, NetError> {
    let salt = beacon_salt(instructions).await?;
    let key = Arc::new(ProbeKey::derive(&instructions.passphrase, salt));
    // Fails early, with a clear error, on a wrong passphrase or beacon.
    drop(connect_beacon(instructions, &key).await?);
    info!(beacon = %instructions.beacon, "beacon verified");

    let addresses = if instructions.addresses.is_empty() {
        scan::local_addresses()?
    } else {
        instructions.addresses.clone()
    };
    let ports_per_address = [instructions.tcp, instructions.udp]
        .iter()
        .flatten()
        .map(|r| r.count())
        .sum::<usize>();
    info!(?addresses, ports_per_address, "scanning");
    let started = Instant::now();
    let scan = Scan {
        session: instructions.session,
        key: key.clone(),
        timeout: instructions.connect_timeout,
    };
    let results = scan::run(
        scan,
        &addresses,
        instructions.tcp,
        instructions.udp,
        instructions.concurrency,
    )
    .await;
    let scan_time = started.elapsed();
    info!(
        candidates = results.candidates.len(),
        seconds = scan_time.as_secs_f64(),
        "scan done"
    );

    report(instructions, &key, &results).await?;
    Ok(Outcome {
        candidates: results.candidates,
        matrix: results.matrix,
        scan_time,
    })
}

/// Sends the results and the done notice, then waits for the terminate.
async fn report(
    instructions: &Instructions,
    key: &ProbeKey,
    results: &Results,
) -> Result<(), NetError> {
    let addr = instructions.beacon;
    let limit = instructions.connect_timeout;
    let frame_error = |source| NetError::Frame { addr, source };
    let (mut stream, transcript, key) = connect_beacon(instructions, key).await?;
    let mut reports: u32 = 0;
    for body in results.encode() {
        let tag = transcript.tag(key, Role::Report, &[&reports.to_be_bytes(), &body]);
        let report = Frame::Report {
            seq: reports,
            tag,
            body,
        };
        frame::write(&mut stream, &report, limit)
            .await
            .map_err(frame_error)?;
        reports = reports.saturating_add(1);
    }
    let done = Frame::Done {
        reports,
        tag: transcript.tag(key, Role::Done, &[&reports.to_be_bytes()]),
    };
    frame::write(&mut stream, &done, limit)
        .await
        .map_err(frame_error)?;
    loop {
        match frame::read(&mut stream, instructions.deadline).await {
            Ok(Frame::Terminate { tag }) => {
                if transcript.verify(key, Role::Terminate, &[], &tag) {
                    info!(beacon = %addr, "terminated by the beacon");
                    return Ok(());
                }
                warn!(beacon = %addr, "ignored a terminate with a bad tag");
            }
            Ok(Frame::Refused(reason)) => {
                return Err(NetError::Handshake {
                    addr,
                    source: HandshakeError::Refused(reason),
                });
            }
            Ok(other) => warn!(beacon = %addr, frame = other.name(), "ignored an unexpected frame"),
            Err(FrameError::Closed) => return Err(NetError::NoTerminate { addr }),
            Err(source) => return Err(frame_error(source)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(passphrase: Option<&str>) -> impl Fn(&str) -> Option<String> {
        let passphrase = passphrase.map(str::to_owned);
        move |name| {
            (name == PASSPHRASE_ENV)
                .then(|| passphrase.clone())
                .flatten()
        }
    }

    const SESSION: &str = "000102030405060708090a0b0c0d0e0f";

    #[test]
    fn instructions_round_trip_through_args_and_env() {
        let mut instructions = Instructions::new(
            "127.0.0.1:7400".parse().unwrap(),
            SESSION.parse().unwrap(),
            "secret",
        );
        instructions.tcp = Some(PortRange::new(1024, 65535).unwrap());
        instructions.udp = Some(PortRange::new(7400, 7410).unwrap());
        instructions.addresses = vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()];
        instructions.concurrency = 64;
        instructions.connect_timeout = Duration::from_millis(250);
        instructions.deadline = Duration::from_secs(30);
        let args = instructions.to_args();
        assert!(!args.iter().any(|a| a.contains("secret")), "{args:?}");
        let env_vars = instructions.to_env();
        assert_eq!(env_vars, [(PASSPHRASE_ENV, "secret".to_owned())]);
        let back = Instructions::from_args(&args, env(Some("secret"))).unwrap();
        assert_eq!(back.to_args(), args);
        assert_eq!(back.passphrase, "secret");
    }

    #[test]
    fn bad_arguments_are_clear_errors() {
        let base = ["--beacon", "127.0.0.1:7400", "--session", SESSION];
        let parse = |extra: &[&str], passphrase: Option<&str>| {
            let args: Vec<&str> = base.iter().chain(extra).copied().collect();
            Instructions::from_args(args, env(passphrase)).map_err(|e| e.to_string())
        };
        assert!(parse(&["--tcp=2000-3000"], Some("p")).is_ok());
        let cases: [(&[&str], Option<&str>, &str); 8] = [
            (&[], None, PASSPHRASE_ENV),
            (&[], Some(""), PASSPHRASE_ENV),
            (&["--tcp", "80-90"], Some("p"), "below 1024"),
            (&["--udp", "5000-4000"], Some("p"), "empty"),
            (&["--concurrency", "0"], Some("p"), "concurrency 0"),
            (&["--deadline-ms", "0"], Some("p"), "above 0"),
            (&["--address"], Some("p"), "needs a value"),
            (&["--verbose"], Some("p"), "unknown argument `--verbose`"),
        ];
        for (extra, passphrase, expected) in cases {
            let error = parse(extra, passphrase).unwrap_err();
            assert!(error.contains(expected), "{extra:?}: {error}");
        }
        let privileged = Instructions::from_args(
            ["--beacon", "127.0.0.1:80", "--session", SESSION],
            env(Some("p")),
        );
        assert!(matches!(privileged, Err(NetError::Privileged { .. })));
        let missing = Instructions::from_args(["--session", SESSION], env(Some("p")));
        assert!(missing.unwrap_err().to_string().contains("--beacon"));
    }
}
