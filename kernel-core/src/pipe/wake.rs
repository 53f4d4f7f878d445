//! How a terminal sleeps and how its peers wake it, without a fence per
//! message on the fast path.
//!
//! A terminal with nothing to do (empty inputs, a full output) spins a
//! little, then sleeps on its link's [`Waker`]: it sets `sleeping`, issues a
//! *heavy* barrier, checks once more whether it can go on, and parks. A peer,
//! after every message (or batch) it published, issues a *light* barrier and
//! wakes the terminal if `sleeping` is set. Either the terminal's check sees
//! the message, or the peer sees `sleeping`: never neither (the store-load
//! pattern of Dekker's algorithm, which needs a full barrier on both sides).
//!
//! On Linux the heavy side is `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`,
//! which runs a full barrier on every CPU that runs a thread of this
//! process; the light side then only has to keep the compiler from
//! reordering (folly's and liburcu's asymmetric fences). The heavy barrier
//! costs microseconds, paid once per sleep; the light one costs nothing.
//! Where `membarrier` is missing or refused both sides use a full fence.
//!
//! loom checks the protocol (`RUSTFLAGS="--cfg loom" cargo test -p
//! kernel-core --lib --profile loom pipe::wake`): the interleavings and the
//! outcomes the memory model allows of a publish and `notify` against a
//! `sleep`, of a `ring` against a `sleep` (all of them), and of two rounds
//! of ping-pong between two wakers (up to 6 preemptions). A lost wake-up is
//! a park that nothing unparks, which loom reports as a deadlock. Built
//! so, the `Waker` runs on loom's atomics, lock and park, and both
//! barriers are the fallback's `SeqCst` fences: loom models the memory
//! model between the threads it runs, not `membarrier`, which acts on the
//! other threads' CPUs from outside them. What the asymmetric variant adds
//! is that a compiler fence on one side and `membarrier` on the other make
//! the same pair of full barriers; that rests on the kernel's contract for
//! `membarrier`, and loom would only see an unpaired compiler fence.

use std::sync::atomic::{Ordering, compiler_fence};
use std::sync::{Once, PoisonError};
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;
use sync::{AtomicBool, Mutex, Thread, fence};

/// What the protocol runs on: std's atomics, lock and threads, or loom's in
/// the tests built with `--cfg loom` (of which only this module's model
/// tests can run: the others would use loom's types outside a model).
mod sync {
    #[cfg(all(loom, test))]
    pub(super) use loom::{
        sync::{Mutex, atomic::fence},
        thread::{Thread, current, park},
    };
    #[cfg(not(all(loom, test)))]
    pub(super) use std::{
        sync::{
            Mutex,
            atomic::{AtomicBool, fence},
        },
        thread::{Thread, current, park, park_timeout},
    };

    /// loom has no timed park; a timed park may always return early.
    #[cfg(all(loom, test))]
    pub(super) fn park_timeout(_: std::time::Duration) {
        loom::thread::yield_now();
    }

    /// loom's flag with every store made a swap. loom 0.7 lets a store that
    /// races with a swap of the same flag land between the swap's read and
    /// its write (tokio-rs/loom#254, which the C++ memory model forbids),
    /// and so reports lost wake-ups that cannot happen: a sleeper's store
    /// of `sleeping` racing with a peer's `wake`, a `ring` racing with the
    /// sleeper taking the ring. A swap whose result is dropped writes the
    /// same value; it must not acquire what a store would not, so a `SeqCst`
    /// store becomes a `Release` swap (loom orders `SeqCst` accesses no
    /// more than that anyway). The price: a swap reads what it overwrites,
    /// and a fence after it can then synchronize where a store would not.
    /// In the ring model the ring's swap reads the sleeper's take of the
    /// ring, so that model would not notice the heavy barrier gone; the
    /// message models do.
    #[cfg(all(loom, test))]
    #[derive(Debug, Default)]
    pub(super) struct AtomicBool(loom::sync::atomic::AtomicBool);

    #[cfg(all(loom, test))]
    impl AtomicBool {
        pub(super) fn load(&self, order: super::Ordering) -> bool {
            self.0.load(order)
        }

        pub(super) fn store(&self, value: bool, order: super::Ordering) {
            let order = match order {
                super::Ordering::SeqCst => super::Ordering::Release,
                order => order,
            };
            self.0.swap(value, order);
        }

        pub(super) fn swap(&self, value: bool, order: super::Ordering) -> bool {
            self.0.swap(value, order)
        }
    }
}

