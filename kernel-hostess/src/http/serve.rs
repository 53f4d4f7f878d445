//! Serving a router over HTTP/1.1 so that no client can starve the others:
//! a connection that sends no complete request head within
//! [`Limits::header_timeout`] is closed (also an idle keep-alive one), a
//! request whose handler (body included) takes longer than
//! [`Limits::request_timeout`] gets 408, and at most
//! [`Limits::max_connections`] are open at once: a new connection then
//! closes the oldest one that has no request in progress, so clients that
//! hold connections without using them cannot lock out one that asks.
//!
//! It runs on a thread of its own with a single-threaded tokio runtime, so
//! the data plane never waits on it.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::{oneshot, watch};

use super::ApiError;

/// How much a server lets its clients hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most connections open at once.
    pub max_connections: usize,
    /// Time a connection has to send a complete request head, from when it
    /// opens or its last response went out.
    pub header_timeout: Duration,
    /// Time a request has until its response starts (reading its body
    /// included); a streamed response body (server-sent events) may then
    /// run on.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Largest request head (request line and headers) read; a larger one gets
/// 431.
const MAX_HEAD: usize = 64 * 1024;

/// How long open requests may finish after shutdown was asked for.
const GRACE: Duration = Duration::from_secs(2);

/// A running server; dropping it stops the server.
#[derive(Debug)]
pub struct Served {
    /// The address it listens on.
    pub addr: SocketAddr,
    stop: Option<watch::Sender<bool>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Served {
    /// Stops accepting, lets open requests finish (briefly), and waits for
    /// the server's thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Serves `router` on `addr` (e.g. `127.0.0.1:0`) with the default
/// [`Limits`] on a thread of its own until the returned handle is dropped.
pub fn serve(router: Router, addr: SocketAddr) -> std::io::Result<Served> {
    let listener = std::net::TcpListener::bind(addr)?;
    serve_on(listener, router, Limits::default(), "http")
}

/// Serves `router` on a bound `listener` on a thread named `name`.
pub fn serve_on(
    listener: std::net::TcpListener,
    router: Router,
    limits: Limits,
    name: &str,
) -> std::io::Result<Served> {
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let thread = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            runtime.block_on(async move {
                match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => accept_loop(listener, router, limits, stop_rx).await,
                    Err(e) => tracing::error!(error = %e, addr = %addr, "cannot serve HTTP"),
                }
            });
        })?;
    Ok(Served {
        addr,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

/// The open connections, oldest first.
#[derive(Default)]
struct Connections {
    next_id: u64,
    open: BTreeMap<u64, Open>,
}

struct Open {
    /// Requests in progress (until their response body is sent).
    busy: Arc<AtomicUsize>,
    /// Closes the connection.
    evict: oneshot::Sender<()>,
}

type Shared = Arc<Mutex<Connections>>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Connections> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Connections {
    /// Makes room for one more: at the limit, closes the oldest connection
    /// with no request in progress; `None` when every one is busy.
    fn admit(&mut self, max: usize) -> Option<(u64, Arc<AtomicUsize>, oneshot::Receiver<()>)> {
        if self.open.len() >= max.max(1) {
            let idle = self
                .open
                .iter()
                .find(|(_, o)| o.busy.load(Ordering::Acquire) == 0)
                .map(|(id, _)| *id)?;
            if let Some(o) = self.open.remove(&idle) {
                let _ = o.evict.send(());
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        let busy = Arc::new(AtomicUsize::new(0));
        let (evict, evicted) = oneshot::channel();
        self.open.insert(
            id,
            Open {
                busy: busy.clone(),
                evict,
            },
        );
        Some((id, busy, evicted))
    }
}

/// Removes a connection from the table when its task ends.
struct Registered {
    shared: Shared,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        lock(&self.shared).open.remove(&self.id);
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let shared = Shared::default();
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stopped(&mut stop) => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors, say: wait for some to close
                // rather than spin.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some((id, busy, evicted)) = lock(&shared).admit(limits.max_connections) else {
            tracing::debug!("every connection is busy; closing a new one");
            continue;
        };
        let registered = Registered {
            shared: shared.clone(),
            id,
        };
        let service = Tracked {
            inner: TowerToHyperService::new(router.clone()),
            busy,
            timeout: limits.request_timeout,
        };
        let stop = stop.clone();
        tasks.spawn(serve_connection(
            stream, service, limits, evicted, stop, registered,
        ));
        // Reap the finished tasks so the set does not grow.
        while tasks.try_join_next().is_some() {}
    }
    drop(listener);
    while tasks.join_next().await.is_some() {}
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    service: Tracked,
    limits: Limits,
    evicted: oneshot::Receiver<()>,
    mut stop: watch::Receiver<bool>,
    _registered: Registered,
) {
    let _ = stream.set_nodelay(true);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(MAX_HEAD);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        served = connection.as_mut() => {
            if let Err(e) = served {
                tracing::debug!(error = %e, "HTTP connection ended");
            }
        }
        // Dropping the connection closes its socket.
        _ = evicted => tracing::debug!("closed an idle HTTP connection to make room"),
        () = stopped(&mut stop) => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(GRACE, connection).await;
        }
    }
}

/// Resolves when the server is asked to stop.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // An error means the handle is gone: stop too.
    let _ = stop.wait_for(|s| *s).await;
}

/// The router as a hyper service that counts the requests in progress on
/// its connection and bounds the time to a response.
struct Tracked {
    inner: TowerToHyperService<Router>,
    busy: Arc<AtomicUsize>,
    timeout: Duration,
}

impl hyper::service::Service<Request<Incoming>> for Tracked {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let guard = Busy::enter(self.busy.clone());
        let response = self.inner.call(request);
        let timeout = self.timeout;
        Box::pin(async move {
            let response = match tokio::time::timeout(timeout, response).await {
                Ok(Ok(response)) => response,
                Ok(Err(never)) => match never {},
                Err(_) => {
                    let mut response = ApiError::new(
                        StatusCode::REQUEST_TIMEOUT,
                        format!(
                            "the request took longer than {} s (a body sent too slowly?)",
                            timeout.as_secs()
                        ),
                    )
                    .into_response();
                    response
                        .headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                    response
                }
            };
            Ok(response.map(|body| Body::new(Guarded { body, _busy: guard })))
        })
    }
}

/// One request in progress on a connection, until dropped.
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn enter(count: Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        Busy(count)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted until it is sent.
struct Guarded {
    body: Body,
    _busy: Busy,
}

impl HttpBody for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_limit_the_oldest_idle_connection_makes_room() {
        let mut c = Connections::default();
        let (a, busy_a, _ra) = c.admit(2).expect("room");
        let (b, _busy_b, mut rb) = c.admit(2).expect("room");
        busy_a.fetch_add(1, Ordering::AcqRel);
        // `a` is busy, so `b` (idle) is closed for the third.
        let (third, _, _) = c.admit(2).expect("room");
        assert_eq!(rb.try_recv(), Ok(()));
        assert_eq!(c.open.keys().copied().collect::<Vec<_>>(), vec![a, third]);
        assert_ne!(b, third);
        // Every connection busy: no room.
        c.open.values().for_each(|o| {
            o.busy.fetch_add(1, Ordering::AcqRel);
        });
        assert!(c.admit(2).is_none());
        assert_eq!(c.open.len(), 2);
    }
}
