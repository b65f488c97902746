//! Serving the page: on the main listener at `metrics.path` behind `Authorization: Bearer <token>`
//! (compared in constant time), and on an optional separate listener that answers `GET <path>` only.

use super::config::MetricsConfig;
use crate::error::ApiError;
use crate::secret::Secret;
use axum::extract::OriginalUri;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::net::SocketAddr;

/// The exposition format the page is in.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `root` with the page at `config.path` when a token is configured (`env` reads it); without one the
/// path is left to the router's fallback, so it answers like any unknown endpoint: the main listener
/// faces TradingView and the internet, and an operator who wants the page there says so with a token.
pub fn on_main<S: Clone + Send + Sync + 'static>(
    root: Router<S>,
    config: &MetricsConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Router<S> {
    if !config.enabled {
        return root;
    }
    let Some(token) = config.token(env) else {
        return root;
    };
    root.route(
        &config.path,
        get(move |headers: HeaderMap| {
            let token = token.clone();
            async move { guarded(&token, &headers) }
        }),
    )
}

fn guarded(token: &Secret, headers: &HeaderMap) -> Response {
    let offered = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match offered {
        Some(offered) if token.constant_time_eq(offered) => page(),
        Some(_) => ApiError::Unauthorized("the metrics token is not right".into()).into_response(),
        None => ApiError::Unauthorized("the metrics page needs Authorization: Bearer <metrics token>".into())
            .into_response(),
    }
}

/// The page itself.
pub fn page() -> Response {
    match super::recorder::render() {
        Some(text) => (
            [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
            text,
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            "metrics are not recorded by this process\n",
        )
            .into_response(),
    }
}

/// The separate listener's router: `GET <path>` and nothing else.
pub fn side_router(path: &str) -> Router {
    Router::new()
        .route(path, get(|| async { page() }))
        .fallback(
            |OriginalUri(uri): OriginalUri| async move { ApiError::UnknownEndpoint(uri.path().to_owned()) },
        )
        .method_not_allowed_fallback(|method: Method, OriginalUri(uri): OriginalUri| async move {
            ApiError::MethodNotAllowed {
                method: method.to_string(),
                path: uri.path().to_owned(),
            }
        })
}

/// Connections the separate listener holds at most (Prometheus needs one).
pub const SIDE_MAX_CONNECTIONS: usize = 8;

/// Binds the separate listener, if configured: a clear start-up error when it cannot.
pub async fn bind_side(config: &MetricsConfig) -> anyhow::Result<Option<tokio::net::TcpListener>> {
    if !config.enabled || config.listen.trim().is_empty() {
        return Ok(None);
    }
    let addr: SocketAddr = config
        .listen_addr()
        .ok_or_else(|| anyhow::anyhow!("metrics.listen is not an address: {:?}", config.listen))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} (metrics.listen): {e}"))?;
    Ok(Some(listener))
}
