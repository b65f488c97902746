//! Which bars a history request covers: their starts and ends at every resolution, aligned as the data feed
//! promises (minutes and days on multiples of their length since the epoch, weeks on Mondays, months on the
//! 1st), found newest first so that a limit keeps the newest bars and no work is spent on the others.

use crate::tv::Resolution;

/// Seconds in a day.
pub(super) const DAY: i64 = 86_400;
/// Monday 1970-01-05 00:00 UTC: weekly bars start on Mondays.
const FIRST_MONDAY: i64 = 4 * DAY;

/// Whether every bar of `resolution` is made of whole UTC days (so it folds cached daily bars).
pub(super) fn whole_days(resolution: Resolution) -> bool {
    match resolution {
        Resolution::Minutes(n) => i64::from(n) * 60 % DAY == 0,
        Resolution::Days(_) | Resolution::Weeks(_) | Resolution::Months(_) => true,
    }
}

/// Starts of the newest `limit` bars of `resolution` that begin within `[lo, hi]`, ascending.
///
/// The work is proportional to the bars returned, whatever the range: the newest bar is found directly.
pub(super) fn starts(resolution: Resolution, lo: i64, hi: i64, limit: usize) -> Vec<i64> {
    let mut out = Vec::new();
    if lo > hi || limit == 0 {
        return out;
    }
    match resolution {
        Resolution::Months(n) => {
            let n = i64::from(n);
            let mut index = month_index(hi);
            index -= index.rem_euclid(n);
            while out.len() < limit {
                let start = month_start(index);
                if start < lo {
                    break;
                }
                if start <= hi {
                    out.push(start);
                }
                index -= n;
            }
        }
        fixed => {
            let len = bar_secs(fixed);
            let anchor = anchor(fixed);
            let mut start =
                anchor.saturating_add(hi.saturating_sub(anchor).div_euclid(len).saturating_mul(len));
            while out.len() < limit && start >= lo {
                out.push(start);
                match start.checked_sub(len) {
                    Some(earlier) => start = earlier,
                    None => break,
                }
            }
        }
    }
    out.reverse();
    out
}

/// The end (exclusive) of the bar of `resolution` starting at `start`.
pub(super) fn end(resolution: Resolution, start: i64) -> i64 {
    match resolution {
        Resolution::Months(n) => month_start(month_index(start) + i64::from(n)),
        fixed => start.saturating_add(bar_secs(fixed)),
    }
}

/// The length of a bar of a fixed-length resolution (months: their shortest, 28 days).
pub(super) fn bar_secs(resolution: Resolution) -> i64 {
    resolution.fixed_secs().unwrap_or(28 * DAY)
}

fn anchor(resolution: Resolution) -> i64 {
    if matches!(resolution, Resolution::Weeks(_)) {
        FIRST_MONDAY
    } else {
        0
    }
}

/// The month holding unix second `t`, counted as `year * 12 + month - 1` (proleptic Gregorian, UTC).
fn month_index(t: i64) -> i64 {
    let (year, month) = year_month(t.div_euclid(DAY));
    year * 12 + month - 1
}

/// 00:00 UTC on the 1st of month `index` (as [`month_index`] counts), in unix seconds.
fn month_start(index: i64) -> i64 {
    days_from_civil(index.div_euclid(12), index.rem_euclid(12) + 1) * DAY
}

/// Days since 1970-01-01 of the 1st of `month` (1..=12) of `year`. Integer arithmetic only (H. Hinnant's
/// `days_from_civil`), so no date can fail to exist whatever a clock says.
fn days_from_civil(year: i64, month: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Year and month (1..=12) of the day `days` since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn year_month(days: i64) -> (i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone, Utc};

    const MONDAY: i64 = 1_767_571_200; // 2026-01-05 00:00 UTC

    fn dates(ts: &[i64]) -> Vec<String> {
        ts.iter()
            .map(|t| Utc.timestamp_opt(*t, 0).unwrap().format("%F").to_string())
            .collect()
    }

    #[test]
    fn starts_align_to_the_resolution() {
        let r = |s: &str| Resolution::parse(s).unwrap();
        assert_eq!(
            starts(r("5"), MONDAY + 1, MONDAY + 600, 100),
            [MONDAY + 300, MONDAY + 600]
        );
        assert_eq!(
            starts(r("1"), MONDAY + 60, MONDAY + 60, 100),
            [MONDAY + 60],
            "lo == hi"
        );
        assert_eq!(
            starts(r("D"), MONDAY, MONDAY + 2 * DAY, 100),
            [MONDAY, MONDAY + DAY, MONDAY + 2 * DAY]
        );
        assert_eq!(
            starts(r("W"), MONDAY - DAY, MONDAY + 8 * DAY, 100),
            [MONDAY, MONDAY + 7 * DAY]
        );
        assert_eq!(
            dates(&starts(r("M"), MONDAY, MONDAY + 70 * DAY, 100)),
            ["2026-02-01", "2026-03-01"]
        );
        assert_eq!(
            dates(&starts(r("12M"), 0, MONDAY, 100))
                .first()
                .map(String::as_str),
            Some("1970-01-01")
        );
        assert_eq!(
            dates(&starts(r("3M"), MONDAY - 200 * DAY, MONDAY, 100)),
            ["2025-07-01", "2025-10-01", "2026-01-01"]
        );
        assert!(
            starts(r("1"), MONDAY + 1, MONDAY + 59, 100).is_empty(),
            "no minute starts inside"
        );
        assert!(starts(r("1"), MONDAY + 60, MONDAY, 100).is_empty(), "lo after hi");
    }

    #[test]
    fn a_limit_keeps_the_newest_bars_without_walking_the_range() {
        let r = |s: &str| Resolution::parse(s).unwrap();
        assert_eq!(starts(r("1"), 0, MONDAY, 3), [MONDAY - 120, MONDAY - 60, MONDAY]);
        assert_eq!(starts(r("1439"), 0, i64::MAX / 2, 2).len(), 2);
        assert_eq!(dates(&starts(r("M"), 0, MONDAY, 2)), ["2025-12-01", "2026-01-01"]);
        assert!(starts(r("D"), 0, MONDAY, 0).is_empty());
    }

    #[test]
    fn month_arithmetic_matches_the_calendar() {
        // Every month from 1970 to 2100, including leap years and centuries.
        let mut t = Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap();
        for _ in 0..(131 * 12) {
            let start = t.timestamp();
            let index = month_index(start);
            assert_eq!(index, i64::from(t.year()) * 12 + i64::from(t.month0()));
            assert_eq!(month_start(index), start);
            assert_eq!(month_index(start + 27 * DAY + 3_600), index);
            assert_eq!(month_index(start - 1), index - 1);
            let next = end(Resolution::Months(1), start + 5 * DAY);
            t = Utc.timestamp_opt(next, 0).unwrap();
            assert_eq!(t.day(), 1);
        }
        assert_eq!(t.year(), 2101);
        assert!(whole_days(Resolution::Minutes(1440)) && !whole_days(Resolution::Minutes(720)));
    }
}
