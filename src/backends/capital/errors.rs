//! Capital.com error mapping: upstream HTTP status + `{"errorCode": ...}` body into [`BrokerError`], and
//! deal-confirmation `reason` codes into readable text.
//!
//! Error codes look like `error.<kind>.<field>[.<rule>][: <value>]`, e.g. `error.not-found.dealId`,
//! `error.null.epic`, `error.invalid.stoploss.minvalue: 17.146`. Known codes get a hand-written sentence;
//! the rest are turned into a sentence naming the field. Messages only ever contain the code's own words
//! and values, never request data, so no secret can reach them.

use super::model::ErrorBody;
use crate::broker::BrokerError;
use crate::upstream::call::CallError;
use crate::upstream::transport;

/// Longest error code carried into a message (anything longer is cut).
const MAX_CODE_LEN: usize = 120;

/// The transport parses every failed answer's body once into Capital.com's documented error object.
impl transport::ErrorBody for ErrorBody {
    fn parse(body: &str) -> Option<Self> {
        serde_json::from_str(body).ok()
    }

    fn code(&self) -> Option<String> {
        Some(sanitize(&self.error_code)).filter(|c| !c.is_empty())
    }
}

/// The `errorCode` of an upstream body, if the body is the documented JSON error object.
pub fn error_code(body: &str) -> Option<String> {
    <ErrorBody as transport::ErrorBody>::parse(body).and_then(|e| transport::ErrorBody::code(&e))
}

/// The `errorCode` of a failed call, as the transport parsed it.
pub fn code_of(e: &CallError) -> Option<String> {
    e.upstream::<ErrorBody>().and_then(transport::ErrorBody::code)
}

/// Keeps printable characters only and bounds the length.
fn sanitize(s: &str) -> String {
    s.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_CODE_LEN)
        .collect()
}

/// Maps a failed call answered with `status` to a [`BrokerError`] by its parsed error code.
pub fn status_error(status: u16, e: &CallError) -> BrokerError {
    from_code(status, code_of(e))
}

/// Maps a failed upstream answer (any non-2xx status) given as text to a [`BrokerError`].
pub fn to_broker_error(status: u16, body: &str) -> BrokerError {
    from_code(status, error_code(body))
}

/// Maps a non-2xx status and the body's error code to a [`BrokerError`].
fn from_code(status: u16, code: Option<String>) -> BrokerError {
    let c = code.as_deref().unwrap_or("");
    if status == 429 || c == "error.too-many.requests" {
        return BrokerError::RateLimited { retry_after: None };
    }
    if status == 401 || is_session_code(c) {
        return BrokerError::Unauthorized(match c {
            "error.invalid.details" => "Capital.com refused the login details or the session".to_string(),
            "" => format!("Capital.com answered HTTP {status}"),
            other => format!("Capital.com refused the session ({other})"),
        });
    }
    if c == "error.null.api.key" || c == "error.invalid.api.key" {
        return BrokerError::Unauthorized("the Capital.com API key is missing or invalid".to_string());
    }
    if status >= 500 {
        return BrokerError::Unavailable(match code {
            Some(code) => format!("Capital.com answered HTTP {status} ({code})"),
            None => format!("Capital.com answered HTTP {status}"),
        });
    }
    if status == 404 || c.starts_with("error.not-found.") {
        return BrokerError::NotFound(match c.strip_prefix("error.not-found.") {
            Some(what) => not_found_message(what),
            None => "The requested item was not found.".to_string(),
        });
    }
    if c.is_empty() {
        return BrokerError::Rejected(format!("The broker refused the request (HTTP {status})."));
    }
    BrokerError::Rejected(describe_code(c))
}

/// Codes that mean the session tokens are missing or stale, whatever the status (not confirmed officially).
fn is_session_code(code: &str) -> bool {
    [
        "client.token",
        "session.token",
        "security.token",
        "error.invalid.session",
    ]
    .iter()
    .any(|p| code.contains(p))
}

