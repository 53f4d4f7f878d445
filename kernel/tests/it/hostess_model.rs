//! A model test of the Hostess as the control surface uses it: random
//! reservations, renewals, releases, clock jumps (lease expiries), live
//! connects and disconnects through `kernel.control()` on a running kernel
//! (admission goes through the Hostess's policy), attempts on the kernel's
//! own booking, and restarts of the kernel (a new Hostess in the same
//! process). A reference model predicts every outcome, and after every step
//!
//! - the ledger and the live pipes agree: every terminal of a connection
//!   that holds its terminals is in use under the connection's id in the
//!   kernel's own booking, and nothing else is in use under that id;
//! - no terminal is held by two reservations, and what the model holds is
//!   what the Hostess holds;
//! - every new grant's fencing token is greater than every earlier one, also
//!   across restarts of the kernel.
//!
//! proptest generates and shrinks the step lists. `HOSTESS_MODEL_SEED`
//! replays a run (the seed is printed), `HOSTESS_MODEL_CASES` sets how many
//! step lists run (default 256, about 10 s).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::control_common::*;
use kernel::control::{ControlError, DisconnectMode};
use kernel::hostess::{
    FencingToken, Hostess, HostessError, ManualClock, ReservationId, ReserveRequest, TerminalRef,
    TerminalUse,
};
use kernel::{ConnectionState, Spec, Uuid};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::subsequence;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};

/// Every terminal of the plant, as `server.terminal`.
const TERMINALS: [&str; 7] = [
    "src.out",
    "fan.out",
    "a.input",
    "b.input",
    "merge.inputs",
    "spare.input",
    "words.out",
];

/// Connections of the right types; the wiring rules refuse some of them
/// depending on what is connected (an `Output` or an `Input` takes one peer).
const PAIRS: [(&str, &str); 8] = [
    ("src.out", "a.input"),
    ("src.out", "b.input"),
    ("src.out", "merge.inputs"),
    ("src.out", "spare.input"),
    ("fan.out", "a.input"),
    ("fan.out", "b.input"),
    ("fan.out", "merge.inputs"),
    ("fan.out", "spare.input"),
];

/// Terminals that take one peer.
const SINGLE: [&str; 4] = ["src.out", "a.input", "b.input", "spare.input"];

/// Who reserves: the names the HTTP layer gives authenticated callers.
const HOLDERS: [&str; 3] = ["operator", "peer:plant-b", "peer:plant-c"];

const TTL_MS: [u64; 4] = [100, 1_000, 5_000, 60_000];

#[derive(Debug, Clone)]
enum Step {
    Reserve {
        holder: usize,
        terminals: Vec<usize>,
        ttl: usize,
    },
    /// Renews the n-th lease granted in this run of the kernel (it may
    /// have ended).
    Renew(usize),
    Release(usize),
    /// Moves the Hostess's clock forward.
    Jump(u64),
    Connect(usize),
    /// Disconnects the n-th connection that holds its terminals.
    Disconnect(usize, bool),
    /// Asks to release and renew the kernel's own booking, and to hold
    /// under its name.
    TouchKernelBooking,
    /// Stops the kernel and runs a new one, with a new Hostess.
    RestartKernel,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..HOLDERS.len(), subsequence((0..TERMINALS.len()).collect::<Vec<_>>(), 1..=3), 0..TTL_MS.len())
            .prop_map(|(holder, terminals, ttl)| Step::Reserve { holder, terminals, ttl }),
        2 => (0..8usize).prop_map(Step::Renew),
        2 => (0..8usize).prop_map(Step::Release),
        3 => prop_oneof![Just(50u64), Just(100), Just(999), Just(1_000), Just(4_000), Just(61_000)]
            .prop_map(Step::Jump),
        4 => (0..PAIRS.len()).prop_map(Step::Connect),
        3 => (0..4usize, any::<bool>()).prop_map(|(i, drop)| Step::Disconnect(i, drop)),
        1 => Just(Step::TouchKernelBooking),
        1 => Just(Step::RestartKernel),
    ]
}

/// A lease of the model.
#[derive(Debug, Clone)]
struct Lease {
    id: ReservationId,
    holder: &'static str,
    terminals: BTreeSet<&'static str>,
    ttl: Duration,
    deadline: Duration,
    released: bool,
}

