//! Wire types of the Capital.com REST v1 and streaming APIs, exactly as the upstream spells them.
//!
//! Every upstream enum ends in a `#[serde(other)] Unknown` variant so that a value added upstream never
//! breaks a whole response. Fields the upstream may leave out are `Option` with `#[serde(default)]`.
//! Timestamps stay strings here (the upstream sends local-less `YYYY-MM-DDTHH:MM:SS.mmm`); [`parse_time`]
//! turns them into [`NaiveDateTime`] values, which are UTC for the `...UTC` fields.

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::str::FromStr;

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

/// Parses an upstream timestamp (`2022-04-05T09:46:01.872`, fraction optional) into a naive date-time.
pub fn parse_time(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").ok()
}

/// Formats a UTC instant the way `goodTillDate` and the `from`/`to` query parameters expect it.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Parses a decimal given either as a JSON number or as a JSON string (`"1.05"`).
fn decimal_from_value<E: serde::de::Error>(v: serde_json::Value) -> Result<Decimal, E> {
    match v {
        serde_json::Value::Number(n) => Decimal::from_str(&n.to_string())
            .or_else(|_| Decimal::from_scientific(&n.to_string()))
            .map_err(E::custom),
        serde_json::Value::String(s) => Decimal::from_str(s.trim())
            .or_else(|_| Decimal::from_scientific(s.trim()))
            .map_err(E::custom),
        other => Err(E::custom(format!(
            "expected a number or a numeric string, got {other}"
        ))),
    }
}

/// Deserialises a [`Decimal`] sent as a number or as a string (history `size` is a string).
pub fn decimal_str_or_num<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    decimal_from_value(serde_json::Value::deserialize(d)?)
}

/// Like [`decimal_str_or_num`] for optional fields: `null` or an empty string give `None`.
pub fn opt_decimal_str_or_num<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(v) => decimal_from_value(v).map(Some),
    }
}

mod accounts;
mod enums;
mod history;
mod markets;
mod session;
mod stream;
mod trading;

pub use accounts::*;
pub use enums::*;
pub use history::*;
pub use markets::*;
pub use session::*;
pub use stream::*;
pub use trading::*;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_data;
