//! v1 failures as [`BrokerError`]s. A v1 error body is `{"code":<int>,"message":..,"moreInfo":..}`; the
//! message is carried to the user (it is OANDA's own sentence, e.g. why an order was rejected), and the
//! common codes have words of their own for when the message is missing.

use super::super::errors::{broker_error, parsed, OandaError};
use crate::broker::BrokerError;
use crate::upstream::call::CallError;

/// Codes of the v1 documentation.
pub mod codes {
    /// 400: "Invalid or malformed argument: <name>".
    pub const INVALID_ARGUMENT: i64 = 1;
    /// "Invalid instrument".
    pub const INVALID_INSTRUMENT: i64 = 2;
    /// 401: "The access token provided does not allow this request to be made".
    pub const TOKEN_NOT_ALLOWED: i64 = 4;
    /// 404: "Position not found".
    pub const POSITION_NOT_FOUND: i64 = 14;
    /// 404: "Order not found".
    pub const ORDER_NOT_FOUND: i64 = 43;
    /// 404: "Trade not found".
    pub const TRADE_NOT_FOUND: i64 = 63;
    /// 429: "Rate limit violation of allowed requests per second".
    pub const RATE_LIMIT: i64 = 68;
}

/// A common code in words, for a body that has no message.
fn code_words(code: i64) -> Option<&'static str> {
    Some(match code {
        codes::INVALID_ARGUMENT => "an argument is invalid or malformed",
        codes::INVALID_INSTRUMENT => "the instrument is not valid for this account",
        codes::TOKEN_NOT_ALLOWED => "the access token does not allow this request",
        codes::POSITION_NOT_FOUND => "there is no open position in this instrument",
        codes::ORDER_NOT_FOUND => "no such pending order (it may have filled, been cancelled or expired)",
        codes::TRADE_NOT_FOUND => "no such open trade (it may have been closed)",
        codes::RATE_LIMIT => "too many requests per second",
        _ => return None,
    })
}

/// What OANDA said about a failed call: its message, else the code in words.
fn message(body: &OandaError) -> Option<String> {
    body.message
        .clone()
        .or_else(|| code_words(body.v1_code?).map(str::to_owned))
}

/// Maps a failed call about `what` ("the order", "order 175427639", "trade 175427743"...).
///
/// A 400 is a refusal with OANDA's reason ("OANDA refused the order: Insufficient margin"), a 404 names
/// what is missing; statuses without a v1 body fall back to the common OANDA mapping.
pub fn error(e: &CallError, what: &str) -> BrokerError {
    let CallError::Status { status, .. } = e else {
        return broker_error(e, what);
    };
    match (*status, parsed(e).and_then(message)) {
        (400 | 409 | 422, Some(m)) => BrokerError::Rejected(format!("OANDA refused {what}: {m}")),
        (404, Some(m)) => BrokerError::NotFound(format!("{what}: {m}")),
        (404, None) => BrokerError::NotFound(format!("{what} was not found at OANDA")),
        (401, Some(m)) => BrokerError::Unauthorized(format!("OANDA refused the access token: {m}")),
        _ => broker_error(e, what),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::oanda::v1::convert::fixtures::ERROR_NOT_FOUND;

    fn status(status: u16, body: &str) -> CallError {
        CallError::status_of::<OandaError>(status, body)
    }

    #[test]
    fn documented_errors_in_words() {
        assert_eq!(
            error(&status(404, ERROR_NOT_FOUND), "order 7"),
            BrokerError::NotFound("order 7: Order not found".into())
        );
        let e = error(
            &status(
                400,
                r#"{"code":1,"message":"Invalid or malformed argument: price"}"#,
            ),
            "the order",
        );
        assert_eq!(
            e,
            BrokerError::Rejected("OANDA refused the order: Invalid or malformed argument: price".into())
        );
        let e = error(
            &status(
                401,
                r#"{"code":4,"message":"The access token provided does not allow this request to be made","moreInfo":"x"}"#,
            ),
            "accounts",
        );
        assert!(matches!(e, BrokerError::Unauthorized(m) if m.contains("does not allow")));
        let e = error(
            &status(
                429,
                r#"{"code":68,"message":"Rate limit violation of allowed requests per second"}"#,
            ),
            "x",
        );
        assert!(matches!(e, BrokerError::RateLimited { .. }));
    }

    #[test]
    fn codes_without_message_have_words() {
        assert_eq!(
            error(&status(404, r#"{"code":63}"#), "trade 5"),
            BrokerError::NotFound("trade 5: no such open trade (it may have been closed)".into())
        );
        assert_eq!(
            error(&status(400, r#"{"code":2}"#), "the order"),
            BrokerError::Rejected(
                "OANDA refused the order: the instrument is not valid for this account".into()
            )
        );
        assert_eq!(
            error(&status(404, "<html>"), "trade 5"),
            BrokerError::NotFound("trade 5 was not found at OANDA".into())
        );
        assert!(matches!(
            error(&status(502, ""), "x"),
            BrokerError::Unavailable(_)
        ));
        assert!(matches!(
            error(&CallError::NoAnswer("t".into()), "x"),
            BrokerError::Unavailable(_)
        ));
    }
}
