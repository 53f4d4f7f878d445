//! In-process live modification: the live connectome's state machines, its
//! event log, and the query and modification interface that servers,
//! operators and control surfaces (HTTP, MCP: `kernel-control`) use.
//!
//! - [`state`]: connection and server states and the one transition table;
//! - [`events`]: the bounded log of every transition;
//! - [`Control`]: modify (connect, disconnect, pause, resume, restart,
//!   stop) the running kernel; the policies of the kernel admit or refuse
//!   each new connection.

pub mod events;
pub(crate) mod rates;
pub mod state;

use std::any::TypeId;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use uuid::Uuid;

use crate::connectome::{
    Connectome, DEFAULT_CAPACITY, Endpoint, MAX_CAPACITY, PipeLive, PipeSpec, ServerState, pipe_id,
};
use crate::manifest::{RuleViolation, TerminalKind, check_direction, check_fan};
use crate::route::Feed;
use crate::terminal::link::{Link, Request};
pub use state::{ConnectionState, TransitionError};

/// Why a query or modification was refused; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// The request itself is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// No server instance of that name: [`Connectome::servers`] lists
    /// them.
    #[error("unknown server `{server}`")]
    UnknownServer {
        /// The name asked for.
        server: String,
    },
    /// No external process of that name.
    #[error("unknown process `{process}`")]
    UnknownProcess {
        /// The name asked for.
        process: String,
    },
    /// The server's type declares no terminal of that name.
    #[error("server `{server}` has no terminal `{terminal}`")]
    UnknownTerminal {
        /// The server instance.
        server: String,
        /// The terminal name asked for.
        terminal: String,
    },
    /// No connection with that pipe id: it never existed, or it closed and
    /// was forgotten.
    #[error("unknown connection `{id}`")]
    UnknownConnection {
        /// The id as given.
        id: String,
    },
    /// A direction or fan rule (the same as the build-time lint's).
    #[error("cannot connect `{from}` to `{to}`: {violation} [{}]", violation.code())]
    Rule {
        /// The producing end, `server.terminal`.
        from: String,
        /// The consuming end, `server.terminal`.
        to: String,
        /// Which rule, with its lint code.
        violation: RuleViolation,
    },
    /// The two terminals carry different message types (compared by Rust
    /// type name).
    #[error(
        "cannot connect `{from}` to `{to}`: `{from}` carries `{from_type}` but `{to}` takes `{to_type}` [E0401]"
    )]
    TypeMismatch {
        /// The producing end, `server.terminal`.
        from: String,
        /// The message type it sends.
        from_type: String,
        /// The consuming end, `server.terminal`.
        to: String,
        /// The message type it takes.
        to_type: String,
    },
    /// The two terminals are connected already: disconnect first, or keep
    /// the existing connection.
    #[error("`{from}` is already connected to `{to}` (connection `{id}`) [E0501]")]
    Duplicate {
        /// The producing end, `server.terminal`.
        from: String,
        /// The consuming end, `server.terminal`.
        to: String,
        /// The existing connection's id.
        id: Uuid,
    },
    /// The terminal's server has not attached its terminals yet (the kernel
    /// was not run, or the server is still booting): try again once it runs.
    #[error("terminal `{endpoint}` has not been attached by its server yet; boot the kernel first")]
    NotAttached {
        /// The terminal, `server.terminal`.
        endpoint: String,
    },
    /// The server's state does not allow the request (restarting a server
    /// that is still booting, say).
    #[error("server `{server}` is {state}; {what}")]
    ServerState {
        /// The server instance.
        server: String,
        /// Its state when asked.
        state: ServerState,
        /// What could not be done, and what to do instead.
        what: &'static str,
    },
    /// A restart or stop of this server was asked for and has not taken
    /// effect yet; wait for its event before asking again.
    #[error("server `{server}` already has a restart or stop request pending")]
    RequestPending {
        /// The server instance.
        server: String,
    },
    /// The connection's or server's state machine forbids the transition
    /// (resuming a connection that is not paused, say).
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The kernel has not started running, or has ended: the request needs
    /// running servers.
    #[error("the kernel is not running")]
    NotRunning,
    /// The build step fused the connection or transform into the thread of
    /// the server that feeds it: it has no pipe or thread of its own.
    #[error(
        "{subject} is fused into the thread of `{host}`: it cannot be {action} at run time; \
         set `fuse = false` on `{transform}` in wiring.toml to give it a pipe and a thread"
    )]
    Fused {
        /// `connection a.out -> t.input`, `transform t`.
        subject: String,
        /// The server whose thread runs the chain.
        host: String,
        /// The transform to set `fuse = false` on.
        transform: String,
        /// `paused`, `resumed`, `disconnected`, `connected`, `restarted`, `stopped`.
        action: &'static str,
    },
    /// A policy of the kernel (the Hostess, say) refused the connection.
    #[error("cannot connect `{from}` to `{to}`: {reason}")]
    Refused {
        /// The producing end, `server.terminal`.
        from: String,
        /// The consuming end, `server.terminal`.
        to: String,
        /// The policy's name.
        policy: &'static str,
        /// Why, as the policy said it.
        reason: String,
    },
}

