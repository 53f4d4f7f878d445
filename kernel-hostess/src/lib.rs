//! The Hostess: the registry of servers (guests) and of the use of their
//! terminals, with reservations under leases.
//!
//! - [`identity`] and [`mask`] (from `wiring-model`): guest identities
//!   `fqdn:servername:classHex:owner:authFlag:authMechanism:uuid` and the
//!   seven-field glob form queries use;
//! - [`guestbook`]: registered guests, their terminals and each terminal's use;
//! - [`reservation`]: all-or-nothing reservations under leases with fencing tokens;
//! - [`booking`]: the exchange with the control surface (plan, booking, connectome ids);
//! - [`clock`]: the injectable clock leases are measured with;
//! - [`policy`]: the Hostess as a policy of a kernel: it books every wired
//!   pipe's terminals at start and admits live connections
//!   ([`HostessExt::hostess`] finds a kernel's Hostess);
//! - `http` (feature `http`): the JSON API and authenticated calls from
//!   peer kernels;
//! - `phone` (feature `phone`, part of `http`): signing and verifying those
//!   calls, without HTTP.
//!
//! A [`Hostess`] is a cheap handle (clones share one guest book). It is the
//! source of truth for which servers exist and which terminals are free; the
//! control surface is the source of truth for topology.

#![warn(missing_docs)]

pub mod booking;
pub mod clock;
pub mod guestbook;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "phone")]
pub mod phone;
pub mod policy;
pub mod reservation;

pub use wiring_model::{identity, mask};

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};
use std::time::Duration;

use uuid::Uuid;

pub use booking::{Booking, Pick, Plan, SpecBooking, Want, book_spec, plan_for_spec};
pub use clock::{Clock, ManualClock, SystemClock};
pub use guestbook::{
    Guest, GuestStatus, Menu, MenuEntry, Registration, TerminalInfo, TerminalStatus, TerminalUse,
};
pub use identity::{Field, GuestIdentity, IdentityError};
pub use mask::{GuestMask, MaskError};
pub use policy::{BOOKING_HOLDER, HostessExt, HostessPolicy};
pub use reservation::{
    Ended, FencingToken, Grant, MAX_TTL, MIN_TTL, ReservationId, ReserveRequest, TerminalRef,
};

use wiring_model::Spec;

/// Everything the Hostess refuses, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostessError {
    /// A server's identity does not parse.
    #[error("server `{server}` has an invalid guest identity: {error}")]
    Identity {
        /// The server instance.
        server: String,
        /// Which field is wrong, and why.
        #[source]
        error: IdentityError,
    },

    /// A server's identity names another uuid than the server has.
    #[error(
        "server `{server}` has the uuid {uuid} but its guest identity `{identity}` names another"
    )]
    UuidMismatch {
        /// The server instance.
        server: String,
        /// Its guest identity.
        identity: String,
        /// The uuid the server has.
        uuid: Uuid,
    },

    /// A guest declares two terminals with one name.
    #[error("guest `{guest}` declares the terminal `{terminal}` twice")]
    DuplicateTerminalName {
        /// The guest's identity.
        guest: String,
        /// The terminal name declared twice.
        terminal: String,
    },

    /// Another guest is registered under the uuid.
    #[error(
        "the uuid {uuid} is registered as `{registered}`; it cannot be registered again as `{offered}`"
    )]
    RegistrationConflict {
        /// The uuid both identities carry.
        uuid: Uuid,
        /// The identity registered under it.
        registered: String,
        /// The identity that was refused.
        offered: String,
    },

    /// The guest book cannot hold more guests (over 4 GiB of names).
    #[error("the guest book is full")]
    Full,

    /// Fewer guests match (or are free) than a query or want asked for.
    #[error("{}", not_enough(mask, *wanted, *found, *free))]
    NotEnough {
        /// The guest mask asked with.
        mask: String,
        /// How many guests were asked for.
        wanted: usize,
        /// How many guests match the mask.
        found: usize,
        /// For bookings: how many of them have the wanted terminals free.
        free: Option<usize>,
    },

    /// A reservation named no terminal.
    #[error("a reservation must name at least one terminal")]
    EmptyReservation,

    /// Terminals that are unknown or named twice.
    #[error("nothing was reserved:{}", list(problems))]
    BadTerminals {
        /// One line per terminal: unknown, or named twice.
        problems: Vec<String>,
    },

    /// Some terminals are held by other reservations; nothing was reserved.
    #[error("nothing was reserved: {} of the {wanted} terminals are taken:{}", taken.len(), list(taken))]
    Taken {
        /// How many terminals the reservation named.
        wanted: usize,
        /// The terminals held elsewhere, `identity.terminal` with their holder.
        taken: Vec<String>,
    },

    /// The lease's time to live is out of range: ask for one within
    /// [`MIN_TTL`] ..= [`MAX_TTL`] and renew before it runs out.
    #[error("a lease TTL must be between {min:?} and {max:?}, not {ttl:?}")]
    BadTtl {
        /// The TTL asked for.
        ttl: Duration,
        /// The shortest lease.
        min: Duration,
        /// The longest lease.
        max: Duration,
    },

    /// The holder name is empty, too long or not printable ASCII.
    #[error("the holder must be 1 to 128 printable ASCII characters, not `{holder}`")]
    BadHolder {
        /// The name as given.
        holder: String,
    },

    /// A lease asked for under the name of the kernel's own bookings.
    #[error("`{holder}` is the name of the kernel's own bookings; nobody else holds under it")]
    KernelHolder {
        /// The name as given ([`BOOKING_HOLDER`]).
        holder: String,
    },

    /// A release, renewal or binding of the kernel's own booking (or, for
    /// the kernel, of a booking not its own).
    #[error(
        "reservation {id} is the kernel's own booking of its pipes' terminals: it ends when its pipes are disconnected, and is not released, renewed or bound by hand"
    )]
    KernelBooking {
        /// The kernel's reservation.
        id: ReservationId,
    },

    /// No reservation has that id (it never existed, or ended long ago).
    #[error("no reservation {id}")]
    UnknownReservation {
        /// The id asked for.
        id: ReservationId,
    },

    /// The reservation's lease ran out before it was renewed: reserve again.
    #[error(
        "reservation {id} expired: its holder did not renew it in time; its terminals were released"
    )]
    Expired {
        /// The reservation.
        id: ReservationId,
    },

    /// The reservation was released already: reserve again.
    #[error("reservation {id} was released")]
    Released {
        /// The reservation.
        id: ReservationId,
    },
}

