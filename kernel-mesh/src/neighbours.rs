//! The neighbour table, and the service that sends this kernel's adverts to
//! its peers and fills the table from theirs.
//!
//! A neighbour is known by the identity in its adverts. It stays until its
//! last advert's TTL runs out (at most [`MAX_TTL`], whatever it asks for),
//! or leaves at once when it sends a TTL of 0. Each sender numbers its
//! adverts; anything not above the last number accepted from it is ignored,
//! even shortly after it left, so a late or replayed advert does not bring a
//! departed neighbour back. A sender draws its first number from the wall
//! clock, so a kernel that restarts is seen again at once.
//!
//! Without a passphrase anyone can send adverts, under any identity, so the
//! table keeps a flood of forged ones from locking real peers out:
//!
//! - one source address holds at most [`MAX_PER_SOURCE`] identities: a new
//!   one from a source at its limit replaces that source's least recently
//!   heard one;
//! - a full table makes room for a new identity by forgetting a neighbour
//!   heard only once (the least recently heard of them) before one that
//!   adverts again and again (a real peer does, every interval);
//! - an advert whose tag was checked (a passphrase is set) is never
//!   displaced, refreshed or impersonated by one whose tag was not.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;
use thiserror::Error;

use super::advert::{self, Advert, AdvertError, MAX_DATAGRAM};
use super::auth::Key;
use kernel_hostess::clock::unix_millis;
use kernel_hostess::{Clock, SystemClock};

/// The most neighbours a table holds, so that a flood of forged identities
/// cannot exhaust memory (see the module documentation for who makes room).
pub const MAX_NEIGHBOURS: usize = 1024;
/// The longest a neighbour is kept without a new advert, whatever TTL its
/// advert asks for; also the longest TTL this kernel sends.
pub const MAX_TTL: Duration = Duration::from_secs(600);
/// The most identities one source address holds in the table (a kernel
/// sends one; a few more cover restarts on the same port).
pub const MAX_PER_SOURCE: usize = 4;
/// How long the last sequence number of a departed neighbour is remembered.
pub const REMEMBER_DEPARTED: Duration = Duration::from_secs(600);
/// The most departed neighbours remembered at once (the oldest go first).
const MAX_DEPARTED: usize = 4096;

/// A neighbour as the control surface shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Neighbour {
    /// Its last advert.
    #[serde(flatten)]
    pub advert: Advert,
    /// Where that advert came from.
    pub source: SocketAddr,
    /// When it first appeared, milliseconds since the Unix epoch.
    pub first_seen_ms: u64,
    /// When its last advert arrived, milliseconds since the Unix epoch.
    pub last_seen_ms: u64,
    /// Seconds until it is forgotten unless it adverts again (rounded up).
    pub expires_in_s: u64,
    /// Its adverts carry a valid tag (this kernel has a passphrase).
    pub authenticated: bool,
}

/// What an advert did to the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A neighbour the table did not know.
    Appeared,
    /// A known neighbour, its entry and expiry renewed.
    Refreshed,
    /// A known neighbour said it is leaving (TTL 0) and was removed.
    Left,
    /// A TTL-0 advert from a sender the table did not know.
    Unknown,
    /// The sequence number was not above the last one accepted: ignored.
    Stale,
    /// A new identity, and no neighbour it may displace: ignored.
    Full,
    /// An advert without a checked tag for an identity whose adverts have
    /// one: ignored.
    Unauthenticated,
}

#[derive(Debug)]
struct Entry {
    advert: Advert,
    source: SocketAddr,
    first_seen: Duration,
    last_seen: Duration,
    expires: Duration,
    authenticated: bool,
    /// Adverts accepted from it (saturating).
    heard: u32,
}

/// The last sequence number of a neighbour that left or expired.
#[derive(Debug, Clone, Copy)]
struct Departed {
    sequence: u64,
    at: Duration,
    authenticated: bool,
}

/// Neighbours by identity; expired entries are never shown and are removed
/// by [`NeighbourTable::prune`] (and by the next advert from them, or to
/// make room). Taking in one advert costs at most a scan of the live
/// neighbours (when room must be made), whatever arrived before.
pub struct NeighbourTable {
    clock: Box<dyn Clock>,
    /// Unix time in milliseconds at the clock's zero, for wall-clock times.
    epoch_ms: u64,
    live: HashMap<String, Entry>,
    /// Live identities per source address.
    per_source: HashMap<SocketAddr, usize>,
    departed: HashMap<String, Departed>,
    /// Departures in the order they happened (an identity that departed
    /// again later appears twice; the older line is skipped).
    departures: VecDeque<(Duration, String)>,
    evicted: u64,
}

impl std::fmt::Debug for NeighbourTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NeighbourTable")
            .field("live", &self.live)
            .field("departed", &self.departed)
            .finish_non_exhaustive()
    }
}

