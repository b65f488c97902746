//! IBKR's error body (`{"error": "...", "statusCode": n}`) parsed once by the transport, and failures
//! mapped to [`BrokerError`]s with readable messages.

use crate::broker::BrokerError;
use crate::upstream::call::CallError;
use crate::upstream::transport::ErrorBody;

/// Longest upstream message carried into a user-visible error.
const MAX_MESSAGE_LEN: usize = 240;

/// What TradingView users are told when the gateway's brokerage session is gone.
pub const GATEWAY_LOGIN_AGAIN: &str =
    "The IBKR session has ended: log in to the Client Portal gateway again, then log in to TradingView again";

/// An IBKR error body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IbkrError {
    /// The `error` text, printable and bounded.
    pub message: Option<String>,
    pub status_code: Option<i64>,
}

impl ErrorBody for IbkrError {
    fn parse(body: &str) -> Option<Self> {
        let value: serde_json::Value = serde_json::from_str(body).ok()?;
        let object = value.as_object()?;
        let message = object
            .get("error")
            .or_else(|| object.get("message"))
            .and_then(serde_json::Value::as_str)
            .and_then(printable);
        let status_code = object.get("statusCode").and_then(serde_json::Value::as_i64);
        (message.is_some() || status_code.is_some()).then_some(IbkrError { message, status_code })
    }

    fn code(&self) -> Option<String> {
        self.status_code.map(|c| c.to_string())
    }
}

/// `text` trimmed, without control characters, at most [`MAX_MESSAGE_LEN`] characters; `None` when empty.
pub fn printable(text: &str) -> Option<String> {
    let text: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_MESSAGE_LEN)
        .collect();
    (!text.is_empty()).then_some(text)
}

/// The upstream message of a failed call, if IBKR gave one.
pub fn message(e: &CallError) -> Option<String> {
    e.upstream::<IbkrError>()?.message.clone()
}

/// Whether a failure says the brokerage session is not authenticated (a 401).
pub fn is_session_gone(e: &CallError) -> bool {
    e.status() == Some(401)
}

/// A failed read or a refused write as the user sees it. `what` names the action ("reading orders").
pub fn to_broker(what: &str, e: &CallError) -> BrokerError {
    described(what, e, message(e), GATEWAY_LOGIN_AGAIN)
}

/// A failed IBKR call as the user sees it, for every IBKR API: `message` is IBKR's own text of the failure
/// (each API words its error body its own way), `log_in_again` what a 401 tells the user.
pub fn described(what: &str, e: &CallError, message: Option<String>, log_in_again: &str) -> BrokerError {
    match e {
        CallError::Status { status: 401, .. } => BrokerError::LogInAgain(log_in_again.into()),
        CallError::Status {
            status: 429,
            retry_after,
            ..
        } => BrokerError::RateLimited {
            retry_after: *retry_after,
        },
        CallError::Status { status: 404, .. } => {
            BrokerError::NotFound(message.unwrap_or_else(|| format!("IBKR found nothing {what}")))
        }
        // A timeout on IBKR's side says nothing about the request itself: not a refusal.
        CallError::Status { status: 408, .. } => {
            BrokerError::Unavailable(format!("IBKR timed out {what} (HTTP 408)"))
        }
        CallError::Status { status, .. } if *status >= 500 => {
            BrokerError::Unavailable(format!("IBKR answered {status} {what}"))
        }
        CallError::Status { status, .. } => {
            BrokerError::Rejected(message.unwrap_or_else(|| format!("IBKR refused {what} (HTTP {status})")))
        }
        CallError::NotSent(d) | CallError::NoAnswer(d) => {
            BrokerError::Unavailable(format!("IBKR {what}: {d}"))
        }
        CallError::Decode(d) => BrokerError::Internal(format!("IBKR {what}: {d}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, body: &str) -> CallError {
        CallError::status_of::<IbkrError>(code, body)
    }

    #[test]
    fn the_body_is_parsed_once_and_mapped_by_status() {
        let e = status(400, r#"{"error":"Invalid \n quantity","statusCode":400}"#);
        assert_eq!(message(&e).as_deref(), Some("Invalid   quantity"));
        assert_eq!(e.upstream::<IbkrError>().unwrap().code().as_deref(), Some("400"));
        assert_eq!(
            to_broker("placing", &e),
            BrokerError::Rejected("Invalid   quantity".into())
        );
        let gone = status(
            401,
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/testdata/ibkr/error_401.json"
            )),
        );
        assert!(is_session_gone(&gone));
        match to_broker("reading", &gone) {
            BrokerError::LogInAgain(m) => assert!(m.contains("log in to the Client Portal gateway again")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            to_broker("x", &status(429, "")),
            BrokerError::RateLimited { .. }
        ));
        assert!(matches!(
            to_broker("x", &status(503, "<html>")),
            BrokerError::Unavailable(_)
        ));
        // IBKR timing out is no refusal: the user is told to try again, not that the order is wrong.
        assert_eq!(
            to_broker("placing", &status(408, "")),
            BrokerError::Unavailable("IBKR timed out placing (HTTP 408)".into())
        );
        assert_eq!(
            to_broker("cancelling", &status(403, "<html>")),
            BrokerError::Rejected("IBKR refused cancelling (HTTP 403)".into())
        );
        assert!(IbkrError::parse("<html>").is_none() && IbkrError::parse("{}").is_none());
    }
}
