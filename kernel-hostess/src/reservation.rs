//! Reservations: a set of terminals booked all-or-nothing under a lease.
//!
//! - A reservation holds every terminal it names, or none of them: when one
//!   is unknown or taken, nothing is booked and the error lists each problem.
//! - A lease with a TTL expires unless its holder renews it; renewing sets
//!   the deadline to now + TTL. A lease expires exactly at its deadline
//!   (never sooner); every Hostess operation first releases the leases that
//!   are due, and with the real clock a reaper thread does so within a few
//!   milliseconds of the deadline, so an expired lease is released no later
//!   than twice its TTL even when nobody asks.
//! - A lease without a TTL lasts until released.
//! - The kernel's own bookings (the terminals of its pipes, made by
//!   [`book_spec`](crate::book_spec) and [`Hostess::connect`](crate::Hostess::connect))
//!   have no TTL and end only when their pipes let go of the terminals
//!   ([`Hostess::unbind`](crate::Hostess::unbind)): nobody releases, renews or
//!   binds them by hand, no other lease is ever joined to them, and the name
//!   they are held under ([`BOOKING_HOLDER`]) is the kernel's alone. So the
//!   terminals of a live pipe are never freed by someone else's lease.
//! - Every grant carries a fencing token that is strictly greater than every
//!   token granted before by any Hostess of the process, and, as tokens
//!   follow the wall-clock time in microseconds, by the Hostess of an
//!   earlier run. A holder shows its token to whoever acts on its behalf,
//!   who refuses it when [`Hostess::holds`](crate::Hostess::holds) says it
//!   is stale.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use uuid::Uuid;

use crate::guestbook::Hold;
use crate::policy::BOOKING_HOLDER;
use crate::{HostessError, HostessEvent, State};

/// The shortest TTL a lease may have.
pub const MIN_TTL: Duration = Duration::from_millis(100);
/// The longest TTL a lease may have.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// How many ended reservations are remembered, to tell "expired" and
/// "released" apart from "never existed" in errors.
const REMEMBERED: usize = 4096;

/// Names a reservation; unique across Hostess restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReservationId(pub Uuid);

impl fmt::Display for ReservationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl FromStr for ReservationId {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        crate::identity::parse_uuid(text)
            .map(ReservationId)
            .map_err(|e| format!("invalid reservation id: {e}"))
    }
}

/// A fencing token: strictly increasing over the grants of a Hostess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FencingToken(pub u64);

impl fmt::Display for FencingToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// One terminal of one guest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TerminalRef {
    /// The guest's uuid.
    pub guest: Uuid,
    /// The terminal's wiring name.
    pub terminal: String,
}

impl TerminalRef {
    /// Terminal `terminal` of the guest with uuid `guest`.
    pub fn new(guest: Uuid, terminal: impl Into<String>) -> Self {
        TerminalRef {
            guest,
            terminal: terminal.into(),
        }
    }
}

impl fmt::Display for TerminalRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.guest.hyphenated(), self.terminal)
    }
}

/// What to reserve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReserveRequest {
    /// Who holds the reservation (shown in the guest book), e.g. `control`
    /// or `peer:plant-b`.
    pub holder: String,
    /// The terminals, all or nothing.
    pub terminals: Vec<TerminalRef>,
    /// Lease TTL; `None` lasts until released.
    pub ttl: Option<Duration>,
}

/// A granted (or renewed) reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The reservation's id: release, renew or bind with it.
    pub id: ReservationId,
    /// Greater than every token granted before in this process; show it to
    /// whoever acts for the holder, so a stale holder is refused.
    pub token: FencingToken,
    /// Who holds it.
    pub holder: String,
    /// Every terminal it holds.
    pub terminals: Vec<TerminalRef>,
    /// The lease's time to live; `None` lasts until released.
    pub ttl: Option<Duration>,
    /// Clock time at which the lease expires unless renewed.
    pub deadline: Option<Duration>,
    /// The kernel's own booking of its pipes' terminals (see the module
    /// documentation): not released, renewed or bound by hand.
    pub kernel: bool,
}