/// How long a disconnect in `drop` mode waits for the consumer to let go of
/// the pipe (it does at its next receive, or at once when it waits) before
/// leaving the rest to the kernel's tick.
const DISCARD_PATIENCE: std::time::Duration = std::time::Duration::from_millis(200);

/// How a disconnect treats the messages still in the pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DisconnectMode {
    /// The consumer receives everything queued; then the pipe closes.
    #[default]
    Drain,
    /// What is queued is discarded and counted in the pipe's `drops`.
    Drop,
}

/// What a disconnect did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disconnected {
    /// The connection's id.
    pub id: Uuid,
    /// `draining` (still emptying or waiting for the producer to let go)
    /// or `closed`.
    pub state: ConnectionState,
    /// Messages still queued for the consumer.
    pub queued: u64,
    /// Messages discarded so far (mode `drop`).
    pub dropped: u64,
}

/// Query and modification handle on a kernel's live topology; cheap to
/// clone. Get one from [`Kernel::control`](crate::Kernel::control),
/// [`Connectome::control`] or, in a server, [`Context::control`](crate::Context::control).
///
/// Every modification is validated (the wiring rules, message types by
/// `TypeId`, the state tables) before anything changes, and logged with
/// its cause in the [event log](Connectome::events).
#[derive(Clone, Debug)]
pub struct Control {
    connectome: Connectome,
    cause: Arc<str>,
}

impl Connectome {
    /// A control handle on this connectome.
    pub fn control(&self) -> Control {
        Control {
            connectome: self.clone(),
            cause: Arc::from("api"),
        }
    }
}

fn split(endpoint: &str) -> Result<(&str, &str), ControlError> {
    match endpoint.split_once('.') {
        Some((s, t)) if !s.is_empty() && !t.is_empty() && !t.contains('.') => Ok((s, t)),
        _ => Err(ControlError::BadRequest(format!(
            "`{endpoint}` is not an endpoint; write `server.terminal`"
        ))),
    }
}

impl Control {
    /// The same handle, logging `cause` with every change it makes
    /// (`operator`, `server `x``, ...).
    pub fn with_cause(&self, cause: impl Into<String>) -> Control {
        Control {
            connectome: self.connectome.clone(),
            cause: Arc::from(cause.into()),
        }
    }

    /// The live connectome.
    pub fn connectome(&self) -> &Connectome {
        &self.connectome
    }

    fn link(&self, endpoint: &str) -> Result<(Endpoint, Arc<Link>), ControlError> {
        let (server, terminal) = split(endpoint)?;
        let (_, s) =
            self.connectome
                .server_live(server)
                .ok_or_else(|| ControlError::UnknownServer {
                    server: server.to_owned(),
                })?;
        let (name, link) =
            s.links
                .get_key_value(terminal)
                .ok_or_else(|| ControlError::UnknownTerminal {
                    server: server.to_owned(),
                    terminal: terminal.to_owned(),
                })?;
        Ok((
            Endpoint {
                server: s.spec.name,
                terminal: name,
            },
            Arc::clone(link),
        ))
    }

