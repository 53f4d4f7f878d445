//! Fused chains: transforms the build step joined into the thread of the
//! server that feeds them, called directly instead of through pipes.
//!
//! Generated code builds a chain from the inside out:
//! `member::<T1>("t1").then(member::<T2>("t2").then(member::<T3>("t3")))`,
//! one type per chain, so the host's send calls one boxed entry and every
//! transform after it inlines. The host's `Output` holds the chain while it
//! runs (its link keeps it across restarts of the host); the last
//! transform sends on its own output terminal, a real pipe.
//!
//! The last transform holds what comes out of it until the end of its
//! host's call (`send`: one message; `send_all`: up to [`BATCH`] messages)
//! and then sends it into its pipe as one batch: one publication and one
//! wake-up of the consumer per batch.
//!
//! Each fused pipe keeps its id and counters: the member that the pipe
//! feeds counts a message in when it is handed one, out when its transform
//! consumed it (filtered it out, or its output went on), dropped when it
//! could not be handed on or was given up. The counts are kept in the
//! member and published at the end of each batch, and before a restart.
//!
//! A member whose transform returns `Err` or panics is built afresh from its
//! config, by its restart policy and the kernel's intensity limit, and
//! handed the message it failed on again; what the members after it hold
//! is sent first, and meanwhile the host waits, as it would on a full pipe. A member given up ends the members after it (their
//! outputs close, so the stream ends downstream); the members before it end
//! at their next message, which is counted as dropped, and the host's next
//! send fails as a send to a consumer gone for good does.

mod member;

use std::any::Any;
use std::collections::VecDeque;
use std::sync::Arc;

pub use member::{Member, Then, member, member_default};

use crate::connectome::{Connectome, ServerSpec, ServerState};
use crate::executor::RestartLimit;
use crate::manifest::ServerManifest;
use crate::pipe::PipeStats;
use crate::terminal::Ports;
use crate::terminal::link::Link;

/// Most messages a fused chain takes in from one batch call of its host
/// before it sends what came out and publishes its counters.
pub(crate) const BATCH: usize = 256;

/// What one member gets when the kernel boots its chain.
#[doc(hidden)]
pub struct MemberEnv {
    pub(crate) index: usize,
    pub(crate) spec: &'static ServerSpec,
    pub(crate) ports: Ports,
    /// The fused pipe that feeds the member.
    pub(crate) feed: Arc<PipeStats>,
}

/// What a chain needs to boot.
#[doc(hidden)]
pub struct Boot<'a> {
    pub(crate) members: VecDeque<MemberEnv>,
    pub(crate) connectome: &'a Connectome,
    pub(crate) limit: RestartLimit,
}