/// Why a reservation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Its holder released it, or its last terminal was disconnected.
    Released,
    /// Its lease ran out before it was renewed.
    Expired,
}

pub(crate) struct Lease {
    pub(crate) id: ReservationId,
    pub(crate) token: FencingToken,
    pub(crate) holder: String,
    pub(crate) ttl: Option<Duration>,
    pub(crate) deadline: Option<Duration>,
    /// (slot, terminal) pairs: a set, as the kernel's own booking holds
    /// every terminal of its pipes and gives them back one pipe at a time.
    pub(crate) terminals: BTreeSet<(usize, usize)>,
    /// The kernel's own booking.
    pub(crate) kernel: bool,
}

pub(crate) struct Ledger {
    leases: HashMap<ReservationId, Lease>,
    deadlines: BTreeSet<(Duration, ReservationId)>,
    by_connectome: HashMap<Uuid, Vec<(usize, usize)>>,
    ended: HashMap<ReservationId, Ended>,
    ended_order: VecDeque<ReservationId>,
    seq: u64,
    nonce: u128,
}

/// The greatest fencing token granted in this process, by any Hostess: a
/// Hostess made after another (a kernel run again) grants greater ones even
/// when the other granted faster than one a microsecond.
static LAST_TOKEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A fencing token greater than every one granted before in this process,
/// and no smaller than the wall-clock time in microseconds (so the grants
/// of a later run of the process are greater too, unless the wall clock is
/// set back).
fn next_token() -> FencingToken {
    use std::sync::atomic::Ordering::SeqCst;
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX / 2))
        .unwrap_or_default();
    let mut last = LAST_TOKEN.load(SeqCst);
    loop {
        let token = micros.max(last.saturating_add(1));
        match LAST_TOKEN.compare_exchange_weak(last, token, SeqCst, SeqCst) {
            Ok(_) => return FencingToken(token),
            Err(seen) => last = seen,
        }
    }
}

impl Ledger {
    pub(crate) fn new() -> Self {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        // Distinct per process and per Hostess, for ids unique across restarts.
        static INSTANCES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let instance = INSTANCES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nonce = since_epoch.as_nanos()
            ^ (u128::from(std::process::id()) << 96)
            ^ (u128::from(instance) << 64);
        Ledger {
            leases: HashMap::new(),
            deadlines: BTreeSet::new(),
            by_connectome: HashMap::new(),
            ended: HashMap::new(),
            ended_order: VecDeque::new(),
            seq: 0,
            nonce,
        }
    }

    pub(crate) fn lease(&self, id: &ReservationId) -> Option<&Lease> {
        self.leases.get(id)
    }

    pub(crate) fn len(&self) -> usize {
        self.leases.len()
    }

    /// True when some lease is due at `now`.
    pub(crate) fn due(&self, now: Duration) -> bool {
        self.deadlines.first().is_some_and(|(d, _)| *d <= now)
    }

    /// The earliest deadline.
    pub(crate) fn next_deadline(&self) -> Option<Duration> {
        self.deadlines.first().map(|(d, _)| *d)
    }

    fn new_id(&mut self) -> ReservationId {
        self.seq += 1;
        let name = format!("{:032x}/{}", self.nonce, self.seq);
        ReservationId(Uuid::new_v5(
            &wiring_model::spec::NAMESPACE,
            name.as_bytes(),
        ))
    }

    fn remember(&mut self, id: ReservationId, how: Ended) {
        if self.ended.insert(id, how).is_none() {
            self.ended_order.push_back(id);
        }
        while self.ended_order.len() > REMEMBERED {
            if let Some(old) = self.ended_order.pop_front() {
                self.ended.remove(&old);
            }
        }
    }

    /// The error for an id that has no lease.
    fn gone(&self, id: ReservationId) -> HostessError {
        match self.ended.get(&id) {
            Some(Ended::Expired) => HostessError::Expired { id },
            Some(Ended::Released) => HostessError::Released { id },
            None => HostessError::UnknownReservation { id },
        }
    }
}

pub(crate) fn check_ttl(ttl: Option<Duration>) -> Result<(), HostessError> {
    match ttl {
        Some(ttl) if !(MIN_TTL..=MAX_TTL).contains(&ttl) => Err(HostessError::BadTtl {
            ttl,
            min: MIN_TTL,
            max: MAX_TTL,
        }),
        _ => Ok(()),
    }
}

