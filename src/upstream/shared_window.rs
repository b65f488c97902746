//! A sliding-window limit that every replica shares through the state store: with several replicas on one
//! upstream session (Capital.com's 10 requests/s per session, IBKR's order pacing), each one's own limiter
//! would let N times the limit through. The send times of the window live under one key, taken by
//! compare-and-swap; with a store that is not shared (one process) it is the local [`SlidingWindow`]
//! alone, at no store cost.
//!
//! Transports take one for their overall pace (`TransportBuilder::pace_all_shared`) and for an endpoint's
//! (`EndpointLimit::shared`); IBKR uses both when its store is shared.

use super::limiter::SlidingWindow;
use crate::store::json::{self, Change};
use crate::store::{Store, StoreResult};
use std::sync::Arc;
use std::time::Duration;

/// Wall-clock milliseconds since the unix epoch (`store::now_ms`; tests follow tokio's paused clock).
/// Send times are compared across replicas, so they are wall-clock: the window's safety margin (15% for
/// [`SlidingWindow::per_second`]) must cover the replicas' clock differences (NTP keeps them to a few ms).
pub type Wall = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The least time a window's record is kept in the store.
pub(crate) const RECORD_TTL_FLOOR: Duration = Duration::from_secs(60);

/// `limit` sends per `window` across every process sharing the store.
pub struct SharedWindow {
    limit: usize,
    window: Duration,
    /// This process's own pace: what it falls back on when the store fails, and a bound that holds
    /// whatever the store says.
    local: SlidingWindow,
    /// Callers of this process take their turns one at a time, in arrival order.
    turn: tokio::sync::Mutex<()>,
    /// The store and key, when the store is shared.
    shared: Option<(Arc<dyn Store>, String)>,
    wall: Wall,
    outage: super::store_outage::StoreOutage,
}

impl SharedWindow {
    /// `limit` sends per `window` (with a safety margin, as for [`SlidingWindow`]) for the key made of
    /// `kind` (a fixed name: `capital-session`) and `parts` (hashed: they may hold user input).
    pub fn new(limit: u32, window: Duration, store: Arc<dyn Store>, kind: &str, parts: &[&str]) -> Self {
        Self::with_clock(limit, window, store, kind, parts, Arc::new(crate::store::now_ms))
    }

    /// Per-second limit with a 15% margin on the window.
    pub fn per_second(limit: u32, store: Arc<dyn Store>, kind: &str, parts: &[&str]) -> Self {
        Self::new(limit, Duration::from_millis(1150), store, kind, parts)
    }

    /// [`SharedWindow::new`] with the wall clock `wall` (tests).
    pub fn with_clock(
        limit: u32,
        window: Duration,
        store: Arc<dyn Store>,
        kind: &str,
        parts: &[&str],
        wall: Wall,
    ) -> Self {
        let key = format!("rate:{kind}:{}", crate::store::digest(parts));
        SharedWindow {
            limit: limit.max(1) as usize,
            window,
            local: SlidingWindow::new(limit, window),
            turn: tokio::sync::Mutex::new(()),
            shared: store.shared().then_some((store, key)),
            wall,
            outage: super::store_outage::StoreOutage::new("upstream calls"),
        }
    }

    /// Waits for a free slot in the shared window (and this process's) and takes it.
    pub async fn acquire(&self) {
        let Some((store, key)) = &self.shared else {
            return self.local.acquire().await;
        };
        let _turn = self.turn.lock().await;
        self.local.ready().await;
        if !self.outage.down() {
            loop {
                match self.take(&**store, key).await {
                    Ok(None) => {
                        self.outage.answered();
                        break;
                    }
                    Ok(Some(wait)) => tokio::time::sleep(wait).await,
                    Err(e) => {
                        self.outage.failed(&e);
                        break;
                    }
                }
            }
        }
        // Turns are taken one at a time and `ready` found a slot: it is still free (time only frees more).
        while !self.local.try_acquire() {
            self.local.ready().await;
        }
    }

