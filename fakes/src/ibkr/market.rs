//! Market data: `GET /iserver/marketdata/snapshot` (the first call for a conid only subscribes and
//! answers no price fields; values are strings, sizes with thousands separators, a closed market's last
//! price prefixed `C`, a halted one's `H`), `GET /iserver/marketdata/history` (at most five at once,
//! one more gets 429), the unsubscribe calls, and the task that moves prices when `moving` is set.

use super::state::{Shared, State};
use super::wire::{bad, dash_time, error, grouped, millis, num, ok, parse_dash_time, query_map};
use axum::body::Bytes;
use axum::extract::{RawQuery, State as AxState};
use axum::response::Response;
use chrono::{DateTime, Datelike, Months, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;

/// Most bars one history answer holds (the newest are kept).
const MAX_BARS: usize = 1000;

impl State {
    /// The requested snapshot fields of a contract, as strings.
    pub(super) fn md_fields(&self, conid: i64, fields: &[String]) -> Map<String, Value> {
        let mut out = Map::new();
        let Some(m) = self.markets.get(&conid) else {
            return out;
        };
        let c = &m.contract;
        let q = &m.quote;
        // Bid and ask sizes as IBKR shows them: for US stocks "the number displayed is divided by 100"
        // (IBKR's field reference), so the stock's 300 stands for 30,000 shares.
        let size = match c.sec_type.as_str() {
            "STK" => Decimal::from(300),
            "CASH" => Decimal::from(2_500_000),
            "FUT" => Decimal::from(25),
            _ => Decimal::from(1_000),
        };
        let prefix = if q.halted {
            "H"
        } else if self.is_open(conid) {
            ""
        } else {
            "C"
        };
        for f in fields {
            let v = match f.as_str() {
                "31" => format!("{prefix}{}", c.price_str(q.last)),
                "84" => c.price_str(q.bid),
                "86" => c.price_str(q.ask),
                "85" | "88" => grouped(size, 0),
                "7059" => grouped(q.last_size, 0),
                "87" => grouped(q.volume, 0),
                "7295" => c.price_str(q.open),
                "70" => c.price_str(q.high),
                "71" => c.price_str(q.low),
                "82" => c.price_str(q.last - q.open),
                "83" if !q.open.is_zero() => ((q.last - q.open) / q.open * Decimal::from(100))
                    .round_dp(2)
                    .to_string(),
                "55" => c.symbol.clone(),
                "6509" => "R".to_string(),
                "6119" => "q0".to_string(),
                _ => continue,
            };
            out.insert(f.clone(), Value::String(v));
        }
        out
    }
}

/// `GET /iserver/marketdata/snapshot?conids=..&fields=..`.
pub(super) async fn snapshot(AxState(shared): AxState<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let q = query_map(query.as_deref());
    let Some(list) = q.get("conids").filter(|s| !s.trim().is_empty()) else {
        return bad("conids required");
    };
    let fields: Vec<String> = q
        .get("fields")
        .map(|f| {
            f.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let mut st = shared.lock();
    let updated = millis(st.now());
    let mut rows = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Ok(conid) = item.split('@').next().unwrap_or(item).parse::<i64>() else {
            return bad(format!("Invalid conid: {item}"));
        };
        let mut row = Map::new();
        row.insert("conid".into(), json!(conid));
        row.insert("conidEx".into(), json!(item));
        row.insert("_updated".into(), json!(updated));
        row.insert("server_id".into(), json!("q0"));
        // The first request only makes the subscription ("pre-flight"); data comes from the next one.
        if st.markets.contains_key(&conid) && !st.session.md_subscribed.insert(conid) {
            row.extend(st.md_fields(conid, &fields));
        }
        rows.push(Value::Object(row));
    }
    ok(Value::Array(rows))
}

/// `POST /iserver/marketdata/unsubscribe` with `{"conid": ...}`.
pub(super) async fn unsubscribe(AxState(shared): AxState<Arc<Shared>>, body: Bytes) -> Response {
    let b = super::wire::body_json(&body);
    let Some(conid) = b.get("conid").and_then(super::wire::int_field) else {
        return bad("conid required");
    };
    let removed = shared.lock().session.md_subscribed.remove(&conid);
    if removed {
        ok(json!({ "success": true }))
    } else {
        error(404, format!("conid {conid} is not subscribed"))
    }
}

/// `GET /iserver/marketdata/unsubscribeall`.
pub(super) async fn unsubscribe_all(AxState(shared): AxState<Arc<Shared>>) -> Response {
    shared.lock().session.md_subscribed.clear();
    ok(json!({ "unsubscribed": true }))
}

/// A bar width or period unit.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Unit {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// `5min`, `1h`, `2d`, `1w`, `1m`, `1y` → (count, unit).
fn parse_span(s: &str) -> Option<(u32, Unit)> {
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    let n: u32 = digits.parse().ok().filter(|n| *n > 0)?;
    let unit = match &s[digits.len()..] {
        "min" | "mins" => Unit::Minute,
        "h" | "hour" | "hours" => Unit::Hour,
        "d" => Unit::Day,
        "w" => Unit::Week,
        "m" => Unit::Month,
        "y" => Unit::Year,
        _ => return None,
    };
    Some((n, unit))
}

/// The documented bar widths.
const BARS: [&str; 15] = [
    "1min", "2min", "3min", "5min", "10min", "15min", "30min", "1h", "2h", "3h", "4h", "8h", "1d", "1w", "1m",
];

/// The documented period ranges per unit.
fn period_ok(n: u32, unit: Unit) -> bool {
    let max = match unit {
        Unit::Minute => 30,
        Unit::Hour => 8,
        Unit::Day => 1000,
        Unit::Week => 792,
        Unit::Month => 182,
        Unit::Year => 15,
    };
    n <= max
}

/// `t` moved back `n` units (months and years by the calendar).
fn back(t: DateTime<Utc>, n: u32, unit: Unit) -> DateTime<Utc> {
    forward(t, -(i64::from(n)), unit)
}

fn forward(t: DateTime<Utc>, n: i64, unit: Unit) -> DateTime<Utc> {
    let secs = |s: i64| t + chrono::TimeDelta::seconds(s * n);
    match unit {
        Unit::Minute => secs(60),
        Unit::Hour => secs(3_600),
        Unit::Day => secs(86_400),
        Unit::Week => secs(7 * 86_400),
        Unit::Month | Unit::Year => {
            let months = if unit == Unit::Year { n * 12 } else { n };
            let m = Months::new(months.unsigned_abs() as u32);
            if months >= 0 {
                t.checked_add_months(m).unwrap_or(t)
            } else {
                t.checked_sub_months(m).unwrap_or(t)
            }
        }
    }
}

/// The start of the bar holding `t` (weeks start on Monday, months on the 1st, UTC).
fn bar_start(t: DateTime<Utc>, n: u32, unit: Unit) -> DateTime<Utc> {
    let ts = t.timestamp();
    let align = |len: i64, offset: i64| {
        let s = (ts - offset).div_euclid(len) * len + offset;
        DateTime::from_timestamp(s, 0).unwrap_or(t)
    };
    let n = i64::from(n);
    match unit {
        Unit::Minute => align(60 * n, 0),
        Unit::Hour => align(3_600 * n, 0),
        Unit::Day => align(86_400 * n, 0),
        // 1970-01-05 was a Monday.
        Unit::Week => align(7 * 86_400 * n, 4 * 86_400),
        Unit::Month | Unit::Year => Utc
            .with_ymd_and_hms(t.year(), t.month(), 1, 0, 0, 0)
            .single()
            .unwrap_or(t),
    }
}

/// Decrements the in-flight history count when a request ends (even when the client went away).
struct InFlight(Arc<Shared>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        st.history_in_flight = st.history_in_flight.saturating_sub(1);
    }
}

/// `GET /iserver/marketdata/history?conid=..&period=..&bar=..&startTime=..&outsideRth=..`. With
/// `startTime` the period runs forward from it (never past now); without, it ends now.
pub(super) async fn history(AxState(shared): AxState<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let q = query_map(query.as_deref());
    let Some(conid) = q.get("conid").and_then(|c| c.parse::<i64>().ok()) else {
        return bad("conid required");
    };
    let Some((pn, pu)) = q
        .get("period")
        .and_then(|p| parse_span(p))
        .filter(|(n, u)| period_ok(*n, *u))
    else {
        return bad(format!(
            "Invalid period: {}",
            q.get("period").map_or("", String::as_str)
        ));
    };
    let bar = q.get("bar").map_or("", String::as_str);
    let Some((bn, bu)) = BARS.contains(&bar).then(|| parse_span(bar)).flatten() else {
        return bad(format!("Invalid bar: {bar}"));
    };
    let start = match q.get("startTime") {
        None => None,
        Some(s) => match parse_dash_time(s) {
            Some(t) => Some(t),
            None => return bad(format!("Invalid startTime: {s} (YYYYMMDD-hh:mm:ss)")),
        },
    };
    let outside_rth = q.get("outsideRth").is_some_and(|v| v == "true");
    {
        let mut st = shared.lock();
        if !st.markets.contains_key(&conid) {
            return bad(format!("Invalid conid: {conid}"));
        }
        if st.history_in_flight >= st.max_concurrent_history {
            return error(429, "Too many requests: at most 5 concurrent history requests");
        }
        st.history_in_flight += 1;
    }
    let _guard = InFlight(shared.clone());
    tokio::time::sleep(shared.history_latency).await;
    let st = shared.lock();
    let Some(m) = st.markets.get(&conid) else {
        return bad(format!("Invalid conid: {conid}"));
    };
    let now = st.now();
    let (from, to) = match start {
        Some(s) => (s, forward(s, i64::from(pn), pu).min(now)),
        None => (back(now, pn, pu), now),
    };
    // A period reaching now ends after the current second: the forming bar holds its ticks so far.
    let end = if to >= now {
        now.timestamp() + 1
    } else {
        to.timestamp()
    };
    let mut data = Vec::new();
    let mut b = bar_start(from, bn, bu);
    while b.timestamp() < end {
        let next = forward(b, i64::from(bn), bu);
        if let Some(ohlc) = m.path.bar(b.timestamp(), next.timestamp().min(end)) {
            data.push(json!({
                "t": millis(b),
                "o": num(m.price(ohlc.open)),
                "h": num(m.price(ohlc.high)),
                "l": num(m.price(ohlc.low)),
                "c": num(m.price(ohlc.close)),
                "v": ohlc.volume,
            }));
        }
        if next <= b {
            break;
        }
        b = next;
    }
    if data.len() > MAX_BARS {
        data.drain(..data.len() - MAX_BARS);
    }
    let c = &m.contract;
    ok(json!({
        "serverId": format!("{}", st.log.len()),
        "symbol": c.symbol,
        "text": c.name,
        "priceFactor": 10u64.pow(c.price_dp()),
        "startTime": dash_time(from),
        "high": "0/0/0",
        "low": "0/0/0",
        "timePeriod": q.get("period"),
        "barLength": forward(DateTime::UNIX_EPOCH, i64::from(bn), bu).timestamp(),
        "mdAvailability": "S",
        "mktDataDelay": 0,
        "outsideRth": outside_rth,
        "tradingDayDuration": 1440,
        "volumeFactor": 1,
        "priceDisplayRule": 1,
        "priceDisplayValue": c.price_dp().to_string(),
        "negativeCapable": false,
        "messageVersion": 2,
        "direction": -1,
        "points": data.len(),
        "travelTime": 1,
        "data": data,
    }))
}

/// Seconds of ticks sent at most when the clock jumps (a test moving it by hours sends no backlog).
const MAX_CATCH_UP: i64 = 120;

/// Moves prices through every fake-clock second (when `moving`; a clock moved forward by a test gets
/// each second it skipped, up to [`MAX_CATCH_UP`]), settles pending cancels and expires an idle session,
/// until the fake stops.
pub(super) async fn drive(shared: Arc<Shared>, moving: bool) {
    let mut last: Option<i64> = None;
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut st = shared.lock();
        st.settle_cancels();
        st.expire_day_orders();
        st.expire_if_idle();
        let second = st.now().timestamp();
        if !moving {
            continue;
        }
        let from = last.map_or(second, |l| (l + 1).max(second - MAX_CATCH_UP));
        for t in from..=second {
            st.step_market(t);
        }
        last = Some(second);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_parse_as_documented() {
        assert_eq!(parse_span("5min"), Some((5, Unit::Minute)));
        assert_eq!(parse_span("2h"), Some((2, Unit::Hour)));
        assert_eq!(parse_span("1m"), Some((1, Unit::Month)));
        assert_eq!(parse_span("0d"), None);
        assert_eq!(parse_span("d"), None);
        assert_eq!(parse_span("3x"), None);
        assert!(period_ok(1000, Unit::Day) && !period_ok(1001, Unit::Day));
    }

    #[test]
    fn bars_align_on_utc_boundaries() {
        // 2023-11-15 (a Wednesday) 13:47:12 UTC.
        let t = DateTime::from_timestamp(1_700_056_032, 0).unwrap();
        assert_eq!(bar_start(t, 5, Unit::Minute).format("%H:%M").to_string(), "13:45");
        assert_eq!(bar_start(t, 4, Unit::Hour).format("%H:%M").to_string(), "12:00");
        assert_eq!(
            bar_start(t, 1, Unit::Week).format("%Y-%m-%d %a").to_string(),
            "2023-11-13 Mon"
        );
        assert_eq!(
            bar_start(t, 1, Unit::Month).format("%Y-%m-%d").to_string(),
            "2023-11-01"
        );
        assert_eq!(forward(t, 1, Unit::Month).format("%m-%d").to_string(), "12-15");
        assert_eq!(back(t, 2, Unit::Day).format("%d").to_string(), "13");
    }
}
