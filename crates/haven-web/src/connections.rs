//! Accepting and holding connections so that a flood of silent ones cannot take Haven down.
//!
//! Every open socket costs a file descriptor, and a client that connects and never sends its
//! request headers would otherwise hold one for ever: enough of them exhaust the process's
//! file limit, and then nobody, not even the load balancer's health check, gets in. So:
//!
//! - a connection must send its request headers within `header_read_timeout` (also the
//!   longest a kept-alive connection may wait for its next request);
//! - at most `max_connections` connections are served. When a new one arrives at the limit,
//!   the oldest connection that is not in the middle of a request is closed to make room, so
//!   silent connections cannot crowd out people who are actually asking for something;
//! - when every connection is busy with a request, a small reserve of further connections
//!   still gets `/healthz` and `/readyz` answered (a health check must not fail because the
//!   service is busy) and anything else a 503 asking to try again; beyond that reserve a new
//!   connection is closed at once;
//! - an error from `accept` (such as "too many open files") never ends the loop: it is
//!   logged, an idle connection is closed to free a descriptor, and accepting resumes after
//!   a short, growing pause.

use crate::error::ApiError;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tower::ServiceExt;

/// Connections beyond `max_connections` that are still served, health checks only, while
/// every regular connection is busy with a request.
pub const HEALTH_RESERVE: usize = 32;

/// Paths a connection in the reserve may ask for.
const HEALTH_PATHS: [&str; 2] = ["/healthz", "/readyz"];

/// How long to pause after the first failed `accept`; doubled on each further failure.
const FIRST_BACKOFF: Duration = Duration::from_millis(20);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// How many connections may be held, and for how long a silent one is tolerated.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting, lets requests
/// in flight finish, closes idle connections and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let registry = Arc::new(Registry::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    let mut backoff = FIRST_BACKOFF;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, remote) = match accepted {
            Ok(pair) => {
                backoff = FIRST_BACKOFF;
                pair
            }
            Err(error) => {
                if is_per_connection_error(&error) {
                    continue;
                }
                tracing::warn!(%error, pause_ms = backoff.as_millis() as u64,
                    "accept error; closing an idle connection and pausing before accepting again");
                registry.evict_oldest_idle();
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        let Some(admission) = registry.admit(limits.max_connections) else {
            tracing::warn!(%remote, "connection refused: the connection limit and its health-check reserve are full");
            drop(stream);
            continue;
        };
        tokio::spawn(run_connection(
            stream,
            remote,
            app.clone(),
            limits,
            admission,
            stop_rx.clone(),
        ));
    }
    drop(listener);
    // Tell every connection to finish its request and close, then wait for the last one.
    let _ = stop_tx.send(true);
    drop(stop_rx);
    stop_tx.closed().await;
    Ok(())
}

/// Errors that concern one connection that went away before it was accepted, not the
/// listener: nothing to wait for.
fn is_per_connection_error(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::Interrupted
    )
}

/// The connections being served, oldest first, with what is needed to close an idle one.
#[derive(Debug, Default)]
struct Registry {
    next_id: AtomicUsize,
    regular: Mutex<BTreeMap<usize, Slot>>,
    reserve: AtomicUsize,
}

#[derive(Debug)]
struct Slot {
    in_flight: Arc<AtomicUsize>,
    /// Taken when the connection is told to close, so it is asked only once.
    close: Option<Arc<Notify>>,
}

/// How an accepted connection is served.
enum Admission {
    /// A regular connection: everything is served. Leaves the registry when dropped.
    Regular {
        registry: Arc<Registry>,
        id: usize,
        in_flight: Arc<AtomicUsize>,
        close: Arc<Notify>,
    },
    /// Beyond the limit: health checks only, one request, then closed.
    Reserve { registry: Arc<Registry> },
}