/// A holder for a lease anyone may take: a well-formed name that is not
/// the kernel's own ([`BOOKING_HOLDER`]).
pub(crate) fn check_guest_holder(holder: &str) -> Result<(), HostessError> {
    check_holder(holder)?;
    if holder == BOOKING_HOLDER {
        return Err(HostessError::KernelHolder {
            holder: holder.to_owned(),
        });
    }
    Ok(())
}

pub(crate) fn check_holder(holder: &str) -> Result<(), HostessError> {
    if holder.is_empty()
        || holder.len() > 128
        || !holder.chars().all(|c| c.is_ascii_graphic() || c == ' ')
    {
        return Err(HostessError::BadHolder {
            holder: holder.chars().take(140).collect(),
        });
    }
    Ok(())
}

impl State {
    fn grant_of(&self, lease: &Lease) -> Grant {
        Grant {
            id: lease.id,
            token: lease.token,
            holder: lease.holder.clone(),
            terminals: lease
                .terminals
                .iter()
                .map(|&(g, t)| self.terminal_ref(g, t))
                .collect(),
            ttl: lease.ttl,
            deadline: lease.deadline,
            kernel: lease.kernel,
        }
    }

    pub(crate) fn terminal_ref(&self, g: usize, t: usize) -> TerminalRef {
        let guest = &self.book.slots[g].guest;
        TerminalRef {
            guest: guest.uuid(),
            terminal: guest
                .terminals()
                .get(t)
                .map(|i| i.name.clone())
                .unwrap_or_default(),
        }
    }

    /// `server.terminal` for messages.
    pub(crate) fn terminal_name(&self, g: usize, t: usize) -> String {
        let guest = &self.book.slots[g].guest;
        format!(
            "`{}.{}` of guest {}",
            guest.identity().server(),
            guest
                .terminals()
                .get(t)
                .map(|i| i.name.as_str())
                .unwrap_or("?"),
            guest.uuid().hyphenated()
        )
    }

    /// Resolves references to (slot, terminal) pairs; errors list every bad one.
    pub(crate) fn resolve(
        &self,
        refs: &[TerminalRef],
    ) -> Result<Vec<(usize, usize)>, HostessError> {
        let mut out = Vec::with_capacity(refs.len());
        let mut problems = Vec::new();
        let mut seen = HashSet::with_capacity(refs.len());
        for r in refs {
            let Some(g) = self.book.index_of(&r.guest) else {
                problems.push(format!("no guest has the uuid {}", r.guest.hyphenated()));
                continue;
            };
            let guest = &self.book.slots[g].guest;
            let Some(t) = guest.terminal_index(&r.terminal) else {
                let known: Vec<&str> = guest.terminals().iter().map(|t| t.name.as_str()).collect();
                problems.push(format!(
                    "guest `{}` ({}) has no terminal `{}`; it has: {}",
                    guest.identity().server(),
                    r.guest.hyphenated(),
                    r.terminal,
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ));
                continue;
            };
            if !seen.insert((g, t)) {
                problems.push(format!("{} is named twice", self.terminal_name(g, t)));
                continue;
            }
            out.push((g, t));
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(HostessError::BadTerminals { problems })
        }
    }

    /// Releases every lease due at `now`; returns them.
    pub(crate) fn expire_due(&mut self, now: Duration) -> Vec<Grant> {
        self.now = self.now.max(now);
        let mut expired = Vec::new();
        while let Some(&(deadline, id)) = self.ledger.deadlines.first() {
            if deadline > now {
                break;
            }
            self.ledger.deadlines.pop_first();
            if let Some(grant) = self.end(id, Ended::Expired) {
                tracing::info!(
                    reservation = %id,
                    holder = %grant.holder,
                    terminals = grant.terminals.len(),
                    "lease expired; terminals released"
                );
                expired.push(grant);
            }
        }
        expired
    }

