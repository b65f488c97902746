//! Short-lived caches of account reads, per (token, account): the account, its pending orders, trades,
//! positions and the prices that value its trades. TradingView polls orders, positions and state every
//! half second per browser tab, and one refresh asks several of them at once; each answer is fetched once
//! (single flight), served for [`FRESH`], and forgotten as soon as the bridge writes to the account.

use super::super::venue::Conn;
use super::convert::Book;
use super::journal::Journal;
use super::model;
use crate::broker::BrokerResult;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an answer is served again.
pub const FRESH: Duration = Duration::from_millis(300);
/// An account cache unused this long is dropped (with its journal of finished orders).
const IDLE: Duration = Duration::from_secs(600);

struct Entry<T> {
    /// When the fetch that produced it started: the data is at least that fresh.
    at: Instant,
    generation: u64,
    value: Arc<T>,
}

/// One cached read. Its lock is held while fetching, so concurrent callers share one request.
pub struct Cell<T> {
    slot: tokio::sync::Mutex<Option<Entry<T>>>,
}

impl<T> Default for Cell<T> {
    fn default() -> Self {
        Cell {
            slot: tokio::sync::Mutex::new(None),
        }
    }
}

impl<T> Cell<T> {
    /// The cached value when fresh, of the current `generation` and accepted by `usable`; else fetched.
    /// Failures are not cached.
    pub async fn get_if<F, Fut>(
        &self,
        generation: &AtomicU64,
        usable: impl Fn(&T) -> bool,
        fetch: F,
    ) -> BrokerResult<Arc<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = BrokerResult<T>>,
    {
        let mut slot = self.slot.lock().await;
        let current = generation.load(Ordering::SeqCst);
        if let Some(e) = slot.as_ref() {
            if e.generation == current && e.at.elapsed() < FRESH && usable(&e.value) {
                return Ok(e.value.clone());
            }
        }
        let at = Instant::now();
        let value = Arc::new(fetch().await?);
        *slot = Some(Entry {
            at,
            generation: current,
            value: value.clone(),
        });
        Ok(value)
    }

    /// The cached value when fresh and of the current `generation`, else fetched.
    pub async fn get<F, Fut>(&self, generation: &AtomicU64, fetch: F) -> BrokerResult<Arc<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = BrokerResult<T>>,
    {
        self.get_if(generation, |_| true, fetch).await
    }
}

/// The caches of one account as seen with one token.
#[derive(Default)]
pub struct AccountCache {
    /// Bumped by every write: answers fetched before it are no longer served.
    pub generation: AtomicU64,
    pub account: Cell<model::Account>,
    pub orders: Cell<Vec<model::Order>>,
    pub trades: Cell<Vec<model::Trade>>,
    pub positions: Cell<model::Positions>,
    /// Prices of the instruments that value the trades (the instrument list, and their bid/ask).
    pub prices: Cell<(Vec<String>, Book)>,
    /// Set by writes: the next refresh of orders reads the transaction history.
    pub transactions_due: AtomicBool,
    /// Orders that reached a final status, built from the transaction history.
    pub journal: tokio::sync::Mutex<Journal>,
    last_used: Mutex<Option<Instant>>,
}

impl AccountCache {
    /// Forgets every answer after a write (or an attempted one) on the account.
    pub fn written(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.transactions_due.store(true, Ordering::SeqCst);
    }

    fn touch(&self) {
        *self.last_used.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    fn idle(&self) -> bool {
        self.last_used
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|t| t.elapsed() > IDLE)
    }
}

/// A cache key. The token is kept only to tell users apart; it never prints.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    token: String,
    account: String,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("token", &crate::secret::MASK)
            .field("account", &self.account)
            .finish()
    }
}

/// Every account cache of the venue.
#[derive(Default)]
pub struct Caches {
    map: Mutex<HashMap<Key, Arc<AccountCache>>>,
}

impl Caches {
    /// The cache of `account` for the connection's token (created on first use; idle ones are dropped).
    pub fn of(&self, conn: &Conn, account: &str) -> Arc<AccountCache> {
        let key = Key {
            token: conn.token.expose().to_owned(),
            account: account.to_owned(),
        };
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|k, c| k == &key || !c.idle());
        let cache = map.entry(key).or_default().clone();
        cache.touch();
        cache
    }
}

impl Caches {
    /// Forgets what was read of `account` under every token: its event stream announced a change made
    /// elsewhere (another client, a triggered stop), which no write of this bridge accounts for.
    pub fn changed_upstream(&self, account: &str) {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        for (key, cache) in map.iter() {
            if key.account == account {
                cache.written();
            }
        }
    }
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.map.lock().map(|m| m.len()).unwrap_or_default();
        f.debug_struct("Caches").field("accounts", &n).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[tokio::test]
    async fn one_fetch_serves_concurrent_callers_until_a_write() {
        let cell: Cell<u32> = Cell::default();
        let generation = AtomicU64::new(0);
        let calls = AtomicUsize::new(0);
        let fetch = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(7)
        };
        let (a, b) = tokio::join!(cell.get(&generation, fetch), cell.get(&generation, fetch));
        assert_eq!((*a.unwrap(), *b.unwrap()), (7, 7));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "single flight");
        generation.fetch_add(1, Ordering::SeqCst);
        cell.get(&generation, fetch).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2, "a write invalidates");
        cell.get_if(&generation, |v| *v == 8, fetch).await.unwrap();
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "an unusable value is fetched again"
        );
    }

    #[tokio::test]
    async fn failures_are_not_cached() {
        let cell: Cell<u32> = Cell::default();
        let generation = AtomicU64::new(0);
        let failed = cell
            .get(&generation, || async {
                Err(crate::broker::BrokerError::Unavailable("x".into()))
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(*cell.get(&generation, || async { Ok(1) }).await.unwrap(), 1);
    }

    #[test]
    fn keys_never_print_the_token() {
        let key = Key {
            token: "secret-token".into(),
            account: "123".into(),
        };
        let printed = format!("{key:?}");
        assert!(!printed.contains("secret-token") && printed.contains("123"));
    }
}
