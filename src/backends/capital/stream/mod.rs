//! Live Capital.com quotes over the streaming WebSocket API: sockets of at most 40 epics each, every quote
//! fanned out to the receivers of its epic, surviving drops, dead sockets and expired sessions by
//! reconnecting and resubscribing on their own.
//!
//! Layout: [`QuoteStreams`] (this file) is the public face over the shared stream pool
//! ([`crate::upstream::stream`]), which owns the epics, receivers, sockets and their timing; `protocol`
//! is what is Capital.com's own (message shapes, answers, tokens).
//!
//! `subscribe` returns as soon as the epic is assigned to a socket, before the upstream confirms it: the
//! caller is never held up by a reconnecting socket. An epic the upstream refuses (an answer other than
//! `PROCESSED`, or a `status: ERROR` that is not about the session) is dropped from the pool and its
//! receivers are closed, so a consumer sees `None` from `recv()`; the refusal is logged at warn.

mod protocol;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_faults;

use super::model;
use crate::broker::BrokerError;
use crate::secret::Secret;
use crate::upstream::stream::{PoolOptions, StreamPool};
use protocol::QuoteProtocol;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The documented upstream limit of epics per subscription (and per socket).
pub const MAX_EPICS_PER_SOCKET: usize = 40;

/// How long a socket with no epics left stays open in case a new epic comes along.
const IDLE_GRACE: Duration = Duration::from_secs(5);

/// The upstream session tokens a socket authenticates every message with. Debug masks both.
#[derive(Clone)]
pub struct StreamTokens {
    /// The `CST` header value of the REST session.
    pub cst: Secret,
    /// The `X-SECURITY-TOKEN` header value of the REST session.
    pub security_token: Secret,
}

impl fmt::Debug for StreamTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamTokens")
            .field("cst", &crate::secret::MASK)
            .field("security_token", &crate::secret::MASK)
            .finish()
    }
}

/// Where sockets get tokens: the backend hands out a live session's tokens; `invalidate` is called when the
/// stream reports the session invalid, so the next `tokens()` re-logs in.
#[async_trait::async_trait]
pub trait TokenSource: Send + Sync + 'static {
    /// The tokens of a live upstream session (logging in if there is none).
    async fn tokens(&self) -> Result<StreamTokens, BrokerError>;
    /// Marks the tokens last handed out as dead.
    fn invalidate(&self);
}

/// Tuning of the socket pool. Out-of-range values are clamped by [`QuoteStreams::new`] rather than
/// trusted: zero durations or capacities would otherwise panic inside tokio.
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// Epics per socket, 1 to [`MAX_EPICS_PER_SOCKET`] (default 40).
    pub max_epics_per_socket: usize,
    /// Interval of the `ping` message (default 5 min; the upstream session dies after 10 idle minutes).
    /// A socket that receives nothing for twice this long, or leaves a subscription unanswered that long,
    /// is considered dead and replaced.
    pub ping_every: Duration,
    /// First reconnection delay, doubled after each failed attempt (default 200 ms).
    pub reconnect_min: Duration,
    /// Longest reconnection delay (default 30 s).
    pub reconnect_max: Duration,
    /// Limit of the TCP + TLS + WebSocket handshake, and of every single send (default 10 s).
    pub connect_timeout: Duration,
    /// Quotes buffered per receiver (default 256); when full, new quotes for that receiver are dropped.
    pub channel_capacity: usize,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            max_epics_per_socket: MAX_EPICS_PER_SOCKET,
            ping_every: Duration::from_secs(5 * 60),
            reconnect_min: Duration::from_millis(200),
            reconnect_max: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            channel_capacity: 256,
        }
    }
}