    /// Removes a lease and frees its terminals.
    pub(crate) fn end(&mut self, id: ReservationId, how: Ended) -> Option<Grant> {
        let lease = self.ledger.leases.get(&id)?;
        let grant = self.grant_of(lease);
        let lease = self.ledger.leases.remove(&id)?;
        if let Some(deadline) = lease.deadline {
            self.ledger.deadlines.remove(&(deadline, id));
        }
        for &(g, t) in &lease.terminals {
            if let Some(Some(hold)) = self.book.slots[g].holds.get_mut(t).map(Option::take) {
                for c in hold.connectome {
                    self.unindex(c, g, t);
                }
            }
        }
        self.ledger.remember(id, how);
        if self.record {
            self.events.push(HostessEvent::Ended {
                grant: grant.clone(),
                how,
                at: self.now,
            });
        }
        Some(grant)
    }

    fn unindex(&mut self, connectome: Uuid, g: usize, t: usize) {
        if let Some(list) = self.ledger.by_connectome.get_mut(&connectome) {
            list.retain(|&p| p != (g, t));
            if list.is_empty() {
                self.ledger.by_connectome.remove(&connectome);
            }
        }
    }

    /// Books every terminal of `request`, or none.
    pub(crate) fn reserve(
        &mut self,
        now: Duration,
        request: ReserveRequest,
    ) -> Result<Grant, HostessError> {
        check_ttl(request.ttl)?;
        check_guest_holder(&request.holder)?;
        if request.terminals.is_empty() {
            return Err(HostessError::EmptyReservation);
        }
        self.expire_due(now);
        let pairs = self.resolve(&request.terminals)?;
        self.reserve_pairs(now, request.holder, pairs, request.ttl, false)
    }

    /// Books resolved terminals, or none; for the kernel (`kernel`), always
    /// without TTL.
    pub(crate) fn reserve_pairs(
        &mut self,
        now: Duration,
        holder: String,
        pairs: Vec<(usize, usize)>,
        ttl: Option<Duration>,
        kernel: bool,
    ) -> Result<Grant, HostessError> {
        let ttl = if kernel { None } else { ttl };
        let taken: Vec<String> = pairs
            .iter()
            .filter_map(|&(g, t)| {
                let hold = self.book.slots[g].holds[t].as_ref()?;
                let by = self
                    .ledger
                    .lease(&hold.reservation)
                    .map(|l| l.holder.as_str())
                    .unwrap_or("?");
                Some(format!(
                    "{} is held by `{by}` (reservation {})",
                    self.terminal_name(g, t),
                    hold.reservation
                ))
            })
            .collect();
        if !taken.is_empty() {
            return Err(HostessError::Taken {
                wanted: pairs.len(),
                taken,
            });
        }
        let id = self.ledger.new_id();
        let token = next_token();
        for &(g, t) in &pairs {
            self.book.slots[g].holds[t] = Some(Hold {
                reservation: id,
                connectome: Vec::new(),
            });
        }
        let deadline = ttl.map(|ttl| now.saturating_add(ttl));
        if let Some(deadline) = deadline {
            self.ledger.deadlines.insert((deadline, id));
        }
        let lease = Lease {
            id,
            token,
            holder,
            ttl,
            deadline,
            terminals: pairs.into_iter().collect(),
            kernel,
        };
        let grant = self.grant_of(&lease);
        if self.record {
            self.events.push(HostessEvent::Granted {
                grant: grant.clone(),
            });
        }
        tracing::debug!(reservation = %id, token = token.0, holder = %lease.holder, terminals = lease.terminals.len(), "reserved");
        self.ledger.leases.insert(id, lease);
        Ok(grant)
    }

    pub(crate) fn renew(
        &mut self,
        now: Duration,
        id: ReservationId,
    ) -> Result<Grant, HostessError> {
        self.expire_due(now);
        let Some(lease) = self.ledger.leases.get_mut(&id) else {
            return Err(self.ledger.gone(id));
        };
        if lease.kernel {
            return Err(HostessError::KernelBooking { id });
        }
        if let (Some(ttl), Some(old)) = (lease.ttl, lease.deadline) {
            let deadline = now.saturating_add(ttl);
            lease.deadline = Some(deadline);
            self.ledger.deadlines.remove(&(old, id));
            self.ledger.deadlines.insert((deadline, id));
        }
        let lease = &self.ledger.leases[&id];
        Ok(self.grant_of(lease))
    }

