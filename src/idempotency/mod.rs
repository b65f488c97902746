//! `requestId` idempotency for order placement: the same request id never creates a second order, a
//! different order under a used id is refused, and what is remembered is bounded in id length, count and
//! age.

pub mod durable;
mod table;

use crate::broker::{BrokerError, BrokerResult};
use crate::error::{ApiError, ApiResult};
use crate::sync::MutexExt;
use crate::tv::{PlaceOrder, PlacedOrder};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use table::{Limits, Refusal, Table};

/// `[idempotency]`: how many `requestId`s are remembered, for how long, and how long one may be.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdempotencyConfig {
    /// Longest accepted `requestId`, in bytes.
    pub max_request_id_len: usize,
    /// Request ids remembered at most, for all users together.
    pub max_entries: usize,
    /// Request ids remembered at most per user.
    pub max_entries_per_user: usize,
    /// A request id younger than this is never forgotten to make room (TradingView may still resend it);
    /// a placement that would need that is refused instead.
    pub retry_window_secs: u64,
    /// A request id is forgotten after this long.
    pub ttl_secs: u64,
    /// How long a placement's claim on its request id lasts without renewal (it is renewed every third of
    /// this while the placement runs). A placement whose process died is looked up upstream once its claim
    /// has lapsed, so this is also how long a resend after a crash may have to wait.
    pub claim_lease_secs: u64,
}

impl Default for IdempotencyConfig {
    fn default() -> Self {
        IdempotencyConfig {
            max_request_id_len: 64,
            max_entries: 20_000,
            max_entries_per_user: 2_000,
            retry_window_secs: 15 * 60,
            ttl_secs: 24 * 3600,
            claim_lease_secs: 30,
        }
    }
}

impl IdempotencyConfig {
    /// What is wrong with these settings, each naming its key.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !(1..=1024).contains(&self.max_request_id_len) {
            out.push(format!(
                "idempotency.max_request_id_len must be 1..=1024, got {}",
                self.max_request_id_len
            ));
        }
        if !(1..=10_000_000).contains(&self.max_entries) {
            out.push(format!(
                "idempotency.max_entries must be 1..=10000000, got {}",
                self.max_entries
            ));
        }
        if self.max_entries_per_user == 0 || self.max_entries_per_user > self.max_entries {
            out.push(format!(
                "idempotency.max_entries_per_user must be 1..=idempotency.max_entries ({}), got {}",
                self.max_entries, self.max_entries_per_user
            ));
        }
        if !(60..=7 * 24 * 3600).contains(&self.ttl_secs) {
            out.push(format!(
                "idempotency.ttl_secs must be 60..=604800, got {}",
                self.ttl_secs
            ));
        }
        if self.retry_window_secs < 60 || self.retry_window_secs > self.ttl_secs {
            out.push(format!(
                "idempotency.retry_window_secs must be from 60 to idempotency.ttl_secs ({}), got {}",
                self.ttl_secs, self.retry_window_secs
            ));
        }
        if !(3..=300).contains(&self.claim_lease_secs) {
            out.push(format!(
                "idempotency.claim_lease_secs must be 3..=300, got {}",
                self.claim_lease_secs
            ));
        }
        out
    }
}

/// Who placed it and which request: a request id is only meaningful within one user's account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey {
    pub user: String,
    pub account: String,
    pub request_id: String,
}

/// What an order asks for, to tell a resend of it from another order under the same request id.
///
/// Built from the validated order (numbers normalized, so `1000` and `1000.00` are the same) and without
/// `currentAsk`/`currentBid`: TradingView's resend of the same ticket may carry newer prices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The text compared and stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The fingerprint of `order`: instrument, side, type, quantity, prices, duration and brackets.
    pub fn of(order: &PlaceOrder) -> Fingerprint {
        let mut text = format!(
            "{}|{}|{}|{}",
            order.instrument,
            order.side,
            order.kind,
            order.qty.normalize()
        );
        let b = &order.brackets;
        for price in [
            order.limit_price,
            order.stop_price,
            b.stop_loss,
            b.take_profit,
            b.trailing_stop_pips,
            b.guaranteed_stop,
        ] {
            match price {
                Some(p) => write!(text, "|{}", p.normalize()),
                None => write!(text, "|-"),
            }
            .expect("writing to a String cannot fail");
        }
        match &order.duration {
            Some(d) => write!(text, "|{}@{}", d.kind, d.datetime.unwrap_or(0)),
            None => write!(text, "|-"),
        }
        .expect("writing to a String cannot fail");
        Fingerprint(text)
    }
}

/// Remembers the order each `requestId` created, within the limits of [`IdempotencyConfig`].
///
/// Concurrent duplicates wait for the first one and get its answer (single flight). A placement refused
/// outright leaves no entry, so a resend is evaluated afresh: it created no order. A placement whose
/// outcome is unknown ([`crate::broker::BrokerError::OutcomeUnknown`]: the upstream may have taken it and
/// the backend could not settle it) keeps its entry with the claim lapsed, so a resend looks the order up
/// before anything is sent, and never places it a second time.
pub struct IdempotencyCache {
    table: Arc<Mutex<Table>>,
    config: IdempotencyConfig,
    /// The records in the state store; `None` only in unit tests of the in-process table.
    durable: Option<durable::Durable>,
}

