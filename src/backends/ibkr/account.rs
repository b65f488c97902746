//! The account reads: state (summary + ledger), positions (every page), orders and executions of one
//! account, each converted and limited to the offered symbols; finished orders journalled so that none goes
//! back from final to transitional.

use super::catalog::Table;
use super::convert;
use super::model::orders::{LiveOrders, Trade};
use super::model::portfolio::POSITIONS_PAGE_SIZE;
use super::recent::Recent;
use super::session::Gateway;
use crate::broker::{BrokerError, BrokerResult};
use crate::sync::MutexExt;
use crate::tv;
use crate::upstream::journal::{self, Journals};
use std::collections::HashSet;
use std::sync::Mutex;

/// Most position pages read for one account (100 positions each).
pub const MAX_POSITION_PAGES: usize = 50;

/// The finished orders of each account (the toolkit's journal; IBKR has one login, the gateway's): an
/// order once shown final never shows transitional again, and stays listed after the gateway forgets it.
pub type Finished = Journals<Mutex<journal::Finished>>;

/// The journal key of the gateway's single IBKR login.
const GATEWAY_LOGIN: &str = "gateway";

/// The account's state.
pub async fn state(gateway: &Gateway, account: &str) -> BrokerResult<tv::AccountState> {
    let acct = account.to_string();
    let (summary, ledger) = tokio::try_join!(
        gateway.call("reading the account summary", |api| {
            let a = acct.clone();
            async move { api.summary(&a).await }
        }),
        gateway.call("reading the account ledger", |api| {
            let a = acct.clone();
            async move { api.ledger(&a).await }
        })
    )?;
    convert::account::state(&summary, &ledger).map_err(BrokerError::Internal)
}

/// The account's positions in offered symbols, every page read.
pub async fn positions(gateway: &Gateway, table: &Table, account: &str) -> BrokerResult<Vec<tv::Position>> {
    let mut out = Vec::new();
    for page in 0..MAX_POSITION_PAGES {
        let acct = account.to_string();
        let rows = gateway
            .call("reading positions", |api| {
                let a = acct.clone();
                async move { api.positions(&a, page).await }
            })
            .await?;
        let last = rows.len() < POSITIONS_PAGE_SIZE;
        for p in &rows {
            match table.by_conid(p.conid.0) {
                Some(e) => {
                    out.extend(convert::account::position(p, &e.symbol).map_err(BrokerError::Internal)?)
                }
                None => tracing::debug!(
                    conid = p.conid.0,
                    "IBKR position in a symbol not offered; not shown"
                ),
            }
        }
        if last {
            return Ok(out);
        }
    }
    Err(BrokerError::Internal(format!(
        "more than {MAX_POSITION_PAGES} pages of positions"
    )))
}

/// The account's orders of this brokerage session in offered symbols, and the finished ones the gateway
/// no longer lists.
pub async fn orders(
    gateway: &Gateway,
    table: &Table,
    finished: &Finished,
    recent: &RecentOrders,
    account: &str,
) -> BrokerResult<Vec<tv::Order>> {
    let acct = account.to_string();
    let live = recent
        .get(account, || {
            gateway.on_account(account, "reading orders", |api| {
                let a = acct.clone();
                async move { api.live_orders(&a).await }
            })
        })
        .await?;
    let journal = finished.of(GATEWAY_LOGIN, account);
    let mut journal = journal.locked();
    let mut out = Vec::new();
    let filled: HashSet<String> = live
        .orders
        .iter()
        .filter(|o| o.status == super::model::orders::OrderStatus::Filled)
        .map(|o| o.order_id.0.to_string())
        .collect();
    for o in &live.orders {
        if o.acct.as_deref().is_some_and(|a| a != account) {
            continue;
        }
        let Some(e) = table.by_conid(o.conid.0) else {
            continue;
        };
        let previous = journal.get(&o.order_id.0.to_string()).map(|f| f.status);
        let mut order = convert::orders::order(o, &e.symbol, previous).map_err(BrokerError::Internal)?;
        convert::orders::attach_to_position(&mut order, o, &filled);
        if order.status.is_final() {
            journal.record(order.clone());
        }
        out.push(order);
    }
    let listed: HashSet<String> = out.iter().map(|o| o.id.clone()).collect();
    out.extend(journal.orders().filter(|o| !listed.contains(&o.id)).cloned());
    Ok(out)
}

