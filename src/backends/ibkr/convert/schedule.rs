//! IBKR's trading schedule (`/trsrv/secdef/schedule`) as TradingView's `timezone` and `session-regular`.
//!
//! IBKR lists the usual week as seven template days (`20000101` = any Saturday .. `20000107` = any
//! Friday), each with `HHMM` periods in the exchange's time zone, and the days that differ (holidays,
//! early closes) under their calendar dates. TradingView wants `HHMM-HHMM` periods per day number
//! (1 = Sunday .. 7 = Saturday), where a period whose start is not before its end is overnight: it began
//! the day before. IBKR's periods are passed on as they are, so an IBKR period that closes before it opens
//! is read the same way (IBKR does not document overnight days; README, Known gaps). A period opening and
//! closing at `0000` is a closed day (how IBKR fills a day with no trading, which it must list with at
//! least one trading time). Days with equal periods are grouped: `0930-1600:23456`.
//!
//! The regular session is the day's liquid hours (`sessions`) when IBKR gives them, else the whole
//! trading day; with `outside_rth` the bridge charts and trades the whole trading day, so that is the
//! session then. TradingView's Broker API has no field for holidays: the closed calendar dates are kept
//! for the log and `check-config` only.

use super::super::model::schedule::{Period, ScheduleDay, TradingSchedule};
use chrono::NaiveDate;

/// A contract's trading hours as TradingView takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradingHours {
    /// The exchange whose schedule this is.
    pub exchange: Option<String>,
    /// An IANA zone TradingView knows.
    pub timezone: String,
    /// `session-regular`.
    pub session: String,
    /// Calendar dates the schedule lists as closed, oldest first.
    pub holidays: Vec<NaiveDate>,
}

impl TradingHours {
    /// One line for people: `America/New_York 0930-1600:23456 (NASDAQ), closed 2026-04-03`.
    pub fn describe(&self) -> String {
        let mut out = format!("{} {}", self.timezone, self.session);
        if let Some(x) = &self.exchange {
            out.push_str(&format!(" ({x})"));
        }
        if !self.holidays.is_empty() {
            let days: Vec<String> = self.holidays.iter().map(ToString::to_string).collect();
            out.push_str(&format!(", closed {}", days.join(", ")));
        }
        out
    }
}

/// The time zones TradingView accepts in `/symbol_info` (its `timezone` enumeration).
const TRADINGVIEW_ZONES: [&str; 42] = [
    "America/New_York",
    "America/Los_Angeles",
    "America/Chicago",
    "America/Phoenix",
    "America/Toronto",
    "America/Vancouver",
    "America/Argentina/Buenos_Aires",
    "America/El_Salvador",
    "America/Sao_Paulo",
    "America/Bogota",
    "Europe/Moscow",
    "Europe/Athens",
    "Europe/Berlin",
    "Europe/London",
    "Europe/Madrid",
    "Europe/Paris",
    "Europe/Warsaw",
    "Australia/Sydney",
    "Australia/Brisbane",
    "Australia/Adelaide",
    "Australia/ACT",
    "Asia/Almaty",
    "Asia/Ashkhabad",
    "Asia/Tokyo",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Seoul",
    "Asia/Tehran",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Hong_Kong",
    "Asia/Bangkok",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "Pacific/Fakaofo",
    "Pacific/Honolulu",
    "America/Mexico_City",
    "Africa/Johannesburg",
    "Asia/Kathmandu",
    "US/Mountain",
    "Etc/UTC",
];

/// Other names of the same zones (IANA's links, and the POSIX-style US zones whose rules New York,
/// Chicago and Los Angeles have followed since 1967), which IBKR's other APIs use.
const ZONE_ALIASES: [(&str, &str); 14] = [
    ("US/Eastern", "America/New_York"),
    ("EST5EDT", "America/New_York"),
    ("US/Central", "America/Chicago"),
    ("CST6CDT", "America/Chicago"),
    ("US/Pacific", "America/Los_Angeles"),
    ("PST8PDT", "America/Los_Angeles"),
    ("GB", "Europe/London"),
    ("Japan", "Asia/Tokyo"),
    ("Hongkong", "Asia/Hong_Kong"),
    ("Singapore", "Asia/Singapore"),
    ("UTC", "Etc/UTC"),
    ("GMT", "Etc/UTC"),
    ("Etc/GMT", "Etc/UTC"),
    ("Etc/UCT", "Etc/UTC"),
];

