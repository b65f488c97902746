//! Per (token, account) state that spares OANDA requests: the full account (`GET /accounts/{id}`) kept for
//! 300 ms and fetched single-flight, so one TradingView refresh (state, orders, positions) and every tab
//! polling at once cost one request; and the slots the history module keeps its own caches in.
//!
//! Freshness is guarded by a generation counter: a write bumps it, and a snapshot fetched under an older
//! generation is never served again, even one whose request was already under way when the write finished.

use super::client::Client;
use super::model::{Account, Order, Transaction};
use crate::backends::oanda::errors::broker_error;
use crate::backends::oanda::venue::Conn;
use crate::broker::BrokerResult;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a fetched account serves reads.
pub const SNAPSHOT_TTL: Duration = Duration::from_millis(300);
/// Slots unused this long are dropped once there are more than [`MAX_IDLE_SLOTS`].
const IDLE_AFTER: Duration = Duration::from_secs(600);
const MAX_IDLE_SLOTS: usize = 256;

/// One account as OANDA answered, with the id of the last transaction the answer reflects.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub account: Account,
    pub last_transaction_id: Option<String>,
}

impl Snapshot {
    /// The last transaction id as a number (OANDA's ids are decimal integers).
    pub fn last_transaction(&self) -> Option<u64> {
        self.last_transaction_id.as_deref()?.trim().parse().ok()
    }
}

/// A token and an account. The token is part of the key (two users of one account must each be allowed
/// to read it) but never printed.
#[derive(Clone, PartialEq, Eq)]
struct Key {
    token: String,
    account: String,
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.token.hash(state);
        self.account.hash(state);
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key(********, {})", self.account)
    }
}

/// The last answer: the account, or the failure (kept as briefly, so that the callers queued behind a failed
/// request share its failure instead of each trying again at once).
struct Cached {
    at: Instant,
    generation: u64,
    result: BrokerResult<Arc<Snapshot>>,
}

/// Final orders as last listed, with the last transaction id of the account answer they were listed for.
pub(super) type FinalsCache = Option<(String, Arc<Vec<Order>>)>;

/// The fills of the account (newest first) and the last transaction id up to which they are complete.
#[derive(Debug, Default)]
pub(super) struct FillLog {
    pub fills: Vec<Transaction>,
    /// 0: never scanned.
    pub scanned_to: u64,
}

/// The state of one (token, account).
#[derive(Default)]
pub(super) struct Slot {
    generation: AtomicU64,
    last_used: Mutex<Option<Instant>>,
    account: tokio::sync::Mutex<Option<Cached>>,
    pub finals: tokio::sync::Mutex<FinalsCache>,
    pub fills: tokio::sync::Mutex<FillLog>,
}

/// The caches of the v20 venue.
#[derive(Default)]
pub struct AccountCache {
    slots: Mutex<HashMap<Key, Arc<Slot>>>,
}

impl std::fmt::Debug for AccountCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.slots.lock().map(|s| s.len()).unwrap_or_default();
        f.debug_struct("AccountCache").field("slots", &n).finish()
    }
}

impl AccountCache {
    /// The slot of (token, account), made on first use; idle slots are dropped once there are many.
    pub(super) fn slot(&self, conn: &Conn, account: &str) -> Arc<Slot> {
        let key = Key {
            token: conn.token.expose().to_string(),
            account: account.to_string(),
        };
        let now = Instant::now();
        // A poisoned lock only means another thread panicked while holding it; the map is still sound.
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.len() > MAX_IDLE_SLOTS && !slots.contains_key(&key) {
            slots.retain(|_, s| {
                s.last_used
                    .lock()
                    .map(|t| t.is_some_and(|t| now.duration_since(t) < IDLE_AFTER))
                    .unwrap_or(false)
            });
        }
        let slot = slots.entry(key).or_default().clone();
        if let Ok(mut t) = slot.last_used.lock() {
            *t = Some(now);
        }
        slot
    }

    /// The account, at most [`SNAPSHOT_TTL`] old and not older than the last write; concurrent callers
    /// share one request.
    pub async fn snapshot(&self, conn: &Conn, account: &str) -> BrokerResult<Arc<Snapshot>> {
        let slot = self.slot(conn, account);
        let mut cached = slot.account.lock().await;
        let generation = slot.generation.load(Ordering::SeqCst);
        if let Some(c) = cached.as_ref() {
            if c.generation == generation && c.at.elapsed() < SNAPSHOT_TTL {
                return c.result.clone();
            }
        }
        let at = Instant::now();
        let result = Client::new(&conn.http, &conn.token)
            .account(account)
            .await
            .map(|answer| {
                Arc::new(Snapshot {
                    last_transaction_id: answer.last_transaction_id().map(str::to_string),
                    account: answer.account,
                })
            })
            .map_err(|e| broker_error(&e, &format!("account {account}")));
        *cached = Some(Cached {
            // A success counts from when it was asked for (it may be older than its arrival); a failure
            // from its arrival, so that the callers queued behind it get it.
            at: if result.is_ok() { at } else { Instant::now() },
            generation,
            result: result.clone(),
        });
        result
    }

    /// The account as it is now (after anything written so far).
    pub async fn fresh_snapshot(&self, conn: &Conn, account: &str) -> BrokerResult<Arc<Snapshot>> {
        self.invalidate(conn, account);
        self.snapshot(conn, account).await
    }

    /// Forgets what was read of the account under every token: its transaction stream announced a change
    /// made elsewhere (another client, a triggered stop), which no write of this bridge accounts for.
    pub fn invalidate_account(&self, account: &str) {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        for (key, slot) in slots.iter() {
            if key.account == account {
                slot.generation.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    /// Forgets what was read of the account: called after every write, whatever its outcome.
    pub fn invalidate(&self, conn: &Conn, account: &str) {
        self.slot(conn, account).generation.fetch_add(1, Ordering::SeqCst);
    }
}
