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

/// New York's offset from UTC at instant `t`, in seconds (US rules: 2007 on, 1987 to 2006, before).
pub fn new_york_offset(t: i64) -> i64 {
    let Some(date) = date_of(t) else {
        return -5 * HOUR;
    };
    let year = date.year();
    let sunday = |month: u32, n: u8| NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Sun, n);
    let last_sunday = |month: u32| sunday(month, 5).or_else(|| sunday(month, 4));
    let (start, end) = if year >= 2007 {
        (sunday(3, 2), sunday(11, 1))
    } else if year >= 1987 {
        (sunday(4, 1), last_sunday(10))
    } else {
        (last_sunday(4), last_sunday(10))
    };
    // The switches happen at 02:00 local: 07:00 UTC in spring, 06:00 UTC in autumn.
    let at = |d: Option<NaiveDate>, h: u32| {
        d.and_then(|d| d.and_hms_opt(h, 0, 0))
            .map(|d| d.and_utc().timestamp())
    };
    match (at(start, 7), at(end, 6)) {
        (Some(s), Some(e)) if t >= s && t < e => -4 * HOUR,
        _ => -5 * HOUR,
    }
}
