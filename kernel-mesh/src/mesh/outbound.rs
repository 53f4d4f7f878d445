//! A route from a local output to a terminal of another kernel: one thread
//! per route takes the messages out of the route's local pipe, numbers
//! them, and publishes them while it holds credit.
//!
//! The sender keeps every message the receiver has not yet acknowledged
//! (at most the credit window) and sends them again when the receiver
//! reports a gap, when no acknowledgement came for a while, and when the
//! route reopens after a cut. A receiver that restarted (a new run of the
//! route on its side) lost what sat in its terminal's pipe: the sender
//! counts that as `lost` and sends the rest again.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use kernel_core::connectome::RouteSpec;
use kernel_core::route::{RouteDirection, RouteState, RouteStatus};
use uuid::Uuid;
use wiring_model::{GuestIdentity, GuestMask, RouteTarget};
use zenoh::Wait;
use zenoh::bytes::ZBytes;
use zenoh::pubsub::{Publisher, Subscriber};
use zenoh::qos::{CongestionControl, Priority};
use zenoh::query::{ConsolidationMode, QueryTarget};
use zenoh::sample::SampleKind;

use super::call::{self, Answer, Call, Op, Refusal};
use super::codec::{Next, Source, fingerprint};
use super::inbound::Credit;
use super::{CALL_TIMEOUT, MeshError, Shared, keys};

/// Send again what is not acknowledged when nothing moved for this long.
const RESEND_AFTER: Duration = Duration::from_millis(500);
/// Longest wait for a message or a credit in one turn of the loop.
const TURN: Duration = Duration::from_millis(20);
/// Messages sent in one turn before credits are looked at again.
const BATCH: usize = 256;
/// Retry pause after a failed open: from the first to the last.
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(1);
/// A route still not open after this long says why in the event log.
pub(crate) const OPEN_TIMEOUT: Duration = Duration::from_secs(5);

/// What an observer sees of an outbound route; the route's thread writes it.
#[derive(Debug, Clone)]
struct Seen {
    state: RouteState,
    reason: Option<String>,
    /// The guest and terminal it goes to (the chosen guest for a mask).
    to: String,
    sent: u64,
    received: u64,
    lost: u64,
}

/// One outbound route: its spec and what it reports.
pub(crate) struct Outbound {
    spec: &'static RouteSpec,
    label: String,
    type_name: &'static str,
    seen: Mutex<Seen>,
}

fn target_text(spec: &RouteSpec) -> String {
    match spec.to {
        RouteTarget::Guest(g) | RouteTarget::Mask(g) => format!("{g}.{}", spec.terminal),
    }
}