/// What the Hostess and the kernel should hold, written to be obviously
/// right.
#[derive(Default)]
struct Model {
    now: Duration,
    /// Every lease granted in this run, in order.
    leases: Vec<Lease>,
    /// Connections that hold their terminals: id -> (from, to).
    pipes: BTreeMap<Uuid, (&'static str, &'static str)>,
}

impl Model {
    fn live(&self, lease: &Lease) -> bool {
        !lease.released && self.now < lease.deadline
    }

    /// The live lease holding `terminal`.
    fn leased(&self, terminal: &str) -> Option<&Lease> {
        self.leases
            .iter()
            .find(|l| self.live(l) && l.terminals.contains(terminal))
    }

    /// True when a connection holds `terminal`.
    fn connected(&self, terminal: &str) -> bool {
        self.pipes
            .values()
            .any(|(from, to)| *from == terminal || *to == terminal)
    }

    fn peers(&self, terminal: &str) -> usize {
        self.pipes
            .values()
            .filter(|(from, to)| *from == terminal || *to == terminal)
            .count()
    }
}

/// A running kernel of the plant with a Hostess on a manual clock.
struct Plant {
    running: Running,
    hostess: Hostess,
    clock: ManualClock,
}

fn plant_spec() -> &'static Spec {
    static SPEC: OnceLock<&'static Spec> = OnceLock::new();
    SPEC.get_or_init(|| hosted_spec("hostess-model"))
}

impl Plant {
    fn start() -> Plant {
        let spec = plant_spec();
        let kernel = build(spec);
        let clock = ManualClock::new();
        let hostess = Hostess::with_clock(clock.clone());
        assert!(hostess.register_spec(spec).is_empty());
        kernel.connectome().extensions().insert(hostess.clone());
        let running = Running::start(kernel);
        Plant {
            running,
            hostess,
            clock,
        }
    }

    fn terminal(&self, endpoint: &str) -> TerminalRef {
        let (server, terminal) = endpoint.split_once('.').expect("server.terminal");
        let uuid = plant_spec().server(server).expect("server").uuid;
        TerminalRef::new(uuid, terminal)
    }

    fn endpoint(&self, terminal: &TerminalRef) -> &'static str {
        TERMINALS
            .into_iter()
            .find(|e| self.terminal(e) == *terminal)
            .expect("a terminal of the plant")
    }
}

/// The name in [`TERMINALS`] of a terminal of the plant.
fn name(endpoint: &kernel::Endpoint) -> &'static str {
    let text = endpoint.to_string();
    TERMINALS
        .into_iter()
        .find(|t| *t == text)
        .expect("a terminal of the plant")
}

/// Fencing tokens seen so far, over every kernel of the process.
struct Tokens {
    seen: BTreeMap<ReservationId, FencingToken>,
    greatest: FencingToken,
}

impl Default for Tokens {
    fn default() -> Self {
        Tokens {
            seen: BTreeMap::new(),
            greatest: FencingToken(0),
        }
    }
}

impl Tokens {
    /// Records the grants the Hostess has now: each new one must carry a
    /// token greater than every grant seen before.
    fn observe(&mut self, hostess: &Hostess) -> Result<(), TestCaseError> {
        let before = self.greatest;
        for grant in hostess.reservations() {
            match self.seen.get(&grant.id) {
                Some(token) => prop_assert_eq!(*token, grant.token),
                None => {
                    prop_assert!(
                        grant.token > before,
                        "grant {} has token {} after a grant with {}",
                        grant.id,
                        grant.token,
                        before
                    );
                    self.seen.insert(grant.id, grant.token);
                    self.greatest = self.greatest.max(grant.token);
                }
            }
        }
        Ok(())
    }
}

/// How often each outcome happened, for the figures.
static OUTCOMES: Mutex<BTreeMap<&'static str, u64>> = Mutex::new(BTreeMap::new());

fn count(outcome: &'static str) {
    *OUTCOMES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(outcome)
        .or_default() += 1;
}

static STEPS: AtomicU64 = AtomicU64::new(0);
static CASES: AtomicU64 = AtomicU64::new(0);
static KERNELS: AtomicU64 = AtomicU64::new(0);

