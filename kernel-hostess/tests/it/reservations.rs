//! Reservations: all-or-nothing, leases that expire exactly at their TTL,
//! strictly increasing fencing tokens, a race of 64 threads for the last
//! free terminals, and 100,000 random operations checked against a simple
//! reference model.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use crate::common::*;
use kernel_hostess::{
    FencingToken, GuestMask, Hostess, HostessError, ManualClock, ReservationId, ReserveRequest,
    TerminalRef, TerminalUse,
};
use wiring_model::Uuid;

fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

fn request(holder: &str, terminals: Vec<TerminalRef>, ttl: Option<Duration>) -> ReserveRequest {
    ReserveRequest {
        holder: holder.to_owned(),
        terminals,
        ttl,
    }
}

#[test]
fn all_or_nothing() {
    let hostess = Hostess::new();
    populate(&hostess, 3, 1);
    let first = ok(hostess.reserve(request("a", vec![terminal(0, "in")], None)));
    // One of three is taken: nothing is reserved, and the error names it and its holder.
    let e = hostess.reserve(request(
        "b",
        vec![terminal(1, "in"), terminal(0, "in"), terminal(2, "in")],
        None,
    ));
    let msg = e.as_ref().err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        msg.starts_with("nothing was reserved: 1 of the 3 terminals are taken:\n  - `srv000000.in` of guest 00000000-0000-0000-0000-000000000001 is held by `a`"),
        "{msg}"
    );
    assert!(hostess.guest(uuid(1)).is_some_and(|g| g.is_free()));
    assert!(hostess.guest(uuid(2)).is_some_and(|g| g.is_free()));
    // Unknown guests and terminals, and duplicates, are all listed.
    let e = hostess.reserve(request(
        "b",
        vec![
            terminal(1, "in"),
            terminal(1, "sideways"),
            terminal(99, "in"),
            terminal(1, "in"),
        ],
        None,
    ));
    let Err(HostessError::BadTerminals { problems }) = &e else {
        panic!("{e:?}");
    };
    assert_eq!(
        problems,
        &[
            "guest `srv000001` (00000000-0000-0000-0000-000000000002) has no terminal `sideways`; it has: in, out".to_owned(),
            "no guest has the uuid 00000000-0000-0000-0000-000000000064".to_owned(),
            "`srv000001.in` of guest 00000000-0000-0000-0000-000000000002 is named twice".to_owned(),
        ]
    );
    assert!(hostess.guest(uuid(1)).is_some_and(|g| g.is_free()));
    assert!(matches!(
        hostess.reserve(request("b", vec![], None)),
        Err(HostessError::EmptyReservation)
    ));
    assert!(matches!(
        hostess.reserve(request(
            "b",
            vec![terminal(1, "in")],
            Some(Duration::from_millis(5))
        )),
        Err(HostessError::BadTtl { .. })
    ));
    assert!(matches!(
        hostess.reserve(request("", vec![terminal(1, "in")], None)),
        Err(HostessError::BadHolder { .. })
    ));
    // Release by id frees; a second release says it was released.
    let released = ok(hostess.release(first.id));
    assert_eq!(released.terminals, vec![terminal(0, "in")]);
    assert!(hostess.guest(uuid(0)).is_some_and(|g| g.is_free()));
    assert!(matches!(
        hostess.release(first.id),
        Err(HostessError::Released { .. })
    ));
    let unknown = ReservationId(Uuid::from_u128(42));
    assert_eq!(
        hostess.renew(unknown).map_err(|e| e.to_string()),
        Err(format!("no reservation {}", Uuid::from_u128(42)))
    );
}