impl Outbound {
    pub(crate) fn new(spec: &'static RouteSpec, type_name: &'static str) -> Self {
        let to = target_text(spec);
        Outbound {
            spec,
            label: format!("{} -> {to}", spec.from),
            type_name,
            seen: Mutex::new(Seen {
                state: RouteState::Planned,
                reason: Some("the mesh has not started yet".to_owned()),
                to,
                sent: 0,
                received: 0,
                lost: 0,
            }),
        }
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn status(&self) -> RouteStatus {
        let seen = self.seen().clone();
        RouteStatus {
            id: self.spec.id,
            from: self.spec.from.to_string(),
            to: seen.to,
            direction: RouteDirection::Outbound,
            state: seen.state,
            sent: seen.sent,
            received: seen.received,
            in_flight: seen.sent.saturating_sub(seen.received + seen.lost),
            lost: seen.lost,
            reason: seen.reason,
        }
    }

    /// True until the route closed: it may still hold messages its
    /// producer sent (in its pipe, in flight, or waiting for the receiver's
    /// last acknowledgement). A route that cannot open keeps them until the
    /// kernel is stopped, which counts them lost.
    pub(crate) fn undelivered(&self) -> bool {
        self.seen().state != RouteState::Closed
    }

    /// Moves to `state` with `reason`, logging the change (a new reason in
    /// the same state is logged as a note).
    fn set(&self, shared: &Shared, state: RouteState, reason: Option<String>) {
        let mut seen = self.seen();
        if seen.state == state && seen.reason == reason {
            return;
        }
        let from = seen.state;
        seen.state = state;
        seen.reason.clone_from(&reason);
        drop(seen);
        let cause = reason.as_deref().unwrap_or("");
        match state {
            RouteState::Failed => {
                tracing::warn!(route = %self.spec.id, label = %self.label, "{cause}")
            }
            _ => tracing::info!(route = %self.spec.id, label = %self.label, %state, "{cause}"),
        }
        if let Some(connectome) = shared.connectome.upgrade() {
            connectome.log_route(self.spec.id, &self.label, from, state, cause);
        }
    }
}

/// Starts the thread of route `route`.
pub(crate) fn spawn(
    shared: &Arc<Shared>,
    route: Arc<Outbound>,
    source: Box<dyn Source>,
) -> Result<std::thread::JoinHandle<()>, MeshError> {
    let forwarder = Forwarder {
        shared: Arc::clone(shared),
        route,
        source,
        sender: rand_u64(),
        seq: 0,
        unacked: VecDeque::new(),
        acked: 0,
        consumed: 0,
        limit: 0,
        receiver: None,
        lost: 0,
        lost_to_restarts: 0,
        sent: 0,
        open: None,
        finished: false,
        closed: false,
        last_progress: Instant::now(),
        last_renew: Instant::now(),
        lease: Duration::from_secs(10),
        waiting_since: None,
    };
    std::thread::Builder::new()
        .name(format!("route-{}", forwarder.route.spec.from))
        .spawn(move || forwarder.run())
        .map_err(|source| MeshError::Spawn {
            what: "route",
            source,
        })
}

pub(crate) fn rand_u64() -> u64 {
    let bytes = Uuid::new_v4().into_bytes();
    u64::from_le_bytes([
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
    ])
}

/// The attachment of a message: its sequence number and the sender's run.
pub(crate) fn header(seq: u64, sender: u64) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&seq.to_le_bytes());
    out[8..].copy_from_slice(&sender.to_le_bytes());
    out
}

/// The route as open to one guest of one kernel.
struct Open {
    kernel: String,
    guest: Uuid,
    identity: String,
    call_key: String,
    publisher: Publisher<'static>,
    credits: Receiver<Credit>,
    _credit_sub: Subscriber<()>,
    /// The guest's liveliness ended: its kernel is gone or cut off.
    gone: Arc<AtomicBool>,
    _liveliness_sub: Subscriber<()>,
    /// A renewal was refused: the callee no longer holds the route.
    expired: Arc<AtomicBool>,
}

/// Why a route did not open.
enum NotOpen {
    /// No kernel answers for the guest (absent, unreachable, or not
    /// admitting this kernel's passphrase).
    Absent(String),
    /// The callee refused.
    Refused(Refusal, String),
}

struct Forwarder {
    shared: Arc<Shared>,
    route: Arc<Outbound>,
    source: Box<dyn Source>,
    /// This run of the route (a new one when this kernel restarts).
    sender: u64,
    /// The next sequence number.
    seq: u64,
    /// Sent, not yet acknowledged: `(seq, payload)`, in order.
    unacked: VecDeque<(u64, ZBytes)>,
    /// The receiver expects this sequence number next: all below arrived.
    acked: u64,
    /// The receiver's terminal took every message below this number.
    consumed: u64,
    /// Credit: may send below this number.
    limit: u64,
    /// The receiver's run last opened to.
    receiver: Option<u64>,
    lost: u64,
    /// The part of `lost` below `consumed`: what restarted receivers held.
    lost_to_restarts: u64,
    sent: u64,
    open: Option<Open>,
    finished: bool,
    /// The close call was granted: the receiver ends the stream.
    closed: bool,
    last_progress: Instant,
    last_renew: Instant,
    lease: Duration,
    /// Since when the route has tried to open without success.
    waiting_since: Option<Instant>,
}