impl NeighbourTable {
    /// An empty table whose entries age by `clock`.
    pub fn new(clock: impl Clock) -> Self {
        let elapsed = u64::try_from(clock.now().as_millis()).unwrap_or(u64::MAX);
        NeighbourTable {
            epoch_ms: unix_millis().saturating_sub(elapsed),
            clock: Box::new(clock),
            live: HashMap::new(),
            per_source: HashMap::new(),
            departed: HashMap::new(),
            departures: VecDeque::new(),
            evicted: 0,
        }
    }

    /// Takes in an advert that came from `source`; `authenticated` when its
    /// tag was checked.
    pub fn apply(&mut self, advert: Advert, source: SocketAddr, authenticated: bool) -> Change {
        let now = self.clock.now();
        self.forget_departed(now);
        if self
            .live
            .get(&advert.identity)
            .is_some_and(|e| e.expires <= now)
        {
            self.depart(&advert.identity, now);
        }
        // What an authenticated sender said before counts against an
        // unauthenticated advert, not the other way round.
        let last = match self.live.get(&advert.identity) {
            Some(entry) => Some((entry.advert.sequence, entry.authenticated)),
            None => self
                .departed
                .get(&advert.identity)
                .map(|d| (d.sequence, d.authenticated)),
        };
        if let Some((last, was)) = last {
            if was && !authenticated {
                return Change::Unauthenticated;
            }
            if advert.sequence <= last && was == authenticated {
                return Change::Stale;
            }
        }
        if advert.ttl_s == 0 {
            let was_live = self.depart(&advert.identity, now);
            self.remember(advert.identity, advert.sequence, authenticated, now);
            return if was_live {
                Change::Left
            } else {
                Change::Unknown
            };
        }
        let ttl = Duration::from_secs(u64::from(advert.ttl_s)).min(MAX_TTL);
        let expires = now.saturating_add(ttl);
        if let Some(entry) = self.live.get_mut(&advert.identity) {
            let moved = std::mem::replace(&mut entry.source, source);
            entry.advert = advert;
            entry.last_seen = now;
            entry.expires = expires;
            entry.authenticated = authenticated;
            entry.heard = entry.heard.saturating_add(1);
            if moved != source {
                self.uncount(moved);
                *self.per_source.entry(source).or_default() += 1;
            }
            return Change::Refreshed;
        }
        if !self.make_room(source, authenticated, now) {
            return Change::Full;
        }
        // Heard before it left, expired or was evicted: a peer that adverts
        // again and again.
        let heard = if self.departed.remove(&advert.identity).is_some() {
            2
        } else {
            1
        };
        *self.per_source.entry(source).or_default() += 1;
        self.live.insert(
            advert.identity.clone(),
            Entry {
                advert,
                source,
                first_seen: now,
                last_seen: now,
                expires,
                authenticated,
                heard,
            },
        );
        Change::Appeared
    }

    /// Makes room for a new identity from `source`: within the source's
    /// limit, then within the table's. False when the only neighbours that
    /// could go are authenticated and the newcomer is not.
    fn make_room(&mut self, source: SocketAddr, authenticated: bool, now: Duration) -> bool {
        let may_go = |e: &Entry| authenticated || !e.authenticated;
        let victim = if self.per_source.get(&source).copied().unwrap_or(0) >= MAX_PER_SOURCE {
            self.victim(now, |e| e.source == source && may_go(e))
        } else if self.live.len() >= MAX_NEIGHBOURS {
            self.victim(now, may_go)
        } else {
            return true;
        };
        let Some(identity) = victim else {
            return false;
        };
        tracing::debug!(%identity, "neighbour forgotten to make room");
        self.evicted = self.evicted.saturating_add(1);
        self.depart(&identity, now);
        true
    }

    /// The neighbour that goes first among those `eligible`: one whose TTL
    /// ran out, else unauthenticated before authenticated, heard once
    /// before heard again, then the least recently heard.
    fn victim(&self, now: Duration, eligible: impl Fn(&Entry) -> bool) -> Option<String> {
        self.live
            .iter()
            .filter(|(_, e)| eligible(e))
            .min_by_key(|(_, e)| (e.expires > now, e.authenticated, e.heard > 1, e.last_seen))
            .map(|(identity, _)| identity.clone())
    }

    /// How many neighbours were forgotten to make room for others.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// The neighbours whose TTL has not run out, by identity.
    pub fn neighbours(&self) -> Vec<Neighbour> {
        let now = self.clock.now();
        let mut out: Vec<Neighbour> = self
            .live
            .values()
            .filter(|e| e.expires > now)
            .map(|e| Neighbour {
                advert: e.advert.clone(),
                source: e.source,
                first_seen_ms: self.wall_ms(e.first_seen),
                last_seen_ms: self.wall_ms(e.last_seen),
                expires_in_s: seconds_up(e.expires.saturating_sub(now)),
                authenticated: e.authenticated,
            })
            .collect();
        out.sort_by(|a, b| a.advert.identity.cmp(&b.advert.identity));
        out
    }

