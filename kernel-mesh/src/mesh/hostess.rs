//! The Hostess across kernels: liveliness tokens for this kernel and each
//! of its guests, and queryables for its menu, its guests (`?mask=`) and
//! phone calls. The queryables hand their queries to one thread, which
//! answers with the same JSON as the Hostess's HTTP API.

use std::sync::Arc;

use crossbeam_channel::Receiver;
use kernel_core::Connectome;
use kernel_hostess::HostessExt;
use kernel_hostess::http::{ErrorJson, GuestJson, GuestsJson, MenuJson};
use kernel_hostess::mask::{GuestMask, mask_message};
use zenoh::Wait;
use zenoh::liveliness::LivelinessToken;
use zenoh::pubsub::Subscriber;
use zenoh::query::{Query, Queryable};
use zenoh::sample::SampleKind;

use super::call::{self, Answer, Call, Refusal, Replays};
use super::inbound::Inbound;
use super::{MeshError, Shared, keys};

/// What the mesh declared for the Hostess; undeclared when dropped.
pub(crate) struct Declared {
    _tokens: Vec<LivelinessToken>,
    _queryables: Vec<Queryable<()>>,
    _kernels: Subscriber<()>,
}

enum Asked {
    Menu(Query),
    Guests(Query),
    Call(Query),
}

/// Declares the tokens and queryables and starts the thread that answers.
pub(crate) fn declare(
    shared: &Arc<Shared>,
    connectome: &Connectome,
    inbound: &Arc<Inbound>,
    threads: &mut Vec<std::thread::JoinHandle<()>>,
) -> Result<Declared, MeshError> {
    let session = &shared.session;
    let kernel = shared.kernel;
    let fail = |e: zenoh::Error| MeshError::Open(e.to_string());
    let hostess = connectome.hostess();
    let mut tokens = vec![
        session
            .liveliness()
            .declare_token(keys::kernel(kernel, &shared.zid))
            .wait()
            .map_err(fail)?,
    ];
    for guest in hostess.guests() {
        tokens.push(
            session
                .liveliness()
                .declare_token(keys::guest(kernel, guest.identity.uuid()))
                .wait()
                .map_err(fail)?,
        );
    }
    let (tx, rx) = crossbeam_channel::unbounded::<Asked>();
    let mut queryables = Vec::new();
    for (key, make) in [
        (keys::menu(kernel), Asked::Menu as fn(Query) -> Asked),
        (keys::guests(kernel), Asked::Guests),
        (keys::call(kernel), Asked::Call),
    ] {
        let tx = tx.clone();
        queryables.push(
            session
                .declare_queryable(key)
                .callback(move |query| {
                    let _ = tx.send(make(query));
                })
                .wait()
                .map_err(fail)?,
        );
    }
    let gone = Arc::clone(inbound);
    let kernels = session
        .liveliness()
        .declare_subscriber(keys::ALL_KERNELS)
        .callback(move |sample| {
            if sample.kind() == SampleKind::Delete
                && let Some((_, zid)) = keys::parse_kernel(sample.key_expr().as_str())
            {
                gone.kernel_gone(zid.to_owned());
            }
        })
        .wait()
        .map_err(fail)?;
    let answering = Answering {
        shared: Arc::clone(shared),
        inbound: Arc::clone(inbound),
        replays: Replays::default(),
    };
    threads.push(
        std::thread::Builder::new()
            .name("mesh-hostess".to_owned())
            .spawn(move || answering.run(&rx))
            .map_err(|source| MeshError::Spawn {
                what: "hostess",
                source,
            })?,
    );
    Ok(Declared {
        _tokens: tokens,
        _queryables: queryables,
        _kernels: kernels,
    })
}

struct Answering {
    shared: Arc<Shared>,
    inbound: Arc<Inbound>,
    replays: Replays,
}

fn json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

fn error(message: String) -> Vec<u8> {
    json(&ErrorJson {
        error: message,
        wanted: None,
        found: None,
        free: None,
    })
}