impl Forwarder {
    fn run(mut self) {
        let mut retry = RETRY_FIRST;
        loop {
            if self.shared.stopping() {
                self.give_up();
                return;
            }
            if self.open.is_none() {
                if self.finished && self.sent == 0 {
                    self.route.set(
                        &self.shared,
                        RouteState::Closed,
                        Some("nothing was sent".into()),
                    );
                    self.publish_counts();
                    return;
                }
                match self.try_open() {
                    Ok(()) => retry = RETRY_FIRST,
                    Err(why) => {
                        self.not_open(why);
                        if self.shared.sleep(retry) {
                            continue;
                        }
                        retry = (retry * 2).min(RETRY_MAX);
                        continue;
                    }
                }
            }
            if let Err(why) = self.turn() {
                if self.closed {
                    // The receiver ended the stream and went: what it had
                    // not acknowledged as taken is in flight for good.
                    let open = self.seq.saturating_sub(self.consumed);
                    self.publish_counts();
                    self.route.set(
                        &self.shared,
                        RouteState::Closed,
                        Some(format!(
                            "{why} after the route closed; {open} messages were in its \
                             terminal's pipe, not acknowledged as taken"
                        )),
                    );
                    return;
                }
                self.lose_link(&why);
            }
            self.publish_counts();
            if self.closed && self.consumed >= self.seq {
                self.route.set(
                    &self.shared,
                    RouteState::Closed,
                    Some(format!("all {} messages delivered", self.sent)),
                );
                self.publish_counts();
                return;
            }
        }
    }

    /// One turn of an open route: credits in, messages out, resends,
    /// renewal, and the close once everything arrived.
    fn turn(&mut self) -> Result<(), String> {
        let Some(open) = &self.open else {
            return Ok(());
        };
        if open.gone.load(Ordering::Acquire) {
            return Err(format!("kernel `{}` is gone; waiting for it", open.kernel));
        }
        if open.expired.load(Ordering::Acquire) {
            return Err(format!(
                "kernel `{}` no longer holds the route; opening again",
                open.kernel
            ));
        }
        let credits = open.credits.clone();
        let mut gap = false;
        while let Ok(credit) = credits.try_recv() {
            gap |= self.credit(&credit)?;
        }
        let mut sent_now = 0;
        while self.seq < self.limit && !self.finished && sent_now < BATCH {
            let wait = if sent_now == 0 { TURN } else { Duration::ZERO };
            match self.source.next(wait) {
                Next::Message(bytes) => {
                    let payload = ZBytes::from(bytes);
                    self.publish(self.seq, payload.clone())?;
                    if self.unacked.is_empty() {
                        // The resend timer runs from the oldest message
                        // not acknowledged.
                        self.last_progress = Instant::now();
                    }
                    self.unacked.push_back((self.seq, payload));
                    self.seq += 1;
                    self.sent += 1;
                    sent_now += 1;
                }
                Next::Empty => break,
                Next::Closed => self.finished = true,
                Next::Unencodable(e) => {
                    self.sent += 1;
                    self.lost += 1;
                    self.note(&format!("a message was lost: {e}"));
                }
            }
        }
        if sent_now == 0 && (self.seq >= self.limit || self.finished) {
            match credits.recv_timeout(TURN) {
                Ok(credit) => gap |= self.credit(&credit)?,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err("credits stopped".into()),
            }
        }
        if !self.unacked.is_empty() && (gap || self.last_progress.elapsed() >= RESEND_AFTER) {
            self.resend()?;
        }
        if self.last_renew.elapsed() >= self.lease / 3 {
            self.renew();
        }
        if self.finished && !self.closed && self.unacked.is_empty() && self.acked >= self.seq {
            match self.call(Op::Close) {
                Ok(_) => {
                    self.closed = true;
                    self.route.set(
                        &self.shared,
                        RouteState::Draining,
                        Some("the producer finished; the receiver takes the rest".into()),
                    );
                }
                Err(NotOpen::Refused(Refusal::Expired, m)) => return Err(m),
                Err(NotOpen::Absent(m) | NotOpen::Refused(_, m)) => {
                    tracing::debug!(route = %self.route.spec.id, "close not granted yet: {m}");
                }
            }
        }
        Ok(())
    }

