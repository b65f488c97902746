//! `POST/GET /v1/accounts/{id}/orders` and `GET/PATCH/DELETE /v1/accounts/{id}/orders/{orderId}`.
//! Bodies are `application/x-www-form-urlencoded`; market orders answer with the trades they
//! opened, reduced or closed, pending ones with `orderOpened`.

use super::super::engine::{self, Ev};
use super::super::gate::{v1_account, Ctx};
use super::super::model::{Kind, OnFill, Order};
use super::super::state::{Quote, Shared, State};
use super::super::wire::{decimals, form, json_response, num, ok, time1, v1_bad, v1_error, Fail, Query};
use super::params::{decimal, time, List};
use super::tx::side;
use super::views::{order_json, pips};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::sync::Arc;

/// A refused order: 400 with a readable message.
fn refused(message: &str) -> Response {
    v1_error(400, 1, message)
}

/// The 404 of an unknown order.
fn no_order() -> Response {
    v1_error(404, 43, "Order not found")
}

/// A price argument of `q`'s instrument (None when absent; 0 when `zero_ok` means "remove").
fn price_arg(f: &Query, q: &Quote, name: &str) -> Result<Option<Decimal>, Fail> {
    let p = decimal(f, name)?;
    match p {
        Some(p) if p < Decimal::ZERO || decimals(p) > q.spec.display_precision => Err(v1_bad(name).into()),
        other => Ok(other),
    }
}

/// A trailing stop in pips as a price distance (0 means none); outside 5..=10000 pips is refused.
fn trailing_arg(f: &Query, q: &Quote) -> Result<Option<Decimal>, Fail> {
    let Some(p) = decimal(f, "trailingStop")? else {
        return Ok(None);
    };
    if p.is_zero() {
        return Ok(Some(Decimal::ZERO));
    }
    if p < Decimal::from(5) || p > Decimal::from(10_000) {
        return Err(v1_bad("trailingStop").into());
    }
    Ok(Some(p * q.spec.pip()))
}

/// Checks that a stop loss / take profit lies on the right side of `reference` for a trade in
/// direction `buy`.
fn stops_ok(buy: bool, reference: Decimal, sl: Option<Decimal>, tp: Option<Decimal>) -> Result<(), Fail> {
    let wrong = |p: Decimal, below: bool| !p.is_zero() && if below { p >= reference } else { p <= reference };
    if sl.is_some_and(|p| wrong(p, buy)) {
        return Err(v1_bad("stopLoss").into());
    }
    if tp.is_some_and(|p| wrong(p, !buy)) {
        return Err(v1_bad("takeProfit").into());
    }
    Ok(())
}

/// On-fill settings from v1 stop arguments (0 and absent mean none).
fn on_fill_price(p: Option<Decimal>) -> Option<OnFill> {
    p.filter(|p| !p.is_zero()).map(|p| OnFill {
        price: Some(p),
        tif: "GTC".into(),
        ..OnFill::default()
    })
}

fn on_fill_distance(d: Option<Decimal>) -> Option<OnFill> {
    d.filter(|d| !d.is_zero()).map(|d| OnFill {
        distance: Some(d),
        tif: "GTC".into(),
        ..OnFill::default()
    })
}

/// `POST /v1/accounts/{id}/orders`.
pub(super) async fn create(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let mut st = shared.lock();
    let a = match v1_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let order = match read_order(&st, &form(&body)) {
        Ok(o) => o,
        Err(r) => return r.into_response(),
    };
    let Some(q) = st.quote(&order.instrument) else {
        return v1_error(400, 2, "Invalid instrument");
    };
    if order.kind == Kind::Market {
        let buy = order.is_buy();
        let price = q.fill_price(buy);
        if !q.tradeable() {
            return refused("Trading is halted for this instrument");
        }
        let outside =
            order.upper_bound.is_some_and(|u| price > u) || order.lower_bound.is_some_and(|l| price < l);
        if outside {
            return refused("The market price is outside the requested bounds");
        }
        let sl = order.sl.as_ref().and_then(|d| d.price);
        let tp = order.tp.as_ref().and_then(|d| d.price);
        if let Err(r) = stops_ok(buy, price, sl, tp) {
            return r.into_response();
        }
        if !engine::has_margin(&st, a, &order.instrument, order.units, price) {
            return refused("Insufficient margin available");
        }
    }
    st.accounts[a].begin(Some(ctx.request_id));
    let placed = engine::place(&mut st, a, order);
    let resp = answer(&st, a, &placed);
    st.flush();
    resp
}

