//! Trading days: where an upstream's daily bar begins and the date TradingView files it under. FX trades
//! from Sunday 17:00 to Friday 17:00 New York, and its trading day runs 17:00 to 17:00 New York: the bar
//! of the day that begins on Sunday evening belongs to Monday and is stamped Monday 00:00 UTC, as
//! TradingView wants daily bars ("00:00 UTC of the trading day"). Markets whose days are UTC days are
//! stamped at their own midnight.

use chrono::{Datelike, NaiveDate, Weekday};

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// How a market's trading days are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayCut {
    /// 00:00 to 24:00 UTC.
    Utc,
    /// 17:00 to 17:00 America/New_York (the FX day), filed under the date on which it ends.
    NewYork17,
}

impl DayCut {
    /// 00:00 UTC of the trading date that instant `t` belongs to.
    pub fn day_of(self, t: i64) -> i64 {
        match self {
            DayCut::Utc => t.div_euclid(DAY) * DAY,
            DayCut::NewYork17 => {
                // 17:00 New York plus 7 hours is midnight of the next date there.
                let local = t + new_york_offset(t) + 7 * HOUR;
                local.div_euclid(DAY) * DAY
            }
        }
    }

    /// TradingView's `timezone` and `session-regular` for a market cut this way that trades on weekdays
    /// (FX: Sunday 17:00 to Friday 17:00 New York; an overnight session starts the day before).
    pub fn weekday_session(self) -> (&'static str, &'static str) {
        match self {
            DayCut::Utc => ("Etc/UTC", "0000-0000:23456"),
            DayCut::NewYork17 => ("America/New_York", "1700-1700:23456"),
        }
    }
}

/// New York's offset from UTC at instant `t`, in seconds: US daylight-saving rules of 2007 on, of
/// 1987 to 2006, and of 1967 to 1986 before that (years before 1967 are read with those too).
pub fn new_york_offset(t: i64) -> i64 {
    let Some(date) = chrono::DateTime::from_timestamp(t, 0).map(|d| d.date_naive()) else {
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
    // Both switches happen at 02:00 local time: 07:00 UTC in spring, 06:00 UTC in autumn.
    let at = |d: Option<NaiveDate>, hour: u32| {
        d.and_then(|d| d.and_hms_opt(hour, 0, 0))
            .map(|d| d.and_utc().timestamp())
    };
    match (at(start, 7), at(end, 6)) {
        (Some(s), Some(e)) if t >= s && t < e => -4 * HOUR,
        _ => -5 * HOUR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
    }

    #[test]
    fn new_york_switches_at_two_in_the_morning_local() {
        assert_eq!(new_york_offset(at("2026-03-08T06:59:59Z")), -5 * HOUR);
        assert_eq!(new_york_offset(at("2026-03-08T07:00:00Z")), -4 * HOUR);
        assert_eq!(new_york_offset(at("2026-11-01T05:59:59Z")), -4 * HOUR);
        assert_eq!(new_york_offset(at("2026-11-01T06:00:00Z")), -5 * HOUR);
        // 2006 still had April to October.
        assert_eq!(new_york_offset(at("2006-03-20T12:00:00Z")), -5 * HOUR);
        assert_eq!(new_york_offset(at("2006-04-03T12:00:00Z")), -4 * HOUR);
    }

    #[test]
    fn the_fx_day_begins_at_five_in_new_york_and_is_filed_under_the_next_date() {
        let cut = DayCut::NewYork17;
        // Winter: 17:00 New York is 22:00 UTC. Sunday evening belongs to Monday.
        assert_eq!(cut.day_of(at("2026-01-04T22:00:00Z")), at("2026-01-05T00:00:00Z"));
        assert_eq!(cut.day_of(at("2026-01-04T21:59:59Z")), at("2026-01-04T00:00:00Z"));
        assert_eq!(cut.day_of(at("2026-01-05T21:59:59Z")), at("2026-01-05T00:00:00Z"));
        // Summer: 21:00 UTC.
        assert_eq!(cut.day_of(at("2026-07-06T21:00:00Z")), at("2026-07-07T00:00:00Z"));
        assert_eq!(cut.day_of(at("2026-07-06T20:59:59Z")), at("2026-07-06T00:00:00Z"));
        assert_eq!(
            DayCut::Utc.day_of(at("2026-01-04T22:00:00Z")),
            at("2026-01-04T00:00:00Z")
        );
        assert_eq!(cut.weekday_session(), ("America/New_York", "1700-1700:23456"));
    }
}