/// The invariants, after every step.
fn check(plant: &Plant, model: &Model, tokens: &mut Tokens) -> Result<(), TestCaseError> {
    let hostess = &plant.hostess;
    let grants = hostess.reservations();
    let pipes = plant.running.control.connectome().pipes();

    // The connections that hold their terminals are the model's.
    let holding: BTreeMap<Uuid, (&str, &str)> = pipes
        .iter()
        .filter(|p| {
            matches!(
                p.state,
                ConnectionState::Reserved | ConnectionState::Connected | ConnectionState::Paused
            )
        })
        .map(|p| (p.id, (name(&p.from), name(&p.to))))
        .collect();
    prop_assert_eq!(&holding, &model.pipes, "the live connections");
    prop_assert!(
        pipes.iter().all(|p| p.state != ConnectionState::Draining),
        "a disconnect waits until its connection closed"
    );

    // The ledger agrees with them.
    let mut in_use: BTreeMap<&str, (bool, Vec<Uuid>)> = BTreeMap::new();
    for endpoint in TERMINALS {
        let terminal = plant.terminal(endpoint);
        let guest = hostess.guest(terminal.guest).expect("guest");
        let usage = &guest.terminal(&terminal.terminal).expect("terminal").usage;
        let kernel = usage
            .reservation()
            .and_then(|id| grants.iter().find(|g| g.id == id))
            .is_some_and(|g| g.kernel);
        if let TerminalUse::InUse { connectome, .. } = usage {
            let mut ids = connectome.clone();
            ids.sort();
            in_use.insert(endpoint, (kernel, ids));
        }
    }
    for (id, (from, to)) in &model.pipes {
        for end in [from, to] {
            let held = in_use.get(end);
            prop_assert!(
                held.is_some_and(|(kernel, ids)| *kernel && ids.contains(id)),
                "`{}` of connection {} is {:?} in the ledger",
                end,
                id,
                held
            );
        }
    }
    for (endpoint, (_, ids)) in &in_use {
        for id in ids {
            let pipe = model.pipes.get(id);
            prop_assert!(
                pipe.is_some_and(|(from, to)| from == endpoint || to == endpoint),
                "`{}` is in use under {} which is {:?}",
                endpoint,
                id,
                pipe
            );
        }
    }

    // One holder per terminal; the model's leases are the Hostess's.
    let mut holders: BTreeMap<TerminalRef, ReservationId> = BTreeMap::new();
    for grant in &grants {
        for t in &grant.terminals {
            let twice = holders.insert(t.clone(), grant.id);
            prop_assert!(
                twice.is_none(),
                "{} held by {:?} and {}",
                t,
                twice,
                grant.id
            );
        }
    }
    let leases: BTreeMap<ReservationId, (&str, BTreeSet<&str>)> = grants
        .iter()
        .filter(|g| !g.kernel)
        .map(|g| {
            let terminals = g.terminals.iter().map(|t| plant.endpoint(t)).collect();
            (g.id, (g.holder.as_str(), terminals))
        })
        .collect();
    let expected: BTreeMap<ReservationId, (&str, BTreeSet<&str>)> = model
        .leases
        .iter()
        .filter(|l| model.live(l))
        .map(|l| (l.id, (l.holder, l.terminals.clone())))
        .collect();
    prop_assert_eq!(leases, expected, "the leases at {:?}", model.now);
    let kernel: BTreeSet<&str> = grants
        .iter()
        .filter(|g| g.kernel)
        .flat_map(|g| g.terminals.iter().map(|t| plant.endpoint(t)))
        .collect();
    let connected: BTreeSet<&str> = TERMINALS
        .into_iter()
        .filter(|t| model.connected(t))
        .collect();
    prop_assert_eq!(kernel, connected, "the kernel's own bookings");
    prop_assert!(
        grants
            .iter()
            .filter(|g| g.kernel)
            .all(|g| g.holder == "control" && g.deadline.is_none())
    );
    tokens.observe(hostess)
}

fn boot_model() -> Model {
    let mut model = Model::default();
    model.pipes.insert(SRC_A, ("src.out", "a.input"));
    model.pipes.insert(FAN_B, ("fan.out", "b.input"));
    model.pipes.insert(FAN_MERGE, ("fan.out", "merge.inputs"));
    model
}

