//! Routes from other kernels into this kernel's offered terminals.
//!
//! A granted call gives the route a pipe into the terminal (a [`Feed`]
//! through the terminal's codec), a subscriber for its messages and a
//! publisher for its credits. Messages are taken strictly in order of
//! their sequence numbers: a duplicate is dropped, a gap is reported so the
//! sender sends again. The keeper thread grants credit (never more than the
//! pipe has room for), acknowledges what arrived and what the terminal
//! took, and ends leases that were not renewed.
//!
//! The route's state outlives a cut link and the end of a lease: a route
//! that opens again continues where it was, its pipe still attached. A
//! lease that ended frees the terminal's booking, so another kernel may
//! book an `Input` (the old pipe then drains and goes).
//!
//! [`Feed`]: kernel_core::route::Feed

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use kernel_core::connectome::MAX_CAPACITY;
use kernel_core::pipe::PipeStats;
use kernel_core::route::{RouteDirection, RouteState, RouteStatus};
use kernel_core::{Connectome, ControlError, Endpoint, TerminalKind};
use kernel_hostess::{HostessExt, TerminalRef};
use uuid::Uuid;
use wiring_model::{Encoding, GuestIdentity};
use zenoh::Wait;
use zenoh::pubsub::{Publisher, Subscriber};
use zenoh::qos::{CongestionControl, Priority};
use zenoh::sample::Sample;

use super::call::{Answer, Call, Op, Refusal};
use super::codec::{Delivered, InFeed, Sink, fingerprint};
use super::{MeshError, Shared, keys};

/// Holder of the terminals routes from other kernels book with the Hostess.
pub const MESH_HOLDER: &str = "mesh";

/// A lease a caller does not renew within this long ends.
pub(crate) const LEASE: Duration = Duration::from_secs(6);

/// Credits are sent at least this often while a route lives.
const HEARTBEAT: Duration = Duration::from_millis(200);

/// How long the credit that says "all taken" has to leave before the kernel
/// may end: a session closing at once could drop it, or its goodbye overtake
/// it, and the sender would count delivered messages as in flight.
const LAST_WORD: Duration = Duration::from_millis(100);

/// The keeper's pace while routes move, and while they are idle.
const BUSY_TICK: Duration = Duration::from_millis(1);
const IDLE_TICK: Duration = Duration::from_millis(20);

/// The receiver's word to the sender: where it stands and how much more it
/// may send. 40 bytes, little-endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Credit {
    /// The receiver's run of the route.
    pub(crate) receiver: u64,
    /// The next sequence number it expects: all below arrived.
    pub(crate) next: u64,
    /// Its terminal took every message below this number.
    pub(crate) consumed: u64,
    /// The sender may send below this number.
    pub(crate) limit: u64,
    /// Something was missing or refused: send again what is not acknowledged.
    pub(crate) gap: bool,
}

impl Credit {
    pub(crate) fn to_bytes(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(40);
        for v in [
            self.receiver,
            self.next,
            self.consumed,
            self.limit,
            u64::from(self.gap),
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    pub(crate) fn parse(bytes: &[u8]) -> Option<Credit> {
        if bytes.len() != 40 {
            return None;
        }
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            u64::from_le_bytes(w)
        };
        Some(Credit {
            receiver: word(0),
            next: word(1),
            consumed: word(2),
            limit: word(3),
            gap: word(4) != 0,
        })
    }
}

/// A string that lives as long as the process: pipe specs name their ends
/// with `&'static str`. One copy per distinct text.
fn intern(text: String) -> &'static str {
    static TEXTS: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut texts = TEXTS.lock().unwrap_or_else(|e| e.into_inner());
    let texts = texts.get_or_insert_with(HashSet::new);
    if let Some(t) = texts.get(text.as_str()) {
        return t;
    }
    let leaked: &'static str = Box::leak(text.into_boxed_str());
    texts.insert(leaked);
    leaked
}

/// One route from another kernel.
pub(crate) struct InRoute {
    id: Uuid,
    /// `kernel/server.terminal` of the sender.
    from: String,
    /// `server.terminal` here.
    to: String,
    caller: String,
    /// This run of the route on this side.
    receiver: u64,
    credit: Publisher<'static>,
    state: Mutex<InState>,
}

