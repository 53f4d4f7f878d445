//! The beacon: listeners a probe can find and verify, and the primary port
//! where the probe reports what it found.
//!
//! The beacon listens over TCP and UDP on its primary address and on every
//! port of an optional range on the same ip, skipping ports in use (and
//! ports below 1024, which it never binds). Every listener answers the
//! [`handshake`]. On the primary's TCP port, an authenticated probe may then
//! send its report frames and a done notice; the beacon stores the results,
//! saves the candidates to the [`cache`] and answers with an authenticated
//! terminate. The listeners run on one thread with a current-thread tokio
//! runtime; [`Beacon::stop`] or dropping the beacon ends it.
//!
//! ```no_run
//! # fn demo() -> Result<(), kernel_mesh::NetError> {
//! use kernel_mesh::beacon::{Beacon, BeaconOptions};
//! use kernel_mesh::ports::PortRange;
//! let options = BeaconOptions::new("127.0.0.1:7400".parse().unwrap(), "passphrase", "state")
//!     .range(PortRange::new(7401, 7410)?);
//! let beacon = Beacon::start(options)?;
//! if let Some(report) = beacon.wait_complete(std::time::Duration::from_secs(60)) {
//!     println!("{} candidates", report.candidates.len());
//! }
//! # Ok(()) }
//! ```

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::{SocketAddr, TcpListener as StdTcpListener, UdpSocket as StdUdpSocket};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{Notify, Semaphore};
use tracing::{debug, error, info, warn};

use crate::cache::{self, Cached};
use crate::candidate::{Candidate, Proto};
use crate::error::NetError;
use crate::frame::{self, Frame, FrameError, MAX_FRAME, Refusal};
use crate::handshake::{self, BeaconAuth, HandshakeError, Role, SessionId, Transcript};
use crate::ports::{self, FIRST_UNPRIVILEGED, PortRange};
use crate::report::{Results, ResultsDecoder, RowSummary};
use kernel_hostess::clock::unix_millis;

/// Time for each frame of a handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Time between report frames on the primary port.
pub const REPORT_TIMEOUT: Duration = Duration::from_secs(30);
/// Most report frames in one report (64 MiB at most).
pub const MAX_REPORTS: u32 = 1024;
/// Most TCP connections served at once; more are dropped on accept.
pub const MAX_CONNECTIONS: usize = 256;
/// Most UDP exchanges waiting for a proof, per socket; the oldest gives way.
pub const MAX_PENDING: usize = 1024;
/// How long a UDP exchange waits for the probe's proof.
pub const PENDING_TTL: Duration = Duration::from_secs(10);
/// Tries to find a port free for both TCP and UDP when the primary is `:0`.
const PRIMARY_TRIES: usize = 16;

/// Where and how a beacon listens; the passphrase never shows in `Debug`.
#[derive(Clone)]
pub struct BeaconOptions {
    primary: SocketAddr,
    range: Option<PortRange>,
    passphrase: String,
    state_dir: PathBuf,
    sessions: Option<HashSet<SessionId>>,
}

impl std::fmt::Debug for BeaconOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BeaconOptions")
            .field("primary", &self.primary)
            .field("range", &self.range)
            .field("state_dir", &self.state_dir)
            .field("sessions", &self.sessions)
            .finish_non_exhaustive()
    }
}

impl BeaconOptions {
    /// Listens on `primary` (port 0: a free port, the same for TCP and UDP)
    /// and keeps its cache in `state_dir`.
    pub fn new(
        primary: SocketAddr,
        passphrase: impl Into<String>,
        state_dir: impl Into<PathBuf>,
    ) -> Self {
        BeaconOptions {
            primary,
            range: None,
            passphrase: passphrase.into(),
            state_dir: state_dir.into(),
            sessions: None,
        }
    }

    /// Also listens on every free unprivileged port of `range`.
    pub fn range(mut self, range: PortRange) -> Self {
        self.range = Some(range);
        self
    }

    /// Accepts only these probe sessions (default: any).
    pub fn sessions(mut self, sessions: impl IntoIterator<Item = SessionId>) -> Self {
        self.sessions = Some(sessions.into_iter().collect());
        self
    }
}

/// A listening socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Listener {
    /// TCP or UDP.
    pub proto: Proto,
    /// The address it is bound to.
    pub addr: SocketAddr,
}

