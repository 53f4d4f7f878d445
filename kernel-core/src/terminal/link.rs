//! The kernel's side of one terminal of one server instance: the pipe ends
//! it holds now, and how the kernel tells a running terminal that they
//! changed.
//!
//! The data plane never takes a lock per message: a terminal compares the
//! link's `epoch` (one relaxed atomic load) with the epoch it last saw, and
//! only when they differ locks the link to pick up its new pipe ends, pause
//! flags and requests. A terminal that waits (empty input, full output,
//! nothing connected) sleeps on the link's waker, which its pipes' peers
//! wake and the kernel rings after every change, so no wait outlives a
//! change.
//!
//! The link also holds what outlives one run of the server: messages a send
//! could not deliver because the kernel asked the server to restart or stop
//! (delivered first by the next run, or counted as dropped when the
//! instance ends for good), and what the terminal waits on right now.

use std::any::TypeId;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

use uuid::Uuid;

use crate::connectome::PipeSpec;
use crate::manifest::TerminalKind;
use crate::pipe::wake::Waker;
use crate::pipe::{ErasedEnd, ErasedPipe, Parcel, PipeStats};

/// What the kernel asks of one server instance besides the kernel-wide stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Request {
    None = 0,
    /// End this run; the supervisor builds the server afresh.
    Restart = 1,
    /// End this run for good.
    Stop = 2,
}

/// Stop signals of one server instance: the kernel-wide flag and a request
/// for this instance only. [`Context::stopping`](crate::Context::stopping)
/// reads both.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    kernel: Arc<AtomicBool>,
    request: AtomicU8,
    /// A send of this run ended because of the request (its message kept
    /// by the kernel or handed back): an error the run returns then is the
    /// request's doing, not a failure of the server.
    interrupted: AtomicBool,
}

impl Signal {
    pub(crate) fn new(kernel: Arc<AtomicBool>) -> Self {
        Signal {
            kernel,
            request: AtomicU8::new(Request::None as u8),
            interrupted: AtomicBool::new(false),
        }
    }

    pub(crate) fn kernel_stopping(&self) -> bool {
        self.kernel.load(Ordering::Relaxed)
    }

    pub(crate) fn request(&self) -> Request {
        match self.request.load(Ordering::Acquire) {
            1 => Request::Restart,
            2 => Request::Stop,
            _ => Request::None,
        }
    }

    /// Sets `request` unless one is pending; false when one was.
    pub(crate) fn ask(&self, request: Request) -> bool {
        self.request
            .compare_exchange(
                Request::None as u8,
                request as u8,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    pub(crate) fn clear(&self) {
        self.request.store(Request::None as u8, Ordering::Release);
    }

    /// Notes that a send ended because of the pending request.
    pub(crate) fn interrupt(&self) {
        self.interrupted.store(true, Ordering::Release);
    }

    /// Whether a send of the run that just ended was interrupted; resets.
    pub(crate) fn take_interrupted(&self) -> bool {
        self.interrupted.swap(false, Ordering::AcqRel)
    }

    /// True when the server should end its run: kernel stop or a request.
    pub(crate) fn stopping(&self) -> bool {
        self.kernel_stopping() || self.request() != Request::None
    }
}

/// The message type and kind a terminal declared when it attached, so
/// that connections made at run time are checked by `TypeId`.
#[derive(Clone, Copy)]
pub(crate) struct TerminalType {
    pub(crate) kind: TerminalKind,
    pub(crate) type_id: TypeId,
    pub(crate) type_name: &'static str,
    /// Creates a pipe carrying this terminal's message type.
    pub(crate) make_pipe: fn(&'static PipeSpec) -> ErasedPipe,
}

impl std::fmt::Debug for TerminalType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TerminalType")
            .field("kind", &self.kind)
            .field("type_name", &self.type_name)
            .finish()
    }
}

/// What a link holds under its lock.
pub(crate) struct LinkState {
    /// The kernel's own copy of every pipe end of the terminal; every
    /// (re)started terminal gets clones.
    pub(crate) ends: Vec<Box<dyn ErasedEnd>>,
    /// The terminal lost a peer to a live disconnect and got no new one
    /// since: with no pipe left it waits for one instead of reporting end of
    /// stream (or failing to send).
    pub(crate) dormant: bool,
    pub(crate) ty: Option<TerminalType>,
    /// Messages a send could not deliver because the server was asked to
    /// restart or stop, oldest first; they go out before anything newer.
    pub(crate) stash: Vec<Stashed>,
    /// The counters of the last pipe a disconnect took from the terminal: a
    /// message that can go nowhere while the terminal waits for a new peer
    /// (the server is asked to end meanwhile) is counted there as dropped.
    pub(crate) lost_peer: Option<Arc<PipeStats>>,
}

/// One message the kernel keeps for one pipe of a terminal.
pub(crate) struct Stashed {
    pub(crate) pipe: Uuid,
    pub(crate) stats: Arc<PipeStats>,
    pub(crate) parcel: Parcel,
}

/// Why a terminal waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaitKind {
    /// An output (or a consumer of a multiplexer) is full.
    FullOutput,
    /// Every pipe of an input is empty (or paused).
    EmptyInput,
    /// The terminal lost its last peer to a live disconnect and waits for a
    /// new one.
    NoPeer,
}