    /// Takes a slot in the shared window now, or says how long until one is free.
    async fn take(&self, store: &dyn Store, key: &str) -> StoreResult<Option<Duration>> {
        let window_ms = self.window.as_millis() as u64;
        // The record is a few numbers; a generous floor keeps it whatever the window, and keeps tests that
        // run on a virtual clock from losing it to the store's real-time expiry on a loaded machine.
        let ttl = (self.window * 2).max(RECORD_TTL_FLOOR);
        json::update::<Vec<u64>, Option<Duration>>(store, key, |sent| {
            let now = (self.wall)();
            let mut sent: Vec<u64> = sent
                .unwrap_or_default()
                .into_iter()
                .filter(|t| t.saturating_add(window_ms) > now)
                .collect();
            // Replicas' clocks differ a little: order by time, not by arrival.
            sent.sort_unstable();
            if sent.len() < self.limit {
                sent.push(now);
                (Change::Put(sent, ttl), None)
            } else {
                let frees = sent[sent.len() - self.limit] + window_ms;
                let wait = Duration::from_millis(frees.saturating_sub(now).max(1));
                (Change::Keep, Some(wait))
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use tokio::time::Instant;

    fn wall() -> Wall {
        // A fixed base, not the system clock: replicas made at one (paused) instant must read the same time;
        // reading the system clock for each let a loaded machine skew them apart.
        let (t0, ms0) = (Instant::now(), 1_767_225_600_000u64);
        Arc::new(move || ms0 + t0.elapsed().as_millis() as u64)
    }

    fn at_most_per_window(at: &mut [Duration], limit: usize, window: Duration) {
        at.sort();
        for (i, t) in at.iter().enumerate() {
            let n = at[i..].iter().take_while(|u| **u - *t < window).count();
            assert!(n <= limit, "{n} sends within {window:?} of {t:?}");
        }
    }

    async fn run(windows: Vec<Arc<SharedWindow>>, callers: usize) -> Vec<Duration> {
        let start = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..callers {
            let w = windows[i % windows.len()].clone();
            tasks.push(tokio::spawn(async move {
                w.acquire().await;
                Instant::now() - start
            }));
        }
        let mut at = Vec::new();
        for t in tasks {
            at.push(t.await.unwrap());
        }
        at
    }

    /// Three replicas, 35 sends between them at 10 per second: never more than 10 in any second overall.
    #[tokio::test(start_paused = true)]
    async fn replicas_share_one_window() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new_shared());
        let window = Duration::from_secs(1);
        let replicas: Vec<_> = (0..3)
            .map(|_| {
                Arc::new(SharedWindow::with_clock(
                    10,
                    window,
                    store.clone(),
                    "test",
                    &["s"],
                    wall(),
                ))
            })
            .collect();
        let mut at = run(replicas, 35).await;
        at_most_per_window(&mut at, 10, window);
        assert!(at.iter().max().unwrap() >= &Duration::from_secs(3));
    }

    /// A store that is not shared: the local window alone, no key written.
    #[tokio::test(start_paused = true)]
    async fn a_store_that_is_not_shared_is_the_local_window() {
        let memory = Arc::new(MemoryStore::new());
        let store: Arc<dyn Store> = memory.clone();
        let w = Arc::new(SharedWindow::with_clock(
            10,
            Duration::from_secs(1),
            store,
            "test",
            &["s"],
            wall(),
        ));
        let mut at = run(vec![w], 35).await;
        at_most_per_window(&mut at, 10, Duration::from_secs(1));
        assert_eq!(at.iter().max(), Some(&Duration::from_secs(3)));
        assert!(memory.is_empty());
    }

    /// A failed store: each replica keeps its own pace (availability over the shared count).
    #[tokio::test(start_paused = true)]
    async fn a_failed_store_falls_back_to_the_local_window() {
        let w = Arc::new(SharedWindow::with_clock(
            10,
            Duration::from_secs(1),
            Arc::new(crate::store::unreachable::Unreachable),
            "test",
            &["s"],
            wall(),
        ));
        let mut at = run(vec![w], 25).await;
        at_most_per_window(&mut at, 10, Duration::from_secs(1));
        assert_eq!(at.iter().max(), Some(&Duration::from_secs(2)));
    }
}
