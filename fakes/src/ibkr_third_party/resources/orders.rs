//! Orders keyed by (account, CustomerOrderId): `GET /accounts/{acct}/orders` (working orders and those
//! that ended today, US/Eastern), `POST` (place; a used CustomerOrderId is refused and nothing is placed
//! twice), `GET|DELETE|PUT /accounts/{acct}/orders/{id}` (look up, cancel, modify under a new id) and
//! `POST /accounts/{acct}/order_impact`.

use super::super::clock::eastern_date;
use super::super::state::Shared;
use super::super::wire::{customer_order_id, error, num, ok, order_request};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::sync::Arc;

/// The body as JSON; `Err` is the 400's text.
fn json_body(body: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|e| format!("Invalid JSON body: {e}"))
}

/// `GET /accounts/{acct}/orders`.
pub(in super::super) async fn list(State(shared): State<Arc<Shared>>, Path(acct): Path<String>) -> Response {
    let today = eastern_date(shared.now());
    let st = shared.lock();
    let rows: Vec<Value> = st
        .orders
        .iter()
        .filter(|o| o.account == acct)
        .filter(|o| o.ended.is_none_or(|t| eastern_date(t) == today))
        .map(|o| st.order_json(o))
        .collect();
    ok(Value::Array(rows))
}

/// `POST /accounts/{acct}/orders`.
pub(in super::super) async fn place(
    State(shared): State<Arc<Shared>>,
    Path(acct): Path<String>,
    body: Bytes,
) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(message) => return error(400, message),
    };
    let now = shared.now();
    let mut st = shared.lock();
    if let Ok(Some(coid)) = customer_order_id(body.get("CustomerOrderId").unwrap_or(&Value::Null)) {
        *st.place_requests.entry((acct.clone(), coid)).or_default() += 1;
    }
    let req = match order_request(&st, &body) {
        Ok(r) => r,
        Err(message) => return error(400, message),
    };
    match st.place(&acct, &req, now) {
        Ok(i) => ok(json!([st.order_json(&st.orders[i])])),
        Err(message) => error(400, message),
    }
}

/// The CustomerOrderId of a path.
fn path_id(id: &str) -> Result<i64, String> {
    id.parse::<i64>()
        .ok()
        .filter(|i| *i > 0)
        .ok_or_else(|| "CustomerOrderId must be a positive integer".to_string())
}

/// `GET /accounts/{acct}/orders/{id}`: `[order]`, `[]` for an id never used.
pub(in super::super) async fn get(
    State(shared): State<Arc<Shared>>,
    Path((acct, id)): Path<(String, String)>,
) -> Response {
    let coid = match path_id(&id) {
        Ok(c) => c,
        Err(message) => return error(400, message),
    };
    let st = shared.lock();
    let rows: Vec<Value> = st
        .order_index(&acct, coid)
        .map(|i| st.order_json(&st.orders[i]))
        .into_iter()
        .collect();
    ok(Value::Array(rows))
}

/// `DELETE /accounts/{acct}/orders/{id}`.
pub(in super::super) async fn cancel(
    State(shared): State<Arc<Shared>>,
    Path((acct, id)): Path<(String, String)>,
) -> Response {
    let coid = match path_id(&id) {
        Ok(c) => c,
        Err(message) => return error(400, message),
    };
    let now = shared.now();
    let mut st = shared.lock();
    let Some(i) = st.order_index(&acct, coid) else {
        return error(400, "Order not found");
    };
    if let Err(message) = st.cancel(i, now) {
        return error(400, message);
    }
    let o = &st.orders[i];
    let symbol = st
        .markets
        .get(&o.conid)
        .map(|m| m.contract.ticker.clone())
        .unwrap_or_default();
    ok(json!([{
        "CustomerOrderId": o.coid.to_string(),
        "Symbol": symbol,
        "OrderQty": num(o.qty),
        "Price": num(o.price.unwrap_or_default()),
        "Side": o.side,
        "Status": o.status,
        "Warning": "",
        "OrderType": o.order_type,
    }]))
}