impl WaitKind {
    /// The lowercase name used in APIs.
    pub const fn as_str(self) -> &'static str {
        match self {
            WaitKind::FullOutput => "full_output",
            WaitKind::EmptyInput => "empty_input",
            WaitKind::NoPeer => "no_peer",
        }
    }
}

/// The wall-clock time of `at`, an instant of the past.
pub(crate) fn wall_clock(at: Instant) -> SystemTime {
    SystemTime::now()
        .checked_sub(at.elapsed())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// What a terminal waits on, since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wait {
    pub(crate) kind: WaitKind,
    pub(crate) pipes: Vec<Uuid>,
    pub(crate) since: Instant,
    pub(crate) since_wall: SystemTime,
}

/// One terminal of one server instance, shared by the kernel and the
/// terminal field of every (re)started copy of the server.
pub(crate) struct Link {
    pub(crate) server: &'static str,
    pub(crate) terminal: &'static str,
    epoch: AtomicU64,
    state: Mutex<LinkState>,
    waker: Arc<Waker>,
    /// Set while the terminal sleeps.
    wait: Mutex<Option<Wait>>,
    pub(crate) signal: Arc<Signal>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("server", &self.server)
            .field("terminal", &self.terminal)
            .field("epoch", &self.epoch())
            .finish()
    }
}

impl Link {
    pub(crate) fn new(server: &'static str, terminal: &'static str, signal: Arc<Signal>) -> Self {
        Link {
            server,
            terminal,
            epoch: AtomicU64::new(0),
            state: Mutex::new(LinkState {
                ends: Vec::new(),
                dormant: false,
                ty: None,
                stash: Vec::new(),
                lost_peer: None,
            }),
            waker: Arc::new(Waker::default()),
            wait: Mutex::new(None),
            signal,
        }
    }

    /// Changes counter; a terminal that saw another value must refresh.
    #[inline]
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Relaxed)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, LinkState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the link under its lock, then tells the terminal.
    pub(crate) fn change<R>(&self, f: impl FnOnce(&mut LinkState) -> R) -> R {
        let out = {
            let mut state = self.lock();
            let out = f(&mut state);
            self.epoch.fetch_add(1, Ordering::AcqRel);
            out
        };
        self.ring();
        out
    }

    /// Tells the terminal to look at the link again (e.g. a pipe's pause
    /// flag changed, a request was raised).
    pub(crate) fn touch(&self) {
        self.change(|_| ());
    }

    /// Wakes a waiting terminal.
    pub(crate) fn ring(&self) {
        self.waker.ring();
    }

    /// Where the terminal sleeps.
    pub(crate) fn waker(&self) -> &Waker {
        &self.waker
    }

    /// Records what the terminal waits on (`None`: it does not any more).
    pub(crate) fn set_wait(&self, wait: Option<Wait>) {
        *self.wait.lock().unwrap_or_else(|e| e.into_inner()) = wait;
    }

    pub(crate) fn wait(&self) -> Option<Wait> {
        self.wait.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn push(&self, end: Box<dyn ErasedEnd>) {
        end.bind(&self.waker);
        self.change(|s| {
            s.ends.push(end);
            s.dormant = false;
        });
    }

    /// Removes the end of pipe `id` for a live disconnect; returns it. The
    /// terminal waits for a new peer from now on instead of ending when its
    /// other peers do (see `Control::disconnect`).
    pub(crate) fn remove(&self, pipe: &Arc<PipeStats>) -> Option<Box<dyn ErasedEnd>> {
        self.change(|s| {
            let i = s.ends.iter().position(|e| e.stats().same_pipe(pipe))?;
            s.dormant = true;
            s.lost_peer = Some(Arc::clone(pipe));
            Some(s.ends.remove(i))
        })
    }

    /// Removes the end of a pipe the terminal found finished (no sender left,
    /// drained), without waking the terminal.
    pub(crate) fn retire(&self, pipe: &PipeStats) {
        self.lock().ends.retain(|e| !e.stats().same_pipe(pipe));
    }

    /// Drops every end: the instance is finished for good.
    pub(crate) fn release(&self) {
        self.change(|s| {
            s.ends.clear();
            s.dormant = false;
        });
    }

    /// The instance is finished for good: every message still stashed goes
    /// into its pipe if there is room, or is counted as entered and dropped.
    /// Returns how many were dropped.
    pub(crate) fn settle_stash(&self) -> u64 {
        let mut state = self.lock();
        let stash = std::mem::take(&mut state.stash);
        let mut dropped = 0;
        for item in stash {
            let end = state
                .ends
                .iter()
                .find(|e| e.is_sender() && e.spec().id == item.pipe);
            let undelivered = match end {
                Some(end) => end.offer(item.parcel).is_err(),
                None => true,
            };
            if undelivered {
                item.stats.count_undelivered(1);
                dropped += 1;
            }
        }
        if dropped > 0 {
            tracing::warn!(
                server = self.server,
                terminal = self.terminal,
                dropped,
                "messages kept for a restart could not be delivered; counted as drops"
            );
        }
        dropped
    }

    /// Records the terminal's type; the first registration wins.
    pub(crate) fn register(&self, ty: TerminalType) {
        let mut state = self.lock();
        if state.ty.is_none() {
            state.ty = Some(ty);
        }
    }

    pub(crate) fn ty(&self) -> Option<TerminalType> {
        self.lock().ty
    }
}