/// The message of a `error.not-found.<what>` code.
fn not_found_message(what: &str) -> String {
    match what {
        "dealId" => "No open position or working order has this deal id.".to_string(),
        "dealReference" => "No deal confirmation exists for this deal reference.".to_string(),
        "epic" => "The instrument (epic) does not exist.".to_string(),
        "watchlist" => "The watchlist does not exist.".to_string(),
        "accountId" => "The account does not exist.".to_string(),
        other => format!("The {} was not found.", field_name(other)),
    }
}

/// A user-facing sentence for a validation code (`error.invalid.stoploss.minvalue: 17.146` ...).
pub fn describe_code(code: &str) -> String {
    let (key, value) = match code.split_once(':') {
        Some((k, v)) => (k.trim(), Some(v.trim()).filter(|v| !v.is_empty())),
        None => (code.trim(), None),
    };
    if let Some(s) = known_code(key) {
        return s.to_string();
    }
    let Some(rest) = key.strip_prefix("error.") else {
        return refused(code);
    };
    let Some((kind, field_path)) = rest.split_once('.') else {
        return refused(code);
    };
    // The field is everything up to a known rule suffix; e.g. `stoploss.minvalue`, `leverage.value`.
    let (field, rule) = match field_path.rsplit_once('.') {
        Some((f, r)) if is_rule(r) => (f, Some(r)),
        _ => (field_path, None),
    };
    let field = field_name(field);
    let sentence = match (kind, rule, value) {
        ("invalid", Some("minvalue"), Some(v)) => {
            format!("The {field} is below the minimum allowed value {v}.")
        }
        ("invalid", Some("maxvalue"), Some(v)) => {
            format!("The {field} is above the maximum allowed value {v}.")
        }
        ("invalid", Some("minvalue"), None) => format!("The {field} is below the minimum allowed value."),
        ("invalid", Some("maxvalue"), None) => format!("The {field} is above the maximum allowed value."),
        ("invalid", _, Some(v)) => format!("The {field} is invalid ({v})."),
        ("invalid", _, None) => format!("The {field} is invalid."),
        ("null", _, _) => format!("The {field} is missing."),
        ("not-in-future", _, _) => format!("The {field} must be in the future."),
        ("size", _, _) => format!("The {field} has an invalid length."),
        _ => return refused(code),
    };
    capitalize(&sentence)
}

/// Hand-written sentences for the codes shown in the official examples.
fn known_code(key: &str) -> Option<&'static str> {
    Some(match key {
        "error.invalid.details" => "The login details are not valid.",
        "error.invalid.accountId" => "The account id is not valid.",
        "error.invalid.from" => "The start date is not valid.",
        "error.invalid.to" => "The end date is not valid.",
        "error.invalid.leverage.value" => "This leverage value is not available for the instrument group.",
        "error.invalid.limit" => "The requested number of items is not valid.",
        "error.invalid.resolution" => "The price resolution is not supported.",
        "error.invalid.watchlist" => "The watchlist is not valid.",
        "error.not-in-future.goodTillDate" => "The expiration date must be in the future.",
        "error.null.epic" => "The instrument (epic) is missing.",
        "error.null.searchTerm" => "The search term is missing.",
        "error.size.createwatchlistrequest.name" => "The watchlist name has an invalid length.",
        _ => return None,
    })
}

/// Rule suffixes of validation codes.
fn is_rule(s: &str) -> bool {
    matches!(s, "minvalue" | "maxvalue" | "value" | "format" | "length")
}

