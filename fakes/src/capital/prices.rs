//! `/prices/{epic}`: historical bars, each the aggregation of the market's price process (one tick per
//! open second, see `price_path`) over the bar, in bid and ask (the bid plus the starting spread), so
//! bars of every resolution, the WebSocket quotes and the market snapshot agree. Bars start on UTC
//! boundaries of their resolution (weekly bars on Mondays), never lie in the future (fake clock) nor
//! before the fake's data start, and a span without ticks (a closed market) has no bar.
//!
//! Paging follows the documentation and observed upstream behaviour: `max` defaults to 10 and may not
//! exceed 1000 (`error.invalid.max`); with `from` the oldest `max` bars from there are returned,
//! otherwise the newest `max` bars up to `to` (or now); a window without bars is
//! 404 `error.prices.not-found`.

use super::price_path::Ohlc;
use super::state::{MarketState, Shared};
use super::wire::{fmt_s, fmt_s_local, num, ok, parse_date, query_get, query_pairs, ApiError, ApiResult};
use axum::extract::{Path, RawQuery, State as AxState};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::sync::Arc;

/// Resolutions and their length in seconds.
const RESOLUTIONS: [(&str, i64); 8] = [
    ("MINUTE", 60),
    ("MINUTE_5", 300),
    ("MINUTE_15", 900),
    ("MINUTE_30", 1_800),
    ("HOUR", 3_600),
    ("HOUR_4", 14_400),
    ("DAY", 86_400),
    ("WEEK", 604_800),
];
const WEEK: i64 = 604_800;
/// 1970-01-05, the first Monday after the Unix epoch: weekly bars are aligned to it.
const WEEK_ANCHOR: i64 = 4 * 86_400;
const DEFAULT_MAX: i64 = 10;
const MAX_MAX: i64 = 1_000;

/// The start of the bar of length `dur` that contains `t` (Unix seconds).
pub(super) fn bar_start(t: i64, dur: i64) -> i64 {
    let anchor = if dur == WEEK { WEEK_ANCHOR } else { 0 };
    (t - anchor).div_euclid(dur) * dur + anchor
}

/// The first bar start at or after `t`.
fn first_start_from(t: i64, dur: i64) -> i64 {
    let s = bar_start(t, dur);
    if s < t {
        s + dur
    } else {
        s
    }
}

/// Bar slots one request may look at (closed spans are skipped one slot at a time).
const MAX_STEPS: usize = 100_000;

/// `{bid, ask}` of a bid in price steps.
fn bid_ask(m: &MarketState, steps: i64) -> Value {
    json!({ "bid": num(m.bid_at(steps)), "ask": num(m.offer_at(steps)) })
}

/// The JSON of the bar starting at `start`.
fn bar_json(m: &MarketState, start: i64, bar: &Ohlc) -> Value {
    let t = DateTime::<Utc>::from_timestamp(start, 0).unwrap_or_default();
    json!({
        "snapshotTime": fmt_s_local(t),
        "snapshotTimeUTC": fmt_s(t),
        "openPrice": bid_ask(m, bar.open),
        "closePrice": bid_ask(m, bar.close),
        "highPrice": bid_ask(m, bar.high),
        "lowPrice": bid_ask(m, bar.low),
        "lastTradedVolume": bar.volume,
    })
}

/// The bars a request asks for, oldest first: `bar(start)` gives the bar starting there, if any.
pub(super) fn select(
    dur: i64,
    max: i64,
    (from, to): (Option<i64>, Option<i64>),
    (now, data_start): (i64, i64),
    bar: impl Fn(i64) -> Option<Ohlc>,
) -> Vec<(i64, Ohlc)> {
    let last = bar_start(to.unwrap_or(now).min(now), dur);
    let first_kept = bar_start(data_start, dur);
    let max = usize::try_from(max).unwrap_or(0);
    let mut out = Vec::new();
    match from {
        Some(f) => {
            let mut s = first_start_from(f, dur).max(first_kept);
            for _ in 0..MAX_STEPS {
                if s > last || out.len() >= max {
                    break;
                }
                if let Some(b) = bar(s) {
                    out.push((s, b));
                }
                s += dur;
            }
        }
        None => {
            let mut s = last;
            for _ in 0..MAX_STEPS {
                if s < first_kept || out.len() >= max {
                    break;
                }
                if let Some(b) = bar(s) {
                    out.push((s, b));
                }
                s -= dur;
            }
            out.reverse();
        }
    }
    out
}

/// `GET /prices/{epic}?resolution&max&from&to`.
pub(super) async fn prices(
    AxState(shared): AxState<Arc<Shared>>,
    Path(epic): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let pairs = query_pairs(query.as_deref());
    let resolution = query_get(&pairs, "resolution").unwrap_or("MINUTE");
    let dur = RESOLUTIONS
        .iter()
        .find(|(name, _)| *name == resolution)
        .map(|(_, d)| *d)
        .ok_or_else(|| ApiError::bad("error.invalid.resolution"))?;
    let max = match query_get(&pairs, "max") {
        None => DEFAULT_MAX,
        Some(m) => m
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|m| (1..=MAX_MAX).contains(m))
            .ok_or_else(|| ApiError::bad("error.invalid.max"))?,
    };
    let date = |name: &str| -> Result<Option<i64>, ApiError> {
        match query_get(&pairs, name) {
            None => Ok(None),
            Some(s) => parse_date(s)
                .map(|t| Some(t.timestamp()))
                .ok_or_else(|| ApiError::bad(format!("error.invalid.{name}"))),
        }
    };
    let (from, to) = (date("from")?, date("to")?);
    let st = shared.lock();
    let m = st.market(&epic).ok_or_else(|| ApiError::not_found("epic"))?;
    let now = st.now().timestamp();
    let data_start = m.path.spec().data_start;
    let bars = select(dur, max, (from, to), (now, data_start), |s| {
        m.path.bar(s, (s + dur).min(now + 1))
    });
    if bars.is_empty() {
        return Err(ApiError::new(404, "error.prices.not-found"));
    }
    let prices: Vec<Value> = bars.iter().map(|(s, b)| bar_json(m, *s, b)).collect();
    ok(json!({ "prices": prices, "instrumentType": m.spec.instrument_type }))
}
