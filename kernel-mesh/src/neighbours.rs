//! The neighbour table, and the service that sends this kernel's adverts to
//! its peers and fills the table from theirs.
//!
//! A neighbour is known by the identity in its adverts. It stays until its
//! last advert's TTL runs out, or leaves at once when it sends a TTL of 0.
//! Each sender numbers its adverts; anything not above the last number
//! accepted from it is ignored, even shortly after it left, so a late or
//! replayed advert does not bring a departed neighbour back. A sender draws
//! its first number from the wall clock, so a kernel that restarts is seen
//! again at once.

use std::collections::HashMap;
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

/// The most neighbours a table holds; adverts from further identities are
/// ignored, so a flood of forged identities cannot exhaust memory.
pub const MAX_NEIGHBOURS: usize = 1024;
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
    /// A new identity while the table holds [`MAX_NEIGHBOURS`]: ignored.
    Full,
}

#[derive(Debug)]
struct Entry {
    advert: Advert,
    source: SocketAddr,
    first_seen: Duration,
    last_seen: Duration,
    expires: Duration,
}

/// The last sequence number of a neighbour that left or expired.
#[derive(Debug, Clone, Copy)]
struct Departed {
    sequence: u64,
    at: Duration,
}

/// Neighbours by identity; expired entries are never shown and are removed
/// by [`NeighbourTable::prune`] (and by the next advert from them).
pub struct NeighbourTable {
    clock: Box<dyn Clock>,
    /// Unix time in milliseconds at the clock's zero, for wall-clock times.
    epoch_ms: u64,
    live: HashMap<String, Entry>,
    departed: HashMap<String, Departed>,
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
    pub fn new(clock: impl Clock) -> Self {
        let elapsed = u64::try_from(clock.now().as_millis()).unwrap_or(u64::MAX);
        NeighbourTable {
            epoch_ms: unix_millis().saturating_sub(elapsed),
            clock: Box::new(clock),
            live: HashMap::new(),
            departed: HashMap::new(),
        }
    }

