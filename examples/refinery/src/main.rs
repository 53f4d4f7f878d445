//! A refinery kernel: wells -> manifold -> column -> tank farm, alarm, historian.
//!
//! - `cargo run -p refinery` runs the plant to completion and prints a
//!   summary of every server and pipe.
//! - `cargo run -p refinery -- --serve` keeps a slow steady flow running and
//!   serves the control surface (HMI page, JSON API, metrics); it prints the
//!   address and the token, and stops cleanly on ctrl-c.
//! - `cargo run -p refinery -- --watch` shows a live table of the connections
//!   in the terminal (with `--serve` too, both at once).
//! - `cargo run -p refinery -- --probe` runs a beacon, starts the probe as an
//!   external process (this program again, as `refinery probe ...`), and
//!   prints the connection points the probe verified.
//! - `--adverts <ip:port> --peer <ip:port>` sends capability adverts to the
//!   peer kernels and lists the ones heard from (steady flow until ctrl-c).

mod servers;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use kernel::control::http::{ControlOptions, ServeControl as _};
use kernel::net::node::default_state_dir;
use kernel::net::ports::PortRange;
use kernel::net::probe::Instructions;
use kernel::net::{AdvertOptions, BeaconOptions, MeshExt as _, MeshKernel as _};

kernel::include_wiring!();

/// `println!` that ignores a closed stdout: a reader that goes away (`| head`,
/// a test done with the output) must not panic the plant.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Extra ports the beacon listens on (those in use are skipped).
const BEACON_RANGE: (u16, u16) = (47801, 47816);
/// The shared secret of the beacon, the probe and the adverts; without it
/// `--probe` makes a fresh one for the run, and adverts go unauthenticated.
const PASSPHRASE_ENV: &str = "WIRING_PASSPHRASE";
/// Advert interval and time to live.
const ADVERT_INTERVAL: Duration = Duration::from_secs(1);
const ADVERT_TTL: Duration = Duration::from_secs(5);

/// The refinery: wells -> manifold -> distillation column -> tank farm,
/// alarm and historian. Without options it runs the plant to completion and
/// prints a summary of every server and pipe.
#[derive(Debug, Default, clap::Parser)]
#[command(
    name = "refinery",
    after_help = "Environment:\n  \
KERNEL_CONTROL_LISTEN  where --serve listens (default 127.0.0.1:0)\n  \
KERNEL_CONTROL_TOKEN   the bearer token of modifying calls (default: generated, written to a file)\n  \
WIRING_PASSPHRASE      the shared secret of beacon, probe and adverts\n\n\
`refinery probe <args>` acts as the probe (what --probe starts); see `refinery probe --help`."
)]
struct Options {
    /// Steady flow until ctrl-c; serve the HMI and the control API
    #[arg(long)]
    serve: bool,
    /// Steady flow until ctrl-c; live table of the connections
    #[arg(long)]
    watch: bool,
    /// Run a beacon on 127.0.0.1 (ports 47801-47816 too), start the probe as
    /// an external process and print the verified candidates; the probe
    /// scans TCP and UDP ports 1024-65535 on every local address, or on each
    /// --probe-address
    #[arg(long)]
    probe: bool,
    /// An address for the probe to scan; repeat for more
    #[arg(long = "probe-address", value_name = "IP", requires = "probe")]
    probe_addresses: Vec<IpAddr>,
    /// Send capability adverts from there to each --peer (every 1 s, TTL
    /// 5 s) and list the neighbours heard from; steady flow until ctrl-c
    #[arg(long, value_name = "IP:PORT")]
    adverts: Option<SocketAddr>,
    /// A peer kernel to send adverts to; repeat for more
    #[arg(long = "peer", value_name = "IP:PORT", requires = "adverts")]
    peers: Vec<SocketAddr>,
    /// Microseconds between two samples of a well in steady mode (the
    /// default, 2000, is 500 samples/s per well)
    #[arg(long, value_name = "MICROSECONDS", default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(1..))]
    sample_interval_us: u64,
    /// Supervise an external process: `NAME=COMMAND LINE`, run with `sh -c`
    /// and restarted when it fails; its output goes to the event log; repeat
    /// for more
    #[arg(long = "process", value_name = "NAME=COMMAND", value_parser = process_option)]
    processes: Vec<(String, String)>,
}

/// `NAME=COMMAND LINE` of `--process`.
fn process_option(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, command)) if !name.trim().is_empty() && !command.trim().is_empty() => {
            Ok((name.trim().to_owned(), command.to_owned()))
        }
        _ => Err(format!("`{text}` is not `NAME=COMMAND LINE`")),
    }
}

impl Options {
    /// Runs until ctrl-c rather than to completion.
    fn steady(&self) -> bool {
        self.serve || self.watch || self.adverts.is_some()
    }
}

