//! How one upstream HTTP call failed, classified by whether a write may have been carried out anyway.
//!
//! Every backend's raw client reports failures with [`CallError`]; the session layers above decide from
//! [`CallError::is_ambiguous`] whether a failed write must be looked up upstream before answering (it is never
//! simply sent again).

use crate::upstream::transport::{ErrorBody, ParsedBody};
use reqwest::StatusCode;
use std::time::Duration;

/// How one upstream call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// The upstream answered with a non-success status.
    Status {
        status: u16,
        body: String,
        retry_after: Option<Duration>,
        /// The body as the backend's error type, parsed once by the transport ([`CallError::upstream`]).
        parsed: ParsedBody,
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

    /// The upstream's error body of a `Status` failure as the backend's own type `E`, parsed once when the
    /// answer came in; `None` when the body was not the documented shape.
    pub fn upstream<E: ErrorBody>(&self) -> Option<&E> {
        match self {
            CallError::Status { parsed, .. } => parsed.get(),
            _ => None,
        }
    }

    /// A `Status` failure with `body` parsed by `E`'s hook (for errors made outside a transport: tests).
    pub fn status_of<E: ErrorBody>(status: u16, body: &str) -> CallError {
        CallError::Status {
            status,
            body: body.to_string(),
            retry_after: None,
            parsed: ParsedBody::of::<E>(body),
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
            CallError::Status { status, parsed, .. } => {
                let code = parsed.code().unwrap_or_default();
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
            parsed: ParsedBody::default(),
        };
        assert!(status(502).is_ambiguous() && !status(400).is_ambiguous() && !status(401).is_ambiguous());
    }
}
