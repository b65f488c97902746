//! `GET /v3/accounts/{id}/trades`, `/openTrades`, `/trades/{spec}`, `PUT /trades/{spec}/close` and
//! `PUT /trades/{spec}/orders` (take profit, stop loss and trailing stop of a trade).

use super::super::engine;
use super::super::gate::{v20_account, Ctx};
use super::super::model::{Kind, OnFill, Trade};
use super::super::state::{Shared, State};
use super::super::wire::{dec_of, decimals, ok, v20_error, v20_error_code, Query};
use super::orders::{json_body, list_count, reject, tx_body};
use super::request::details;
use super::views::{trade_json, units};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::sync::Arc;

/// The 404 of an unknown (or closed, where an open one is needed) trade.
fn no_trade() -> Response {
    v20_error_code(404, "NO_SUCH_TRADE", "The Trade specified does not exist")
}

/// `GET /v3/accounts/{id}/trades[?state&count&instrument&ids&beforeID]`, newest first.
pub(super) async fn list(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let st = shared.lock();
    let a = match v20_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let q = Query::parse(raw.as_deref());
    let state = q.get("state").unwrap_or("OPEN");
    if !matches!(state, "OPEN" | "CLOSED" | "CLOSE_WHEN_TRADEABLE" | "ALL") {
        return v20_error(400, "Invalid value specified for 'state'");
    }
    let count = match list_count(&q) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let before = match q.get("beforeID").map(str::parse::<u64>) {
        None => None,
        Some(Ok(b)) => Some(b),
        Some(Err(_)) => return v20_error(400, "Invalid value specified for 'beforeID'"),
    };
    let ids = q.list("ids");
    let instrument = q.get("instrument");
    let keep = |t: &&Trade| match state {
        "OPEN" => t.is_open(),
        "CLOSED" => !t.is_open(),
        "CLOSE_WHEN_TRADEABLE" => false,
        _ => true,
    };
    let trades: Vec<Value> = st.accounts[a]
        .trades
        .iter()
        .rev()
        .filter(keep)
        .filter(|t| instrument.is_none_or(|i| t.instrument == i))
        .filter(|t| ids.as_ref().is_none_or(|ids| ids.contains(&t.id.to_string())))
        .filter(|t| before.is_none_or(|b| t.id <= b))
        .take(count)
        .map(|t| trade_json(&st, a, t, true))
        .collect();
    let last = st.accounts[a].last_id().to_string();
    ok(json!({ "trades": trades, "lastTransactionID": last }))
}

/// `GET /v3/accounts/{id}/openTrades`, newest first.
pub(super) async fn open(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let st = shared.lock();
    let a = match v20_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let mut trades: Vec<Value> = st.accounts[a]
        .open_trades()
        .map(|t| trade_json(&st, a, t, true))
        .collect();
    trades.reverse();
    let last = st.accounts[a].last_id().to_string();
    ok(json!({ "trades": trades, "lastTransactionID": last }))
}

/// `GET /v3/accounts/{id}/trades/{spec}`.
pub(super) async fn get_one(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path((id, spec)): Path<(String, String)>,
) -> Response {
    let st = shared.lock();
    let a = match v20_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let acct = &st.accounts[a];
    let Some(t) = acct.find_trade(&spec).and_then(|t| acct.trade(t)) else {
        return no_trade();
    };
    ok(json!({ "trade": trade_json(&st, a, t, true), "lastTransactionID": acct.last_id().to_string() }))
}

/// An open trade by specifier.
fn open_trade(st: &State, a: usize, spec: &str) -> Option<Trade> {
    let acct = &st.accounts[a];
    acct.find_trade(spec)
        .and_then(|t| acct.trade(t))
        .filter(|t| t.is_open())
        .cloned()
}

