//! TradingView's order id across modifications. A modification (`PUT`) gives the order a new
//! `CustomerOrderId`, and IBKR lists it under that id afterwards; TradingView must keep seeing the id it
//! was given. Both directions are kept in the store (so every replica, and the bridge after a restart,
//! maps the orders list back), and written before the `PUT` is sent: a crash after sending loses nothing.

use crate::backends::ibkr_third_party::model::Coid;
use crate::broker::{BrokerError, BrokerResult};
use crate::store::{digest, json, Expect, Store};
use crate::sync::MutexExt;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long an alias is kept: longer than a GTC order is likely to work (IBKR cancels GTC orders
/// after a while; ASSUMED 90 days covers it, README Known gaps).
const TTL: Duration = Duration::from_secs(90 * 24 * 3600);

/// The id an order of TradingView id `tv` goes by now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Current {
    pub current: u64,
    /// The id before the last modification.
    pub previous: Option<u64>,
    /// The last modification was sent (or is about to be) and not yet confirmed: `current` holds only
    /// if IBKR lists the order under it.
    pub pending: bool,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Origin {
    tv: u64,
}

/// The aliases of every account, in the store.
pub struct Aliases {
    store: Arc<dyn Store>,
    /// `origin` records never change once written, so they are kept here as read (absent ones too: an id
    /// IBKR lists had its origin written before it was sent, if it has one).
    origins: Mutex<HashMap<(String, u64), u64>>,
}

fn origin_key(account: &str, id: u64) -> String {
    format!("ibkr-tp:alias:origin:{}", digest(&[account, &id.to_string()]))
}

fn current_key(account: &str, tv: u64) -> String {
    format!("ibkr-tp:alias:current:{}", digest(&[account, &tv.to_string()]))
}

fn store_error(e: crate::store::StoreError) -> BrokerError {
    BrokerError::Unavailable(format!("the order id aliases: {e}"))
}

impl Aliases {
    pub fn new(store: Arc<dyn Store>) -> Aliases {
        Aliases {
            store,
            origins: Mutex::new(HashMap::new()),
        }
    }

    /// TradingView's id of the order IBKR lists as `id` on `account`.
    pub async fn tv_id(&self, account: &str, id: Coid) -> BrokerResult<Coid> {
        let key = (account.to_string(), id.0);
        if let Some(tv) = self.origins.locked().get(&key) {
            return Ok(Coid(*tv));
        }
        let found = json::get::<Origin>(&*self.store, &origin_key(account, id.0))
            .await
            .map_err(store_error)?;
        let tv = found.map_or(id.0, |(_, o)| o.tv);
        self.origins.locked().insert(key, tv);
        Ok(Coid(tv))
    }

    /// What TradingView's `tv` goes by now; `None`: it was never modified (it goes by its own id).
    pub async fn current(&self, account: &str, tv: Coid) -> BrokerResult<Option<Current>> {
        Ok(json::get::<Current>(&*self.store, &current_key(account, tv.0))
            .await
            .map_err(store_error)?
            .map(|(_, c)| c))
    }

    /// Records, before the `PUT` is sent, that `tv` (now `old`) is to become `new`.
    pub async fn record(&self, account: &str, tv: Coid, old: Coid, new: Coid) -> BrokerResult<()> {
        json::put(
            &*self.store,
            &origin_key(account, new.0),
            Expect::Any,
            &Origin { tv: tv.0 },
            TTL,
        )
        .await
        .map_err(store_error)?;
        self.origins.locked().insert((account.to_string(), new.0), tv.0);
        let current = Current {
            current: new.0,
            previous: Some(old.0),
            pending: true,
        };
        self.put_current(account, tv, &current).await
    }

    /// IBKR lists `tv` under `id` (confirmed after a modification, or back to the old id after a refused
    /// one).
    pub async fn settle(
        &self,
        account: &str,
        tv: Coid,
        id: Coid,
        previous: Option<Coid>,
    ) -> BrokerResult<()> {
        let current = Current {
            current: id.0,
            previous: previous.map(|p| p.0),
            pending: false,
        };
        self.put_current(account, tv, &current).await
    }

    async fn put_current(&self, account: &str, tv: Coid, current: &Current) -> BrokerResult<()> {
        json::put(
            &*self.store,
            &current_key(account, tv.0),
            Expect::Any,
            current,
            TTL,
        )
        .await
        .map_err(store_error)?;
        Ok(())
    }
}