/// Reads the form of a new order into the account model.
fn read_order(st: &State, f: &Query) -> Result<Order, Fail> {
    let instrument = f.get("instrument").ok_or_else(|| v1_bad("instrument"))?;
    let q = st
        .quote(instrument)
        .ok_or_else(|| v1_error(400, 2, "Invalid instrument"))?;
    let units = f
        .get("units")
        .and_then(|u| u.parse::<u64>().ok())
        .filter(|u| *u > 0)
        .map(Decimal::from)
        .filter(|u| *u <= q.spec.maximum_order_units)
        .ok_or_else(|| v1_bad("units"))?;
    let buy = match f.get("side") {
        Some("buy") => true,
        Some("sell") => false,
        _ => return Err(v1_bad("side").into()),
    };
    let kind = match f.get("type") {
        Some("market") => Kind::Market,
        Some("limit") => Kind::Limit,
        Some("stop") => Kind::Stop,
        Some("marketIfTouched") => Kind::MarketIfTouched,
        _ => return Err(v1_bad("type").into()),
    };
    let mut order = Order::new(0, kind, instrument, st.now());
    order.units = if buy { units } else { -units };
    if kind != Kind::Market {
        let price = price_arg(f, q, "price")?
            .filter(|p| !p.is_zero())
            .ok_or_else(|| v1_bad("price"))?;
        let expiry = time(f, "expiry")?
            .filter(|e| *e > st.now())
            .ok_or_else(|| v1_bad("expiry"))?;
        order.price = Some(price);
        order.tif = "GTD".into();
        order.gtd = Some(expiry);
    }
    order.lower_bound = price_arg(f, q, "lowerBound")?.filter(|p| !p.is_zero());
    order.upper_bound = price_arg(f, q, "upperBound")?.filter(|p| !p.is_zero());
    let sl = price_arg(f, q, "stopLoss")?;
    let tp = price_arg(f, q, "takeProfit")?;
    if let Some(price) = order.price {
        stops_ok(buy, price, sl, tp)?;
    }
    order.sl = on_fill_price(sl);
    order.tp = on_fill_price(tp);
    order.tsl = on_fill_distance(trailing_arg(f, q)?);
    Ok(order)
}

/// The answer to a new order: the fill's trades (market) or the order opened.
fn answer(st: &State, a: usize, placed: &engine::Placed) -> Response {
    let acct = &st.accounts[a];
    let Some(order) = acct.order(placed.order) else {
        return refused("The order could not be created");
    };
    if order.kind != Kind::Market {
        let stop = |d: &Option<OnFill>| num(d.as_ref().and_then(|d| d.price).unwrap_or_default());
        return ok(json!({
            "instrument": order.instrument,
            "time": time1(order.created),
            "price": num(order.price.unwrap_or_default()),
            "orderOpened": {
                "id": order.id,
                "units": num(order.units.abs()),
                "side": side(order.units),
                "takeProfit": stop(&order.tp),
                "stopLoss": stop(&order.sl),
                "expiry": order.gtd.map(time1).unwrap_or_default(),
                "upperBound": num(order.upper_bound.unwrap_or_default()),
                "lowerBound": num(order.lower_bound.unwrap_or_default()),
                "trailingStop": num(order.tsl.as_ref().and_then(|d| d.distance)
                    .map(|d| pips(st, &order.instrument, d)).unwrap_or_default()),
            },
        }));
    }
    let Some(tx) = placed.fill.and_then(|f| acct.tx_json(f)) else {
        return refused("The order could not be filled");
    };
    let opened = match tx.get("tradeOpened") {
        Some(t) => {
            let trade = t["id"].as_u64().and_then(|id| acct.trade(id));
            let mut t = t.clone();
            t["side"] = side(order.units).into();
            let dep = |slot: Option<u64>, distance: bool| -> Value {
                let o = slot.and_then(|id| acct.order(id));
                let v = if distance {
                    o.and_then(|o| o.distance).map(|d| pips(st, &order.instrument, d))
                } else {
                    o.and_then(|o| o.price)
                };
                num(v.unwrap_or_default())
            };
            t["takeProfit"] = dep(trade.and_then(|t| t.tp), false);
            t["stopLoss"] = dep(trade.and_then(|t| t.sl), false);
            t["trailingStop"] = dep(trade.and_then(|t| t.tsl), true);
            t
        }
        None => json!({}),
    };
    ok(json!({
        "instrument": order.instrument,
        "time": tx["time"],
        "price": tx["price"],
        "tradeOpened": opened,
        "tradesClosed": tx.get("tradesClosed").cloned().unwrap_or_else(|| json!([])),
        "tradeReduced": tx.get("tradeReduced").cloned().unwrap_or_else(|| json!({})),
    }))
}