    /// Removes the neighbours whose TTL ran out; returns their identities.
    pub fn prune(&mut self) -> Vec<String> {
        let now = self.clock.now();
        self.forget_departed(now);
        let mut gone: Vec<String> = self
            .live
            .iter()
            .filter(|(_, e)| e.expires <= now)
            .map(|(identity, _)| identity.clone())
            .collect();
        for identity in &gone {
            self.depart(identity, now);
        }
        gone.sort();
        gone
    }

    /// Removes `identity` if live, remembering its last sequence number;
    /// true when it was live.
    fn depart(&mut self, identity: &str, now: Duration) -> bool {
        let Some(entry) = self.live.remove(identity) else {
            return false;
        };
        self.uncount(entry.source);
        self.remember(
            entry.advert.identity,
            entry.advert.sequence,
            entry.authenticated,
            now,
        );
        true
    }

    fn uncount(&mut self, source: SocketAddr) {
        if let Some(n) = self.per_source.get_mut(&source) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_source.remove(&source);
            }
        }
    }

    /// Remembers the last sequence number of a departed identity; the
    /// oldest memories go first when there are too many.
    fn remember(&mut self, identity: String, sequence: u64, authenticated: bool, now: Duration) {
        while self.departed.len() >= MAX_DEPARTED && !self.departed.contains_key(&identity) {
            let Some((at, oldest)) = self.departures.pop_front() else {
                break;
            };
            if self.departed.get(&oldest).is_some_and(|d| d.at == at) {
                self.departed.remove(&oldest);
            }
        }
        self.departures.push_back((now, identity.clone()));
        // An identity that comes and goes again and again leaves a line per
        // departure: the oldest lines go, with their memory if still theirs.
        while self.departures.len() > 2 * MAX_DEPARTED {
            if let Some((at, oldest)) = self.departures.pop_front()
                && self.departed.get(&oldest).is_some_and(|d| d.at == at)
            {
                self.departed.remove(&oldest);
            }
        }
        self.departed.insert(
            identity,
            Departed {
                sequence,
                at: now,
                authenticated,
            },
        );
    }

    /// Forgets departures older than [`REMEMBER_DEPARTED`].
    fn forget_departed(&mut self, now: Duration) {
        while let Some((at, identity)) = self.departures.front() {
            if now.saturating_sub(*at) < REMEMBER_DEPARTED {
                break;
            }
            if self.departed.get(identity).is_some_and(|d| d.at == *at) {
                self.departed.remove(identity);
            }
            self.departures.pop_front();
        }
    }

    fn wall_ms(&self, at: Duration) -> u64 {
        self.epoch_ms
            .saturating_add(u64::try_from(at.as_millis()).unwrap_or(u64::MAX))
    }
}

fn seconds_up(d: Duration) -> u64 {
    d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0))
}

/// Salt for the advert key. Every kernel must derive the same key from the
/// shared passphrase, so it is fixed; it differs from the probe's salts so
/// the two protocols never share a key.
const KEY_SALT: &[u8] = b"kernel capability adverts v1";
/// How often the service thread looks at its stop flag at the latest.
const POLL: Duration = Duration::from_millis(50);
/// How often the service removes expired neighbours (they are hidden from
/// readers at once, and make room first when room is needed).
const PRUNE_EVERY: Duration = Duration::from_millis(100);

/// How the advert service runs; the passphrase never shows in `Debug`.
#[derive(Clone)]
pub struct AdvertOptions {
    /// Where to receive peers' adverts (port 0 for any free port, else 1024 or above).
    pub listen: SocketAddr,
    /// Where to send this kernel's adverts.
    pub peers: Vec<SocketAddr>,
    /// How often to send them.
    pub interval: Duration,
    /// How long peers keep them: more than `interval`, from 1 s to
    /// [`MAX_TTL`] (sent in whole seconds, rounded up).
    pub ttl: Duration,
    /// With a passphrase, adverts are tagged and only tagged ones accepted.
    pub passphrase: Option<String>,
}

impl std::fmt::Debug for AdvertOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdvertOptions")
            .field("listen", &self.listen)
            .field("peers", &self.peers)
            .field("interval", &self.interval)
            .field("ttl", &self.ttl)
            .field("keyed", &self.passphrase.is_some())
            .finish_non_exhaustive()
    }
}

