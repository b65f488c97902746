//! IBKR's error body (`{"error":"<text>"}`) and every failure of a call mapped to a [`BrokerError`] whose
//! text TradingView shows as it is: what IBKR said when it said something, else what happened in words.

use super::client::ApiError;
use crate::backends::ibkr::errors::printable;
use crate::broker::BrokerError;
use crate::upstream::call::CallError;
use crate::upstream::transport::ErrorBody;

/// What a user is told while IBKR has not made their accounts available (204 on `/accounts`).
pub const NIGHTLY_REFRESH: &str =
    "Your IBKR accounts are not available yet: IBKR makes the accounts of a new \
authorisation available after its nightly refresh (the evening of the day you authorised the bridge when \
that was before 16:55 US/Eastern, otherwise the next evening). Please try again after that refresh";

/// What a user is told when their IBKR grant no longer works.
pub const LOG_IN_AGAIN: &str =
    "IBKR no longer accepts the bridge's access for your login: log in again to grant it at Interactive Brokers";

/// IBKR's text that a `CustomerOrderId` was used before on the account (ASSUMED wording, see the wire
/// contract): the order was not placed twice.
pub const DUPLICATE_ID: &str = "duplicate customerorderid";

/// An IBKR error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TpError {
    /// The `error` text, printable and bounded.
    pub message: String,
}

impl ErrorBody for TpError {
    fn parse(body: &str) -> Option<Self> {
        let value: serde_json::Value = serde_json::from_str(body).ok()?;
        let text = value.get("error")?.as_str()?;
        printable(text).map(|message| TpError { message })
    }

    fn code(&self) -> Option<String> {
        None
    }
}

/// The `error` text of a failed call, read from the body itself (so it is found whichever error-body
/// hook the transport was built with).
pub fn message(e: &CallError) -> Option<String> {
    match e {
        CallError::Status { body, .. } => TpError::parse(body).map(|t| t.message),
        _ => None,
    }
}

/// Whether IBKR refused a placement because its `CustomerOrderId` is already used on the account.
pub fn is_duplicate_id(e: &ApiError) -> bool {
    match e {
        ApiError::Call(c) => message(c).is_some_and(|m| m.to_ascii_lowercase().contains(DUPLICATE_ID)),
        _ => false,
    }
}

/// A failure as TradingView shows it; `what` names the action ("reading orders").
pub fn to_broker(what: &str, e: &ApiError) -> BrokerError {
    match e {
        ApiError::Session(b) => b.clone(),
        // Rejected, not Unavailable: its text is shown to the user as it is.
        ApiError::NoContent => BrokerError::Rejected(NIGHTLY_REFRESH.into()),
        ApiError::Accepted => BrokerError::Unavailable(format!(
            "IBKR accepted the request {what} but had no answer ready yet; try again in a moment"
        )),
        ApiError::Locked => BrokerError::RateLimited {
            retry_after: Some(std::time::Duration::from_secs(1)),
        },
        ApiError::Call(c) => call_to_broker(what, c),
    }
}

fn call_to_broker(what: &str, e: &CallError) -> BrokerError {
    crate::backends::ibkr::errors::described(what, e, message(e), LOG_IN_AGAIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, body: &str) -> ApiError {
        ApiError::Call(CallError::status_of::<TpError>(code, body))
    }

    #[test]
    fn ibkr_texts_are_shown_and_statuses_explained() {
        assert_eq!(
            to_broker(
                "placing the order",
                &status(400, r#"{"error":"Invalid\nquantity"}"#)
            ),
            BrokerError::Rejected("Invalid quantity".into())
        );
        assert_eq!(
            to_broker("cancelling", &status(403, "<html>")),
            BrokerError::Rejected("IBKR refused cancelling (HTTP 403)".into())
        );
        assert!(matches!(
            to_broker("x", &status(401, "")),
            BrokerError::LogInAgain(_)
        ));
        assert!(matches!(
            to_broker("x", &status(429, "")),
            BrokerError::RateLimited { .. }
        ));
        assert!(matches!(
            to_broker("x", &status(502, "")),
            BrokerError::Unavailable(_)
        ));
        assert!(matches!(
            to_broker("x", &status(408, "")),
            BrokerError::Unavailable(_)
        ));
        match to_broker("reading accounts", &ApiError::NoContent) {
            BrokerError::Rejected(m) => assert!(m.contains("nightly refresh"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(is_duplicate_id(&status(
            400,
            r#"{"error":"Duplicate CustomerOrderId"}"#
        )));
        assert!(!is_duplicate_id(&status(
            400,
            r#"{"error":"Order is not working"}"#
        )));
        assert!(TpError::parse("{}").is_none() && TpError::parse("<html>").is_none());
    }
}
