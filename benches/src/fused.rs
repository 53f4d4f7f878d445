//! The fusion benchmark: a chain of three transforms between a source and
//! a sink, as a generated kernel (fused into the source's thread, or each
//! on its own thread with `fuse = false`) and as the hand-written program
//! that computes the same functions inline in the producer thread and
//! hands the survivors to the sink over a batched SPSC ring
//! ([`floor::chain_1_inline`](crate::floor::chain_1_inline)).

use kernel::prelude::*;

use crate::messages;
use crate::payload::Tally;

/// The first transform: times three.
#[inline]
pub fn triple(x: u64) -> u64 {
    x.wrapping_mul(3)
}

/// The second: drops multiples of four.
#[inline]
pub fn keep(x: u64) -> bool {
    !x.is_multiple_of(4)
}

/// The third: plus one.
#[inline]
pub fn bump(x: u64) -> u64 {
    x.wrapping_add(1)
}

/// The three in one, as the hand-written program computes them.
#[inline]
pub fn inline(x: u64) -> Option<u64> {
    let y = triple(x);
    keep(y).then(|| bump(y))
}

/// What the sink receives from `0..messages` through the chain.
pub fn expected(messages: u64) -> Tally {
    let mut tally = Tally::default();
    for x in (0..messages).filter_map(inline) {
        tally.add(&x);
    }
    tally
}

#[derive(Manifest)]
#[manifest(class = 0x0c01, owner = "bench")]
pub struct Triple {
    pub input: Input<u64>,
    pub out: Output<u64>,
}

impl Transform for Triple {
    type Config = ();
    type In = u64;
    type Out = u64;
    fn new((): ()) -> Self {
        Triple {
            input: Input::default(),
            out: Output::default(),
        }
    }
    #[inline]
    fn process(&mut self, x: u64) -> Result<Option<u64>, ServerError> {
        Ok(Some(triple(x)))
    }
}

#[derive(Manifest)]
#[manifest(class = 0x0c02, owner = "bench")]
pub struct Keep {
    pub input: Input<u64>,
    pub out: Output<u64>,
}

impl Transform for Keep {
    type Config = ();
    type In = u64;
    type Out = u64;
    fn new((): ()) -> Self {
        Keep {
            input: Input::default(),
            out: Output::default(),
        }
    }
    #[inline]
    fn process(&mut self, x: u64) -> Result<Option<u64>, ServerError> {
        Ok(keep(x).then_some(x))
    }
}

#[derive(Manifest)]
#[manifest(class = 0x0c03, owner = "bench")]
pub struct Bump {
    pub input: Input<u64>,
    pub out: Output<u64>,
}

impl Transform for Bump {
    type Config = ();
    type In = u64;
    type Out = u64;
    fn new((): ()) -> Self {
        Bump {
            input: Input::default(),
            out: Output::default(),
        }
    }
    #[inline]
    fn process(&mut self, x: u64) -> Result<Option<u64>, ServerError> {
        Ok(Some(bump(x)))
    }
}

/// Counts what arrives and checks it against [`expected`].
#[derive(Manifest)]
#[manifest(class = 0x0c04, owner = "bench")]
pub struct Checked {
    pub input: Input<u64>,
}

impl Server for Checked {
    type Config = ();
    fn new((): ()) -> Self {
        Checked {
            input: Input::default(),
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        let mut tally = Tally::default();
        while self
            .input
            .recv_each(crate::servers::BATCH, |m| tally.add(&m))
            > 0
        {}
        tally.check(expected(messages())).map_err(ServerError::from)
    }
}
