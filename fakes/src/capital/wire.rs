//! Wire helpers shared by the handlers: the `{"errorCode": ...}` error, JSON numbers from decimals, the
//! upstream's timestamp formats and lenient reading of request bodies.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::str::FromStr;

/// Hours the "local" timestamps (`date`, `createdDate`, `snapshotTime`...) are ahead of UTC; the same
/// value is sent as `timezoneOffset` in the session. Non-zero on purpose, so that a client mixing up
/// local and UTC fields shows up in tests.
pub(super) const TZ_OFFSET_HOURS: i64 = 3;

/// A failed call: HTTP status + `errorCode`, answered as `{"errorCode": "..."}`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ApiError {
    pub status: u16,
    pub code: String,
}

impl ApiError {
    pub fn new(status: u16, code: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
        }
    }

    /// 400 with a validation code.
    pub fn bad(code: impl Into<String>) -> Self {
        Self::new(400, code)
    }

    /// 404 with a `error.not-found.*` code.
    pub fn not_found(what: &str) -> Self {
        Self::new(404, format!("error.not-found.{what}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, serde_json::json!({ "errorCode": self.code }))
    }
}

/// What every handler returns.
pub(super) type ApiResult = Result<Response, ApiError>;

/// A JSON answer with any status (an invalid status becomes 500).
pub(super) fn json_response(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(body)).into_response()
}

/// A 200 JSON answer.
pub(super) fn ok(body: Value) -> ApiResult {
    Ok(json_response(200, body))
}

/// A decimal as a JSON number (the upstream never quotes numbers, except transaction sizes).
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

/// A money amount as the transaction history spells it: a string with at least one decimal (`"416.0"`).
pub(super) fn money_string(d: Decimal) -> String {
    let d = d.round_dp(2).normalize();
    if d.scale() == 0 {
        format!("{d}.0")
    } else {
        d.to_string()
    }
}

/// `2022-04-05T09:46:01.872` (UTC fields).
pub(super) fn fmt_ms(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

/// `2022-04-05T12:46:01.872` (the user's local time, see [`TZ_OFFSET_HOURS`]).
pub(super) fn fmt_ms_local(t: DateTime<Utc>) -> String {
    fmt_ms(t + TimeDelta::hours(TZ_OFFSET_HOURS))
}

/// `2022-04-06T13:18:00` (price bars, UTC).
pub(super) fn fmt_s(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// `2022-04-06T16:18:00` (price bars, local).
pub(super) fn fmt_s_local(t: DateTime<Utc>) -> String {
    fmt_s(t + TimeDelta::hours(TZ_OFFSET_HOURS))
}

/// Parses the documented `YYYY-MM-DDTHH:MM:SS` query/body date (UTC); anything else is `None`.
pub(super) fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|n| n.and_utc())
}

/// Parses a request body as a JSON object; an empty body is an empty object.
pub(super) fn body_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ApiError::bad("error.malformed.request")),
    }
}

/// An optional string field; `null` counts as absent, another type is `error.invalid.<field>`.
pub(super) fn field_str(m: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad(format!("error.invalid.{field}"))),
    }
}

/// An optional number field (a numeric string is accepted too, as a lenient JSON mapper would).
pub(super) fn field_dec(m: &Map<String, Value>, field: &str) -> Result<Option<Decimal>, ApiError> {
    let text = match m.get(field) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(_) => return Err(ApiError::bad(format!("error.invalid.{field}"))),
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map(|d| Some(d.normalize()))
        .map_err(|_| ApiError::bad(format!("error.invalid.{field}")))
}

/// An optional boolean field.
pub(super) fn field_bool(m: &Map<String, Value>, field: &str) -> Result<Option<bool>, ApiError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(ApiError::bad(format!("error.invalid.{field}"))),
    }
}

/// Reads the query string into (name, value) pairs, percent-decoded.
pub(super) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// The first value of a query parameter.
pub(super) fn query_get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Decodes `%XX` escapes and `+` (form style); malformed escapes are kept as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Rounds a price to the market's decimal places.
pub(super) fn round_price(d: Decimal, dp: u32) -> Decimal {
    d.round_dp(dp).normalize()
}
