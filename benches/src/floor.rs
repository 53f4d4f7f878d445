//! The floor: the benchmark shapes hand-written on bare `rtrb` rings, one
//! per producer-consumer pair, the way one writes them knowing the whole
//! program: every thread moves as many messages per ring operation as the
//! ring holds (one index publication per batch), wakes its peer once per
//! batch, and spins up to 100 µs before it parks. Same work per message as
//! the kernel's servers and [`crate::baseline`] (make the payload, send;
//! receive, tally).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering, fence};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use kernel::FramePool;
use rtrb::{Consumer, Producer, RingBuffer};

use crate::baseline::CAPACITY;
use crate::payload::{Payload, Tally};

type Outcome = Result<(), String>;

/// How long a thread spins before it parks.
const SPIN: Duration = Duration::from_micros(100);

/// Where one thread parks; its peers wake it.
#[derive(Default)]
struct Park {
    sleeping: AtomicBool,
    thread: std::sync::OnceLock<Thread>,
}

impl Park {
    /// After publishing a batch: wakes the owner if it sleeps.
    fn notify(&self) {
        fence(Ordering::SeqCst);
        if self.sleeping.load(Ordering::SeqCst)
            && self.sleeping.swap(false, Ordering::SeqCst)
            && let Some(t) = self.thread.get()
        {
            t.unpark();
        }
    }

