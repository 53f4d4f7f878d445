//! The probe's command line: scans for a kernel's beacon listeners,
//! verifies them and reports to the beacon; see `probe --help`. The `probe`
//! binary is this, and so is `refinery probe`, which the refinery starts as
//! its external process (with the arguments of
//! [`Instructions::to_args`](kernel::net::probe::Instructions::to_args)).

#![warn(missing_docs)]

use std::ffi::OsString;
use std::io::IsTerminal;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use clap::builder::RangedU64ValueParser;
use kernel::net::NetError;
use kernel::net::handshake::SessionId;
use kernel::net::ports::{FIRST_UNPRIVILEGED, PortRange};
use kernel::net::probe::{
    self, DEFAULT_CONCURRENCY, DEFAULT_DEADLINE, DEFAULT_TIMEOUT, Instructions, MAX_CONCURRENCY,
    PASSPHRASE_ENV,
};

/// Environment variable with the log level (`error` to `trace`; default `info`).
const LOG_ENV: &str = "WIRING_PROBE_LOG";

/// Scans local addresses for a beacon's listeners, verifies each by
/// challenge-response, reports the working connection points and the
/// address/port matrix to the beacon's primary port, and exits once the
/// beacon sends an authenticated terminate. Prints the verified candidates,
/// one per line: `<proto> <address> <priority>`, best first.
#[derive(Debug, Parser)]
#[command(
    name = "probe",
    after_help = "The shared passphrase is read from the environment variable \
WIRING_PROBE_PASSPHRASE (never from the command line). WIRING_PROBE_LOG sets the \
log level (error, warn, info, debug, trace; default info).\n\n\
Exit status: 0 after the beacon's authenticated terminate, 1 when the run \
failed (unreachable beacon, wrong passphrase, deadline passed), 2 for bad arguments."
)]
struct Args {
    /// The beacon's primary address (port 1024 or above)
    #[arg(long, value_name = "IP:PORT", value_parser = unprivileged_addr)]
    beacon: SocketAddr,
    /// Session id, 32 hex digits
    #[arg(long, value_name = "HEX")]
    session: SessionId,
    /// TCP ports to scan (1024 or above; default: none)
    #[arg(long, value_name = "FIRST-LAST", value_parser = unprivileged_range)]
    tcp: Option<PortRange>,
    /// UDP ports to scan (1024 or above; default: none)
    #[arg(long, value_name = "FIRST-LAST", value_parser = unprivileged_range)]
    udp: Option<PortRange>,
    /// An address to scan; repeat for more (default: every local address that is up)
    #[arg(long = "address", value_name = "IP")]
    addresses: Vec<IpAddr>,
    /// Probes in flight
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY,
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_CONCURRENCY as u64))]
    concurrency: usize,
    /// Timeout of a connect and of each reply, in milliseconds
    #[arg(long = "connect-timeout-ms", value_name = "MS", default_value_t = millis(DEFAULT_TIMEOUT),
          value_parser = clap::value_parser!(u64).range(1..))]
    connect_timeout_ms: u64,
    /// Deadline of the whole run, in milliseconds
    #[arg(long = "deadline-ms", value_name = "MS", default_value_t = millis(DEFAULT_DEADLINE),
          value_parser = clap::value_parser!(u64).range(1..))]
    deadline_ms: u64,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn unprivileged_addr(text: &str) -> Result<SocketAddr, String> {
    let addr: SocketAddr = text
        .parse()
        .map_err(|_| "expected an address `ip:port`".to_owned())?;
    if addr.port() < FIRST_UNPRIVILEGED {
        return Err(NetError::Privileged { addr }.to_string());
    }
    Ok(addr)
}

fn unprivileged_range(text: &str) -> Result<PortRange, String> {
    text.parse::<PortRange>()
        .and_then(PortRange::unprivileged)
        .map_err(|e| e.to_string())
}

impl Args {
    fn instructions(self, passphrase: String) -> Instructions {
        let mut instructions = Instructions::new(self.beacon, self.session, passphrase);
        instructions.tcp = self.tcp;
        instructions.udp = self.udp;
        instructions.addresses = self.addresses;
        instructions.concurrency = self.concurrency;
        instructions.connect_timeout = Duration::from_millis(self.connect_timeout_ms);
        instructions.deadline = Duration::from_millis(self.deadline_ms);
        instructions
    }
}

/// Runs the probe with `args` (without the program name): exit status 0
/// after the beacon's authenticated terminate, 1 when the run failed, 2 for
/// bad arguments.
pub fn cli(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let program = std::iter::once(OsString::from("probe"));
    let args = match Args::try_parse_from(program.chain(args)) {
        Ok(args) => args,
        // `--help` prints to stdout and succeeds; mistakes exit 2.
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let level = match std::env::var(LOG_ENV) {
        Ok(level) => match level.parse::<tracing::Level>() {
            Ok(level) => level,
            Err(_) => {
                eprintln!(
                    "probe: {LOG_ENV}=`{level}` is not a log level (error, warn, info, debug, trace)"
                );
                return ExitCode::from(2);
            }
        },
        Err(_) => tracing::Level::INFO,
    };
    // A program hosting the probe may have set its own subscriber already:
    // that one stays (`init` would panic).
    let _ = tracing_subscriber::fmt()
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .try_init();

    let Some(passphrase) = std::env::var(PASSPHRASE_ENV).ok().filter(|p| !p.is_empty()) else {
        eprintln!(
            "probe: the passphrase is missing: set {PASSPHRASE_ENV}\n\nRun `probe --help` for the usage."
        );
        return ExitCode::from(2);
    };
    match probe::run(&args.instructions(passphrase)) {
        Ok(outcome) => {
            for c in &outcome.candidates {
                println!("{} {} {}", c.proto, c.addr, c.priority);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("probe: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_kernel_writes_parses_back() {
        let session: SessionId = "ab".repeat(16).parse().expect("session");
        let mut written = Instructions::new("127.0.0.1:47801".parse().expect("addr"), session, "p");
        written.tcp = Some(PortRange::new(2000, 3000).expect("range"));
        written.addresses = vec!["127.0.0.2".parse().expect("ip")];
        written.concurrency = 7;
        written.deadline = Duration::from_millis(1234);
        let args =
            Args::try_parse_from(std::iter::once("probe".to_owned()).chain(written.to_args()))
                .expect("parses");
        let read = args.instructions("p".to_owned());
        assert_eq!(read.to_args(), written.to_args());
    }

    #[test]
    fn privileged_ports_and_bad_values_are_refused() {
        let parse = |extra: &[&str]| {
            let mut args = vec!["probe", "--session", "abababababababababababababababab"];
            args.extend_from_slice(extra);
            Args::try_parse_from(args).map_err(|e| e.to_string())
        };
        let e = parse(&["--beacon", "127.0.0.1:443"]).expect_err("privileged");
        assert!(e.contains("privileged"), "{e}");
        let e = parse(&["--beacon", "127.0.0.1:7000", "--tcp", "80-2000"]).expect_err("range");
        assert!(e.contains("below 1024"), "{e}");
        assert!(parse(&["--beacon", "127.0.0.1:7000", "--concurrency", "0"]).is_err());
        assert!(parse(&["--beacon", "127.0.0.1:7000", "--deadline-ms", "0"]).is_err());
        assert!(parse(&["--beacon", "127.0.0.1:7000", "--bogus"]).is_err());
        assert!(parse(&["--beacon", "127.0.0.1:7000"]).is_ok());
    }
}