/// Ports of the range the beacon did not bind, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// TCP or UDP.
    pub proto: Proto,
    /// The first port skipped.
    pub first: u16,
    /// The last port skipped (inclusive).
    pub last: u16,
    /// Why (privileged, in use, ...).
    pub reason: String,
}

/// The last report a probe sent (or is sending).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportStatus {
    /// The probe session it belongs to.
    pub session: SessionId,
    /// Where the probe reported from.
    pub peer: SocketAddr,
    /// When the report began, milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    /// When it completed, milliseconds since the Unix epoch.
    pub completed_at_ms: Option<u64>,
    /// True once the probe sent its last item and the beacon terminated.
    pub completed: bool,
    /// Best first.
    pub candidates: Vec<Candidate>,
    /// One summary per scanned address and transport.
    pub matrix: Vec<RowSummary>,
}

/// What the beacon knows, for the control surface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeStatus {
    /// The beacon's primary address, where probes report.
    pub primary: SocketAddr,
    /// Every listening socket of the beacon.
    pub listeners: Vec<Listener>,
    /// The ports of its ranges it could not listen on.
    pub skipped: Vec<Skipped>,
    /// The verified candidates, best first: from the last completed report,
    /// or from the cache until one completes.
    pub candidates: Vec<Candidate>,
    /// When those candidates were saved.
    pub candidates_saved_at_ms: Option<u64>,
    /// The last report a probe sent, if any.
    pub report: Option<ReportStatus>,
}

#[derive(Default)]
struct State {
    candidates: Vec<Candidate>,
    saved_at_ms: Option<u64>,
    report: Option<ReportStatus>,
}

/// What the listeners share.
struct Context {
    auth: BeaconAuth,
    state_dir: PathBuf,
    state: Mutex<State>,
    completed: Condvar,
    connections: Arc<Semaphore>,
}

impl Context {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running beacon; see the module documentation.
pub struct Beacon {
    primary: SocketAddr,
    listeners: Vec<Listener>,
    skipped: Vec<Skipped>,
    context: Arc<Context>,
    stop: Arc<Notify>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Beacon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Beacon")
            .field("primary", &self.primary)
            .field("listeners", &self.listeners.len())
            .finish_non_exhaustive()
    }
}

/// TCP and UDP on the same primary port.
fn bind_primary(addr: SocketAddr) -> Result<(StdTcpListener, StdUdpSocket), NetError> {
    let mut tries = if addr.port() == 0 { PRIMARY_TRIES } else { 1 };
    loop {
        let tcp = StdTcpListener::bind(addr)
            .map_err(NetError::io(format!("beacon primary tcp {addr}")))?;
        let bound = tcp
            .local_addr()
            .map_err(NetError::io(format!("beacon primary tcp {addr}")))?;
        if bound.port() < FIRST_UNPRIVILEGED {
            return Err(NetError::Privileged { addr: bound });
        }
        match StdUdpSocket::bind(bound) {
            Ok(udp) => return Ok((tcp, udp)),
            // A free TCP port the system chose may be taken over UDP: another.
            Err(_) if tries > 1 => tries -= 1,
            Err(e) => return Err(NetError::io(format!("beacon primary udp {bound}"))(e)),
        }
    }
}

/// The sockets of `range` on `ip`, and the ports skipped.
#[derive(Default)]
struct RangeSockets {
    tcp: Vec<StdTcpListener>,
    udp: Vec<StdUdpSocket>,
    skipped: Vec<Skipped>,
}

fn bind_range(ip: std::net::IpAddr, range: PortRange, primary: u16) -> RangeSockets {
    let mut out = RangeSockets::default();
    let mut tcp_skipped = Vec::new();
    let mut udp_skipped = Vec::new();
    let reason = |e: &io::Error| match e.kind() {
        io::ErrorKind::AddrInUse => "in use".to_owned(),
        _ => e.to_string(),
    };
    for port in range.ports().filter(|p| *p != primary) {
        if port < FIRST_UNPRIVILEGED {
            tcp_skipped.push((port, "privileged".to_owned()));
            udp_skipped.push((port, "privileged".to_owned()));
            continue;
        }
        let addr = SocketAddr::new(ip, port);
        match StdTcpListener::bind(addr) {
            Ok(l) => out.tcp.push(l),
            Err(e) => tcp_skipped.push((port, reason(&e))),
        }
        match StdUdpSocket::bind(addr) {
            Ok(s) => out.udp.push(s),
            Err(e) => udp_skipped.push((port, reason(&e))),
        }
    }
    for (proto, skipped) in [(Proto::Tcp, tcp_skipped), (Proto::Udp, udp_skipped)] {
        for (first, last, reason) in ports::runs(skipped) {
            info!(%proto, %ip, first, last, %reason, "beacon skips ports");
            out.skipped.push(Skipped {
                proto,
                first,
                last,
                reason,
            });
        }
    }
    out
}

