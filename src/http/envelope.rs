//! The last word on error answers: any 4xx/5xx response the router produces without the JSON error
//! envelope (axum's own extractor rejections, such as a path that is not valid UTF-8, answer in plain text)
//! is rewritten into `{"s":"error","errmsg":..}`, keeping axum's explanation. A plain 400 or 422 is bad
//! input and, like every other refusal of input, answers HTTP 200 as TradingView expects.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

/// The longest explanation copied from a rejection (they can quote the request).
const MAX_DETAIL: usize = 300;

/// Rewrites a non-envelope error answer; other responses pass untouched.
pub async fn ensure_envelope(response: Response) -> Response {
    let status = response.status();
    // JSON is already an answer (TradingView's envelope, or an OAuth error); HTML is an OAuth page.
    if !(status.is_client_error() || status.is_server_error()) || is_json(&response) || is_html(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Rejection texts are short; a body too large to read is replaced by the status's words.
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .ok()
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .filter(|t| !t.is_empty());
    let errmsg = match text {
        Some(t) if t.chars().count() > MAX_DETAIL => {
            format!("{}…", t.chars().take(MAX_DETAIL).collect::<String>())
        }
        Some(t) => t,
        None => status.canonical_reason().unwrap_or("Error").to_owned(),
    };
    let body = serde_json::json!({ "s": "error", "errmsg": errmsg }).to_string();
    if status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY {
        parts.status = StatusCode::OK;
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(body))
}

fn is_html(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}