fn main() -> std::process::ExitCode {
    let mut args = std::env::args_os().skip(1).peekable();
    if args.peek().is_some_and(|a| a == "probe") {
        return probe::cli(args.skip(1));
    }
    let options = <Options as clap::Parser>::parse();
    match run(&options) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Errors of the command: the kernel's, the network's, the system's.
type Failure = Box<dyn std::error::Error>;

fn run(options: &Options) -> Result<(), Failure> {
    let Options { serve, watch, .. } = *options;
    // A live table and log lines do not mix: only warnings while watching.
    let level = if watch {
        tracing::Level::WARN
    } else {
        tracing::Level::INFO
    };
    tracing_subscriber::fmt()
        .with_target(false)
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .init();
    if options.steady() {
        servers::wells::run_steadily(Duration::from_micros(options.sample_interval_us));
    }
    let mut kernel = wiring::kernel()?;
    let connectome = kernel.connectome();
    let passphrase = std::env::var(PASSPHRASE_ENV).ok().filter(|p| !p.is_empty());
    if options.probe {
        start_probe(&mut kernel, options, passphrase.clone())?;
    }
    for (name, command) in &options.processes {
        kernel.add_process(
            kernel::Process::new(name, "sh")
                .args(["-c", command])
                .restart(kernel::Restart::OnFailure),
        )?;
    }
    let server = if serve {
        let server = kernel.serve_control(ControlOptions::from_env()?)?;
        say!("HMI: {}", server.url());
        say!("API: {}api/v1/openapi.json", server.url());
        say!("token: {}", server.token());
        if let Some(file) = server.token_file() {
            say!("token file: {}", file.display());
        }
        say!("ctrl-c stops the plant");
        Some(server)
    } else {
        None
    };
    // After the control surface, so the first advert carries its address.
    if let Some(listen) = options.adverts {
        let mut adverts = AdvertOptions {
            listen,
            peers: options.peers.clone(),
            interval: ADVERT_INTERVAL,
            ttl: ADVERT_TTL,
            passphrase,
        };
        adverts.peers.dedup();
        let local = kernel.start_adverts(adverts)?;
        say!("adverts: {local}");
    }
    let watcher = watch.then(|| {
        let control = kernel.control();
        let stop = kernel.stop_handle();
        std::thread::spawn(move || {
            let mut out = std::io::stdout();
            let _ = kernel::control::watch::watch(
                &control,
                Duration::from_millis(500),
                &mut out,
                || stop.is_stopping(),
            );
        })
    });
    let outcome = kernel.run();
    if let Some(watcher) = watcher {
        let _ = watcher.join();
    }
    drop(server);
    say!("{}", connectome.report());
    if options.probe {
        print_probe(&connectome);
    }
    Ok(outcome?)
}

/// Starts the beacon and adds the probe (this program, as `refinery probe`).
fn start_probe(
    kernel: &mut kernel::Kernel,
    options: &Options,
    passphrase: Option<String>,
) -> Result<(), Failure> {
    let passphrase = match passphrase {
        Some(p) => p,
        None => fresh_passphrase()?,
    };
    let range = PortRange::new(BEACON_RANGE.0, BEACON_RANGE.1)?;
    let state_dir = default_state_dir(kernel.connectome().spec().kernel.name);
    // The beacon talks only to the probe this run starts: no one else gets
    // a signed challenge to guess the passphrase from.
    let session = kernel::net::handshake::SessionId::random()?;
    let beacon = BeaconOptions::new(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        passphrase.clone(),
        &state_dir,
    )
    .range(range)
    .sessions([session]);
    let primary = kernel.start_beacon(beacon)?;
    say!("beacon: {primary} (state: {})", state_dir.display());
    let mut instructions = Instructions::new(primary, session, passphrase);
    instructions.tcp = Some(PortRange::new(1024, u16::MAX)?);
    instructions.udp = instructions.tcp;
    instructions.addresses = options.probe_addresses.clone();
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find this program to start the probe: {e}"))?;
    kernel.add_probe(exe.to_string_lossy(), &["probe"], &instructions)?;
    Ok(())
}

fn fresh_passphrase() -> Result<String, Failure> {
    let bytes = kernel::net::auth::nonce()?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn print_probe(connectome: &kernel::Connectome) {
    let Some(status) = connectome.probe_status() else {
        return;
    };
    match &status.report {
        Some(report) if report.completed => {
            say!(
                "probe: {} verified candidates, best first:",
                status.candidates.len()
            );
            for c in &status.candidates {
                say!("  {} {:<22} priority {}", c.proto, c.addr, c.priority);
            }
            say!("address/port matrix:");
            for row in &report.matrix {
                say!(
                    "  {} {:<15} {} verified, {} open, {} closed, {} filtered, {} failed auth",
                    row.proto,
                    row.ip,
                    row.verified,
                    row.open,
                    row.closed,
                    row.filtered,
                    row.auth_failed
                );
            }
        }
        _ => say!("probe: no completed report (see the probe's lines in the log above)"),
    }
}
