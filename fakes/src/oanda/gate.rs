//! The middleware every request on both listeners goes through: it logs the request (body included),
//! applies injected faults, checks the bearer token and the per-token rate limit, lets lapsed orders
//! expire, and stamps v20 answers with a `RequestID`. Also the account checks handlers share.

use super::options::{Fault, LoggedRequest};
use super::state::{Shared, State};
use super::wire::{status_error, v1_bad, v1_error, v20_error, with_request_id, Api, Fail};
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State as AxState};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Who is calling (a request extension for the handlers).
#[derive(Clone, Debug)]
pub(super) struct Ctx {
    pub token: String,
    pub request_id: u64,
}

/// The gate's state: the shared fake and which listener it guards.
#[derive(Clone)]
pub(super) struct Gate {
    pub shared: Arc<Shared>,
    pub stream: bool,
}

/// Largest request body the fake reads.
const MAX_BODY: usize = 1 << 20;

/// How long a "timeout after accept" answer is withheld.
const HANG: Duration = Duration::from_secs(3600);

impl State {
    fn log_request(&mut self, req: LoggedRequest) -> u64 {
        self.next_log += 1;
        let id = self.next_log;
        self.log.push((id, req));
        id
    }

    fn finish(&mut self, id: u64, status: u16) {
        if let Some((_, r)) = self.log.iter_mut().find(|(i, _)| *i == id) {
            r.status = status;
        }
    }

    /// Takes the first pending fault matching the request (a `Status` fault with times left stays).
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
        self.faults.remove(i);
        Some(fault)
    }

    /// Token check then rate limit: the token, or the error status.
    fn admit(&mut self, headers: &HeaderMap, limit: u32) -> Result<String, u16> {
        let token = bearer(headers).ok_or(401u16)?;
        if self.token(&token).is_none() {
            return Err(401);
        }
        let now = Instant::now();
        let window = self.windows.entry(token.clone()).or_default();
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            window.pop_front();
        }
        if window.len() >= limit as usize {
            return Err(429);
        }
        window.push_back(now);
        Ok(token)
    }
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

/// The middleware.
pub(super) async fn gate(AxState(gate): AxState<Gate>, req: Request, next: Next) -> Response {
    let shared = gate.shared.clone();
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, MAX_BODY).await.unwrap_or_default();
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let api = Api::of_path(&path);
    let (log_id, fault) = {
        let mut st = shared.lock();
        let id = st.log_request(LoggedRequest {
            method: method.clone(),
            path: path.clone(),
            query: parts.uri.query().unwrap_or("").to_string(),
            body: String::from_utf8_lossy(&bytes).into_owned(),
            authorization: parts
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            stream: gate.stream,
            status: 0,
        });
        (id, st.take_fault(&method, &path))
    };
    let request_id = shared.request_id();
    let finish = |resp: Response| {
        shared.lock().finish(log_id, resp.status().as_u16());
        if api == Api::V20 {
            with_request_id(resp, request_id)
        } else {
            resp
        }
    };
    let mut hang = false;
    match fault {
        Some(Fault::Status { status, .. }) => return finish(status_error(api, status)),
        Some(Fault::Delay { delay, .. }) => tokio::time::sleep(delay).await,
        Some(Fault::TimeoutAfterAccept { .. }) => hang = true,
        None => {}
    }
    let admitted = {
        let mut st = shared.lock();
        let admitted = st.admit(&parts.headers, shared.requests_per_second);
        if admitted.is_ok() {
            super::engine::expire_all(&mut st);
        }
        admitted
    };
    let token = match admitted {
        Ok(t) => t,
        Err(status) => return finish(status_error(api, status)),
    };
    let mut req = Request::from_parts(parts, Body::from(bytes));
    req.extensions_mut().insert(Ctx { token, request_id });
    let resp = next.run(req).await;
    let resp = finish(resp);
    if hang {
        // The work is done; the answer is withheld until the client gives up (or the fake stops).
        let mut stop = shared.shutdown.subscribe();
        tokio::select! {
            _ = tokio::time::sleep(HANG) => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }
    resp
}

/// Answer for paths the fake does not serve on this listener.
pub(super) async fn fallback(req: Request) -> Response {
    match Api::of_path(req.uri().path()) {
        Api::V20 => v20_error(404, "The requested resource was not found."),
        Api::V1 => v1_error(404, 11, "Not found"),
    }
}

/// Answer for a known path with a method it does not take.
pub(super) async fn method_not_allowed(req: Request) -> Response {
    status_error(Api::of_path(req.uri().path()), 405)
}

/// A v20 account the caller may use: 400 for an id that is not a v20 id (v1 ids included), 403 for an
/// unknown account or one the token does not reach (OANDA: "The provided request was forbidden.").
pub(super) fn v20_account(st: &State, ctx: &Ctx, id: &str) -> Result<usize, Fail> {
    let parts: Vec<&str> = id.split('-').collect();
    let well_formed = parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if !well_formed {
        return Err(v20_error(400, "Invalid value specified for 'accountID'").into());
    }
    match st.account_index(id) {
        Some(a) if !st.accounts[a].legacy() && st.reaches(&ctx.token, id) => Ok(a),
        _ => Err(v20_error(403, "The provided request was forbidden.").into()),
    }
}

/// A v1 account the caller may use: 400 code 52 for an id that is not all digits, 400 code 1 for an
/// account that does not exist (what v1 answers for an account id from another environment), 403
/// code 4 for an account the token does not reach.
pub(super) fn v1_account(st: &State, ctx: &Ctx, id: &str) -> Result<usize, Fail> {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(v1_error(400, 52, "Invalid or malformed resource identifier: accountId").into());
    }
    match st.account_index(id) {
        Some(a) if st.accounts[a].legacy() && st.reaches(&ctx.token, id) => Ok(a),
        Some(_) => Err(v1_error(
            403,
            4,
            "The access token provided does not allow this request to be made",
        )
        .into()),
        None => Err(v1_bad("accountId").into()),
    }
}