impl IdempotencyCache {
    /// A cache with `config`'s limits.
    pub fn new(config: IdempotencyConfig) -> Self {
        let limits = Limits {
            max_entries: config.max_entries,
            max_per_user: config.max_entries_per_user,
            retry_window: Duration::from_secs(config.retry_window_secs),
            ttl: Duration::from_secs(config.ttl_secs),
        };
        IdempotencyCache {
            table: Arc::new(Mutex::new(Table::new(limits))),
            config,
            durable: None,
        }
    }

    /// A cache that also keeps every `requestId`'s record in the state store, so that a resend after a
    /// restart, or to another replica, answers the first order instead of placing a second.
    pub fn with_store(
        config: IdempotencyConfig,
        store: Arc<dyn crate::store::Store>,
        instance: String,
    ) -> Self {
        let ttl = Duration::from_secs(config.ttl_secs);
        let lease = Duration::from_secs(config.claim_lease_secs);
        let mut cache = IdempotencyCache::new(config);
        cache.durable = Some(durable::Durable {
            store,
            instance,
            ttl,
            lease,
        });
        cache
    }

    /// Number of remembered request ids.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Refuses a request id that is too long or not printable ASCII, before any work is done for it.
    pub fn check_request_id(&self, id: &str) -> ApiResult<()> {
        let max = self.config.max_request_id_len;
        if id.len() > max {
            return Err(ApiError::bad(format!(
                "query parameter 'requestId' is too long: at most {max} characters, got {}",
                id.len()
            )));
        }
        if !id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ApiError::bad(
                "query parameter 'requestId' may only contain printable ASCII characters without spaces",
            ));
        }
        Ok(())
    }

    /// Runs `place` unless `key` already produced an order for the same `fingerprint`, in which case that
    /// order is returned with `true` (a replay). The same key with another fingerprint is refused.
    ///
    /// The placement runs in its own task and records its outcome there: if the caller goes away (the
    /// client's connection drops while the order is in flight) the order still completes and is
    /// remembered, so the resend that follows gets it instead of placing a second one.
    ///
    /// `lookup` finds upstream the order of an earlier attempt of `key` that died mid-flight (another
    /// process crashed while placing it); it only runs in that case.
    pub async fn place<F, Fut, L, LFut>(
        &self,
        key: IdempotencyKey,
        fingerprint: Fingerprint,
        place: F,
        lookup: L,
    ) -> ApiResult<(PlacedOrder, bool)>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ApiResult<PlacedOrder>> + Send + 'static,
        L: FnOnce() -> LFut + Send + 'static,
        LFut: Future<Output = BrokerResult<Option<String>>> + Send + 'static,
    {
        use crate::metrics::record::idempotency as record;
        let cell = self
            .lock()
            .admit(key.clone(), fingerprint.clone(), Instant::now())
            .map_err(|r| {
                record(match r {
                    Refusal::Conflict => "refused_conflict",
                    Refusal::UserFull { .. } | Refusal::TableFull { .. } => "refused_full",
                });
                self.refusal(r, &key)
            })?;
        if let Some(done) = cell.get() {
            record("replayed");
            return Ok((done.clone(), true));
        }
        let ran = Arc::new(AtomicBool::new(false));
        let replayed = Arc::new(AtomicBool::new(false));
        let (ran_here, replayed_here) = (ran.clone(), replayed.clone());
        let table = self.table.clone();
        let durable = self.durable.clone();
        let placed = run_detached(async move {
            let result = cell
                .get_or_try_init(|| async {
                    ran_here.store(true, Ordering::SeqCst);
                    let Some(durable) = durable else {
                        return place().await;
                    };
                    match durable.place(&key, &fingerprint, place, lookup).await? {
                        durable::Placed::Fresh(placed) => Ok(placed),
                        durable::Placed::Replayed(placed) => {
                            replayed_here.store(true, Ordering::SeqCst);
                            Ok(placed)
                        }
                    }
                })
                .await
                .cloned();
            if result.is_err() {
                table.locked().forget_failed(&key, &cell);
            }
            result
        })
        .await?;
        let (ran, replayed) = (ran.load(Ordering::SeqCst), replayed.load(Ordering::SeqCst));
        record(match (ran, replayed) {
            (false, _) => "joined",
            (true, true) => "replayed",
            (true, false) => "placed",
        });
        Ok((placed, !ran || replayed))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.locked()
    }

    fn refusal(&self, refusal: Refusal, key: &IdempotencyKey) -> ApiError {
        let window = self.config.retry_window_secs;
        ApiError::bad(match refusal {
            Refusal::Conflict => format!(
                "requestId '{}' was already used for a different order on this account; a new order needs a new requestId",
                key.request_id
            ),
            Refusal::UserFull { retry_in } => format!(
                "Too many orders with a requestId from this login: at most {} within {window} s; try again in {} s",
                self.config.max_entries_per_user,
                whole_secs(retry_in)
            ),
            Refusal::TableFull { retry_in } => format!(
                "The bridge is tracking its maximum of {} recent orders; try again in {} s",
                self.config.max_entries,
                whole_secs(retry_in)
            ),
        })
    }
}

/// Seconds to wait, rounded up: "try again in 0 s" would be a lie.
fn whole_secs(d: Duration) -> u64 {
    (d.as_secs_f64().ceil() as u64).max(1)
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
mod tests;
