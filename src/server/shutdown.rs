//! The shutdown signal every long-lived piece of work watches: streams end with a final line, `/readyz`
//! turns unready, and the server stops accepting.

use tokio_util::sync::CancellationToken;

/// Set once, when the process begins to stop; cheap to clone and to wait on.
#[derive(Clone, Default)]
pub struct Shutdown(CancellationToken);

impl Shutdown {
    /// Not stopping yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts the shutdown: every waiter wakes.
    pub fn begin(&self) {
        self.0.cancel();
    }

    /// Whether the shutdown has begun.
    pub fn is_stopping(&self) -> bool {
        self.0.is_cancelled()
    }

    /// Completes when the shutdown begins.
    pub async fn stopping(&self) {
        self.0.cancelled().await
    }

    /// The underlying token, for `select!` loops that hold it across polls.
    pub fn token(&self) -> &CancellationToken {
        &self.0
    }
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