#[test]
fn a_lease_expires_exactly_at_its_ttl_unless_renewed() {
    let clock = ManualClock::new();
    let hostess = Hostess::with_clock(clock.clone());
    populate(&hostess, 2, 1);
    let ttl = Duration::from_millis(500);
    let grant = ok(hostess.reserve(request("peer", vec![terminal(0, "in")], Some(ttl))));
    assert_eq!(grant.deadline, Some(ttl));
    let held = |h: &Hostess| !h.guest(uuid(0)).is_some_and(|g| g.is_free());

    // Renewed before the deadline: the deadline moves to now + TTL.
    clock.advance(Duration::from_millis(400));
    let renewed = ok(hostess.renew(grant.id));
    assert_eq!(renewed.deadline, Some(Duration::from_millis(900)));
    assert_eq!(renewed.token, grant.token, "renewing keeps the token");

    // Not released a nanosecond before the deadline...
    clock.advance(Duration::from_millis(500) - Duration::from_nanos(1));
    assert!(held(&hostess));
    assert!(hostess.holds(&terminal(0, "in"), grant.token));
    // ... and released at it, even by a read.
    clock.advance(Duration::from_nanos(1));
    assert!(!held(&hostess));
    assert!(!hostess.holds(&terminal(0, "in"), grant.token));
    let e = hostess.renew(grant.id);
    assert_eq!(
        e.map_err(|e| e.to_string()),
        Err(format!(
            "reservation {} expired: its holder did not renew it in time; its terminals were released",
            grant.id
        ))
    );
    // The terminal can be reserved again, under a larger token.
    let again = ok(hostess.reserve(request("other", vec![terminal(0, "in")], Some(ttl))));
    assert!(again.token > grant.token);
    assert!(hostess.holds(&terminal(0, "in"), again.token));
    assert!(!hostess.holds(&terminal(0, "in"), grant.token));
}

#[test]
fn a_dead_holders_lease_is_released_by_the_reaper_in_time() {
    // The real clock: nobody touches the Hostess after reserving, the reaper
    // releases the lease. An event records when.
    let hostess = Hostess::new();
    populate(&hostess, 1, 1);
    let events = hostess.events();
    let ttl = Duration::from_millis(300);
    let grant = ok(hostess.reserve(request("dead", vec![terminal(0, "in")], Some(ttl))));
    let deadline = grant.deadline.unwrap_or_default();
    let ended = loop {
        match events.recv_timeout(Duration::from_secs(30)) {
            Ok(kernel_hostess::HostessEvent::Ended { at, how, grant: g }) if g.id == grant.id => {
                break (at, how);
            }
            Ok(_) => continue,
            Err(e) => panic!("the lease was not released: {e}"),
        }
    };
    assert_eq!(ended.1, kernel_hostess::Ended::Expired);
    // Never sooner than the TTL; the reaper sleeps until the deadline, so it
    // is late only by scheduling (bounded by twice the TTL in the two-process
    // test, where the holder really dies).
    assert!(ended.0 >= deadline, "{:?} < {deadline:?}", ended.0);
    assert!(hostess.guest(uuid(0)).is_some_and(|g| g.is_free()));
}

#[test]
fn fencing_tokens_strictly_increase() {
    let hostess = Hostess::new();
    populate(&hostess, 10, 1);
    let mut last = FencingToken(0);
    for round in 0..50 {
        let t = terminal(round % 10, "in");
        let g = ok(hostess.reserve(request("x", vec![t], None)));
        assert!(g.token > last);
        last = g.token;
        ok(hostess.release(g.id));
    }
}