/// Why the advert service cannot start (or a peer cannot be added).
#[derive(Debug, Error)]
pub enum AdvertsError {
    /// The interval between adverts is zero.
    #[error("the advert interval must be above zero")]
    ZeroInterval,
    /// The TTL (how long a neighbour keeps an advert) is out of range.
    #[error("the advert TTL ({0:?}) must be between 1 s and {max} s", max = MAX_TTL.as_secs())]
    TtlRange(Duration),
    /// The TTL does not exceed the interval: neighbours would forget this
    /// kernel between two adverts.
    #[error("the advert TTL ({ttl:?}) must exceed the interval ({interval:?})")]
    TtlNotAboveInterval {
        /// The TTL given.
        ttl: Duration,
        /// The interval given.
        interval: Duration,
    },
    /// A listening port below 1024: use 1024 or above.
    #[error("refusing to listen for adverts on port {0}: ports below 1024 are privileged")]
    PrivilegedPort(u16),
    /// A peer address with port 0.
    #[error("cannot send adverts to {0}: port 0")]
    PeerPortZero(SocketAddr),
    /// Adverts are authenticated: set a passphrase.
    #[error("the advert passphrase is empty")]
    EmptyPassphrase,
    /// This kernel's advert is too large or malformed.
    #[error("this kernel's advert cannot be encoded: {0}")]
    Content(#[from] AdvertError),
    /// The listening address is taken or not local.
    #[error("cannot listen for adverts on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error.
        source: io::Error,
    },
    /// A socket option could not be set.
    #[error("cannot set up the advert socket: {0}")]
    Socket(io::Error),
    /// The operating system refused a thread.
    #[error("cannot start the advert thread: {0}")]
    Spawn(io::Error),
}

/// The advert service: one UDP socket and one thread. Dropping it stops it
/// as [`Adverts::stop`] does.
#[derive(Debug)]
pub struct Adverts {
    shared: Arc<Shared>,
    local: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    table: Mutex<NeighbourTable>,
    peers: Mutex<Vec<SocketAddr>>,
    stop: AtomicBool,
    refused: AtomicU64,
}

/// Locks, going on after a panic elsewhere: the data stays consistent
/// because every change under these locks is a single step.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Adverts {
    /// Binds `options.listen` and starts sending `content()` to every peer
    /// every `options.interval` (the first at once), and receiving peers'
    /// adverts into the neighbour table.
    ///
    /// `content` is called for every advert; its `ttl_s` and `sequence` are
    /// replaced by the service's own. It is called once here too, so that an
    /// advert that cannot be encoded fails the start instead of every send.
    pub fn start(
        options: AdvertOptions,
        content: impl Fn() -> Advert + Send + 'static,
    ) -> Result<Adverts, AdvertsError> {
        let ttl_s = validate(&options)?;
        let key = match options.passphrase.as_deref() {
            Some("") => return Err(AdvertsError::EmptyPassphrase),
            Some(passphrase) => Some(Key::derive(passphrase, KEY_SALT)),
            None => None,
        };
        advert::encode(&content(), key.as_ref())?;
        let socket = UdpSocket::bind(options.listen).map_err(|source| AdvertsError::Bind {
            addr: options.listen,
            source,
        })?;
        let local = socket.local_addr().map_err(AdvertsError::Socket)?;
        let shared = Arc::new(Shared {
            table: Mutex::new(NeighbourTable::new(SystemClock::new())),
            peers: Mutex::new(options.peers),
            stop: AtomicBool::new(false),
            refused: AtomicU64::new(0),
        });
        let sender = Sender {
            content: Box::new(content),
            key,
            ttl_s,
            sequence: 0,
        };
        let thread = std::thread::Builder::new()
            .name("adverts".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || run(&socket, &shared, sender, options.interval)
            })
            .map_err(AdvertsError::Spawn)?;
        tracing::info!(%local, "adverts listening");
        Ok(Adverts {
            shared,
            local,
            thread: Some(thread),
        })
    }

    /// The address the service listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The neighbours whose TTL has not run out, by identity.
    pub fn neighbours(&self) -> Vec<Neighbour> {
        lock(&self.shared.table).neighbours()
    }

    /// Sends adverts to `peer` too, from the next interval on.
    pub fn add_peer(&self, peer: SocketAddr) -> Result<(), AdvertsError> {
        if peer.port() == 0 {
            return Err(AdvertsError::PeerPortZero(peer));
        }
        let mut peers = lock(&self.shared.peers);
        if !peers.contains(&peer) {
            peers.push(peer);
        }
        Ok(())
    }

    /// How many datagrams were refused (malformed, a bad identity, or
    /// without a valid tag).
    pub fn refused(&self) -> u64 {
        self.shared.refused.load(Ordering::Relaxed)
    }

    /// How many neighbours were forgotten to make room for others.
    pub fn evicted(&self) -> u64 {
        lock(&self.shared.table).evicted()
    }

    /// Tells every peer this kernel is leaving (TTL 0), then stops.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.shared.stop.store(true, Ordering::Relaxed);
            if thread.join().is_err() {
                tracing::error!("the advert thread panicked");
            }
        }
    }
}