/// True once this process registered for expedited private membarriers:
/// light barriers are compiler fences from then on. Never under loom, so
/// std's flag even there.
static ASYMMETRIC: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// True when this process may run on one CPU only (its affinity or its
/// cgroup's quota): a waiting terminal's peer cannot run while it spins, so
/// waits yield the CPU at once instead of spinning first.
static ONE_CPU: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static INIT: Once = Once::new();

/// Chooses the barriers and the way to wait, once per process. Called
/// whenever a pipe is made, so every thread that uses a pipe was
/// synchronised with the choice (it got the pipe from the thread that made
/// it) before its first barrier.
pub(crate) fn init() {
    INIT.call_once(|| {
        if membarrier::register() {
            ASYMMETRIC.store(true, Ordering::Relaxed);
        } else {
            tracing::debug!("membarrier unavailable: pipes use a fence per message");
        }
        let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
        ONE_CPU.store(cpus == 1, Ordering::Relaxed);
    });
}

#[inline]
fn one_cpu() -> bool {
    ONE_CPU.load(Ordering::Relaxed)
}

/// The peer's side: after publishing, before looking at `sleeping`.
#[inline]
fn light_barrier() {
    if !cfg!(all(loom, test)) && ASYMMETRIC.load(Ordering::Relaxed) {
        compiler_fence(Ordering::SeqCst);
    } else {
        fence(Ordering::SeqCst);
    }
}

/// The sleeper's side: after setting `sleeping`, before the last look.
fn heavy_barrier() {
    if !cfg!(all(loom, test)) && ASYMMETRIC.load(Ordering::Relaxed) && !membarrier::expedited() {
        // Registered but refused now: fall back to fences on both sides
        // from here on.
        tracing::error!("membarrier failed after registration; pipes fall back to fences");
        ASYMMETRIC.store(false, Ordering::Relaxed);
    }
    fence(Ordering::SeqCst);
}

#[cfg(target_os = "linux")]
mod membarrier {
    const QUERY: libc::c_int = 0;
    const PRIVATE_EXPEDITED: libc::c_int = 1 << 3;
    const REGISTER_PRIVATE_EXPEDITED: libc::c_int = 1 << 4;

    fn call(cmd: libc::c_int) -> libc::c_long {
        // SAFETY: membarrier takes two integers and touches no memory of ours.
        unsafe {
            libc::syscall(
                libc::SYS_membarrier,
                cmd,
                0 as libc::c_uint,
                0 as libc::c_int,
            )
        }
    }

    pub(super) fn register() -> bool {
        let supported = call(QUERY);
        supported > 0
            && supported & libc::c_long::from(PRIVATE_EXPEDITED) != 0
            && call(REGISTER_PRIVATE_EXPEDITED) == 0
    }

    pub(super) fn expedited() -> bool {
        call(PRIVATE_EXPEDITED) == 0
    }
}

#[cfg(not(target_os = "linux"))]
mod membarrier {
    pub(super) fn register() -> bool {
        false
    }
    pub(super) fn expedited() -> bool {
        true
    }
}

/// Where one terminal sleeps; its pipes' peers and the kernel wake it.
#[derive(Debug, Default)]
pub(crate) struct Waker {
    /// Set while the terminal is about to sleep or sleeping; peers read it
    /// after every message, so it has a cache line of its own.
    sleeping: CachePadded<AtomicBool>,
    /// The kernel rang: a change the terminal must look at.
    rung: AtomicBool,
    /// The thread that sleeps (a restarted server runs on the same thread,
    /// but a terminal may move to another).
    thread: Mutex<Option<Thread>>,
}

impl Waker {
    /// A peer published a message or made room: wakes the terminal if it
    /// sleeps. Costs a compiler fence and a load when it does not.
    #[inline]
    pub(crate) fn notify(&self) {
        light_barrier();
        if self.sleeping.load(Ordering::Relaxed) {
            self.wake();
        }
    }

    #[cold]
    fn wake(&self) {
        if self.sleeping.swap(false, Ordering::AcqRel)
            && let Some(thread) = self
                .thread
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
        {
            thread.unpark();
        }
    }

    /// The kernel's doorbell: the terminal looks at its link again.
    pub(crate) fn ring(&self) {
        self.rung.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if self.sleeping.load(Ordering::SeqCst) {
            self.wake();
        }
    }

    /// Forgets a ring that the caller is about to act on anyway.
    pub(crate) fn quiet(&self) {
        self.rung.store(false, Ordering::Relaxed);
    }