/// The TradingView zone of an IBKR time zone name, `None` when TradingView has none for it.
fn tradingview_zone(zone: &str) -> Option<&'static str> {
    let name = ZONE_ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(zone))
        .map_or(zone, |(_, canonical)| *canonical);
    TRADINGVIEW_ZONES
        .iter()
        .find(|z| z.eq_ignore_ascii_case(name))
        .copied()
}

/// IBKR's `assetClass` for the schedule of a security type, `None` for the types the schedule endpoint
/// does not list (its classes: STK, OPT, FUT, CFD, WAR, SWP for forex, FND, BND, ICS).
pub fn asset_class(sec_type: &str) -> Option<&'static str> {
    Some(match sec_type {
        "STK" => "STK",
        "OPT" => "OPT",
        "FUT" => "FUT",
        "CFD" => "CFD",
        "WAR" => "WAR",
        "CASH" => "SWP",
        "FUND" => "FND",
        "BOND" => "BND",
        _ => return None,
    })
}

/// The trading hours of `listing` (the contract's exchange; the first schedule when none matches) from
/// IBKR's answer; `whole_day` takes the whole trading day rather than the liquid hours. `Err` says why
/// the answer cannot be used (the caller keeps its fallback and logs it).
pub fn trading_hours(
    answer: &[TradingSchedule],
    listing: Option<&str>,
    whole_day: bool,
) -> Result<TradingHours, String> {
    let chosen = listing
        .and_then(|x| {
            answer
                .iter()
                .find(|s| s.exchange.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(x)))
        })
        .or_else(|| answer.iter().find(|s| !s.schedules.is_empty()))
        .ok_or("IBKR listed no schedule")?;
    let zone = chosen.timezone.as_deref().map(str::trim).unwrap_or_default();
    let timezone =
        tradingview_zone(zone).ok_or_else(|| format!("time zone {zone:?} is not one TradingView knows"))?;
    let mut week: [Option<Vec<String>>; 7] = Default::default();
    let mut holidays = Vec::new();
    for day in &chosen.schedules {
        let date = day.trading_schedule_date.as_deref().unwrap_or_default();
        let periods = periods(day, whole_day)?;
        match template_day(date) {
            Some(tv_day) => week[tv_day - 1] = Some(periods),
            None => {
                let date = NaiveDate::parse_from_str(date.trim(), "%Y%m%d")
                    .map_err(|_| format!("unreadable schedule date {date:?}"))?;
                if periods.is_empty() {
                    holidays.push(date);
                }
            }
        }
    }
    if week.iter().all(Option::is_none) {
        return Err("IBKR listed no usual week".into());
    }
    holidays.sort_unstable();
    holidays.dedup();
    Ok(TradingHours {
        exchange: chosen.exchange.clone(),
        timezone: timezone.to_string(),
        session: session(&week)?,
        holidays,
    })
}

/// TradingView's day number (1 = Sunday .. 7 = Saturday) of an IBKR template date (`20000101` = any
/// Saturday .. `20000107` = any Friday); `None` for a calendar date.
fn template_day(date: &str) -> Option<usize> {
    let n: usize = date.trim().strip_prefix("2000010")?.parse().ok()?;
    match n {
        1 => Some(7),
        2..=7 => Some(n - 1),
        _ => None,
    }
}

