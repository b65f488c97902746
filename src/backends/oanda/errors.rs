//! OANDA failures as [`BrokerError`]s: the status decides the kind, the upstream's own message (v20
//! `errorMessage`, v1 `message`) is carried into the text the user sees. Order rejections get their
//! reject reason from each version's own module; this is the common ground.

use super::v20::model::ErrorBody as V20Body;
use crate::broker::BrokerError;
use crate::upstream::call::CallError;
use crate::upstream::transport::ErrorBody;

/// Longest upstream message carried into a user-visible error.
const MAX_MESSAGE_LEN: usize = 200;
/// Longest error code carried into a log line.
const MAX_CODE_LEN: usize = 120;

/// What an OANDA error body says, parsed once by the transport when a call fails: the readable message,
/// the v20 fields (`errorCode`, the reject transactions) and the v1 `code`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OandaError {
    /// v20 `errorMessage` or v1 `message`, printable and bounded.
    pub message: Option<String>,
    /// The v20 body (all fields empty on a v1 body).
    pub v20: V20Body,
    /// The v1 numeric code.
    pub v1_code: Option<i64>,
}

impl ErrorBody for OandaError {
    fn parse(body: &str) -> Option<Self> {
        let value: serde_json::Value = serde_json::from_str(body).ok()?;
        if !value.is_object() {
            return None;
        }
        Some(OandaError {
            message: message_of(&value),
            v1_code: value.get("code").and_then(serde_json::Value::as_i64),
            v20: serde_json::from_value(value).unwrap_or_default(),
        })
    }

    fn code(&self) -> Option<String> {
        match (&self.v20.error_code, self.v1_code) {
            (Some(code), _) => printable(code, MAX_CODE_LEN),
            (None, Some(code)) => Some(code.to_string()),
            (None, None) => None,
        }
    }
}

/// The OANDA error body of a failed call, as the transport parsed it.
pub fn parsed(e: &CallError) -> Option<&OandaError> {
    e.upstream::<OandaError>()
}

/// The readable message of an OANDA error body: v20 `errorMessage` or v1 `message`, printable and bounded.
pub fn upstream_message(body: &str) -> Option<String> {
    message_of(&serde_json::from_str(body).ok()?)
}

fn message_of(value: &serde_json::Value) -> Option<String> {
    let text = value
        .get("errorMessage")
        .or_else(|| value.get("message"))?
        .as_str()?;
    printable(text, MAX_MESSAGE_LEN)
}

/// `text` trimmed, without control characters and at most `max` characters long; `None` when empty.
fn printable(text: &str, max: usize) -> Option<String> {
    let text: String = text
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect();
    (!text.is_empty()).then_some(text)
}

/// A write OANDA did not confirm, told to the user as it stands (unknown, or unchanged, and to be checked
/// before trying again). Not "unavailable": the HTTP layer shows this text, while "unavailable" becomes a
/// generic "try again", which after an unknown outcome invites a double order. A placement that ended so
/// keeps its requestId: the resend looks the order up first.
pub fn unconfirmed(statement: impl Into<String>) -> BrokerError {
    BrokerError::OutcomeUnknown(statement.into())
}

/// Maps a failed call about `what` (e.g. "order 42", "account 101-004-1-001") to a [`BrokerError`].
pub fn broker_error(e: &CallError, what: &str) -> BrokerError {
    match e {
        CallError::Status {
            status, retry_after, ..
        } => {
            let message = parsed(e).and_then(|b| b.message.clone());
            match status {
                401 => BrokerError::Unauthorized(format!(
                    "OANDA refused the access token{}",
                    message.map(|m| format!(": {m}")).unwrap_or_default()
                )),
                403 => BrokerError::Rejected(format!(
                    "OANDA does not allow this token to use {what}{}",
                    message.map(|m| format!(": {m}")).unwrap_or_default()
                )),
                404 => BrokerError::NotFound(match message {
                    Some(m) => format!("{what}: {m}"),
                    None => format!("{what} was not found at OANDA"),
                }),
                429 => BrokerError::RateLimited {
                    retry_after: *retry_after,
                },
                s if *s >= 500 => BrokerError::Unavailable(format!("OANDA answered HTTP {s} for {what}")),
                _ => BrokerError::Rejected(match message {
                    Some(m) => format!("OANDA refused {what}: {m}"),
                    None => format!("OANDA refused {what} (HTTP {status})"),
                }),
            }
        }
        CallError::NotSent(e) => BrokerError::Unavailable(format!("OANDA could not be reached: {e}")),
        CallError::NoAnswer(e) => BrokerError::Unavailable(format!("OANDA did not answer: {e}")),
        CallError::Decode(e) => BrokerError::Internal(format!("unexpected OANDA answer: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, body: &str) -> CallError {
        CallError::status_of::<OandaError>(status, body)
    }

    #[test]
    fn error_bodies_of_both_versions_are_parsed_once_with_their_codes() {
        let v20 = status(400, r#"{"errorCode":"MARKET_HALTED","errorMessage":"x"}"#);
        let b = parsed(&v20).unwrap();
        assert_eq!(b.code().as_deref(), Some("MARKET_HALTED"));
        assert_eq!(b.message.as_deref(), Some("x"));
        assert_eq!(v20.to_string(), "HTTP 400 MARKET_HALTED");
        let v1 = status(404, r#"{"code":43,"message":"Order not found"}"#);
        assert_eq!(parsed(&v1).unwrap().code().as_deref(), Some("43"));
        assert_eq!(parsed(&v1).unwrap().v1_code, Some(43));
        assert!(parsed(&status(502, "<html>")).is_none());
        assert_eq!(
            parsed(&status(400, r#"{"errorMessage":"no code"}"#))
                .unwrap()
                .code(),
            None
        );
    }

    #[test]
    fn statuses_map_to_kinds_with_the_upstream_words() {
        let e = broker_error(
            &status(
                401,
                r#"{"errorMessage":"Insufficient authorization to perform request."}"#,
            ),
            "accounts",
        );
        assert!(matches!(e, BrokerError::Unauthorized(m) if m.contains("Insufficient authorization")));
        let e = broker_error(
            &status(404, r#"{"code":43,"message":"Order not found"}"#),
            "order 7",
        );
        assert_eq!(e, BrokerError::NotFound("order 7: Order not found".into()));
        assert!(matches!(
            broker_error(&status(429, "{}"), "x"),
            BrokerError::RateLimited { .. }
        ));
        assert!(matches!(
            broker_error(&status(503, "<html>"), "x"),
            BrokerError::Unavailable(_)
        ));
        let e = broker_error(
            &status(400, r#"{"errorMessage":"Invalid value specified for 'units'"}"#),
            "the order",
        );
        assert_eq!(
            e,
            BrokerError::Rejected("OANDA refused the order: Invalid value specified for 'units'".into())
        );
        assert!(
            matches!(broker_error(&status(403, "{}"), "account 1"), BrokerError::Rejected(m) if m.contains("account 1"))
        );
        assert!(matches!(
            broker_error(&CallError::Decode("x".into()), "x"),
            BrokerError::Internal(_)
        ));
    }

    #[test]
    fn messages_are_bounded_and_printable() {
        let long = format!(r#"{{"errorMessage":"a\u0007{}"}}"#, "b".repeat(500));
        let m = upstream_message(&long).unwrap();
        assert_eq!(m.chars().count(), MAX_MESSAGE_LEN);
        assert!(!m.contains('\u{7}'));
        assert_eq!(upstream_message("not json"), None);
    }
}