impl Drop for Adverts {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Checks the options; returns the TTL in whole seconds.
fn validate(options: &AdvertOptions) -> Result<u16, AdvertsError> {
    let AdvertOptions {
        listen,
        peers,
        interval,
        ttl,
        ..
    } = options;
    if interval.is_zero() {
        return Err(AdvertsError::ZeroInterval);
    }
    let ttl_s = u16::try_from(seconds_up(*ttl))
        .ok()
        .filter(|s| (1..=MAX_TTL.as_secs()).contains(&u64::from(*s)))
        .ok_or(AdvertsError::TtlRange(*ttl))?;
    if ttl <= interval {
        return Err(AdvertsError::TtlNotAboveInterval {
            ttl: *ttl,
            interval: *interval,
        });
    }
    if (1..1024).contains(&listen.port()) {
        return Err(AdvertsError::PrivilegedPort(listen.port()));
    }
    if let Some(peer) = peers.iter().find(|p| p.port() == 0) {
        return Err(AdvertsError::PeerPortZero(*peer));
    }
    Ok(ttl_s)
}

/// The sending half of the service thread.
struct Sender {
    content: Box<dyn Fn() -> Advert + Send>,
    key: Option<Key>,
    ttl_s: u16,
    sequence: u64,
}

impl Sender {
    fn send(&mut self, socket: &UdpSocket, peers: &[SocketAddr], ttl_s: u16) {
        let mut advert = (self.content)();
        advert.ttl_s = ttl_s;
        // The wall clock keeps numbers rising across restarts of this kernel.
        self.sequence = self.sequence.saturating_add(1).max(unix_millis());
        advert.sequence = self.sequence;
        let bytes = match advert::encode(&advert, self.key.as_ref()) {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::warn!(%error, "advert not sent");
                return;
            }
        };
        for peer in peers {
            if let Err(error) = socket.send_to(&bytes, peer) {
                tracing::debug!(%peer, %error, "advert not sent");
            }
        }
    }
}

fn run(socket: &UdpSocket, shared: &Shared, mut sender: Sender, interval: Duration) {
    // One byte more than an advert may have, so oversized ones are seen.
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    let mut next = Instant::now();
    let mut last_prune = Instant::now();
    while !shared.stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now >= next {
            let peers = lock(&shared.peers).clone();
            sender.send(socket, &peers, sender.ttl_s);
            next = now + interval;
        }
        let wait = next
            .saturating_duration_since(Instant::now())
            .clamp(Duration::from_millis(1), POLL);
        if let Err(error) = socket.set_read_timeout(Some(wait)) {
            tracing::warn!(%error, "cannot set the advert socket's timeout");
        }
        match socket.recv_from(&mut buf) {
            Ok((len, from)) => {
                receive(
                    shared,
                    buf.get(..len).unwrap_or_default(),
                    from,
                    sender.key.as_ref(),
                );
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(error) => tracing::debug!(%error, "advert socket"),
        }
        if last_prune.elapsed() >= PRUNE_EVERY {
            last_prune = Instant::now();
            for identity in lock(&shared.table).prune() {
                tracing::info!(%identity, "neighbour expired");
            }
        }
    }
    let peers = lock(&shared.peers).clone();
    sender.send(socket, &peers, 0);
}

