//! What happened to orders: the final orders of `/orders` and `/ordersHistory` (from `GET /orders?state=ALL`,
//! refreshed only when the account's last transaction id moves, with the price of each fill and the reason
//! of each cancellation read once from its transaction), and executions (from `ORDER_FILL` transactions,
//! read backwards in id ranges once, then only the new ones).

use super::account::{self, Snapshot};
use super::client::Client;
use super::convert::{self, FactsMap, TxFacts};
use super::model::{Order, Transaction, TransactionType};
use crate::backends::oanda::errors::broker_error;
use crate::backends::oanda::venue::{Conn, Ctx};
use crate::broker::BrokerResult;
use crate::sync::MutexExt;
use crate::tv;
use futures_util::future::join_all;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Orders listed per `GET /orders` (OANDA's maximum).
const ORDERS_LISTED: u32 = 500;
/// Transactions read per call for facts, at most, so one refresh never fans out.
const FACT_READS_PER_CALL: usize = 8;
/// Facts kept per account before the store is emptied (they are cheap to read again).
const MAX_FACTS: usize = 4_000;
/// Ids per `GET /transactions/idrange` call, and calls of a first scan.
const ID_WINDOW: u64 = 1_000;
const FIRST_SCAN_CALLS: usize = 4;
/// Fills kept per account; new transactions past this many ids since the last look start a new scan.
const MAX_FILLS: usize = 1_000;
const MAX_FORWARD_IDS: u64 = ID_WINDOW * 4;

/// Journals unused this long are dropped once there are more than [`KEPT_JOURNALS`] (they are rebuilt by
/// reading the orders and fills again).
const IDLE_AFTER: Duration = Duration::from_secs(600);
const KEPT_JOURNALS: usize = 256;

/// Final orders as last listed, with the last transaction id of the account answer they were listed for.
type FinalsCache = Option<(String, Arc<Vec<Order>>)>;

/// The fills of the account (newest first) and the last transaction id up to which they are complete.
#[derive(Debug, Default)]
struct FillLog {
    fills: Vec<Transaction>,
    /// 0: never scanned.
    scanned_to: u64,
}

/// What is kept per (token, account) between calls: the last listing of final orders (reused while the
/// account's last transaction id stays put) and the fills read so far.
#[derive(Default)]
pub struct Slot {
    finals: tokio::sync::Mutex<FinalsCache>,
    fills: tokio::sync::Mutex<FillLog>,
}

/// Every journal of the v20 venue, per (token, account): the token tells two users of one account apart.
pub struct Journals(crate::upstream::journal::Journals<Slot>);

impl Default for Journals {
    fn default() -> Self {
        Journals(crate::upstream::journal::Journals::new(IDLE_AFTER, KEPT_JOURNALS))
    }
}

impl std::fmt::Debug for Journals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Journals {
    fn slot(&self, conn: &Conn, account: &str) -> Arc<Slot> {
        self.0.of(conn.token.expose(), account)
    }
}

/// Facts of filling and cancelling transactions, per account (transactions never change).
#[derive(Debug, Default)]
pub struct FactsStore {
    by_account: Mutex<HashMap<String, FactsMap>>,
}

impl FactsStore {
    fn known(&self, account: &str, ids: &[String]) -> (FactsMap, Vec<String>) {
        let store = self.by_account.locked();
        let mut known = FactsMap::new();
        let mut missing = Vec::new();
        let empty = FactsMap::new();
        let facts = store.get(account).unwrap_or(&empty);
        for id in ids {
            match facts.get(id) {
                Some(f) => {
                    known.insert(id.clone(), f.clone());
                }
                None if !missing.contains(id) => missing.push(id.clone()),
                None => {}
            }
        }
        (known, missing)
    }

    fn remember(&self, account: &str, id: String, facts: Option<TxFacts>) {
        let mut store = self.by_account.locked();
        let map = store.entry(account.to_string()).or_default();
        if map.len() >= MAX_FACTS {
            map.clear();
        }
        map.insert(id, facts);
    }

    /// The facts of `ids`, reading at most [`FACT_READS_PER_CALL`] missing ones. A transaction OANDA
    /// refuses to give (4xx other than throttling) is remembered as unreadable; other failures are tried
    /// again on a later call.
    pub async fn get(&self, conn: &Conn, account: &str, ids: &[String]) -> FactsMap {
        let (mut known, missing) = self.known(account, ids);
        let client = Client::new(&conn.http, &conn.token);
        let reads = missing
            .into_iter()
            .take(FACT_READS_PER_CALL)
            .map(|id| async move { (client.transaction(account, &id).await, id) });
        for (answer, id) in join_all(reads).await {
            let facts = match answer {
                Ok(r) => Some(convert::facts_of(&r.transaction)),
                Err(e) if e.status().is_some_and(|s| (400..500).contains(&s) && s != 429) => {
                    tracing::info!(error = %e, "an OANDA transaction cannot be read; its order is shown without it");
                    None
                }
                Err(e) => {
                    tracing::debug!(error = %e, "reading an OANDA transaction failed; trying again later");
                    continue;
                }
            };
            self.remember(account, id.clone(), facts.clone());
            known.insert(id, facts);
        }
        known
    }
}

/// The account's orders (newest first), listed again only when its last transaction id moved. When the
/// listing fails, the previous one is used if there is one.
async fn listed_orders(
    journals: &Journals,
    cx: Ctx<'_>,
    snapshot: &Snapshot,
) -> BrokerResult<Arc<Vec<Order>>> {
    let slot = journals.slot(cx.conn, cx.account);
    let mut finals = slot.finals.lock().await;
    let key = snapshot.last_transaction_id.clone().unwrap_or_default();
    if let Some((at, orders)) = finals.as_ref() {
        if *at == key && !key.is_empty() {
            return Ok(orders.clone());
        }
    }
    let answer = Client::new(&cx.conn.http, &cx.conn.token)
        .orders(cx.account, "ALL", ORDERS_LISTED)
        .await;
    match answer {
        Ok(r) => {
            let orders = Arc::new(r.orders);
            *finals = Some((key, orders.clone()));
            Ok(orders)
        }
        Err(e) => match finals.as_ref() {
            Some((_, previous)) => {
                tracing::warn!(error = %e, "listing OANDA orders failed; showing the previous listing");
                Ok(previous.clone())
            }
            None => Err(broker_error(&e, &format!("the orders of account {}", cx.account))),
        },
    }
}

/// `/orders`: pending orders with their legs, then the orders that reached a final state since `cx.since`.
pub async fn orders(journals: &Journals, facts: &FactsStore, cx: Ctx<'_>) -> BrokerResult<Vec<tv::Order>> {
    let snapshot = account::read(cx.conn, cx.account).await?;
    orders_of(journals, facts, cx, &snapshot).await
}

/// `/orders` of an account already read (one refresh reads it once for orders, positions and state).
pub async fn orders_of(
    journals: &Journals,
    facts: &FactsStore,
    cx: Ctx<'_>,
    snapshot: &Snapshot,
) -> BrokerResult<Vec<tv::Order>> {
    let mut out = convert::pending_orders(&snapshot.account, cx.catalog);
    let listed = listed_orders(journals, cx, snapshot).await?;
    let needed = convert::needed_facts(&listed, Some(cx.since));
    let known = facts.get(cx.conn, cx.account, &needed).await;
    let hide: HashSet<String> = out.iter().map(|o| o.id.clone()).collect();
    out.extend(convert::final_orders(
        &listed,
        &known,
        cx.catalog,
        Some(cx.since),
        &hide,
        true,
    ));
    Ok(out)
}

/// `/ordersHistory`: filled, cancelled and rejected orders, newest first, at most `max`.
pub async fn orders_history(
    journals: &Journals,
    facts: &FactsStore,
    cx: Ctx<'_>,
    max: usize,
) -> BrokerResult<Vec<tv::Order>> {
    let snapshot = account::read(cx.conn, cx.account).await?;
    let listed = listed_orders(journals, cx, &snapshot).await?;
    let needed: Vec<String> = convert::needed_facts(&listed, None)
        .into_iter()
        .take(max)
        .collect();
    let known = facts.get(cx.conn, cx.account, &needed).await;
    let mut out = convert::final_orders(&listed, &known, cx.catalog, None, &HashSet::new(), false);
    out.truncate(max);
    Ok(out)
}

/// `/executions`: fills of `instrument` (OANDA name) or of all, newest first, at most `max`.
pub async fn executions(
    journals: &Journals,
    cx: Ctx<'_>,
    instrument: Option<&str>,
    max: usize,
) -> BrokerResult<Vec<tv::Execution>> {
    let snapshot = account::read(cx.conn, cx.account).await?;
    let Some(last) = snapshot.last_transaction() else {
        tracing::warn!("OANDA gave no last transaction id; no executions can be listed");
        return Ok(Vec::new());
    };
    let slot = journals.slot(cx.conn, cx.account);
    let mut log = slot.fills.lock().await;
    let client = Client::new(&cx.conn.http, &cx.conn.token);
    let fail = |e: crate::upstream::call::CallError| {
        broker_error(&e, &format!("the fills of account {}", cx.account))
    };
    if log.scanned_to == 0 || last < log.scanned_to || last - log.scanned_to > MAX_FORWARD_IDS {
        // First look (or too much happened since): read backwards from the last transaction.
        let mut fills = Vec::new();
        let mut to = last;
        for _ in 0..FIRST_SCAN_CALLS {
            if to == 0 {
                break;
            }
            let from = to.saturating_sub(ID_WINDOW - 1).max(1);
            let mut page = client
                .transactions_range(cx.account, from, to, &["ORDER_FILL"])
                .await
                .map_err(fail)?
                .transactions;
            page.retain(|t| t.kind == TransactionType::OrderFill);
            page.sort_by_key(|t| std::cmp::Reverse(t.id.parse::<u64>().unwrap_or(0)));
            fills.extend(page);
            if fills.len() >= MAX_FILLS || from == 1 {
                break;
            }
            to = from - 1;
        }
        fills.truncate(MAX_FILLS);
        log.fills = fills;
        log.scanned_to = last;
    } else if last > log.scanned_to {
        let mut new = Vec::new();
        let mut from = log.scanned_to + 1;
        while from <= last {
            let to = (from + ID_WINDOW - 1).min(last);
            let page = client
                .transactions_range(cx.account, from, to, &["ORDER_FILL"])
                .await
                .map_err(fail)?
                .transactions;
            new.extend(page.into_iter().filter(|t| t.kind == TransactionType::OrderFill));
            from = to + 1;
        }
        new.sort_by_key(|t| std::cmp::Reverse(t.id.parse::<u64>().unwrap_or(0)));
        new.append(&mut log.fills);
        new.truncate(MAX_FILLS);
        log.fills = new;
        log.scanned_to = last;
    }
    Ok(log
        .fills
        .iter()
        .filter(|t| instrument.is_none_or(|i| t.instrument.as_deref() == Some(i)))
        .flat_map(|t| convert::executions_of(t, cx.catalog))
        .take(max)
        .collect())
}