/// Readable name of an upstream field (`stoploss` -> "stop loss", `goodTillDate` -> "expiration date").
fn field_name(raw: &str) -> String {
    let known = match raw {
        "stoploss" | "stopLoss" | "stop.loss" => "stop loss",
        "takeprofit" | "takeProfit" | "take.profit" => "take profit",
        "stopLevel" => "stop loss level",
        "stopDistance" => "stop loss distance",
        "stopAmount" => "stop loss amount",
        "profitLevel" => "take profit level",
        "profitDistance" => "take profit distance",
        "profitAmount" => "take profit amount",
        "trailingStop" | "trailingstop" => "trailing stop",
        "guaranteedStop" | "guaranteedstop" => "guaranteed stop",
        "goodTillDate" => "expiration date",
        "epic" => "instrument (epic)",
        "dealId" => "deal id",
        "dealReference" => "deal reference",
        "accountId" => "account id",
        "from" => "start date",
        "to" => "end date",
        "level" => "price level",
        "size" => "size",
        "type" => "order type",
        "direction" => "direction",
        "resolution" => "price resolution",
        "searchTerm" => "search term",
        "api.key" => "API key",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    // Generic: dots and camelCase become spaces.
    let mut out = String::new();
    for (i, part) in raw.split('.').filter(|p| !p.is_empty()).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        for (j, ch) in part.chars().enumerate() {
            if ch.is_uppercase() && j > 0 {
                out.push(' ');
                out.extend(ch.to_lowercase());
            } else if ch == '_' || ch == '-' {
                out.push(' ');
            } else {
                out.push(ch);
            }
        }
    }
    if out.is_empty() {
        "value".to_string()
    } else {
        out
    }
}

/// The fallback sentence for a code nothing else understood.
fn refused(code: &str) -> String {
    format!("The broker refused the request ({code}).")
}

