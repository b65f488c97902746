//! Capital.com price bars as TradingView bars: which upstream resolution serves a TradingView one, the
//! bars themselves, their aggregation (aligned like the paper data feed: minutes and days from the unix
//! epoch, weeks from Monday 00:00 UTC, months from the 1st) and the request windows that fetch them.

use super::model::{PriceBar, Resolution};
use super::unix_secs;
use crate::tv;
use rust_decimal::Decimal;

pub use crate::upstream::bars::{aggregate, bar_start};
use crate::upstream::bars::{DAY, FIRST_MONDAY, MINUTE, WEEK};

/// Most windows [`windows`] returns; past that the oldest part of the range is dropped (the upstream keeps
/// far less history than that many requests would reach, and bad input must not exhaust memory).
pub const MAX_WINDOWS: usize = 10_000;

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
/// MINUTE_15, 120 from HOUR, 1440 from HOUR_4. Days and months from DAY, weeks from WEEK.
pub fn upstream_resolution(r: tv::Resolution) -> Resolution {
    match r {
        tv::Resolution::Minutes(n) => INTRADAY
            .iter()
            .find(|(_, len)| n % len == 0)
            .map_or(Resolution::Minute, |(res, _)| *res),
        tv::Resolution::Days(_) | tv::Resolution::Months(_) => Resolution::Day,
        tv::Resolution::Weeks(_) => Resolution::Week,
    }
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

/// Request windows for `[from, to]` at `res`, oldest first: each starts on a bar start (the first one at
/// or after `from`), holds at most `max_bars` bar starts and ends one second before the next window, the
/// last one at `to`. Empty when no bar starts in the range. Weekly bars start on Mondays, the others on
/// multiples of their length from the epoch. At most [`MAX_WINDOWS`] windows, the newest ones.
pub fn windows(res: Resolution, from: i64, to: i64, max_bars: i64) -> Vec<(i64, i64)> {
    // In i128: no `from`, `to` or `max_bars`, however absurd, can overflow.
    let (from, to) = (i128::from(from), i128::from(to));
    let len = i128::from(resolution_secs(res));
    let anchor = if res == Resolution::Week {
        i128::from(FIRST_MONDAY)
    } else {
        0
    };
    let span = len * i128::from(max_bars.max(1));
    // First bar start at or after `from`.
    let mut first = anchor + (from - anchor).div_euclid(len) * len;
    if first < from {
        first += len;
    }
    if first > to {
        return Vec::new();
    }
    // Keep the newest windows when the range is too long for MAX_WINDOWS.
    let count = (to - first) / span + 1;
    let skip = (count - MAX_WINDOWS as i128).max(0);
    let mut start = first + skip * span;
    let mut out = Vec::new();
    while start <= to {
        let end = (start + span - 1).min(to);
        // Both bounds lie within [from, to], so they always fit in i64.
        if let (Ok(a), Ok(b)) = (i64::try_from(start), i64::try_from(end)) {
            out.push((a, b));
        }
        start += span;
    }
    out
}