/// 64 threads race for the 16 terminals that are still free; each terminal
/// goes to exactly one of them, whether they ask for one terminal or for
/// overlapping pairs.
#[test]
fn sixty_four_threads_race_for_the_last_free_terminals() {
    for round in 0..20 {
        let hostess = Hostess::new();
        populate(&hostess, 50, 1);
        // 100 terminals; all but 16 taken.
        let all: Vec<TerminalRef> = (0..50)
            .flat_map(|i| [terminal(i, "in"), terminal(i, "out")])
            .collect();
        let free: Vec<TerminalRef> = all.iter().skip(37).step_by(4).take(16).cloned().collect();
        assert_eq!(free.len(), 16);
        let taken: Vec<TerminalRef> = all.iter().filter(|t| !free.contains(t)).cloned().collect();
        ok(hostess.reserve(request("early", taken, None)));

        let pairs = round % 2 == 1;
        let barrier = Arc::new(Barrier::new(64));
        let threads: Vec<_> = (0..64)
            .map(|thread| {
                let hostess = hostess.clone();
                let barrier = Arc::clone(&barrier);
                let free = free.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    let mut grants = Vec::new();
                    // Each thread walks the free terminals in its own order.
                    for k in 0..free.len() {
                        let i = (k * 7 + thread * 5 + round) % free.len();
                        let want = if pairs {
                            vec![
                                free[i].clone(),
                                free[(i + 1 + thread % 3) % free.len()].clone(),
                            ]
                        } else {
                            vec![free[i].clone()]
                        };
                        if let Ok(g) = hostess.reserve(request(&format!("t{thread}"), want, None)) {
                            grants.push(g);
                            if !pairs {
                                break;
                            }
                        }
                    }
                    grants
                })
            })
            .collect();
        let grants: Vec<_> = threads
            .into_iter()
            .flat_map(|t| match t.join() {
                Ok(g) => g,
                Err(_) => panic!("a racing thread panicked"),
            })
            .collect();
        let mut owner: BTreeMap<TerminalRef, String> = BTreeMap::new();
        let mut tokens = BTreeSet::new();
        for g in &grants {
            assert!(tokens.insert(g.token), "token {} granted twice", g.token);
            for t in &g.terminals {
                if let Some(other) = owner.insert(t.clone(), g.holder.clone()) {
                    panic!("{t} went to both {other} and {}", g.holder);
                }
            }
        }
        // Every terminal granted is one of the free ones.
        assert!(owner.keys().all(|t| free.contains(t)));
        if !pairs {
            // 64 threads for 16 terminals: all 16 go, one each.
            assert_eq!(owner.len(), 16);
            assert_eq!(grants.len(), 16);
        }
        // The guest book agrees.
        for t in &free {
            let usage = hostess
                .guest(t.guest)
                .and_then(|g| g.terminal(&t.terminal).map(|s| s.usage.clone()));
            match (owner.get(t), usage) {
                (Some(holder), Some(TerminalUse::Reserved { holder: h, .. })) => {
                    assert_eq!(*holder, h)
                }
                (None, Some(TerminalUse::Free)) => {}
                (o, u) => panic!("{t}: granted to {o:?}, guest book says {u:?}"),
            }
        }
    }
}

/// A tiny deterministic generator (no external state, reproducible).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// (ttl, deadline, terminals) of a lease in the model.
type ModelLease = (Option<Duration>, Option<Duration>, Vec<(usize, usize)>);

/// The reference model: which lease holds each terminal, and each lease's
/// deadline. Written to be obviously right, not fast.
#[derive(Default)]
struct Model {
    /// terminal -> model lease number
    holder: BTreeMap<(usize, usize), usize>,
    /// model lease number -> (ttl, deadline, terminals)
    live: BTreeMap<usize, ModelLease>,
    ended: BTreeMap<usize, &'static str>,
    /// connectome id -> terminals bound under it
    bound: BTreeMap<u128, BTreeSet<(usize, usize)>>,
}

impl Model {
    fn expire(&mut self, now: Duration) -> BTreeSet<usize> {
        let due: Vec<usize> = self
            .live
            .iter()
            .filter(|(_, (_, d, _))| d.is_some_and(|d| d <= now))
            .map(|(n, _)| *n)
            .collect();
        for n in &due {
            self.end(*n, "expired");
        }
        due.into_iter().collect()
    }

    fn end(&mut self, n: usize, how: &'static str) {
        if let Some((_, _, terminals)) = self.live.remove(&n) {
            for t in terminals {
                self.holder.remove(&t);
                for set in self.bound.values_mut() {
                    set.remove(&t);
                }
            }
            self.bound.retain(|_, s| !s.is_empty());
            self.ended.insert(n, how);
        }
    }
}

const GUESTS: usize = 12;
const TERMINALS: [&str; 3] = ["a", "b", "c"];

fn name_of(t: (usize, usize)) -> TerminalRef {
    terminal(t.0, TERMINALS[t.1])
}