struct InState {
    /// The sender's run the route follows.
    sender: u64,
    caller_zid: String,
    /// The next sequence number expected.
    next: u64,
    /// `next` when the sender's run began, and the pipe's `messages_in` then.
    start: u64,
    base_in: u64,
    feed: Option<Box<dyn InFeed>>,
    stats: Option<Arc<PipeStats>>,
    /// `None`: the lease ended (caller gone, not renewed, or closed).
    lease_until: Option<Instant>,
    /// Set by a close: the number of messages the route carried.
    end: Option<u64>,
    /// The terminal's server is gone for good.
    dead: bool,
    gap: bool,
    last_credit: Option<Credit>,
    last_sent: Instant,
    active_at: Instant,
    route_state: RouteState,
    reason: Option<String>,
    undecodable: u64,
    data: Option<Subscriber<()>>,
}

impl InState {
    fn consumed(&self) -> u64 {
        let out = self.stats.as_ref().map_or(0, |s| s.messages_out());
        self.start + out.saturating_sub(self.base_in)
    }

    fn credit(&self, receiver: u64) -> Credit {
        let free = if self.dead || self.end.is_some() {
            0
        } else {
            self.feed.as_ref().map_or(0, |f| f.free() as u64)
        };
        Credit {
            receiver,
            next: self.next,
            consumed: self.consumed(),
            limit: self.next + free,
            gap: self.gap,
        }
    }
}

impl InRoute {
    fn lock(&self) -> MutexGuard<'_, InState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn label(&self) -> String {
        format!("{} -> {}", self.from, self.to)
    }

    /// Moves the route's state, logging it.
    fn set(&self, st: &mut InState, shared: &Shared, state: RouteState, reason: String) {
        if st.route_state == state && st.reason.as_deref() == Some(reason.as_str()) {
            return;
        }
        let from = st.route_state;
        st.route_state = state;
        tracing::info!(route = %self.id, label = %self.label(), %state, "{reason}");
        if let Some(connectome) = shared.connectome.upgrade() {
            connectome.log_route(self.id, &self.label(), from, state, &reason);
        }
        st.reason = Some(reason);
    }

    /// A message of the route arrived.
    fn arrive(&self, sample: &Sample, shared: &Shared) {
        let Some(header) = sample.attachment().map(|a| a.to_bytes()) else {
            return;
        };
        if header.len() != 16 {
            return;
        }
        let mut word = [0u8; 8];
        word.copy_from_slice(&header[..8]);
        let seq = u64::from_le_bytes(word);
        word.copy_from_slice(&header[8..]);
        let sender = u64::from_le_bytes(word);
        let mut st = self.lock();
        st.active_at = Instant::now();
        if sender != st.sender || st.dead || st.end.is_some() {
            return;
        }
        if seq != st.next {
            // A duplicate (below) needs an acknowledgement, a gap (above)
            // a resend: the credit says both.
            st.gap |= seq > st.next;
            st.last_credit = None;
            return;
        }
        let Some(feed) = &st.feed else { return };
        match feed.deliver(&sample.payload().to_bytes()) {
            Delivered::Ok => st.next += 1,
            Delivered::Full => st.gap = true,
            Delivered::Gone => {
                st.dead = true;
                st.lease_until = None;
                self.set(
                    &mut st,
                    shared,
                    RouteState::Closed,
                    format!("the server of `{}` finished; the route ends", self.to),
                );
            }
            Delivered::Undecodable(e) => {
                // Never deliverable: skipped and counted, not retried.
                st.next += 1;
                st.undecodable += 1;
                tracing::warn!(route = %self.id, "message {seq} lost: {e}");
                if let Some(connectome) = shared.connectome.upgrade() {
                    let state = st.route_state;
                    connectome.log_route(
                        self.id,
                        &self.label(),
                        state,
                        state,
                        &format!("message {seq} lost: {e}"),
                    );
                }
            }
        }
    }

    fn status(&self) -> RouteStatus {
        let st = self.lock();
        let consumed = st.consumed();
        RouteStatus {
            id: self.id,
            from: self.from.clone(),
            to: self.to.clone(),
            direction: RouteDirection::Inbound,
            state: st.route_state,
            sent: st.next,
            received: consumed,
            in_flight: st.next.saturating_sub(consumed + st.undecodable),
            lost: st.undecodable,
            reason: st.reason.clone(),
        }
    }
}