    /// Spins, then parks, until `ready()`.
    fn wait(&self, mut ready: impl FnMut() -> bool) {
        let start = Instant::now();
        let mut round = 0u32;
        while start.elapsed() < SPIN {
            if ready() {
                return;
            }
            if round < 6 {
                for _ in 0..(1u32 << round) {
                    std::hint::spin_loop();
                }
                round += 1;
            } else {
                thread::yield_now();
            }
        }
        let _ = self.thread.set(thread::current());
        loop {
            self.sleeping.store(true, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            if ready() {
                self.sleeping.store(false, Ordering::SeqCst);
                return;
            }
            thread::park();
            if ready() {
                self.sleeping.store(false, Ordering::SeqCst);
                return;
            }
        }
    }
}

/// One ring and the parking places of its two ends.
struct Link<P> {
    tx: Producer<P>,
    rx: Consumer<P>,
    producer: Arc<Park>,
    consumer: Arc<Park>,
}

fn link<P>(producer: &Arc<Park>, consumer: &Arc<Park>) -> Link<P> {
    let (tx, rx) = RingBuffer::new(CAPACITY);
    Link {
        tx,
        rx,
        producer: Arc::clone(producer),
        consumer: Arc::clone(consumer),
    }
}

struct Tx<P> {
    ring: Producer<P>,
    me: Arc<Park>,
    peer: Arc<Park>,
}

struct Rx<P> {
    ring: Consumer<P>,
    me: Arc<Park>,
    peer: Arc<Park>,
}

impl<P> Link<P> {
    fn split(self) -> (Tx<P>, Rx<P>) {
        (
            Tx {
                ring: self.tx,
                me: Arc::clone(&self.producer),
                peer: Arc::clone(&self.consumer),
            },
            Rx {
                ring: self.rx,
                me: self.consumer,
                peer: self.producer,
            },
        )
    }
}

impl<P> Tx<P> {
    /// Moves as many messages of `msgs` as fit, waiting for room first;
    /// false when `msgs` is empty.
    fn send_batch(&mut self, msgs: &mut impl Iterator<Item = P>) -> bool {
        let ring = &self.ring;
        self.me.wait(|| !ring.is_full() || ring.is_abandoned());
        let room = self.ring.slots();
        let Ok(chunk) = self.ring.write_chunk_uninit(room) else {
            return true;
        };
        let n = chunk.fill_from_iter(msgs);
        self.peer.notify();
        n > 0
    }
}

impl<P> Rx<P> {
    /// Waits for messages; hands each waiting one to `f`; false at end of
    /// stream.
    fn recv_batch(&mut self, f: impl FnMut(P)) -> bool {
        let ring = &self.ring;
        self.me.wait(|| !ring.is_empty() || ring.is_abandoned());
        let mut n = self.ring.slots();
        if n == 0 {
            if !self.ring.is_abandoned() {
                return true;
            }
            // Abandoned: whatever was pushed before is visible now.
            n = self.ring.slots();
            if n == 0 {
                return false;
            }
        }
        if let Ok(chunk) = self.ring.read_chunk(n) {
            chunk.into_iter().for_each(f);
        }
        self.peer.notify();
        true
    }
}

impl<P> Drop for Tx<P> {
    fn drop(&mut self) {
        // Abandoning the ring is the end of stream: wake the consumer.
        let peer = Arc::clone(&self.peer);
        let (ring, _) = RingBuffer::<P>::new(1);
        drop(std::mem::replace(&mut self.ring, ring));
        peer.notify();
    }
}

impl<P> Drop for Rx<P> {
    fn drop(&mut self) {
        let peer = Arc::clone(&self.peer);
        let (_, ring) = RingBuffer::<P>::new(1);
        drop(std::mem::replace(&mut self.ring, ring));
        peer.notify();
    }
}

fn source<P: Payload>(mut tx: Tx<P>, messages: u64, pool: FramePool) -> Outcome {
    let mut msgs = (0..messages).map(|seq| P::make(seq, &pool));
    while tx.send_batch(&mut msgs) {
        if tx.ring.is_abandoned() {
            return Err("the consumer is gone".to_string());
        }
    }
    Ok(())
}

fn stage<P: Payload>(mut rx: Rx<P>, mut tx: Tx<P>) -> Outcome {
    let mut batch = Vec::with_capacity(CAPACITY);
    while rx.recv_batch(|m| batch.push(m)) {
        let mut msgs = batch.drain(..);
        while tx.send_batch(&mut msgs) {}
    }
    Ok(())
}

fn sink<P: Payload>(mut inputs: Vec<Rx<P>>, expected: Tally) -> Outcome {
    let mut tally = Tally::default();
    if let [rx] = &mut inputs[..] {
        while rx.recv_batch(|m| tally.add(&m)) {}
        return tally.check(expected);
    }
    // Fan-in: every ring that has messages, in turn; park on the first
    // until it or another has some (all share one parking place).
    while !inputs.is_empty() {
        let mut moved = false;
        let mut i = 0;
        while i < inputs.len() {
            let rx = &mut inputs[i];
            let n = rx.ring.slots();
            if n > 0 {
                if let Ok(chunk) = rx.ring.read_chunk(n) {
                    chunk.into_iter().for_each(|m| tally.add(&m));
                }
                rx.peer.notify();
                moved = true;
            } else if rx.ring.is_abandoned() && rx.ring.is_empty() {
                inputs.remove(i);
                continue;
            }
            i += 1;
        }
        if !moved && let Some(first) = inputs.first() {
            let rings: Vec<&Consumer<P>> = inputs.iter().map(|r| &r.ring).collect();
            first
                .me
                .wait(|| rings.iter().any(|r| !r.is_empty() || r.is_abandoned()));
        }
    }
    tally.check(expected)
}

fn join(handles: Vec<thread::JoinHandle<Outcome>>) -> Outcome {
    for handle in handles {
        handle
            .join()
            .map_err(|_| "a floor thread panicked".to_string())??;
    }
    Ok(())
}

fn parks(n: usize) -> Vec<Arc<Park>> {
    (0..n).map(|_| Arc::new(Park::default())).collect()
}

/// source -> sink.
pub fn chain_1<P: Payload>(messages: u64) -> Outcome {
    let p = parks(2);
    let (tx, rx) = link::<P>(&p[0], &p[1]).split();
    join(vec![
        thread::spawn(move || sink(vec![rx], Tally::expected(messages, 1))),
        thread::spawn(move || source(tx, messages, FramePool::new())),
    ])
}

/// source -> a -> b -> sink.
pub fn chain_3<P: Payload>(messages: u64) -> Outcome {
    let p = parks(4);
    let (tx0, rx0) = link::<P>(&p[0], &p[1]).split();
    let (tx1, rx1) = link::<P>(&p[1], &p[2]).split();
    let (tx2, rx2) = link::<P>(&p[2], &p[3]).split();
    join(vec![
        thread::spawn(move || sink(vec![rx2], Tally::expected(messages, 1))),
        thread::spawn(move || stage(rx1, tx2)),
        thread::spawn(move || stage(rx0, tx1)),
        thread::spawn(move || source(tx0, messages, FramePool::new())),
    ])
}

/// One source sending every message to two sinks.
pub fn fanout_2<P: Payload>(messages: u64) -> Outcome {
    let p = parks(3);
    let (mut left, rx_left) = link::<P>(&p[0], &p[1]).split();
    let (mut right, rx_right) = link::<P>(&p[0], &p[2]).split();
    let broadcast = move || -> Outcome {
        let pool = FramePool::new();
        let mut seq = 0;
        while seq < messages {
            let (l, r) = (&left.ring, &right.ring);
            left.me.wait(|| !l.is_full() && !r.is_full());
            let n = (left.ring.slots().min(right.ring.slots()) as u64).min(messages - seq);
            for _ in 0..n {
                let msg = P::make(seq, &pool);
                let copy = msg.clone();
                left.ring
                    .push(copy)
                    .map_err(|_| "the left ring is full".to_string())?;
                right
                    .ring
                    .push(msg)
                    .map_err(|_| "the right ring is full".to_string())?;
                seq += 1;
            }
            left.peer.notify();
            right.peer.notify();
        }
        Ok(())
    };
    join(vec![
        thread::spawn(move || sink(vec![rx_left], Tally::expected(messages, 1))),
        thread::spawn(move || sink(vec![rx_right], Tally::expected(messages, 1))),
        thread::spawn(broadcast),
    ])
}

/// Two sources into one sink, a ring each.
pub fn fanin_2<P: Payload>(messages: u64) -> Outcome {
    let p = parks(3);
    let (tx_left, rx_left) = link::<P>(&p[0], &p[2]).split();
    let (tx_right, rx_right) = link::<P>(&p[1], &p[2]).split();
    let pool = FramePool::new();
    let pool2 = pool.clone();
    join(vec![
        thread::spawn(move || sink(vec![rx_left, rx_right], Tally::expected(messages, 2))),
        thread::spawn(move || source(tx_left, messages, pool2)),
        thread::spawn(move || source(tx_right, messages, pool)),
    ])
}
