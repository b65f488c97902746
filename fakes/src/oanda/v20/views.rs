//! v20 representations of the account model, after the OpenAPI `definitions`: `Order` (per type),
//! `Trade` / `TradeSummary`, `Position` / `PositionSide`, and the order fields transactions share.

use super::super::engine::{round4, trade_figures};
use super::super::model::{Kind, OnFill, Order, Trade};
use super::super::state::State;
use super::super::wire::{fixed, money, time20};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

/// A price of `instrument` at its display precision.
pub(in super::super) fn px(st: &State, instrument: &str, d: Decimal) -> String {
    let dp = st.quote(instrument).map_or(5, |q| q.spec.display_precision);
    fixed(d, dp)
}

/// Units of `instrument` at its trade units precision.
pub(in super::super) fn units(st: &State, instrument: &str, d: Decimal) -> String {
    let dp = st.quote(instrument).map_or(0, |q| q.spec.trade_units_precision);
    fixed(d, dp)
}

fn put(m: &mut Map<String, Value>, k: &str, v: impl Into<Value>) {
    m.insert(k.to_string(), v.into());
}

/// `TakeProfitDetails` / `StopLossDetails` / `TrailingStopLossDetails`.
fn details_json(st: &State, instrument: &str, d: &OnFill, kind: Kind) -> Value {
    let mut m = Map::new();
    if let Some(p) = d.price {
        put(&mut m, "price", px(st, instrument, p));
    }
    if let Some(dist) = d.distance {
        put(&mut m, "distance", px(st, instrument, dist));
    }
    put(
        &mut m,
        "timeInForce",
        if d.tif.is_empty() { "GTC" } else { &d.tif },
    );
    if let Some(g) = d.gtd {
        put(&mut m, "gtdTime", time20(g));
    }
    if kind == Kind::StopLoss {
        if let Some(g) = d.guaranteed {
            put(&mut m, "guaranteed", g);
        }
    }
    if let Some(e) = &d.ext {
        put(&mut m, "clientExtensions", e.clone());
    }
    Value::Object(m)
}

/// The request-like fields of an order (what its create transaction and its `Order` both carry).
pub(in super::super) fn order_fields(st: &State, o: &Order) -> Map<String, Value> {
    let mut m = Map::new();
    let inst = o.instrument.as_str();
    if o.kind.is_dependent() {
        if let Some(t) = o.trade_id {
            put(&mut m, "tradeID", t.to_string());
        }
        if let Some(c) = &o.client_trade_id {
            put(&mut m, "clientTradeID", c.clone());
        }
        match o.kind {
            Kind::TrailingStopLoss => {
                if let Some(d) = o.distance {
                    put(&mut m, "distance", px(st, inst, d));
                }
            }
            _ => {
                if let Some(p) = o.price {
                    put(&mut m, "price", px(st, inst, p));
                }
                if let (Kind::StopLoss, Some(d)) = (o.kind, o.distance) {
                    put(&mut m, "distance", px(st, inst, d));
                }
            }
        }
    } else {
        put(&mut m, "instrument", inst);
        put(&mut m, "units", units(st, inst, o.units));
        if let Some(p) = o.price {
            put(&mut m, "price", px(st, inst, p));
        }
        if let Some(b) = o.price_bound {
            put(&mut m, "priceBound", px(st, inst, b));
        }
    }
    put(&mut m, "timeInForce", o.tif.clone());
    if let Some(g) = o.gtd {
        put(&mut m, "gtdTime", time20(g));
    }
    if !o.kind.is_dependent() {
        put(&mut m, "positionFill", o.position_fill.clone());
    }
    if o.kind != Kind::Market {
        put(&mut m, "triggerCondition", o.trigger.clone());
    }
    if o.kind == Kind::StopLoss {
        put(&mut m, "guaranteed", o.guaranteed);
    }
    if let Some((trade, u)) = &o.trade_close {
        let mut tc = Map::new();
        put(&mut tc, "tradeID", trade.to_string());
        if let Some(c) = &o.client_trade_id {
            put(&mut tc, "clientTradeID", c.clone());
        }
        put(&mut tc, "units", u.clone());
        put(&mut m, "tradeClose", Value::Object(tc));
    }
    if let Some((long, u)) = &o.closeout {
        let key = if *long {
            "longPositionCloseout"
        } else {
            "shortPositionCloseout"
        };
        put(&mut m, key, json!({ "instrument": inst, "units": u }));
    }
    if let Some(e) = &o.ext {
        put(&mut m, "clientExtensions", e.clone());
    }
    for (key, d, kind) in [
        ("takeProfitOnFill", &o.tp, Kind::TakeProfit),
        ("stopLossOnFill", &o.sl, Kind::StopLoss),
        ("trailingStopLossOnFill", &o.tsl, Kind::TrailingStopLoss),
    ] {
        if let Some(d) = d {
            put(&mut m, key, details_json(st, inst, d, kind));
        }
    }
    if let Some(e) = &o.trade_ext {
        put(&mut m, "tradeClientExtensions", e.clone());
    }
    m
}

