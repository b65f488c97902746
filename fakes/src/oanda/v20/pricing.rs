//! `GET /v3/accounts/{id}/pricing`: `ClientPrice` objects (also the lines of the pricing stream) and
//! the optional `homeConversions`.

use super::super::engine::figures;
use super::super::gate::{v20_account, Ctx};
use super::super::options::pow10;
use super::super::state::{Shared, State};
use super::super::wire::{fixed, ok, parse_time, plain, time20, v20_error, Query};
use super::views::px;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::sync::Arc;

/// Liquidity of the price buckets, best price first (each next bucket two ticks worse).
const BUCKETS: [u64; 4] = [1_000_000, 2_000_000, 5_000_000, 10_000_000];

/// A `ClientPrice` of `instrument` for account `a` (None for an unknown instrument).
pub(in super::super) fn client_price(st: &State, a: usize, instrument: &str) -> Option<Value> {
    let q = st.quote(instrument)?;
    let tick = pow10(-(q.spec.display_precision as i32)) * Decimal::TWO;
    let bucket = |base: Decimal, step: Decimal| -> Vec<Value> {
        BUCKETS
            .iter()
            .enumerate()
            .map(|(i, l)| json!({ "price": px(st, instrument, base + step * Decimal::from(i)), "liquidity": l }))
            .collect()
    };
    let conv = fixed(st.quote_home(a, instrument), 5);
    Some(json!({
        "type": "PRICE",
        "instrument": instrument,
        "time": time20(q.time),
        "status": if q.tradeable() { "tradeable" } else { "non-tradeable" },
        "tradeable": q.tradeable(),
        "bids": bucket(q.spec.bid, -tick),
        "asks": bucket(q.spec.ask, tick),
        "closeoutBid": px(st, instrument, q.spec.bid - tick),
        "closeoutAsk": px(st, instrument, q.spec.ask + tick),
        "quoteHomeConversionFactors": { "positiveUnits": conv, "negativeUnits": conv },
    }))
}

/// `unitsAvailable`: what the margin available would buy or sell.
fn units_available(st: &State, a: usize, instrument: &str) -> Value {
    let Some(q) = st.quote(instrument) else {
        return Value::Null;
    };
    let per_unit = q.mid() * q.spec.margin_rate * st.quote_home(a, instrument);
    let units = if per_unit.is_zero() {
        Decimal::ZERO
    } else {
        (figures(st, a).margin_available / per_unit)
            .trunc()
            .min(q.spec.maximum_order_units)
    };
    let side = json!({ "long": plain(units), "short": plain(units) });
    json!({ "default": side, "reduceFirst": side, "reduceOnly": side, "openOnly": side })
}

/// `GET /v3/accounts/{id}/pricing?instruments=..[&since=..][&includeHomeConversions=true]`.
pub(super) async fn pricing(
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
    let query = Query::parse(raw.as_deref());
    let Some(names) = query.list("instruments").filter(|l| !l.is_empty()) else {
        return v20_error(400, "Invalid value specified for 'instruments'");
    };
    if names.iter().any(|n| st.quote(n).is_none()) {
        return v20_error(400, "Invalid value specified for 'instruments'");
    }
    let since = match query.get("since") {
        Some(s) => match parse_time(s) {
            Some(t) => Some(t),
            None => return v20_error(400, "Invalid value specified for 'since'"),
        },
        None => None,
    };
    let (Ok(home), Ok(units)) = (
        query.flag("includeHomeConversions"),
        query.flag("includeUnitsAvailable"),
    ) else {
        return v20_error(400, "Invalid value specified for 'includeHomeConversions'");
    };
    let prices: Vec<Value> = names
        .iter()
        .filter(|n| since.is_none_or(|s| st.quote(n).is_some_and(|q| q.time > s)))
        .filter_map(|n| {
            let mut p = client_price(&st, a, n)?;
            if units == Some(true) {
                p["unitsAvailable"] = units_available(&st, a, n);
            }
            Some(p)
        })
        .collect();
    let mut body = json!({ "prices": prices, "time": time20(st.now()) });
    if home == Some(true) {
        let currency = st.accounts[a].spec.currency.clone();
        let mut codes: Vec<String> = Vec::new();
        for n in &names {
            for c in n.split('_') {
                if !codes.iter().any(|x| x == c) {
                    codes.push(c.to_string());
                }
            }
        }
        let conversions: Vec<Value> = codes
            .iter()
            .map(|c| {
                let f = fixed(st.conversion(c, &currency), 5);
                json!({ "currency": c, "accountGain": f, "accountLoss": f, "positionValue": f })
            })
            .collect();
        body["homeConversions"] = conversions.into();
    }
    ok(body)
}
