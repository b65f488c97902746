//! The HTTP edge: tvbridge's own accept loop and hyper connections around the router, with the limits
//! axum's `serve` lacks (header-read, body-read and idle timeouts, a connection cap, accept back-off) and
//! a shutdown that ends every stream, finishes in-flight requests and returns within a grace period.

mod accept;
pub mod body;
mod conn;
mod io;
mod shutdown;

pub use accept::{accept_loop, Acceptor, Backoff};
pub use shutdown::{signal, Shutdown};

use crate::state::AppState;
use axum::Router;
use conn::{serve_connection, ConnLimits};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What is left for the runtime's own shutdown after the connections are closed, inside the grace
/// period: `main` gives the runtime this long to drop its remaining tasks.
pub const RUNTIME_SHUTDOWN: Duration = Duration::from_millis(250);

/// How a shutdown went.
#[derive(Debug, Clone, Copy)]
pub struct Stopped {
    /// From the signal to the last connection closed.
    pub took: Duration,
    /// Connections still open at the end of the grace period, then dropped.
    pub cut: usize,
}

/// Serves `router` on `listener` until `signal` completes, then stops: `state`'s shutdown is set (streams
/// send their final line and end, `/readyz` turns unready), no connection is accepted any more, idle
/// connections close, busy ones finish their response; whatever is left at the end of
/// `server.shutdown_grace_secs` (less twice [`RUNTIME_SHUTDOWN`]) is dropped.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    router: Router,
    signal: impl Future<Output = ()>,
) -> Stopped {
    let server = &state.config().server;
    let limits = ConnLimits {
        header: Duration::from_secs(server.header_read_timeout_secs),
        body: Duration::from_secs(server.body_read_timeout_secs),
        idle: Duration::from_secs(server.idle_timeout_secs),
    };
    // Draining, then cutting (at most RUNTIME_SHUTDOWN), then the runtime's own end fit in the grace period.
    let grace = Duration::from_secs(server.shutdown_grace_secs).saturating_sub(2 * RUNTIME_SHUTDOWN);
    let slots = Arc::new(Semaphore::new(server.max_connections));
    let stop_accepting = CancellationToken::new();
    let graceful = CancellationToken::new();
    let force = CancellationToken::new();
    let tracker = TaskTracker::new();
    // Boxed, so that dropping it below really closes the listening socket it owns.
    let mut accepting = Box::pin({
        let (tracker, graceful, force) = (tracker.clone(), graceful.clone(), force.clone());
        accept_loop(listener, slots, stop_accepting.clone(), move |io, addr, slot| {
            let conn = serve_connection(io, addr, router.clone(), limits, graceful.clone(), force.clone());
            tracker.spawn(async move {
                conn.await;
                drop(slot);
            });
        })
    });
    tokio::select! {
        _ = &mut accepting => {}
        _ = signal => {}
    }
    let started = Instant::now();
    tracing::info!(
        connections = tracker.len(),
        streams = state.streams().open_streams(),
        "shutdown signal received; ending streams and finishing in-flight requests (at most {} ms)",
        grace.as_millis()
    );
    stop_accepting.cancel();
    // Dropping the accept loop closes the listening socket: new clients are refused, not queued.
    drop(accepting);
    state.shutdown().begin();
    graceful.cancel();
    tracker.close();
    let mut cut = 0;
    if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
        cut = tracker.len();
        tracing::warn!(
            connections = cut,
            "grace period over; closing the connections still open"
        );
        force.cancel();
        let _ = tokio::time::timeout(RUNTIME_SHUTDOWN, tracker.wait()).await;
    }
    Stopped {
        took: started.elapsed(),
        cut,
    }
}

/// Serves a small side `router` (the metrics page) on `listener` until `stop` is cancelled: at most
/// `max_connections` at once, short header, body and idle timeouts, no grace period (a scrape is quick).
pub async fn run_side(
    listener: tokio::net::TcpListener,
    router: Router,
    max_connections: usize,
    stop: CancellationToken,
) {
    let limits = ConnLimits {
        header: Duration::from_secs(5),
        body: Duration::from_secs(5),
        idle: Duration::from_secs(30),
    };
    let slots = Arc::new(Semaphore::new(max_connections));
    let force = CancellationToken::new();
    let tracker = TaskTracker::new();
    let accepting = {
        let (tracker, graceful, force) = (tracker.clone(), stop.clone(), force.clone());
        accept_loop(listener, slots, stop.clone(), move |io, addr, slot| {
            let conn = serve_connection(io, addr, router.clone(), limits, graceful.clone(), force.clone());
            tracker.spawn(async move {
                conn.await;
                drop(slot);
            });
        })
    };
    tokio::select! {
        _ = accepting => {}
        _ = stop.cancelled() => {}
    }
    tracker.close();
    if tokio::time::timeout(Duration::from_secs(1), tracker.wait())
        .await
        .is_err()
    {
        force.cancel();
    }
}

/// Warns when the process may open fewer files than `max_connections` needs (each connection is one
/// descriptor, and the backends need a few more): the accept loop would then run into EMFILE instead of
/// the configured cap. Linux only (`/proc/self/limits`); silent elsewhere.
pub fn warn_if_descriptors_short(max_connections: usize) {
    let Ok(limits) = std::fs::read_to_string("/proc/self/limits") else {
        return;
    };
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(soft) = soft {
        if soft < max_connections.saturating_add(100) {
            tracing::warn!(
                open_files_limit = soft,
                max_connections,
                "the open-files limit is below server.max_connections plus a margin of 100; raise it \
                 (ulimit -n, LimitNOFILE, docker --ulimit nofile) or lower server.max_connections"
            );
        }
    }
}