    /// Sleeps until `ready()` holds, the doorbell rings or `timeout` passed;
    /// true unless the time ran out. For a pipe end that no terminal holds
    /// (a route's drain), whose owner also has other things to do.
    pub(crate) fn sleep_for(&self, timeout: Duration, mut ready: impl FnMut() -> bool) -> bool {
        *self.thread.lock().unwrap_or_else(PoisonError::into_inner) = Some(sync::current());
        let deadline = Instant::now() + timeout;
        loop {
            self.sleeping.store(true, Ordering::Relaxed);
            heavy_barrier();
            if self.rung.swap(false, Ordering::AcqRel) || ready() {
                self.sleeping.store(false, Ordering::Relaxed);
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                self.sleeping.store(false, Ordering::Relaxed);
                return false;
            }
            sync::park_timeout(left);
        }
    }

    /// Sleeps until `ready()` holds or the doorbell rings; true when it rang.
    /// `ready` looks at the pipes (a message, room, an end gone).
    pub(crate) fn sleep(&self, mut ready: impl FnMut() -> bool) -> bool {
        *self.thread.lock().unwrap_or_else(PoisonError::into_inner) = Some(sync::current());
        loop {
            self.sleeping.store(true, Ordering::Relaxed);
            heavy_barrier();
            let rung = self.rung.swap(false, Ordering::AcqRel);
            if rung || ready() {
                self.sleeping.store(false, Ordering::Relaxed);
                return rung;
            }
            sync::park();
            // Woken by a peer (it cleared `sleeping` before unparking, and
            // what it published happened before), or spuriously.
            let rung = self.rung.swap(false, Ordering::AcqRel);
            if rung || ready() {
                self.sleeping.store(false, Ordering::Relaxed);
                return rung;
            }
        }
    }
}

/// A bounded, adaptive spin before sleeping: parking and being woken costs
/// about 10 µs here (and a heavy barrier), so a terminal whose peer answers
/// soon should not sleep; one whose peer is idle should stop spinning soon.
///
/// The budget counts polls, not time: the first few spin on the CPU, the
/// rest yield it. Alone on a CPU a yield returns at once (a poll costs well
/// under a microsecond); sharing one CPU with its peer, a yield lets the
/// peer run, so the next poll usually succeeds however long the peer took.
/// The budget doubles when a spin paid off and halves when it did not.
/// A process that may use one CPU only yields from the first poll: spinning
/// there keeps the peer from running (on one CPU, a fan-in's sources spent
/// a quarter of the time spinning).
#[derive(Debug)]
pub(crate) struct Spin {
    polls: u32,
}

impl Spin {
    const MIN: u32 = 8;
    const MAX: u32 = 128;
    const START: u32 = 32;
    /// Polls that spin before the rest yield.
    const SPINNING: u32 = 6;

    /// However many polls are left, a spin ends this long after its first
    /// yield: on a loaded machine a yield can hand the CPU away for
    /// milliseconds, and a terminal waiting that long should sleep (and say
    /// so in its server's status).
    const YIELDING: std::time::Duration = std::time::Duration::from_micros(100);

    /// Polls `ready` until it holds (true) or the budget is spent (false).
    pub(crate) fn until(&mut self, mut ready: impl FnMut() -> bool) -> bool {
        let mut yielding_since = None;
        for poll in 0..self.polls {
            if ready() {
                self.polls = (self.polls * 2).min(Self::MAX);
                return true;
            }
            if poll < Self::SPINNING && !one_cpu() {
                for _ in 0..(1u32 << poll) {
                    std::hint::spin_loop();
                }
            } else {
                let since = *yielding_since.get_or_insert_with(std::time::Instant::now);
                std::thread::yield_now();
                if since.elapsed() >= Self::YIELDING {
                    break;
                }
            }
        }
        if ready() {
            return true;
        }
        self.polls = (self.polls / 2).max(Self::MIN);
        false
    }
}

/// How long a consumer that outran its producer leaves their ring alone at
/// most, and how often it looks meanwhile whether messages came.
const SETTLE: Duration = Duration::from_micros(3);
const SETTLE_LOOK: Duration = Duration::from_micros(1);

