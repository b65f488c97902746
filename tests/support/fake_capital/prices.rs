//! `/prices/{epic}`: historical bars. A bar is a pure function of (epic, resolution, bar start) scaled
//! around the market's current mid price, so overlapping requests always agree; the path passes through
//! the current price at the moment the fake started, so a chart meets the live quotes there. Bars
//! start on UTC boundaries of their resolution (weekly bars on Mondays) and never lie in the future
//! (fake clock).
//!
//! Paging follows the documentation and observed upstream behaviour: `max` defaults to 10 and may not
//! exceed 1000 (`error.invalid.max`); with `from` the oldest `max` bars from there are returned,
//! otherwise the newest `max` bars up to `to` (or now); a window without bars is
//! 404 `error.prices.not-found`.

use super::state::{MarketState, Shared};
use super::wire::{fmt_s, fmt_s_local, num, ok, parse_date, query_get, query_pairs, ApiError, ApiResult};
use axum::extract::{Path, RawQuery, State as AxState};
use chrono::{DateTime, Utc};
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::Decimal;
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

/// SplitMix64: a small, stable hash (std's hasher is not guaranteed stable across releases).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// FNV-1a of a string.
fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A uniform number in [0, 1) from a seed.
fn unit(seed: u64) -> f64 {
    (mix(seed) >> 11) as f64 / (1u64 << 53) as f64
}

/// Relative deviation of the path from the anchor price at time `t` (a few percent at most): a sum of
/// waves with epic-specific phases plus minute-scale value noise. The same for every resolution, so
/// bars of different resolutions tell the same story.
fn path(epic_seed: u64, t: i64) -> f64 {
    const WAVES: [(f64, f64); 5] = [
        (3_600.0, 0.0012),
        (22_620.0, 0.0025),
        (177_800.0, 0.005),
        (784_600.0, 0.008),
        (3_196_800.0, 0.012),
    ];
    let tf = t as f64;
    let waves: f64 = WAVES
        .iter()
        .enumerate()
        .map(|(i, (period, amp))| {
            let phase = unit(epic_seed ^ (i as u64 + 1)) * std::f64::consts::TAU;
            amp * (tf / period * std::f64::consts::TAU + phase).sin()
        })
        .sum();
    let minute = t.div_euclid(60);
    let frac = t.rem_euclid(60) as f64 / 60.0;
    let noise_at = |k: i64| (unit(epic_seed ^ mix(k as u64)) - 0.5) * 0.0008;
    waves + noise_at(minute) * (1.0 - frac) + noise_at(minute + 1) * frac
}

/// One bar as (open, high, low, close) mids and the traded volume; the path is at `anchor` at time
/// `anchor_t`.
fn bar(epic_seed: u64, dur: i64, start: i64, (anchor, anchor_t): (f64, i64)) -> ([f64; 4], i64) {
    let base = path(epic_seed, anchor_t);
    let open = anchor * (1.0 + path(epic_seed, start) - base);
    let close = anchor * (1.0 + path(epic_seed, start + dur) - base);
    let seed = epic_seed ^ mix(start as u64 ^ mix(dur as u64));
    let spread = (0.0003 * (dur as f64 / 60.0).sqrt()).min(0.02);
    let high = open.max(close) * (1.0 + unit(seed ^ 1) * spread);
    let low = open.min(close) * (1.0 - unit(seed ^ 2) * spread);
    let volume = ((40.0 + unit(seed ^ 3) * 400.0) * (dur as f64 / 60.0).sqrt()) as i64;
    ([open, high, low, close], volume)
}

/// `{bid, ask}` around a mid, at the market's current spread and precision.
fn bid_ask(m: &MarketState, mid: f64) -> Value {
    let spread = m.spec.offer - m.spec.bid;
    let mid = Decimal::from_f64(mid).unwrap_or_else(|| m.mid());
    let bid = m.round(mid - spread / Decimal::TWO);
    json!({ "bid": num(bid), "ask": num(m.round(bid + spread)) })
}

/// The JSON of the bar starting at `start`.
fn bar_json(m: &MarketState, dur: i64, start: i64, anchor_t: i64) -> Value {
    let anchor = m.mid().to_f64().unwrap_or(1.0);
    let ([o, h, l, c], volume) = bar(hash_str(&m.spec.epic), dur, start, (anchor, anchor_t));
    let t = DateTime::<Utc>::from_timestamp(start, 0).unwrap_or_default();
    json!({
        "snapshotTime": fmt_s_local(t),
        "snapshotTimeUTC": fmt_s(t),
        "openPrice": bid_ask(m, o),
        "closePrice": bid_ask(m, c),
        "highPrice": bid_ask(m, h),
        "lowPrice": bid_ask(m, l),
        "lastTradedVolume": volume,
    })
}

/// The bar starts a request asks for, oldest first.
pub(super) fn select(dur: i64, max: i64, from: Option<i64>, to: Option<i64>, now: i64) -> Vec<i64> {
    let last = bar_start(to.unwrap_or(now).min(now), dur);
    match from {
        Some(f) => {
            let first = first_start_from(f, dur);
            (0..max)
                .map(|i| first + i * dur)
                .take_while(|s| *s <= last)
                .collect()
        }
        None => (0..max).rev().map(|i| last - i * dur).collect(),
    }
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
    let starts = select(dur, max, from, to, st.now().timestamp());
    if starts.is_empty() {
        return Err(ApiError::new(404, "error.prices.not-found"));
    }
    let prices: Vec<Value> = starts
        .iter()
        .map(|s| bar_json(m, dur, *s, st.bars_anchor))
        .collect();
    ok(json!({ "prices": prices, "instrumentType": m.spec.instrument_type }))
}