/// A fused chain taking messages of type `X`. Implemented by [`Member`]
/// (the last transform of a chain) and [`Then`]; only generated code names it.
#[doc(hidden)]
pub trait Chain<X>: Send {
    /// Runs `x` through the chain; what comes out of the last transform is
    /// held until [`flush`](Self::flush). `Err(x)`, untouched and
    /// uncounted, when the chain's first transform is gone for good.
    fn feed(&mut self, x: X) -> Result<(), X>;
    /// Sends what the last transform holds, as one batch, and publishes
    /// every member's counters.
    fn flush(&mut self);
    /// One message through the chain and on into the pipe at its end.
    #[inline]
    fn push(&mut self, x: X) -> Result<(), X> {
        let fed = self.feed(x);
        self.flush();
        fed
    }
    /// The members' names and manifests, in chain order.
    fn members(&self, out: &mut Vec<(&'static str, ServerManifest)>);
    /// Builds every member's transform; `Err` names the member that failed.
    fn boot(&mut self, boot: &mut Boot<'_>) -> Result<(), (usize, String)>;
    /// The host is finished for good: every member still running ends.
    fn end(&mut self, state: ServerState, why: &str);
    /// The chain without its message type, for its host's link to keep.
    fn park(self: Box<Self>) -> Box<dyn Parked>;
}

/// A chain without its message type, as a link keeps it between runs of
/// its host.
#[doc(hidden)]
pub trait Parked: Send {
    fn boot(&mut self, boot: &mut Boot<'_>) -> Result<(), (usize, String)>;
    fn end(&mut self, state: ServerState, why: &str);
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

/// The entry of a chain taking `X`.
pub(crate) struct Entry<X>(pub(crate) Box<dyn Chain<X>>);

/// Parks `chain` (for the implementations of [`Chain::park`]).
pub(crate) fn park<X: 'static, C: Chain<X> + 'static>(chain: Box<C>) -> Box<dyn Parked> {
    Box::new(Entry::<X>(chain))
}

impl<X: 'static> Parked for Entry<X> {
    fn boot(&mut self, boot: &mut Boot<'_>) -> Result<(), (usize, String)> {
        self.0.boot(boot)
    }

    fn end(&mut self, state: ServerState, why: &str) {
        self.0.end(state, why);
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

/// A chain in the output terminal of its running host: handed back to the
/// link when the terminal goes (the host ended a run), for the next run.
pub(crate) struct Hosted<X> {
    chain: Option<Box<dyn Chain<X>>>,
    link: Arc<Link>,
}

impl<X: 'static> Hosted<X> {
    /// Takes the chain `link` keeps, if it keeps one for messages `X`.
    pub(crate) fn take(link: &Arc<Link>) -> Option<Self> {
        let parked = link.lock().fused.take()?;
        match parked.into_any().downcast::<Entry<X>>() {
            Ok(entry) => Some(Hosted {
                chain: Some(entry.0),
                link: Arc::clone(link),
            }),
            Err(_) => {
                // The build step pairs types; never a foreign chain.
                tracing::error!(
                    server = link.server,
                    terminal = link.terminal,
                    "the fused chain takes another message type; not attached"
                );
                None
            }
        }
    }
}

impl<X> Hosted<X> {
    #[inline]
    pub(crate) fn push(&mut self, x: X) -> Result<(), X> {
        match &mut self.chain {
            Some(chain) => chain.push(x),
            None => Err(x),
        }
    }

    /// Runs every message of `msgs` through the chain, [`BATCH`] at a
    /// time; `Err` with the message the chain's first transform could not
    /// take (gone for good) and the rest, not taken.
    pub(crate) fn push_iter<I: Iterator<Item = X>>(&mut self, mut msgs: I) -> Result<(), (X, I)> {
        let Some(chain) = &mut self.chain else {
            return match msgs.next() {
                Some(x) => Err((x, msgs)),
                None => Ok(()),
            };
        };
        let mut taken = 0;
        while let Some(x) = msgs.next() {
            if let Err(x) = chain.feed(x) {
                chain.flush();
                return Err((x, msgs));
            }
            taken += 1;
            if taken == BATCH {
                chain.flush();
                taken = 0;
            }
        }
        chain.flush();
        Ok(())
    }
}

impl<X> Drop for Hosted<X> {
    fn drop(&mut self) {
        if let Some(mut chain) = self.chain.take() {
            // Only a host's iterator that panicked mid-batch leaves a batch
            // held: it goes on before the chain waits for the next run.
            chain.flush();
            self.link.lock().fused = Some(chain.park());
        }
    }
}

/// One chain as the kernel boots it: where its host sends, and its members.
pub(crate) struct Fusion {
    /// The host's output terminal.
    pub(crate) link: Arc<Link>,
    pub(crate) chain: Option<Box<dyn Parked>>,
    pub(crate) members: Vec<MemberEnv>,
}

impl Fusion {
    /// Builds every member and leaves the chain with its host's terminal.
    pub(crate) fn boot(
        &mut self,
        connectome: &Connectome,
        limit: RestartLimit,
    ) -> Result<(), (usize, String)> {
        let Some(mut chain) = self.chain.take() else {
            return Ok(());
        };
        let mut boot = Boot {
            members: std::mem::take(&mut self.members).into(),
            connectome,
            limit,
        };
        let booted = chain.boot(&mut boot);
        self.link.lock().fused = Some(chain);
        booted
    }

    /// Ends the chain its host's terminal keeps (a boot failed elsewhere).
    pub(crate) fn end(&self, state: ServerState, why: &str) {
        self.link.end_fused(state, why);
    }
}
