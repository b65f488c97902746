//! The HTTP layer: one router per spec area, merged under the configured base path, with CORS, request
//! ids, tracing, a body limit, and envelope answers for unknown routes and wrong methods.

mod accounts;
pub mod audit;
pub mod client_addr;
mod cors;
pub mod datafeed;
mod envelope;
pub mod extract;
pub(crate) mod market;
pub mod oauth;
mod order_form;
mod positions;
mod request_id;
pub mod session;
pub mod stream_life;
mod streams;
mod trading;
pub mod upstream_logout;

pub use crate::state::AppState;

use crate::error::ApiError;
use axum::extract::{DefaultBodyLimit, OriginalUri, Request};
use axum::http::HeaderName;
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The complete application router for `state`.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(session::router())
        .merge(accounts::router())
        .merge(trading::router())
        .merge(positions::router())
        .merge(market::router())
        .merge(streams::router())
        .merge(datafeed::router())
        .merge(oauth::router(&state.config().oauth))
        .fallback(unknown_endpoint)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            upstream_logout::end_when_grant_gone,
        ));
    let base = state.config().server.base_path.clone();
    let root = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .method_not_allowed_fallback(method_not_allowed);
    let root =
        crate::metrics::serve::on_main(root, &state.config().metrics, &|name| std::env::var(name).ok());
    let app = if base.is_empty() {
        root.merge(api)
    } else {
        root.nest(&base, api).fallback(unknown_endpoint)
    };
    if state.config().metrics.enabled {
        crate::metrics::install();
    }
    let limit = state.config().server.max_body_bytes;
    let cors = cors::layer(&state.config().server.cors_origins);
    app.layer(axum::middleware::from_fn(crate::metrics::http::track))
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::map_response(envelope::ensure_envelope))
        .layer(cors)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        // One INFO line per request with status and latency; headers (and so tokens) are never logged.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, request_id::RandomRequestId))
        .with_state(state)
}

async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "s": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// Readiness for orchestrators and load balancers: 200 when the upstream answers, 503 when it does not or
/// the server is shutting down, with the upstream URL and the reason.
async fn readyz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let mut readiness = state.broker().readiness().await;
    let mut errmsg = readiness.reason.as_ref().map(|reason| match &readiness.upstream {
        Some(url) => format!("upstream {url} unreachable: {reason}"),
        None => reason.clone(),
    });
    if state.shutdown().is_stopping() {
        readiness.ready = false;
        errmsg = Some("the server is shutting down".into());
    }
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    // The store is reported, not required: replicas share one Redis, so taking every one of them out of
    // the load balancer during a Redis outage would stop reads and streams that still work. Orders with a
    // requestId are refused meanwhile, each with its reason.
    let store = state.store();
    let store_check = tokio::time::timeout(std::time::Duration::from_secs(1), store.ping()).await;
    let store_error = match store_check {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some("the state store did not answer within 1 s".to_string()),
    };
    let mut store_body = serde_json::json!({ "kind": store.kind(), "ok": store_error.is_none() });
    if let Some(e) = store_error {
        store_body["errmsg"] = serde_json::json!(e);
    }
    let mut body = serde_json::json!({
        "s": if readiness.ready { "ok" } else { "error" },
        "ready": readiness.ready,
        "upstream": readiness.upstream,
        "store": store_body,
    });
    if let Some(errmsg) = errmsg {
        body["errmsg"] = serde_json::json!(errmsg);
    }
    (status, Json(body)).into_response()
}

// Inside `nest` the request's URI has the base path stripped; the user sent the original one.
async fn unknown_endpoint(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::UnknownEndpoint(uri.path().to_owned())
}

async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}
