//! A contract's trading schedule as `GET /trsrv/secdef/schedule` lists it (`TradingScheduleInner`): the
//! exchange's time zone, the usual week as the template dates `20000101` (any Saturday) to `20000107`
//! (any Friday), and the calendar dates that differ within the next month (holidays, early closes).
//! Each day has its whole trading day (`tradingtimes`, IBKR's example spells it so) and, when the liquid
//! hours differ from it, a `sessions` entry with `prop: "LIQUID"`; times are `HHMM` strings in the
//! exchange's zone. A closed day is listed with one trading time `0000`-`0000` (the model says every day
//! has at least one); a day whose period closes before it opens began the evening before.

use chrono::{Datelike, Duration as Days, NaiveDate, Weekday};
use serde_json::{json, Value};

/// One day's hours: the whole trading day and the liquid (regular) hours when they differ; `None`:
/// closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeDay {
    pub trading: (String, String),
    pub liquid: Option<(String, String)>,
}

impl FakeDay {
    fn new(trading: (&str, &str), liquid: Option<(&str, &str)>) -> FakeDay {
        FakeDay {
            trading: (trading.0.to_string(), trading.1.to_string()),
            liquid: liquid.map(|(o, c)| (o.to_string(), c.to_string())),
        }
    }
}

/// What the fake's schedule endpoint says about a contract.
#[derive(Clone, Debug)]
pub struct FakeSchedule {
    /// The exchange's IANA time zone.
    pub timezone: String,
    /// Monday to Sunday (index 0 = Monday); `None`: closed.
    pub week: [Option<FakeDay>; 7],
    /// Dated days that differ from the week (`None`: closed all day).
    pub exceptions: Vec<(NaiveDate, Option<FakeDay>)>,
}

impl FakeSchedule {
    /// Open around the clock every day, in UTC (the fake's default contracts trade at all hours).
    pub fn always() -> FakeSchedule {
        let day = Some(FakeDay::new(("0000", "2400"), None));
        FakeSchedule {
            timezone: "Etc/UTC".into(),
            week: std::array::from_fn(|_| day.clone()),
            exceptions: Vec::new(),
        }
    }

    /// The usual schedule of an asset class, matching [`super::FakeContract::usual_hours`] in New York
    /// winter time: US stocks 04:00 to 20:00 with liquid hours 09:30 to 16:00 New York on weekdays (and
    /// the NYSE holidays and early closes of 2026); FX from 17:00 New York the evening before to 17:00 on
    /// weekdays; futures 17:00 Chicago the evening before to 16:00; CFDs 18:00 to 17:00 New York.
    pub fn usual(sec_type: &str) -> FakeSchedule {
        let (timezone, day) = match sec_type {
            "STK" => (
                "America/New_York",
                FakeDay::new(("0400", "2000"), Some(("0930", "1600"))),
            ),
            "CASH" => ("America/New_York", FakeDay::new(("1700", "1700"), None)),
            "FUT" => ("America/Chicago", FakeDay::new(("1700", "1600"), None)),
            _ => ("America/New_York", FakeDay::new(("1800", "1700"), None)),
        };
        let week = std::array::from_fn(|i| (i < 5).then(|| day.clone()));
        let exceptions = if sec_type == "STK" {
            let date = |m, d| NaiveDate::from_ymd_opt(2026, m, d).expect("a valid date");
            let early = FakeDay::new(("0400", "1700"), Some(("0930", "1300")));
            let mut list: Vec<(NaiveDate, Option<FakeDay>)> = [
                (1, 1),
                (1, 19),
                (2, 16),
                (4, 3),
                (5, 25),
                (6, 19),
                (7, 3),
                (9, 7),
                (11, 26),
                (12, 25),
            ]
            .into_iter()
            .map(|(m, d)| (date(m, d), None))
            .collect();
            list.push((date(11, 27), Some(early.clone())));
            list.push((date(12, 24), Some(early)));
            list
        } else {
            Vec::new()
        };
        FakeSchedule {
            timezone: timezone.into(),
            week,
            exceptions,
        }
    }

    /// The `schedules` list: the template week, then the dated days from `today` to a month on.
    pub fn days(&self, today: NaiveDate) -> Vec<Value> {
        // 20000101 is any Saturday: Saturday, Sunday, then Monday to Friday.
        let order = [
            Weekday::Sat,
            Weekday::Sun,
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ];
        let mut out: Vec<Value> = order
            .iter()
            .enumerate()
            .map(|(i, wd)| {
                let day = &self.week[wd.num_days_from_monday() as usize];
                entry(&format!("2000010{}", i + 1), day.as_ref())
            })
            .collect();
        let until = today + Days::days(31);
        for (date, day) in &self.exceptions {
            if *date >= today && *date <= until {
                let text = format!("{:04}{:02}{:02}", date.year(), date.month(), date.day());
                out.push(entry(&text, day.as_ref()));
            }
        }
        out
    }
}

/// One `schedules` entry.
fn entry(date: &str, day: Option<&FakeDay>) -> Value {
    match day {
        None => json!({
            "clearingCycleEndTime": "0000",
            "tradingScheduleDate": date,
            "sessions": [],
            "tradingtimes": [{ "openingTime": "0000", "closingTime": "0000", "cancelDayOrders": "N" }],
        }),
        Some(d) => {
            let sessions: Vec<Value> = d
                .liquid
                .iter()
                .map(|(o, c)| json!({ "openingTime": o, "closingTime": c, "prop": "LIQUID" }))
                .collect();
            let mut trading = json!({
                "openingTime": d.trading.0,
                "closingTime": d.trading.1,
                "cancelDayOrders": "Y",
            });
            // A day that is liquid throughout says so on its trading time.
            if d.liquid.is_none() {
                trading["prop"] = json!("LIQUID");
            }
            json!({
                "clearingCycleEndTime": d.trading.1,
                "tradingScheduleDate": date,
                "sessions": sessions,
                "tradingtimes": [trading],
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stock_lists_its_week_and_the_holidays_of_the_next_month() {
        let s = FakeSchedule::usual("STK");
        let days = s.days(NaiveDate::from_ymd_opt(2026, 3, 20).unwrap());
        assert_eq!(days.len(), 8, "the week and Good Friday");
        assert_eq!(days[0]["tradingScheduleDate"], "20000101");
        assert_eq!(days[0]["tradingtimes"][0]["openingTime"], "0000");
        assert_eq!(days[2]["sessions"][0]["openingTime"], "0930");
        assert_eq!(days[2]["sessions"][0]["prop"], "LIQUID");
        assert_eq!(days[2]["tradingtimes"][0]["closingTime"], "2000");
        assert_eq!(days[7]["tradingScheduleDate"], "20260403");
        // Early in March no holiday is within a month.
        assert_eq!(s.days(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()).len(), 7);
    }

    #[test]
    fn overnight_markets_open_the_evening_before() {
        let es = FakeSchedule::usual("FUT");
        assert_eq!(es.timezone, "America/Chicago");
        let days = es.days(NaiveDate::from_ymd_opt(2026, 3, 4).unwrap());
        assert_eq!(days[2]["tradingtimes"][0]["openingTime"], "1700");
        assert_eq!(days[2]["tradingtimes"][0]["closingTime"], "1600");
        assert_eq!(days[1]["tradingtimes"][0]["cancelDayOrders"], "N");
    }
}
