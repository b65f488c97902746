//! How one upstream HTTP call failed, classified by whether a write may have been carried out anyway.
//!
//! Every backend's raw client reports failures with [`CallError`]; the session layers above decide from
//! [`CallError::is_ambiguous`] whether a failed write must be looked up upstream before answering (it is never
//! simply sent again).

use reqwest::StatusCode;
use std::time::Duration;

/// Longest upstream error code carried into a `Display` (anything longer is cut).
const MAX_CODE_LEN: usize = 120;

/// How one upstream call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// The upstream answered with a non-success status.
    Status {
        status: u16,
        body: String,
        retry_after: Option<Duration>,
    },
    /// Nothing was sent (connection refused, DNS): safe to retry even a write.
    NotSent(String),
    /// The request may have reached the upstream but no answer arrived (timeout, connection reset).
    NoAnswer(String),
    /// The answer arrived but is not what the documentation describes.
    Decode(String),
}

impl CallError {
    /// Whether a write that failed this way may nevertheless have been carried out upstream.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            CallError::NoAnswer(_) => true,
            // A server error after the request arrived says nothing about whether the write was made.
            CallError::Status { status, .. } => *status >= 500,
            CallError::Decode(_) => true,
            CallError::NotSent(_) => false,
        }
    }

    /// The HTTP status of a `Status` failure.
    pub fn status(&self) -> Option<u16> {
        match self {
            CallError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Status { status, body, .. } => {
                let code = error_code(body).unwrap_or_default();
                write!(f, "HTTP {status} {code}")
            }
            CallError::NotSent(e) => write!(f, "not sent: {e}"),
            CallError::NoAnswer(e) => write!(f, "no answer: {e}"),
            CallError::Decode(e) => write!(f, "unexpected answer: {e}"),
        }
    }
}

/// Result of one call.
pub type CallResult<T> = Result<T, CallError>;

/// The error code of a JSON error body: `errorCode` (Capital.com, OANDA v20) or `code` (OANDA v1), printable
/// characters only and bounded, so that it can go to a log line.
pub fn error_code(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let code = match value.get("errorCode").or_else(|| value.get("code"))? {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let code: String = code
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_CODE_LEN)
        .collect();
    (!code.is_empty()).then_some(code)
}

/// Classifies a transport failure of reqwest (the URL is dropped: it may carry ids).
pub fn classify(e: reqwest::Error) -> CallError {
    let e = e.without_url();
    // A connection that was never made, or a request that could not be built, reached nobody.
    if e.is_connect() || e.is_builder() {
        CallError::NotSent(e.to_string())
    } else {
        CallError::NoAnswer(e.to_string())
    }
}

/// The advised delay of a 429 or 503 (`Retry-After` seconds, at most a minute), if any.
pub fn retry_after(headers: &reqwest::header::HeaderMap, status: StatusCode) -> Option<Duration> {
    if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::SERVICE_UNAVAILABLE {
        return None;
    }
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(60)))
}

/// Percent-encodes a path segment: nothing taken from a request may alter the path it is put into.
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_cannot_escape() {
        assert_eq!(segment("EURUSD"), "EURUSD");
        assert_eq!(segment("../session"), "..%2Fsession");
        assert_eq!(segment("a b?c"), "a%20b%3Fc");
        assert_eq!(segment("@abc"), "%40abc");
    }

    #[test]
    fn ambiguity_of_failures() {
        assert!(CallError::NoAnswer("timeout".into()).is_ambiguous());
        assert!(!CallError::NotSent("refused".into()).is_ambiguous());
        let status = |s| CallError::Status {
            status: s,
            body: String::new(),
            retry_after: None,
        };
        assert!(status(502).is_ambiguous() && !status(400).is_ambiguous() && !status(401).is_ambiguous());
    }

    #[test]
    fn error_codes_of_each_upstream() {
        assert_eq!(
            error_code(r#"{"errorCode":"error.invalid.details"}"#).as_deref(),
            Some("error.invalid.details")
        );
        assert_eq!(
            error_code(r#"{"errorCode":"MARKET_HALTED","errorMessage":"x"}"#).as_deref(),
            Some("MARKET_HALTED")
        );
        assert_eq!(
            error_code(r#"{"code":43,"message":"Order not found"}"#).as_deref(),
            Some("43")
        );
        assert_eq!(error_code("<html>"), None);
        assert_eq!(error_code(r#"{"errorMessage":"no code"}"#), None);
    }
}