fn run(steps: &[Step], tokens: &mut Tokens) -> Result<(), TestCaseError> {
    CASES.fetch_add(1, Ordering::Relaxed);
    KERNELS.fetch_add(1, Ordering::Relaxed);
    let mut plant = Plant::start();
    let mut model = boot_model();
    check(&plant, &model, tokens)?;
    for step in steps {
        STEPS.fetch_add(1, Ordering::Relaxed);
        apply(&mut plant, &mut model, step)?;
        check(&plant, &model, tokens)?;
    }
    // How its servers end (a producer left without consumer by a
    // disconnect) is not this test's business.
    let _ = plant.running.finish();
    Ok(())
}

fn apply(plant: &mut Plant, model: &mut Model, step: &Step) -> Result<(), TestCaseError> {
    let hostess = plant.hostess.clone();
    match step {
        Step::Reserve {
            holder,
            terminals,
            ttl,
        } => {
            let names: BTreeSet<&'static str> = terminals.iter().map(|&i| TERMINALS[i]).collect();
            let ttl = Duration::from_millis(TTL_MS[*ttl]);
            let free = names
                .iter()
                .all(|t| model.leased(t).is_none() && !model.connected(t));
            let result = hostess.reserve(ReserveRequest {
                holder: HOLDERS[*holder].to_owned(),
                terminals: names.iter().map(|t| plant.terminal(t)).collect(),
                ttl: Some(ttl),
            });
            match result {
                Ok(grant) => {
                    prop_assert!(free, "reserved {:?}, which are taken", names);
                    count("reserved");
                    model.leases.push(Lease {
                        id: grant.id,
                        holder: HOLDERS[*holder],
                        terminals: names,
                        ttl,
                        deadline: model.now + ttl,
                        released: false,
                    });
                }
                Err(HostessError::Taken { .. }) => {
                    prop_assert!(!free, "{:?} are free but were refused", names);
                    count("reserve refused: taken");
                }
                Err(e) => return Err(TestCaseError::fail(format!("reserve: {e}"))),
            }
        }
        Step::Renew(n) | Step::Release(n) => {
            let Some(lease) = model.leases.get(*n % model.leases.len().max(1)).cloned() else {
                return Ok(());
            };
            let live = model.live(&lease);
            let renew = matches!(step, Step::Renew(_));
            let result = if renew {
                hostess.renew(lease.id)
            } else {
                hostess.release(lease.id)
            };
            let i = *n % model.leases.len();
            match (result, live) {
                (Ok(_), true) if renew => {
                    model.leases[i].deadline = model.now + lease.ttl;
                    count("renewed");
                }
                (Ok(_), true) => {
                    model.leases[i].released = true;
                    count("released");
                }
                (Err(HostessError::Released { .. }), false) => {
                    prop_assert!(lease.released);
                    count("refused: released before");
                }
                (Err(HostessError::Expired { .. }), false) => {
                    prop_assert!(!lease.released);
                    count("refused: expired");
                }
                (result, live) => {
                    return Err(TestCaseError::fail(format!(
                        "{step:?} of {lease:?} (live: {live}) gave {result:?}"
                    )));
                }
            }
        }
        Step::Jump(ms) => {
            let by = Duration::from_millis(*ms);
            let live = model.leases.iter().filter(|l| model.live(l)).count();
            plant.clock.advance(by);
            model.now += by;
            let expired = live - model.leases.iter().filter(|l| model.live(l)).count();
            for _ in 0..expired {
                count("expired");
            }
        }
        Step::Connect(i) => {
            let (from, to) = PAIRS[*i];
            // Live connections have ids of their endpoints; the plant's
            // wired pipes have others.
            let id = kernel::connectome::pipe_id(plant_spec().kernel.name, from, to);
            let duplicate = model.pipes.contains_key(&id);
            let rule = [from, to]
                .iter()
                .any(|t| SINGLE.contains(t) && model.peers(t) > 0);
            let leased = [from, to].iter().any(|t| model.leased(t).is_some());
            let result = plant.running.control.connect(from, to, None);
            match result {
                Ok(id) => {
                    prop_assert!(
                        !duplicate && !rule && !leased,
                        "{} -> {} was connected (duplicate {}, rule {}, leased {})",
                        from,
                        to,
                        duplicate,
                        rule,
                        leased
                    );
                    model.pipes.insert(id, (from, to));
                    count("connected");
                }
                Err(ControlError::Duplicate { .. }) => {
                    prop_assert!(duplicate);
                    count("connect refused: duplicate");
                }
                Err(ControlError::Rule { .. }) => {
                    prop_assert!(!duplicate && rule);
                    count("connect refused: wiring rule");
                }
                Err(ControlError::Refused {
                    policy: "hostess", ..
                }) => {
                    prop_assert!(!duplicate && !rule && leased);
                    count("connect refused: leased by another holder");
                }
                Err(e) => return Err(TestCaseError::fail(format!("connect: {e}"))),
            }
        }
        Step::Disconnect(i, drop) => {
            let Some(&id) = model.pipes.keys().nth(*i % model.pipes.len().max(1)) else {
                return Ok(());
            };
            let mode = if *drop {
                DisconnectMode::Drop
            } else {
                DisconnectMode::Drain
            };
            plant
                .running
                .control
                .disconnect(id, mode)
                .map_err(|e| TestCaseError::fail(format!("disconnect {id}: {e}")))?;
            model.pipes.remove(&id);
            count("disconnected");
            plant
                .running
                .wait_until("the disconnected pipe closed", |c| {
                    c.connectome()
                        .pipe(id)
                        .is_some_and(|p| p.state == ConnectionState::Closed)
                });
        }
        Step::TouchKernelBooking => {
            for grant in hostess.reservations().iter().filter(|g| g.kernel) {
                let refused = Some(HostessError::KernelBooking { id: grant.id });
                prop_assert_eq!(hostess.release(grant.id).err(), refused.clone());
                prop_assert_eq!(hostess.renew(grant.id).err(), refused);
                count("kernel's booking: release and renew refused");
            }
            let free: Vec<TerminalRef> = TERMINALS
                .into_iter()
                .filter(|t| model.leased(t).is_none() && !model.connected(t))
                .map(|t| plant.terminal(t))
                .collect();
            if !free.is_empty() {
                let e = hostess.reserve(ReserveRequest {
                    holder: kernel::hostess::BOOKING_HOLDER.to_owned(),
                    terminals: free,
                    ttl: Some(Duration::from_millis(100)),
                });
                prop_assert!(
                    matches!(e, Err(HostessError::KernelHolder { .. })),
                    "{:?}",
                    e
                );
            }
        }
        Step::RestartKernel => {
            let old = std::mem::replace(plant, Plant::start());
            KERNELS.fetch_add(1, Ordering::Relaxed);
            let _ = old.running.finish();
            *model = boot_model();
        }
    }
    Ok(())
}

