//! `GET /v1/accounts/{id}/trades`, `GET/PATCH/DELETE /trades/{tradeId}` (v1 closes whole trades only),
//! `GET /positions` and `GET/DELETE /positions/{instrument}` (one net position per instrument).

use super::super::engine::{self, Ev};
use super::super::gate::{v1_account, Ctx};
use super::super::model::{Kind, OnFill, Trade};
use super::super::state::{Shared, State};
use super::super::wire::{decimals, form, num, ok, v1_bad, v1_error, Query};
use super::params::{decimal, List};
use super::views::{position_json, trade_json};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::sync::Arc;

fn no_trade() -> Response {
    v1_error(404, 63, "Trade not found")
}

fn no_position() -> Response {
    v1_error(404, 14, "Position not found")
}

/// An open trade by id.
fn open_trade(st: &State, a: usize, id: &str) -> Option<Trade> {
    let id = id.parse::<u64>().ok()?;
    st.accounts[a].trade(id).filter(|t| t.is_open()).cloned()
}

/// `GET /v1/accounts/{id}/trades[?maxId&count&instrument&ids]`, newest first.
pub(super) async fn list(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let st = shared.lock();
    let a = match v1_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let filter = match List::parse(&Query::parse(raw.as_deref())) {
        Ok(f) => f,
        Err(r) => return r.into_response(),
    };
    let trades: Vec<Value> = st.accounts[a]
        .trades
        .iter()
        .rev()
        .filter(|t| t.is_open() && filter.keeps(t.id, Some(&t.instrument)))
        .take(filter.count)
        .map(|t| trade_json(&st, a, t))
        .collect();
    ok(json!({ "trades": trades }))
}

/// `GET /v1/accounts/{id}/trades/{tradeId}`.
pub(super) async fn get_one(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path((id, trade)): Path<(String, String)>,
) -> Response {
    let st = shared.lock();
    let a = match v1_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    match open_trade(&st, a, &trade) {
        Some(t) => ok(trade_json(&st, a, &t)),
        None => no_trade(),
    }
}