/// The inbound routes of a kernel and the terminals it offers.
pub(crate) struct Inbound {
    shared: Arc<Shared>,
    sinks: BTreeMap<String, Arc<dyn Sink>>,
    routes: Mutex<BTreeMap<Uuid, Arc<InRoute>>>,
    /// Session ids of kernels whose liveliness ended.
    gone_tx: Sender<String>,
    gone_rx: Receiver<String>,
    stopped: AtomicBool,
}

fn refuse(refusal: Refusal, message: impl Into<String>) -> Answer {
    Answer::refuse(refusal, message)
}

impl Inbound {
    pub(crate) fn new(shared: Arc<Shared>, sinks: BTreeMap<String, Arc<dyn Sink>>) -> Self {
        let (gone_tx, gone_rx) = crossbeam_channel::unbounded();
        Inbound {
            shared,
            sinks,
            routes: Mutex::new(BTreeMap::new()),
            gone_tx,
            gone_rx,
            stopped: AtomicBool::new(false),
        }
    }

    fn routes(&self) -> MutexGuard<'_, BTreeMap<Uuid, Arc<InRoute>>> {
        self.routes.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn statuses(&self) -> Vec<RouteStatus> {
        let routes: Vec<Arc<InRoute>> = self.routes().values().cloned().collect();
        routes.iter().map(|r| r.status()).collect()
    }

    /// The kernel session `zid` left the mesh.
    pub(crate) fn kernel_gone(&self, zid: String) {
        let _ = self.gone_tx.send(zid);
    }

    /// While a sender whose messages were all taken has not yet been told
    /// so (and that word has not had [`LAST_WORD`] to leave); the kernel
    /// stays up for it. The keeper sends that word on its next pass, so
    /// this ends within a few milliseconds, whether the sender listens or not.
    pub(crate) fn owes_last_word(&self) -> bool {
        self.routes().values().any(|route| {
            let st = route.lock();
            let all_taken = st.end.is_some_and(|end| st.consumed() >= end);
            let told = st.last_credit.is_some_and(|c| Some(c.consumed) >= st.end)
                && st.last_sent.elapsed() >= LAST_WORD;
            all_taken && !told
        })
    }

