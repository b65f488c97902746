//! The data-feed properties every backend must have (TradingView's data autotests and the 1.4.27 rules),
//! written once and run against the paper broker, Capital.com through its fake and OANDA through its
//! fake (`datafeed.rs` in `tests/api/`, `tests/capital/` and `tests/oanda/`), so that no backend can
//! fall behind the others. Each property is a function taking a [`Feed`].
#![allow(dead_code)]

pub mod harness;
pub mod history;
pub mod streaming;
pub mod symbols;

pub use harness::Feed;

use rust_decimal::Decimal;
use serde_json::Value;

/// One bar of a `/history` answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub t: i64,
    pub o: Decimal,
    pub h: Decimal,
    pub l: Decimal,
    pub c: Decimal,
    pub v: Decimal,
}

/// The bars of a `/history` answer.
pub fn bars(body: &Value) -> Vec<Bar> {
    let col = |k: &str| body[k].as_array().cloned().unwrap_or_default();
    let (t, o, h, l, c, v) = (col("t"), col("o"), col("h"), col("l"), col("c"), col("v"));
    (0..t.len())
        .map(|i| Bar {
            t: t[i]
                .as_i64()
                .unwrap_or_else(|| panic!("t[{i}] is not an integer")),
            o: crate::support::dec(&o[i]),
            h: crate::support::dec(&h[i]),
            l: crate::support::dec(&l[i]),
            c: crate::support::dec(&c[i]),
            v: crate::support::dec(&v[i]),
        })
        .collect()
}

pub const MINUTE: i64 = 60;
pub const DAY: i64 = 86_400;
/// 1970-01-05, a Monday.
pub const FIRST_MONDAY: i64 = 4 * DAY;
/// 1800-01-01 00:00 UTC: where TradingView's daily requests start without a registered data start.
pub const YEAR_1800: i64 = -5_364_662_400;

/// Whether `t` is where a bar of `resolution` (TradingView notation) starts.
pub fn aligned(t: i64, resolution: &str) -> bool {
    use chrono::Datelike;
    match resolution {
        "D" | "1D" => t % DAY == 0,
        "W" | "1W" => (t - FIRST_MONDAY).rem_euclid(7 * DAY) == 0,
        "M" | "1M" => t % DAY == 0 && chrono::DateTime::from_timestamp(t, 0).is_some_and(|d| d.day() == 1),
        minutes => {
            let n: i64 = minutes.parse().expect("minutes");
            t.rem_euclid(n * MINUTE) == 0
        }
    }
}

/// The start of the most recent Monday 00:00 UTC at least two days before `now`, plus `secs`.
pub fn monday_before(now: i64, secs: i64) -> i64 {
    let this_week = FIRST_MONDAY + (now - FIRST_MONDAY).div_euclid(7 * DAY) * 7 * DAY;
    let monday = if now - this_week < 2 * DAY {
        this_week - 7 * DAY
    } else {
        this_week
    };
    monday + secs
}

/// One `#[tokio::test]` running property `$module::$property` on a fresh [`Feed`] made by `$start`
/// (e.g. `Feed::paper`); with `ignore = "why"` the test is ignored for that reason.
macro_rules! property {
    ($start:path, $module:ident, $property:ident) => {
        #[tokio::test]
        async fn $property() {
            let feed = $start().await;
            $crate::suite::$module::$property(&feed).await;
        }
    };
    ($start:path, $module:ident, $property:ident, ignore = $why:literal) => {
        #[tokio::test]
        #[ignore = $why]
        async fn $property() {
            let feed = $start().await;
            $crate::suite::$module::$property(&feed).await;
        }
    };
}
pub(crate) use property;

/// Every property of the suite, each as its own test, on feeds made by `$start`.
#[allow(unused_macros)]
macro_rules! suite {
    ($start:path) => {
        $crate::suite::property!($start, symbols, symbol_info_arrays_are_parallel_and_typed);
        $crate::suite::property!($start, symbols, the_data_feed_demands_a_token);
        $crate::suite::property!($start, symbols, bad_queries_are_refused_with_a_message);
        $crate::suite::property!(
            $start,
            history,
            bars_are_ascending_aligned_and_inside_the_range
        );
        $crate::suite::property!(
            $start,
            history,
            the_same_query_gives_the_same_bars_and_split_queries_equal_one_long_one
        );
        $crate::suite::property!(
            $start,
            history,
            coarser_bars_are_the_aggregation_of_finer_ones
        );
        $crate::suite::property!($start, history, a_future_to_ends_at_the_latest_bar);
        $crate::suite::property!($start, history, a_range_in_the_future_is_ok_and_empty);
        $crate::suite::property!(
            $start,
            history,
            a_range_wholly_before_the_data_start_is_ok_and_empty
        );
        $crate::suite::property!($start, history, countback_gives_exactly_that_many_bars);
        $crate::suite::property!($start, history, daily_bars_back_to_1800_are_answered);
        $crate::suite::property!(
            $start,
            streaming,
            streaming_ticks_forward_with_heartbeats_and_bars_matching_history
        );
    };
}
#[allow(unused_imports)]
pub(crate) use suite;
