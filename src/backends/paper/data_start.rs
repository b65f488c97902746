//! `[backend] data_start` of the paper broker: the day its history begins, as a date or as a number of days
//! before today.
//!
//! The paper market is a pure function of time, so it could price any second since 1970; but TradingView asks
//! for daily bars back to the year 1800 when it knows no data start, and every day of history costs CPU the
//! first time it is asked (about 75 µs per symbol and day in a release build). A data start bounds that work
//! and the day-bar cache: bars starting before it do not exist.

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

const DAY: i64 = 86_400;
/// The default: three years of history.
pub const DEFAULT_DAYS_BACK: i64 = 3 * 365 + 1;
/// Most days back a relative data start may reach (about 55 years): each day of history is cached per symbol.
pub const MAX_DAYS_BACK: i64 = 20_000;

/// Where paper history begins, as written in the configuration: a number of days before today (an integer, or
/// a string of digits, as environment variables give it) or a date `YYYY-MM-DD` (UTC; quoted, or a TOML date).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum DataStart {
    /// This many days before today's 00:00 UTC.
    DaysBack(i64),
    /// A date (`YYYY-MM-DD`) or a count of days written as a string.
    Text(String),
}

impl Default for DataStart {
    fn default() -> Self {
        DataStart::DaysBack(DEFAULT_DAYS_BACK)
    }
}

impl<'de> Deserialize<'de> for DataStart {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DataStartVisitor)
    }
}

/// Reads an integer, a string, or a TOML date (which the TOML reader hands over as a one-entry map holding
/// the date's text); whether the value makes sense is [`DataStart::check`]'s job.
struct DataStartVisitor;

impl<'de> Visitor<'de> for DataStartVisitor {
    type Value = DataStart;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("backend.data_start as a number of days back or a date YYYY-MM-DD")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<DataStart, E> {
        Ok(DataStart::DaysBack(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<DataStart, E> {
        Ok(DataStart::DaysBack(i64::try_from(v).unwrap_or(i64::MAX)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<DataStart, E> {
        Ok(DataStart::Text(v.to_owned()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DataStart, A::Error> {
        match map.next_entry::<String, String>()? {
            Some((_, text)) if map.next_key::<String>()?.is_none() => Ok(DataStart::Text(text)),
            _ => Err(de::Error::invalid_type(de::Unexpected::Map, &self)),
        }
    }
}

/// A checked data start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Days before today's 00:00 UTC: the start moves with the clock.
    DaysBack(i64),
    /// A fixed day, as unix seconds at 00:00 UTC.
    Day(i64),
}

impl Start {
    /// The data start at `now` (unix seconds): unix seconds of a 00:00 UTC.
    pub fn at(self, now: i64) -> i64 {
        match self {
            Start::DaysBack(days) => now.div_euclid(DAY).saturating_sub(days).saturating_mul(DAY),
            Start::Day(t) => t,
        }
    }
}

impl DataStart {
    /// The checked value, or a problem naming the key.
    pub fn check(&self) -> Result<Start, String> {
        let days_back = |days: i64| {
            if (1..=MAX_DAYS_BACK).contains(&days) {
                Ok(Start::DaysBack(days))
            } else {
                Err(format!(
                    "backend.data_start must be 1..={MAX_DAYS_BACK} days back or a date YYYY-MM-DD, got {days}"
                ))
            }
        };
        match self {
            DataStart::DaysBack(days) => days_back(*days),
            DataStart::Text(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
                days_back(text.parse().unwrap_or(i64::MAX))
            }
            DataStart::Text(text) => {
                let day = parse_date(text).ok_or_else(|| {
                    format!(
                        "backend.data_start must be a date YYYY-MM-DD or a number of days back, got {:?}",
                        clip(text)
                    )
                })?;
                if day < 0 {
                    return Err(format!(
                        "backend.data_start must not be before 1970-01-01, got {text}"
                    ));
                }
                Ok(Start::Day(day))
            }
        }
    }

    /// Problems, each naming the key: unreadable, out of range, or a date after `today` (unix seconds).
    pub fn problems(&self, now: i64) -> Vec<String> {
        match self.check() {
            Err(problem) => vec![problem],
            Ok(Start::Day(day)) if day > now => vec![format!(
                "backend.data_start {} is in the future: the paper broker would have no history",
                self.text()
            )],
            Ok(_) => Vec::new(),
        }
    }

    fn text(&self) -> String {
        match self {
            DataStart::DaysBack(days) => days.to_string(),
            DataStart::Text(text) => clip(text).to_owned(),
        }
    }
}

/// At most 40 characters of a configured value, for a message.
fn clip(text: &str) -> &str {
    text.char_indices().nth(40).map_or(text, |(i, _)| &text[..i])
}

/// `YYYY-MM-DD` as unix seconds at 00:00 UTC.
fn parse_date(text: &str) -> Option<i64> {
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    // chrono also reads a year of 1 to 3 digits or a sign; only the plain form is documented.
    if text.len() != 10 {
        return None;
    }
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_767_614_400; // 2026-01-05 12:00 UTC

    fn problems(value: DataStart) -> Vec<String> {
        value.problems(NOW)
    }

    #[test]
    fn dates_and_day_counts_are_read() {
        assert_eq!(
            DataStart::Text("2023-01-01".into()).check(),
            Ok(Start::Day(1_672_531_200))
        );
        assert_eq!(DataStart::DaysBack(30).check(), Ok(Start::DaysBack(30)));
        assert_eq!(DataStart::Text("30".into()).check(), Ok(Start::DaysBack(30)));
        assert_eq!(Start::DaysBack(30).at(NOW), 1_767_571_200 - 30 * DAY);
        assert_eq!(Start::Day(1_672_531_200).at(NOW), 1_672_531_200);
        assert_eq!(
            DataStart::default().check().map(|s| s.at(NOW)),
            Ok(1_767_571_200 - DEFAULT_DAYS_BACK * DAY)
        );
    }

    #[test]
    fn bad_values_are_refused_naming_the_key() {
        for (value, expected) in [
            (
                DataStart::DaysBack(0),
                "backend.data_start must be 1..=20000 days back",
            ),
            (
                DataStart::DaysBack(-5),
                "backend.data_start must be 1..=20000 days back",
            ),
            (DataStart::DaysBack(20_001), "got 20001"),
            (DataStart::Text("99999999999999999999".into()), "days back"),
            (DataStart::Text("2023-13-01".into()), "must be a date YYYY-MM-DD"),
            (DataStart::Text("23-01-01".into()), "got \"23-01-01\""),
            (DataStart::Text("".into()), "must be a date YYYY-MM-DD"),
            (
                DataStart::Text("1969-12-31".into()),
                "must not be before 1970-01-01",
            ),
            (
                DataStart::Text("2026-01-06".into()),
                "2026-01-06 is in the future",
            ),
        ] {
            let found = problems(value.clone());
            assert_eq!(found.len(), 1, "{value:?}: {found:?}");
            assert!(found[0].contains(expected), "{value:?}: {found:?}");
            assert!(found[0].starts_with("backend.data_start"), "{found:?}");
        }
        assert!(problems(DataStart::Text("2026-01-05".into())).is_empty());
        assert!(problems(DataStart::Text("1970-01-01".into())).is_empty());
    }
}