/// An `Order` (the schema of its type) with its state.
pub(in super::super) fn order_json(st: &State, o: &Order) -> Value {
    let mut m = Map::new();
    put(&mut m, "id", o.id.to_string());
    put(&mut m, "createTime", time20(o.created));
    put(&mut m, "type", o.kind.wire());
    m.extend(order_fields(st, o));
    put(&mut m, "state", o.state.wire());
    if let (Kind::MarketIfTouched, Some(p)) = (o.kind, o.initial_market_price) {
        put(&mut m, "initialMarketPrice", px(st, &o.instrument, p));
    }
    if let (Kind::TrailingStopLoss, Some(v)) = (o.kind, o.trailing_value) {
        put(&mut m, "trailingStopValue", px(st, &o.instrument, v));
    }
    if let Some(f) = &o.fill {
        put(&mut m, "fillingTransactionID", f.tx.to_string());
        if let Some(t) = f.time {
            put(&mut m, "filledTime", time20(t));
        }
        if let Some(t) = f.opened {
            put(&mut m, "tradeOpenedID", t.to_string());
        }
        if let Some(t) = f.reduced {
            put(&mut m, "tradeReducedID", t.to_string());
        }
        if !f.closed.is_empty() {
            let ids: Vec<String> = f.closed.iter().map(u64::to_string).collect();
            put(&mut m, "tradeClosedIDs", ids);
        }
    }
    if let Some((tx, at)) = o.cancel {
        put(&mut m, "cancellingTransactionID", tx.to_string());
        put(&mut m, "cancelledTime", time20(at));
    }
    if let Some(r) = o.replaces {
        put(&mut m, "replacesOrderID", r.to_string());
    }
    if let Some(r) = o.replaced_by {
        put(&mut m, "replacedByOrderID", r.to_string());
    }
    Value::Object(m)
}

/// A `Trade` (`full`: with its dependent orders) or a `TradeSummary` (their ids only).
pub(in super::super) fn trade_json(st: &State, a: usize, t: &Trade, full: bool) -> Value {
    let inst = t.instrument.as_str();
    let (upl, margin, _) = if t.is_open() {
        trade_figures(st, a, t)
    } else {
        (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO)
    };
    let mut m = Map::new();
    put(&mut m, "id", t.id.to_string());
    put(&mut m, "instrument", inst);
    put(&mut m, "price", px(st, inst, t.price));
    put(&mut m, "openTime", time20(t.open_time));
    put(&mut m, "state", if t.is_open() { "OPEN" } else { "CLOSED" });
    put(&mut m, "initialUnits", units(st, inst, t.initial_units));
    put(&mut m, "initialMarginRequired", money(t.initial_margin));
    put(&mut m, "currentUnits", units(st, inst, t.units));
    put(&mut m, "realizedPL", money(t.realized_pl));
    put(&mut m, "unrealizedPL", money(upl));
    put(&mut m, "marginUsed", money(margin));
    if let Some(p) = t.average_close() {
        put(&mut m, "averageClosePrice", px(st, inst, p));
    }
    if !t.closing_tx.is_empty() {
        let ids: Vec<String> = t.closing_tx.iter().map(u64::to_string).collect();
        put(&mut m, "closingTransactionIDs", ids);
    }
    put(&mut m, "financing", money(Decimal::ZERO));
    if let Some(c) = t.close_time {
        put(&mut m, "closeTime", time20(c));
    }
    if let Some(e) = &t.ext {
        put(&mut m, "clientExtensions", e.clone());
    }
    let acct = &st.accounts[a];
    for (id, full_key, id_key) in [
        (t.tp, "takeProfitOrder", "takeProfitOrderID"),
        (t.sl, "stopLossOrder", "stopLossOrderID"),
        (t.tsl, "trailingStopLossOrder", "trailingStopLossOrderID"),
    ] {
        let Some(o) = id.and_then(|id| acct.order(id)) else {
            continue;
        };
        if full {
            put(&mut m, full_key, order_json(st, o));
        } else {
            put(&mut m, id_key, o.id.to_string());
        }
    }
    Value::Object(m)
}

/// A `Position` of `instrument` (zero on both sides when nothing is open).
pub(in super::super) fn position_json(st: &State, a: usize, instrument: &str) -> Value {
    let acct = &st.accounts[a];
    let pl = acct
        .positions
        .iter()
        .find(|(n, _)| n == instrument)
        .map(|(_, p)| p.clone())
        .unwrap_or_default();
    let side = |long: bool, realized: Decimal| {
        let trades: Vec<&Trade> = acct
            .open_trades()
            .filter(|t| t.instrument == instrument && t.is_long() == long)
            .collect();
        let total: Decimal = trades.iter().map(|t| t.units).sum();
        let mut upl = Decimal::ZERO;
        let mut margin = Decimal::ZERO;
        for t in &trades {
            let (u, m, _) = trade_figures(st, a, t);
            upl += u;
            margin += m;
        }
        let mut m = Map::new();
        put(&mut m, "units", units(st, instrument, total));
        if !total.is_zero() {
            let avg = trades.iter().map(|t| t.price * t.units).sum::<Decimal>() / total;
            put(&mut m, "averagePrice", px(st, instrument, avg));
            let ids: Vec<String> = trades.iter().map(|t| t.id.to_string()).collect();
            put(&mut m, "tradeIDs", ids);
        }
        put(&mut m, "pl", money(realized));
        put(&mut m, "unrealizedPL", money(upl));
        put(&mut m, "resettablePL", money(realized));
        put(&mut m, "financing", money(Decimal::ZERO));
        put(&mut m, "guaranteedExecutionFees", money(Decimal::ZERO));
        (Value::Object(m), upl, margin)
    };
    let (long, lu, lm) = side(true, pl.long);
    let (short, su, sm) = side(false, pl.short);
    json!({
        "instrument": instrument,
        "pl": money(round4(pl.long + pl.short)),
        "unrealizedPL": money(lu + su),
        "marginUsed": money(lm + sm),
        "resettablePL": money(round4(pl.long + pl.short)),
        "financing": money(Decimal::ZERO),
        "commission": money(Decimal::ZERO),
        "guaranteedExecutionFees": money(Decimal::ZERO),
        "long": long,
        "short": short,
    })
}

/// Whether a position has open units on either side.
pub(in super::super) fn position_open(st: &State, a: usize, instrument: &str) -> bool {
    st.accounts[a].open_trades().any(|t| t.instrument == instrument)
}
