//! A [`ReservingWindow`] that every replica shares through the state store: each caller gets a send time in
//! arrival order across all replicas, and a caller whose turn is further away than it may wait is refused
//! at once. For Capital.com's `POST /session` (one per second per API key): each replica's own pacer would
//! let N logins a second through with N replicas, and Capital.com answers the extra ones 429.
//!
//! The turns handed out (wall-clock milliseconds, ascending) live under one key, taken by compare-and-swap;
//! with a store that is not shared (one process) it is the local [`ReservingWindow`] alone, at no store
//! cost. When the store fails, each replica paces on its own until it answers again (availability over the
//! shared count, as for [`super::shared_window::SharedWindow`]).

use super::limiter::ReservingWindow;
use crate::store::json::{self, Change};
use crate::store::{Store, StoreResult};
use std::sync::Arc;
use std::time::Duration;

pub use super::shared_window::Wall;

/// `limit` turns per `window` across every process sharing the store.
pub struct SharedTurns {
    limit: usize,
    window: Duration,
    /// This process's own pace: all of it with a store that is not shared or that failed; behind the
    /// shared turns it never waits (they are spaced already) and keeps this process's recent sends for a
    /// fall-back.
    local: ReservingWindow,
    /// The store and key, when the store is shared.
    shared: Option<(Arc<dyn Store>, String)>,
    wall: Wall,
    outage: super::store_outage::StoreOutage,
}

impl SharedTurns {
    /// `limit` turns per second with a 15% margin on the window (as [`ReservingWindow::per_second`]), for
    /// the key made of `kind` (a fixed name: `capital-session`) and `parts` (hashed: they may hold
    /// secrets or user input). Without a store, or with one that is not shared, the local pacer alone.
    pub fn per_second(limit: u32, store: Option<Arc<dyn Store>>, kind: &str, parts: &[&str]) -> Self {
        Self::with_clock(
            limit,
            Duration::from_millis(1150),
            store,
            kind,
            parts,
            Arc::new(crate::store::now_ms),
        )
    }

    /// `limit` turns per `window` with the wall clock `wall` (tests pass one that follows tokio's clock).
    pub fn with_clock(
        limit: u32,
        window: Duration,
        store: Option<Arc<dyn Store>>,
        kind: &str,
        parts: &[&str],
        wall: Wall,
    ) -> Self {
        let key = format!("rate:{kind}:{}", crate::store::digest(parts));
        SharedTurns {
            limit: limit.max(1) as usize,
            window,
            local: ReservingWindow::new(limit, window),
            shared: store.filter(|s| s.shared()).map(|s| (s, key)),
            wall,
            outage: super::store_outage::StoreOutage::new("upstream logins"),
        }
    }

    /// Whether the turns are shared with other processes (the store is shared).
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// Waits for this caller's turn. With `max_wait`, a caller whose turn is further away than that is
    /// refused at once with the wait it would have had, and takes no turn. A caller that goes away while
    /// waiting gives its turn back (in the store, best effort, from a background task).
    pub async fn acquire(&self, max_wait: Option<Duration>) -> Result<(), Duration> {
        let Some((store, key)) = &self.shared else {
            return self.local.acquire(max_wait).await;
        };
        if self.outage.down() {
            return self.local.acquire(max_wait).await;
        }
        let at = match self.reserve(&**store, key, max_wait).await {
            Ok(Ok(at)) => at,
            Ok(Err(wait)) => return Err(wait),
            Err(e) => {
                self.outage.failed(&e);
                return self.local.acquire(max_wait).await;
            }
        };
        self.outage.answered();
        let mut turn = Turn {
            store: store.clone(),
            key: key.clone(),
            at,
            ttl: self.window * 2 + Duration::from_millis(at.saturating_sub((self.wall)())),
            used: false,
        };
        let wait = at.saturating_sub((self.wall)());
        tokio::time::sleep(Duration::from_millis(wait)).await;
        turn.used = true;
        // The shared turns are a window apart already, so this only waits for clock rounding; it records the
        // send for a fall-back on the local pace should the store fail next.
        let _ = self.local.acquire(None).await;
        Ok(())
    }

    /// Takes the next turn in the shared record: its wall-clock time, or the wait that `max_wait` refuses.
    async fn reserve(
        &self,
        store: &dyn Store,
        key: &str,
        max_wait: Option<Duration>,
    ) -> StoreResult<Result<u64, Duration>> {
        let window_ms = self.window.as_millis() as u64;
        json::update::<Vec<u64>, Result<u64, Duration>>(store, key, |turns| {
            let now = (self.wall)();
            // Turns that can no longer constrain a new one are dropped.
            let mut turns: Vec<u64> = turns
                .unwrap_or_default()
                .into_iter()
                .filter(|t| t.saturating_add(window_ms) > now)
                .collect();
            // Replicas' clocks differ a little: order by time, not by arrival.
            turns.sort_unstable();
            // After everyone already waiting (first come, first served), and `limit` turns back a full window.
            let mut at = turns.last().copied().unwrap_or(now).max(now);
            if turns.len() >= self.limit {
                at = at.max(turns[turns.len() - self.limit] + window_ms);
            }
            let wait = Duration::from_millis(at - now);
            if max_wait.is_some_and(|max| wait > max) {
                return (Change::Keep, Err(wait));
            }
            turns.push(at);
            // Kept until the last turn can no longer constrain another.
            let ttl = (wait + self.window * 2).max(super::shared_window::RECORD_TTL_FLOOR);
            (Change::Put(turns, ttl), Ok(at))
        })
        .await
    }
}

/// A reserved shared turn; given back when its caller leaves before using it.
struct Turn {
    store: Arc<dyn Store>,
    key: String,
    at: u64,
    /// How long the record must still be kept (an upper bound: the turns left end no later).
    ttl: Duration,
    used: bool,
}

impl Drop for Turn {
    fn drop(&mut self) {
        if self.used {
            return;
        }
        // Later turns were computed with this one in place; leaving them as they are only errs on the slow
        // side. Without a runtime (shutting down) the turn simply lapses with its window.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (store, key, at, ttl) = (
            self.store.clone(),
            std::mem::take(&mut self.key),
            self.at,
            self.ttl,
        );
        runtime.spawn(async move {
            let given_back = json::update::<Vec<u64>, ()>(&*store, &key, |turns| {
                let mut turns = turns.unwrap_or_default();
                let Some(i) = turns.iter().rposition(|t| *t == at) else {
                    return (Change::Keep, ());
                };
                turns.remove(i);
                if turns.is_empty() {
                    (Change::Delete, ())
                } else {
                    (Change::Put(turns, ttl), ())
                }
            })
            .await;
            if let Err(e) = given_back {
                tracing::debug!(error = %e, "a login turn nobody used could not be given back; it lapses");
            }
        });
    }
}

#[cfg(test)]
mod tests;