/// Upper-cases the first letter.
fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Readable text for a confirmation `reason` code (shown when `dealStatus` is `REJECTED`).
///
/// Only `SUCCESS` appears in the official examples; the other entries are the usual rejection reasons of
/// this API family and are not confirmed. Unknown codes are passed through as words (`SOME_CODE` ->
/// "Some code").
pub fn reject_reason(reason: &str) -> String {
    let reason = sanitize(reason);
    let known = match reason.as_str() {
        "SUCCESS" => "The deal was accepted.",
        "INSUFFICIENT_FUNDS" | "INSUFFICIENT_BALANCE" => "There are not enough funds for this deal.",
        "MARKET_CLOSED" | "MARKET_CLOSED_WITH_EDITS" => "The market is closed.",
        "MARKET_OFFLINE" | "MARKET_UNAVAILABLE" => "The market is currently unavailable.",
        "INSTRUMENT_NOT_TRADEABLE" | "INSTRUMENT_NOT_VALID" => "This instrument cannot be traded.",
        "MINIMUM_ORDER_SIZE_ERROR" => "The size is below the minimum deal size.",
        "MAX_AUTO_SIZE_EXCEEDED" | "SIZE_INCREMENT" => "The size is not allowed for this instrument.",
        "POSITION_NOT_AVAILABLE_TO_CLOSE" | "POSITION_ALREADY_EXISTS_IN_OPPOSITE_DIRECTION" => {
            "The position cannot be changed this way."
        }
        "ORDER_NOT_FOUND" | "POSITION_NOT_FOUND" => "The order or position no longer exists.",
        "STOP_LEVEL_INVALID" | "ATTACHED_ORDER_LEVEL_ERROR" => "The stop loss level is not valid.",
        "LIMIT_LEVEL_INVALID" => "The take profit level is not valid.",
        "GUARANTEED_STOP_NOT_ALLOWED" | "CR_SPACING" => "A guaranteed stop is not allowed here.",
        "HEDGING_MODE_NOT_ALLOWED" => "This deal is not allowed in the current hedging mode.",
        "REJECT_SPREADBET_ORDER_ON_CFD_ACCOUNT" | "WRONG_SIDE_OF_MARKET" => {
            "The order price is on the wrong side of the market."
        }
        "" => "The broker rejected the deal.",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    let words: String = reason
        .chars()
        .map(|c| {
            if c == '_' || c == '-' || c == '.' {
                ' '
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    format!("The broker rejected the deal: {}.", words.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: &str) -> String {
        serde_json::json!({ "errorCode": code }).to_string()
    }

    fn rejected(status: u16, code: &str) -> String {
        match to_broker_error(status, &body(code)) {
            BrokerError::Rejected(m) => m,
            other => panic!("{code}: expected Rejected, got {other:?}"),
        }
    }

    fn not_found(code: &str) -> String {
        match to_broker_error(404, &body(code)) {
            BrokerError::NotFound(m) => m,
            other => panic!("{code}: expected NotFound, got {other:?}"),
        }
    }

    #[test]
    fn unauthorized() {
        assert!(matches!(
            to_broker_error(401, &body("error.invalid.details")),
            BrokerError::Unauthorized(_)
        ));
        assert!(matches!(to_broker_error(401, ""), BrokerError::Unauthorized(_)));
        assert!(matches!(
            to_broker_error(401, "<html>"),
            BrokerError::Unauthorized(_)
        ));
        assert!(matches!(
            to_broker_error(401, &body("error.some.future.code")),
            BrokerError::Unauthorized(_)
        ));
        assert!(matches!(
            to_broker_error(400, &body("error.null.client.token")),
            BrokerError::Unauthorized(_)
        ));
        assert!(matches!(
            to_broker_error(400, &body("error.invalid.session.token")),
            BrokerError::Unauthorized(_)
        ));
        assert!(matches!(
            to_broker_error(400, &body("error.null.api.key")),
            BrokerError::Unauthorized(_)
        ));
    }

    #[test]
    fn rate_limited() {
        let rl = BrokerError::RateLimited { retry_after: None };
        assert_eq!(to_broker_error(429, &body("error.too-many.requests")), rl);
        assert_eq!(to_broker_error(429, ""), rl);
        assert_eq!(to_broker_error(400, &body("error.too-many.requests")), rl);
    }

    #[test]
    fn not_found_codes() {
        assert_eq!(
            not_found("error.not-found.dealId"),
            "No open position or working order has this deal id."
        );
        assert_eq!(
            not_found("error.not-found.dealReference"),
            "No deal confirmation exists for this deal reference."
        );
        assert_eq!(
            not_found("error.not-found.epic"),
            "The instrument (epic) does not exist."
        );
        assert_eq!(
            not_found("error.not-found.watchlist"),
            "The watchlist does not exist."
        );
        assert_eq!(not_found("error.not-found.nodeId"), "The node id was not found.");
        assert!(matches!(to_broker_error(404, ""), BrokerError::NotFound(m) if m.contains("not found")));
        // The code decides even with an unusual status.
        assert!(matches!(
            to_broker_error(400, &body("error.not-found.epic")),
            BrokerError::NotFound(_)
        ));
    }

    #[test]
    fn unavailable() {
        for s in [500, 502, 503, 504] {
            assert!(
                matches!(to_broker_error(s, "<html>bad gateway</html>"), BrokerError::Unavailable(m)
                if m.contains(&s.to_string()) && !m.contains("html"))
            );
        }
        assert!(matches!(
            to_broker_error(500, &body("error.internal")),
            BrokerError::Unavailable(m) if m.contains("error.internal")
        ));
    }

    #[test]
    fn stop_and_profit_bounds() {
        assert_eq!(
            rejected(400, "error.invalid.stoploss.minvalue: 17.146"),
            "The stop loss is below the minimum allowed value 17.146."
        );
        assert_eq!(
            rejected(400, "error.invalid.stoploss.maxvalue: 24.302"),
            "The stop loss is above the maximum allowed value 24.302."
        );
        assert_eq!(
            rejected(400, "error.invalid.takeprofit.minvalue: 24.302"),
            "The take profit is below the minimum allowed value 24.302."
        );
        assert_eq!(
            rejected(400, "error.invalid.takeprofit.maxvalue: 31.817"),
            "The take profit is above the maximum allowed value 31.817."
        );
        assert_eq!(
            rejected(400, "error.invalid.size.minvalue: 0.1"),
            "The size is below the minimum allowed value 0.1."
        );
        assert_eq!(
            rejected(400, "error.invalid.stoploss.minvalue"),
            "The stop loss is below the minimum allowed value."
        );
    }

    #[test]
    fn documented_validation_codes() {
        let table = [
            ("error.invalid.accountId", "The account id is not valid."),
            ("error.invalid.from", "The start date is not valid."),
            (
                "error.invalid.leverage.value",
                "This leverage value is not available for the instrument group.",
            ),
            (
                "error.invalid.limit",
                "The requested number of items is not valid.",
            ),
            (
                "error.invalid.resolution",
                "The price resolution is not supported.",
            ),
            ("error.invalid.watchlist", "The watchlist is not valid."),
            (
                "error.not-in-future.goodTillDate",
                "The expiration date must be in the future.",
            ),
            ("error.null.epic", "The instrument (epic) is missing."),
            ("error.null.searchTerm", "The search term is missing."),
            (
                "error.size.createwatchlistrequest.name",
                "The watchlist name has an invalid length.",
            ),
        ];
        for (code, msg) in table {
            assert_eq!(rejected(400, code), msg, "{code}");
        }
    }

    #[test]
    fn generic_fallbacks() {
        assert_eq!(
            rejected(400, "error.invalid.stopDistance"),
            "The stop loss distance is invalid."
        );
        assert_eq!(
            rejected(400, "error.invalid.someNewField"),
            "The some new field is invalid."
        );
        assert_eq!(
            rejected(400, "error.invalid.level.format: abc"),
            "The price level is invalid (abc)."
        );
        assert_eq!(rejected(400, "error.null.direction"), "The direction is missing.");
        assert_eq!(rejected(400, "error.null.size"), "The size is missing.");
        assert_eq!(
            rejected(400, "error.not-in-future.expiry"),
            "The expiry must be in the future."
        );
        assert_eq!(
            rejected(400, "error.public-api.failure.kyc.required"),
            "The broker refused the request (error.public-api.failure.kyc.required)."
        );
        assert_eq!(rejected(400, "weird"), "The broker refused the request (weird).");
        assert_eq!(
            rejected(403, "error.forbidden"),
            "The broker refused the request (error.forbidden)."
        );
        assert_eq!(
            to_broker_error(400, "not json"),
            BrokerError::Rejected("The broker refused the request (HTTP 400).".into())
        );
        assert_eq!(
            to_broker_error(400, r#"{"errorCode": ""}"#),
            BrokerError::Rejected("The broker refused the request (HTTP 400).".into())
        );
    }

    #[test]
    fn codes_are_bounded_and_cleaned() {
        let long = format!("error.x{}", "y".repeat(500));
        let m = rejected(400, &long);
        assert!(m.len() < 200, "{m}");
        let m = rejected(400, "bad\ncode");
        assert!(!m.contains('\n'));
        assert_eq!(
            error_code(&body("  error.null.epic ")).as_deref(),
            Some("error.null.epic")
        );
        assert_eq!(error_code("{}"), None);
    }

    #[test]
    fn field_names() {
        assert_eq!(field_name("goodTillDate"), "expiration date");
        assert_eq!(
            field_name("createwatchlistrequest.name"),
            "createwatchlistrequest name"
        );
        assert_eq!(field_name("lastPeriod"), "last period");
        assert_eq!(field_name(""), "value");
    }

    #[test]
    fn reject_reasons() {
        assert_eq!(reject_reason("SUCCESS"), "The deal was accepted.");
        assert_eq!(
            reject_reason("INSUFFICIENT_FUNDS"),
            "There are not enough funds for this deal."
        );
        assert_eq!(reject_reason("MARKET_CLOSED"), "The market is closed.");
        assert_eq!(
            reject_reason("MINIMUM_ORDER_SIZE_ERROR"),
            "The size is below the minimum deal size."
        );
        assert_eq!(
            reject_reason("SOME_NEW_REASON"),
            "The broker rejected the deal: some new reason."
        );
        assert_eq!(reject_reason(""), "The broker rejected the deal.");
        assert_eq!(reject_reason("x\u{7}y"), "The broker rejected the deal: xy.");
    }
}
