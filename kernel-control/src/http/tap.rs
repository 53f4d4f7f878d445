//! Pipe taps over HTTP and MCP: samples of the messages flowing through a
//! tappable connection (`tap = true` in wiring.toml), as server-sent events
//! (`GET /api/v1/connections/{id}/tap`) or a bounded batch (MCP `tap`).
//!
//! A watcher asks the pipe for its next message at most `rate` times a
//! second and takes what the consumer side left in the tap, newest wins:
//! the data plane never waits for a watcher, and nothing queues for a slow
//! client.

use std::convert::Infallible;
use std::time::{Duration, Instant, UNIX_EPOCH};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::api::{AppState, ConnectionId, StreamSlot};
use super::operations::{parse_id, refused};
use kernel_core::control::ControlError;
use kernel_core::{Connectome, TapError, TapSample, TapWatch, Uuid};
use kernel_hostess::http::{ApiError, ErrorJson};

/// Samples per second a watcher gets when it does not say.
pub(crate) const DEFAULT_RATE: u32 = 10;
/// Most samples per second a watcher may ask for.
pub(crate) const MAX_RATE: u32 = 100;
/// How often a watcher that asked looks whether its sample came.
const POLL: Duration = Duration::from_millis(5);
/// A stream with no sample for this long sends a `status` event.
const QUIET: Duration = Duration::from_secs(1);

/// One message seen through a tap, as JSON.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct SampleJson {
    /// The message's number in the pipe: 1 for the first message its
    /// consumer took (sampled or not).
    pub(crate) seq: u64,
    /// When the consumer took it, in milliseconds since the Unix epoch.
    pub(crate) at_ms: u64,
    /// The message, as its `serde::Serialize` writes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub(crate) message: Option<Value>,
    /// Why the message could not be shown (its encoder failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

impl From<&TapSample> for SampleJson {
    fn from(s: &TapSample) -> Self {
        let at_ms =
            s.at.duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let (message, error) = match &s.message {
            Ok(text) => match serde_json::from_str(text) {
                Ok(value) => (Some(value), None),
                Err(e) => (None, Some(format!("the encoder wrote no JSON: {e}"))),
            },
            Err(e) => (None, Some(e.clone())),
        };
        SampleJson {
            seq: s.seq,
            at_ms,
            message,
            error,
        }
    }
}

/// The refusal of a tap, as the API answers it.
pub(crate) fn tap_refused(e: &TapError) -> ApiError {
    match e {
        TapError::UnknownConnection { id } => {
            refused(&ControlError::UnknownConnection { id: id.to_string() })
        }
        TapError::NotTappable { .. } => ApiError::new(StatusCode::CONFLICT, e.to_string()),
    }
}

/// A watcher of one connection, sampling at most `rate` messages a second.
pub(crate) struct Sampler {
    connectome: Connectome,
    id: Uuid,
    watch: TapWatch,
    period: Duration,
    /// When the next sample may be asked for.
    due: Instant,
}

impl Sampler {
    /// Watches connection `id` (text, as in a path) at `rate` samples a
    /// second (1 ..= [`MAX_RATE`]).
    pub(crate) fn open(connectome: &Connectome, id: &str, rate: u32) -> Result<Self, ApiError> {
        let id = parse_id(id)?;
        let watch = connectome.tap(id).map_err(|e| tap_refused(&e))?;
        Ok(Sampler {
            connectome: connectome.clone(),
            id,
            watch,
            period: Duration::from_secs(1) / rate.clamp(1, MAX_RATE),
            due: Instant::now(),
        })
    }

