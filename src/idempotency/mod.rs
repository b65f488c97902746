//! `requestId` idempotency for order placement: the same request id never creates a second order.

use crate::broker::BrokerError;
use crate::error::{ApiError, ApiResult};
use crate::tv::PlacedOrder;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// Who placed it and which request: a request id is only meaningful within one user's account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey {
    pub user: String,
    pub account: String,
    pub request_id: String,
}

struct Entry {
    outcome: Arc<OnceCell<PlacedOrder>>,
    created: Instant,
}

/// Remembers the order each `requestId` created, for `ttl`.
///
/// Concurrent duplicates wait for the first one and get its answer (single flight). A placement that
/// failed leaves no entry, so a resend is evaluated afresh: a failed placement created no order (backends
/// must resolve an ambiguous upstream failure before answering, see DESIGN principle 5).
pub struct IdempotencyCache {
    entries: Mutex<HashMap<IdempotencyKey, Entry>>,
    ttl: Duration,
}

impl IdempotencyCache {
    /// A cache keeping outcomes for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        IdempotencyCache {
            entries: Mutex::new(HashMap::new()),
            ttl,
        }
    }

    /// Runs `place` unless `key` already produced an order, in which case that order is returned with
    /// `true` (a replay).
    ///
    /// The placement runs in its own task and records its outcome there: if the caller goes away (the
    /// client's connection drops while the order is in flight) the order still completes and is
    /// remembered, so the resend that follows gets it instead of placing a second one.
    pub async fn place<F, Fut>(&self, key: IdempotencyKey, place: F) -> ApiResult<(PlacedOrder, bool)>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ApiResult<PlacedOrder>> + Send + 'static,
    {
        let cell = {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            entries.retain(|_, e| now.duration_since(e.created) < self.ttl);
            entries
                .entry(key)
                .or_insert_with(|| Entry {
                    outcome: Arc::new(OnceCell::new()),
                    created: now,
                })
                .outcome
                .clone()
        };
        if let Some(done) = cell.get() {
            return Ok((done.clone(), true));
        }
        let ran = Arc::new(AtomicBool::new(false));
        let ran_here = ran.clone();
        let placed = run_detached(async move {
            cell.get_or_try_init(|| {
                ran_here.store(true, Ordering::SeqCst);
                place()
            })
            .await
            .cloned()
        })
        .await?;
        Ok((placed, !ran.load(Ordering::SeqCst)))
    }
}

/// Runs `work` to completion in its own task, whatever happens to the caller, and returns its result.
/// Writes go through this so that a dropped connection can never leave one half done.
pub async fn run_detached<T: Send + 'static>(
    work: impl Future<Output = ApiResult<T>> + Send + 'static,
) -> ApiResult<T> {
    tokio::spawn(work)
        .await
        .map_err(|e| ApiError::Broker(BrokerError::Internal(format!("placement task failed: {e}"))))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use std::sync::atomic::AtomicUsize;

    fn key(id: &str) -> IdempotencyKey {
        IdempotencyKey {
            user: "u".into(),
            account: "a".into(),
            request_id: id.into(),
        }
    }

    #[tokio::test]
    async fn concurrent_duplicates_place_once() {
        let cache = Arc::new(IdempotencyCache::new(Duration::from_secs(60)));
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (cache, calls) = (cache.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .place(key("r1"), move || async move {
                        let n = calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok(PlacedOrder {
                            order_id: format!("o{n}"),
                            transaction_id: None,
                        })
                    })
                    .await
                    .unwrap()
                    .0
                    .order_id
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), "o0");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_placement_can_be_retried_and_keys_are_scoped() {
        let cache = IdempotencyCache::new(Duration::from_secs(60));
        let err = cache.place(key("r"), || async { Err(ApiError::bad("no")) }).await;
        assert!(err.is_err());
        let ok = cache
            .place(key("r"), || async {
                Ok(PlacedOrder {
                    order_id: "o1".into(),
                    transaction_id: None,
                })
            })
            .await
            .unwrap();
        assert_eq!((ok.0.order_id.as_str(), ok.1), ("o1", false));
        let other = IdempotencyKey {
            account: "b".into(),
            ..key("r")
        };
        let fresh = cache
            .place(other, || async {
                Ok(PlacedOrder {
                    order_id: "o2".into(),
                    transaction_id: None,
                })
            })
            .await
            .unwrap();
        assert_eq!(fresh.0.order_id, "o2");
    }

    /// The client goes away while its order is in flight; its resend must get that order, not a new one.
    #[tokio::test]
    async fn a_dropped_caller_still_completes_and_records_the_order() {
        let cache = Arc::new(IdempotencyCache::new(Duration::from_secs(60)));
        let calls = Arc::new(AtomicUsize::new(0));
        let slow = {
            let calls = calls.clone();
            move || async move {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok(PlacedOrder {
                    order_id: "o1".into(),
                    transaction_id: None,
                })
            }
        };
        let dropped = tokio::time::timeout(Duration::from_millis(10), cache.place(key("r"), slow)).await;
        assert!(dropped.is_err(), "the caller gave up before the order completed");
        let resend = cache
            .place(key("r"), || async {
                Ok(PlacedOrder {
                    order_id: "o2".into(),
                    transaction_id: None,
                })
            })
            .await
            .unwrap();
        assert_eq!(
            resend,
            (
                PlacedOrder {
                    order_id: "o1".into(),
                    transaction_id: None
                },
                true
            )
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
