//! The few time zones candle alignment supports, with their real daylight-saving rules: UTC,
//! America/New_York (US rules since 1967, 1987 and 2007), Europe/London and the Central European zones
//! (EU rules), and a few zones without DST. Enough to align candles exactly like OANDA for them.

use chrono::{
    DateTime, Datelike, Duration as TimeDelta, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday,
};

/// A supported alignment time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in super::super) enum Tz {
    Utc,
    /// America/New_York: UTC-5, UTC-4 in summer.
    NewYork,
    /// Europe/London: UTC, UTC+1 in summer.
    London,
    /// Europe/Berlin, Paris, Zurich...: UTC+1, UTC+2 in summer.
    CentralEurope,
    /// A zone without DST, offset in hours.
    Fixed(i32),
}

impl Tz {
    /// An IANA name, if supported.
    pub fn parse(name: &str) -> Option<Tz> {
        Some(match name {
            "UTC" | "Etc/UTC" | "GMT" | "Etc/GMT" | "Universal" | "Zulu" => Tz::Utc,
            "America/New_York" | "US/Eastern" | "EST5EDT" => Tz::NewYork,
            "Europe/London" | "GB" => Tz::London,
            "Europe/Berlin" | "Europe/Paris" | "Europe/Zurich" | "Europe/Madrid" | "Europe/Rome"
            | "Europe/Amsterdam" | "Europe/Brussels" | "Europe/Vienna" | "CET" => Tz::CentralEurope,
            "Asia/Tokyo" | "Japan" => Tz::Fixed(9),
            "Asia/Singapore" | "Asia/Hong_Kong" | "Asia/Shanghai" => Tz::Fixed(8),
            _ => return None,
        })
    }

    /// Standard and summer offsets, in seconds east of UTC.
    fn offsets(self) -> (i64, i64) {
        match self {
            Tz::Utc => (0, 0),
            Tz::NewYork => (-5 * 3600, -4 * 3600),
            Tz::London => (0, 3600),
            Tz::CentralEurope => (3600, 7200),
            Tz::Fixed(h) => (i64::from(h) * 3600, i64::from(h) * 3600),
        }
    }

    /// The summer-time interval of `year`, in UTC (None: no DST).
    fn summer(self, year: i32) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let at = |d: Option<NaiveDate>, hour: u32| {
            d.and_then(|d| d.and_hms_opt(hour, 0, 0))
                .map(|n| Utc.from_utc_datetime(&n))
        };
        let (start, end) = match self {
            // The switch happens at 02:00 local time both ways.
            Tz::NewYork if year >= 2007 => (at(nth_weekday(year, 3, 2), 7), at(nth_weekday(year, 11, 1), 6)),
            Tz::NewYork if year >= 1987 => (at(nth_weekday(year, 4, 1), 7), at(last_sunday(year, 10), 6)),
            Tz::NewYork => (at(last_sunday(year, 4), 7), at(last_sunday(year, 10), 6)),
            // EU: 01:00 UTC both ways.
            Tz::London | Tz::CentralEurope => (at(last_sunday(year, 3), 1), at(last_sunday(year, 10), 1)),
            _ => return None,
        };
        Some((start?, end?))
    }

    /// Offset from UTC at an instant, in seconds.
    pub fn offset(self, utc: DateTime<Utc>) -> i64 {
        let (std, dst) = self.offsets();
        match self.summer(utc.year()) {
            Some((start, end)) if utc >= start && utc < end => dst,
            _ => std,
        }
    }

    /// Local wall-clock time of an instant.
    pub fn to_local(self, utc: DateTime<Utc>) -> NaiveDateTime {
        utc.naive_utc() + TimeDelta::seconds(self.offset(utc))
    }

    /// The instant of a local wall-clock time. An ambiguous time (the repeated hour) is its first
    /// occurrence; a skipped time is read with the standard offset (it lands after the jump).
    pub fn to_utc(self, local: NaiveDateTime) -> DateTime<Utc> {
        let (std, dst) = self.offsets();
        let as_std = Utc.from_utc_datetime(&(local - TimeDelta::seconds(std)));
        let as_dst = Utc.from_utc_datetime(&(local - TimeDelta::seconds(dst)));
        let std_ok = self.offset(as_std) == std;
        let dst_ok = self.offset(as_dst) == dst;
        match (std_ok, dst_ok) {
            (true, true) => as_std.min(as_dst),
            (false, true) => as_dst,
            _ => as_std,
        }
    }

    /// The instant of `hour:00` local time on `date`.
    pub fn at_hour(self, date: NaiveDate, hour: u32) -> DateTime<Utc> {
        let time = NaiveTime::from_hms_opt(hour.min(23), 0, 0).unwrap_or_default();
        self.to_utc(date.and_time(time))
    }
}

/// The `n`th Sunday of a month.
fn nth_weekday(year: i32, month: u32, n: u32) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Sun, n as u8)
}

/// The last Sunday of a month.
fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Sun, 5)
        .or_else(|| NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Sun, 4))
}
