//! `GET /v3/instruments/{instrument}/candles` and `GET /v3/accounts/{id}/instruments/{instrument}/candles`.

use super::super::candles::{self, alignment, candle, Gran, Ohlc, Request};
use super::super::gate::{v20_account, Ctx};
use super::super::state::{Shared, State};
use super::super::wire::{ok, parse_time, time20, v20_error, Fail, Query};
use super::views::px;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// `GET /v3/instruments/{instrument}/candles`.
pub(super) async fn candles(
    AxState(shared): AxState<Arc<Shared>>,
    Path(instrument): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let st = shared.lock();
    answer(&st, &instrument, raw.as_deref())
}

/// `GET /v3/accounts/{id}/instruments/{instrument}/candles` (`units` is accepted and ignored).
pub(super) async fn account_candles(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path((id, instrument)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let st = shared.lock();
    if let Err(r) = v20_account(&st, &ctx, &id) {
        return r.into_response();
    }
    answer(&st, &instrument, raw.as_deref())
}

fn bad(param: &str) -> Response {
    v20_error(400, &format!("Invalid value specified for '{param}'"))
}

/// A `CandlestickData`.
fn data(st: &State, instrument: &str, x: &Ohlc) -> Value {
    json!({
        "o": px(st, instrument, x.o),
        "h": px(st, instrument, x.h),
        "l": px(st, instrument, x.l),
        "c": px(st, instrument, x.c),
    })
}

fn answer(st: &State, instrument: &str, raw: Option<&str>) -> Response {
    let Some(quote) = st.quote(instrument) else {
        return bad("instrument");
    };
    let q = Query::parse(raw);
    let price = q.get("price").unwrap_or("M");
    if price.is_empty() || !price.chars().all(|c| matches!(c, 'M' | 'B' | 'A')) {
        return bad("price");
    }
    let gran_name = q.get("granularity").unwrap_or("S5");
    let Some(gran) = Gran::parse(gran_name, false) else {
        return bad("granularity");
    };
    let align = match alignment(
        gran,
        q.get("dailyAlignment"),
        q.get("alignmentTimezone"),
        q.get("weeklyAlignment"),
    ) {
        Ok(a) => a,
        Err(p) => return bad(p),
    };
    let time = |name: &'static str| match q.get(name) {
        None => Ok(None),
        Some(s) => parse_time(s).map(Some).ok_or_else(|| Fail::from(bad(name))),
    };
    let (from, to) = match (time("from"), time("to")) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(r), _) | (_, Err(r)) => return r.into_response(),
    };
    let count = match q.get("count").map(str::parse::<u32>) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(_)) => return bad("count"),
    };
    let (Ok(include_first), Ok(_smooth)) = (q.flag("includeFirst"), q.flag("smooth")) else {
        return bad("includeFirst");
    };
    let request = Request {
        align,
        from,
        to,
        count,
        include_first: include_first.unwrap_or(true),
        data_start: st.data_start,
    };
    let now = st.now();
    let slots = match candles::select(&request, now) {
        Ok(s) => s,
        Err(refusal) => return v20_error(400, &refusal.message),
    };
    // The path is continuous, so a smoothed candle (opening at the previous close) is the same.
    let list: Vec<Value> = slots
        .into_iter()
        .filter_map(|(s, e)| candle(quote, s, e, now, st.moving))
        .map(|c| {
            let mut m = Map::new();
            m.insert("complete".into(), c.complete.into());
            m.insert("volume".into(), c.volume.into());
            m.insert("time".into(), time20(c.time).into());
            if price.contains('B') {
                m.insert("bid".into(), data(st, instrument, &c.bid));
            }
            if price.contains('M') {
                m.insert("mid".into(), data(st, instrument, &c.mid));
            }
            if price.contains('A') {
                m.insert("ask".into(), data(st, instrument, &c.ask));
            }
            Value::Object(m)
        })
        .collect();
    ok(json!({ "instrument": instrument, "granularity": gran_name, "candles": list }))
}