    /// Applies a credit; true when the receiver asks for a resend.
    fn credit(&mut self, credit: &Credit) -> Result<bool, String> {
        if Some(credit.receiver) != self.receiver {
            return Err("the receiver restarted".into());
        }
        if credit.next > self.acked {
            self.acked = credit.next.min(self.seq);
            self.last_progress = Instant::now();
            while self.unacked.front().is_some_and(|(s, _)| *s < self.acked) {
                self.unacked.pop_front();
            }
        }
        self.consumed = self.consumed.max(credit.consumed.min(self.acked));
        self.limit = self.limit.max(credit.limit);
        Ok(credit.gap)
    }

    fn publish(&self, seq: u64, payload: ZBytes) -> Result<(), String> {
        let Some(open) = &self.open else {
            return Ok(());
        };
        open.publisher
            .put(payload)
            .attachment(header(seq, self.sender).to_vec())
            .wait()
            .map_err(|e| format!("publishing failed: {e}"))
    }

    fn resend(&mut self) -> Result<(), String> {
        for (seq, payload) in &self.unacked {
            self.publish(*seq, payload.clone())?;
        }
        self.last_progress = Instant::now();
        Ok(())
    }

    /// Renews the lease without waiting for the answer.
    fn renew(&mut self) {
        self.last_renew = Instant::now();
        let Some(open) = &self.open else { return };
        let (body, signature) = self.signed_call(Op::Renew, open);
        let expired = Arc::clone(&open.expired);
        let key = self.shared.key.clone();
        let nonce = body.1;
        let mut get = self
            .shared
            .session
            .get(open.call_key.as_str())
            .payload(body.0)
            .timeout(CALL_TIMEOUT)
            .callback(move |reply| {
                if let Ok(sample) = reply.result()
                    && let Ok(answer) = check_answer(key.as_ref(), &nonce, sample)
                    && answer.refused == Some(Refusal::Expired)
                {
                    expired.store(true, Ordering::Release);
                }
            });
        if let Some(signature) = signature {
            get = get.attachment(signature);
        }
        if let Err(e) = get.wait() {
            tracing::debug!(route = %self.route.spec.id, "renewal not sent: {e}");
        }
    }

    fn call_body(&self, op: Op, kernel: &str, guest: Uuid, identity: &str) -> Call {
        Call {
            op,
            callee: kernel.to_owned(),
            caller: self.shared.kernel.to_owned(),
            caller_zid: self.shared.zid.clone(),
            route: self.route.spec.id,
            from: self.route.spec.from.to_string(),
            guest,
            identity: identity.to_owned(),
            terminal: self.route.spec.terminal.to_owned(),
            message_type: self.route.type_name.to_owned(),
            encoding: self.route.spec.encoding.as_str().to_owned(),
            fingerprint: fingerprint(self.route.type_name, self.route.spec.encoding),
            capacity: self.route.spec.capacity,
            sender: self.sender,
            resume: self.acked,
            end: (op == Op::Close).then_some(self.seq),
            timestamp_ms: call::now_ms(),
            nonce: call::nonce(),
        }
    }

    /// The body (JSON, and its nonce) and signature of a call on `open`.
    fn signed_call(&self, op: Op, open: &Open) -> ((Vec<u8>, String), Option<String>) {
        let body = self.call_body(op, &open.kernel, open.guest, &open.identity);
        let nonce = body.nonce.clone();
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let signature = self
            .shared
            .key
            .as_ref()
            .map(|k| k.sign_call(&open.call_key, &bytes));
        ((bytes, nonce), signature)
    }

    /// Calls the callee of the open route and waits for its answer.
    fn call(&self, op: Op) -> Result<Answer, NotOpen> {
        let Some(open) = &self.open else {
            return Err(NotOpen::Absent("the route is not open".into()));
        };
        let ((bytes, nonce), signature) = self.signed_call(op, open);
        call_and_wait(
            &self.shared,
            &open.call_key,
            &open.kernel,
            bytes,
            &nonce,
            signature,
        )
    }