impl Beacon {
    /// Binds the listeners, draws a salt and derives the key, loads the
    /// cache, and starts serving on a thread of its own.
    pub fn start(options: BeaconOptions) -> Result<Beacon, NetError> {
        let BeaconOptions {
            primary,
            range,
            passphrase,
            state_dir,
            sessions,
        } = options;
        if primary.port() != 0 && primary.port() < FIRST_UNPRIVILEGED {
            return Err(NetError::Privileged { addr: primary });
        }
        let (tcp, udp) = bind_primary(primary)?;
        let primary = tcp
            .local_addr()
            .map_err(NetError::io(format!("beacon primary {primary}")))?;
        let range = range
            .map(|r| bind_range(primary.ip(), r, primary.port()))
            .unwrap_or_default();

        let auth = BeaconAuth::new(&passphrase, sessions)?;
        let mut state = State::default();
        if let Some(cached) = cache::load(&state_dir) {
            info!(
                candidates = cached.candidates.len(),
                "beacon loaded the candidate cache"
            );
            state.candidates = cached.candidates;
            state.saved_at_ms = Some(cached.saved_at_ms);
        }
        let context = Arc::new(Context {
            auth,
            state_dir,
            state: Mutex::new(state),
            completed: Condvar::new(),
            connections: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
        });

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(NetError::io("starting the beacon's runtime"))?;
        let mut listeners = Vec::new();
        {
            // Registering the sockets needs the runtime's reactor.
            let _enter = runtime.enter();
            let tcp_all =
                std::iter::once((tcp, true)).chain(range.tcp.into_iter().map(|l| (l, false)));
            for (listener, is_primary) in tcp_all {
                let addr = listener
                    .local_addr()
                    .map_err(NetError::io("beacon listener"))?;
                listener
                    .set_nonblocking(true)
                    .map_err(NetError::io(format!("beacon tcp {addr}")))?;
                let listener = TcpListener::from_std(listener)
                    .map_err(NetError::io(format!("beacon tcp {addr}")))?;
                runtime.spawn(serve_tcp(listener, context.clone(), is_primary));
                listeners.push(Listener {
                    proto: Proto::Tcp,
                    addr,
                });
            }
            for socket in std::iter::once(udp).chain(range.udp) {
                let addr = socket
                    .local_addr()
                    .map_err(NetError::io("beacon listener"))?;
                socket
                    .set_nonblocking(true)
                    .map_err(NetError::io(format!("beacon udp {addr}")))?;
                let socket = UdpSocket::from_std(socket)
                    .map_err(NetError::io(format!("beacon udp {addr}")))?;
                runtime.spawn(serve_udp(socket, context.clone()));
                listeners.push(Listener {
                    proto: Proto::Udp,
                    addr,
                });
            }
        }
        info!(%primary, listeners = listeners.len(), "beacon listening");

        let stop = Arc::new(Notify::new());
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("beacon".to_owned())
            .spawn(move || {
                runtime.block_on(stopped.notified());
                // Dropping the runtime cancels every listener and connection.
                drop(runtime);
            })
            .map_err(NetError::io("starting the beacon's thread"))?;
        Ok(Beacon {
            primary,
            listeners,
            skipped: range.skipped,
            context,
            stop,
            thread: Some(thread),
        })
    }

    /// The primary address (with the port chosen when it was `:0`).
    pub fn primary_addr(&self) -> SocketAddr {
        self.primary
    }

    /// Every listening socket, the primary's first.
    pub fn listeners(&self) -> Vec<(Proto, SocketAddr)> {
        self.listeners.iter().map(|l| (l.proto, l.addr)).collect()
    }

