//! The account reads: `/accounts` (204 before IBKR's nightly refresh: said in words, never an empty
//! list), and `/orders`, `/positions`, `/summary`, which IBKR locks (423) when asked too often. A locked
//! resource is left alone for `locked_backoff`, doubling while it stays locked up to 30 s, per
//! (user, account, resource), and its last good answer is served meanwhile.

use super::client::{read, read_raw, Api, ApiError, ApiResult, Patience};
use super::errors::to_broker;
use super::model::account::{Position, Summary};
use super::model::orders::Order;
use crate::broker::{BrokerError, BrokerResult};
use crate::sync::MutexExt;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The longest a locked resource is left alone.
pub const MAX_LOCKED_BACKOFF: Duration = Duration::from_secs(30);

/// How long a user's account list is reused: it changes only at IBKR's nightly refresh.
const ACCOUNTS_TTL: Duration = Duration::from_secs(60);

struct Slot<T> {
    last: Option<T>,
    /// When `last` was read.
    at: Option<Instant>,
    /// Not asked again before this while locked.
    until: Option<Instant>,
    /// The wait after the next 423.
    next_wait: Duration,
}

/// One resource's last good answers and lock back-off, by (user, account).
pub struct Locked<T> {
    name: &'static str,
    first: Duration,
    /// An answer younger than this is served again rather than asking (IBKR locks a resource asked for
    /// more often than about once a second).
    gap: Duration,
    slots: Mutex<HashMap<(String, String), Slot<T>>>,
}