/// `PATCH /v1/accounts/{id}/trades/{tradeId}` with `stopLoss`, `takeProfit`, `trailingStop` (pips);
/// 0 removes.
pub(super) async fn update(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path((id, trade)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let mut st = shared.lock();
    let a = match v1_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let Some(t) = open_trade(&st, a, &trade) else {
        return no_trade();
    };
    let Some(q) = st.quote(&t.instrument) else {
        return v1_error(400, 2, "Invalid instrument");
    };
    let f = form(&body);
    // Stops are checked against the price the trade would close at now.
    let close = if t.is_long() { q.spec.bid } else { q.spec.ask };
    let pip = q.spec.pip();
    let precision = q.spec.display_precision;
    let mut changes: Vec<(Kind, Option<OnFill>)> = Vec::new();
    for (name, kind) in [("stopLoss", Kind::StopLoss), ("takeProfit", Kind::TakeProfit)] {
        let p = match decimal(&f, name) {
            Ok(p) => p,
            Err(r) => return r.into_response(),
        };
        let Some(p) = p else { continue };
        let below = (kind == Kind::StopLoss) == t.is_long();
        let wrong = p < Decimal::ZERO
            || decimals(p) > precision
            || (!p.is_zero() && if below { p >= close } else { p <= close });
        if wrong {
            return v1_bad(name);
        }
        let details = (!p.is_zero()).then(|| OnFill {
            price: Some(p),
            tif: "GTC".into(),
            ..OnFill::default()
        });
        changes.push((kind, details));
    }
    match decimal(&f, "trailingStop") {
        Err(r) => return r.into_response(),
        Ok(None) => {}
        Ok(Some(p)) => {
            if !p.is_zero() && (p < Decimal::from(5) || p > Decimal::from(10_000)) {
                return v1_bad("trailingStop");
            }
            let details = (!p.is_zero()).then(|| OnFill {
                distance: Some(p * pip),
                tif: "GTC".into(),
                ..OnFill::default()
            });
            changes.push((Kind::TrailingStopLoss, details));
        }
    }
    st.accounts[a].begin(Some(ctx.request_id));
    for (kind, details) in changes {
        let existing = st.accounts[a].trade(t.id).and_then(|t| match kind {
            Kind::TakeProfit => t.tp,
            Kind::StopLoss => t.sl,
            _ => t.tsl,
        });
        if let Some(old) = existing {
            engine::cancel(&mut st, a, old, "CLIENT_REQUEST");
        }
        if let Some(d) = details {
            engine::add_dependent(&mut st, a, t.id, kind, &d, "CLIENT_ORDER", None, None);
        }
    }
    let updated = st.accounts[a].trade(t.id).cloned().unwrap_or(t);
    let tx = st.accounts[a].alloc();
    engine::record(&mut st, a, tx, Ev::TradeUpdate(Box::new(updated.clone())));
    let resp = ok(trade_json(&st, a, &updated));
    st.flush();
    resp
}

/// `DELETE /v1/accounts/{id}/trades/{tradeId}`: closes the whole trade.
pub(super) async fn close(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path((id, trade)): Path<(String, String)>,
) -> Response {
    let mut st = shared.lock();
    let a = match v1_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let Some(t) = open_trade(&st, a, &trade) else {
        return no_trade();
    };
    if st.quote(&t.instrument).is_some_and(|q| !q.tradeable()) {
        return v1_error(400, 1, "Trading is halted for this instrument");
    }
    st.accounts[a].begin(Some(ctx.request_id));
    let placed = engine::close_trade(&mut st, a, t.id, None, "ALL");
    let tx = placed.fill.and_then(|f| st.accounts[a].tx_json(f));
    st.flush();
    let Some(tx) = tx else {
        return v1_error(400, 1, "The trade could not be closed");
    };
    ok(json!({
        "id": t.id,
        "price": tx["price"],
        "instrument": t.instrument,
        "profit": tx["pl"],
        "side": if t.is_long() { "buy" } else { "sell" },
        "time": tx["time"],
    }))
}

/// `GET /v1/accounts/{id}/positions`: the open net positions.
pub(super) async fn positions(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let st = shared.lock();
    let a = match v1_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let list: Vec<Value> = st
        .quotes
        .iter()
        .filter_map(|q| position_json(&st, a, &q.spec.name))
        .collect();
    ok(json!({ "positions": list }))
}

/// `GET /v1/accounts/{id}/positions/{instrument}`.
pub(super) async fn position(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path((id, instrument)): Path<(String, String)>,
) -> Response {
    let st = shared.lock();
    let a = match v1_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    match position_json(&st, a, &instrument) {
        Some(p) => ok(p),
        None => no_position(),
    }
}

/// `DELETE /v1/accounts/{id}/positions/{instrument}`: closes every trade of the instrument.
pub(super) async fn close_position(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path((id, instrument)): Path<(String, String)>,
) -> Response {
    let mut st = shared.lock();
    let a = match v1_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let trades: Vec<Trade> = st.accounts[a]
        .open_trades()
        .filter(|t| t.instrument == instrument)
        .cloned()
        .collect();
    let Some(first) = trades.first() else {
        return no_position();
    };
    if st.quote(&instrument).is_some_and(|q| !q.tradeable()) {
        return v1_error(400, 1, "Trading is halted for this instrument");
    }
    let long = first.is_long();
    let total: Decimal = trades.iter().map(|t| t.units.abs()).sum();
    st.accounts[a].begin(Some(ctx.request_id));
    let placed = engine::close_position(&mut st, a, &instrument, long, None, "ALL");
    let price = placed
        .fill
        .and_then(|f| st.accounts[a].tx_json(f))
        .map(|tx| tx["price"].clone())
        .unwrap_or(Value::Null);
    st.flush();
    let ids: Vec<u64> = trades.iter().map(|t| t.id).collect();
    ok(json!({ "ids": ids, "instrument": instrument, "totalUnits": num(total), "price": price }))
}