/// Leaves the ring to the producer for a moment: called by a consumer that
/// found its pipe empty, before it looks again. Looks every
/// [`SETTLE_LOOK`] whether `waiting()` (messages came), for at most
/// [`SETTLE`]; true when they came.
///
/// A consumer that takes each message as soon as it is published reads the
/// ring's cache lines (its slots and write index) while the producer is
/// still writing them: each message then moves lines from one core to the
/// other and back, and the producer's stores stall. On 2 CPUs a fused chain
/// fed by `send` ran at 11-15 M msg/s so, and at 35-40 M msg/s with this
/// wait: what comes in a microsecond moves its lines about once, full.
/// Looking more often costs the producer again (each look moves the write
/// index: 20-32 M msg/s looking every 160 ns). A message that comes during
/// the wait is taken at most [`SETTLE_LOOK`] later.
///
/// The wait yields the CPU between short spins: a producer on the same CPU
/// runs meanwhile. A process that may use one CPU only yields once and
/// looks: no line moves between cores there, and the producer runs only
/// when the consumer yields.
#[inline(never)]
pub(crate) fn settle(mut waiting: impl FnMut() -> bool) -> bool {
    if one_cpu() {
        std::thread::yield_now();
        return waiting();
    }
    settle_across_cores(waiting)
}

/// [`settle`] where the producer may run on another core meanwhile.
fn settle_across_cores(mut waiting: impl FnMut() -> bool) -> bool {
    let since = Instant::now();
    let mut look = SETTLE_LOOK;
    loop {
        for _ in 0..32 {
            std::hint::spin_loop();
        }
        let waited = since.elapsed();
        if waited >= look {
            if waiting() {
                return true;
            }
            if waited >= SETTLE {
                return false;
            }
            look += SETTLE_LOOK;
        }
        std::thread::yield_now();
    }
}

/// When a consumer [`settle`]s: after a wait in vain it skips the next
/// waits, twice as many after each vain wait in a row (up to
/// [`Settle::MAX_SKIP`]), none again once a wait brought messages. A
/// consumer whose producer sends a message now and then pays the wait about
/// once in 256 times; one whose producer was only descheduled a moment
/// settles again soon.
#[derive(Debug)]
pub(crate) struct Settle {
    /// Waits still to skip.
    skip: u32,
    /// Waits to skip after the next one in vain.
    next_skip: u32,
}

impl Settle {
    const MAX_SKIP: u32 = 256;

    /// Settles (see [`settle`]) unless recent waits were in vain.
    pub(crate) fn wait(&mut self, waiting: impl FnMut() -> bool) {
        if self.skip > 0 {
            self.skip -= 1;
        } else if settle(waiting) {
            self.next_skip = 1;
        } else {
            self.skip = self.next_skip;
            self.next_skip = (self.next_skip * 2).min(Self::MAX_SKIP);
        }
    }
}

impl Default for Settle {
    fn default() -> Self {
        Settle {
            skip: 0,
            next_skip: 1,
        }
    }
}

impl Default for Spin {
    fn default() -> Self {
        Spin { polls: Self::START }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;

    use super::*;

    /// Ping-pong through two wakers, one message at a time, so every
    /// message finds its peer asleep or about to sleep: a lost wake-up
    /// hangs the test.
    #[test]
    fn no_wake_up_is_lost() {
        init();
        let rounds = 20_000;
        let ping = Arc::new((AtomicU64::new(0), Waker::default()));
        let pong = Arc::new((AtomicU64::new(0), Waker::default()));
        let (ping2, pong2) = (Arc::clone(&ping), Arc::clone(&pong));
        let other = std::thread::spawn(move || {
            for i in 1..=rounds {
                ping2.1.sleep(|| ping2.0.load(Ordering::Acquire) >= i);
                pong2.0.store(i, Ordering::Release);
                pong2.1.notify();
            }
        });
        for i in 1..=rounds {
            ping.0.store(i, Ordering::Release);
            ping.1.notify();
            pong.1.sleep(|| pong.0.load(Ordering::Acquire) >= i);
        }
        other.join().unwrap();
    }

    #[test]
    fn a_ring_wakes_a_sleeper_and_says_so() {
        let waker = Arc::new(Waker::default());
        let ringer = Arc::clone(&waker);
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            ringer.ring();
        });
        assert!(waker.sleep(|| false));
        t.join().unwrap();
    }

    #[test]
    fn settling_waits_for_messages_within_its_bound() {
        let mut looks = 0;
        let since = Instant::now();
        assert!(settle_across_cores(|| {
            looks += 1;
            true
        }));
        assert_eq!(looks, 1, "messages found at the first look end the wait");
        assert!(since.elapsed() >= SETTLE_LOOK);

        let mut looks = 0;
        let since = Instant::now();
        assert!(!settle_across_cores(|| {
            looks += 1;
            false
        }));
        assert!(since.elapsed() >= SETTLE, "{:?}", since.elapsed());
        assert!(
            (1..=3).contains(&looks),
            "looks every {SETTLE_LOOK:?}: {looks}"
        );
    }

    #[test]
    fn after_waits_in_vain_a_consumer_waits_less_often() {
        let mut settle = Settle::default();
        let mut waited = Vec::new();
        for _ in 0..800 {
            let mut looked = false;
            settle.wait(|| {
                looked = true;
                false
            });
            waited.push(looked);
        }
        // Waits, skips 1, waits, skips 2, waits, skips 4, ... 256.
        let waits: Vec<usize> = (0..waited.len()).filter(|&i| waited[i]).collect();
        assert_eq!(waits[..5], [0, 2, 5, 10, 19], "{waits:?}");
        let gaps: Vec<usize> = waits.windows(2).map(|w| w[1] - w[0] - 1).collect();
        assert_eq!(gaps.last(), Some(&(Settle::MAX_SKIP as usize)), "{gaps:?}");
        // A wait that brings messages: the next empty look waits again.
        while settle.skip > 0 {
            settle.wait(|| false);
        }
        settle.wait(|| true);
        let mut looked = false;
        settle.wait(|| {
            looked = true;
            false
        });
        assert!(looked);
        assert_eq!(settle.skip, 1);
    }

    #[test]
    fn the_spin_budget_adapts() {
        let mut spin = Spin::default();
        let mut polls = 0;
        assert!(!spin.until(|| {
            polls += 1;
            false
        }));
        // Every poll of the budget and a last look, fewer if the machine
        // kept the CPU away longer than the yielding bound.
        assert!(
            (Spin::SPINNING + 1..=Spin::START + 1).contains(&polls),
            "{polls}"
        );
        assert_eq!(spin.polls, Spin::START / 2);
        assert!(spin.until(|| true));
        assert_eq!(spin.polls, Spin::START);
        for _ in 0..20 {
            spin.until(|| false);
        }
        assert_eq!(spin.polls, Spin::MIN);
        for _ in 0..20 {
            spin.until(|| true);
        }
        assert_eq!(spin.polls, Spin::MAX);
    }
}

