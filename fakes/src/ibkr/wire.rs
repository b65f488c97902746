//! Wire helpers shared by the handlers: IBKR's `{"error": ...}` answers, prices and sizes written the way
//! the Client Portal API writes them (strings, thousands separators, `C`/`H` prefixes), its timestamp
//! formats, and lenient reading of query strings and JSON bodies.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::HashMap;

/// A JSON answer with any status (an invalid status becomes 500).
pub(super) fn json_response(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(body)).into_response()
}

/// A 200 JSON answer.
pub(super) fn ok(body: Value) -> Response {
    json_response(200, body)
}

/// `{"error": message}` with a status: how IBKR reports a refused call.
pub(super) fn error(status: u16, message: impl Into<String>) -> Response {
    json_response(status, serde_json::json!({ "error": message.into() }))
}

/// A refused call not answered yet: its status and `{"error": ...}` message.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Refused {
    pub status: u16,
    pub message: String,
}

impl Refused {
    pub fn new(status: u16, message: impl Into<String>) -> Refused {
        Refused {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        error(self.status, self.message)
    }
}

/// A 400 `{"error": ...}`.
pub(super) fn bad(message: impl Into<String>) -> Response {
    error(400, message)
}

/// A decimal as a JSON number.
pub(super) fn num(d: Decimal) -> Value {
    let d = d.normalize();
    if d.scale() == 0 {
        if let Some(i) = d.to_i64() {
            return Value::from(i);
        }
    }
    d.to_f64()
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// A decimal as a string with exactly `dp` decimals and no grouping (`"185.40"`).
pub(super) fn plain(d: Decimal, dp: u32) -> String {
    let mut r = d.round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    r.rescale(dp);
    r.to_string()
}

/// A decimal with `dp` decimals and comma thousands separators (`"1,234,567.50"`), as IBKR writes sizes
/// and amounts.
pub(super) fn grouped(d: Decimal, dp: u32) -> String {
    let s = plain(d.abs(), dp);
    let (int, frac) = s
        .split_once('.')
        .map_or((s.as_str(), None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    if d.is_sign_negative() && !d.is_zero() {
        out.insert(0, '-');
    }
    out
}

/// Decimals needed to write a tick size exactly (`0.00005` → 5).
pub(super) fn decimals_of(tick: Decimal) -> u32 {
    tick.normalize().scale()
}

/// Milliseconds since the epoch.
pub(super) fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// `YYYYMMDD-hh:mm:ss` (UTC), the format of `trade_time` and history `startTime`.
pub(super) fn dash_time(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d-%H:%M:%S").to_string()
}

/// `YYMMDDhhmmss` (UTC), the format of `lastExecutionTime`.
pub(super) fn compact_time(t: DateTime<Utc>) -> String {
    t.format("%y%m%d%H%M%S").to_string()
}

/// Parses `YYYYMMDD-hh:mm:ss` (UTC).
pub(super) fn parse_dash_time(s: &str) -> Option<DateTime<Utc>> {
    chrono::NaiveDateTime::parse_from_str(s, "%Y%m%d-%H:%M:%S")
        .ok()
        .map(|n| n.and_utc())
}

/// The query string as a map (later duplicates win); an unreadable query gives an empty map.
pub(super) fn query_map(query: Option<&str>) -> HashMap<String, String> {
    query
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .map(|pairs| pairs.into_iter().collect())
        .unwrap_or_default()
}

/// A JSON body as a value (`Null` for an empty or unreadable body).
pub(super) fn body_json(body: &[u8]) -> Value {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

/// A number from a JSON number or numeric string.
pub(super) fn dec_field(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => n
            .to_string()
            .parse::<Decimal>()
            .ok()
            .or_else(|| n.as_f64().and_then(|f| Decimal::try_from(f).ok())),
        Value::String(s) => s.trim().parse::<Decimal>().ok(),
        _ => None,
    }
}

/// An integer from a JSON number or numeric string.
pub(super) fn int_field(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn grouped_inserts_separators_every_three_digits() {
        assert_eq!(grouped(d("1234567.5"), 2), "1,234,567.50");
        assert_eq!(grouped(d("999"), 0), "999");
        assert_eq!(grouped(d("1000"), 0), "1,000");
        assert_eq!(grouped(d("-25000.125"), 2), "-25,000.13");
        assert_eq!(grouped(d("0"), 1), "0.0");
    }

    #[test]
    fn plain_keeps_the_requested_decimals() {
        assert_eq!(plain(d("1.1"), 5), "1.10000");
        assert_eq!(plain(d("185.456"), 2), "185.46");
        assert_eq!(decimals_of(d("0.00005")), 5);
        assert_eq!(decimals_of(d("0.25")), 2);
    }

    #[test]
    fn dash_time_round_trips() {
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(dash_time(t), "20231114-22:13:20");
        assert_eq!(parse_dash_time("20231114-22:13:20"), Some(t));
        assert_eq!(parse_dash_time("2023-11-14"), None);
    }

    #[test]
    fn numbers_are_read_from_numbers_and_strings() {
        assert_eq!(dec_field(&serde_json::json!(1.5)), Some(d("1.5")));
        assert_eq!(dec_field(&serde_json::json!("2.25")), Some(d("2.25")));
        assert_eq!(dec_field(&serde_json::json!(true)), None);
        assert_eq!(int_field(&serde_json::json!("265598")), Some(265_598));
    }
}