fn receive(shared: &Shared, bytes: &[u8], from: SocketAddr, key: Option<&Key>) {
    let advert = match advert::decode(bytes, key) {
        Ok(advert) => advert,
        Err(error) => {
            shared.refused.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%from, %error, "advert refused");
            return;
        }
    };
    let identity = advert.identity.clone();
    let mut table = lock(&shared.table);
    match table.apply(advert, from, key.is_some()) {
        Change::Appeared => tracing::info!(%identity, %from, "neighbour appeared"),
        Change::Left => tracing::info!(%identity, %from, "neighbour left"),
        Change::Refreshed | Change::Unknown => {}
        Change::Stale => tracing::debug!(%identity, %from, "stale advert ignored"),
        Change::Full => tracing::debug!(%identity, %from, "neighbour table full"),
        Change::Unauthenticated => {
            tracing::debug!(%identity, %from, "unauthenticated advert for an authenticated neighbour ignored")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Candidate, Proto};
    use kernel_hostess::ManualClock;

    fn advert(identity: &str, sequence: u64, ttl_s: u16) -> Advert {
        Advert {
            identity: identity.into(),
            ttl_s,
            sequence,
            control: Some("127.0.0.1:8080".parse().unwrap()),
            classes: vec![0x0a01],
            candidates: vec![Candidate::new(
                Proto::Tcp,
                "127.0.0.1:5000".parse().unwrap(),
                1,
            )],
        }
    }

    fn source() -> SocketAddr {
        "127.0.0.1:40000".parse().unwrap()
    }

    fn table() -> (NeighbourTable, ManualClock) {
        let clock = ManualClock::new();
        (NeighbourTable::new(clock.clone()), clock)
    }

    fn identities(table: &NeighbourTable) -> Vec<String> {
        table
            .neighbours()
            .into_iter()
            .map(|n| n.advert.identity)
            .collect()
    }

    #[test]
    fn a_neighbour_expires_when_its_ttl_runs_out() {
        let (mut table, clock) = table();
        assert_eq!(
            table.apply(advert("a", 1, 10), source(), false),
            Change::Appeared
        );
        clock.advance(Duration::from_millis(9_500));
        let shown = table.neighbours();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].expires_in_s, 1);
        assert_eq!(shown[0].source, source());
        assert!(table.prune().is_empty());
        clock.advance(Duration::from_millis(500));
        assert!(table.neighbours().is_empty(), "hidden on read once expired");
        assert_eq!(table.prune(), ["a"]);
        assert!(table.prune().is_empty());
    }

    #[test]
    fn a_newer_advert_renews_the_entry_and_its_expiry() {
        let (mut table, clock) = table();
        table.apply(advert("a", 1, 10), source(), false);
        clock.advance(Duration::from_secs(8));
        let other: SocketAddr = "127.0.0.1:40001".parse().unwrap();
        assert_eq!(
            table.apply(advert("a", 2, 10), other, false),
            Change::Refreshed
        );
        clock.advance(Duration::from_secs(8));
        let shown = table.neighbours();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].advert.sequence, 2);
        assert_eq!(shown[0].source, other);
        assert_eq!(shown[0].expires_in_s, 2);
        assert_eq!(shown[0].last_seen_ms - shown[0].first_seen_ms, 8_000);
    }

    #[test]
    fn stale_sequence_numbers_are_ignored() {
        let (mut table, clock) = table();
        table.apply(advert("a", 5, 10), source(), false);
        clock.advance(Duration::from_secs(5));
        assert_eq!(
            table.apply(advert("a", 5, 60), source(), false),
            Change::Stale
        );
        assert_eq!(
            table.apply(advert("a", 4, 60), source(), false),
            Change::Stale
        );
        let shown = table.neighbours();
        assert_eq!(shown[0].advert.sequence, 5);
        assert_eq!(shown[0].expires_in_s, 5, "a stale advert renews nothing");
    }

    #[test]
    fn ttl_zero_removes_a_neighbour_at_once_and_late_adverts_do_not_revive_it() {
        let (mut table, clock) = table();
        table.apply(advert("a", 1, 60), source(), false);
        table.apply(advert("b", 1, 60), source(), false);
        assert_eq!(
            table.apply(advert("a", 3, 0), source(), false),
            Change::Left
        );
        assert_eq!(identities(&table), ["b"]);
        // An advert sent before the goodbye but arriving after it.
        assert_eq!(
            table.apply(advert("a", 2, 60), source(), false),
            Change::Stale
        );
        assert_eq!(identities(&table), ["b"]);
        clock.advance(Duration::from_secs(1));
        // The same kernel started again: a higher number.
        assert_eq!(
            table.apply(advert("a", 4, 60), source(), false),
            Change::Appeared
        );
        assert_eq!(identities(&table), ["a", "b"]);
        assert_eq!(
            table.apply(advert("c", 1, 0), source(), false),
            Change::Unknown
        );
        assert_eq!(identities(&table), ["a", "b"]);
    }

    #[test]
    fn departed_sequence_numbers_are_forgotten_after_a_while() {
        let (mut table, clock) = table();
        table.apply(advert("a", 9, 60), source(), false);
        table.apply(advert("a", 10, 0), source(), false);
        clock.advance(REMEMBER_DEPARTED);
        // A kernel whose wall clock went back is not shut out for ever.
        assert_eq!(
            table.apply(advert("a", 1, 60), source(), false),
            Change::Appeared
        );
    }

    #[test]
    fn an_expired_neighbour_that_adverts_again_appears_anew() {
        let (mut table, clock) = table();
        table.apply(advert("a", 1, 1), source(), false);
        clock.advance(Duration::from_secs(2));
        assert_eq!(
            table.apply(advert("a", 1, 10), source(), false),
            Change::Stale
        );
        assert_eq!(
            table.apply(advert("a", 2, 10), source(), false),
            Change::Appeared
        );
        let shown = table.neighbours();
        assert_eq!(shown[0].first_seen_ms, shown[0].last_seen_ms);
    }

    /// A source address of its own for sender `i`.
    fn source_of(i: usize) -> SocketAddr {
        let [a, b] = u16::try_from(i).unwrap().to_be_bytes();
        SocketAddr::from(([127, 1, a, b], 40000))
    }

    #[test]
    fn a_full_table_forgets_one_heard_once_least_recently_to_make_room() {
        let (mut table, clock) = table();
        for i in 0..MAX_NEIGHBOURS {
            let change = table.apply(advert(&format!("k{i}"), 1, 60), source_of(i), false);
            assert_eq!(change, Change::Appeared);
            clock.advance(Duration::from_millis(1));
        }
        // Every even one adverts again: heard twice.
        for i in (0..MAX_NEIGHBOURS).step_by(2) {
            let change = table.apply(advert(&format!("k{i}"), 2, 60), source_of(i), false);
            assert_eq!(change, Change::Refreshed);
        }
        let newcomer = source_of(MAX_NEIGHBOURS);
        assert_eq!(
            table.apply(advert("new", 1, 60), newcomer, false),
            Change::Appeared
        );
        // k1 was heard once, and longest ago; k0 was heard longer ago but twice.
        let shown = identities(&table);
        assert_eq!(shown.len(), MAX_NEIGHBOURS);
        assert!(!shown.contains(&"k1".to_owned()));
        assert!(shown.contains(&"k0".to_owned()) && shown.contains(&"new".to_owned()));
        assert_eq!(table.evicted(), 1);
        // The evicted one adverts again: it is let back in as one heard
        // before, and the next heard-once one makes room.
        assert_eq!(
            table.apply(advert("k1", 2, 60), source_of(1), false),
            Change::Appeared
        );
        assert!(!identities(&table).contains(&"k3".to_owned()));
        assert_eq!(
            table.apply(advert("other", 1, 60), source_of(MAX_NEIGHBOURS + 1), false),
            Change::Appeared
        );
        assert!(
            identities(&table).contains(&"k1".to_owned()),
            "heard twice now"
        );
    }

    #[test]
    fn one_source_holds_at_most_max_per_source_identities() {
        let (mut table, clock) = table();
        let real = source_of(1);
        table.apply(advert("real", 1, 60), real, false);
        for i in 0..20 {
            clock.advance(Duration::from_millis(1));
            let change = table.apply(advert(&format!("forged{i}"), 1, 60), source(), false);
            assert_eq!(change, Change::Appeared);
        }
        let shown = identities(&table);
        assert_eq!(
            shown,
            ["forged16", "forged17", "forged18", "forged19", "real"],
            "the source's most recent identities"
        );
    }

    #[test]
    fn a_ttl_above_the_maximum_is_cut_to_it() {
        let (mut table, clock) = table();
        table.apply(advert("long", 1, u16::MAX), source(), false);
        assert_eq!(table.neighbours()[0].expires_in_s, MAX_TTL.as_secs());
        clock.advance(MAX_TTL);
        assert!(table.neighbours().is_empty());
        assert_eq!(table.prune(), ["long"]);
    }

    #[test]
    fn unauthenticated_adverts_never_displace_refresh_or_impersonate_authenticated_ones() {
        let (mut table, _clock) = table();
        assert_eq!(
            table.apply(advert("a", 1, 60), source(), true),
            Change::Appeared
        );
        let forged = advert("a", u64::MAX, 0);
        assert_eq!(
            table.apply(forged, source(), false),
            Change::Unauthenticated
        );
        assert_eq!(
            table.apply(advert("a", 50, 60), source(), false),
            Change::Unauthenticated
        );
        assert!(table.neighbours()[0].authenticated);
        // An authenticated sender is not shut out by what an unauthenticated
        // one claimed under its name.
        table.apply(advert("b", u64::MAX - 1, 60), source(), false);
        assert_eq!(
            table.apply(advert("b", 1, 60), source(), true),
            Change::Refreshed
        );
        // A table full of authenticated neighbours keeps them.
        for i in 0..MAX_NEIGHBOURS - 2 {
            table.apply(advert(&format!("k{i}"), 1, 60), source_of(i), true);
        }
        assert_eq!(
            table.apply(advert("new", 1, 60), source_of(MAX_NEIGHBOURS), false),
            Change::Full
        );
        assert_eq!(
            table.apply(advert("new", 1, 60), source_of(MAX_NEIGHBOURS), true),
            Change::Appeared
        );
        assert_eq!(table.neighbours().len(), MAX_NEIGHBOURS);
    }

    #[test]
    fn a_flood_of_forged_identities_does_not_lock_real_peers_out() {
        let (mut table, clock) = table();
        let peers = ["p1", "p2", "p3"];
        let mut sequence = 0;
        let mut forged = 0;
        // Forgeries from a few sources and from many, between the real
        // peers' adverts (every interval of 1 s).
        for round in 0..20 {
            sequence += 1;
            for (i, peer) in peers.iter().enumerate() {
                table.apply(advert(peer, sequence, 5), source_of(i), false);
            }
            for _ in 0..1_000 {
                let from = if round % 2 == 0 {
                    source()
                } else {
                    source_of(100 + forged % 2_000)
                };
                table.apply(advert(&format!("forged{forged}"), 1, u16::MAX), from, false);
                forged += 1;
            }
            clock.advance(Duration::from_secs(1));
            let shown = identities(&table);
            for peer in peers {
                assert!(shown.contains(&peer.to_owned()), "{peer} in round {round}");
            }
            assert!(shown.len() <= MAX_NEIGHBOURS);
        }
        assert_eq!(forged, 20_000);
        // A real peer that appears during the flood gets in at its second
        // advert, and stays.
        for sequence in 1..=3 {
            table.apply(advert("late", sequence, 5), source_of(50), false);
            for _ in 0..2_000 {
                let from = source_of(100 + forged % 2_000);
                table.apply(advert(&format!("forged{forged}"), 1, u16::MAX), from, false);
                forged += 1;
            }
        }
        assert!(identities(&table).contains(&"late".to_owned()));
    }

    #[test]
    fn a_neighbour_serialises_for_the_control_surface() {
        let (mut table, clock) = table();
        table.apply(advert("a", 1, 10), source(), false);
        clock.advance(Duration::from_millis(2_500));
        let json = serde_json::to_value(&table.neighbours()[0]).unwrap();
        assert_eq!(json["identity"], "a");
        assert_eq!(json["ttl_s"], 10);
        assert_eq!(json["expires_in_s"], 8);
        assert_eq!(json["source"], "127.0.0.1:40000");
        assert_eq!(json["control"], "127.0.0.1:8080");
        assert_eq!(json["classes"], serde_json::json!(["0x00000a01"]));
        assert_eq!(json["candidates"][0]["proto"], "tcp");
        assert!(json["first_seen_ms"].as_u64().unwrap() > 0);
    }

    fn options() -> AdvertOptions {
        AdvertOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            peers: vec![],
            interval: Duration::from_secs(1),
            ttl: Duration::from_secs(3),
            passphrase: None,
        }
    }

    #[test]
    fn options_are_checked() {
        let check = |change: fn(&mut AdvertOptions)| {
            let mut o = options();
            change(&mut o);
            validate(&o)
        };
        assert_eq!(check(|_| {}).unwrap(), 3);
        assert_eq!(
            check(|o| o.ttl = Duration::from_millis(2_100)).unwrap(),
            3,
            "rounded up"
        );
        assert!(matches!(
            check(|o| o.interval = Duration::ZERO),
            Err(AdvertsError::ZeroInterval)
        ));
        assert!(matches!(
            check(|o| o.ttl = Duration::from_secs(1)),
            Err(AdvertsError::TtlNotAboveInterval { .. })
        ));
        assert!(matches!(
            check(|o| o.ttl = Duration::from_secs(65_536)),
            Err(AdvertsError::TtlRange(_))
        ));
        assert!(matches!(
            check(|o| o.ttl = Duration::MAX),
            Err(AdvertsError::TtlRange(Duration::MAX))
        ));
        assert!(matches!(
            check(|o| o.listen = "127.0.0.1:80".parse().unwrap()),
            Err(AdvertsError::PrivilegedPort(80))
        ));
        assert!(matches!(
            check(|o| o.peers = vec!["127.0.0.1:0".parse().unwrap()]),
            Err(AdvertsError::PeerPortZero(_))
        ));
    }

    #[test]
    fn the_passphrase_does_not_show_in_debug() {
        let keyed = AdvertOptions {
            passphrase: Some("correct horse".into()),
            ..options()
        };
        let shown = format!("{keyed:?}");
        assert!(!shown.contains("correct horse"), "{shown}");
        assert!(shown.contains("keyed: true"), "{shown}");
    }

    #[test]
    fn start_refuses_an_advert_that_cannot_be_encoded_and_an_empty_passphrase() {
        let nameless = || advert("", 0, 0);
        assert!(matches!(
            Adverts::start(options(), nameless),
            Err(AdvertsError::Content(AdvertError::IdentityLength {
                len: 0
            }))
        ));
        let empty = AdvertOptions {
            passphrase: Some(String::new()),
            ..options()
        };
        assert!(matches!(
            Adverts::start(empty, || advert("a", 0, 0)),
            Err(AdvertsError::EmptyPassphrase)
        ));
    }
}
