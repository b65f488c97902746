//! What a real IBKR server verifies before it serves a call, for the fake IBKR's HTTP handlers: OAuth 1.0a
//! ([`oauth1::Oauth1Server`]: RSA-SHA256 and HMAC-SHA256 signatures over the base string rebuilt from the
//! request, nonce uniqueness, the timestamp window, the server side of the live session token exchange,
//! token expiry) and OAuth 2.0 ([`oauth2::Oauth2Server`]: the client-assertion JWT, the SSO-session JWT,
//! bearer tokens that expire), and the three-legged grant of the Third-Party Web API
//! ([`three_legged::ThreeLeggedServer`]: request token, user authorisation, verifier, many access tokens).
//! Written from IBKR's OAuth guide and Web API reference, independently of
//! the bridge's client code.

pub mod oauth1;
pub mod oauth2;
#[cfg(test)]
mod tests;
pub mod three_legged;
mod wire;

pub use wire::{base_string, parse_oauth_header, pct, pct_decode};

use std::sync::Arc;

/// The fake's clock: unix milliseconds now (tests move it).
pub type NowMs = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> NowMs {
    Arc::new(|| chrono::Utc::now().timestamp_millis())
}

/// Who a verified call comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The OAuth 1.0a consumer key or the OAuth 2.0 client id.
    pub client: String,
    /// The access token (OAuth 1.0a) or the IBKR username of the SSO session (OAuth 2.0).
    pub user: String,
}

/// A refused call: the HTTP status and IBKR's JSON error body. No IBKR document shows the body of an
/// OAuth refusal; the fake answers the `{"error": ..., "statusCode": ...}` shape of the Web API's other
/// errors.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub body: serde_json::Value,
}

impl Refusal {
    /// A 401 naming `why`.
    pub fn unauthorized(why: impl Into<String>) -> Refusal {
        Refusal::with_status(401, why)
    }

    /// A refusal with `status` naming `why`.
    pub fn with_status(status: u16, why: impl Into<String>) -> Refusal {
        let why = why.into();
        Refusal {
            status,
            body: serde_json::json!({ "error": why, "statusCode": status }),
        }
    }

    /// The error text.
    pub fn message(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }
}

impl axum::response::IntoResponse for Refusal {
    fn into_response(self) -> axum::response::Response {
        let status =
            axum::http::StatusCode::from_u16(self.status).unwrap_or(axum::http::StatusCode::UNAUTHORIZED);
        (status, axum::Json(self.body)).into_response()
    }
}

/// The URL a client of the fake called (the fake serves plain HTTP), as its base string names it: from the
/// `Host` header and the request target, query included.
pub fn request_url(headers: &axum::http::HeaderMap, uri: &axum::http::Uri) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}{uri}")
}

/// The decoded pairs of an `application/x-www-form-urlencoded` body (they are in the base string); none for
/// any other body (a JSON body never is).
pub fn form_pairs(headers: &axum::http::HeaderMap, body: &str) -> Vec<(String, String)> {
    let is_form = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        serde_urlencoded::from_str(body).unwrap_or_default()
    } else {
        Vec::new()
    }
}