impl Drop for Admission {
    fn drop(&mut self) {
        match self {
            Admission::Regular { registry, id, .. } => {
                if let Ok(mut regular) = registry.regular.lock() {
                    regular.remove(id);
                }
            }
            Admission::Reserve { registry } => {
                registry.reserve.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }
}

impl Registry {
    /// Decides how a newly accepted connection is served, or `None` to close it at once.
    fn admit(self: &Arc<Self>, max_connections: usize) -> Option<Admission> {
        let regular_count = self.regular.lock().map(|r| r.len()).unwrap_or(usize::MAX);
        if regular_count < max_connections || self.evict_oldest_idle() {
            return Some(self.register_regular());
        }
        let reserve = self.reserve.fetch_add(1, Ordering::AcqRel);
        if reserve < HEALTH_RESERVE {
            return Some(Admission::Reserve {
                registry: Arc::clone(self),
            });
        }
        self.reserve.fetch_sub(1, Ordering::AcqRel);
        None
    }

    fn register_regular(self: &Arc<Self>) -> Admission {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let close = Arc::new(Notify::new());
        if let Ok(mut regular) = self.regular.lock() {
            regular.insert(
                id,
                Slot {
                    in_flight: Arc::clone(&in_flight),
                    close: Some(Arc::clone(&close)),
                },
            );
        }
        Admission::Regular {
            registry: Arc::clone(self),
            id,
            in_flight,
            close,
        }
    }

    /// Asks the oldest connection that is between requests (or has not sent one yet) to
    /// close. Returns whether there was one.
    fn evict_oldest_idle(&self) -> bool {
        let Ok(mut regular) = self.regular.lock() else {
            return false;
        };
        for slot in regular.values_mut() {
            if slot.close.is_some() && slot.in_flight.load(Ordering::Acquire) == 0 {
                if let Some(close) = slot.close.take() {
                    close.notify_one();
                    return true;
                }
            }
        }
        false
    }
}

async fn run_connection(
    stream: TcpStream,
    remote: SocketAddr,
    app: Router,
    limits: Limits,
    admission: Admission,
    mut stop: watch::Receiver<bool>,
) {
    let reserve = matches!(admission, Admission::Reserve { .. });
    let (in_flight, close) = match &admission {
        Admission::Regular {
            in_flight, close, ..
        } => (Arc::clone(in_flight), Some(Arc::clone(close))),
        Admission::Reserve { .. } => (Arc::new(AtomicUsize::new(0)), None),
    };
    let service = {
        let in_flight = Arc::clone(&in_flight);
        hyper::service::service_fn(move |mut request: Request<Incoming>| {
            let app = app.clone();
            let guard = InFlight::start(&in_flight);
            async move {
                if reserve && !HEALTH_PATHS.contains(&request.uri().path()) {
                    return Ok::<_, Infallible>(busy_response());
                }
                request.extensions_mut().insert(ConnectInfo(remote));
                let response = match app.oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                };
                Ok(response.map(|body| {
                    Body::new(GuardedBody {
                        body,
                        _guard: guard,
                    })
                }))
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(!reserve);
    let mut connection = pin!(builder.serve_connection(TokioIo::new(stream), service));
    let mut closing = false;
    // Held until the connection ends: its place in the registry or the reserve.
    let _admission = admission;
    loop {
        let evicted = async {
            match &close {
                Some(close) if !closing => close.notified().await,
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%remote, %error, "connection ended with an error");
                }
                return;
            }
            _ = stop.changed(), if !closing => {
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
            () = evicted => {
                if in_flight.load(Ordering::Acquire) == 0 {
                    tracing::debug!(%remote, "closing an idle connection to make room for a new one");
                    return;
                }
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// The answer to anything but a health check from a connection in the reserve.
fn busy_response() -> Response<Body> {
    let mut response = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "busy",
        "Haven is very busy right now. Please try again in a moment.",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Counts a request as in flight from the moment its headers are read until its response
/// body has been sent (or abandoned): such a connection is never closed to make room.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn start(counter: &Arc<AtomicUsize>) -> InFlight {
        counter.fetch_add(1, Ordering::AcqRel);
        InFlight(Arc::clone(counter))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted as in flight until it is done.
struct GuardedBody {
    body: Body,
    _guard: InFlight,
}

impl http_body::Body for GuardedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