    /// The verified candidates, best first (see [`ProbeStatus::candidates`]).
    pub fn candidates(&self) -> Vec<Candidate> {
        self.context.state().candidates.clone()
    }

    /// What the beacon knows now: listeners, candidates, the last report.
    pub fn status(&self) -> ProbeStatus {
        let state = self.context.state();
        ProbeStatus {
            primary: self.primary,
            listeners: self.listeners.clone(),
            skipped: self.skipped.clone(),
            candidates: state.candidates.clone(),
            candidates_saved_at_ms: state.saved_at_ms,
            report: state.report.clone(),
        }
    }

    /// Waits until a probe's report has completed (since this beacon
    /// started) and returns the last one; `None` after `timeout`.
    pub fn wait_complete(&self, timeout: Duration) -> Option<ReportStatus> {
        let state = self.context.state();
        let (state, _) = self
            .context
            .completed
            .wait_timeout_while(state, timeout, |s| {
                !s.report.as_ref().is_some_and(|r| r.completed)
            })
            .unwrap_or_else(PoisonError::into_inner);
        state.report.clone().filter(|r| r.completed)
    }

    /// Stops listening and joins the beacon's thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.stop.notify_one();
            if thread.join().is_err() {
                error!("the beacon's thread panicked");
            }
        }
    }
}

impl Drop for Beacon {
    fn drop(&mut self) {
        self.shutdown();
    }
}

async fn serve_tcp(listener: TcpListener, context: Arc<Context>, primary: bool) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // E.g. out of file descriptors: back off instead of spinning.
                warn!(error = %e, "beacon accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = context.connections.clone().try_acquire_owned() else {
            debug!(%peer, "beacon busy; connection dropped");
            continue;
        };
        let context = context.clone();
        tokio::spawn(async move {
            let _permit = permit;
            serve_connection(stream, peer, &context, primary).await;
        });
    }
}

fn log_refused(peer: SocketAddr, proto: Proto, e: &HandshakeError) {
    if e.is_auth_failure() {
        warn!(%peer, %proto, error = %e, "beacon refused a probe");
    } else {
        debug!(%peer, %proto, error = %e, "handshake failed");
    }
}

async fn serve_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    context: &Context,
    primary: bool,
) {
    let transcript = match handshake::accept(&mut stream, &context.auth, HANDSHAKE_TIMEOUT).await {
        Ok(t) => t,
        Err(e) => return log_refused(peer, Proto::Tcp, &e),
    };
    if !primary {
        return;
    }
    if let Err((refusal, message)) = receive_report(&mut stream, peer, &transcript, context).await {
        warn!(%peer, %message, "beacon refused a report");
        if let Some(refusal) = refusal
            && let Err(e) =
                frame::write(&mut stream, &Frame::Refused(refusal), HANDSHAKE_TIMEOUT).await
        {
            debug!(%peer, error = %e, "could not tell the probe why");
        }
    }
}

/// Reads report frames until the done notice, stores the results and
/// sends the terminate. A connection that ends before any report only
/// verified the primary port. Errors carry what to tell the probe.
async fn receive_report(
    stream: &mut TcpStream,
    peer: SocketAddr,
    transcript: &Transcript,
    context: &Context,
) -> Result<(), (Option<Refusal>, String)> {
    let key = context.auth.key();
    let bad = |message: String| (Some(Refusal::BadReport), message);
    let mut results = ResultsDecoder::default();
    let mut received: u32 = 0;
    let started_at_ms = unix_millis();
    loop {
        let frame = match frame::read(stream, REPORT_TIMEOUT).await {
            Ok(frame) => frame,
            Err(FrameError::Closed) if received == 0 => return Ok(()),
            Err(e) => return Err((Some(Refusal::Unexpected), e.to_string())),
        };
        match frame {
            Frame::Report { seq, tag, body } => {
                if seq != received || received >= MAX_REPORTS {
                    return Err(bad(format!(
                        "report {seq} out of order or beyond {MAX_REPORTS}"
                    )));
                }
                if !transcript.verify(key, Role::Report, &[&seq.to_be_bytes(), &body], &tag) {
                    return Err(bad(format!("report {seq}: bad tag")));
                }
                results
                    .add_body(&body)
                    .map_err(|e| bad(format!("report {seq}: {e}")))?;
                if received == 0 {
                    context.state().report = Some(ReportStatus {
                        session: transcript.session,
                        peer,
                        started_at_ms,
                        completed_at_ms: None,
                        completed: false,
                        candidates: Vec::new(),
                        matrix: Vec::new(),
                    });
                }
                received += 1;
            }
            Frame::Done { reports, tag } => {
                if !transcript.verify(key, Role::Done, &[&reports.to_be_bytes()], &tag) {
                    return Err(bad("done: bad tag".to_owned()));
                }
                if reports != received {
                    return Err(bad(format!(
                        "done after {received} reports, but the probe sent {reports}"
                    )));
                }
                let results = results.finish();
                complete(context, transcript.session, peer, started_at_ms, &results);
                let terminate = Frame::Terminate {
                    tag: transcript.tag(key, Role::Terminate, &[]),
                };
                return frame::write(stream, &terminate, HANDSHAKE_TIMEOUT)
                    .await
                    .map_err(|e| (None, format!("sending the terminate: {e}")));
            }
            other => {
                return Err((
                    Some(Refusal::Unexpected),
                    format!("a {} frame in a report", other.name()),
                ));
            }
        }
    }
}