/// `PUT /v3/accounts/{id}/trades/{spec}/close` with `{"units": "ALL" | amount}` (default ALL).
pub(super) async fn close(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path((id, spec)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let mut st = shared.lock();
    let a = match v20_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let body = if body.is_empty() {
        json!({})
    } else {
        match json_body(&body) {
            Ok(b) => b,
            Err(r) => return r.into_response(),
        }
    };
    let Some(trade) = open_trade(&st, a, &spec) else {
        return no_trade();
    };
    st.accounts[a].begin(Some(ctx.request_id));
    let text = body
        .get("units")
        .and_then(Value::as_str)
        .unwrap_or("ALL")
        .to_string();
    let amount = if text == "ALL" {
        None
    } else {
        match dec_of(&Value::String(text.clone())) {
            Some(u) if u > Decimal::ZERO => Some(u),
            _ => None,
        }
    };
    let size = trade.units.abs();
    let reason = match amount {
        None if text != "ALL" => Some("CLOSE_TRADE_PARTIAL_UNITS_MISSING"),
        Some(u) if u > size => Some("CLOSE_TRADE_UNITS_EXCEED_TRADE_SIZE"),
        Some(u)
            if decimals(u)
                > st.quote(&trade.instrument)
                    .map_or(0, |q| q.spec.trade_units_precision) =>
        {
            Some("UNITS_PRECISION_EXCEEDED")
        }
        _ => None,
    };
    if let Some(reason) = reason {
        let sign = if trade.is_long() {
            -Decimal::ONE
        } else {
            Decimal::ONE
        };
        let request = json!({
            "instrument": trade.instrument,
            "units": units(&st, &trade.instrument, sign * amount.unwrap_or(size)),
            "timeInForce": "FOK",
            "positionFill": "REDUCE_ONLY",
            "reason": "TRADE_CLOSE",
            "tradeClose": { "tradeID": trade.id.to_string(), "units": text },
        });
        return reject(
            &mut st,
            a,
            "orderRejectTransaction",
            Kind::Market,
            &request,
            reason,
            None,
        );
    }
    let placed = engine::close_trade(&mut st, a, trade.id, amount, &text);
    let body = tx_body(
        &st,
        a,
        &[
            ("orderCreateTransaction", Some(placed.order)),
            ("orderFillTransaction", placed.fill),
            ("orderCancelTransaction", placed.cancel),
        ],
    );
    st.flush();
    ok(Value::Object(body))
}

/// One dependent order of a `PUT /trades/{spec}/orders` request: the response key prefix, its kind
/// and what was asked (None: cancel it).
type Change = (&'static str, Kind, Option<OnFill>);

/// `PUT /v3/accounts/{id}/trades/{spec}/orders` with any of `takeProfit`, `stopLoss`,
/// `trailingStopLoss` (an object creates or replaces, `null` cancels).
pub(super) async fn set_orders(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path((id, spec)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let mut st = shared.lock();
    let a = match v20_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let mut body = match json_body(&body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let Some(trade) = open_trade(&st, a, &spec) else {
        return no_trade();
    };
    st.accounts[a].begin(Some(ctx.request_id));
    // Newer API versions name a guaranteed stop separately; it is a guaranteed stop loss here.
    if body.get("stopLoss").is_none() {
        if let Some(mut g) = body.get("guaranteedStopLoss").cloned() {
            if g.is_object() {
                g["guaranteed"] = Value::Bool(true);
            }
            body["stopLoss"] = g;
        }
    }
    let Some(q) = st.quote(&trade.instrument) else {
        return v20_error(400, "Invalid value specified for 'instrument'");
    };
    let mut changes: Vec<Change> = Vec::new();
    for (key, prefix, kind) in [
        ("takeProfit", "takeProfit", Kind::TakeProfit),
        ("stopLoss", "stopLoss", Kind::StopLoss),
        ("trailingStopLoss", "trailingStopLoss", Kind::TrailingStopLoss),
    ] {
        let Some(v) = body.get(key) else { continue };
        if v.is_null() {
            changes.push((prefix, kind, None));
            continue;
        }
        match details(&st, a, q, v, kind, false) {
            Ok(d) => changes.push((prefix, kind, Some(d))),
            Err(reason) => {
                let mut request = v.clone();
                if let Some(m) = request.as_object_mut() {
                    m.insert("tradeID".into(), trade.id.to_string().into());
                }
                let key = format!("{prefix}OrderRejectTransaction");
                return reject(&mut st, a, &key, kind, &request, &reason, None);
            }
        }
    }
    let mut named: Vec<(String, Option<u64>)> = Vec::new();
    for (prefix, kind, wanted) in changes {
        let existing = st.accounts[a].trade(trade.id).and_then(|t| match kind {
            Kind::TakeProfit => t.tp,
            Kind::StopLoss => t.sl,
            _ => t.tsl,
        });
        let mut cancel_tx = None;
        if let Some(old) = existing {
            let reason = if wanted.is_some() {
                let new_id = st.accounts[a].next_id + 1;
                if let Some(o) = st.accounts[a].order_mut(old) {
                    o.replaced_by = Some(new_id);
                }
                "CLIENT_REQUEST_REPLACED"
            } else {
                "CLIENT_REQUEST"
            };
            cancel_tx = Some(engine::cancel(&mut st, a, old, reason));
            named.push((format!("{prefix}OrderCancelTransaction"), cancel_tx));
        }
        let Some(d) = wanted else { continue };
        let (reason, replaces) = match (existing, cancel_tx) {
            (Some(old), Some(tx)) => ("REPLACEMENT", Some((old, tx))),
            _ => ("CLIENT_ORDER", None),
        };
        let created = engine::add_dependent(&mut st, a, trade.id, kind, &d, reason, None, replaces);
        named.push((format!("{prefix}OrderTransaction"), Some(created)));
        if engine::triggered(&st, a, created) {
            if let Ok(fill) = engine::fill_now(&mut st, a, created) {
                named.push((format!("{prefix}OrderFillTransaction"), Some(fill)));
            }
        }
    }
    let refs: Vec<(&str, Option<u64>)> = named.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let body = tx_body(&st, a, &refs);
    st.flush();
    ok(Value::Object(body))
}
