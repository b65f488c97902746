//! Client-side limits on sending: a [`Lane`] per key (an upstream session, a token) paces its calls and caps
//! how many are in flight at once; [`Lanes`] hands out one lane per key to the sessions that hold them.
//! Built on [`SlidingWindow`]; limits per endpoint are in `endpoint.rs`.

use crate::sync::MutexExt;
use crate::upstream::limiter::SlidingWindow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The pacing and concurrency cap of one key. Shared by every call made for that key.
#[derive(Debug, Default)]
pub struct Lane {
    rate: Option<SlidingWindow>,
    /// The slots and how many there are.
    in_flight: Option<(Arc<Semaphore>, usize)>,
}

/// A call's place in its lane: holds one of the lane's in-flight slots until dropped.
#[derive(Debug)]
pub struct LanePermit<'a> {
    _slot: Option<OwnedSemaphorePermit>,
    _lane: std::marker::PhantomData<&'a Lane>,
}

impl Lane {
    /// A lane of at most `limit` sends per `window` (carry a safety margin, as for [`SlidingWindow`]) and,
    /// with `max_in_flight`, at most that many calls awaiting their answer at once.
    pub fn new(limit: u32, window: Duration, max_in_flight: Option<usize>) -> Lane {
        Lane {
            rate: Some(SlidingWindow::new(limit, window)),
            in_flight: max_in_flight.map(slots),
        }
    }

    /// A lane of at most `max_in_flight` calls awaiting their answer at once, without a pace.
    pub fn capped(max_in_flight: usize) -> Lane {
        Lane {
            rate: None,
            in_flight: Some(slots(max_in_flight)),
        }
    }

    /// `limit` sends per second with the 15% margin of [`SlidingWindow::per_second`], no cap in flight.
    pub fn per_second(limit: u32) -> Lane {
        Lane {
            rate: Some(SlidingWindow::per_second(limit)),
            in_flight: None,
        }
    }

    /// Waits for an in-flight slot, then for a send slot: in that order, so a call never holds a send time
    /// it cannot use (sends bunched up after a wait could break the upstream's window).
    pub async fn acquire(&self) -> LanePermit<'_> {
        let permit = self.enter().await;
        self.pace().await;
        permit
    }

    /// Waits for one of the in-flight slots (at once when the lane has no cap).
    pub async fn enter(&self) -> LanePermit<'_> {
        LanePermit {
            _slot: self.enter_owned().await,
            _lane: std::marker::PhantomData,
        }
    }

    /// [`Lane::enter`] for a caller that holds the lane by an `Arc` it may let go of first.
    pub(super) async fn enter_owned(&self) -> Option<OwnedSemaphorePermit> {
        match &self.in_flight {
            // The semaphore is never closed, so acquiring only fails if it were.
            Some((s, _)) => s.clone().acquire_owned().await.ok(),
            None => None,
        }
    }

    /// Whether nothing is in flight or waiting and no send is in the current window: a lane forgotten
    /// now could not let a call through early.
    pub fn is_idle(&self) -> bool {
        let free = self
            .in_flight
            .as_ref()
            .is_none_or(|(s, n)| s.available_permits() == *n);
        free && self.rate.as_ref().is_none_or(SlidingWindow::is_idle)
    }

    /// Waits for a send slot (at once when the lane has no pace).
    pub async fn pace(&self) {
        if let Some(rate) = &self.rate {
            rate.acquire().await;
        }
    }

    /// Waits until a send slot is free without taking it (see [`SlidingWindow::ready`]).
    pub async fn ready(&self) {
        if let Some(rate) = &self.rate {
            rate.ready().await;
        }
    }

    /// Takes a send slot now if one is free (always when the lane has no pace).
    pub fn try_pace(&self) -> bool {
        self.rate.as_ref().is_none_or(SlidingWindow::try_acquire)
    }
}

/// One lane per key, made on first use with the same limits. Lanes live as long as someone holds them (a
/// session keeps its own): the map keeps only weak references, so it never outgrows the live keys.
#[derive(Debug)]
pub struct Lanes {
    limit: u32,
    window: Duration,
    max_in_flight: Option<usize>,
    lanes: Mutex<HashMap<String, Weak<Lane>>>,
}

impl Lanes {
    /// Lanes of `limit` sends per `window`, with at most `max_in_flight` calls in flight per key.
    pub fn new(limit: u32, window: Duration, max_in_flight: Option<usize>) -> Lanes {
        Lanes {
            limit,
            window,
            max_in_flight,
            lanes: Mutex::new(HashMap::new()),
        }
    }

    /// The lane of `key`, shared with every other holder of the same key.
    pub fn lane(&self, key: &str) -> Arc<Lane> {
        let mut lanes = self.lanes.locked();
        if let Some(lane) = lanes.get(key).and_then(Weak::upgrade) {
            return lane;
        }
        lanes.retain(|_, l| l.strong_count() > 0);
        let lane = Arc::new(Lane::new(self.limit, self.window, self.max_in_flight));
        lanes.insert(key.to_string(), Arc::downgrade(&lane));
        lane
    }

    /// Keys with a live lane (diagnostics and tests).
    pub fn len(&self) -> usize {
        let lanes = self.lanes.locked();
        lanes.values().filter(|l| l.strong_count() > 0).count()
    }

    /// Whether no key has a live lane.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn slots(n: usize) -> (Arc<Semaphore>, usize) {
    let n = n.max(1);
    (Arc::new(Semaphore::new(n)), n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    #[tokio::test(start_paused = true)]
    async fn a_lane_caps_calls_in_flight_before_it_paces_them() {
        let lane = Arc::new(Lane::new(100, Duration::from_secs(1), Some(2)));
        let a = lane.acquire().await;
        let _b = lane.acquire().await;
        let l = lane.clone();
        let third = tokio::spawn(async move {
            let _p = l.acquire().await;
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!third.is_finished(), "a third call went in flight beside two");
        drop(a);
        third.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn lanes_of_one_key_share_limits_and_other_keys_do_not_wait() {
        let lanes = Lanes::new(1, Duration::from_secs(1), None);
        let start = Instant::now();
        let a = lanes.lane("a");
        drop(a.acquire().await);
        drop(lanes.lane("b").acquire().await);
        assert_eq!(Instant::now(), start, "another key waited");
        drop(lanes.lane("a").acquire().await);
        assert_eq!(Instant::now() - start, Duration::from_secs(1));
        assert_eq!(lanes.len(), 1, "only the held lane lives");
        drop(a);
        let _c = lanes.lane("c");
        assert_eq!(lanes.len(), 1);
    }
}
