//! The OAuth endpoints below `/v1/api/oauth/`: request token, access token, live session token. Each
//! checks its own RSA-SHA256 signature through [`crate::ibkr_auth::three_legged`], over the URL the
//! client called (`OriginalUri`: the nested router strips `/v1/api`).

use super::state::Shared;
use super::wire::{json_response, ok};
use crate::ibkr_auth::{form_pairs, request_url, Refusal};
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use std::sync::Arc;

/// The pieces every OAuth endpoint verifies.
struct Signed {
    method: String,
    url: String,
    form: Vec<(String, String)>,
    authorization: Option<String>,
}

impl Signed {
    fn of(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Signed {
        Signed {
            method: method.as_str().to_string(),
            url: request_url(headers, uri),
            form: form_pairs(headers, std::str::from_utf8(body).unwrap_or("")),
            authorization: headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        }
    }
}

fn refused(refusal: Refusal) -> Response {
    json_response(refusal.status, serde_json::json!({ "error": refusal.message() }))
}

/// `POST /oauth/request_token`.
pub(super) async fn request_token(
    State(shared): State<Arc<Shared>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let s = Signed::of(&method, &uri, &headers, &body);
    match shared
        .auth
        .request_token(&s.method, &s.url, s.authorization.as_deref(), &s.form)
    {
        Ok(answer) => ok(answer),
        Err(refusal) => refused(refusal),
    }
}

/// `POST /oauth/access_token`.
pub(super) async fn access_token(
    State(shared): State<Arc<Shared>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let s = Signed::of(&method, &uri, &headers, &body);
    match shared
        .auth
        .access_token(&s.method, &s.url, s.authorization.as_deref(), &s.form)
    {
        Ok(issued) => ok(serde_json::json!({
            "oauth_token": issued.access_token,
            "oauth_token_secret": issued.encrypted_secret,
        })),
        Err(refusal) => refused(refusal),
    }
}

/// `POST /oauth/live_session_token`.
pub(super) async fn live_session_token(
    State(shared): State<Arc<Shared>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let s = Signed::of(&method, &uri, &headers, &body);
    match shared
        .auth
        .live_session_token(&s.method, &s.url, s.authorization.as_deref(), &s.form)
    {
        Ok((_, answer)) => ok(answer),
        Err(refusal) => refused(refusal),
    }
}