/// Stores a completed report and saves its candidates to the cache.
fn complete(
    context: &Context,
    session: SessionId,
    peer: SocketAddr,
    started_at_ms: u64,
    results: &Results,
) {
    let now = unix_millis();
    let cached = Cached {
        saved_at_ms: now,
        candidates: results.candidates.clone(),
    };
    if let Err(e) = cache::save(&context.state_dir, &cached) {
        warn!(error = %e, "beacon could not save the candidate cache");
    }
    info!(%session, %peer, candidates = results.candidates.len(), "probe report complete");
    let mut state = context.state();
    state.candidates = results.candidates.clone();
    state.saved_at_ms = Some(now);
    state.report = Some(ReportStatus {
        session,
        peer,
        started_at_ms,
        completed_at_ms: Some(now),
        completed: true,
        candidates: results.candidates.clone(),
        matrix: results.matrix.iter().map(RowSummary::from).collect(),
    });
    context.completed.notify_all();
}

/// UDP exchanges waiting for the probe's proof, bounded and expiring.
#[derive(Default)]
struct Pending(HashMap<SocketAddr, (Transcript, Instant)>);

impl Pending {
    fn insert(&mut self, peer: SocketAddr, transcript: Transcript, now: Instant) {
        if self.0.len() >= MAX_PENDING {
            self.0
                .retain(|_, (_, at)| now.duration_since(*at) < PENDING_TTL);
        }
        if self.0.len() >= MAX_PENDING
            && let Some(oldest) = self
                .0
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(peer, _)| *peer)
        {
            self.0.remove(&oldest);
        }
        self.0.insert(peer, (transcript, now));
    }

    /// The exchange with `peer`, once: a proof is checked at most once.
    fn take(&mut self, peer: SocketAddr, now: Instant) -> Option<Transcript> {
        let (transcript, at) = self.0.remove(&peer)?;
        (now.duration_since(at) < PENDING_TTL).then_some(transcript)
    }
}

