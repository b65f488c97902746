//! `GET /trsrv/secdef/schedule?assetClass=..&symbol=..&exchange=..`: a contract's trading schedule for up
//! to a month, one entry per exchange (`TradingScheduleInner`), each with its time zone and a list of days.
//! A day's `tradingScheduleDate` is `20000101` (any Saturday) to `20000107` (any Friday) for the usual
//! week, or a calendar date for a day that differs (a holiday, an early close). Its `tradingTimes` are the
//! whole trading day; its `sessions` the liquid (regular) hours when they differ from it. IBKR's reference
//! types the times as strings (`"0930"`) and older pages as integers; its example spells the key
//! `tradingtimes`, its models `tradingTimes`; and `sessions`/`tradingTimes` are arrays there but objects in
//! the older pages. All of these are read.

use serde::{Deserialize, Deserializer};

/// One exchange's schedule for the contract.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TradingSchedule {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub trade_venue_id: Option<String>,
    /// The short exchange name.
    #[serde(default)]
    pub exchange: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// The time zone of every date and time below (IANA, e.g. `America/New_York`).
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub schedules: Vec<ScheduleDay>,
}

/// One day of a schedule.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleDay {
    /// `HHMM`, the end of the clearing cycle.
    #[serde(default, deserialize_with = "text")]
    pub clearing_cycle_end_time: Option<String>,
    /// `YYYYMMDD`; `20000101`..`20000107` stand for any Saturday..Friday.
    #[serde(default, deserialize_with = "text")]
    pub trading_schedule_date: Option<String>,
    /// The liquid (regular) hours, when they differ from the whole trading day.
    #[serde(default, deserialize_with = "one_or_many")]
    pub sessions: Vec<Period>,
    /// The whole trading day.
    #[serde(default, alias = "tradingtimes", deserialize_with = "one_or_many")]
    pub trading_times: Vec<Period>,
}

/// An opening and a closing time (`HHMM`, in the schedule's time zone).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Period {
    #[serde(default, deserialize_with = "text")]
    pub opening_time: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub closing_time: Option<String>,
    /// `LIQUID` when the period is regular trading hours.
    #[serde(default)]
    pub prop: Option<String>,
    #[serde(default)]
    pub cancel_day_orders: Option<String>,
}

/// A string, or a number written as IBKR's older pages type it (`930` for `"0930"` is padded by the
/// reader of times, not here).
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(serde_json::Value::Null) | None => None,
        Some(other) => {
            return Err(serde::de::Error::custom(format!(
                "expected a string or a number, got {other}"
            )))
        }
    })
}

/// An array of periods, or the single object IBKR's older pages show.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Period>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Many(Vec<Period>),
        One(Period),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        Some(Raw::Many(v)) => v,
        Some(Raw::One(p)) => vec![p],
        None => Vec::new(),
    })
}
