//! IBKR's WebSocket (`/v1/api/ws`) on the shared stream pool: live quotes per contract for the quote hub
//! and the data feed's `/streaming`, and order and P&L changes announced to the account hub.
//!
//! Layout: [`IbkrStreams`] (this file) is the public face; `frames` renders and classifies IBKR's
//! messages (pure functions); `protocol` is the pool's [`crate::upstream::stream::Protocol`] (session
//! from `/tickle`, one topic per message, `tic` keep-alive); `upgrade` is the upgrade request of each
//! transport (OAuth's token or bearer, masked in every error); `feed` folds quotes into market ticks
//! with the day's bar; `watch` turns `sor` and `spl` pushes into account changes. One socket carries
//! everything, on every transport.

mod feed;
mod frames;
mod protocol;
mod upgrade;
mod watch;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_fake;

pub use feed::ticks;
pub use protocol::Push;

use crate::backends::ibkr::config::ResolvedConfig;
use crate::backends::ibkr::session::Gateway;
use crate::broker::BrokerResult;
use crate::upstream::stream::{PoolOptions, StreamPool};
use crate::upstream::transport::Tls;
use protocol::GatewayProtocol;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Timing of the socket.
#[derive(Debug, Clone, Copy)]
pub struct StreamOptions {
    /// Interval of `tic` (IBKR advises at least one a minute).
    pub keep_alive: Duration,
    /// Nothing heard for this long: the socket is dead (IBKR's `system` heartbeat comes every 10 s).
    pub silence: Duration,
    /// First and longest wait before reconnecting.
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    /// Limit of the handshake, of every send, and of the wait for the session to be confirmed.
    pub connect_timeout: Duration,
    /// How long the socket stays open without topics in case a new one comes.
    pub linger: Duration,
    /// Wait before `sor`/`spl` are asked again after the socket refused them for good.
    pub resubscribe_after: Duration,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            keep_alive: Duration::from_secs(55),
            silence: Duration::from_secs(35),
            reconnect_min: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            linger: Duration::from_secs(5),
            resubscribe_after: Duration::from_secs(30),
        }
    }
}

impl StreamOptions {
    /// The pool's options: one socket for every topic, one topic per message, the latest quote replayed
    /// to a new listener of a contract already streaming.
    fn pool(&self) -> PoolOptions {
        PoolOptions {
            per_connection: usize::MAX,
            per_frame: 1,
            keep_alive: Some(self.keep_alive),
            silence: self.silence,
            reconnect_min: self.reconnect_min,
            reconnect_max: self.reconnect_max,
            jitter: true,
            healthy_after: Duration::from_secs(30),
            linger: self.linger,
            replay_last: true,
            ..PoolOptions::default()
        }
    }
}

/// The WebSocket URL of a Web API base URL: `https://host:5000/v1/api` -> `wss://host:5000/v1/api/ws`.
pub fn ws_url(base_url: &str) -> Option<String> {
    let base = base_url.trim_end_matches('/');
    let rest = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else {
        format!("ws://{}", base.strip_prefix("http://")?)
    };
    Some(format!("{rest}/ws"))
}

/// Why the socket cannot be used with `config` (the bridge then polls, as without a socket). Every
/// transport can open it: through the gateway as the gateway's login, over OAuth with the credential of
/// the REST calls (see [`crate::backends::ibkr::credentials::SocketPass`]).
pub fn unusable(config: &ResolvedConfig) -> Option<&'static str> {
    ws_url(&config.base_url)
        .is_none()
        .then_some("the base URL is not http(s)")
}

/// The socket's topics. Cheap to clone; the socket closes when the last clone goes and nothing listens.
#[derive(Clone)]
pub struct IbkrStreams {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pool: StreamPool<GatewayProtocol>,
    gateway: Arc<Gateway>,
    changes: broadcast::Sender<String>,
    /// Whether the `sor`/`spl` watch runs.
    watching: AtomicBool,
    options: StreamOptions,
}

impl IbkrStreams {
    /// The socket of `url` with the REST client's TLS trust, taking sessions and the upgrade's
    /// credential from `gateway`. Nothing is opened before the first topic.
    pub fn new(url: String, tls: Tls, gateway: Arc<Gateway>, options: StreamOptions) -> IbkrStreams {
        let protocol = GatewayProtocol {
            url,
            tls,
            gateway: gateway.clone(),
            connect_timeout: options.connect_timeout,
            merged: Mutex::new(frames::Merged::default()),
        };
        IbkrStreams {
            inner: Arc::new(Inner {
                pool: StreamPool::new(Arc::new(protocol), options.pool()),
                gateway,
                changes: broadcast::channel(256).0,
                watching: AtomicBool::new(false),
                options,
            }),
        }
    }

    /// Whole quotes of `conid` after every update, in arrival order (`Push::Quote` only). Dropping the
    /// receiver sends `umd` (within about half a second).
    pub fn quotes(&self, conid: i64) -> BrokerResult<mpsc::Receiver<Push>> {
        self.inner.pool.subscribe(&conid.to_string())
    }

    /// Ids of accounts whose orders or P&L changed, from `sor` and `spl`; the first call starts them.
    pub fn changes(&self) -> broadcast::Receiver<String> {
        let rx = self.inner.changes.subscribe();
        if !self.inner.watching.swap(true, Ordering::SeqCst) {
            tokio::spawn(watch::run(Arc::downgrade(&self.inner)));
        }
        rx
    }

    /// Counts of the socket pool (tests and diagnostics).
    pub fn stats(&self) -> crate::upstream::stream::PoolStats {
        self.inner.pool.stats()
    }
}
