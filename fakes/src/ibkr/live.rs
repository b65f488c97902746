//! The order and execution listings: `GET /iserver/account/orders` (live orders of the brokerage session,
//! numbers written as strings the way the model types them) and `GET /iserver/account/trades`
//! (executions of today, or of the last `days` up to 7).

use super::orders::plain_qty;
use super::state::{Execution, Order, Shared, State, Status};
use super::wire::{compact_time, dash_time, grouped, millis, num, ok, query_map};
use axum::extract::{RawQuery, State as AxState};
use axum::response::Response;
use chrono::{Duration as Days, TimeDelta};
use serde_json::{json, Value};
use std::sync::Arc;

impl State {
    /// An order as `/iserver/account/orders` lists it (`LiveOrdersResponseOrdersInner`).
    pub(super) fn order_row(&self, o: &Order) -> Option<Value> {
        let c = self.contract(o.conid)?;
        let shown_price = o.limit.or(o.stop);
        let verb = match (o.status, o.side) {
            (Status::Filled, super::state::Side::Buy) => "Bought",
            (Status::Filled, super::state::Side::Sell) => "Sold",
            (_, super::state::Side::Buy) => "Buy",
            (_, super::state::Side::Sell) => "Sell",
        };
        let desc = format!(
            "{verb} {} {}{} {}",
            grouped(o.qty, 0),
            o.kind.display(),
            shown_price
                .map(|p| format!(" {}", c.price_str(p)))
                .unwrap_or_default(),
            o.tif
        );
        let size_and_fills = if o.status == Status::Filled {
            plain_qty(o.qty).trim_end_matches(".0").to_string()
        } else {
            format!(
                "{}/{}",
                plain_qty(o.filled).trim_end_matches(".0"),
                plain_qty(o.qty - o.filled).trim_end_matches(".0")
            )
        };
        Some(json!({
            "acct": o.account,
            "account": o.account,
            "exchange": "SMART",
            "conidex": o.conid.to_string(),
            "conid": o.conid.to_string(),
            "orderId": o.id,
            "cashCcy": c.currency,
            "sizeAndFills": size_and_fills,
            "orderDesc": desc,
            "description1": c.description(),
            "ticker": c.symbol,
            "secType": c.sec_type,
            "listingExchange": c.exchange,
            "remainingQuantity": plain_qty(o.qty - o.filled),
            "filledQuantity": plain_qty(o.filled),
            "totalSize": plain_qty(o.qty),
            "companyName": c.name,
            "status": o.status.as_str(),
            "order_ccp_status": o.status.as_str(),
            "origOrderType": o.kind.orig(),
            "orderType": o.kind.display(),
            "supportsTaxOpt": "1",
            "lastExecutionTime": compact_time(o.last_exec.unwrap_or(o.created)),
            "lastExecutionTime_r": millis(o.last_exec.unwrap_or(o.created)).to_string(),
            "bgColor": "#FFFFFF",
            "fgColor": "#000000",
            "isEventTrading": "0",
            "price": shown_price.map(|p| c.price_str(p)),
            "auxPrice": o.stop.filter(|_| o.limit.is_some()).map(|p| c.price_str(p)),
            "avgPrice": o.avg_price.map(|p| c.price_str(p)),
            "timeInForce": o.tif,
            "side": o.side.as_str(),
            "order_ref": o.coid,
            "parentId": o.parent,
            "outsideRTH": o.outside_rth,
        }))
    }

    /// An execution as `/iserver/account/trades` lists it (`TradesResponseInner`).
    fn execution_row(&self, e: &Execution) -> Option<Value> {
        let c = self.contract(e.conid)?;
        let (side, verb) = match e.side {
            super::state::Side::Buy => ("B", "Bot"),
            super::state::Side::Sell => ("S", "Sld"),
        };
        let venue = if c.exchange == "SMART" {
            "SMART"
        } else {
            c.exchange.as_str()
        };
        Some(json!({
            "execution_id": e.id,
            "symbol": c.symbol,
            "supports_tax_opt": "1",
            "side": side,
            "order_description": format!("{verb} {} @ {} on {venue}", grouped(e.size, 0), c.price_str(e.price)),
            "trade_time": dash_time(e.at),
            "trade_time_r": millis(e.at),
            "size": num(e.size),
            "price": c.price_str(e.price),
            "order_ref": e.coid,
            "submitter": self.username,
            "exchange": venue,
            "commission": e.commission.round_dp(2).to_string(),
            "net_amount": num((e.size * e.price * c.multiplier).round_dp(2)),
            "account": e.account,
            "accountCode": e.account,
            "account_allocation_name": e.account,
            "company_name": c.name,
            "contract_description_1": c.description(),
            "sec_type": c.sec_type,
            "listing_exchange": c.exchange,
            "conid": e.conid.to_string(),
            "conidEx": e.conid.to_string(),
            "clearing_id": "IB",
            "clearing_name": "IB",
            "liquidation_trade": "0",
            "is_event_trading": "0",
        }))
    }

    /// The account a listing is about: `accountId` when given, else the selected one.
    fn listing_account(&self, requested: Option<&String>) -> String {
        requested
            .cloned()
            .or_else(|| {
                self.accounts
                    .get(self.session.selected)
                    .map(|a| a.spec.id.clone())
            })
            .unwrap_or_default()
    }
}

/// `GET /iserver/account/orders?filters=..&force=..&accountId=..`.
pub(super) async fn orders(AxState(shared): AxState<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let q = query_map(query.as_deref());
    let mut st = shared.lock();
    st.settle_cancels();
    st.expire_day_orders();
    if q.get("force").is_some_and(|f| f == "true") {
        // "Instructs IB to clear cache of orders ... Response will be an empty array."
        return ok(json!({ "orders": [], "snapshot": false }));
    }
    let account = st.listing_account(q.get("accountId"));
    let filters: Vec<String> = q
        .get("filters")
        .map(|f| {
            f.split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let rows: Vec<Value> = st
        .orders
        .iter()
        .filter(|o| o.account == account)
        .filter(|o| {
            filters.is_empty()
                || filters
                    .iter()
                    .any(|f| *f == o.status.as_str().to_ascii_lowercase())
        })
        .rev()
        .filter_map(|o| st.order_row(o))
        .collect();
    ok(json!({ "orders": rows, "snapshot": true }))
}

/// `GET /iserver/account/trades?days=..&accountId=..`.
pub(super) async fn trades(AxState(shared): AxState<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let q = query_map(query.as_deref());
    let st = shared.lock();
    let now = st.now();
    let today = now.date_naive().and_hms_opt(0, 0, 0).map_or(now, |t| t.and_utc());
    let since = match q.get("days").map(|d| d.parse::<i64>()) {
        None => today,
        Some(Ok(d)) if (1..=7).contains(&d) => today - Days::days(d - 1),
        Some(_) => return super::wire::bad("days must be a number from 1 to 7"),
    };
    let account = st.listing_account(q.get("accountId"));
    let rows: Vec<Value> = st
        .executions
        .iter()
        .filter(|e| e.account == account && e.at >= since && now - e.at < TimeDelta::days(8))
        .rev()
        .filter_map(|e| st.execution_row(e))
        .collect();
    ok(Value::Array(rows))
}
