//! Wire helpers shared by the handlers: the two error shapes (v20 `{"errorMessage"}`, v1
//! `{"code","message","moreInfo"}`), decimal and time formatting of each API, and lenient reading of
//! queries and bodies.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Datelike, TimeZone, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value};
use std::str::FromStr;

/// Which API a path belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Api {
    V20,
    V1,
}

impl Api {
    /// `/v1/...` is the legacy API; everything else is answered in the v20 shape.
    pub fn of_path(path: &str) -> Api {
        if path.starts_with("/v1/") || path == "/v1" {
            Api::V1
        } else {
            Api::V20
        }
    }
}

/// Where v1 errors point for more information (as in OANDA's v1 answers).
const V1_MORE_INFO: &str = "http://developer.oanda.com/docs/v1/troubleshooting/#errors";

/// A JSON answer with any status (an invalid status becomes 500).
pub(super) fn json_response(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(body)).into_response()
}

/// An error answer on its way out of a helper (boxed: a `Response` is large and errors are the cold
/// path).
pub(super) struct Fail(Box<Response>);

impl From<Response> for Fail {
    fn from(r: Response) -> Fail {
        Fail(Box::new(r))
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// A 200 JSON answer.
pub(super) fn ok(body: Value) -> Response {
    json_response(200, body)
}

/// A v20 error: `{"errorMessage": ...}`.
pub(super) fn v20_error(status: u16, message: &str) -> Response {
    json_response(status, json!({ "errorMessage": message }))
}

/// A v20 error with an `errorCode` too.
pub(super) fn v20_error_code(status: u16, code: &str, message: &str) -> Response {
    json_response(status, json!({ "errorCode": code, "errorMessage": message }))
}

/// A v1 error: `{"code", "message", "moreInfo"}`.
pub(super) fn v1_error(status: u16, code: u32, message: &str) -> Response {
    json_response(
        status,
        json!({ "code": code, "message": message, "moreInfo": V1_MORE_INFO }),
    )
}

/// v1 400 code 1, naming the bad argument.
pub(super) fn v1_bad(arg: &str) -> Response {
    v1_error(400, 1, &format!("Invalid or malformed argument: {arg}"))
}

/// The documented error answer for a status, in the shape of the API the path belongs to (used by
/// auth failures and by injected `Fault::Status`).
pub(super) fn status_error(api: Api, status: u16) -> Response {
    match api {
        Api::V20 => {
            let message = match status {
                400 => "The request was missing required data",
                401 => "Insufficient authorization to perform request.",
                403 => "The provided request was forbidden.",
                404 => "The requested resource was not found.",
                405 => "The method is not allowed for the requested resource.",
                429 => "Rate limit violation of allowed requests per second.",
                503 => "Service Unavailable",
                _ => "An internal server error occurred.",
            };
            v20_error(status, message)
        }
        Api::V1 => {
            let (code, message) = match status {
                400 => (1, "Invalid or malformed argument"),
                401 => (
                    4,
                    "The access token provided does not allow this request to be made",
                ),
                403 => (
                    4,
                    "The access token provided does not allow this request to be made",
                ),
                404 => (11, "Not found"),
                405 => (7, "Method not allowed"),
                429 => (68, "Rate limit violation of allowed requests per second"),
                503 => (6, "Service Unavailable"),
                _ => (
                    5,
                    "An internal server error occurred, our engineers have been notified",
                ),
            };
            v1_error(status, code, message)
        }
    }
}

/// Adds OANDA's `RequestID` header.
pub(super) fn with_request_id(mut resp: Response, id: u64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&id.to_string()) {
        resp.headers_mut().insert("RequestID", v);
    }
    resp
}

/// A decimal rounded to `dp` places and written with exactly `dp` decimals (`"1.08510"`).
pub(super) fn fixed(d: Decimal, dp: u32) -> String {
    let mut r = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(dp);
    r.to_string()
}

/// Money in the account currency: four decimals, as v20 writes balances and P/L.
pub(super) fn money(d: Decimal) -> String {
    fixed(d, 4)
}

/// A decimal without trailing zeros (`"0.02"`, `"100"`).
pub(super) fn plain(d: Decimal) -> String {
    d.normalize().to_string()
}

/// A decimal as a JSON number (v1 writes every number unquoted).
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

/// A v20 time: RFC 3339 with nanoseconds (`2016-06-22T18:41:29.264030555Z`).
pub(super) fn time20(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

/// A v1 time: RFC 3339 with microseconds (`2014-03-07T20:58:07.461445Z`).
pub(super) fn time1(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Reads an RFC 3339 time or a UNIX time (seconds, optionally fractional), as OANDA accepts both.
/// Times outside 1900..2300 are refused (no market data there, and date arithmetic stays in range).
pub(super) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let t = match DateTime::parse_from_rfc3339(s) {
        Ok(t) => t.with_timezone(&Utc),
        Err(_) => {
            let secs = parse_dec(s)?;
            let whole = secs.trunc().to_i64()?;
            let nanos = ((secs - secs.trunc()) * Decimal::from(1_000_000_000u32))
                .trunc()
                .to_u32()?;
            Utc.timestamp_opt(whole, nanos).single()?
        }
    };
    (1900..2300).contains(&t.year()).then_some(t)
}

/// A decimal from a JSON string (or, leniently, a JSON number).
pub(super) fn dec_of(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => parse_dec(s),
        Value::Number(n) => parse_dec(&n.to_string()),
        _ => None,
    }
}

/// Largest magnitude accepted for any decimal a client sends: far above any real price or size, and
/// small enough that the fake's arithmetic on it can never overflow.
const MAX_INPUT: Decimal = Decimal::from_parts(0xD4A5_1000, 0xE8, 0, false, 0);

/// A decimal from text; exponent notation is refused (OANDA wants plain decimal numbers), and so are
/// absurdly large values.
pub(super) fn parse_dec(s: &str) -> Option<Decimal> {
    let s = s.trim();
    if s.is_empty() || s.contains(['e', 'E']) {
        return None;
    }
    Decimal::from_str(s).ok().filter(|d| d.abs() <= MAX_INPUT)
}

/// Number of decimals actually used by a decimal (`1.50` has 1).
pub(super) fn decimals(d: Decimal) -> u32 {
    d.normalize().scale()
}

/// A query string split into pairs (percent-decoded; bad encodings are dropped).
pub(super) struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        Query(serde_urlencoded::from_str(raw.unwrap_or("")).unwrap_or_default())
    }

    /// The last value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A comma-separated list (empty entries dropped).
    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        self.get(name).map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
    }

    /// A boolean flag (`true`/`false`); `Err` when present but neither.
    pub fn flag(&self, name: &str) -> Result<Option<bool>, ()> {
        match self.get(name) {
            None => Ok(None),
            Some("true") | Some("True") | Some("1") => Ok(Some(true)),
            Some("false") | Some("False") | Some("0") => Ok(Some(false)),
            Some(_) => Err(()),
        }
    }
}

/// A form body (v1 POST/PATCH) as pairs.
pub(super) fn form(body: &[u8]) -> Query {
    Query(serde_urlencoded::from_bytes(body).unwrap_or_default())
}