/// The protocol under loom: every interleaving of the threads and every
/// value a load may see. A park that nothing unparks is a deadlock, which
/// loom reports: that is a lost wake-up.
#[cfg(all(test, loom))]
mod model {
    use loom::sync::Arc;
    use loom::sync::atomic::AtomicU64;

    use super::*;

    /// A pipe end's messages: a counter published with `Release`.
    type End = (AtomicU64, Waker);

    fn end() -> Arc<End> {
        Arc::new((AtomicU64::new(0), Waker::default()))
    }

    /// The peer publishes, then notifies; the terminal sleeps until it sees
    /// the message. Whichever runs first, the terminal wakes.
    #[test]
    fn a_published_message_wakes_the_sleeper() {
        loom::model(|| {
            let end = end();
            let peer = Arc::clone(&end);
            let producer = loom::thread::spawn(move || {
                peer.0.store(1, Ordering::Release);
                peer.1.notify();
            });
            let rung = end.1.sleep(|| end.0.load(Ordering::Acquire) >= 1);
            assert!(!rung, "nobody rang");
            producer.join().unwrap();
        });
    }

    #[test]
    fn a_ring_wakes_the_sleeper_and_says_so() {
        loom::model(|| {
            let waker = Arc::new(Waker::default());
            let ringer = Arc::clone(&waker);
            let kernel = loom::thread::spawn(move || ringer.ring());
            assert!(waker.sleep(|| false));
            kernel.join().unwrap();
        });
    }

    /// Two terminals answer each other for two rounds, each sleeping on its
    /// own waker until the other's message arrives: the second round sleeps
    /// on flags the first round's wake-ups wrote.
    ///
    /// Bounded to 6 preemptions (44,000 interleavings, 3 s); every
    /// interleaving (about 3 minutes) passed too.
    #[test]
    fn ping_pong_loses_no_wake_up() {
        const ROUNDS: u64 = 2;
        let mut model = loom::model::Builder::new();
        model.preemption_bound = Some(6);
        model.check(|| {
            let (ping, pong) = (end(), end());
            let (ping2, pong2) = (Arc::clone(&ping), Arc::clone(&pong));
            let other = loom::thread::spawn(move || {
                for i in 1..=ROUNDS {
                    ping2.1.sleep(|| ping2.0.load(Ordering::Acquire) >= i);
                    pong2.0.store(i, Ordering::Release);
                    pong2.1.notify();
                }
            });
            for i in 1..=ROUNDS {
                ping.0.store(i, Ordering::Release);
                ping.1.notify();
                pong.1.sleep(|| pong.0.load(Ordering::Acquire) >= i);
            }
            other.join().unwrap();
        });
    }
}
