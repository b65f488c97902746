//! When a fake market trades: always, the FX week (Sunday 17:00 to Friday 17:00 New York, with the real
//! US daylight-saving rules), or a weekly UTC schedule (Capital.com lists opening hours in UTC). Every
//! boundary falls on a whole minute, so an open minute has all of its sixty one-second ticks.

use chrono::{Datelike, Duration as TimeDelta, NaiveDate, Weekday};

const MINUTE: i64 = 60;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;
/// Monday 1970-01-05 00:00 UTC: weekly schedules count from a Monday.
const FIRST_MONDAY: i64 = 4 * DAY;

/// A market's trading hours.
#[derive(Clone, Debug, PartialEq)]
pub enum Hours {
    /// Never closes (crypto).
    Always,
    /// Sunday 17:00 to Friday 17:00 America/New_York, as OANDA and the FX market trade.
    FxWeek,
    /// Open ranges of the week in UTC: `(start, end)` seconds from Monday 00:00, `start < end <= WEEK`,
    /// each on a whole minute (see [`Hours::weekly`]).
    Weekly(Vec<(i64, i64)>),
}

impl Hours {
    /// A weekly UTC schedule from `(weekday, from "HH:MM", to "HH:MM")` ranges; a `to` of `00:00` is the
    /// end of that day. Unreadable ranges are skipped.
    pub fn weekly(ranges: &[(Weekday, &str, &str)]) -> Hours {
        let hhmm = |s: &str| -> Option<i64> {
            let (h, m) = s.split_once(':')?;
            let (h, m): (i64, i64) = (h.trim().parse().ok()?, m.trim().parse().ok()?);
            ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * HOUR + m * MINUTE)
        };
        let mut out: Vec<(i64, i64)> = ranges
            .iter()
            .filter_map(|(day, from, to)| {
                let base = i64::from(day.num_days_from_monday()) * DAY;
                let (from, to) = (hhmm(from)?, hhmm(to)?);
                let to = if to == 0 { DAY } else { to };
                (from < to).then_some((base + from, base + to))
            })
            .collect();
        out.sort_unstable();
        Hours::Weekly(out)
    }

    /// The open parts of `[from, to)`, oldest first, disjoint.
    pub fn open_intervals(&self, from: i64, to: i64) -> Vec<(i64, i64)> {
        if from >= to {
            return Vec::new();
        }
        match self {
            Hours::Always => vec![(from, to)],
            Hours::FxWeek => {
                let mut out = Vec::new();
                let mut cursor = from;
                for (c0, c1) in fx_closures(from, to) {
                    if c0 > cursor {
                        out.push((cursor, c0.min(to)));
                    }
                    cursor = cursor.max(c1);
                }
                if cursor < to {
                    out.push((cursor, to));
                }
                out
            }
            Hours::Weekly(ranges) => {
                let mut out = Vec::new();
                let week0 = FIRST_MONDAY + (from - FIRST_MONDAY).div_euclid(WEEK) * WEEK;
                let mut week = week0;
                while week < to {
                    for (a, b) in ranges {
                        let (a, b) = ((week + a).max(from), (week + b).min(to));
                        if a < b {
                            match out.last_mut() {
                                Some((_, end)) if *end == a => *end = b,
                                _ => out.push((a, b)),
                            }
                        }
                    }
                    week += WEEK;
                }
                out
            }
        }
    }

    /// Whether second `t` is open.
    pub fn is_open(&self, t: i64) -> bool {
        !self.open_intervals(t, t + 1).is_empty()
    }
}

/// The FX weekend closures `[Friday 17:00, Sunday 17:00)` New York that overlap `[from, to)`.
fn fx_closures(from: i64, to: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    // The Friday on or before `from` minus a week covers a closure that began before `from`.
    let Some(start) = date_of(from - WEEK) else {
        return out;
    };
    let back = (start.weekday().num_days_from_monday() + 7 - Weekday::Fri.num_days_from_monday()) % 7;
    let mut friday = start - TimeDelta::days(i64::from(back));
    loop {
        let c0 = new_york(friday, 17);
        if c0 >= to {
            break;
        }
        let c1 = new_york(friday + TimeDelta::days(2), 17);
        if c1 > from {
            out.push((c0, c1));
        }
        friday += TimeDelta::days(7);
    }
    out
}

