//! A value read from IBKR at most once per interval and shared by every caller meanwhile (single flight,
//! one slot per key): what keeps TradingView's executions polls, however many tabs ask, to IBKR's one
//! `/iserver/account/trades` per 5 s instead of a queue that grows by five seconds per poll, and every
//! session's account hub to one `/iserver/account/orders` per 5 s between them.

use crate::broker::BrokerResult;
use crate::sync::MutexExt;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// One key's last answer, when its read started and in which write epoch; and the key's write epoch,
/// counted up by every write (outside the lock, so a write never waits for a read in flight).
struct Slot<T> {
    epoch: AtomicU64,
    held: tokio::sync::Mutex<Option<Kept<T>>>,
}

/// An answer as kept.
struct Kept<T> {
    started: Instant,
    epoch: u64,
    value: Arc<T>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            epoch: AtomicU64::new(0),
            held: tokio::sync::Mutex::new(None),
        }
    }
}

/// Answers reused for `every` after their read started.
pub struct Recent<T> {
    every: Duration,
    slots: Mutex<HashMap<String, Arc<Slot<T>>>>,
}

impl<T> Recent<T> {
    /// Answers are reused for `every`.
    pub fn new(every: Duration) -> Recent<T> {
        Recent {
            every,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The answer for `key`: the last one when its read started less than `every` ago and after the last
    /// write, otherwise a new read by `fetch` (callers arriving meanwhile wait for it and share it). A
    /// failed read is not kept.
    pub async fn get<F, Fut>(&self, key: &str, fetch: F) -> BrokerResult<Arc<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = BrokerResult<T>>,
    {
        let slot = self.slots.locked().entry(key.to_string()).or_default().clone();
        let mut held = slot.held.lock().await;
        let epoch = slot.epoch.load(Ordering::SeqCst);
        if let Some(kept) = &*held {
            if kept.epoch == epoch && kept.started.elapsed() < self.every {
                return Ok(kept.value.clone());
            }
        }
        let started = Instant::now();
        let value = Arc::new(fetch().await?);
        *held = Some(Kept {
            started,
            epoch,
            value: value.clone(),
        });
        Ok(value)
    }

    /// A write changed `key`: no answer read before now is given again, not even one whose read is still
    /// in flight (it is handed to the callers already waiting for it, and the next `get` reads again).
    pub fn forget(&self, key: &str) {
        if let Some(slot) = self.slots.locked().get(key) {
            slot.epoch.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::BrokerError;
    use std::sync::atomic::{AtomicUsize, Ordering};

    async fn read(recent: &Recent<usize>, key: &str, reads: &AtomicUsize) -> BrokerResult<usize> {
        recent
            .get(key, || async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok(reads.fetch_add(1, Ordering::SeqCst) + 1)
            })
            .await
            .map(|v| *v)
    }

    #[tokio::test(start_paused = true)]
    async fn callers_share_one_read_per_interval_and_key() {
        let recent = Recent::new(Duration::from_secs(5));
        let reads = AtomicUsize::new(0);
        let many = futures_util::future::join_all((0..50).map(|_| read(&recent, "A", &reads))).await;
        assert!(many.iter().all(|r| *r.as_ref().unwrap() == 1), "{many:?}");
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        // Another key has a slot of its own.
        assert_eq!(read(&recent, "B", &reads).await.unwrap(), 2);
        tokio::time::advance(Duration::from_secs(4)).await;
        assert_eq!(read(&recent, "A", &reads).await.unwrap(), 1, "still recent");
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(read(&recent, "A", &reads).await.unwrap(), 3, "read again");
        recent.forget("A");
        assert_eq!(
            read(&recent, "A", &reads).await.unwrap(),
            4,
            "forgotten after a write"
        );
        recent.forget("never read");
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_in_flight_when_a_write_happens_is_never_given_to_a_later_caller() {
        let recent = Arc::new(Recent::new(Duration::from_secs(5)));
        let reads = Arc::new(AtomicUsize::new(0));
        assert_eq!(read(&recent, "A", &reads).await.unwrap(), 1);
        tokio::time::advance(Duration::from_secs(5)).await;
        // A refresh starts its read (100 ms), the user's order is written meanwhile...
        let refresh = tokio::spawn({
            let (recent, reads) = (recent.clone(), reads.clone());
            async move { read(&recent, "A", &reads).await.unwrap() }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        recent.forget("A");
        // ...and the user's read after the write waits for the refresh's, then reads again: the order
        // is in what it gets, however recent the refresh's answer is.
        assert_eq!(read(&recent, "A", &reads).await.unwrap(), 3);
        assert_eq!(
            refresh.await.unwrap(),
            2,
            "the read in flight still answers its own caller"
        );
        assert_eq!(
            read(&recent, "A", &reads).await.unwrap(),
            3,
            "and the new answer is shared"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_read_is_not_kept() {
        let recent: Recent<usize> = Recent::new(Duration::from_secs(5));
        let failed = recent
            .get("A", || async { Err(BrokerError::Unavailable("down".into())) })
            .await;
        assert!(failed.is_err());
        let reads = AtomicUsize::new(0);
        assert_eq!(read(&recent, "A", &reads).await.unwrap(), 1);
    }
}
