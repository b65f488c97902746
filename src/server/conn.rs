//! One connection: hyper's HTTP/1.1 server over the wrapped socket, with the header-read, body-read and
//! idle timeouts and a graceful end on shutdown.
//!
//! hyper 1.x starts its own `header_read_timeout` whenever a connection waits for a request head, which
//! includes every idle keep-alive wait, so one timer would close idle keep-alive connections as early as
//! slow heads. The bridge keeps the two apart: it watches the connection's phase itself (idle, reading a
//! head since its first byte, busy with a request) and closes it when the phase's limit passes.

use super::body::{DeadlineBody, TrackedBody};
use super::io::EdgeIo;
use axum::Router;
use hyper::body::Incoming;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The timeouts of one connection.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// From the first byte of a request head to its end.
    pub header: Duration,
    /// From a request head to the end of its body.
    pub body: Duration,
    /// With no request in flight and no byte received.
    pub idle: Duration,
}

const IDLE: u8 = 0;
const HEAD: u8 = 1;
const BUSY: u8 = 2;

/// Where a connection is, shared by its socket wrapper (bytes read), its service (requests) and its
/// watchdog. Atomics only: it is touched on every read.
pub(crate) struct Activity {
    epoch: Instant,
    phase: AtomicU8,
    /// Milliseconds after `epoch` when the phase began.
    since_ms: AtomicU64,
    in_flight: AtomicUsize,
    /// Wakes the watchdog when the last request in flight ends.
    went_idle: Notify,
}

impl Activity {
    pub(crate) fn new() -> Arc<Activity> {
        Arc::new(Activity {
            epoch: Instant::now(),
            phase: AtomicU8::new(IDLE),
            since_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            went_idle: Notify::new(),
        })
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Bytes arrived: on an idle connection they start a request head.
    pub(crate) fn on_read(&self) {
        if self.phase.load(Ordering::Relaxed) == IDLE {
            self.since_ms.store(self.now_ms(), Ordering::Relaxed);
            let _ = self
                .phase
                .compare_exchange(IDLE, HEAD, Ordering::AcqRel, Ordering::Relaxed);
        }
    }

    /// hyper parsed a request head and handed the request over.
    pub(crate) fn request_started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.phase.store(BUSY, Ordering::Release);
        InFlight(self.clone())
    }

    fn phase(&self) -> (u8, u64) {
        let phase = self.phase.load(Ordering::Acquire);
        (phase, self.since_ms.load(Ordering::Acquire))
    }

    /// Whether no request is in flight and no head has begun.
    fn is_idle(&self) -> bool {
        self.phase().0 == IDLE
    }
}

/// A request in flight; the connection is idle again when the last one is dropped.
pub(crate) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let a = &self.0;
        if a.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            a.since_ms.store(a.now_ms(), Ordering::Release);
            a.phase.store(IDLE, Ordering::Release);
            a.went_idle.notify_one();
        }
    }
}

/// Why the watchdog closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expired {
    /// No request for the idle timeout.
    Idle,
    /// A request head did not arrive whole in time.
    Head,
}

/// Completes when the connection has been idle, or reading one head, for longer than allowed.
pub(crate) async fn watchdog(activity: Arc<Activity>, limits: ConnLimits) -> Expired {
    loop {
        let (phase, since) = activity.phase();
        let (limit, expired) = match phase {
            BUSY => {
                // `notify_one` keeps a permit, so an end between the load and this wait is not missed.
                activity.went_idle.notified().await;
                continue;
            }
            HEAD => (limits.header, Expired::Head),
            _ => (limits.idle, Expired::Idle),
        };
        let deadline = activity.epoch + Duration::from_millis(since) + limit;
        if Instant::now() >= deadline {
            // Re-read: the phase may have moved on while the clock was read.
            if activity.phase() == (phase, since) {
                return expired;
            }
            continue;
        }
        tokio::time::sleep_until(deadline).await;
    }
}

/// The router as hyper's service: request bodies get their deadline, responses carry the in-flight mark.
#[derive(Clone)]
struct EdgeService {
    router: Router,
    /// The TCP peer, given to handlers as `ConnectInfo` (login throttling and audit lines per address).
    peer: std::net::SocketAddr,
    activity: Arc<Activity>,
    body_timeout: Duration,
}

impl hyper::service::Service<hyper::Request<Incoming>> for EdgeService {
    type Response = hyper::Response<TrackedBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, req: hyper::Request<Incoming>) -> Self::Future {
        let in_flight = self.activity.request_started();
        let limit = self.body_timeout;
        let mut req = req.map(|b| axum::body::Body::new(DeadlineBody::new(b, limit)));
        req.extensions_mut().insert(axum::extract::ConnectInfo(self.peer));
        let router = self.router.clone();
        Box::pin(async move {
            let response = match tower::ServiceExt::oneshot(router, req).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            Ok(response.map(|b| TrackedBody::new(b, in_flight)))
        })
    }
}

/// Serves one connection until the client leaves, a timeout passes, or the server stops: on `graceful`
/// an idle connection closes at once and a busy one after its response; on `force` it is dropped.
pub(crate) async fn serve_connection<I>(
    io: I,
    peer: std::net::SocketAddr,
    router: Router,
    limits: ConnLimits,
    graceful: CancellationToken,
    force: CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Activity::new();
    let io = hyper_util::rt::TokioIo::new(EdgeIo::new(io, activity.clone()));
    let service = EdgeService {
        router,
        peer,
        activity: activity.clone(),
        body_timeout: limits.body,
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    // hyper's own header timer would also end idle keep-alive waits; the watchdog does both jobs.
    builder.header_read_timeout(None);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let watch = watchdog(activity.clone(), limits);
    tokio::pin!(watch);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            return;
        }
        expired = &mut watch => {
            tracing::debug!(?expired, "closing a connection past its timeout");
            return;
        }
        _ = force.cancelled() => return,
        _ = graceful.cancelled() => {}
    }
    if activity.is_idle() {
        return;
    }
    conn.as_mut().graceful_shutdown();
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = &mut watch => {}
        _ = force.cancelled() => {}
    }
}