fn date_of(t: i64) -> Option<NaiveDate> {
    chrono::DateTime::from_timestamp(t, 0).map(|d| d.date_naive())
}

/// The UTC instant of `hour:00` New York time on `date` (hours away from the 02:00 switch are never
/// ambiguous).
pub fn new_york(date: NaiveDate, hour: u32) -> i64 {
    let local = date
        .and_hms_opt(hour.min(23), 0, 0)
        .map_or(0, |d| d.and_utc().timestamp());
    let standard = local + 5 * HOUR;
    if new_york_offset(standard) == -4 * HOUR {
        local + 4 * HOUR
    } else {
        standard
    }
}

/// New York's offset from UTC at instant `t`, in seconds. Each US rule is read as "the first Sunday on or
/// after" a date (2007 on: March 8 to November 1; 1987 to 2006: April 1 to October 25; before: April 24 to
/// October 25): another reading of the rules than the bridge's, so that the two check each other.
pub fn new_york_offset(t: i64) -> i64 {
    let Some(year) = date_of(t).map(|d| d.year()) else {
        return -5 * HOUR;
    };
    let (spring, autumn) = match year {
        2007.. => ((3, 8), (11, 1)),
        1987..=2006 => ((4, 1), (10, 25)),
        _ => ((4, 24), (10, 25)),
    };
    // Clocks change at 02:00 local time: 07:00 UTC in spring (from standard time), 06:00 UTC in autumn.
    let start = sunday_on_or_after(year, spring).map(|s| s + 7 * HOUR);
    let end = sunday_on_or_after(year, autumn).map(|s| s + 6 * HOUR);
    match (start, end) {
        (Some(start), Some(end)) if (start..end).contains(&t) => -4 * HOUR,
        _ => -5 * HOUR,
    }
}

/// Midnight UTC (unix seconds) of the first Sunday on or after `(month, day)` of `year`.
fn sunday_on_or_after(year: i32, (month, day): (u32, u32)) -> Option<i64> {
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let ahead = (7 - date.weekday().num_days_from_sunday()) % 7;
    let midnight = date.and_hms_opt(0, 0, 0)?.and_utc().timestamp();
    Some(midnight + i64::from(ahead) * DAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, m: u32, d: u32, h: u32) -> i64 {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(h, 0, 0))
            .expect("valid date")
            .and_utc()
            .timestamp()
    }

    /// The switches of each US rule, one second either side (dates from the published US calendars).
    #[test]
    fn new_york_switches_under_each_rule() {
        for (spring, autumn) in [
            (utc(2024, 3, 10, 7), utc(2024, 11, 3, 6)),
            (utc(2007, 3, 11, 7), utc(2007, 11, 4, 6)),
            (utc(2006, 4, 2, 7), utc(2006, 10, 29, 6)),
            (utc(1987, 4, 5, 7), utc(1987, 10, 25, 6)),
            (utc(1986, 4, 27, 7), utc(1986, 10, 26, 6)),
        ] {
            assert_eq!(new_york_offset(spring - 1), -5 * HOUR, "before spring {spring}");
            assert_eq!(new_york_offset(spring), -4 * HOUR, "at spring {spring}");
            assert_eq!(new_york_offset(autumn - 1), -4 * HOUR, "before autumn {autumn}");
            assert_eq!(new_york_offset(autumn), -5 * HOUR, "at autumn {autumn}");
        }
    }

    #[test]
    fn new_york_hours_are_utc_instants() {
        let july = NaiveDate::from_ymd_opt(2024, 7, 1).expect("valid date");
        let january = NaiveDate::from_ymd_opt(2024, 1, 2).expect("valid date");
        assert_eq!(new_york(july, 17), utc(2024, 7, 1, 21));
        assert_eq!(new_york(january, 17), utc(2024, 1, 2, 22));
    }
}