/// Each account's last `/iserver/account/orders` answer, shared by the account hubs of every session for
/// [`super::MIN_REFRESH`] (IBKR allows one call per 5 s for the whole gateway), forgotten after a write.
pub type RecentOrders = Recent<LiveOrders>;

/// Each account's last `/iserver/account/trades` answer, reused for [`super::MIN_REFRESH`]: IBKR allows
/// one call per 5 s, and TradingView polls executions from every tab.
pub type RecentTrades = Recent<Vec<Trade>>;

/// The account's executions (today's, as IBKR keeps them) in offered symbols.
pub async fn executions(
    gateway: &Gateway,
    table: &Table,
    recent: &RecentTrades,
    account: &str,
    filter: (Option<&str>, Option<usize>),
) -> BrokerResult<Vec<tv::Execution>> {
    let (symbol, max) = filter;
    let acct = account.to_string();
    let trades = recent
        .get(account, || {
            gateway.on_account(account, "reading executions", |api| {
                let a = acct.clone();
                async move { api.trades(&a).await }
            })
        })
        .await?;
    let mut out = Vec::new();
    for t in trades.iter() {
        if t.account.as_deref().is_some_and(|a| a != account) {
            continue;
        }
        let Some(e) = table.by_conid(t.conid.0) else {
            continue;
        };
        if symbol.is_some_and(|s| s != e.symbol) {
            continue;
        }
        out.push(convert::orders::execution(t, &e.symbol).map_err(BrokerError::Internal)?);
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.time));
    if let Some(max) = max {
        out.truncate(max);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::ibkr::testing::{fixture, symbols, ScriptedApi};
    use std::sync::Arc;

    fn table() -> Table {
        symbols(&[("AAPL", 265598), ("EURUSD", 12087792)])
    }

    #[tokio::test]
    async fn positions_read_every_page_until_a_short_one() {
        let api = Arc::new(ScriptedApi::default());
        api.open_session();
        let full: Vec<serde_json::Value> = (0..POSITIONS_PAGE_SIZE)
            .map(|i| serde_json::json!({"conid": 1_000_000 + i, "position": 1, "avgPrice": 1, "unrealizedPnl": 0}))
            .collect();
        api.ok("positions", &serde_json::to_string(&full).unwrap())
            .ok("positions", &fixture("positions_page0.json"));
        let g = Gateway::new(api.clone());
        let p = positions(&g, &table(), "DU1234567").await.unwrap();
        assert_eq!(
            p.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
            ["AAPL", "EURUSD"],
            "symbols not offered are left out"
        );
        assert_eq!(api.count("positions"), 2);
    }

    #[tokio::test]
    async fn a_final_status_stays_final_across_refreshes() {
        let api = Arc::new(ScriptedApi::default());
        api.open_session();
        let filled = fixture("live_orders.json");
        // The same order later reported with an undocumented status, then as submitted again (stale).
        api.ok("live_orders", &filled)
            .ok("live_orders", &filled.replace("\"Filled\"", "\"SomethingNew\""))
            .ok("live_orders", &filled.replace("\"Filled\"", "\"Submitted\""));
        let g = Gateway::new(api.clone());
        let finished = Finished::default();
        // Nothing kept between reads: each refresh reads the gateway.
        let (fresh, offered) = (Recent::new(std::time::Duration::ZERO), table());
        let read = || orders(&g, &offered, &finished, &fresh, "DU1234567");
        for _ in 0..3 {
            let o = read().await.unwrap();
            let o = o.iter().find(|o| o.id == "1234567891").unwrap();
            assert_eq!(o.status, tv::OrderStatus::Filled);
        }
        // A gateway that forgot its orders (restarted): the finished ones are still shown.
        api.ok("live_orders", r#"{"orders":[],"snapshot":true}"#);
        let o = read().await.unwrap();
        let ids: Vec<&str> = o.iter().map(|o| o.id.as_str()).collect();
        assert!(
            ids.contains(&"1234567891") && ids.contains(&"1234567894"),
            "{ids:?}"
        );
        assert!(!ids.contains(&"1234567890"), "working orders are not journalled");
    }
}