fn list(items: &[String]) -> String {
    items.iter().map(|i| format!("\n  - {i}")).collect()
}

fn not_enough(mask: &str, wanted: usize, found: usize, free: Option<usize>) -> String {
    let guests = |n: usize| {
        if n == 1 {
            "1 guest".to_owned()
        } else {
            format!("{n} guests")
        }
    };
    match free {
        None => format!("wanted {wanted} but only {} match `{mask}`", guests(found)),
        Some(free) => format!(
            "wanted {wanted} but only {} of the {} matching `{mask}` have the wanted terminals free; nothing was reserved",
            guests(free),
            found
        ),
    }
}

/// What happened to a reservation; see [`Hostess::events`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostessEvent {
    /// A reservation was granted.
    Granted {
        /// The reservation as granted.
        grant: Grant,
    },
    /// A reservation ended: released by its holder (or by disconnecting its
    /// last terminal), or expired; `at` is the clock time it ended.
    Ended {
        /// The reservation that ended.
        grant: Grant,
        /// Released or expired.
        how: Ended,
        /// The Hostess clock's time when it ended (since the clock started).
        at: Duration,
    },
}

/// The guest book and the reservations, behind one lock.
pub(crate) struct State {
    pub(crate) book: guestbook::GuestBook,
    pub(crate) ledger: reservation::Ledger,
    /// The latest clock time an operation ran at.
    pub(crate) now: Duration,
    /// True while someone listens to events.
    pub(crate) record: bool,
    pub(crate) events: Vec<HostessEvent>,
}

struct Inner {
    state: RwLock<State>,
    clock: Box<dyn Clock>,
    reaper: std::sync::Once,
    listeners: std::sync::Mutex<Vec<crossbeam_channel::Sender<HostessEvent>>>,
}

/// Handle to a Hostess; clones share it. See the module documentation.
#[derive(Clone)]
pub struct Hostess {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Hostess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.read();
        f.debug_struct("Hostess")
            .field("guests", &state.book.len())
            .field("reservations", &state.ledger.len())
            .finish()
    }
}

impl Default for Hostess {
    fn default() -> Self {
        Hostess::new()
    }
}

impl Hostess {
    /// An empty Hostess on the real clock.
    pub fn new() -> Self {
        Hostess::with_clock(SystemClock::new())
    }

    /// An empty Hostess on `clock` (a [`ManualClock`] for tests).
    pub fn with_clock(clock: impl Clock) -> Self {
        Hostess {
            inner: Arc::new(Inner {
                state: RwLock::new(State {
                    book: guestbook::GuestBook::default(),
                    ledger: reservation::Ledger::new(),
                    now: Duration::ZERO,
                    record: false,
                    events: Vec::new(),
                }),
                clock: Box::new(clock),
                reaper: std::sync::Once::new(),
                listeners: std::sync::Mutex::new(Vec::new()),
            }),
        }
    }