    /// Takes in an advert that came from `source`.
    pub fn apply(&mut self, advert: Advert, source: SocketAddr) -> Change {
        let now = self.clock.now();
        self.forget_departed(now);
        if let Some(entry) = self.live.get(&advert.identity)
            && entry.expires <= now
        {
            let sequence = entry.advert.sequence;
            self.depart(advert.identity.clone(), sequence, now);
        }
        let last = match self.live.get(&advert.identity) {
            Some(entry) => Some(entry.advert.sequence),
            None => self.departed.get(&advert.identity).map(|d| d.sequence),
        };
        if last.is_some_and(|last| advert.sequence <= last) {
            return Change::Stale;
        }
        if advert.ttl_s == 0 {
            let was_live = self.live.contains_key(&advert.identity);
            self.depart(advert.identity, advert.sequence, now);
            return if was_live {
                Change::Left
            } else {
                Change::Unknown
            };
        }
        let expires = now.saturating_add(Duration::from_secs(u64::from(advert.ttl_s)));
        if let Some(entry) = self.live.get_mut(&advert.identity) {
            entry.advert = advert;
            entry.source = source;
            entry.last_seen = now;
            entry.expires = expires;
            return Change::Refreshed;
        }
        if self.live.len() >= MAX_NEIGHBOURS {
            return Change::Full;
        }
        self.departed.remove(&advert.identity);
        self.live.insert(
            advert.identity.clone(),
            Entry {
                advert,
                source,
                first_seen: now,
                last_seen: now,
                expires,
            },
        );
        Change::Appeared
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
            })
            .collect();
        out.sort_by(|a, b| a.advert.identity.cmp(&b.advert.identity));
        out
    }

    /// Removes the neighbours whose TTL ran out; returns their identities.
    pub fn prune(&mut self) -> Vec<String> {
        let now = self.clock.now();
        self.forget_departed(now);
        let expired: Vec<(String, u64)> = self
            .live
            .iter()
            .filter(|(_, e)| e.expires <= now)
            .map(|(id, e)| (id.clone(), e.advert.sequence))
            .collect();
        let mut gone = Vec::with_capacity(expired.len());
        for (identity, sequence) in expired {
            self.depart(identity.clone(), sequence, now);
            gone.push(identity);
        }
        gone.sort();
        gone
    }

    /// Removes `identity` if live and remembers its last sequence number.
    fn depart(&mut self, identity: String, sequence: u64, now: Duration) {
        self.live.remove(&identity);
        if self.departed.len() >= MAX_DEPARTED && !self.departed.contains_key(&identity) {
            let oldest = self
                .departed
                .iter()
                .min_by_key(|(_, d)| d.at)
                .map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                self.departed.remove(&oldest);
            }
        }
        self.departed
            .insert(identity, Departed { sequence, at: now });
    }

    fn forget_departed(&mut self, now: Duration) {
        self.departed
            .retain(|_, d| now.saturating_sub(d.at) < REMEMBER_DEPARTED);
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

/// How the advert service runs; the passphrase never shows in `Debug`.
#[derive(Clone)]
pub struct AdvertOptions {
    /// Where to receive peers' adverts (port 0 for any free port, else 1024 or above).
    pub listen: SocketAddr,
    /// Where to send this kernel's adverts.
    pub peers: Vec<SocketAddr>,
    /// How often to send them.
    pub interval: Duration,
    /// How long peers keep them: more than `interval`, 1 to 65535 seconds
    /// (sent in whole seconds, rounded up).
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
    #[error("the advert interval must be above zero")]
    ZeroInterval,
    #[error("the advert TTL ({0:?}) must be between 1 s and 65535 s")]
    TtlRange(Duration),
    #[error("the advert TTL ({ttl:?}) must exceed the interval ({interval:?})")]
    TtlNotAboveInterval { ttl: Duration, interval: Duration },
    #[error("refusing to listen for adverts on port {0}: ports below 1024 are privileged")]
    PrivilegedPort(u16),
    #[error("cannot send adverts to {0}: port 0")]
    PeerPortZero(SocketAddr),
    #[error("the advert passphrase is empty")]
    EmptyPassphrase,
    #[error("this kernel's advert cannot be encoded: {0}")]
    Content(#[from] AdvertError),
    #[error("cannot listen for adverts on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
    #[error("cannot set up the advert socket: {0}")]
    Socket(io::Error),
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

    /// How many datagrams were refused (malformed, or without a valid tag).
    pub fn refused(&self) -> u64 {
        self.shared.refused.load(Ordering::Relaxed)
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
        .filter(|s| *s > 0)
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
        for identity in lock(&shared.table).prune() {
            tracing::info!(%identity, "neighbour expired");
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
    for gone in table.prune() {
        tracing::info!(identity = %gone, "neighbour expired");
    }
    match table.apply(advert, from) {
        Change::Appeared => tracing::info!(%identity, %from, "neighbour appeared"),
        Change::Left => tracing::info!(%identity, %from, "neighbour left"),
        Change::Refreshed | Change::Unknown => {}
        Change::Stale => tracing::debug!(%identity, %from, "stale advert ignored"),
        Change::Full => tracing::debug!(%identity, %from, "neighbour table full"),
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
        assert_eq!(table.apply(advert("a", 1, 10), source()), Change::Appeared);
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
        table.apply(advert("a", 1, 10), source());
        clock.advance(Duration::from_secs(8));
        let other: SocketAddr = "127.0.0.1:40001".parse().unwrap();
        assert_eq!(table.apply(advert("a", 2, 10), other), Change::Refreshed);
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
        table.apply(advert("a", 5, 10), source());
        clock.advance(Duration::from_secs(5));
        assert_eq!(table.apply(advert("a", 5, 60), source()), Change::Stale);
        assert_eq!(table.apply(advert("a", 4, 60), source()), Change::Stale);
        let shown = table.neighbours();
        assert_eq!(shown[0].advert.sequence, 5);
        assert_eq!(shown[0].expires_in_s, 5, "a stale advert renews nothing");
    }

    #[test]
    fn ttl_zero_removes_a_neighbour_at_once_and_late_adverts_do_not_revive_it() {
        let (mut table, clock) = table();
        table.apply(advert("a", 1, 60), source());
        table.apply(advert("b", 1, 60), source());
        assert_eq!(table.apply(advert("a", 3, 0), source()), Change::Left);
        assert_eq!(identities(&table), ["b"]);
        // An advert sent before the goodbye but arriving after it.
        assert_eq!(table.apply(advert("a", 2, 60), source()), Change::Stale);
        assert_eq!(identities(&table), ["b"]);
        clock.advance(Duration::from_secs(1));
        // The same kernel started again: a higher number.
        assert_eq!(table.apply(advert("a", 4, 60), source()), Change::Appeared);
        assert_eq!(identities(&table), ["a", "b"]);
        assert_eq!(table.apply(advert("c", 1, 0), source()), Change::Unknown);
        assert_eq!(identities(&table), ["a", "b"]);
    }

    #[test]
    fn departed_sequence_numbers_are_forgotten_after_a_while() {
        let (mut table, clock) = table();
        table.apply(advert("a", 9, 60), source());
        table.apply(advert("a", 10, 0), source());
        clock.advance(REMEMBER_DEPARTED);
        // A kernel whose wall clock went back is not shut out for ever.
        assert_eq!(table.apply(advert("a", 1, 60), source()), Change::Appeared);
    }

    #[test]
    fn an_expired_neighbour_that_adverts_again_appears_anew() {
        let (mut table, clock) = table();
        table.apply(advert("a", 1, 1), source());
        clock.advance(Duration::from_secs(2));
        assert_eq!(table.apply(advert("a", 1, 10), source()), Change::Stale);
        assert_eq!(table.apply(advert("a", 2, 10), source()), Change::Appeared);
        let shown = table.neighbours();
        assert_eq!(shown[0].first_seen_ms, shown[0].last_seen_ms);
    }

    #[test]
    fn the_table_holds_at_most_max_neighbours() {
        let (mut table, _clock) = table();
        for i in 0..MAX_NEIGHBOURS {
            assert_eq!(
                table.apply(advert(&format!("k{i}"), 1, 60), source()),
                Change::Appeared
            );
        }
        assert_eq!(
            table.apply(advert("one more", 1, 60), source()),
            Change::Full
        );
        assert_eq!(table.neighbours().len(), MAX_NEIGHBOURS);
        assert_eq!(
            table.apply(advert("k0", 2, 60), source()),
            Change::Refreshed
        );
    }

    #[test]
    fn a_neighbour_serialises_for_the_control_surface() {
        let (mut table, clock) = table();
        table.apply(advert("a", 1, 10), source());
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