    /// The next sample, no sooner than the rate allows; `None` when no
    /// message passed within `patience` of asking.
    pub(crate) async fn next(&mut self, patience: Duration) -> Option<SampleJson> {
        tokio::time::sleep_until(self.due.into()).await;
        self.follow();
        self.watch.ask();
        let asked = Instant::now();
        loop {
            if let Some(sample) = self.watch.take() {
                self.due = Instant::now() + self.period;
                return Some(SampleJson::from(&*sample));
            }
            if asked.elapsed() >= patience {
                return None;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// A connection connected again runs through a new pipe: watch that.
    fn follow(&mut self) {
        let Some(stats) = self.connectome.pipe_stats(self.id) else {
            return;
        };
        if !self.watch.watches(&stats)
            && let Ok(watch) = self.connectome.tap(self.id)
        {
            self.watch = watch;
        }
    }

    /// The connection's state and how many messages its consumer took.
    fn status(&self) -> Value {
        let pipe = self.connectome.pipe(self.id);
        serde_json::json!({
            "state": pipe.as_ref().map(|p| p.state.to_string()),
            "messages_out": pipe.as_ref().map(|p| p.messages_out),
        })
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct TapQuery {
    /// Most samples per second (default 10).
    #[param(minimum = 1, maximum = 100)]
    rate: Option<i64>,
    /// End the stream after this many samples (default: never).
    #[param(minimum = 1)]
    limit: Option<i64>,
}

/// What kind of tap event.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // a schema only
enum TapEventKind {
    /// A message; `data` is a [`SampleJson`], `id` its `seq`.
    Sample,
    /// No message passed for a second: `{"state", "messages_out"}`.
    Status,
}

/// One server-sent event of `GET /api/v1/connections/{id}/tap`.
#[derive(ToSchema)]
#[allow(dead_code)] // a schema only
struct TapEvent {
    #[schema(inline)]
    event: TapEventKind,
    /// JSON text.
    data: String,
    /// The sample's `seq`.
    id: Option<String>,
}

/// Samples of the messages flowing through a connection, like
/// `ros2 topic echo`: a `sample` event per message seen, at most `rate` a
/// second (newest wins: nothing queues for a slow client, and the pipe
/// never waits), a `status` event after a second without one. Only
/// connections with `tap = true` in wiring.toml are tappable; others
/// answer 409 saying so.
#[utoipa::path(get, path = "/api/v1/connections/{id}/tap", tag = "kernel", operation_id = "tapConnection",
    params(ConnectionId, TapQuery),
    responses(
        (status = 200, description = "the samples, as server-sent events", content(
            (TapEvent = "text/event-stream"),
        )),
        (status = 400, description = "bad query parameter", body = ErrorJson),
        (status = 404, description = "unknown connection", body = ErrorJson),
        (status = 409, description = "the connection is not tappable (no `tap = true` in wiring.toml)", body = ErrorJson),
        (status = 503, description = "too many event streams are open", body = ErrorJson),
    ))]
pub(crate) async fn tap(
    State(state): State<AppState>,
    Path(ConnectionId { id }): Path<ConnectionId>,
    Query(q): Query<TapQuery>,
) -> Response {
    let rate = match q.rate.map(u32::try_from) {
        None => DEFAULT_RATE,
        Some(Ok(rate)) if (1..=MAX_RATE).contains(&rate) => rate,
        Some(_) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("`rate` is samples per second, 1 to {MAX_RATE}"),
            )
            .into_response();
        }
    };
    let limit = match q.limit.map(u64::try_from) {
        None => None,
        Some(Ok(limit)) if limit >= 1 => Some(limit),
        Some(_) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "`limit` is a count of samples, 1 or more",
            )
            .into_response();
        }
    };
    let sampler = match Sampler::open(state.control.connectome(), &id, rate) {
        Ok(sampler) => sampler,
        Err(e) => return e.into_response(),
    };
    let Some(slot) = state.streams.open() else {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many event streams are open already; try again later",
        )
        .into_response();
    };
    Sse::new(sample_stream(state, sampler, slot, limit))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(10)))
        .into_response()
}

struct TapCursor {
    state: AppState,
    sampler: Sampler,
    _slot: StreamSlot,
    left: Option<u64>,
}

fn sample_stream(
    state: AppState,
    sampler: Sampler,
    slot: StreamSlot,
    limit: Option<u64>,
) -> impl Stream<Item = Result<SseEvent, Infallible>> + Send {
    let cursor = TapCursor {
        state,
        sampler,
        _slot: slot,
        left: limit,
    };
    stream::unfold(cursor, |mut c| async move {
        if c.left == Some(0) || *c.state.shutdown.borrow() {
            return None;
        }
        let mut shutdown = c.state.shutdown.clone();
        let event = tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return None,
            sample = c.sampler.next(QUIET) => match sample {
                Some(sample) => {
                    c.left = c.left.map(|n| n - 1);
                    SseEvent::default()
                        .event("sample")
                        .id(sample.seq.to_string())
                        .data(serde_json::to_string(&sample).unwrap_or_default())
                }
                None => SseEvent::default()
                    .event("status")
                    .data(c.sampler.status().to_string()),
            },
        };
        Some((Ok(event), c))
    })
}

/// Takes up to `count` samples within `within`, for the MCP `tap` tool.
pub(crate) async fn take(
    connectome: &Connectome,
    id: &str,
    count: usize,
    rate: u32,
    within: Duration,
) -> Result<Vec<SampleJson>, ApiError> {
    let mut sampler = Sampler::open(connectome, id, rate)?;
    let until = Instant::now() + within;
    let mut samples = Vec::with_capacity(count);
    while samples.len() < count {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match tokio::time::timeout(left, sampler.next(left)).await {
            Ok(Some(sample)) => samples.push(sample),
            _ => break,
        }
    }
    Ok(samples)
}
