//! Capital.com price bars as TradingView bars: which upstream resolution serves a TradingView one, the
//! bars themselves and their aggregation (aligned like the paper data feed: minutes and days from the
//! unix epoch, weeks from Monday 00:00 UTC, months from the 1st).

use super::model::{PriceBar, Resolution};
use super::unix_secs;
use crate::tv;
use rust_decimal::Decimal;

pub use crate::upstream::bars::{aggregate, bar_start};
use crate::upstream::bars::{base_of, DAY, MINUTE, WEEK};

/// Intraday upstream resolutions, coarsest first, with their length in minutes.
const INTRADAY: [(Resolution, u32); 6] = [
    (Resolution::Hour4, 240),
    (Resolution::Hour, 60),
    (Resolution::Minute30, 30),
    (Resolution::Minute15, 15),
    (Resolution::Minute5, 5),
    (Resolution::Minute, 1),
];

/// The upstream resolution a TradingView resolution is built from: for minutes the coarsest one whose
/// length divides it (all of them start on multiples of their length from the epoch, as TradingView's
/// minute bars do): 1, 5, 15, 30, 60, 240 directly, 2 and 3 from MINUTE, 10 from MINUTE_5, 45 from
/// MINUTE_15, 120 from HOUR, 1440 from HOUR_4. Days, weeks and months from DAY, so that a week is always
/// the aggregation of the same days' bars (Capital.com's own WEEK bars need not be, nor start on Monday).
pub fn upstream_resolution(r: tv::Resolution) -> Resolution {
    base_of(r, &INTRADAY, Resolution::Minute, Resolution::Day)
}

/// Length in seconds of an upstream bar; `Unknown` counts as a minute (the finest, so windows built on it
/// stay small).
pub fn resolution_secs(r: Resolution) -> i64 {
    match r {
        Resolution::Minute | Resolution::Unknown => MINUTE,
        Resolution::Minute5 => 5 * MINUTE,
        Resolution::Minute15 => 15 * MINUTE,
        Resolution::Minute30 => 30 * MINUTE,
        Resolution::Hour => 60 * MINUTE,
        Resolution::Hour4 => 240 * MINUTE,
        Resolution::Day => DAY,
        Resolution::Week => WEEK,
    }
}

/// Upstream bars as TradingView bars: bid prices (the ask prices when a bid is missing; bars with neither
/// complete are skipped), volume = `lastTradedVolume` (0 when absent), `t` = `snapshotTimeUTC` in unix
/// seconds (unreadable ones skipped); sorted by time, a repeated time keeping the last bar sent.
pub fn bars(prices: &[PriceBar]) -> Vec<tv::Bar> {
    let mut out: Vec<tv::Bar> = prices
        .iter()
        .filter_map(|p| {
            let t = unix_secs(&p.snapshot_time_utc)?;
            let side = |pick: fn(&super::model::BidAsk) -> Option<Decimal>| {
                Some((
                    pick(&p.open_price)?,
                    pick(&p.high_price)?,
                    pick(&p.low_price)?,
                    pick(&p.close_price)?,
                ))
            };
            let (open, high, low, close) = side(|q| q.bid).or_else(|| side(|q| q.ask))?;
            Some(tv::Bar {
                t,
                open,
                high,
                low,
                close,
                volume: p.last_traded_volume.unwrap_or_default(),
            })
        })
        .collect();
    // A stable sort keeps equal times in input order, so the last one sent is the one kept.
    out.sort_by_key(|b| b.t);
    let mut unique: Vec<tv::Bar> = Vec::with_capacity(out.len());
    for bar in out {
        match unique.last_mut() {
            Some(last) if last.t == bar.t => *last = bar,
            _ => unique.push(bar),
        }
    }
    unique
}
