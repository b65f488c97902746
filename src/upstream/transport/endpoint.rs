//! Limits on one endpoint: calls whose method and path match are paced, either all together (a login
//! endpoint limited per API key, new stream connections) or per key, so that each upstream session gets its
//! own minimum interval and in-flight cap on that endpoint (IBKR: `/iserver/account/orders` once per 5 s
//! per session, `/iserver/marketdata/history` 5 at once) while other sessions never wait for it.

use super::limits::Lane;
use crate::sync::MutexExt;
use crate::upstream::limiter::SlidingWindow;
use crate::upstream::shared_window::SharedWindow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OwnedSemaphorePermit;

/// What one key may do on an endpoint: a pace, an in-flight cap, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyLimit {
    rate: Option<(u32, Duration)>,
    max_in_flight: Option<usize>,
}

impl KeyLimit {
    /// At most one call per `interval` (carry a safety margin, as for [`SlidingWindow`]).
    pub fn once_per(interval: Duration) -> KeyLimit {
        KeyLimit::per_window(1, interval)
    }

    /// At most `limit` calls in any `window`.
    pub fn per_window(limit: u32, window: Duration) -> KeyLimit {
        KeyLimit {
            rate: Some((limit, window)),
            max_in_flight: None,
        }
    }

    /// At most `max` calls awaiting their answer at once, without a pace.
    pub fn in_flight(max: usize) -> KeyLimit {
        KeyLimit {
            rate: None,
            max_in_flight: Some(max),
        }
    }

    /// This limit, and at most `max` calls awaiting their answer at once.
    pub fn and_in_flight(self, max: usize) -> KeyLimit {
        KeyLimit {
            max_in_flight: Some(max),
            ..self
        }
    }

    fn lane(&self) -> Lane {
        match (self.rate, self.max_in_flight) {
            (Some((limit, window)), cap) => Lane::new(limit, window, cap),
            (None, Some(cap)) => Lane::capped(cap),
            (None, None) => Lane::default(),
        }
    }
}

enum Pace {
    /// Every matching call, whatever its key.
    All(SlidingWindow),
    /// Matching calls per key: one lane each. The map holds the lanes (no caller keeps them between calls)
    /// and forgets a lane only once it is idle, so forgetting never lets a call through early.
    PerKey {
        limit: KeyLimit,
        lanes: Mutex<HashMap<String, Arc<Lane>>>,
    },
}

/// Pacing of the calls whose method and path match.
pub struct EndpointLimit {
    method: Option<reqwest::Method>,
    path_prefix: String,
    pace: Pace,
    /// The same limit shared by every replica on the state store (see [`EndpointLimit::shared`]).
    shared: Option<SharedWindow>,
}

impl std::fmt::Debug for EndpointLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys may be session tokens: only how many there are prints.
        let mut d = f.debug_struct("EndpointLimit");
        d.field("method", &self.method)
            .field("path_prefix", &self.path_prefix);
        match &self.pace {
            Pace::All(window) => d.field("all", window),
            Pace::PerKey { limit, lanes } => d.field("per_key", limit).field("keys", &lanes.locked().len()),
        };
        d.finish()
    }
}

/// A call's admission under one endpoint limit: holds its in-flight slot (per-key limits) until dropped.
pub struct EndpointPermit<'a> {
    limit: &'a EndpointLimit,
    lane: Option<Arc<Lane>>,
    _slot: Option<OwnedSemaphorePermit>,
}

impl EndpointLimit {
    /// Paces all calls with `method` (any method when `None`) whose path starts with `path_prefix`.
    pub fn new(method: Option<reqwest::Method>, path_prefix: &str, window: SlidingWindow) -> EndpointLimit {
        EndpointLimit {
            method,
            path_prefix: path_prefix.to_string(),
            pace: Pace::All(window),
            shared: None,
        }
    }

    /// Also paces the matching calls in `window`, shared through the state store by every replica: an
    /// upstream limit on one login's endpoint is the upstream's, whatever the number of processes
    /// speaking for that login. Taken after this process's own pace let the call through, just before
    /// the send.
    pub fn shared(mut self, window: SharedWindow) -> EndpointLimit {
        self.shared = Some(window);
        self
    }

    /// Limits the matching calls of each key (a call's [`super::Call::key`]; calls without a key share
    /// one) to `limit`, each key on its own.
    pub fn per_key(method: Option<reqwest::Method>, path_prefix: &str, limit: KeyLimit) -> EndpointLimit {
        EndpointLimit {
            method,
            path_prefix: path_prefix.to_string(),
            pace: Pace::PerKey {
                limit,
                lanes: Mutex::new(HashMap::new()),
            },
            shared: None,
        }
    }

    /// Whether a call to `method path` is paced by this limit.
    pub fn applies(&self, method: &reqwest::Method, path: &str) -> bool {
        self.method.as_ref().is_none_or(|m| m == method) && path.starts_with(&self.path_prefix)
    }

