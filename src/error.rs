//! `ApiError`: the one place that writes TradingView's error envelope `{"s":"error","errmsg":..}` or a 401.

use crate::broker::BrokerError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde::Serialize;

/// Every way a request can fail, as TradingView must see it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No, malformed, expired or revoked token: HTTP 401 so TradingView asks the user to log in again.
    #[error("{0}")]
    Unauthorized(String),
    /// The request itself is wrong (missing or malformed field, unknown account...): HTTP 200 envelope.
    #[error("{0}")]
    BadRequest(String),
    /// A backend failure.
    #[error(transparent)]
    Broker(#[from] BrokerError),
    /// No such endpoint.
    #[error("unknown endpoint {0}")]
    UnknownEndpoint(String),
    /// The endpoint exists but not with this method.
    #[error("method {method} is not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },
    /// The body is larger than the configured limit.
    #[error("request body too large (limit {limit} bytes)")]
    PayloadTooLarge { limit: usize },
    /// The body did not arrive whole in time (HTTP 408).
    #[error("{0}")]
    RequestTimeout(String),
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A bad-request error with a message naming the problem.
    pub fn bad(msg: impl Into<String>) -> Self {
        ApiError::BadRequest(msg.into())
    }

    /// HTTP status and user-facing `errmsg`. Internal details are logged here and never sent.
    pub fn status_and_message(&self) -> (StatusCode, String) {
        match self {
            ApiError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, m.clone()),
            ApiError::BadRequest(m) => (StatusCode::OK, m.clone()),
            ApiError::UnknownEndpoint(_) => (StatusCode::NOT_FOUND, self.to_string()),
            ApiError::MethodNotAllowed { .. } => (StatusCode::METHOD_NOT_ALLOWED, self.to_string()),
            ApiError::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, self.to_string()),
            ApiError::RequestTimeout(m) => (StatusCode::REQUEST_TIMEOUT, m.clone()),
            ApiError::Broker(e) => match e {
                BrokerError::Unauthorized(detail) => {
                    tracing::info!(%detail, "upstream session lost; asking the user to log in again");
                    let message = "Your broker session has ended. Please log in again.";
                    (StatusCode::UNAUTHORIZED, message.into())
                }
                BrokerError::LogInAgain(told) => {
                    tracing::info!(%told, "upstream session lost; telling the user what to do first");
                    (StatusCode::UNAUTHORIZED, told.clone())
                }
                BrokerError::Rejected(m) | BrokerError::NotFound(m) | BrokerError::OutcomeUnknown(m) => {
                    (StatusCode::OK, m.clone())
                }
                BrokerError::RateLimited { retry_after } => {
                    let when = retry_after
                        .map(|d| format!(" in {} s", d.as_secs().max(1)))
                        .unwrap_or_else(|| " in a moment".into());
                    (
                        StatusCode::OK,
                        format!("The broker is limiting request rates; please try again{when}."),
                    )
                }
                BrokerError::Unavailable(detail) => {
                    tracing::warn!(%detail, "broker unavailable");
                    (
                        StatusCode::OK,
                        "The broker is temporarily unavailable; please try again.".into(),
                    )
                }
                BrokerError::Unsupported(what) => {
                    (StatusCode::OK, format!("{what} is not supported by this broker"))
                }
                BrokerError::Internal(detail) => {
                    tracing::error!(%detail, "internal error");
                    (StatusCode::OK, "Internal error; it has been logged.".into())
                }
            },
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    s: &'static str,
    errmsg: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, errmsg) = self.status_and_message();
        let mut response = (
            status,
            Json(ErrorBody {
                s: "error",
                errmsg: &errmsg,
            }),
        )
            .into_response();
        // TradingView's errors answer HTTP 200: the metrics middleware tells them from successes by this.
        if status == StatusCode::OK {
            response.extensions_mut().insert(crate::metrics::http::TvError);
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if matches!(self, ApiError::Broker(BrokerError::LogInAgain(_))) {
            response
                .extensions_mut()
                .insert(crate::http::upstream_logout::UpstreamLoggedOut);
        }
        response
    }
}

/// The success envelope `{"s":"ok","d":..}`.
pub struct TvOk<T>(pub T);

#[derive(Serialize)]
struct OkBody<T> {
    s: &'static str,
    d: T,
}

impl<T: Serialize> IntoResponse for TvOk<T> {
    fn into_response(self) -> Response {
        Json(OkBody { s: "ok", d: self.0 }).into_response()
    }
}

/// The whole success body `{"s":"ok","d":..}` as bytes, for an answer rendered once and served many times
/// ([`TvOkBytes`]); the same bytes `TvOk(d)` sends.
pub fn ok_body<T: Serialize>(d: &T) -> Result<Bytes, serde_json::Error> {
    serde_json::to_vec(&OkBody { s: "ok", d }).map(Bytes::from)
}

/// A success answer rendered before by [`ok_body`]: the same status and headers as [`TvOk`].
pub struct TvOkBytes(pub Bytes);

impl IntoResponse for TvOkBytes {
    fn into_response(self) -> Response {
        let json = HeaderValue::from_static("application/json");
        ([(header::CONTENT_TYPE, json)], self.0).into_response()
    }
}

/// The bare success envelope `{"s":"ok"}` (cancel, close, logout...).
pub struct TvDone;

impl IntoResponse for TvDone {
    fn into_response(self) -> Response {
        Json(serde_json::json!({ "s": "ok" })).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_session_shows_only_the_messages_written_for_the_user() {
        let told = "Log in to the gateway again, then log in here.";
        let gateway = ApiError::Broker(BrokerError::LogInAgain(told.into()));
        assert_eq!(
            gateway.status_and_message(),
            (StatusCode::UNAUTHORIZED, told.to_string())
        );
        let diagnosis = ApiError::Broker(BrokerError::Unauthorized(
            "OANDA refused the access token: expired".into(),
        ));
        assert_eq!(
            diagnosis.status_and_message(),
            (
                StatusCode::UNAUTHORIZED,
                "Your broker session has ended. Please log in again.".to_string()
            )
        );
    }
}
