//! The v1 rates endpoints, as the v1 documentation describes them: `GET /v1/instruments`
//! (`accountId` required, `fields`, `instruments`), `GET /v1/prices` (the snapshot on the REST host;
//! `status: "halted"` only when halted) and `GET /v1/candles` (bidask or midpoint candles).

use super::super::candles::{self, alignment, candle, Gran, Request};
use super::super::gate::{v1_account, Ctx};
use super::super::options::pow10;
use super::super::state::{Quote, Shared, State};
use super::super::wire::{num, ok, time1, v1_bad, v1_error, Fail, Query};
use super::params::time;
use axum::extract::{RawQuery, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The instrument fields v1 knows.
const FIELDS: [&str; 10] = [
    "instrument",
    "displayName",
    "pip",
    "maxTradeUnits",
    "precision",
    "maxTrailingStop",
    "minTrailingStop",
    "marginRate",
    "halted",
    "interestRate",
];

/// The fields returned when `fields` is not given.
const DEFAULT_FIELDS: [&str; 4] = ["instrument", "displayName", "pip", "maxTradeUnits"];

/// A plausible, stable interest rate of a currency (bid, ask).
fn interest(currency: &str) -> (Decimal, Decimal) {
    let h = currency
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let bid = Decimal::new(i64::from(h % 450), 4);
    (bid, bid + Decimal::new(20, 4))
}

/// One instrument with the requested fields.
fn instrument_json(q: &Quote, fields: &[String]) -> Value {
    let s = &q.spec;
    let mut m = Map::new();
    m.insert("instrument".into(), s.name.clone().into());
    for f in fields {
        let v = match f.as_str() {
            "displayName" => s.display_name.clone().into(),
            "pip" => s.pip().normalize().to_string().into(),
            "maxTradeUnits" => num(s.maximum_order_units),
            "precision" => pow10(-(s.display_precision as i32)).to_string().into(),
            "maxTrailingStop" => num(Decimal::from(10_000)),
            "minTrailingStop" => num(Decimal::from(5)),
            "marginRate" => num(s.margin_rate),
            "halted" => s.halted.into(),
            "interestRate" => {
                let mut rates = Map::new();
                for c in [s.base_currency(), s.quote_currency()] {
                    let (bid, ask) = interest(c);
                    rates.insert(c.to_string(), json!({ "bid": num(bid), "ask": num(ask) }));
                }
                Value::Object(rates)
            }
            _ => continue,
        };
        m.insert(f.clone(), v);
    }
    Value::Object(m)
}

/// Instrument names of a request (all when `instruments` is absent); an unknown one is refused.
fn wanted(st: &State, q: &Query, required: bool) -> Result<Vec<String>, Fail> {
    match q.list("instruments") {
        None if !required => Ok(st.quotes.iter().map(|q| q.spec.name.clone()).collect()),
        None => Err(v1_bad("instruments").into()),
        Some(list) if list.is_empty() => Err(v1_bad("instruments").into()),
        Some(list) => {
            if list.iter().any(|i| st.quote(i).is_none()) {
                return Err(v1_error(400, 2, "Invalid instrument").into());
            }
            Ok(list)
        }
    }
}

/// `GET /v1/instruments?accountId=..[&fields=..][&instruments=..]`.
pub(super) async fn instruments(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(raw): RawQuery,
) -> Response {
    let st = shared.lock();
    let q = Query::parse(raw.as_deref());
    let Some(account) = q.get("accountId") else {
        return v1_bad("accountId");
    };
    if let Err(r) = v1_account(&st, &ctx, account) {
        return r.into_response();
    }
    let fields: Vec<String> = match q.list("fields") {
        None => DEFAULT_FIELDS.iter().map(|f| f.to_string()).collect(),
        Some(list) => {
            if list.iter().any(|f| !FIELDS.contains(&f.as_str())) {
                return v1_bad("fields");
            }
            list
        }
    };
    let names = match wanted(&st, &q, false) {
        Ok(n) => n,
        Err(r) => return r.into_response(),
    };
    let list: Vec<Value> = names
        .iter()
        .filter_map(|n| st.quote(n))
        .map(|q| instrument_json(q, &fields))
        .collect();
    ok(json!({ "instruments": list }))
}

/// A price object of `/v1/prices`.
fn price_json(q: &Quote) -> Value {
    let mut p = json!({
        "instrument": q.spec.name,
        "time": time1(q.time),
        "bid": num(q.spec.bid),
        "ask": num(q.spec.ask),
    });
    if q.spec.halted {
        p["status"] = "halted".into();
    }
    p
}

/// A `{"tick": ..}` line of the rates stream.
pub(in super::super) fn tick_line(st: &State, instrument: &str) -> Option<String> {
    let q = st.quote(instrument)?;
    Some(
        json!({
            "tick": {
                "instrument": instrument,
                "time": time1(q.time),
                "bid": num(q.spec.bid),
                "ask": num(q.spec.ask),
            }
        })
        .to_string(),
    )
}

/// `GET /v1/prices?instruments=..[&since=..]` on the REST host.
pub(super) async fn prices(AxState(shared): AxState<Arc<Shared>>, RawQuery(raw): RawQuery) -> Response {
    let st = shared.lock();
    let q = Query::parse(raw.as_deref());
    let names = match wanted(&st, &q, true) {
        Ok(n) => n,
        Err(r) => return r.into_response(),
    };
    let since = match time(&q, "since") {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let list: Vec<Value> = names
        .iter()
        .filter_map(|n| st.quote(n))
        .filter(|q| since.is_none_or(|s| q.time > s))
        .map(price_json)
        .collect();
    ok(json!({ "prices": list }))
}

/// `GET /v1/candles?instrument=..[&granularity&count&start&end&candleFormat&includeFirst&...]`.
pub(super) async fn candles(AxState(shared): AxState<Arc<Shared>>, RawQuery(raw): RawQuery) -> Response {
    let st = shared.lock();
    let q = Query::parse(raw.as_deref());
    let Some(instrument) = q.get("instrument") else {
        return v1_bad("instrument");
    };
    let Some(quote) = st.quote(instrument) else {
        return v1_error(400, 2, "Invalid instrument");
    };
    let gran_name = q.get("granularity").unwrap_or("S5");
    let Some(gran) = Gran::parse(gran_name, true) else {
        return v1_bad("granularity");
    };
    let midpoint = match q.get("candleFormat").unwrap_or("bidask") {
        "bidask" => false,
        "midpoint" => true,
        _ => return v1_bad("candleFormat"),
    };
    let align = match alignment(
        gran,
        q.get("dailyAlignment"),
        q.get("alignmentTimezone"),
        q.get("weeklyAlignment"),
    ) {
        Ok(a) => a,
        Err(p) => return v1_bad(p),
    };
    let (start, end) = match (time(&q, "start"), time(&q, "end")) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(r), _) | (_, Err(r)) => return r.into_response(),
    };
    let count = match q.get("count").map(str::parse::<u32>) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(_)) => return v1_bad("count"),
    };
    let Ok(include_first) = q.flag("includeFirst") else {
        return v1_bad("includeFirst");
    };
    let request = Request {
        align,
        from: start,
        to: end,
        count,
        include_first: include_first.unwrap_or(true),
        data_start: st.data_start,
    };
    let now = st.now();
    let slots = match candles::select(&request, now) {
        Ok(s) => s,
        Err(refusal) => {
            let param = match refusal.param {
                "from" => "start",
                "to" => "end",
                p => p,
            };
            return v1_bad(param);
        }
    };
    let list: Vec<Value> = slots
        .into_iter()
        .filter_map(|(s, e)| candle(quote, s, e, now, st.moving))
        .map(|c| {
            let mut m = Map::new();
            m.insert("time".into(), time1(c.time).into());
            if midpoint {
                m.insert("openMid".into(), num(c.mid.o));
                m.insert("highMid".into(), num(c.mid.h));
                m.insert("lowMid".into(), num(c.mid.l));
                m.insert("closeMid".into(), num(c.mid.c));
            } else {
                m.insert("openBid".into(), num(c.bid.o));
                m.insert("openAsk".into(), num(c.ask.o));
                m.insert("highBid".into(), num(c.bid.h));
                m.insert("highAsk".into(), num(c.ask.h));
                m.insert("lowBid".into(), num(c.bid.l));
                m.insert("lowAsk".into(), num(c.ask.l));
                m.insert("closeBid".into(), num(c.bid.c));
                m.insert("closeAsk".into(), num(c.ask.c));
            }
            m.insert("volume".into(), c.volume.into());
            m.insert("complete".into(), c.complete.into());
            Value::Object(m)
        })
        .collect();
    ok(json!({ "instrument": instrument, "granularity": gran_name, "candles": list }))
}