impl<T: Clone> Locked<T> {
    pub fn new(name: &'static str, first: Duration, gap: Duration) -> Locked<T> {
        Locked {
            name,
            first: first.max(Duration::from_millis(1)),
            gap,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The resource for (`user`, `account`): fetched (202 retried), or while it is locked the last good
    /// answer (none yet: rate limited, with the time left).
    pub async fn get<F, Fut>(
        &self,
        user: &str,
        account: &str,
        patience: Patience,
        mut fetch: F,
    ) -> BrokerResult<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = ApiResult<T>>,
    {
        let key = (user.to_string(), account.to_string());
        if let Some(served) = self.while_locked(&key) {
            return served;
        }
        let what = format!("reading the account's {}", self.name);
        match read_raw(patience, &mut fetch).await {
            Ok(value) => {
                let mut slots = self.slots.locked();
                let slot = slots.entry(key).or_insert_with(|| Slot {
                    last: None,
                    at: None,
                    until: None,
                    next_wait: self.first,
                });
                slot.last = Some(value.clone());
                slot.at = Some(Instant::now());
                slot.until = None;
                slot.next_wait = self.first;
                Ok(value)
            }
            Err(ApiError::Locked) => {
                let mut slots = self.slots.locked();
                let slot = slots.entry(key).or_insert_with(|| Slot {
                    last: None,
                    at: None,
                    until: None,
                    next_wait: self.first,
                });
                let wait = slot.next_wait;
                slot.until = Some(Instant::now() + wait);
                slot.next_wait = (wait * 2).min(MAX_LOCKED_BACKOFF);
                tracing::info!(
                    user,
                    account,
                    resource = self.name,
                    backoff_ms = wait.as_millis() as u64,
                    serving_last = slot.last.is_some(),
                    "IBKR locked the resource (423); backing off"
                );
                match &slot.last {
                    Some(last) => Ok(last.clone()),
                    None => Err(BrokerError::RateLimited {
                        retry_after: Some(wait),
                    }),
                }
            }
            Err(ApiError::Accepted) => Err(BrokerError::Unavailable(format!(
                "IBKR accepted {what} but had no answer after {} attempts; try again shortly",
                patience.attempts.max(1)
            ))),
            Err(e) => Err(to_broker(&what, &e)),
        }
    }

    /// The account changed (the bridge wrote to it): the next read asks IBKR instead of serving an
    /// answer from within the gap (the last answer is kept for a 423).
    pub fn changed(&self, user: &str, account: &str) {
        if let Some(slot) = self
            .slots
            .locked()
            .get_mut(&(user.to_string(), account.to_string()))
        {
            slot.at = None;
        }
    }

    fn while_locked(&self, key: &(String, String)) -> Option<BrokerResult<T>> {
        let slots = self.slots.locked();
        let slot = slots.get(key)?;
        if let (Some(last), Some(at)) = (&slot.last, slot.at) {
            if at.elapsed() < self.gap {
                return Some(Ok(last.clone()));
            }
        }
        let until = slot.until?;
        let now = Instant::now();
        if now >= until {
            return None;
        }
        Some(match &slot.last {
            Some(last) => Ok(last.clone()),
            None => Err(BrokerError::RateLimited {
                retry_after: Some(until - now),
            }),
        })
    }
}

/// The account reads of every user.
pub struct Reads {
    pub orders: Locked<Vec<Order>>,
    pub positions: Locked<Vec<Position>>,
    pub summary: Locked<Summary>,
    accounts: Mutex<HashMap<String, (Instant, Vec<String>)>>,
}

impl Reads {
    /// `gap`: an answer younger than this is served again (see [`Locked`]).
    pub fn new(locked_backoff: Duration, gap: Duration) -> Reads {
        Reads {
            orders: Locked::new("orders", locked_backoff, gap),
            positions: Locked::new("positions", locked_backoff, gap),
            summary: Locked::new("summary", locked_backoff, gap),
            accounts: Mutex::new(HashMap::new()),
        }
    }

    /// A write to `user`'s `account`: its orders, positions and summary are read afresh next time.
    pub fn changed(&self, user: &str, account: &str) {
        self.orders.changed(user, account);
        self.positions.changed(user, account);
        self.summary.changed(user, account);
    }

    /// `user`'s IBKR accounts (reused for a minute). Before IBKR's nightly refresh (204) an error that
    /// says so; an empty list is an error too (the bridge has nothing to show the user).
    pub async fn accounts(&self, api: &dyn Api, user: &str, patience: Patience) -> BrokerResult<Vec<String>> {
        if let Some((at, ids)) = self.accounts.locked().get(user) {
            if at.elapsed() < ACCOUNTS_TTL {
                return Ok(ids.clone());
            }
        }
        let list = read("reading the accounts", patience, || api.accounts(user)).await;
        let ids = match list {
            Ok(a) => a.accounts,
            Err(e) => {
                if matches!(&e, BrokerError::Rejected(m) if m == super::errors::NIGHTLY_REFRESH) {
                    tracing::info!(
                        user,
                        "IBKR has not made the user's accounts available yet (204): nightly refresh pending"
                    );
                }
                return Err(e);
            }
        };
        if ids.is_empty() {
            return Err(BrokerError::Rejected(
                "IBKR lists no account for your login: check the access you granted at Interactive Brokers"
                    .into(),
            ));
        }
        self.accounts
            .locked()
            .insert(user.to_string(), (Instant::now(), ids.clone()));
        Ok(ids)
    }

    /// Forgets `user`'s accounts (after a new grant).
    pub fn forget(&self, user: &str) {
        self.accounts.locked().remove(user);
    }
}

/// How far back `/trades` may be asked (IBKR answers 400 beyond 7 days) less a margin for clock skew.
pub const TRADES_REACH: Duration = Duration::from_secs(7 * 24 * 3600 - 15 * 60);

/// The `since` of a `/trades` request for fills from `from` (unix seconds), clipped to what IBKR allows
/// at `now`: never more than [`TRADES_REACH`] back, never in the future.
pub fn trades_since(from: Option<i64>, now: i64) -> String {
    let earliest = now - TRADES_REACH.as_secs() as i64;
    let at = from.unwrap_or(earliest).clamp(earliest, now);
    super::convert::to_fix_time(at).unwrap_or_default()
}

/// TradingView's orders of `list` (IBKR's): ids mapped back to TradingView's through the aliases, the
/// replaced ones left to their replacements, contracts named by the catalog.
pub async fn tv_orders(
    list: &[Order],
    account: &str,
    aliases: &super::aliases::Aliases,
    namer: &super::catalog::Namer<'_>,
) -> BrokerResult<Vec<crate::tv::Order>> {
    let mut out = Vec::with_capacity(list.len());
    for o in list {
        let tv = aliases.tv_id(account, o.customer_order_id).await?;
        let symbol = match o.contract_id {
            Some(c) => namer.symbol(c.0, o.ticker.as_deref()).await,
            None => o.ticker.clone().unwrap_or_else(|| "?".into()),
        };
        match super::convert::orders::order(o, tv.to_string(), symbol) {
            Ok(Some(order)) => out.push(order),
            Ok(None) => {}
            Err(e) => tracing::warn!(account, error = %e, "IBKR order cannot be shown"),
        }
    }
    Ok(out)
}