    pub(crate) fn release(
        &mut self,
        now: Duration,
        id: ReservationId,
    ) -> Result<Grant, HostessError> {
        self.expire_due(now);
        if self.ledger.leases.get(&id).is_some_and(|l| l.kernel) {
            return Err(HostessError::KernelBooking { id });
        }
        match self.end(id, Ended::Released) {
            Some(grant) => {
                tracing::debug!(reservation = %id, "released");
                Ok(grant)
            }
            None => Err(self.ledger.gone(id)),
        }
    }

    pub(crate) fn grant(&self, id: ReservationId) -> Result<Grant, HostessError> {
        match self.ledger.leases.get(&id) {
            Some(lease) => Ok(self.grant_of(lease)),
            None => Err(self.ledger.gone(id)),
        }
    }

    /// Marks terminals of reservation `id` as connected under connectome
    /// ids. `kernel` says who asks: the kernel binds only its own bookings,
    /// anyone else only other reservations. An id is used either by the
    /// kernel's bookings or by one other reservation, never by both, so a
    /// pipe's id never stands for terminals it does not hold.
    pub(crate) fn bind(
        &mut self,
        now: Duration,
        id: ReservationId,
        bindings: &[(TerminalRef, Uuid)],
        kernel: bool,
    ) -> Result<(), HostessError> {
        self.expire_due(now);
        let Some(lease) = self.ledger.leases.get(&id) else {
            return Err(self.ledger.gone(id));
        };
        if lease.kernel != kernel {
            return Err(HostessError::KernelBooking { id });
        }
        let mut pairs = Vec::with_capacity(bindings.len());
        let mut problems = Vec::new();
        for (r, connectome) in bindings {
            match self.resolve(std::slice::from_ref(r)) {
                Ok(p) => {
                    let (g, t) = p[0];
                    if self.book.slots[g].holds[t].as_ref().map(|h| h.reservation) != Some(id) {
                        problems.push(format!(
                            "{} is not held by reservation {id}",
                            self.terminal_name(g, t)
                        ));
                    }
                    if let Some(other) = self.connectome_user(*connectome, |l| {
                        if kernel { !l.kernel } else { l.id != id }
                    }) {
                        problems.push(format!(
                            "the connectome id {connectome} is in use by reservation {other}"
                        ));
                    }
                    pairs.push((g, t));
                }
                Err(HostessError::BadTerminals { problems: p }) => problems.extend(p),
                Err(e) => return Err(e),
            }
        }
        if !problems.is_empty() {
            return Err(HostessError::BadTerminals { problems });
        }
        for (&(g, t), (_, connectome)) in pairs.iter().zip(bindings) {
            self.bind_held(g, t, *connectome);
        }
        Ok(())
    }

    /// A reservation that `other` picks among those with terminals in use
    /// under connectome id `connectome`.
    fn connectome_user(
        &self,
        connectome: Uuid,
        other: impl Fn(&Lease) -> bool,
    ) -> Option<ReservationId> {
        self.ledger
            .by_connectome
            .get(&connectome)?
            .iter()
            .filter_map(|&(g, t)| self.book.slots[g].holds[t].as_ref())
            .filter_map(|hold| self.ledger.lease(&hold.reservation))
            .find(|l| other(l))
            .map(|l| l.id)
    }

    /// Disconnects connectome id `connectome`: each terminal connected under
    /// it and under no other id is freed; a reservation left without
    /// terminals ends. Returns the freed terminals.
    pub(crate) fn unbind(&mut self, now: Duration, connectome: Uuid) -> Vec<TerminalRef> {
        self.expire_due(now);
        let Some(pairs) = self.ledger.by_connectome.remove(&connectome) else {
            return Vec::new();
        };
        let mut freed = Vec::new();
        for (g, t) in pairs {
            let Some(Some(hold)) = self.book.slots[g].holds.get_mut(t) else {
                continue;
            };
            hold.connectome.retain(|c| *c != connectome);
            if !hold.connectome.is_empty() {
                continue;
            }
            let id = hold.reservation;
            self.book.slots[g].holds[t] = None;
            freed.push(self.terminal_ref(g, t));
            let empty = match self.ledger.leases.get_mut(&id) {
                Some(lease) => {
                    lease.terminals.remove(&(g, t));
                    lease.terminals.is_empty()
                }
                None => false,
            };
            if empty {
                self.end(id, Ended::Released);
            }
        }
        freed
    }

