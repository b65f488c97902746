//! Market data and contracts: `GET /secdef` (by `conid`, by `ticker`+`exchange`+`STK`, by
//! `ticker`+`currency`+`CASH`), `GET /marketdata/snapshot?conids=..` (bid, offer, last trade, close;
//! `Temporality` 1 for a delayed contract) and `GET /marketdata/exchange_component?conids=..` (what the
//! `market` bits of a snapshot mean). Unknown conids are left out of the arrays (ASSUMED).

use super::super::state::{Shared, State as FakeState};
use super::super::wire::{error, num, ok};
use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The exchanges the `market` bits name, bit i = entry i.
const EXCHANGES: [(&str, &str); 3] = [("Q", "NASDAQ"), ("N", "NYSE"), ("I", "IDEALPRO")];

/// The `market` bits of a contract's quotes: its listing exchange's.
fn market_bits(exchange: &str) -> u64 {
    EXCHANGES
        .iter()
        .position(|(_, e)| *e == exchange)
        .map_or(0, |i| 1 << i)
}

/// `GET /secdef`.
pub(in super::super) async fn secdef(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let st = shared.lock();
    let conid = if let Some(c) = q.get("conid") {
        c.parse::<i64>().ok().filter(|c| st.markets.contains_key(c))
    } else {
        let ticker = q.get("ticker").map(String::as_str).unwrap_or("");
        match q.get("instrumentType").map(String::as_str) {
            Some("STK") => q
                .get("exchange")
                .and_then(|e| st.find_contract(ticker, "STK", "exchange", e)),
            Some("CASH") => q
                .get("currency")
                .and_then(|c| st.find_contract(ticker, "CASH", "currency", c)),
            _ => None,
        }
    };
    let Some(c) = conid.and_then(|c| st.markets.get(&c)).map(|m| &m.contract) else {
        return error(400, "No security definition found");
    };
    ok(json!({
        "ContractId": c.conid,
        "Ticker": c.ticker,
        "SecurityType": c.sec_type,
        "Exchange": c.exchange,
        "CompanyName": c.company_name,
        "Currency": c.currency,
    }))
}

/// The known conids of `?conids=a,b`; `Err` is the 400's text.
fn conids(st: &FakeState, q: &HashMap<String, String>) -> Result<Vec<i64>, String> {
    let list = q
        .get("conids")
        .filter(|s| !s.is_empty())
        .ok_or("conids missing")?;
    let mut out = Vec::new();
    for part in list.split(',') {
        let conid: i64 = part.trim().parse().map_err(|_| format!("bad conid {part}"))?;
        if st.markets.contains_key(&conid) {
            out.push(conid);
        }
    }
    Ok(out)
}

/// `GET /marketdata/snapshot?conids=..`.
pub(in super::super) async fn snapshot(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let st = shared.lock();
    let conids = match conids(&st, &q) {
        Ok(c) => c,
        Err(message) => return error(400, message),
    };
    let rows: Vec<Value> = conids
        .iter()
        .filter_map(|c| st.markets.get(c))
        .map(|m| {
            let c = &m.contract;
            let bits = market_bits(&c.exchange);
            json!({
                "Conid": c.conid,
                "Temporality": if c.delayed { 1 } else { 0 },
                "Complete": true,
                "Trade": { "market": bits, "price": num(c.last), "size": 100, "time": m.updated.timestamp_millis() },
                "Closing": { "price": num(c.close) },
                "Bid": { "market": bits, "price": num(c.bid), "size": 300 },
                "Offer": { "market": bits, "price": num(c.ask), "size": 200 },
            })
        })
        .collect();
    ok(Value::Array(rows))
}

/// `GET /marketdata/exchange_component?conids=..`.
pub(in super::super) async fn exchange_component(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let st = shared.lock();
    let conids = match conids(&st, &q) {
        Ok(c) => c,
        Err(message) => return error(400, message),
    };
    let mapping: Vec<Value> = EXCHANGES
        .iter()
        .enumerate()
        .map(|(bit, (code, exchange))| json!({ "bit": bit, "code": code, "exchange": exchange }))
        .collect();
    let rows: Vec<Value> = conids
        .iter()
        .map(|c| json!({ "Conid": c, "Complete": true, "mapping": mapping }))
        .collect();
    ok(Value::Array(rows))
}