impl Answering {
    fn run(&self, rx: &Receiver<Asked>) {
        let tick = std::time::Duration::from_millis(50);
        while !self.shared.stopping() {
            let Ok(asked) = rx.recv_timeout(tick) else {
                continue;
            };
            let Some(connectome) = self.shared.connectome.upgrade() else {
                return;
            };
            match asked {
                Asked::Menu(query) => {
                    let menu = MenuJson::from(&connectome.hostess().menu());
                    reply(&query, &keys::menu(self.shared.kernel), json(&menu), None);
                }
                Asked::Guests(query) => self.guests(&query, &connectome),
                Asked::Call(query) => self.call(&query, &connectome),
            }
        }
    }

    fn guests(&self, query: &Query, connectome: &Connectome) {
        let mask = match query.parameters().get("mask") {
            None | Some("") => GuestMask::any(),
            Some(text) => match GuestMask::parse(text) {
                Ok(mask) => mask,
                Err(e) => return reply_err(query, error(mask_message(&e))),
            },
        };
        match connectome.hostess().query(&mask, None) {
            Ok(guests) => {
                let body = GuestsJson {
                    guests: guests.iter().map(GuestJson::from).collect(),
                };
                reply(query, &keys::guests(self.shared.kernel), json(&body), None);
            }
            Err(e) => reply_err(query, error(e.to_string())),
        }
    }

    fn call(&self, query: &Query, connectome: &Connectome) {
        let call_key = keys::call(self.shared.kernel);
        let body = query
            .payload()
            .map(|p| p.to_bytes().into_owned())
            .unwrap_or_default();
        let call: Call = match serde_json::from_slice(&body) {
            Ok(call) => call,
            Err(e) => {
                let answer = Answer::refuse(Refusal::BadRequest, format!("unreadable call: {e}"));
                return reply(query, &call_key, json(&answer), None);
            }
        };
        let answer = self
            .check(query, &body, &call)
            .unwrap_or_else(|| self.inbound.answer(&call, connectome));
        if let Some(refusal) = answer.refused {
            tracing::info!(
                caller = %call.caller, route = %call.route, ?refusal, "call refused: {}",
                answer.message
            );
        }
        let body = json(&answer);
        let signature = self
            .shared
            .key
            .as_ref()
            .map(|k| k.sign_answer(&call.nonce, &body));
        reply(query, &call_key, body, signature);
    }

    /// With a passphrase: the call must be signed for this kernel, fresh
    /// and not seen before. `Some` refusal otherwise.
    fn check(&self, query: &Query, body: &[u8], call: &Call) -> Option<Answer> {
        let key = self.shared.key.as_ref()?;
        let signature = query.attachment().map(|a| a.to_bytes().into_owned());
        let call_key = keys::call(self.shared.kernel);
        let signed = signature.is_some_and(|s| key.verify_call(&call_key, body, &s));
        if !signed {
            return Some(Answer::refuse(
                Refusal::BadPassphrase,
                format!(
                    "the call is not signed with the passphrase of kernel `{}`'s mesh",
                    self.shared.kernel
                ),
            ));
        }
        if let Err(e) = self
            .replays
            .check(&call.nonce, call.timestamp_ms, call::now_ms())
        {
            return Some(Answer::refuse(Refusal::BadPassphrase, e.to_string()));
        }
        None
    }
}

/// Replies on this kernel's own `key`: a query may name many kernels
/// (`wiring/hostess/*/guests`), the reply says which one answers.
fn reply(query: &Query, key: &str, body: Vec<u8>, signature: Option<String>) {
    let mut r = query.reply(key, body);
    if let Some(signature) = signature {
        r = r.attachment(signature);
    }
    if let Err(e) = r.wait() {
        tracing::debug!("reply not sent: {e}");
    }
}

fn reply_err(query: &Query, body: Vec<u8>) {
    if let Err(e) = query.reply_err(body).wait() {
        tracing::debug!("reply not sent: {e}");
    }
}
