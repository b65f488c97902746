//! Wire types of OANDA v20 REST (`/v3`), named and shaped as the OpenAPI `definitions` spell them.
//!
//! Every decimal travels as a JSON string; it is read leniently (a string or a number) and written as a
//! string. Order and transaction subtypes are flat structs with optional fields keyed by their `type`,
//! rather than one Rust type per subtype, so that a subtype OANDA adds later still reads. Every upstream
//! enum ends in a `#[serde(other)] Unknown` variant; reasons (`rejectReason`, cancel `reason`) stay strings
//! and are put into words by [`super::errors`].

mod account;
pub mod market;
mod orders;
mod responses;
mod trades;
mod transactions;

pub use account::*;
pub use orders::*;
pub use responses::*;
pub use trades::*;
pub use transactions::*;

use super::super::model::parse_decimal;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serializer};

/// Reads a decimal sent as a JSON string (`"1.10250"`, OANDA's way) or as a number.
fn decimal_of<E: serde::de::Error>(v: serde_json::Value) -> Result<Option<Decimal>, E> {
    match v {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) if s.trim().is_empty() => Ok(None),
        serde_json::Value::String(s) => parse_decimal(&s)
            .map(Some)
            .ok_or_else(|| E::custom(format!("{s:?} is not a decimal"))),
        serde_json::Value::Number(n) => parse_decimal(&n.to_string())
            .map(Some)
            .ok_or_else(|| E::custom(format!("{n} is not a decimal"))),
        other => Err(E::custom(format!("expected a decimal, got {other}"))),
    }
}

/// Deserialises a required decimal (string or number).
pub(crate) fn dec<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    decimal_of(serde_json::Value::deserialize(d)?)?
        .ok_or_else(|| serde::de::Error::custom("a decimal is missing"))
}

/// Deserialises an optional decimal: absent, `null` and `""` give `None`.
pub(crate) fn opt_dec<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None => Ok(None),
        Some(v) => decimal_of(v),
    }
}

/// Serialises an optional decimal as a JSON string (`skip_serializing_if` drops `None`).
pub(crate) fn opt_dec_str<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(d) => s.serialize_str(&d.to_string()),
        None => s.serialize_none(),
    }
}

/// Serialises a decimal as a JSON string.
pub(crate) fn dec_str<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

pub use super::super::model::parse_time;

#[cfg(test)]
mod tests;