    /// Lets go of every route (the kernel stops), telling each sender
    /// where its route stands last: a sender whose route closed learns
    /// that its last messages were taken before this kernel went.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        let routes = std::mem::take(&mut *self.routes());
        for route in routes.values() {
            let mut st = route.lock();
            st.data = None;
            st.feed = None;
            let credit = st.credit(route.receiver);
            drop(st);
            if let Err(e) = route.credit.put(credit.to_bytes()).wait() {
                tracing::debug!(route = %route.id, "last credit not sent: {e}");
            }
        }
    }

    /// Answers a call.
    pub(crate) fn answer(&self, call: &Call, connectome: &Connectome) -> Answer {
        if call.callee != self.shared.kernel {
            return refuse(
                Refusal::BadRequest,
                format!(
                    "the call is for kernel `{}`, this is `{}`",
                    call.callee, self.shared.kernel
                ),
            );
        }
        match call.op {
            Op::Open => self.open(call, connectome),
            Op::Renew => self.renew(call),
            Op::Close => self.close(call, connectome),
        }
    }

    fn grant(&self, route: &InRoute, st: &InState, identity: &str) -> Answer {
        let credit = st.credit(route.receiver);
        Answer {
            refused: None,
            message: String::new(),
            receiver: route.receiver,
            next: credit.next,
            consumed: credit.consumed,
            limit: credit.limit,
            lease_ms: u64::try_from(LEASE.as_millis()).unwrap_or(u64::MAX),
            identity: identity.to_owned(),
        }
    }

    fn open(&self, call: &Call, connectome: &Connectome) -> Answer {
        let spec = connectome.spec();
        let Some(server) = spec.servers.iter().find(|s| s.uuid == call.guest) else {
            return refuse(
                Refusal::UnknownGuest,
                format!(
                    "kernel `{}` has no guest {}",
                    self.shared.kernel, call.guest
                ),
            );
        };
        let same = match (
            GuestIdentity::parse(server.identity),
            GuestIdentity::parse(&call.identity),
        ) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if !same {
            return refuse(
                Refusal::UnknownGuest,
                format!(
                    "guest {} of kernel `{}` is `{}`, not `{}`",
                    call.guest, self.shared.kernel, server.identity, call.identity
                ),
            );
        }
        let Some(terminal) = server.manifest.terminal(&call.terminal) else {
            return refuse(
                Refusal::UnknownGuest,
                format!(
                    "server `{}` of kernel `{}` has no terminal `{}`",
                    server.name, self.shared.kernel, call.terminal
                ),
            );
        };
        let endpoint = format!("{}.{}", server.name, terminal.name);
        let Some(sink) = self.sinks.get(&endpoint) else {
            return refuse(
                Refusal::NotOffered,
                format!(
                    "kernel `{}` does not offer `{endpoint}` to the mesh",
                    self.shared.kernel
                ),
            );
        };
        let encoding = match call.encoding.as_str() {
            "postcard" => Encoding::Postcard,
            "json" => Encoding::Json,
            other => {
                return refuse(Refusal::BadRequest, format!("unknown encoding `{other}`"));
            }
        };
        if fingerprint(sink.type_name(), encoding) != call.fingerprint {
            return refuse(
                Refusal::TypeMismatch,
                format!(
                    "`{}/{}` carries `{}` but `{}/{endpoint}` takes `{}`",
                    call.caller,
                    call.from,
                    call.message_type,
                    self.shared.kernel,
                    sink.type_name()
                ),
            );
        }
        if !(1..=MAX_CAPACITY).contains(&call.capacity) {
            return refuse(
                Refusal::BadRequest,
                format!("capacity {} is out of range", call.capacity),
            );
        }

        let mut routes = self.routes();
        if let Some(route) = routes.get(&call.route).cloned() {
            let mut st = route.lock();
            if !st.dead && (st.feed.is_some() || st.sender != call.sender) {
                return self.reopen(&route, &mut st, call, server.identity);
            }
            drop(st);
            routes.remove(&call.route);
        }
        if terminal.kind == TerminalKind::Input {
            let holders: Vec<Arc<InRoute>> = routes
                .values()
                .filter(|r| r.to == endpoint && r.id != call.route)
                .cloned()
                .collect();
            for holder in holders {
                let mut st = holder.lock();
                if st.lease_until.is_some() {
                    return refuse(
                        Refusal::Booked,
                        format!(
                            "`{}/{endpoint}` is an `Input` and takes one producer: route {} \
                             from kernel `{}` holds it",
                            self.shared.kernel, holder.id, holder.caller
                        ),
                    );
                }
                // Its lease ended: its pipe drains and goes.
                st.data = None;
                st.feed = None;
                drop(st);
                routes.remove(&holder.id);
            }
        }
        let hostess = connectome.hostess();
        let booked = hostess.connect(
            MESH_HOLDER,
            &[(TerminalRef::new(server.uuid, terminal.name), call.route)],
        );
        if let Err(e) = booked {
            return refuse(Refusal::Booked, e.to_string());
        }
        let from = Endpoint {
            server: intern(format!(
                "{}/{}",
                call.caller,
                call.from.split('.').next().unwrap_or("")
            )),
            terminal: intern(call.from.split('.').nth(1).unwrap_or("").to_owned()),
        };
        let control = connectome
            .control()
            .with_cause(format!("kernel `{}`", call.caller));
        let feed = match sink.open(
            &control,
            call.route,
            from,
            &endpoint,
            call.capacity,
            encoding,
        ) {
            Ok(feed) => feed,
            Err(e) => {
                hostess.unbind(call.route);
                let refusal = match &e {
                    ControlError::Rule { .. } => Refusal::Booked,
                    ControlError::TypeMismatch { .. } => Refusal::TypeMismatch,
                    ControlError::ServerState { .. } | ControlError::NotRunning => {
                        Refusal::NotReady
                    }
                    _ => Refusal::BadRequest,
                };
                return refuse(refusal, e.to_string());
            }
        };
        let session = &self.shared.session;
        let credit = match session
            .declare_publisher(keys::credit(call.guest, terminal.name, call.route))
            .congestion_control(CongestionControl::Block)
            .priority(Priority::DataHigh)
            .express(true)
            .wait()
        {
            Ok(p) => p,
            Err(e) => {
                hostess.unbind(call.route);
                return refuse(Refusal::NotReady, format!("mesh session: {e}"));
            }
        };
        let stats = feed.stats();
        let route = Arc::new(InRoute {
            id: call.route,
            from: format!("{}/{}", call.caller, call.from),
            to: endpoint.clone(),
            caller: call.caller.clone(),
            receiver: super::outbound::rand_u64(),
            credit,
            state: Mutex::new(InState {
                sender: call.sender,
                caller_zid: call.caller_zid.clone(),
                next: call.resume,
                start: call.resume,
                base_in: stats.messages_in(),
                feed: Some(feed),
                stats: Some(stats),
                lease_until: Some(Instant::now() + LEASE),
                end: None,
                dead: false,
                gap: false,
                last_credit: None,
                last_sent: Instant::now(),
                active_at: Instant::now(),
                route_state: RouteState::Planned,
                reason: None,
                undecodable: 0,
                data: None,
            }),
        });
        let shared = Arc::clone(&self.shared);
        let target = Arc::clone(&route);
        let data = session
            .declare_subscriber(keys::data(call.guest, terminal.name, call.route))
            .callback(move |sample| target.arrive(&sample, &shared))
            .wait();
        let mut st = route.lock();
        match data {
            Ok(sub) => st.data = Some(sub),
            Err(e) => {
                hostess.unbind(call.route);
                return refuse(Refusal::NotReady, format!("mesh session: {e}"));
            }
        }
        route.set(
            &mut st,
            &self.shared,
            RouteState::Connected,
            format!("opened by kernel `{}`", call.caller),
        );
        let answer = self.grant(&route, &st, server.identity);
        drop(st);
        routes.insert(call.route, route);
        answer
    }

    /// The route is known: the same sender again after a cut, or a new run
    /// of the sender (its kernel restarted) on the same pipe.
    fn reopen(&self, route: &InRoute, st: &mut InState, call: &Call, identity: &str) -> Answer {
        if st.sender != call.sender {
            st.sender = call.sender;
            st.start = call.resume;
            st.next = call.resume;
            st.base_in = st.stats.as_ref().map_or(0, |s| s.messages_in());
            st.end = None;
        }
        st.caller_zid.clone_from(&call.caller_zid);
        if st.lease_until.is_none()
            && let Some(connectome) = self.shared.connectome.upgrade()
            && let Some(server) = connectome
                .spec()
                .servers
                .iter()
                .find(|s| s.uuid == call.guest)
        {
            let terminal = TerminalRef::new(server.uuid, call.terminal.clone());
            if let Err(e) = connectome
                .hostess()
                .connect(MESH_HOLDER, &[(terminal, call.route)])
            {
                return refuse(Refusal::Booked, e.to_string());
            }
        }
        st.lease_until = Some(Instant::now() + LEASE);
        st.gap = false;
        st.last_credit = None;
        route.set(
            st,
            &self.shared,
            RouteState::Connected,
            format!("reopened by kernel `{}`", call.caller),
        );
        self.grant(route, st, identity)
    }

    fn renew(&self, call: &Call) -> Answer {
        let route = self.routes().get(&call.route).cloned();
        let Some(route) = route else {
            return refuse(Refusal::Expired, "no such route here");
        };
        let mut st = route.lock();
        if st.sender != call.sender || st.lease_until.is_none() || st.dead {
            return refuse(Refusal::Expired, "the route's lease ended; open it again");
        }
        st.lease_until = Some(Instant::now() + LEASE);
        self.grant(&route, &st, &call.identity)
    }

    fn close(&self, call: &Call, connectome: &Connectome) -> Answer {
        let route = self.routes().get(&call.route).cloned();
        let Some(route) = route else {
            return refuse(Refusal::Expired, "no such route here");
        };
        let mut st = route.lock();
        if st.sender != call.sender {
            return refuse(Refusal::Expired, "the route was opened again since");
        }
        let end = call.end.unwrap_or(st.next);
        if st.end.is_none() {
            if st.next < end {
                return refuse(
                    Refusal::NotReady,
                    format!("{} of {end} messages arrived", st.next),
                );
            }
            st.end = Some(end);
            st.lease_until = None;
            if let Some(feed) = st.feed.take() {
                feed.finish();
            }
            st.data = None;
            connectome.hostess().unbind(call.route);
            route.set(
                &mut st,
                &self.shared,
                RouteState::Draining,
                format!("kernel `{}` finished sending {end} messages", call.caller),
            );
        }
        self.grant(&route, &st, &call.identity)
    }

    /// One pass of the keeper: credits out, leases checked; true while a
    /// route moved recently.
    fn keep(&self) -> bool {
        let mut gone = Vec::new();
        while let Ok(zid) = self.gone_rx.try_recv() {
            gone.push(zid);
        }
        let routes: Vec<Arc<InRoute>> = self.routes().values().cloned().collect();
        let connectome = self.shared.connectome.upgrade();
        let mut busy = false;
        for route in routes {
            let mut st = route.lock();
            let now = Instant::now();
            let caller_gone = gone.contains(&st.caller_zid);
            let expired = st.lease_until.is_some_and(|t| t <= now);
            if st.lease_until.is_some() && (caller_gone || expired) {
                st.lease_until = None;
                if let Some(c) = &connectome {
                    c.hostess().unbind(route.id);
                }
                let why = if caller_gone {
                    format!(
                        "kernel `{}` left the mesh; the terminal waits for it",
                        route.caller
                    )
                } else {
                    format!(
                        "kernel `{}` did not renew its lease; the terminal waits for it",
                        route.caller
                    )
                };
                route.set(&mut st, &self.shared, RouteState::Planned, why);
            }
            let credit = st.credit(route.receiver);
            if let Some(end) = st.end
                && credit.consumed >= end
                && st.route_state == RouteState::Draining
            {
                route.set(
                    &mut st,
                    &self.shared,
                    RouteState::Closed,
                    format!("all {end} messages delivered"),
                );
            }
            let finished = st.route_state == RouteState::Closed
                && st.last_credit == Some(credit)
                && st.last_sent.elapsed() > HEARTBEAT * 10;
            let due = st.last_credit != Some(credit) || st.last_sent.elapsed() >= HEARTBEAT;
            if due && !finished {
                st.gap = false;
                st.last_credit = Some(Credit {
                    gap: false,
                    ..credit
                });
                st.last_sent = now;
                drop(st);
                if let Err(e) = route.credit.put(credit.to_bytes()).wait() {
                    tracing::debug!(route = %route.id, "credit not sent: {e}");
                }
                st = route.lock();
            }
            busy |= st.active_at.elapsed() < Duration::from_millis(200)
                || st.feed.as_ref().is_some_and(|_| st.consumed() < st.next);
        }
        busy
    }
}

/// Starts the keeper thread of `inbound`.
pub(crate) fn spawn_keeper(
    inbound: &Arc<Inbound>,
) -> Result<std::thread::JoinHandle<()>, MeshError> {
    let inbound = Arc::clone(inbound);
    std::thread::Builder::new()
        .name("mesh-keeper".to_owned())
        .spawn(move || {
            while !inbound.shared.stopping() && !inbound.stopped.load(Ordering::Acquire) {
                let busy = inbound.keep();
                std::thread::sleep(if busy { BUSY_TICK } else { IDLE_TICK });
            }
        })
        .map_err(|source| MeshError::Spawn {
            what: "keeper",
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credits_round_trip_and_refuse_other_lengths() {
        let c = Credit {
            receiver: 1,
            next: 2,
            consumed: 3,
            limit: 4,
            gap: true,
        };
        assert_eq!(Credit::parse(&c.to_bytes()), Some(c));
        assert_eq!(Credit::parse(&[0u8; 39]), None);
    }

    #[test]
    fn interned_texts_are_shared() {
        let a = intern("north/src".to_owned());
        let b = intern("north/src".to_owned());
        assert!(std::ptr::eq(a, b));
    }
}