#[test]
fn the_hostess_ledger_never_disagrees_with_the_live_pipes() {
    let seed = std::env::var("HOSTESS_MODEL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand_seed);
    let cases = std::env::var("HOSTESS_MODEL_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    eprintln!("hostess model: HOSTESS_MODEL_SEED={seed} HOSTESS_MODEL_CASES={cases}");
    let mut runner = TestRunner::new(Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    });
    // Tokens are compared across every kernel of the process, shrinking
    // runs included.
    let tokens = Mutex::new(Tokens::default());
    let result = runner.run(&vec(step(), 1..48), |steps| {
        let mut tokens = tokens.lock().unwrap_or_else(|e| e.into_inner());
        run(&steps, &mut tokens)
    });
    let tokens = tokens.into_inner().unwrap_or_else(|e| e.into_inner());
    eprintln!(
        "hostess model: {} step lists, {} steps, {} kernels, {} grants with increasing tokens; {:?}",
        CASES.load(Ordering::Relaxed),
        STEPS.load(Ordering::Relaxed),
        KERNELS.load(Ordering::Relaxed),
        tokens.seen.len(),
        OUTCOMES.lock().unwrap_or_else(|e| e.into_inner())
    );
    if let Err(e) = result {
        panic!("{e} (HOSTESS_MODEL_SEED={seed})");
    }
}

/// A seed from the time, printed so that a failing run can be replayed.
fn rand_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
}