    /// Connection `id`, refused when the build step fused it.
    fn unfused_pipe(&self, id: Uuid, action: &'static str) -> Result<Arc<PipeLive>, ControlError> {
        let pipe = self.pipe(id)?;
        if pipe.fused {
            return Err(self.fused(&pipe, action));
        }
        Ok(pipe)
    }

    /// Why `action` is refused on the fused connection `pipe`.
    fn fused(&self, pipe: &PipeLive, action: &'static str) -> ControlError {
        let transform = pipe.spec.to.server;
        let host = self
            .connectome
            .server_live(transform)
            .and_then(|(_, s)| s.host)
            .unwrap_or(pipe.spec.from.server);
        ControlError::Fused {
            subject: format!("connection `{}`", pipe.label()),
            host: host.to_owned(),
            transform: transform.to_owned(),
            action,
        }
    }

    fn pipe(&self, id: Uuid) -> Result<Arc<PipeLive>, ControlError> {
        self.connectome
            .pipe_live(id)
            .ok_or_else(|| ControlError::UnknownConnection { id: id.to_string() })
    }

    /// Peers the terminal at `endpoint` has now (connections that hold it).
    fn peers(&self, endpoint: Endpoint, producer: bool) -> usize {
        self.connectome
            .pipes_live()
            .iter()
            .filter(|p| p.state().holds_terminals())
            .filter(|p| {
                if producer {
                    p.spec.from == endpoint
                } else {
                    p.spec.to == endpoint
                }
            })
            .count()
    }

    fn require_live_server(&self, server: &str, what: &'static str) -> Result<(), ControlError> {
        if let Some((_, s)) = self.connectome.server_live(server) {
            let state = s.state();
            if state.is_final() {
                return Err(ControlError::ServerState {
                    server: server.to_owned(),
                    state,
                    what,
                });
            }
        }
        Ok(())
    }

    /// Connects producer terminal `from` to consumer terminal `to` (both
    /// `server.terminal`) with a new pipe of `capacity` messages (default
    /// [`DEFAULT_CAPACITY`]); returns the connection's id.
    ///
    /// Refused, changing nothing, when a direction or fan rule is broken,
    /// the message types differ (`TypeId`), the pair is already connected,
    /// or either server is finished.
    pub fn connect(
        &self,
        from: &str,
        to: &str,
        capacity: Option<usize>,
    ) -> Result<Uuid, ControlError> {
        let capacity = capacity.unwrap_or(DEFAULT_CAPACITY);
        if !(1..=MAX_CAPACITY).contains(&capacity) {
            return Err(ControlError::BadRequest(format!(
                "capacity {capacity} is out of range; it must be between 1 and {MAX_CAPACITY}"
            )));
        }
        let (from_ep, from_link) = self.link(from)?;
        let (to_ep, to_link) = self.link(to)?;
        for end in [from_ep, to_ep] {
            let fused = self
                .connectome
                .pipes_live()
                .into_iter()
                .find(|p| p.fused && (p.spec.from == end || p.spec.to == end));
            if let Some(pipe) = fused {
                return Err(self.fused(&pipe, "connected"));
            }
        }
        let from_ty = from_link.ty().ok_or_else(|| ControlError::NotAttached {
            endpoint: from_ep.to_string(),
        })?;
        let to_ty = to_link.ty().ok_or_else(|| ControlError::NotAttached {
            endpoint: to_ep.to_string(),
        })?;
        let rule = |violation| ControlError::Rule {
            from: from_ep.to_string(),
            to: to_ep.to_string(),
            violation,
        };
        check_direction(from_ty.kind, to_ty.kind).map_err(rule)?;
        if from_ty.type_id != to_ty.type_id {
            return Err(ControlError::TypeMismatch {
                from: from_ep.to_string(),
                from_type: from_ty.type_name.to_owned(),
                to: to_ep.to_string(),
                to_type: to_ty.type_name.to_owned(),
            });
        }
        let kernel = self.connectome.spec().kernel.name;
        let id = pipe_id(kernel, &from_ep.to_string(), &to_ep.to_string());
        if let Some(existing) = self.connectome.pipe_live(id)
            && !existing.state().is_final()
        {
            return Err(ControlError::Duplicate {
                from: from_ep.to_string(),
                to: to_ep.to_string(),
                id,
            });
        }
        check_fan(from_ty.kind, self.peers(from_ep, true) + 1).map_err(rule)?;
        check_fan(to_ty.kind, self.peers(to_ep, false) + 1).map_err(rule)?;
        self.require_live_server(
            from_ep.server,
            "only a server that is not finished can be connected",
        )?;
        self.require_live_server(
            to_ep.server,
            "only a server that is not finished can be connected",
        )?;
        if self.connectome.stopping() {
            return Err(ControlError::NotRunning);
        }

        let spec = self.live_spec(id, from_ep, to_ep, capacity);
        self.admit(spec)?;
        let made = (from_ty.make_pipe)(spec);
        let pipe = self.connectome.add_pipe(PipeLive::new(
            spec,
            Arc::clone(&made.stats),
            Arc::clone(&from_link),
            Arc::clone(&to_link),
            true,
        ));
        if let Err(e) =
            self.connectome
                .transition_pipe(&pipe, ConnectionState::Reserved, &self.cause)
        {
            self.connectome.release_pipe(&pipe);
            return Err(e.into());
        }
        to_link.push(made.receiver);
        from_link.push(made.sender);
        self.connectome
            .transition_pipe(&pipe, ConnectionState::Connected, &self.cause)?;
        tracing::info!(%id, from = %from_ep, to = %to_ep, capacity, cause = %self.cause, "connected");
        Ok(id)
    }

