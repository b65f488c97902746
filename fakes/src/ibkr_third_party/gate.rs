//! The middleware every request goes through, in this order: it logs the request; refuses an API call
//! without `User-Agent` (400); paces the consumer (429 with `Retry-After`
//! past `requests_per_second`); verifies the HMAC-SHA256 signature of a resource call with a live session
//! token (401; the `/oauth/*` endpoints check their own RSA signatures); then, on `/accounts*`, answers
//! 204 while the user waits for the nightly refresh, 403 for another user's account, and 423 when the
//! same (access token, method, path) below `/accounts/` comes again within `lock_interval`; a GET of a
//! slow resource answers 202 for its first `slow_reads` requests. A scheduled fault applies last, to a
//! request the fake would otherwise serve (so a test's fault is never spent on a refused call).

use super::faults::{self, Fault};
use super::state::{LoggedRequest, Shared, State};
use super::wire::{empty, error, json_response};
use crate::ibkr_auth::three_legged::Caller;
use crate::ibkr_auth::{form_pairs, request_url};
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State as AxState};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The API's prefix.
pub(super) const PREFIX: &str = "/v1/api";
/// Largest request body read (orders are small).
const MAX_BODY: usize = 1 << 20;

impl State {
    fn log_request(&mut self, method: &str, path: &str, query: &str) -> usize {
        self.log.push(LoggedRequest {
            at: Instant::now(),
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            status: 0,
            user: None,
        });
        self.log.len() - 1
    }

    /// The consumer's requests per second; `false` means over the limit.
    fn pace(&mut self) -> bool {
        if self.requests_per_second == 0 {
            return true;
        }
        let now = Instant::now();
        while self
            .window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            self.window.pop_front();
        }
        if self.window.len() >= self.requests_per_second as usize {
            return false;
        }
        self.window.push_back(now);
        true
    }

    /// The 423 lock: `false` when the same token polled the same method and path too recently. Only
    /// served calls restart the interval (ASSUMED), so a client retrying on 423 gets through once the
    /// interval since its last served call has passed.
    fn unlocked(&mut self, token: &str, method: &str, path: &str) -> bool {
        if self.lock_interval.is_zero() {
            return true;
        }
        let key = (token.to_string(), method.to_string(), path.to_string());
        let now = Instant::now();
        if let Some(last) = self.last_served.get(&key) {
            if now.duration_since(*last) < self.lock_interval {
                return false;
            }
        }
        self.last_served.insert(key, now);
        true
    }

    /// A slow read: `true` while the path has had no more than `slow_reads` GETs.
    fn slow(&mut self, path: &str) -> bool {
        if self.slow_reads == 0 {
            return false;
        }
        let seen = self.reads.entry(path.to_string()).or_default();
        *seen += 1;
        *seen <= self.slow_reads
    }

    /// The `/accounts*` rules for a verified caller; `Some` is the answer.
    fn account_rules(
        &mut self,
        caller: &Caller,
        method: &str,
        path: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<Response> {
        if !(path == "/accounts" || path.starts_with("/accounts/")) {
            return None;
        }
        if self.awaiting_refresh(&caller.user, now) {
            return Some(empty(204));
        }
        let rest = path.strip_prefix("/accounts/")?;
        let account = rest.split('/').next().unwrap_or("");
        let owner = self.accounts.get(account).map(|a| a.user.as_str());
        if owner != Some(caller.user.as_str()) {
            return Some(error(403, "Account not authorized"));
        }
        if !self.unlocked(&caller.access_token, method, path) {
            return Some(error(423, "Resource locked"));
        }
        None
    }
}

/// A 429 with `Retry-After: 1`.
fn too_many() -> Response {
    let mut resp = error(429, "Too many requests");
    resp.headers_mut()
        .insert("retry-after", HeaderValue::from_static("1"));
    resp
}

/// The answer of a `Status` fault.
fn injected(status: u16) -> Response {
    match status {
        202 | 204 => empty(status),
        429 => too_many(),
        _ => json_response(
            status,
            serde_json::json!({ "error": format!("injected failure {status}") }),
        ),
    }
}

/// The middleware.
pub(super) async fn gate(AxState(shared): AxState<Arc<Shared>>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_string();
    let full = req.uri().path().to_string();
    let api = full.starts_with(PREFIX);
    let path = match full.strip_prefix(PREFIX) {
        Some("") => "/".to_string(),
        Some(p) => p.to_string(),
        None => full.clone(),
    };
    let query = req.uri().query().unwrap_or("").to_string();
    let (mut parts, body) = req.into_parts();
    let id = shared.lock().log_request(&method, &path, &query);
    let finish = |resp: Response| {
        if let Some(r) = shared.lock().log.get_mut(id) {
            r.status = resp.status().as_u16();
        }
        resp
    };
    let Ok(body) = to_bytes(body, MAX_BODY).await else {
        return finish(error(413, "request body too large"));
    };
    if api && !parts.headers.contains_key("user-agent") {
        return finish(error(400, "User-Agent header required"));
    }
    if api {
        if !shared.lock().pace() {
            return finish(too_many());
        }
        if !path.starts_with("/oauth/") {
            let form = form_pairs(&parts.headers, std::str::from_utf8(&body).unwrap_or(""));
            let url = request_url(&parts.headers, &parts.uri);
            let authorization = parts.headers.get("authorization").and_then(|v| v.to_str().ok());
            let caller = match shared.auth.verify(&method, &url, authorization, &form) {
                Ok(caller) => caller,
                Err(refusal) => {
                    return finish(json_response(
                        refusal.status,
                        serde_json::json!({ "error": refusal.message() }),
                    ))
                }
            };
            let now = shared.now();
            let answered = {
                let mut st = shared.lock();
                if let Some(r) = st.log.get_mut(id) {
                    r.user = Some(caller.user.clone());
                }
                st.account_rules(&caller, &method, &path, now)
                    .or_else(|| (method == "GET" && st.slow(&path)).then(|| empty(202)))
            };
            if let Some(resp) = answered {
                return finish(resp);
            }
            parts.extensions.insert(caller);
        }
    }
    let fault = faults::take(&mut shared.lock().faults, &method, &path);
    let mut after = None;
    match fault {
        Some(Fault::Status { status, .. }) => return finish(injected(status)),
        Some(Fault::Delay { delay, .. }) => tokio::time::sleep(delay).await,
        Some(other) => after = Some(other),
        None => {}
    }
    let resp = next.run(Request::from_parts(parts, Body::from(body))).await;
    match after {
        Some(Fault::AcceptThenStatus { status, .. }) => finish(injected(status)),
        Some(Fault::AcceptThenHang { delay, .. }) => {
            let resp = finish(resp);
            tokio::time::sleep(delay).await;
            resp
        }
        _ => finish(resp),
    }
}

/// Answer for paths the fake does not know.
pub(super) async fn fallback() -> Response {
    error(404, "Not Found")
}