impl StreamOptions {
    /// These options with every value in a range the pool can work with.
    fn sanitized(mut self) -> Self {
        // The upper bound keeps `Instant + duration` arithmetic far from overflowing.
        const MIN_TICK: Duration = Duration::from_millis(1);
        const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);
        self.max_epics_per_socket = self.max_epics_per_socket.clamp(1, MAX_EPICS_PER_SOCKET);
        self.ping_every = self.ping_every.clamp(MIN_TICK, MAX_WAIT);
        self.reconnect_min = self.reconnect_min.clamp(MIN_TICK, MAX_WAIT);
        self.reconnect_max = self.reconnect_max.clamp(self.reconnect_min, MAX_WAIT);
        self.connect_timeout = self.connect_timeout.clamp(MIN_TICK, MAX_WAIT);
        self.channel_capacity = self.channel_capacity.max(1);
        self
    }
}

/// A snapshot of the pool, for tests and health diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Sockets in the pool, connected or reconnecting.
    pub sockets: usize,
    /// Epics assigned to a socket (subscribed upstream, or about to be).
    pub epics: usize,
    /// Connection attempts made after a lost or failed connection, since the pool was created.
    pub reconnects: u64,
}

/// A socket that heard from the upstream and lasted this long resets the backoff.
const HEALTHY_UPTIME: Duration = Duration::from_secs(10);

impl StreamOptions {
    /// The pool's options: pings on this schedule, silence and unanswered subscriptions limited to two
    /// ping intervals, jittered back-off.
    fn pool(&self, idle_grace: Duration) -> PoolOptions {
        PoolOptions {
            per_connection: self.max_epics_per_socket,
            keep_alive: Some(self.ping_every),
            silence: self.ping_every * 2,
            ack_within: self.ping_every * 2,
            reconnect_min: self.reconnect_min,
            reconnect_max: self.reconnect_max,
            jitter: true,
            healthy_after: HEALTHY_UPTIME,
            linger: idle_grace,
            channel_capacity: self.channel_capacity,
            replay_last: true,
            ..PoolOptions::default()
        }
    }
}

/// Live quotes per epic from Capital.com's streaming API. Cheap to clone; when the last clone is dropped
/// every socket closes and every receiver ends.
#[derive(Clone)]
pub struct QuoteStreams {
    pool: StreamPool<QuoteProtocol>,
}

impl QuoteStreams {
    /// A pool connecting to `ws_url` (`wss://api-streaming-capital.backend-capital.com/connect` in
    /// production; `ws://` works too). No socket is opened before the first `subscribe`.
    pub fn new(ws_url: String, tokens: Arc<dyn TokenSource>, options: StreamOptions) -> Self {
        Self::with_idle_grace(ws_url, tokens, options, IDLE_GRACE)
    }

    /// Like [`QuoteStreams::new`] with the time an empty socket stays open chosen (tests use a short one).
    pub(crate) fn with_idle_grace(
        ws_url: String,
        tokens: Arc<dyn TokenSource>,
        options: StreamOptions,
        idle_grace: Duration,
    ) -> Self {
        let options = options.sanitized();
        let protocol = QuoteProtocol {
            url: ws_url,
            tokens,
            connect_timeout: options.connect_timeout,
        };
        QuoteStreams {
            pool: StreamPool::new(Arc::new(protocol), options.pool(idle_grace)),
        }
    }

    /// Live quotes of `epic`, in arrival order. Dropping the receiver ends the subscription (the socket sends
    /// `marketData.unsubscribe` within about half a second, or at the next quote of the epic, and frees the
    /// slot). Several subscriptions of one epic share one upstream subscription; a new receiver of an epic
    /// already streaming starts with the latest quote.
    ///
    /// Returns before the upstream confirms the subscription: a refused epic closes the receiver instead.
    /// Fails only for an empty or malformed epic, or after the pool was shut down.
    pub async fn subscribe(&self, epic: &str) -> Result<mpsc::Receiver<model::StreamQuote>, BrokerError> {
        self.pool.subscribe(epic)
    }

    /// Epics currently subscribed upstream and open sockets (for tests and /healthz-style diagnostics).
    pub fn stats(&self) -> StreamStats {
        let stats = self.pool.stats();
        StreamStats {
            sockets: stats.connections,
            epics: stats.keys,
            reconnects: stats.reconnects,
        }
    }
}

impl fmt::Debug for QuoteStreams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QuoteStreams")
            .field("url", &self.pool.protocol().url)
            .field("stats", &self.stats())
            .finish()
    }
}