    /// Opens a pipe of `capacity` messages into the input terminal `to`
    /// (`server.terminal`) for messages that arrive from elsewhere (another
    /// kernel): `from` names the far end, `id` the route. The terminal
    /// reads it like any pipe; see [`Feed`].
    ///
    /// Refused, changing nothing, when `to` is not an input, takes another
    /// message type than `T` (once its server attached it), is an `Input`
    /// that another producer feeds, or its server is finished.
    pub fn feed<T: Send + 'static>(
        &self,
        id: Uuid,
        from: Endpoint,
        to: &str,
        capacity: usize,
    ) -> Result<Feed<T>, ControlError> {
        if !(1..=MAX_CAPACITY).contains(&capacity) {
            return Err(ControlError::BadRequest(format!(
                "capacity {capacity} is out of range; it must be between 1 and {MAX_CAPACITY}"
            )));
        }
        let (to_ep, to_link) = self.link(to)?;
        let declared = self
            .connectome
            .spec()
            .server(to_ep.server)
            .and_then(|s| s.manifest.terminal(to_ep.terminal))
            .map(|t| t.kind);
        let ty = to_link.ty();
        let rule = |violation| ControlError::Rule {
            from: from.to_string(),
            to: to_ep.to_string(),
            violation,
        };
        if let Some(ty) = ty
            && ty.type_id != TypeId::of::<T>()
        {
            return Err(ControlError::TypeMismatch {
                from: from.to_string(),
                from_type: std::any::type_name::<T>().to_owned(),
                to: to_ep.to_string(),
                to_type: ty.type_name.to_owned(),
            });
        }
        if let Some(kind) = ty.map(|t| t.kind).or(declared) {
            check_direction(TerminalKind::Output, kind).map_err(rule)?;
            let producers = to_link
                .lock()
                .ends
                .iter()
                .filter(|e| !e.is_sender() && e.stats().senders() > 0)
                .count();
            check_fan(kind, producers + 1).map_err(rule)?;
        }
        self.require_live_server(
            to_ep.server,
            "only a server that is not finished can be fed",
        )?;
        if self.connectome.stopping() {
            return Err(ControlError::NotRunning);
        }
        let spec = self.live_spec(id, from, to_ep, capacity);
        let (tx, rx, stats) = crate::pipe::pipe::<T>(spec);
        to_link.push(Box::new(rx));
        tracing::debug!(%id, %from, to = %to_ep, capacity, cause = %self.cause, "fed");
        Ok(Feed::new(tx, stats, to_link, capacity))
    }

    /// Asks every policy to admit the connection; on a refusal, those
    /// that admitted it release it again.
    fn admit(&self, spec: &'static PipeSpec) -> Result<(), ControlError> {
        let policies = self.connectome.policies();
        for (i, policy) in policies.iter().enumerate() {
            if let Err(reason) = policy.admit(&self.connectome, spec) {
                for earlier in &policies[..i] {
                    earlier.release(&self.connectome, spec);
                }
                return Err(ControlError::Refused {
                    from: spec.from.to_string(),
                    to: spec.to.to_string(),
                    policy: policy.name(),
                    reason: reason.to_string(),
                });
            }
        }
        Ok(())
    }

    /// One spec per pair of endpoints and capacity for the life of the
    /// process: pipes and terminals refer to their spec as `'static`, so a
    /// spec is never freed, and connecting again with a capacity used
    /// before must not make another.
    fn live_spec(
        &self,
        id: Uuid,
        from: Endpoint,
        to: Endpoint,
        capacity: usize,
    ) -> &'static PipeSpec {
        if let Some(spec) = self.connectome.spec().pipes.iter().find(|p| p.id == id)
            && spec.capacity == capacity
        {
            return spec;
        }
        let mut specs = self
            .connectome
            .live
            .live_specs
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        specs.entry((id, capacity)).or_insert_with(|| {
            Box::leak(Box::new(PipeSpec {
                id,
                from,
                to,
                capacity,
            }))
        })
    }

    /// Pauses a connection: its consumer takes nothing out of it from its
    /// next receive on; the messages stay queued and the producer blocks
    /// once the pipe is full.
    pub fn pause(&self, id: Uuid) -> Result<(), ControlError> {
        let pipe = self.unfused_pipe(id, "paused")?;
        self.connectome
            .transition_pipe(&pipe, ConnectionState::Paused, &self.cause)?;
        pipe.stats.set_paused(true);
        pipe.to.touch();
        Ok(())
    }

    /// Resumes a paused connection.
    pub fn resume(&self, id: Uuid) -> Result<(), ControlError> {
        let pipe = self.unfused_pipe(id, "resumed")?;
        self.connectome
            .transition_pipe(&pipe, ConnectionState::Connected, &self.cause)?;
        pipe.stats.set_paused(false);
        pipe.to.touch();
        Ok(())
    }

    /// Disconnects a connection: the producer stops feeding it at once (a
    /// producer left without consumer waits for a new one), and the queued
    /// messages are delivered ([`DisconnectMode::Drain`]) or discarded and
    /// counted as drops ([`DisconnectMode::Drop`]). The connection is
    /// `draining` until empty and let go by both sides, then `closed`.
    ///
    /// Both terminals then wait for a new peer rather than end: a consumer
    /// that lost a producer this way does not reach end of stream when its
    /// other producers finish, and a producer does not fail for want of a
    /// consumer, since a live connect may still give them the peer the
    /// operator intends. They end when the kernel stops, when their server
    /// is asked to stop or restart, or, after a new peer was connected,
    /// when it finishes.
    ///
    /// The terminals booked with the Hostess under the connection's id
    /// alone are freed at once (a connection that ends by itself frees them
    /// when it is closed or failed).
    pub fn disconnect(&self, id: Uuid, mode: DisconnectMode) -> Result<Disconnected, ControlError> {
        let pipe = self.unfused_pipe(id, "disconnected")?;
        if pipe.state() == ConnectionState::Reserved {
            // Booked but never used (the kernel has not started): let go.
            self.connectome
                .transition_pipe(&pipe, ConnectionState::Closed, &self.cause)?;
            pipe.stats.close();
            drop(pipe.from.remove(&pipe.stats));
            let dropped = pipe
                .to
                .remove(&pipe.stats)
                .map(|end| end.discard(DISCARD_PATIENCE))
                .unwrap_or(0);
            return Ok(Disconnected {
                id,
                state: pipe.state(),
                queued: 0,
                dropped,
            });
        }
        self.connectome
            .transition_pipe(&pipe, ConnectionState::Draining, &self.cause)?;
        self.connectome.release_pipe(&pipe);
        // The consumer waits for a new producer once it drained what it
        // has, even if other pipes feed it now: they may be disconnected
        // too, or finish (see above). Marked before the pipe closes, so the
        // consumer never sees it closed while it may still end.
        pipe.to.change(|s| s.dormant = true);
        let producer = pipe.from.remove(&pipe.stats);
        pipe.stats.close();
        drop(producer);
        match mode {
            DisconnectMode::Drain => pipe.stats.set_paused(false),
            DisconnectMode::Drop => {
                pipe.drop_requested.store(true, Ordering::Release);
                if let Some(end) = pipe.to.remove(&pipe.stats) {
                    end.discard(DISCARD_PATIENCE);
                    *pipe.held.lock().unwrap_or_else(|e| e.into_inner()) = Some(end);
                }
            }
        }
        self.reconcile();
        let status = pipe.status_now();
        tracing::info!(%id, ?mode, dropped = status.1, cause = %self.cause, "disconnected");
        Ok(Disconnected {
            id,
            state: pipe.state(),
            queued: status.0,
            dropped: status.1,
        })
    }

    fn server_request(&self, server: &str, request: Request) -> Result<(), ControlError> {
        let (_, s) =
            self.connectome
                .server_live(server)
                .ok_or_else(|| ControlError::UnknownServer {
                    server: server.to_owned(),
                })?;
        if let Some(host) = s.host {
            return Err(ControlError::Fused {
                subject: format!("transform `{server}`"),
                host: host.to_owned(),
                transform: server.to_owned(),
                action: match request {
                    Request::Stop => "stopped",
                    _ => "restarted",
                },
            });
        }
        let state = s.state();
        // An ended server can be restarted (the kernel builds it afresh),
        // not stopped again.
        let ended_restart = state.is_final() && request == Request::Restart;
        if (state.is_final() && !ended_restart) || !self.connectome.is_running() {
            return Err(ControlError::ServerState {
                server: server.to_owned(),
                state,
                what: "only a server of a running kernel can be restarted, and only one that has not ended can be stopped",
            });
        }
        if !s.signal.ask(request) {
            return Err(ControlError::RequestPending {
                server: server.to_owned(),
            });
        }
        *s.request_cause.lock().unwrap_or_else(|e| e.into_inner()) = self.cause.to_string();
        for link in s.links.values() {
            link.touch();
        }
        tracing::info!(server, ?request, cause = %self.cause, "requested");
        Ok(())
    }

    /// Restarts a server: it sees [`Context::stopping`](crate::Context::stopping)
    /// and end of stream on its inputs, and once its `run` returns it is built
    /// afresh from its config and keeps its pipes (queued messages stay).
    pub fn restart(&self, server: &str) -> Result<(), ControlError> {
        self.server_request(server, Request::Restart)
    }

    /// Stops a server for good, the same way: once its `run` returns it is
    /// `stopped` and the streams it fed end.
    pub fn stop(&self, server: &str) -> Result<(), ControlError> {
        self.server_request(server, Request::Stop)
    }

    /// Brings connection states in line with what the pipes report
    /// (producer finished, drained, consumer gone); the kernel calls it
    /// regularly, every query does too.
    pub fn reconcile(&self) {
        for pipe in self.connectome.pipes_live() {
            self.reconcile_pipe(&pipe);
        }
    }

    /// `reconcile` for the kernel's regular tick: every pipe when one of
    /// them may have changed since the last tick (an end dropped, a producer
    /// closed, a transition), otherwise only the pipes whose state follows
    /// their queue (draining, or holding the end a disconnect dropped). An
    /// idle kernel of 10,000 pipes otherwise spends a quarter of a CPU
    /// looking at them. True when something changed or a pipe's state still
    /// follows its queue (the kernel then keeps looking often).
    pub(crate) fn reconcile_changes(&self, watch: &mut PipeWatch) -> bool {
        let count = self.connectome.live.pipe_changes.count();
        let changed = watch.seen != Some(count);
        if changed {
            // Read before looking: a change from now on is seen next tick.
            watch.seen = Some(count);
            watch.pipes = self.connectome.pipes_live();
        }
        for pipe in &watch.pipes {
            self.reconcile_pipe(pipe);
        }
        watch.pipes.retain(|pipe| pipe.follows_queue());
        changed || !watch.pipes.is_empty()
    }

    fn reconcile_pipe(&self, pipe: &PipeLive) {
        let stats = &pipe.stats;
        {
            let mut held = pipe.held.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(end) = held.as_ref() {
                end.try_discard();
                if stats.senders() == 0 && end.try_discard().is_some() {
                    *held = None;
                }
            }
        }
        let state = pipe.state();
        if stats.receivers() == 0 {
            let lost = stats.settle();
            if state.is_final() {
                return;
            }
            let dropped_on_request = pipe.drop_requested.load(Ordering::Acquire);
            let t = |to, cause: &str| {
                let _ = self.connectome.transition_pipe(pipe, to, cause);
            };
            if lost > 0 && !dropped_on_request {
                let cause = format!(
                    "consumer `{}` ended with {lost} messages left in the pipe (counted as drops)",
                    pipe.spec.to.server
                );
                tracing::warn!(pipe = %pipe.label(), "{cause}");
                t(ConnectionState::Failed, &cause);
                return;
            }
            // Nothing can be delivered or lost any more: a producer that
            // still sends gets its message back.
            if matches!(state, ConnectionState::Connected | ConnectionState::Paused) {
                t(
                    ConnectionState::Draining,
                    &format!("consumer `{}` ended", pipe.spec.to.server),
                );
            }
            let cause = if dropped_on_request {
                format!("disconnected; {} messages dropped", stats.drops())
            } else {
                format!("consumer `{}` let go; nothing left", pipe.spec.to.server)
            };
            t(ConnectionState::Closed, &cause);
            return;
        }
        let producer_done = stats.senders() == 0 || stats.is_closed();
        if producer_done && matches!(state, ConnectionState::Connected | ConnectionState::Paused) {
            let cause = format!("producer `{}` finished", pipe.spec.from.server);
            if self
                .connectome
                .transition_pipe(pipe, ConnectionState::Draining, &cause)
                .is_ok()
                && stats.is_paused()
            {
                stats.set_paused(false);
                pipe.to.touch();
            }
        }
        // Drained, and no producer can feed it any more: gone, or cut off by
        // a disconnect (a producer's terminal drops its end of a closed pipe
        // before its next send, but one blocked receiving never sends).
        if producer_done && stats.queue_depth() == 0 && pipe.state() == ConnectionState::Draining {
            let _ = self
                .connectome
                .transition_pipe(pipe, ConnectionState::Closed, "drained");
        }
    }

    /// The kernel is stopping: paused pipes resume so that everything
    /// drains, and every waiting terminal wakes up.
    pub(crate) fn on_kernel_stop(&self) {
        for pipe in self.connectome.pipes_live() {
            if pipe.state() == ConnectionState::Paused {
                let _ = self.connectome.transition_pipe(
                    &pipe,
                    ConnectionState::Connected,
                    "kernel stopping: paused pipes drain",
                );
                pipe.stats.set_paused(false);
            }
        }
        for server in &self.connectome.live.servers {
            for link in server.links.values() {
                link.touch();
            }
        }
    }
}

/// What the kernel's tick reconciles: see [`Control::reconcile_changes`].
#[derive(Default)]
pub(crate) struct PipeWatch {
    /// The change count when every pipe was last looked at.
    seen: Option<u64>,
    pipes: Vec<Arc<PipeLive>>,
}

impl PipeLive {
    /// The connection's state can move without any end changing: it waits
    /// for its queue to empty, or discards what a dropped producer still
    /// sends.
    fn follows_queue(&self) -> bool {
        self.state() == ConnectionState::Draining
            || self
                .held
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_some()
    }

    /// (queued, dropped) now.
    fn status_now(&self) -> (u64, u64) {
        (self.stats.queue_depth(), self.stats.drops())
    }
}
