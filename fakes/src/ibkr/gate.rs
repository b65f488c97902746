//! The middleware every HTTP request goes through: it logs the request, applies injected faults (an
//! error answer, a slow answer, an answer withheld after the work is done), runs the authentication hook
//! (or the gateway cookie check), enforces IBKR's pacing (a global requests per second limit and
//! per-endpoint minimum intervals, 429 beyond), and checks the brokerage session: the gateway login, an
//! authenticated `/iserver` session, and "query /accounts first".

use super::options::{Fault, LoggedRequest};
use super::state::{Shared, State};
use super::wire::{error, json_response, Refused};
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State as AxState};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The API's prefix.
pub(super) const PREFIX: &str = "/v1/api";
/// Largest request body read (orders are small).
const MAX_BODY: usize = 1 << 20;

/// `/iserver` calls that work without an authenticated brokerage session.
const SESSIONLESS: [&str; 3] = [
    "/iserver/auth/status",
    "/iserver/auth/ssodh/init",
    "/iserver/reauthenticate",
];

/// Whether a path needs `GET /iserver/accounts` first (orders, trades and market data, as IBKR says).
fn needs_accounts(path: &str) -> bool {
    path == "/iserver/account"
        || path.starts_with("/iserver/account/")
        || path.starts_with("/iserver/marketdata/")
        || path.starts_with("/iserver/reply/")
}

impl State {
    fn log_request(&mut self, method: &str, path: &str, query: &str) -> usize {
        self.log.push(LoggedRequest {
            at: Instant::now(),
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            status: 0,
        });
        self.log.len() - 1
    }

    /// Takes the first pending fault that matches (a `Status` or `Delay` fault with times left stays
    /// queued).
    fn take_fault(&mut self, method: &str, path: &str) -> Option<Fault> {
        let i = self.faults.iter().position(|f| f.matches(method, path))?;
        if let Fault::Status { times, .. } | Fault::Delay { times, .. } = &mut self.faults[i] {
            if *times > 1 {
                *times -= 1;
                return Some(self.faults[i].clone());
            }
        }
        Some(self.faults.remove(i))
    }

    /// The global and per-endpoint pacing; `Err` is the 429 message.
    fn pace(&mut self, method: &str, path: &str) -> Result<(), String> {
        let now = Instant::now();
        while self
            .window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            self.window.pop_front();
        }
        if self.window.len() >= self.requests_per_second as usize {
            return Err("Too many requests".to_string());
        }
        let key = format!("{method} {path}");
        if let Some(rule) = self
            .endpoint_pacing
            .iter()
            .find(|r| r.method.eq_ignore_ascii_case(method) && r.path == path)
        {
            if let Some(last) = self.last_call.get(&key) {
                if now.duration_since(*last) < rule.interval {
                    return Err(format!(
                        "Too many requests: {path} is limited to one call per {:?}",
                        rule.interval
                    ));
                }
            }
            self.last_call.insert(key, now);
        }
        self.window.push_back(now);
        Ok(())
    }

    /// The session checks of an API call; `Err` is the refusal.
    fn check_session(&mut self, path: &str) -> Result<(), Refused> {
        self.expire_if_idle();
        if !self.session.logged_in {
            return Err(Refused::new(401, "not authenticated"));
        }
        if path.starts_with("/iserver") && !SESSIONLESS.contains(&path) {
            if !self.session.authenticated {
                return Err(Refused::new(401, "not authenticated"));
            }
            if needs_accounts(path) && !self.session.accounts_queried {
                // Observed answer of the gateway (not in the reference): a 500.
                return Err(Refused::new(500, "Please query /accounts first"));
            }
        }
        self.session.last_used = self.now();
        Ok(())
    }
}