    /// Waits for an in-flight slot of `key` (at once when the limit has no cap). The send slot comes after,
    /// from [`EndpointPermit::pace`], so a call never holds a send time while it waits for a slot.
    pub async fn enter(&self, key: Option<&str>) -> EndpointPermit<'_> {
        let lane = match &self.pace {
            Pace::All(_) => None,
            Pace::PerKey { limit, lanes } => Some(lane_of(lanes, limit, key.unwrap_or_default())),
        };
        let slot = match &lane {
            Some(lane) => lane.enter_owned().await,
            None => None,
        };
        EndpointPermit {
            limit: self,
            lane,
            _slot: slot,
        }
    }

    /// Enters and waits for a send slot: the call may be sent while the permit is held.
    pub async fn acquire(&self, key: Option<&str>) -> EndpointPermit<'_> {
        let permit = self.enter(key).await;
        permit.pace().await;
        permit
    }

    /// Keys with a lane (diagnostics and tests).
    pub fn keys(&self) -> usize {
        match &self.pace {
            Pace::All(_) => 0,
            Pace::PerKey { lanes, .. } => lanes.locked().len(),
        }
    }
}

impl EndpointPermit<'_> {
    /// Waits for and takes a slot of the limit's shared window, if it has one.
    pub async fn pace_shared(&self) {
        if let Some(window) = &self.limit.shared {
            window.acquire().await;
        }
    }

    /// Waits for a send slot.
    pub async fn pace(&self) {
        match (&self.lane, &self.limit.pace) {
            (Some(lane), _) => lane.pace().await,
            (None, Pace::All(window)) => window.acquire().await,
            (None, Pace::PerKey { .. }) => {}
        }
    }

    /// Waits until a send slot is free, without taking it.
    pub async fn ready(&self) {
        match (&self.lane, &self.limit.pace) {
            (Some(lane), _) => lane.ready().await,
            (None, Pace::All(window)) => window.ready().await,
            (None, Pace::PerKey { .. }) => {}
        }
    }

    /// Takes a send slot now if one is free; `false` when another call took it first.
    pub fn try_pace(&self) -> bool {
        match (&self.lane, &self.limit.pace) {
            (Some(lane), _) => lane.try_pace(),
            (None, Pace::All(window)) => window.try_acquire(),
            (None, Pace::PerKey { .. }) => true,
        }
    }
}

/// The lane of `key`, made on first use; idle lanes of other keys are forgotten when a new key comes.
fn lane_of(lanes: &Mutex<HashMap<String, Arc<Lane>>>, limit: &KeyLimit, key: &str) -> Arc<Lane> {
    let mut lanes = lanes.locked();
    if let Some(lane) = lanes.get(key) {
        return lane.clone();
    }
    // Held elsewhere means a call is waiting or in flight on it.
    lanes.retain(|_, l| Arc::strong_count(l) > 1 || !l.is_idle());
    let lane = Arc::new(limit.lane());
    lanes.insert(key.to_string(), lane.clone());
    lane
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    #[test]
    fn endpoint_limits_match_method_and_prefix() {
        let limit = EndpointLimit::new(
            Some(reqwest::Method::POST),
            "/session",
            SlidingWindow::per_second(1),
        );
        assert!(limit.applies(&reqwest::Method::POST, "/session"));
        assert!(!limit.applies(&reqwest::Method::PUT, "/session"));
        assert!(!limit.applies(&reqwest::Method::POST, "/positions"));
        let any = EndpointLimit::new(None, "/v3/", SlidingWindow::per_second(1));
        assert!(any.applies(&reqwest::Method::GET, "/v3/accounts"));
    }

    #[tokio::test(start_paused = true)]
    async fn one_sessions_calls_are_spaced_and_two_sessions_do_not_share_a_limit() {
        let limit = EndpointLimit::per_key(None, "/orders", KeyLimit::once_per(Duration::from_secs(5)));
        let start = Instant::now();
        drop(limit.acquire(Some("s1")).await);
        drop(limit.acquire(Some("s2")).await);
        drop(limit.acquire(None).await);
        assert_eq!(Instant::now(), start, "a session waited for another one");
        drop(limit.acquire(Some("s1")).await);
        assert_eq!(Instant::now() - start, Duration::from_secs(5));
        drop(limit.acquire(Some("s1")).await);
        assert_eq!(Instant::now() - start, Duration::from_secs(10));
        // s2 sent 10 s ago: no wait.
        drop(limit.acquire(Some("s2")).await);
        assert_eq!(Instant::now() - start, Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn the_in_flight_cap_holds_per_key() {
        let limit = Arc::new(EndpointLimit::per_key(None, "/history", KeyLimit::in_flight(2)));
        let a = limit.acquire(Some("s1")).await;
        let _b = limit.acquire(Some("s1")).await;
        let l = limit.clone();
        let third = tokio::spawn(async move {
            let _p = l.acquire(Some("s1")).await;
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!third.is_finished(), "a third call went in flight beside two");
        // Another session is not held back by s1's calls.
        let _other = limit.acquire(Some("s2")).await;
        drop(a);
        third.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_key_is_forgotten_but_never_early() {
        let limit = EndpointLimit::per_key(None, "/orders", KeyLimit::once_per(Duration::from_secs(5)));
        drop(limit.acquire(Some("s1")).await);
        tokio::time::advance(Duration::from_secs(1)).await;
        drop(limit.acquire(Some("s2")).await);
        assert_eq!(limit.keys(), 2, "s1 was forgotten inside its interval");
        tokio::time::advance(Duration::from_secs(5)).await;
        drop(limit.acquire(Some("s3")).await);
        assert_eq!(limit.keys(), 1, "idle keys were kept");
        let start = Instant::now();
        drop(limit.acquire(Some("s3")).await);
        assert_eq!(Instant::now() - start, Duration::from_secs(5));
    }
}
