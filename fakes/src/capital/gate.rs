//! The middleware every HTTP request goes through: it logs the request, applies injected faults, checks
//! the session tokens and the per-session rate limit, and echoes the tokens on the answer the way the
//! upstream does.

use super::options::Fault;
use super::options::LoggedRequest;
use super::state::{Shared, State};
use super::wire::{json_response, ApiError};
use axum::extract::{Request, State as AxState};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The session a request was authenticated with (a request extension for the handlers).
#[derive(Clone, Debug)]
pub(super) struct Ctx {
    pub cst: String,
    pub user: usize,
}

impl State {
    /// Checks that `cst`/`token` name one live session; a session idle for too long dies here.
    pub fn check_session(&mut self, cst: &str, token: &str) -> Result<usize, ApiError> {
        let invalid = || ApiError::new(401, "error.invalid.session.token");
        let now = self.now();
        let idle = self.idle_expiry;
        let session = self.sessions.get(cst).ok_or_else(invalid)?;
        if session.token != token {
            return Err(invalid());
        }
        if now - session.last_used >= idle {
            self.end_session(cst);
            return Err(invalid());
        }
        Ok(session.user)
    }

    /// Marks a session as used now (keeps it alive for another idle period).
    pub fn touch(&mut self, cst: &str) {
        let now = self.now();
        if let Some(s) = self.sessions.get_mut(cst) {
            s.last_used = now;
        }
    }

    /// The current account of the session behind a request.
    pub fn ctx_account(&self, ctx: &Ctx) -> Result<usize, ApiError> {
        self.sessions
            .get(&ctx.cst)
            .map(|s| s.account)
            .ok_or_else(|| ApiError::new(401, "error.invalid.session.token"))
    }

    /// Appends a request to the log; returns its id (to set the status later).
    fn log_request(&mut self, method: &str, path: &str, query: &str, cst: Option<String>) -> u64 {
        self.next_log += 1;
        let id = self.next_log;
        self.log.push((
            id,
            LoggedRequest {
                at: Instant::now(),
                method: method.to_string(),
                path: path.to_string(),
                query: query.to_string(),
                cst,
                status: 0,
            },
        ));
        id
    }

    /// Takes the first pending fault that matches (a `Status` fault with times left stays queued).
    fn take_fault(&mut self, method: &str, path: &str) -> Option<Fault> {
        let i = self.faults.iter().position(|f| f.matches(method, path))?;
        let fault = self.faults[i].clone();
        if let Fault::Status { times, .. } = &mut self.faults[i] {
            if *times <= 1 {
                self.faults.remove(i);
            } else {
                *times -= 1;
            }
            return Some(fault);
        }
        Some(self.faults.remove(i))
    }
}

impl Shared {
    fn finish(&self, id: u64, status: u16) {
        let mut st = self.lock();
        if let Some((_, r)) = st.log.iter_mut().find(|(i, _)| *i == id) {
            r.status = status;
        }
    }

    /// Session check + rate limit + housekeeping for an authenticated call.
    fn authenticate(&self, headers: &HeaderMap) -> Result<Ctx, ApiError> {
        let cst = header(headers, "CST");
        let token = header(headers, "X-SECURITY-TOKEN");
        let (Some(cst), Some(token)) = (cst, token) else {
            // Observed upstream behaviour for a call without tokens (not in the official examples).
            return Err(ApiError::bad("error.null.client.token"));
        };
        let mut st = self.lock();
        let user = st.check_session(&cst, &token)?;
        let limit = self.requests_per_second as usize;
        let now = Instant::now();
        if let Some(session) = st.sessions.get_mut(&cst) {
            prune(&mut session.window, now);
            if session.window.len() >= limit {
                return Err(ApiError::new(429, "error.too-many.requests"));
            }
            session.window.push_back(now);
        }
        st.touch(&cst);
        st.housekeep();
        Ok(Ctx { cst, user })
    }
}

/// Drops the entries of a rate window older than one second.
pub(super) fn prune(window: &mut std::collections::VecDeque<Instant>, now: Instant) {
    while window
        .front()
        .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
    {
        window.pop_front();
    }
}

/// A header as a string, if present and non-empty.
pub(super) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// Calls that need no session: the clock, the login and its encryption key, and the WebSocket
/// upgrade (its messages carry the tokens).
fn is_public(method: &str, path: &str) -> bool {
    matches!(
        (method, path),
        ("GET", "/time") | ("POST", "/session") | ("GET", "/session/encryptionKey")
    ) || path == "/connect"
}

/// The middleware.
pub(super) async fn gate(AxState(shared): AxState<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_string();
    let full = req.uri().path().to_string();
    let path = match full.strip_prefix("/api/v1") {
        Some("") => "/".to_string(),
        Some(p) => p.to_string(),
        None => full.clone(),
    };
    let query = req.uri().query().unwrap_or("").to_string();
    let (id, fault) = {
        let mut st = shared.lock();
        let id = st.log_request(&method, &path, &query, header(req.headers(), "CST"));
        (id, st.take_fault(&method, &path))
    };
    let mut hang = None;
    match fault {
        Some(Fault::Status { status, body, .. }) => {
            shared.finish(id, status);
            return json_response(status, body);
        }
        Some(Fault::DelayBefore { delay, .. }) => tokio::time::sleep(delay).await,
        Some(Fault::AcceptThenHang { delay, .. }) => hang = Some(delay),
        None => {}
    }
    let mut tokens = None;
    if full.starts_with("/api/v1") && !is_public(&method, &path) {
        match shared.authenticate(req.headers()) {
            Ok(ctx) => {
                tokens = Some((
                    ctx.cst.clone(),
                    header(req.headers(), "X-SECURITY-TOKEN").unwrap_or_default(),
                ));
                req.extensions_mut().insert(ctx);
            }
            Err(e) => {
                shared.finish(id, e.status);
                return e.into_response();
            }
        }
    }
    let mut resp = next.run(req).await;
    if let Some((cst, token)) = tokens {
        // Like the upstream, every authenticated answer carries the session tokens.
        if let (Ok(c), Ok(t)) = (HeaderValue::from_str(&cst), HeaderValue::from_str(&token)) {
            resp.headers_mut().insert("CST", c);
            resp.headers_mut().insert("X-SECURITY-TOKEN", t);
        }
    }
    shared.finish(id, resp.status().as_u16());
    if let Some(delay) = hang {
        tokio::time::sleep(delay).await;
    }
    resp
}

/// Answer for paths the fake does not know.
pub(super) async fn fallback() -> Response {
    ApiError::new(404, "error.not-found.path").into_response()
}
