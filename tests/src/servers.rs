//! Servers for the runtime tests. Sinks verify what they receive and fail
//! with an error naming the first wrong message, so a kernel run is `Ok`
//! only when every message arrived exactly once and in order.

use std::sync::atomic::{AtomicU32, Ordering};

use kernel::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountConfig {
    pub count: u64,
}

/// Sends `0..count` to every consumer.
#[derive(Manifest)]
#[manifest(class = 0x0100, owner = "test")]
pub struct Broadcast {
    pub numbers: Multiplex<u64>,
    count: u64,
}

impl Server for Broadcast {
    type Config = CountConfig;
    fn new(config: CountConfig) -> Self {
        Broadcast {
            numbers: Multiplex::default(),
            count: config.count,
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        for n in 0..self.count {
            self.numbers.send(n)?;
        }
        Ok(())
    }
}

/// Expects exactly `0..count`, in order.
#[derive(Manifest)]
#[manifest(class = 0x0101, owner = "test")]
pub struct InOrder {
    pub numbers: Input<u64>,
    count: u64,
}

impl Server for InOrder {
    type Config = CountConfig;
    fn new(config: CountConfig) -> Self {
        InOrder {
            numbers: Input::default(),
            count: config.count,
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        let mut expected = 0;
        while let Some(n) = self.numbers.recv() {
            if n != expected {
                return Err(format!("received {n}, expected {expected}").into());
            }
            expected += 1;
        }
        if expected != self.count {
            return Err(format!("received {expected} messages, expected {}", self.count).into());
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProducerConfig {
    pub producer: u32,
    pub count: u64,
}

/// Sends `(producer, 0..count)`.
#[derive(Manifest)]
#[manifest(class = 0x0102, owner = "test")]
pub struct Tagged {
    pub numbers: Output<(u32, u64)>,
    config: ProducerConfig,
}

impl Server for Tagged {
    type Config = ProducerConfig;
    fn new(config: ProducerConfig) -> Self {
        Tagged {
            numbers: Output::default(),
            config,
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        for n in 0..self.config.count {
            self.numbers.send((self.config.producer, n))?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnionConfig {
    pub producers: u32,
    pub count: u64,
}

/// Expects `(p, 0..count)` from every producer `p < producers`, each
/// producer's messages in order, every message exactly once.
#[derive(Manifest)]
#[manifest(class = 0x0103, owner = "test")]
pub struct Union {
    pub numbers: Combine<(u32, u64)>,
    config: UnionConfig,
}

impl Server for Union {
    type Config = UnionConfig;
    fn new(config: UnionConfig) -> Self {
        Union {
            numbers: Combine::default(),
            config,
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        let mut next = vec![0u64; self.config.producers as usize];
        while let Some((producer, n)) = self.numbers.recv() {
            let Some(expected) = next.get_mut(producer as usize) else {
                return Err(format!("unknown producer {producer}").into());
            };
            if n != *expected {
                return Err(
                    format!("producer {producer}: received {n}, expected {expected}").into(),
                );
            }
            *expected += 1;
        }
        if let Some(p) = next.iter().position(|&n| n != self.config.count) {
            return Err(format!(
                "producer {p}: received {} messages, expected {}",
                next[p], self.config.count
            )
            .into());
        }
        Ok(())
    }
}

/// How many times any `Crasher` has been started, across restarts.
pub static CRASHER_STARTS: AtomicU32 = AtomicU32::new(0);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrasherConfig {
    /// Panic on the first `panics` starts, then drain the input and finish.
    pub panics: u32,
}

/// Panics while starting its first `panics` lives, reading one message first.
#[derive(Manifest)]
#[manifest(class = 0x0104, owner = "test")]
pub struct Crasher {
    pub numbers: Input<u64>,
    panics: u32,
}

impl Server for Crasher {
    type Config = CrasherConfig;
    fn new(config: CrasherConfig) -> Self {
        Crasher {
            numbers: Input::default(),
            panics: config.panics,
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        let start = CRASHER_STARTS.fetch_add(1, Ordering::SeqCst);
        self.numbers.recv();
        if start < self.panics {
            panic!("crasher start {start} panics on purpose");
        }
        while self.numbers.recv().is_some() {}
        Ok(())
    }
}
