//! The floor: the benchmark shapes hand-written with bare `crossbeam-channel`
//! bounded channels and one thread per server, doing the same work per
//! message as the kernel's servers (make the payload, send; receive, tally).
//!
//! Fan-in is written the way a hand-writer would: both producers hold a clone
//! of one channel's sender. [`fanin_2_select`] is the other way, one channel
//! per producer and a `Select` in the consumer, the way `Combine` works; it is
//! reported beside the floor to show what the choice costs.

use std::thread;

use crossbeam_channel::{Receiver, Select, Sender, bounded};
use kernel::FramePool;

use crate::payload::{Payload, Tally};

/// Capacity of every baseline channel, as in the wiring files.
pub const CAPACITY: usize = 1024;

type Outcome = Result<(), String>;

fn source<P: Payload>(tx: Sender<P>, messages: u64, pool: FramePool) -> Outcome {
    for seq in 0..messages {
        tx.send(P::make(seq, &pool))
            .map_err(|_| "the consumer is gone".to_string())?;
    }
    Ok(())
}

fn stage<P: Payload>(rx: Receiver<P>, tx: Sender<P>) -> Outcome {
    for msg in rx {
        tx.send(msg)
            .map_err(|_| "the consumer is gone".to_string())?;
    }
    Ok(())
}

fn sink<P: Payload>(rx: Receiver<P>, expected: Tally) -> Outcome {
    let mut tally = Tally::default();
    for msg in rx {
        tally.add(&msg);
    }
    tally.check(expected)
}

fn join(handles: Vec<thread::JoinHandle<Outcome>>) -> Outcome {
    for handle in handles {
        handle
            .join()
            .map_err(|_| "a baseline thread panicked".to_string())??;
    }
    Ok(())
}

/// source -> sink.
pub fn chain_1<P: Payload>(messages: u64) -> Outcome {
    let (tx, rx) = bounded::<P>(CAPACITY);
    join(vec![
        thread::spawn(move || sink(rx, Tally::expected(messages, 1))),
        thread::spawn(move || source(tx, messages, FramePool::new())),
    ])
}

/// source -> a -> b -> sink.
pub fn chain_3<P: Payload>(messages: u64) -> Outcome {
    let (tx0, rx0) = bounded::<P>(CAPACITY);
    let (tx1, rx1) = bounded::<P>(CAPACITY);
    let (tx2, rx2) = bounded::<P>(CAPACITY);
    join(vec![
        thread::spawn(move || sink(rx2, Tally::expected(messages, 1))),
        thread::spawn(move || stage(rx1, tx2)),
        thread::spawn(move || stage(rx0, tx1)),
        thread::spawn(move || source(tx0, messages, FramePool::new())),
    ])
}

/// One source sending every message to two sinks.
pub fn fanout_2<P: Payload>(messages: u64) -> Outcome {
    let (tx_left, rx_left) = bounded::<P>(CAPACITY);
    let (tx_right, rx_right) = bounded::<P>(CAPACITY);
    let pool = FramePool::new();
    let broadcast = move || -> Outcome {
        for seq in 0..messages {
            let msg = P::make(seq, &pool);
            tx_left
                .send(msg.clone())
                .map_err(|_| "the left consumer is gone".to_string())?;
            tx_right
                .send(msg)
                .map_err(|_| "the right consumer is gone".to_string())?;
        }
        Ok(())
    };
    join(vec![
        thread::spawn(move || sink(rx_left, Tally::expected(messages, 1))),
        thread::spawn(move || sink(rx_right, Tally::expected(messages, 1))),
        thread::spawn(broadcast),
    ])
}

/// Two sources into one sink, sharing one channel.
pub fn fanin_2<P: Payload>(messages: u64) -> Outcome {
    let (tx, rx) = bounded::<P>(CAPACITY);
    let tx2 = tx.clone();
    let pool = FramePool::new();
    let pool2 = pool.clone();
    join(vec![
        thread::spawn(move || sink(rx, Tally::expected(messages, 2))),
        thread::spawn(move || source(tx, messages, pool2)),
        thread::spawn(move || source(tx2, messages, pool)),
    ])
}

/// Two sources into one sink, one channel each, the sink selecting.
pub fn fanin_2_select<P: Payload>(messages: u64) -> Outcome {
    let pool = FramePool::new();
    let pool2 = pool.clone();
    let (tx_left, rx_left) = bounded::<P>(CAPACITY);
    let (tx_right, rx_right) = bounded::<P>(CAPACITY);
    let merge = move || -> Outcome {
        let mut tally = Tally::default();
        let mut open = vec![rx_left, rx_right];
        while !open.is_empty() {
            // One `Select` until a producer's channel closes.
            let closed = {
                let mut select = Select::new();
                for rx in &open {
                    select.recv(rx);
                }
                loop {
                    let oper = select.select();
                    let index = oper.index();
                    match oper.recv(&open[index]) {
                        Ok(msg) => tally.add(&msg),
                        Err(_) => break index,
                    }
                }
            };
            open.remove(closed);
        }
        tally.check(Tally::expected(messages, 2))
    };
    join(vec![
        thread::spawn(merge),
        thread::spawn(move || source(tx_left, messages, pool2)),
        thread::spawn(move || source(tx_right, messages, pool)),
    ])
}