impl Shared {
    fn finish(&self, id: usize, status: u16) {
        if let Some(r) = self.lock().log.get_mut(id) {
            r.status = status;
        }
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
    let (parts, body) = req.into_parts();
    let Ok(body) = to_bytes(body, MAX_BODY).await else {
        return error(413, "request body too large");
    };
    let (id, fault) = {
        let mut st = shared.lock();
        let id = st.log_request(&method, &path, &query);
        (id, st.take_fault(&method, &path))
    };
    let mut hang = None;
    match fault {
        Some(Fault::Status { status, body, .. }) => {
            shared.finish(id, status);
            return json_response(status, body);
        }
        Some(Fault::AcceptThenHang { delay, .. }) => hang = Some(delay),
        // Slow before anything is checked or done: the request then meets the session and pacing
        // rules as they stand when it wakes.
        Some(Fault::Delay { delay, .. }) => tokio::time::sleep(delay).await,
        None => {}
    }
    if let Some(v) = &shared.verifier {
        if let Err(refusal) = v.verify(&parts, &body) {
            shared.finish(id, refusal.status);
            return json_response(refusal.status, refusal.body);
        }
    }
    let websocket = path == "/ws";
    if api {
        if let Some(cookie) = &shared.cookie {
            let sent = parts
                .headers
                .get_all("cookie")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(|v| v.contains(cookie.as_str()));
            if !sent {
                shared.finish(id, 401);
                return error(401, "not authenticated");
            }
        }
        if !websocket {
            let refused = {
                let mut st = shared.lock();
                match st.pace(&method, &path) {
                    Err(msg) => Some(Refused::new(429, msg)),
                    Ok(()) => st.check_session(&path).err(),
                }
            };
            if let Some(refused) = refused {
                shared.finish(id, refused.status);
                return refused.into_response();
            }
        }
    }
    let resp = next.run(Request::from_parts(parts, Body::from(body))).await;
    shared.finish(id, resp.status().as_u16());
    if let Some(delay) = hang {
        tokio::time::sleep(delay).await;
    }
    resp
}

/// Answer for paths the fake does not know.
pub(super) async fn fallback() -> Response {
    error(404, "Not Found")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ibkr::options::{EndpointPacing, FakeIbkrOptions};

    fn state(rps: u32) -> Shared {
        Shared::new(&FakeIbkrOptions {
            requests_per_second: rps,
            endpoint_pacing: vec![EndpointPacing::new(
                "GET",
                "/iserver/account/orders",
                Duration::from_secs(5),
            )],
            ..FakeIbkrOptions::default()
        })
    }

    #[test]
    fn the_global_limit_refuses_the_request_past_the_rate() {
        let shared = state(3);
        let mut st = shared.lock();
        for _ in 0..3 {
            assert!(st.pace("GET", "/portfolio/accounts").is_ok());
        }
        assert!(st.pace("GET", "/tickle").is_err());
    }

    #[test]
    fn an_endpoint_limit_allows_one_call_per_interval_and_refused_calls_do_not_count() {
        let shared = state(100);
        let mut st = shared.lock();
        assert!(st.pace("GET", "/iserver/account/orders").is_ok());
        assert!(st.pace("GET", "/iserver/account/orders").is_err());
        // Another endpoint and another method are not limited.
        assert!(st.pace("POST", "/iserver/account/orders").is_ok());
        assert!(st.pace("GET", "/iserver/account/trades").is_ok());
        // Only the accepted calls fill the global window.
        assert_eq!(st.window.len(), 3);
    }

    #[test]
    fn orders_and_market_data_need_the_accounts_call_first() {
        let shared = state(100);
        let mut st = shared.lock();
        let refused = st.check_session("/iserver/account/orders");
        assert_eq!(refused.err().map(|r| r.status), Some(500));
        assert!(st.check_session("/iserver/accounts").is_ok());
        assert!(st.check_session("/portfolio/accounts").is_ok());
        st.session.accounts_queried = true;
        assert!(st.check_session("/iserver/marketdata/snapshot").is_ok());
        st.session.authenticated = false;
        let refused = st.check_session("/iserver/marketdata/snapshot");
        assert_eq!(refused.err().map(|r| r.status), Some(401));
        assert!(st.check_session("/iserver/auth/status").is_ok());
    }
}