async fn serve_udp(socket: UdpSocket, context: Arc<Context>) {
    let mut buf = vec![0u8; MAX_FRAME];
    let mut pending = Pending::default();
    loop {
        let (len, peer) = match socket.recv_from(&mut buf).await {
            Ok(received) => received,
            Err(e) => {
                debug!(error = %e, "beacon udp receive failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let Some(reply) = answer_datagram(
            buf.get(..len).unwrap_or_default(),
            peer,
            &context,
            &mut pending,
        ) else {
            continue;
        };
        match reply.encode() {
            Ok(bytes) => {
                if let Err(e) = socket.send_to(&bytes, peer).await {
                    debug!(%peer, error = %e, "beacon udp send failed");
                }
            }
            Err(e) => debug!(error = %e, "beacon udp reply not encodable"),
        }
    }
}

/// The reply to one datagram. Only the frames a probe sends (hello, proof)
/// are answered; malformed datagrams and any other frame get no reply, so
/// that one spoofed datagram cannot start two beacon sockets (or a beacon
/// and another peer that answers) replying to each other for ever.
fn answer_datagram(
    datagram: &[u8],
    peer: SocketAddr,
    context: &Context,
    pending: &mut Pending,
) -> Option<Frame> {
    let frame = match Frame::from_datagram(datagram) {
        Ok(frame) => frame,
        Err(e) => {
            debug!(%peer, error = %e, "malformed datagram ignored");
            return None;
        }
    };
    let now = Instant::now();
    Some(match frame {
        Frame::Hello { .. } => match context.auth.challenge(&frame) {
            Ok((transcript, challenge)) => {
                pending.insert(peer, transcript, now);
                challenge
            }
            Err(e) => {
                log_refused(peer, Proto::Udp, &e);
                Frame::Refused(e.refusal())
            }
        },
        Frame::Proof { .. } => match pending.take(peer, now) {
            Some(transcript) => match context.auth.check_proof(&transcript, &frame) {
                Ok(()) => Frame::Welcome,
                Err(e) => {
                    log_refused(peer, Proto::Udp, &e);
                    Frame::Refused(e.refusal())
                }
            },
            None => {
                debug!(%peer, "udp proof without a pending challenge");
                Frame::Refused(Refusal::Unexpected)
            }
        },
        other => {
            debug!(%peer, frame = other.name(), "unexpected udp frame ignored");
            return None;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::test_keys::{KEY, SALT};
    use crate::handshake::Opening;

    fn transcript(n: u8) -> Transcript {
        Transcript {
            session: SessionId::from_bytes([n; 16]),
            nonce_p: [n; 32],
            nonce_b: [n; 32],
        }
    }

    fn peer(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn pending_exchanges_are_bounded_taken_once_and_expire() {
        let mut pending = Pending::default();
        let start = Instant::now();
        for i in 0..(MAX_PENDING + 10) {
            let port = u16::try_from(2000 + i).unwrap();
            let at = start + Duration::from_millis(u64::try_from(i).unwrap());
            pending.insert(peer(port), transcript(1), at);
        }
        assert_eq!(pending.0.len(), MAX_PENDING);
        // The oldest gave way to the newest.
        assert!(pending.take(peer(2000), start).is_none());
        let newest = peer(u16::try_from(2000 + MAX_PENDING + 9).unwrap());
        assert!(pending.take(newest, start).is_some());
        assert!(pending.take(newest, start).is_none(), "taken once");

        pending.insert(peer(9), transcript(2), start);
        assert!(
            pending.take(peer(9), start + PENDING_TTL).is_none(),
            "expired"
        );
    }

    #[test]
    fn only_the_frames_a_probe_sends_get_a_udp_reply() {
        let context = Context {
            auth: BeaconAuth::with_key(KEY.clone(), SALT, None),
            state_dir: PathBuf::new(),
            state: Mutex::default(),
            completed: Condvar::new(),
            connections: Arc::new(Semaphore::new(1)),
        };
        let mut pending = Pending::default();
        let mut answer = |frame: &Frame| {
            answer_datagram(&frame.encode().unwrap(), peer(4000), &context, &mut pending)
        };
        // A beacon's own replies among them: two beacon sockets, or a beacon
        // and itself, must not answer each other for ever.
        let never_answered = [
            Frame::Challenge {
                salt: SALT,
                nonce: [1; 32],
                tag: [2; 32],
            },
            Frame::Welcome,
            Frame::Refused(Refusal::Unexpected),
            Frame::Refused(Refusal::BadProof),
            Frame::Report {
                seq: 0,
                tag: [3; 32],
                body: vec![],
            },
            Frame::Done {
                reports: 0,
                tag: [4; 32],
            },
            Frame::Terminate { tag: [5; 32] },
        ];
        for frame in &never_answered {
            assert_eq!(answer(frame), None, "{frame:?}");
        }
        let proof = Frame::Proof { tag: [6; 32] };
        assert_eq!(answer(&proof), Some(Frame::Refused(Refusal::Unexpected)));
        let hello = Opening::new(SessionId::from_bytes([7; 16]))
            .unwrap()
            .hello();
        assert!(matches!(answer(&hello), Some(Frame::Challenge { salt, .. }) if salt == SALT));
        assert_eq!(answer(&proof), Some(Frame::Refused(Refusal::BadProof)));
    }
}