/// `PUT /accounts/{acct}/orders/{id}`: the body's fields over the old order's, under the body's new
/// CustomerOrderId.
pub(in super::super) async fn modify(
    State(shared): State<Arc<Shared>>,
    Path((acct, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let coid = match path_id(&id) {
        Ok(c) => c,
        Err(message) => return error(400, message),
    };
    let body = match json_body(&body) {
        Ok(Value::Object(b)) => b,
        Ok(_) => return error(400, "The body must be a JSON object"),
        Err(message) => return error(400, message),
    };
    let now = shared.now();
    let mut st = shared.lock();
    let Some(i) = st.order_index(&acct, coid) else {
        return error(400, "Order not found");
    };
    if !body.contains_key("CustomerOrderId") {
        return error(400, "CustomerOrderId (the replacement's) missing");
    }
    let old = st.orders[i].clone();
    let mut merged = json!({
        "ContractId": old.conid,
        "Side": old.side,
        "OrderType": old.order_type,
        "OrderQty": num(old.qty),
        "TimeInForce": old.tif,
        "OutsideRTH": old.outside_rth,
    });
    if let Some(p) = old.price {
        merged["Price"] = num(p);
    }
    if let Some(p) = old.stop {
        merged["StopPrice"] = num(p);
    }
    for (k, v) in body {
        if !matches!(
            k.as_str(),
            "Ticker" | "ListingExchange" | "InstrumentType" | "Currency"
        ) {
            merged[k] = v;
        }
    }
    let req = match order_request(&st, &merged) {
        Ok(r) => r,
        Err(message) => return error(400, message),
    };
    match st.modify(i, &req, now) {
        Ok(j) => {
            let o = &st.orders[j];
            ok(json!([{
                "OrigCustomerOrderId": old.coid.to_string(),
                "CustomerOrderId": o.coid.to_string(),
                "OrderQty": num(o.qty),
                "Price": num(o.price.unwrap_or_default()),
                "Side": o.side,
                "Status": "5",
                "Warning": "",
                "OrderType": o.order_type,
            }]))
        }
        Err(message) => error(400, message),
    }
}

/// `POST /accounts/{acct}/order_impact`: margin before and after, commission. Nothing is placed.
pub(in super::super) async fn impact(
    State(shared): State<Arc<Shared>>,
    Path(acct): Path<String>,
    body: Bytes,
) -> Response {
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(message) => return error(400, message),
    };
    let st = shared.lock();
    let req = match order_request(&st, &body) {
        Ok(r) => r,
        Err(message) => return error(400, message),
    };
    let Some(market) = st.markets.get(&req.conid) else {
        return error(400, "No security definition found");
    };
    let c = &market.contract;
    let at = if req.side == "1" { c.ask } else { c.bid };
    let price = req.price.or(req.stop).unwrap_or(at);
    let signed = if req.side == "1" { req.qty } else { -req.qty };
    let held = st
        .accounts
        .get(&acct)
        .and_then(|a| a.positions.get(&req.conid))
        .map(|p| p.qty)
        .unwrap_or_default();
    let mark = st.mark(req.conid);
    let (gross, net, _) = st.valuation(&acct);
    let gross_after = gross - (held * mark).abs() + ((held + signed) * mark).abs();
    let quarter = Decimal::new(25, 2);
    let commission = st.commission(&c.sec_type, req.qty, price);
    let cash = st.accounts.get(&acct).map(|a| a.cash).unwrap_or_default();
    ok(json!({
        "EquityWithLoan": num((cash + net - commission).round_dp(2)),
        "InitMargin": num((gross_after * quarter).round_dp(2)),
        "InitMarginBefore": num((gross * quarter).round_dp(2)),
        "MaintMargin": num((gross_after * quarter).round_dp(2)),
        "MaintMarginBefore": num((gross * quarter).round_dp(2)),
        "MarginCurrency": "USD",
        "Commission": num(commission),
        "MinCommissions": num(commission),
        "MaxCommissions": num(commission),
        "CommissionsCurrency": "USD",
    }))
}