/// The day's open periods as TradingView writes them (none: closed).
fn periods(day: &ScheduleDay, whole_day: bool) -> Result<Vec<String>, String> {
    let chosen: &[Period] = if whole_day || day.sessions.is_empty() {
        &day.trading_times
    } else {
        &day.sessions
    };
    let mut out = Vec::new();
    for p in chosen {
        let open = hhmm(p.opening_time.as_deref())?;
        let close = hhmm(p.closing_time.as_deref())?;
        if open == 0 && close == 0 {
            continue;
        }
        // 24:00 is midnight at the day's end, which TradingView writes 0000.
        let write = |m: u32| format!("{:02}{:02}", (m / 60) % 24, m % 60);
        out.push(format!("{}-{}", write(open), write(close)));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Minutes after midnight of `HHMM` (or fewer digits, as a number loses the leading zeros); 24:00 at
/// most.
fn hhmm(text: Option<&str>) -> Result<u32, String> {
    let t = text.map(str::trim).unwrap_or_default();
    let bad = || format!("unreadable schedule time {t:?}");
    if !(1..=4).contains(&t.len()) || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u32 = t.parse().map_err(|_| bad())?;
    let (h, m) = (n / 100, n % 100);
    if m >= 60 || h > 24 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// The week as one session string: days with equal periods grouped, in day order of first appearance.
fn session(week: &[Option<Vec<String>>; 7]) -> Result<String, String> {
    if week
        .iter()
        .all(|d| d.as_ref().is_some_and(|p| p == &["0000-0000"]))
    {
        return Ok("24x7".into());
    }
    let mut groups: Vec<(String, String)> = Vec::new();
    for (i, day) in week.iter().enumerate() {
        let Some(periods) = day.as_ref().filter(|p| !p.is_empty()) else {
            continue;
        };
        let text = periods.join(",");
        let number = char::from(b'1' + i as u8);
        match groups.iter_mut().find(|(t, _)| *t == text) {
            Some((_, days)) => days.push(number),
            None => groups.push((text, number.to_string())),
        }
    }
    if groups.is_empty() {
        return Err("the usual week has no open period".into());
    }
    Ok(groups
        .iter()
        .map(|(periods, days)| format!("{periods}:{days}"))
        .collect::<Vec<_>>()
        .join("|"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Vec<TradingSchedule> {
        serde_json::from_str(json).expect("a schedule")
    }

    /// A day: `(date, trading times, liquid sessions)`.
    fn day(date: &str, trading: &[(&str, &str)], liquid: &[(&str, &str)]) -> String {
        let list = |ps: &[(&str, &str)], prop: &str| {
            ps.iter()
                .map(|(o, c)| format!(r#"{{"openingTime":"{o}","closingTime":"{c}"{prop}}}"#))
                .collect::<Vec<_>>()
                .join(",")
        };
        format!(
            r#"{{"clearingCycleEndTime":"2000","tradingScheduleDate":"{date}","sessions":[{}],"tradingtimes":[{}]}}"#,
            list(liquid, r#","prop":"LIQUID""#),
            list(trading, r#","cancelDayOrders":"Y""#)
        )
    }

    fn stock() -> Vec<TradingSchedule> {
        let closed = [("0000", "0000")];
        let mut days = vec![day("20000101", &closed, &[]), day("20000102", &closed, &[])];
        for d in 3..=7 {
            days.push(day(
                &format!("2000010{d}"),
                &[("0400", "2000")],
                &[("0930", "1600")],
            ));
        }
        days.push(day("20260403", &closed, &[]));
        days.push(day("20261127", &[("0400", "1700")], &[("0930", "1300")]));
        parse(&format!(
            r#"[{{"id":"p1","tradeVenueId":"v1","exchange":"NASDAQ","timezone":"America/New_York","schedules":[{}]}}]"#,
            days.join(",")
        ))
    }

    #[test]
    fn a_stock_trades_its_liquid_hours_on_weekdays_and_lists_its_holidays() {
        let hours = trading_hours(&stock(), Some("NASDAQ"), false).unwrap();
        assert_eq!(hours.timezone, "America/New_York");
        assert_eq!(hours.session, "0930-1600:23456");
        assert_eq!(hours.holidays, [NaiveDate::from_ymd_opt(2026, 4, 3).unwrap()]);
        assert_eq!(
            hours.describe(),
            "America/New_York 0930-1600:23456 (NASDAQ), closed 2026-04-03"
        );
        // Outside regular hours the whole trading day is the session.
        let whole = trading_hours(&stock(), Some("NASDAQ"), true).unwrap();
        assert_eq!(whole.session, "0400-2000:23456");
    }

    #[test]
    fn overnight_days_pass_through_and_equal_weeks_are_grouped() {
        let closed = [("0000", "0000")];
        let mut days = vec![day("20000101", &closed, &[]), day("20000102", &closed, &[])];
        for d in 3..=7 {
            days.push(day(&format!("2000010{d}"), &[("1700", "1600")], &[]));
        }
        let answer = parse(&format!(
            r#"[{{"exchange":"CME","timezone":"America/Chicago","schedules":[{}]}}]"#,
            days.join(",")
        ));
        let hours = trading_hours(&answer, Some("CME"), false).unwrap();
        assert_eq!(
            (hours.timezone.as_str(), hours.session.as_str()),
            ("America/Chicago", "1700-1600:23456")
        );
        // The FX day runs 17:00 to 17:00 New York, Monday's beginning on Sunday evening.
        let mut days = vec![day("20000101", &closed, &[]), day("20000102", &closed, &[])];
        for d in 3..=7 {
            days.push(day(&format!("2000010{d}"), &[("1700", "1700")], &[]));
        }
        let answer = parse(&format!(
            r#"[{{"exchange":"IDEALPRO","timezone":"America/New_York","schedules":[{}]}}]"#,
            days.join(",")
        ));
        let hours = trading_hours(&answer, None, false).unwrap();
        assert_eq!(hours.session, "1700-1700:23456");
    }

    #[test]
    fn a_day_open_around_the_clock_every_day_is_24x7_and_older_shapes_are_read() {
        // Integers for times and dates, one object for the trading times (IBKR's older pages).
        let days: Vec<String> = (1..=7)
            .map(|d| {
                format!(
                    r#"{{"tradingScheduleDate":2000010{d},"tradingTimes":{{"openingTime":0,"closingTime":2400}}}}"#
                )
            })
            .collect();
        let answer = parse(&format!(
            r#"[{{"timezone":"Etc/UTC","schedules":[{}]}}]"#,
            days.join(",")
        ));
        assert_eq!(trading_hours(&answer, None, false).unwrap().session, "24x7");
    }

    #[test]
    fn unusable_answers_say_why() {
        assert_eq!(
            trading_hours(&[], None, false).unwrap_err(),
            "IBKR listed no schedule"
        );
        let zone =
            parse(r#"[{"timezone":"Europe/Zurich","schedules":[{"tradingScheduleDate":"20000103"}]}]"#);
        assert!(trading_hours(&zone, None, false)
            .unwrap_err()
            .contains("Europe/Zurich"));
        let dated_only = parse(
            r#"[{"timezone":"America/New_York","schedules":[{"tradingScheduleDate":"20260403","tradingtimes":[{"openingTime":"0000","closingTime":"0000"}]}]}]"#,
        );
        assert_eq!(
            trading_hours(&dated_only, None, false).unwrap_err(),
            "IBKR listed no usual week"
        );
        let bad_time = parse(
            r#"[{"timezone":"America/New_York","schedules":[{"tradingScheduleDate":"20000103","tradingtimes":[{"openingTime":"0960","closingTime":"1600"}]}]}]"#,
        );
        assert!(trading_hours(&bad_time, None, false)
            .unwrap_err()
            .contains("0960"));
        let closed = parse(
            r#"[{"timezone":"America/New_York","schedules":[{"tradingScheduleDate":"20000103","tradingtimes":[{"openingTime":"0000","closingTime":"0000"}]}]}]"#,
        );
        assert_eq!(
            trading_hours(&closed, None, false).unwrap_err(),
            "the usual week has no open period"
        );
        assert_eq!(asset_class("CASH"), Some("SWP"));
        assert_eq!(tradingview_zone("US/Eastern"), Some("America/New_York"));
        assert_eq!(tradingview_zone("america/chicago"), Some("America/Chicago"));
        assert_eq!(tradingview_zone("Europe/Zurich"), None);
        assert_eq!(asset_class("IND"), None);
    }
}
