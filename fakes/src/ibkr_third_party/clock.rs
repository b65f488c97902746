//! The fake clock (real time shifted, possibly frozen, by tests) and IBKR's nightly refresh time: accounts
//! authorised before 16:55 US/Eastern become available after that evening's refresh, after 16:55 the
//! next one.

use crate::price_path::new_york_offset;
use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use std::time::{Duration, Instant};

/// Real time shifted and possibly frozen.
pub(super) struct Clock {
    base: DateTime<Utc>,
    real: Instant,
    frozen: bool,
}

impl Clock {
    pub fn new(start: DateTime<Utc>, frozen: bool) -> Clock {
        Clock {
            base: start,
            real: Instant::now(),
            frozen,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        if self.frozen {
            return self.base;
        }
        self.base + TimeDelta::from_std(self.real.elapsed()).unwrap_or_default()
    }

    pub fn advance(&mut self, by: Duration) {
        self.base += TimeDelta::from_std(by).unwrap_or_default();
    }

    pub fn set(&mut self, at: DateTime<Utc>) {
        self.base = at;
        self.real = Instant::now();
    }

    pub fn freeze(&mut self) {
        self.base = self.now();
        self.frozen = true;
    }
}

/// The first nightly refresh (16:55 US/Eastern) strictly after `t`.
pub fn next_refresh(t: DateTime<Utc>) -> DateTime<Utc> {
    let at = NaiveTime::from_hms_opt(16, 55, 0).unwrap_or_default();
    let mut day = (t + TimeDelta::seconds(new_york_offset(t.timestamp()))).date_naive();
    // That New York day's refresh, or the next day's: two tries always suffice.
    for _ in 0..3 {
        let local = day.and_time(at).and_utc().timestamp();
        // The offset at the refresh itself (DST may differ from `t`'s): local - offset(utc guess).
        let guess = local + 5 * 3600;
        let utc = local - new_york_offset(guess);
        if let Some(when) = DateTime::from_timestamp(utc, 0) {
            if when > t {
                return when;
            }
        }
        day = day.succ_opt().unwrap_or(day);
    }
    t + TimeDelta::days(1)
}

/// `YYYYMMDD-HH:MM:SS` (FIX UTCTimestamp).
pub fn fix_time(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d-%H:%M:%S").to_string()
}

/// Reads a FIX UTCTimestamp `YYYYMMDD-HH:MM:SS`.
pub fn parse_fix_time(s: &str) -> Option<DateTime<Utc>> {
    chrono::NaiveDateTime::parse_from_str(s, "%Y%m%d-%H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
}

/// The US/Eastern calendar date of `t` (IBKR's trading day for "today").
pub fn eastern_date(t: DateTime<Utc>) -> chrono::NaiveDate {
    (t + TimeDelta::seconds(new_york_offset(t.timestamp()))).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_refresh_is_16_55_new_york_that_day_or_the_next() {
        // December: EST (UTC-5), 16:55 = 21:55 UTC.
        assert_eq!(
            next_refresh(at("2026-12-07T15:00:00Z")),
            at("2026-12-07T21:55:00Z")
        );
        assert_eq!(
            next_refresh(at("2026-12-07T21:55:00Z")),
            at("2026-12-08T21:55:00Z")
        );
        assert_eq!(
            next_refresh(at("2026-12-07T23:00:00Z")),
            at("2026-12-08T21:55:00Z")
        );
        // July: EDT (UTC-4), 16:55 = 20:55 UTC; 02:00 UTC is still the previous evening in New York.
        assert_eq!(
            next_refresh(at("2026-07-08T02:00:00Z")),
            at("2026-07-08T20:55:00Z")
        );
    }

    #[test]
    fn fix_times_round_trip() {
        let t = at("2026-12-07T15:04:05Z");
        assert_eq!(fix_time(t), "20261207-15:04:05");
        assert_eq!(parse_fix_time("20261207-15:04:05"), Some(t));
        assert_eq!(parse_fix_time("2026-12-07"), None);
    }
}