    /// Finds the guest, books its terminal and opens the route.
    fn try_open(&mut self) -> Result<(), NotOpen> {
        let candidates = self.candidates()?;
        let mut last = NotOpen::Absent("no candidate".into());
        for (kernel, identity) in candidates {
            match self.open_to(&kernel, &identity) {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Where the route may go: `(kernel, identity)`, best first.
    fn candidates(&self) -> Result<Vec<(String, GuestIdentity)>, NotOpen> {
        let session = &self.shared.session;
        match self.route.spec.to {
            RouteTarget::Guest(text) => {
                let identity = GuestIdentity::parse(text).map_err(|e| {
                    NotOpen::Refused(Refusal::BadRequest, format!("invalid guest identity: {e}"))
                })?;
                let replies = session
                    .liveliness()
                    .get(keys::guest_anywhere(identity.uuid()))
                    .timeout(CALL_TIMEOUT)
                    .wait()
                    .map_err(|e| NotOpen::Absent(format!("cannot ask the mesh: {e}")))?;
                let mut kernels = Vec::new();
                while let Ok(reply) = replies.recv() {
                    if let Ok(sample) = reply.result()
                        && let Some(kernel) = keys::parse_hostess_kernel(sample.key_expr().as_str())
                    {
                        kernels.push(kernel.to_owned());
                    }
                }
                kernels.sort();
                kernels.dedup();
                if kernels.is_empty() {
                    return Err(NotOpen::Absent(format!(
                        "unreachable: no kernel in the mesh hosts guest `{text}` \
                         (absent, not connected, or refusing this kernel's passphrase)"
                    )));
                }
                Ok(kernels.into_iter().map(|k| (k, identity.clone())).collect())
            }
            RouteTarget::Mask(text) => {
                let mask = GuestMask::parse(text).map_err(|e| {
                    NotOpen::Refused(Refusal::BadRequest, format!("invalid guest mask: {e}"))
                })?;
                let replies = session
                    .get(format!("{}?mask={text}", keys::ALL_GUESTS))
                    .target(QueryTarget::All)
                    .consolidation(ConsolidationMode::None)
                    .timeout(CALL_TIMEOUT)
                    .wait()
                    .map_err(|e| NotOpen::Absent(format!("cannot ask the mesh: {e}")))?;
                let mut found = Vec::new();
                while let Ok(reply) = replies.recv() {
                    let Ok(sample) = reply.result() else { continue };
                    let Some(kernel) = keys::parse_hostess_kernel(sample.key_expr().as_str())
                    else {
                        continue;
                    };
                    let Ok(guests) = serde_json::from_slice::<kernel_hostess::http::GuestsJson>(
                        &sample.payload().to_bytes(),
                    ) else {
                        continue;
                    };
                    for guest in guests.guests {
                        let free = guest.terminals.iter().any(|t| {
                            t.name == self.route.spec.terminal
                                && (t.state == "free" || t.kind == "combine")
                        });
                        if let Ok(identity) = GuestIdentity::parse(&guest.identity)
                            && free
                            && mask.matches(&identity)
                        {
                            found.push((kernel.to_owned(), identity));
                        }
                    }
                }
                found.sort_by(|a, b| (&a.0, a.1.to_string()).cmp(&(&b.0, b.1.to_string())));
                if found.is_empty() {
                    return Err(NotOpen::Absent(format!(
                        "no guest in the mesh matching `{text}` has terminal `{}` free",
                        self.route.spec.terminal
                    )));
                }
                Ok(found)
            }
        }
    }

    fn open_to(&mut self, kernel: &str, identity: &GuestIdentity) -> Result<(), NotOpen> {
        let session = &self.shared.session;
        let guest = identity.uuid();
        let terminal = self.route.spec.terminal;
        let absent = |e: zenoh::Error| NotOpen::Absent(format!("mesh session: {e}"));
        let (tx, credits) = crossbeam_channel::unbounded();
        let credit_sub = session
            .declare_subscriber(keys::credit(guest, terminal, self.route.spec.id))
            .callback(move |sample| {
                if let Some(credit) = Credit::parse(&sample.payload().to_bytes()) {
                    let _ = tx.send(credit);
                }
            })
            .wait()
            .map_err(absent)?;
        let gone = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&gone);
        let liveliness_sub = session
            .liveliness()
            .declare_subscriber(keys::guest(kernel, guest))
            .callback(move |sample| {
                if sample.kind() == SampleKind::Delete {
                    flag.store(true, Ordering::Release);
                }
            })
            .wait()
            .map_err(absent)?;
        let publisher = session
            .declare_publisher(keys::data(guest, terminal, self.route.spec.id))
            .congestion_control(CongestionControl::Block)
            .priority(Priority::Data)
            .encoding(match self.route.spec.encoding {
                wiring_model::Encoding::Postcard => zenoh::bytes::Encoding::ZENOH_BYTES,
                wiring_model::Encoding::Json => zenoh::bytes::Encoding::APPLICATION_JSON,
            })
            .wait()
            .map_err(absent)?;
        self.open = Some(Open {
            kernel: kernel.to_owned(),
            guest,
            identity: identity.to_string(),
            call_key: keys::call(kernel),
            publisher,
            credits,
            _credit_sub: credit_sub,
            gone,
            _liveliness_sub: liveliness_sub,
            expired: Arc::new(AtomicBool::new(false)),
        });
        let answer = match self.call(Op::Open) {
            Ok(answer) => answer,
            Err(e) => {
                self.open = None;
                return Err(e);
            }
        };
        self.opened(kernel, identity, &answer);
        Ok(())
    }

    /// Takes the callee's grant: where the receiver stands, and what to
    /// send again.
    fn opened(&mut self, kernel: &str, identity: &GuestIdentity, answer: &Answer) {
        let restarted = self.receiver.is_some_and(|r| r != answer.receiver);
        if restarted {
            // What its terminal had not taken when it went is lost.
            let lost = self.acked.saturating_sub(self.consumed);
            self.lost += lost;
            self.lost_to_restarts += lost;
            if lost > 0 {
                self.note(&format!(
                    "kernel `{kernel}` restarted: {lost} messages it had not delivered are lost"
                ));
            }
        }
        self.receiver = Some(answer.receiver);
        self.acked = answer.next.min(self.seq);
        self.consumed = answer.consumed;
        self.limit = answer.limit;
        self.lease = Duration::from_millis(answer.lease_ms.max(300));
        while self.unacked.front().is_some_and(|(s, _)| *s < self.acked) {
            self.unacked.pop_front();
        }
        self.last_renew = Instant::now();
        self.last_progress = Instant::now();
        self.waiting_since = None;
        let to = format!("{identity}.{}", self.route.spec.terminal);
        self.route.seen().to.clone_from(&to);
        let chose = matches!(self.route.spec.to, RouteTarget::Mask(_))
            .then(|| format!("; the mask chose `{identity}`"))
            .unwrap_or_default();
        self.route.set(
            &self.shared,
            RouteState::Connected,
            Some(format!("open to kernel `{kernel}`{chose}")),
        );
        if let Err(e) = self.resend() {
            tracing::debug!(route = %self.route.spec.id, "{e}");
        }
    }

    fn not_open(&mut self, why: NotOpen) {
        let since = *self.waiting_since.get_or_insert_with(Instant::now);
        match why {
            NotOpen::Refused(refusal, message) => self.route.set(
                &self.shared,
                RouteState::Failed,
                Some(format!("{}: {message}", refusal.as_str())),
            ),
            NotOpen::Absent(message) => {
                // Absence is normal at first; it is worth an event once the
                // route could not open in time.
                let reason = if since.elapsed() >= OPEN_TIMEOUT {
                    format!("cannot open within {}s: {message}", OPEN_TIMEOUT.as_secs())
                } else {
                    format!("waiting: {message}")
                };
                let state = self.route.seen().state;
                let quiet = since.elapsed() < OPEN_TIMEOUT
                    && matches!(state, RouteState::Planned | RouteState::Connected);
                if quiet {
                    let mut seen = self.route.seen();
                    seen.state = RouteState::Planned;
                    seen.reason = Some(reason);
                } else {
                    self.route
                        .set(&self.shared, RouteState::Planned, Some(reason));
                }
            }
        }
    }

    fn lose_link(&mut self, why: &str) {
        self.open = None;
        self.waiting_since = Some(Instant::now());
        self.route
            .set(&self.shared, RouteState::Planned, Some(why.to_owned()));
    }

    /// A note about the route in the event log.
    fn note(&self, cause: &str) {
        tracing::warn!(route = %self.route.spec.id, "{cause}");
        if let Some(connectome) = self.shared.connectome.upgrade() {
            let state = self.route.seen().state;
            connectome.log_route(self.route.spec.id, &self.route.label, state, state, cause);
        }
    }

    fn publish_counts(&self) {
        let mut seen = self.route.seen();
        seen.sent = self.sent;
        seen.received = self.consumed.saturating_sub(self.lost_to_restarts);
        seen.lost = self.lost;
    }

    /// The kernel stops: what was not delivered and will not be is lost.
    fn give_up(&mut self) {
        let mut lost = 0;
        // Messages the producer sent that never left this kernel.
        while let Next::Message(_) | Next::Unencodable(_) = self.source.next(Duration::ZERO) {
            self.sent += 1;
            lost += 1;
        }
        // Sent but not known to have arrived: never sent again.
        lost += self.seq.saturating_sub(self.acked);
        self.lost += lost;
        self.publish_counts();
        if lost > 0 {
            self.note(&format!(
                "the kernel stops: {lost} messages that were not delivered are lost"
            ));
        }
        let state = self.route.seen().state;
        if state != RouteState::Closed {
            self.route.set(
                &self.shared,
                RouteState::Closed,
                Some("the kernel stopped".into()),
            );
        }
    }
}

/// Sends a signed call and waits for its answer.
fn call_and_wait(
    shared: &Shared,
    call_key: &str,
    kernel: &str,
    body: Vec<u8>,
    nonce: &str,
    signature: Option<String>,
) -> Result<Answer, NotOpen> {
    let mut get = shared
        .session
        .get(call_key)
        .payload(body)
        .timeout(CALL_TIMEOUT);
    if let Some(signature) = signature {
        get = get.attachment(signature);
    }
    let replies = get
        .wait()
        .map_err(|e| NotOpen::Absent(format!("cannot call kernel `{kernel}`: {e}")))?;
    let Ok(reply) = replies.recv() else {
        return Err(NotOpen::Absent(format!(
            "unreachable: kernel `{kernel}` does not answer"
        )));
    };
    let sample = match reply.result() {
        Ok(sample) => sample,
        Err(e) => {
            return Err(NotOpen::Refused(
                Refusal::BadRequest,
                String::from_utf8_lossy(&e.payload().to_bytes()).into_owned(),
            ));
        }
    };
    let answer = check_answer(shared.key.as_ref(), nonce, sample)?;
    match answer.refused {
        None => Ok(answer),
        Some(refusal) => Err(NotOpen::Refused(refusal, answer.message)),
    }
}

/// Parses an answer, checking its signature when the mesh has a key.
fn check_answer(
    key: Option<&super::MeshKey>,
    nonce: &str,
    sample: &zenoh::sample::Sample,
) -> Result<Answer, NotOpen> {
    let body = sample.payload().to_bytes();
    if let Some(key) = key {
        let signed = sample
            .attachment()
            .is_some_and(|a| key.verify_answer(nonce, &body, &a.to_bytes()));
        if !signed {
            return Err(NotOpen::Refused(
                Refusal::BadPassphrase,
                "the callee's answer is not signed with this mesh's passphrase".into(),
            ));
        }
    }
    serde_json::from_slice(&body)
        .map_err(|e| NotOpen::Refused(Refusal::BadRequest, format!("unreadable answer: {e}")))
}
