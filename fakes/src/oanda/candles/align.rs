//! Candle granularities and OANDA's alignment rules: S5..M1 on the top of the minute, M2..H1 on the
//! top of the hour, H2..D from the daily alignment hour in the alignment time zone, W on the weekly
//! alignment day at that hour, M on the first of the month at that hour. Also the weekend closure
//! (Friday 17:00 to Sunday 17:00 New York), which has no candles.

use super::tz::Tz;
use chrono::{DateTime, Datelike, Duration as TimeDelta, NaiveDate, TimeZone, Timelike, Utc, Weekday};

/// A granularity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in super::super) enum Gran {
    /// A fixed number of seconds dividing an hour (S5..H1), aligned on UTC.
    Secs(i64),
    /// Hours dividing a day (H2..H12; D = 24), counted from the daily alignment.
    Hours(u32),
    Week,
    Month,
}

impl Gran {
    /// A granularity name; `M3` exists in v1 only.
    pub fn parse(name: &str, v1: bool) -> Option<Gran> {
        Some(match name {
            "S5" => Gran::Secs(5),
            "S10" => Gran::Secs(10),
            "S15" => Gran::Secs(15),
            "S30" => Gran::Secs(30),
            "M1" => Gran::Secs(60),
            "M2" => Gran::Secs(120),
            "M3" if v1 => Gran::Secs(180),
            "M4" => Gran::Secs(240),
            "M5" => Gran::Secs(300),
            "M10" => Gran::Secs(600),
            "M15" => Gran::Secs(900),
            "M30" => Gran::Secs(1800),
            "H1" => Gran::Secs(3600),
            "H2" => Gran::Hours(2),
            "H3" => Gran::Hours(3),
            "H4" => Gran::Hours(4),
            "H6" => Gran::Hours(6),
            "H8" => Gran::Hours(8),
            "H12" => Gran::Hours(12),
            "D" => Gran::Hours(24),
            "W" => Gran::Week,
            "M" => Gran::Month,
            _ => return None,
        })
    }
}

/// The alignment parameters of a candle request.
#[derive(Clone, Copy, Debug)]
pub(in super::super) struct Align {
    pub gran: Gran,
    /// `dailyAlignment`, 0..=23.
    pub daily: u32,
    pub tz: Tz,
    /// `weeklyAlignment`.
    pub weekly: Weekday,
}

impl Align {
    /// The start of the candle containing `t`.
    pub fn floor(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        match self.gran {
            Gran::Secs(s) => {
                let secs = t.timestamp();
                utc(secs - secs.rem_euclid(s))
            }
            Gran::Hours(h) => {
                let local = self.tz.to_local(t);
                let mut day = local.date();
                if local.hour() < self.daily {
                    day = day.pred_opt().unwrap_or(day);
                }
                // The day's boundaries, newest first; the previous day's last one as a fallback.
                for d in [day, day.pred_opt().unwrap_or(day)] {
                    if let Some(b) = self.day_bounds(d, h).into_iter().rev().find(|b| *b <= t) {
                        return b;
                    }
                }
                t
            }
            Gran::Week => {
                let local = self.tz.to_local(t);
                let mut day = local.date();
                for _ in 0..8 {
                    let start = self.tz.at_hour(day, self.daily);
                    if day.weekday() == self.weekly && start <= t {
                        return start;
                    }
                    day = day.pred_opt().unwrap_or(day);
                }
                t
            }
            Gran::Month => {
                let local = self.tz.to_local(t);
                let first = first_of_month(local.year(), local.month());
                let start = self.tz.at_hour(first, self.daily);
                if start <= t {
                    start
                } else {
                    let prev = first.pred_opt().unwrap_or(first);
                    self.tz
                        .at_hour(first_of_month(prev.year(), prev.month()), self.daily)
                }
            }
        }
    }

    /// The start of the candle after the one starting at `start`.
    pub fn next(&self, start: DateTime<Utc>) -> DateTime<Utc> {
        match self.gran {
            Gran::Secs(s) => start + TimeDelta::seconds(s),
            Gran::Hours(h) => {
                let local = self.tz.to_local(start);
                let mut day = local.date();
                if local.hour() < self.daily {
                    day = day.pred_opt().unwrap_or(day);
                }
                for d in [day, day.succ_opt().unwrap_or(day), day + TimeDelta::days(2)] {
                    if let Some(b) = self.day_bounds(d, h).into_iter().find(|b| *b > start) {
                        return b;
                    }
                }
                start + TimeDelta::hours(i64::from(h))
            }
            Gran::Week => {
                let day = self.tz.to_local(start).date() + TimeDelta::days(7);
                self.tz.at_hour(day, self.daily)
            }
            Gran::Month => {
                let local = self.tz.to_local(start).date() + TimeDelta::days(1);
                let (y, m) = if local.month() == 12 {
                    (local.year() + 1, 1)
                } else {
                    (local.year(), local.month() + 1)
                };
                self.tz.at_hour(first_of_month(y, m), self.daily)
            }
        }
    }

    /// The start of the candle before the one starting at `start`.
    pub fn prev(&self, start: DateTime<Utc>) -> DateTime<Utc> {
        self.floor(start - TimeDelta::seconds(1))
    }

    /// The candle boundaries of trading day `day` (starting at the alignment hour), oldest first.
    fn day_bounds(&self, day: NaiveDate, hours: u32) -> Vec<DateTime<Utc>> {
        let Some(base) = day.and_hms_opt(self.daily.min(23), 0, 0) else {
            return Vec::new();
        };
        let mut out: Vec<DateTime<Utc>> = (0..24 / hours.max(1))
            .map(|k| self.tz.to_utc(base + TimeDelta::hours(i64::from(k * hours))))
            .collect();
        // A boundary in the skipped DST hour can land on the next one: keep them distinct.
        out.dedup();
        out
    }
}

/// The weekend closure window containing `t`, if the market is closed then.
pub(in super::super) fn closed_window(t: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let ny = Tz::NewYork;
    let local = ny.to_local(t).date();
    let back = (local.weekday().num_days_from_monday() + 7 - Weekday::Fri.num_days_from_monday()) % 7;
    let friday = local - TimeDelta::days(i64::from(back));
    let start = ny.at_hour(friday, 17);
    let end = ny.at_hour(friday + TimeDelta::days(2), 17);
    (t >= start && t < end).then_some((start, end))
}

/// Whether the candle `[start, end)` lies entirely inside a weekend closure.
pub(in super::super) fn in_gap(start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    closed_window(start).is_some_and(|(_, close_end)| end <= close_end)
}

fn first_of_month(year: i32, month: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default()
}

fn utc(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}