#[test]
fn one_hundred_thousand_random_operations_agree_with_the_model() {
    let clock = ManualClock::new();
    let hostess = Hostess::with_clock(clock.clone());
    for i in 0..GUESTS {
        let class = 0x0a00 + (i as u32 % 3);
        ok(hostess.register(guest(i, class, "ops", &TERMINALS)));
    }
    let masks: Vec<GuestMask> = [
        "*:*:*:*:*:*:*",
        "*:*:0xa01:*:*:*:*",
        "plant-1.example:*:*:*:*:*:*",
    ]
    .iter()
    .map(|m| ok(m.parse::<GuestMask>()))
    .collect();
    let mut model = Model::default();
    let mut ids: Vec<ReservationId> = Vec::new(); // model lease number -> real id
    let mut number: HashMap<ReservationId, usize> = HashMap::new();
    let mut last_token = FencingToken(0);
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let ttls = [
        None,
        Some(Duration::from_millis(100)),
        Some(Duration::from_millis(250)),
        Some(Duration::from_secs(1)),
    ];
    let mut counts = BTreeMap::<&str, usize>::new();
    let mut next_connectome = 1u128;

    for step in 0..100_000 {
        let now = clock.now_for_model();
        let op = rng.below(100);
        match op {
            // reserve 1 to 4 random terminals
            0..=34 => {
                *counts.entry("reserve").or_default() += 1;
                let k = 1 + rng.below(4);
                let mut ts: Vec<(usize, usize)> = Vec::new();
                while ts.len() < k {
                    let t = (rng.below(GUESTS), rng.below(TERMINALS.len()));
                    if !ts.contains(&t) {
                        ts.push(t);
                    }
                }
                let ttl = ttls[rng.below(ttls.len())];
                let real =
                    hostess.reserve(request("m", ts.iter().map(|t| name_of(*t)).collect(), ttl));
                model.expire(now);
                let free = ts.iter().all(|t| !model.holder.contains_key(t));
                match (free, real) {
                    (true, Ok(grant)) => {
                        assert!(
                            grant.token > last_token,
                            "step {step}: token did not increase"
                        );
                        last_token = grant.token;
                        let n = ids.len();
                        ids.push(grant.id);
                        number.insert(grant.id, n);
                        for t in &ts {
                            model.holder.insert(*t, n);
                        }
                        model
                            .live
                            .insert(n, (ttl, ttl.map(|d| now + d), ts.clone()));
                        let want: BTreeSet<TerminalRef> = ts.iter().map(|t| name_of(*t)).collect();
                        let got: BTreeSet<TerminalRef> = grant.terminals.into_iter().collect();
                        assert_eq!(got, want, "step {step}");
                    }
                    (false, Err(HostessError::Taken { .. })) => {}
                    (free, real) => {
                        panic!("step {step}: model says free={free}, Hostess says {real:?}")
                    }
                }
            }
            // renew a random lease (live or ended)
            35..=54 if !ids.is_empty() => {
                *counts.entry("renew").or_default() += 1;
                let n = rng.below(ids.len());
                let real = hostess.renew(ids[n]);
                model.expire(now);
                match (model.live.get_mut(&n), real) {
                    (Some((ttl, deadline, _)), Ok(grant)) => {
                        *deadline = ttl.map(|d| now + d);
                        assert_eq!(grant.deadline, *deadline, "step {step}");
                    }
                    (None, Err(HostessError::Expired { .. })) => {
                        assert_eq!(model.ended.get(&n), Some(&"expired"), "step {step}")
                    }
                    (None, Err(HostessError::Released { .. })) => {
                        assert_eq!(model.ended.get(&n), Some(&"released"), "step {step}")
                    }
                    (m, real) => panic!("step {step}: model {m:?}, Hostess {real:?}"),
                }
            }
            // release a random lease
            55..=69 if !ids.is_empty() => {
                *counts.entry("release").or_default() += 1;
                let n = rng.below(ids.len());
                let real = hostess.release(ids[n]);
                model.expire(now);
                match (model.live.contains_key(&n), real) {
                    (true, Ok(_)) => model.end(n, "released"),
                    (false, Err(HostessError::Expired { .. })) => {
                        assert_eq!(model.ended.get(&n), Some(&"expired"), "step {step}")
                    }
                    (false, Err(HostessError::Released { .. })) => {
                        assert_eq!(model.ended.get(&n), Some(&"released"), "step {step}")
                    }
                    (m, real) => panic!("step {step}: model live={m}, Hostess {real:?}"),
                }
            }
            // time passes; expire what is due
            70..=84 => {
                *counts.entry("expire").or_default() += 1;
                clock.advance(Duration::from_millis(rng.below(120) as u64));
                let now = clock.now_for_model();
                let real: BTreeSet<usize> =
                    hostess.expire_due().iter().map(|g| number[&g.id]).collect();
                let want = model.expire(now);
                assert_eq!(real, want, "step {step}");
            }
            // bind a terminal of a live lease under a new connectome id
            85..=89 if !model.live.is_empty() => {
                *counts.entry("bind").or_default() += 1;
                model.expire(now);
                let live: Vec<usize> = model.live.keys().copied().collect();
                let n = live[rng.below(live.len())];
                let ts = model.live[&n].2.clone();
                let t = ts[rng.below(ts.len())];
                let c = next_connectome;
                next_connectome += 1;
                ok(hostess.bind(ids[n], &[(name_of(t), Uuid::from_u128(c))]));
                model.bound.entry(c).or_default().insert(t);
            }
            // disconnect a random connectome id
            90..=92 if !model.bound.is_empty() => {
                *counts.entry("unbind").or_default() += 1;
                let cs: Vec<u128> = model.bound.keys().copied().collect();
                let c = cs[rng.below(cs.len())];
                let real: BTreeSet<TerminalRef> =
                    hostess.unbind(Uuid::from_u128(c)).into_iter().collect();
                model.expire(now);
                let mut want = BTreeSet::new();
                if let Some(ts) = model.bound.remove(&c) {
                    for t in ts {
                        let still = model.bound.values().any(|s| s.contains(&t));
                        if !still && let Some(n) = model.holder.remove(&t) {
                            want.insert(name_of(t));
                            if let Some(lease) = model.live.get_mut(&n) {
                                lease.2.retain(|x| *x != t);
                                if lease.2.is_empty() {
                                    model.end(n, "released");
                                }
                            }
                        }
                    }
                }
                assert_eq!(real, want, "step {step}");
            }
            // query by mask and count
            _ => {
                *counts.entry("query").or_default() += 1;
                let mask = &masks[rng.below(masks.len())];
                let count = if rng.below(2) == 0 {
                    None
                } else {
                    Some(rng.below(6))
                };
                let real = hostess.query(mask, count);
                model.expire(now);
                let matching: Vec<usize> = (0..GUESTS)
                    .filter(|i| {
                        let g = guest(*i, 0x0a00 + (*i as u32 % 3), "ops", &TERMINALS);
                        mask.matches(g.identity())
                    })
                    .collect();
                match (count, real) {
                    (Some(c), Err(HostessError::NotEnough { found, .. })) => {
                        assert!(matching.len() < c && found == matching.len(), "step {step}")
                    }
                    (_, Ok(guests)) => {
                        let expected = count.map_or(matching.len(), |c| c.min(matching.len()));
                        assert_eq!(guests.len(), expected, "step {step}");
                        for g in guests {
                            let i = (g.identity.uuid().as_u128() - 1) as usize;
                            for (k, t) in g.terminals.iter().enumerate() {
                                let want = model.holder.get(&(i, k)).map(|n| ids[*n]);
                                assert_eq!(t.usage.reservation(), want, "step {step}: {i}.{k}");
                            }
                        }
                    }
                    (c, r) => panic!("step {step}: count {c:?}, Hostess {r:?}"),
                }
            }
        }

        // Never a double booking: the live reservations hold disjoint
        // terminals, and exactly the ones the model says.
        if step % 7 == 0 {
            model.expire(clock.now_for_model());
            let mut seen = BTreeMap::new();
            for g in hostess.reservations() {
                let n = number[&g.id];
                assert!(
                    model.live.contains_key(&n),
                    "step {step}: {} should have ended",
                    g.id
                );
                for t in g.terminals {
                    if let Some(other) = seen.insert(t.clone(), g.id) {
                        panic!("step {step}: {t} is booked by {other} and {}", g.id);
                    }
                }
            }
            let want: BTreeMap<TerminalRef, ReservationId> = model
                .holder
                .iter()
                .map(|(t, n)| (name_of(*t), ids[*n]))
                .collect();
            assert_eq!(seen, want, "step {step}");
        }
    }
    // Every kind of operation ran many times.
    for op in [
        "reserve", "renew", "release", "expire", "bind", "unbind", "query",
    ] {
        assert!(
            counts.get(op).is_some_and(|n| *n > 1000),
            "{op}: {counts:?}"
        );
    }
}

/// The model reads the same clock the Hostess does.
trait ModelClock {
    fn now_for_model(&self) -> Duration;
}

impl ModelClock for ManualClock {
    fn now_for_model(&self) -> Duration {
        kernel_hostess::Clock::now(self)
    }
}