    /// Connects terminals under connectome ids for the kernel, booking
    /// them under `holder`, all or nothing: a free terminal is booked (one
    /// new booking of the kernel for all of them), one already in a booking
    /// of the kernel under `holder` is bound under it; a terminal held by
    /// anything else (whatever its holder's name), or an id in use by a
    /// reservation other than the kernel's, refuses the whole call.
    pub(crate) fn connect(
        &mut self,
        now: Duration,
        holder: &str,
        bindings: &[(TerminalRef, Uuid)],
    ) -> Result<(), HostessError> {
        check_holder(holder)?;
        self.expire_due(now);
        let refs: Vec<TerminalRef> = bindings.iter().map(|(r, _)| r.clone()).collect();
        // The same terminal may appear under several ids (fan-out, fan-in).
        let mut unique: Vec<TerminalRef> = Vec::with_capacity(refs.len());
        for r in refs {
            if !unique.contains(&r) {
                unique.push(r);
            }
        }
        let pairs = self.resolve(&unique)?;
        let mut free = Vec::new();
        let mut taken = Vec::new();
        for &(g, t) in &pairs {
            let Some(hold) = &self.book.slots[g].holds[t] else {
                free.push((g, t));
                continue;
            };
            let lease = self.ledger.lease(&hold.reservation);
            if !lease.is_some_and(|l| l.kernel && l.holder == holder) {
                taken.push(format!(
                    "{} is held by `{}` (reservation {})",
                    self.terminal_name(g, t),
                    lease.map_or("?", |l| l.holder.as_str()),
                    hold.reservation
                ));
            }
        }
        let mut ids: Vec<Uuid> = bindings.iter().map(|(_, c)| *c).collect();
        ids.sort_unstable();
        ids.dedup();
        for connectome in ids {
            if let Some(other) = self.connectome_user(connectome, |l| !l.kernel) {
                taken.push(format!(
                    "the connectome id {connectome} is in use by reservation {other}"
                ));
            }
        }
        if !taken.is_empty() {
            return Err(HostessError::Taken {
                wanted: pairs.len(),
                taken,
            });
        }
        if !free.is_empty() {
            self.reserve_pairs(now, holder.to_owned(), free, None, true)?;
        }
        for (r, connectome) in bindings {
            let Ok(p) = self.resolve(std::slice::from_ref(r)) else {
                continue;
            };
            let (g, t) = p[0];
            self.bind_held(g, t, *connectome);
        }
        Ok(())
    }

    /// Records that held terminal `t` of guest `g` is in use under `connectome`.
    fn bind_held(&mut self, g: usize, t: usize, connectome: Uuid) {
        if let Some(Some(hold)) = self.book.slots[g].holds.get_mut(t)
            && !hold.connectome.contains(&connectome)
        {
            hold.connectome.push(connectome);
            self.ledger
                .by_connectome
                .entry(connectome)
                .or_default()
                .push((g, t));
        }
    }

    /// True when `terminal` is held by the reservation with fencing token `token`.
    pub(crate) fn holds(&self, terminal: &TerminalRef, token: FencingToken) -> bool {
        let Ok(p) = self.resolve(std::slice::from_ref(terminal)) else {
            return false;
        };
        let (g, t) = p[0];
        self.book.slots[g].holds[t]
            .as_ref()
            .and_then(|h| self.ledger.lease(&h.reservation))
            .is_some_and(|l| l.token == token)
    }

    /// Every live reservation, by id.
    pub(crate) fn grants(&self) -> Vec<Grant> {
        let mut all: Vec<Grant> = self
            .ledger
            .leases
            .values()
            .map(|l| self.grant_of(l))
            .collect();
        all.sort_by_key(|g| g.token);
        all
    }
}
