//! The instrument catalog cache: the rows of `Broker::instruments` per (session, account), read by
//! `/instruments` and by every order, bracket and position check of the HTTP layer. One backend call serves
//! every concurrent first caller (single flight); rows serve for `hub.catalog_ttl_secs`; a symbol missing
//! from the rows triggers one refresh before the caller refuses it; the cache holds at most
//! [`MAX_CATALOGS`] accounts (the least recently used go first) and forgets a session at logout. A failure
//! is not kept: the callers that queued behind the failed fetch share it, the next caller asks again.

use crate::broker::{Broker, BrokerError, BrokerResult, SessionCtx};
use crate::sync::MutexExt;
use crate::tv;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
// Tokio's clock, so that tests can move it.
use tokio::time::Instant;

/// Accounts whose rows are kept at once; one more evicts the least recently used.
pub const MAX_CATALOGS: usize = 4096;
/// Rows younger than this are not refreshed for a missing symbol: a client naming unknown symbols over and
/// over costs at most one backend call per this interval.
const ON_DEMAND_AFTER: Duration = Duration::from_secs(2);

type Rows = Arc<Vec<tv::Instrument>>;

/// One account's rows. The lock is held while fetching, so concurrent callers share one backend call.
#[derive(Default)]
struct Entry {
    state: tokio::sync::Mutex<State>,
    /// Fetches finished so far: a caller notes it before queueing for the lock, so it can tell a failure
    /// that ended while it waited (shared) from one that ended before it came (tried again).
    finished: AtomicU64,
}

#[derive(Default)]
struct State {
    rows: Option<(Instant, Rows)>,
    /// The last fetch's failure and its number in `finished`: the callers queued behind a failed fetch get
    /// its failure instead of each asking a failing backend again in turn.
    failed: Option<(u64, BrokerError)>,
}

struct Slot {
    entry: Arc<Entry>,
    last_used: Instant,
}

/// Every cached catalog, by (session id, account id).
pub struct Catalogs {
    broker: Arc<dyn Broker>,
    ttl: Duration,
    capacity: usize,
    map: Mutex<HashMap<(String, String), Slot>>,
}

impl Catalogs {
    /// An empty cache whose rows serve for `ttl`, holding at most `capacity` accounts.
    pub fn new(broker: Arc<dyn Broker>, ttl: Duration, capacity: usize) -> Catalogs {
        Catalogs {
            broker,
            ttl,
            capacity: capacity.max(1),
            map: Mutex::new(HashMap::new()),
        }
    }

    fn entry(&self, ctx: &SessionCtx, account: &str) -> Arc<Entry> {
        let key = (ctx.session_id.clone(), account.to_string());
        let now = Instant::now();
        let mut map = self.map.locked();
        if let Some(slot) = map.get_mut(&key) {
            slot.last_used = now;
            return slot.entry.clone();
        }
        if map.len() >= self.capacity {
            let oldest = map
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                map.remove(&oldest);
            }
        }
        let entry = Arc::new(Entry::default());
        map.insert(
            key,
            Slot {
                entry: entry.clone(),
                last_used: now,
            },
        );
        entry
    }

    /// The account's rows, fetched when absent or older than the TTL. Failures are not kept.
    pub async fn rows(&self, ctx: &SessionCtx, account: &str) -> BrokerResult<Rows> {
        self.rows_newer_than(ctx, account, self.ttl).await
    }

    /// The account's rows, refreshed once more when `symbol` is not among them (an instrument the
    /// upstream added since), unless they were fetched under two seconds ago. The caller refuses the
    /// symbol if it is still missing.
    pub async fn rows_with(&self, ctx: &SessionCtx, account: &str, symbol: &str) -> BrokerResult<Rows> {
        let rows = self.rows(ctx, account).await?;
        if rows.iter().any(|i| i.name == symbol) {
            return Ok(rows);
        }
        self.rows_newer_than(ctx, account, ON_DEMAND_AFTER.min(self.ttl))
            .await
    }

    async fn rows_newer_than(&self, ctx: &SessionCtx, account: &str, age: Duration) -> BrokerResult<Rows> {
        let entry = self.entry(ctx, account);
        let seen = entry.finished.load(Ordering::SeqCst);
        let mut state = entry.state.lock().await;
        if let Some((at, rows)) = state.rows.as_ref() {
            if at.elapsed() < age {
                return Ok(rows.clone());
            }
        }
        if let Some((number, e)) = state.failed.as_ref() {
            if *number > seen {
                return Err(e.clone());
            }
        }
        let at = Instant::now();
        let fetched = self.broker.instruments(ctx, account).await;
        let number = entry.finished.fetch_add(1, Ordering::SeqCst) + 1;
        match fetched {
            Ok(rows) => {
                let rows = Arc::new(rows);
                state.rows = Some((at, rows.clone()));
                state.failed = None;
                Ok(rows)
            }
            Err(e) => {
                state.failed = Some((number, e.clone()));
                Err(e)
            }
        }
    }

    /// Forgets the rows of one account (a write changed them, e.g. a leverage change their margin rates).
    pub fn forget(&self, ctx: &SessionCtx, account: &str) {
        self.map
            .locked()
            .remove(&(ctx.session_id.clone(), account.to_string()));
    }

    /// Forgets every catalog of a session (logout).
    pub fn remove_session(&self, session_id: &str) {
        self.map.locked().retain(|(s, _), _| s != session_id);
    }

    /// Accounts cached.
    pub fn len(&self) -> usize {
        self.map.locked().len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