    /// A Hostess with every server of a generated kernel registered as a
    /// walk-in. A server whose identity is invalid (the build step's E0503
    /// lint prevents that) is logged and left out.
    pub fn for_spec(spec: &Spec) -> Self {
        let hostess = Hostess::new();
        for e in hostess.register_spec(spec) {
            tracing::error!(kernel = spec.kernel.name, "{e}");
        }
        hostess
    }

    /// The clock's time now.
    pub fn now(&self) -> Duration {
        self.inner.clock.now()
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.inner.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.inner.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` under the write lock at the clock's time now, then hands
    /// the events it caused to the listeners (still under the lock, so they
    /// arrive in the order they happened).
    fn modify<R>(&self, f: impl FnOnce(&mut State, Duration) -> R) -> R {
        let mut state = self.write();
        let now = self.now();
        state.now = state.now.max(now);
        let result = f(&mut state, now);
        if !state.events.is_empty() {
            let events = std::mem::take(&mut state.events);
            let mut listeners = self
                .inner
                .listeners
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            for event in events {
                listeners.retain(|l| l.send(event.clone()).is_ok());
            }
            if listeners.is_empty() {
                state.record = false;
            }
        }
        result
    }

    /// Every later grant and end of a reservation (release, expiry), in the
    /// order they happened. The control surface listens to learn that a
    /// holder's lease expired.
    pub fn events(&self) -> crossbeam_channel::Receiver<HostessEvent> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut state = self.write();
        self.inner
            .listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(tx);
        state.record = true;
        rx
    }

    /// Runs `f` on a state where every lease due now is released.
    fn current<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        {
            let state = self.read();
            if !state.ledger.due(self.now()) {
                return f(&state);
            }
        }
        self.modify(|state, now| {
            state.expire_due(now);
            f(state)
        })
    }

    /// Registers a guest. Registering the same guest again changes nothing;
    /// another guest under a registered uuid is refused.
    pub fn register(&self, guest: Guest) -> Result<Registration, HostessError> {
        let result = self.write().book.register(guest);
        if let Ok(Registration::Added) = &result {
            tracing::trace!("guest registered");
        }
        result
    }

    /// Registers every server of a generated kernel (walk-ins): its identity
    /// and the terminals of its manifest. Returns the servers that could not
    /// be registered; the others are.
    pub fn register_spec(&self, spec: &Spec) -> Vec<HostessError> {
        let mut errors = Vec::new();
        let mut state = self.write();
        for server in spec.servers {
            match Guest::from_spec(server).and_then(|g| state.book.register(g)) {
                Ok(_) => {}
                Err(e) => errors.push(e),
            }
        }
        drop(state);
        tracing::debug!(
            kernel = spec.kernel.name,
            servers = spec.servers.len() - errors.len(),
            "walk-ins registered"
        );
        errors
    }

    /// How many guests are registered.
    pub fn len(&self) -> usize {
        self.read().book.len()
    }

    /// True when no guest is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The guest with this uuid and the use of its terminals.
    pub fn guest(&self, uuid: Uuid) -> Option<GuestStatus> {
        self.current(|s| s.book.index_of(&uuid).map(|g| s.status(g)))
    }

    /// Guests matching `mask`, in a stable order (host name, server name,
    /// uuid). With `count`: exactly that many, the first ones, or
    /// [`HostessError::NotEnough`] saying how many match.
    pub fn query(
        &self,
        mask: &GuestMask,
        count: Option<usize>,
    ) -> Result<Vec<GuestStatus>, HostessError> {
        self.current(|s| s.query(mask, count))
    }

    /// How many guests match `mask`.
    pub fn count(&self, mask: &GuestMask) -> usize {
        self.current(|s| s.book.count(mask))
    }

    /// Every guest, in the stable order.
    pub fn guests(&self) -> Vec<GuestStatus> {
        self.current(|s| s.book.ordered().map(|g| s.status(g)).collect())
    }

    /// Availability by class and owner, for peers.
    pub fn menu(&self) -> Menu {
        self.current(State::menu)
    }

    /// Reserves every terminal of `request` or none.
    pub fn reserve(&self, request: ReserveRequest) -> Result<Grant, HostessError> {
        let ttl = request.ttl;
        let grant = self.modify(|s, now| s.reserve(now, request))?;
        if ttl.is_some() {
            self.start_reaper();
        }
        Ok(grant)
    }

    /// Books a plan: for each want, `count` guests matching its mask whose
    /// wanted terminals are free (the first ones in the stable order, no
    /// terminal twice), all under one reservation, or nothing.
    pub fn book(&self, plan: &Plan) -> Result<Booking, HostessError> {
        let booking = self.modify(|s, now| s.book(now, plan, false))?;
        if plan.ttl.is_some() {
            self.start_reaper();
        }
        Ok(booking)
    }

    /// Books a plan as the kernel's own booking and binds its terminals
    /// under connectome ids, in one step: all or nothing.
    pub(crate) fn book_for_kernel(
        &self,
        plan: &Plan,
        bindings: &[(TerminalRef, Uuid)],
    ) -> Result<Grant, HostessError> {
        self.modify(|s, now| {
            let booking = s.book(now, plan, true)?;
            let id = booking.grant.id;
            if let Err(e) = s.bind(now, id, bindings, true) {
                // All or nothing: give the terminals back.
                s.end(id, Ended::Released);
                return Err(e);
            }
            s.grant(id)
        })
    }

    /// Renews a lease: its deadline becomes now + TTL. An expired or
    /// released reservation cannot be renewed, nor can the kernel's own
    /// booking (it has no TTL).
    pub fn renew(&self, id: ReservationId) -> Result<Grant, HostessError> {
        self.modify(|s, now| s.renew(now, id))
    }

    /// Releases a reservation and frees its terminals; the kernel's own
    /// booking is refused ([`HostessError::KernelBooking`]): it ends when
    /// its pipes are disconnected.
    pub fn release(&self, id: ReservationId) -> Result<Grant, HostessError> {
        self.modify(|s, now| s.release(now, id))
    }

    /// The live reservation `id`.
    pub fn grant(&self, id: ReservationId) -> Result<Grant, HostessError> {
        self.current(|s| s.grant(id))
    }

    /// Every live reservation, oldest first.
    pub fn reservations(&self) -> Vec<Grant> {
        self.current(State::grants)
    }

    /// Marks terminals held by reservation `id` as connected under
    /// connectome ids (pipe ids); all or nothing. Refused for the kernel's
    /// own booking, and for an id another reservation uses.
    pub fn bind(
        &self,
        id: ReservationId,
        bindings: &[(TerminalRef, Uuid)],
    ) -> Result<(), HostessError> {
        self.modify(|s, now| s.bind(now, id, bindings, false))
    }

    /// Connects terminals under connectome ids (pipe ids) as the kernel's
    /// own booking held under `holder` ([`BOOKING_HOLDER`] for the kernel's
    /// pipes), all or nothing: free terminals are booked (without TTL),
    /// terminals already in a booking of the kernel under `holder` are bound
    /// under the new ids (a `Multiplex` gaining a consumer), a terminal held
    /// by any other reservation, whatever its holder's name, refuses the
    /// call. The control surface's call for a new connection.
    pub fn connect(
        &self,
        holder: &str,
        bindings: &[(TerminalRef, Uuid)],
    ) -> Result<(), HostessError> {
        self.modify(|s, now| s.connect(now, holder, bindings))
    }

    /// Disconnects connectome id `connectome`: terminals connected under it
    /// alone are freed (a reservation left without terminals ends). Returns
    /// the freed terminals.
    pub fn unbind(&self, connectome: Uuid) -> Vec<TerminalRef> {
        self.modify(|s, now| s.unbind(now, connectome))
    }

    /// True when `terminal` is held by the reservation with this fencing
    /// token (false once it expired, was released or re-granted).
    pub fn holds(&self, terminal: &TerminalRef, token: FencingToken) -> bool {
        self.current(|s| s.holds(terminal, token))
    }

    /// Releases every lease that is due now; returns them. Operations do
    /// this themselves; with the real clock a reaper thread does it too.
    pub fn expire_due(&self) -> Vec<Grant> {
        if !self.read().ledger.due(self.now()) {
            return Vec::new();
        }
        self.modify(|s, now| s.expire_due(now))
    }

    /// With the real clock: a thread that releases expired leases within a
    /// few milliseconds of their deadline. It ends with the last handle.
    fn start_reaper(&self) {
        if !self.inner.clock.is_real() {
            return;
        }
        self.inner.reaper.call_once(|| {
            let weak: Weak<Inner> = Arc::downgrade(&self.inner);
            let spawned = std::thread::Builder::new()
                .name("hostess-reaper".to_owned())
                .spawn(move || reap(weak));
            if let Err(e) = spawned {
                tracing::warn!(
                    "no reaper thread ({e}); leases expire when the Hostess is next used"
                );
            }
        });
    }
}

/// Longest sleep of the reaper, so it sees new, earlier deadlines in time.
const REAP_POLL: Duration = Duration::from_millis(20);

fn reap(weak: Weak<Inner>) {
    loop {
        let pause = {
            let Some(inner) = weak.upgrade() else { return };
            let hostess = Hostess { inner };
            hostess.expire_due();
            let now = hostess.now();
            let next = hostess.read().ledger.next_deadline();
            next.map_or(REAP_POLL, |d| d.saturating_sub(now).min(REAP_POLL))
        };
        std::thread::sleep(pause.max(Duration::from_millis(1)));
    }
}
