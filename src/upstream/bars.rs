//! TradingView's bar alignment, shared by every upstream data feed: minute and day bars start on multiples of
//! their length from the unix epoch, weeks on Mondays 00:00 UTC, months on the 1st (like the paper data feed),
//! and finer upstream bars are aggregated into them.

use crate::tv;
use chrono::{Datelike, TimeZone, Utc};

pub const MINUTE: i64 = 60;
pub const DAY: i64 = 86_400;
pub const WEEK: i64 = 7 * DAY;
/// Monday 1970-01-05 00:00 UTC: weekly bars start on Mondays.
pub const FIRST_MONDAY: i64 = 4 * DAY;

/// Start of the bar of `r` that contains second `t`; `None` for a time chrono cannot represent.
pub fn bar_start(t: i64, r: tv::Resolution) -> Option<i64> {
    // In i128 so that no bar time, however far off, can overflow.
    let aligned = |anchor: i64, len: i64| {
        let (t, anchor, len) = (i128::from(t), i128::from(anchor), i128::from(len));
        i64::try_from(anchor + (t - anchor).div_euclid(len) * len).ok()
    };
    match r {
        tv::Resolution::Minutes(n) => aligned(0, i64::from(n.max(1)) * MINUTE),
        tv::Resolution::Days(n) => aligned(0, i64::from(n.max(1)) * DAY),
        tv::Resolution::Weeks(n) => aligned(FIRST_MONDAY, i64::from(n.max(1)) * WEEK),
        tv::Resolution::Months(n) => {
            let d = Utc.timestamp_opt(t, 0).single()?;
            let mut index = i64::from(d.year()) * 12 + i64::from(d.month0());
            index -= index.rem_euclid(i64::from(n.max(1)));
            let year = i32::try_from(index.div_euclid(12)).ok()?;
            let month = u32::try_from(index.rem_euclid(12)).ok()? + 1;
            Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0)
                .single()
                .map(|s| s.timestamp())
        }
    }
}

/// The base bar length an intraday resolution of `minutes` is built from: the first (coarsest, when
/// `bases` lists them coarsest first) whose length in minutes divides it, so every bar of the resolution
/// is made of whole base bars that start where it does; `None` when none divides it.
pub fn coarsest_dividing<T: Copy>(bases: &[(T, u32)], minutes: u32) -> Option<T> {
    bases
        .iter()
        .find(|(_, len)| *len > 0 && minutes.is_multiple_of(*len))
        .map(|(base, _)| *base)
}

/// The upstream bar length resolution `r` is built from: for minutes the coarsest of `intraday` (coarsest
/// first) whose length divides it, else `minute`; days, weeks and months from `daily`, so that a week is
/// always the aggregation of the same days' bars, whatever the upstream's own weeks are.
pub fn base_of<T: Copy>(r: tv::Resolution, intraday: &[(T, u32)], minute: T, daily: T) -> T {
    match r {
        tv::Resolution::Minutes(n) => coarsest_dividing(intraday, n).unwrap_or(minute),
        tv::Resolution::Days(_) | tv::Resolution::Weeks(_) | tv::Resolution::Months(_) => daily,
    }
}

/// Groups base bars into bars of `r` starting at [`bar_start`], merged with [`tv::Bar::then`]; bars are
/// sorted first, so the input order does not matter.
pub fn aggregate(mut base: Vec<tv::Bar>, r: tv::Resolution) -> Vec<tv::Bar> {
    base.sort_by_key(|b| b.t);
    let mut out: Vec<tv::Bar> = Vec::new();
    for bar in base {
        let Some(start) = bar_start(bar.t, r) else {
            continue;
        };
        match out.last_mut() {
            Some(last) if last.t == start => *last = last.then(bar),
            _ => out.push(tv::Bar { t: start, ..bar }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_coarsest_base_that_divides_the_resolution_is_chosen() {
        let bases = [("H4", 240), ("H1", 60), ("M15", 15), ("M5", 5), ("M1", 1)];
        let picks: Vec<_> = [1, 3, 5, 10, 45, 60, 120, 240, 480, 1440]
            .iter()
            .map(|m| coarsest_dividing(&bases, *m))
            .collect();
        let want = ["M1", "M1", "M5", "M5", "M15", "H1", "H1", "H4", "H4", "H4"];
        assert_eq!(picks, want.map(Some));
        // Nothing divides 7 but the minute; without a minute base nothing does.
        assert_eq!(coarsest_dividing(&bases[..4], 7), None);
        assert_eq!(coarsest_dividing(&[("zero", 0)], 7), None);
    }

    #[test]
    fn minutes_come_from_a_dividing_base_and_longer_bars_from_days() {
        let bases = [("H1", 60), ("M5", 5)];
        let base = |r| base_of(r, &bases, "M1", "D");
        assert_eq!(base(tv::Resolution::Minutes(120)), "H1");
        assert_eq!(base(tv::Resolution::Minutes(15)), "M5");
        assert_eq!(base(tv::Resolution::Minutes(7)), "M1");
        assert_eq!(base(tv::Resolution::Minutes(1440)), "H1");
        assert_eq!(base(tv::Resolution::Days(1)), "D");
        assert_eq!(base(tv::Resolution::Weeks(2)), "D");
        assert_eq!(base(tv::Resolution::Months(1)), "D");
    }
}
