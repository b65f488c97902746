//! The timing and sizing of one pool. Every backend states its own numbers; out-of-range values are
//! clamped rather than trusted (a zero duration or capacity would otherwise panic inside tokio).

use crate::upstream::backoff::Backoff;
use std::time::Duration;

/// Timing and sizing of a [`super::StreamPool`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// Keys one connection carries at most (Capital.com: 40; `usize::MAX`: one connection for all).
    pub per_connection: usize,
    /// Keys one subscribe or unsubscribe frame names at most (IBKR: one topic per message; default: as
    /// many as the connection carries).
    pub per_frame: usize,
    /// Interval of the protocol's keep-alive frame, if it has one.
    pub keep_alive: Option<Duration>,
    /// Nothing received (data, heartbeat, ping) for this long: the connection is dead and replaced.
    pub silence: Duration,
    /// A subscribe frame unanswered this long replaces the connection (protocols that acknowledge).
    pub ack_within: Duration,
    /// First reconnection delay, doubled after each failed attempt.
    pub reconnect_min: Duration,
    /// Longest reconnection delay.
    pub reconnect_max: Duration,
    /// Lower each reconnection delay by a random share of up to a quarter, so connections dropped
    /// together do not all come back in the same instant.
    pub jitter: bool,
    /// A connection that heard from the upstream and lived this long resets the back-off.
    pub healthy_after: Duration,
    /// How long a connection left without keys stays open in case a new key comes along.
    pub linger: Duration,
    /// Transports whose request carries the set (NDJSON): wait this long after a new key, so that a burst
    /// of subscriptions reopens the connection once.
    pub debounce: Duration,
    /// Events buffered per receiver; when full, new events for that receiver are dropped.
    pub channel_capacity: usize,
    /// A new receiver of a key already streaming starts with the latest event.
    pub replay_last: bool,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            per_connection: usize::MAX,
            per_frame: usize::MAX,
            keep_alive: None,
            silence: Duration::from_secs(20),
            ack_within: Duration::from_secs(20),
            reconnect_min: Duration::from_millis(500),
            reconnect_max: Duration::from_secs(30),
            jitter: false,
            healthy_after: Duration::from_secs(30),
            linger: Duration::ZERO,
            debounce: Duration::from_millis(150),
            channel_capacity: 256,
            replay_last: false,
        }
    }
}

impl PoolOptions {
    /// These options with every value in a range the pool can work with.
    pub fn sanitized(mut self) -> Self {
        // The upper bound keeps `Instant + duration` arithmetic far from overflowing.
        const MIN_TICK: Duration = Duration::from_millis(1);
        const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);
        self.per_connection = self.per_connection.max(1);
        self.per_frame = self.per_frame.max(1);
        self.keep_alive = self.keep_alive.map(|d| d.clamp(MIN_TICK, MAX_WAIT));
        self.silence = self.silence.clamp(MIN_TICK, MAX_WAIT);
        self.ack_within = self.ack_within.clamp(MIN_TICK, MAX_WAIT);
        self.reconnect_min = self.reconnect_min.clamp(MIN_TICK, MAX_WAIT);
        self.reconnect_max = self.reconnect_max.clamp(self.reconnect_min, MAX_WAIT);
        self.healthy_after = self.healthy_after.min(MAX_WAIT);
        self.linger = self.linger.min(MAX_WAIT);
        self.debounce = self.debounce.min(MAX_WAIT);
        self.channel_capacity = self.channel_capacity.max(1);
        self
    }

    /// The back-off of one connection slot.
    pub fn backoff(&self) -> Backoff {
        let backoff = Backoff::new(self.reconnect_min, self.reconnect_max);
        if self.jitter {
            backoff.jittered()
        } else {
            backoff
        }
    }
}