/// A pending entry order by id.
fn pending(st: &State, a: usize, id: &str) -> Option<Order> {
    let id = id.parse::<u64>().ok()?;
    st.accounts[a]
        .order(id)
        .filter(|o| o.is_pending() && o.kind.is_entry())
        .cloned()
}

/// `GET /v1/accounts/{id}/orders[?maxId&count&instrument&ids]`, newest first.
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
    let orders: Vec<Value> = st.accounts[a]
        .orders
        .iter()
        .rev()
        .filter(|o| o.is_pending() && o.kind.is_entry())
        .filter(|o| filter.keeps(o.id, Some(&o.instrument)))
        .take(filter.count)
        .map(|o| order_json(&st, o))
        .collect();
    ok(json!({ "orders": orders }))
}

/// `GET /v1/accounts/{id}/orders/{orderId}`.
pub(super) async fn get_one(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path((id, order)): Path<(String, String)>,
) -> Response {
    let st = shared.lock();
    let a = match v1_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    match pending(&st, a, &order) {
        Some(o) => ok(order_json(&st, &o)),
        None => no_order(),
    }
}

/// `PATCH /v1/accounts/{id}/orders/{orderId}`: changes the order in place.
pub(super) async fn update(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path((id, order)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let mut st = shared.lock();
    let a = match v1_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let Some(mut o) = pending(&st, a, &order) else {
        return no_order();
    };
    let Some(q) = st.quote(&o.instrument) else {
        return v1_error(400, 2, "Invalid instrument");
    };
    let f = form(&body);
    let changed = (|| -> Result<(), Fail> {
        if let Some(u) = f.get("units") {
            let u = u
                .parse::<u64>()
                .ok()
                .filter(|u| *u > 0)
                .map(Decimal::from)
                .ok_or_else(|| v1_bad("units"))?;
            o.units = if o.is_buy() { u } else { -u };
        }
        if let Some(p) = price_arg(&f, q, "price")? {
            o.price = Some(p).filter(|p| !p.is_zero()).or(o.price);
        }
        if let Some(e) = time(&f, "expiry")? {
            if e <= st.now() {
                return Err(v1_bad("expiry").into());
            }
            o.gtd = Some(e);
            o.expires = Some(e);
        }
        if let Some(l) = price_arg(&f, q, "lowerBound")? {
            o.lower_bound = Some(l).filter(|l| !l.is_zero());
        }
        if let Some(u) = price_arg(&f, q, "upperBound")? {
            o.upper_bound = Some(u).filter(|u| !u.is_zero());
        }
        let sl = price_arg(&f, q, "stopLoss")?;
        let tp = price_arg(&f, q, "takeProfit")?;
        stops_ok(o.is_buy(), o.price.unwrap_or_default(), sl, tp)?;
        if sl.is_some() {
            o.sl = on_fill_price(sl);
        }
        if tp.is_some() {
            o.tp = on_fill_price(tp);
        }
        if let Some(d) = trailing_arg(&f, q)? {
            o.tsl = on_fill_distance(Some(d));
        }
        Ok(())
    })();
    if let Err(r) = changed {
        return r.into_response();
    }
    st.accounts[a].begin(Some(ctx.request_id));
    if let Some(slot) = st.accounts[a].order_mut(o.id) {
        *slot = o.clone();
    }
    let tx = st.accounts[a].alloc();
    engine::record(&mut st, a, tx, Ev::OrderUpdate(Box::new(o.clone())));
    if engine::triggered(&st, a, o.id) {
        let _ = engine::fill_now(&mut st, a, o.id);
    }
    let current = st.accounts[a].order(o.id).cloned().unwrap_or(o);
    let resp = ok(order_json(&st, &current));
    st.flush();
    resp
}

/// `DELETE /v1/accounts/{id}/orders/{orderId}`: cancels the order.
pub(super) async fn delete(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path((id, order)): Path<(String, String)>,
) -> Response {
    let mut st = shared.lock();
    let a = match v1_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let Some(o) = pending(&st, a, &order) else {
        return no_order();
    };
    st.accounts[a].begin(Some(ctx.request_id));
    engine::cancel(&mut st, a, o.id, "CLIENT_REQUEST");
    st.flush();
    json_response(
        200,
        json!({
            "id": o.id,
            "instrument": o.instrument,
            "units": num(o.units.abs()),
            "side": side(o.units),
            "price": num(o.price.unwrap_or_default()),
            "expiry": o.gtd.map(time1).unwrap_or_default(),
        }),
    )
}
