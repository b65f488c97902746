//! The session resources: `POST /iserver/auth/status`, `POST /tickle`, `POST /iserver/auth/ssodh/init`,
//! `GET /iserver/reauthenticate`, `GET /sso/validate` and `POST /logout`. The gateway holds one
//! brokerage session for its user; it expires when idle, can be taken over by a competing session, and
//! `ssodh/init` (re)opens it.

use super::state::{Shared, State};
use super::wire::{body_json, millis, ok};
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::response::Response;
use chrono::TimeDelta;
use serde_json::{json, Value};
use std::sync::Arc;

/// What the gateway reports as its server.
fn server_info() -> Value {
    json!({ "serverName": "FakeGw1", "serverVersion": "Build 10.30.1, fake" })
}

impl State {
    /// `BrokerageSessionStatus`.
    pub(super) fn auth_status(&self) -> Value {
        json!({
            "authenticated": self.session.authenticated,
            "competing": self.session.competing,
            "connected": self.session.logged_in,
            "message": if self.session.competing { "competing session" } else { "" },
            "MAC": "02:00:00:00:00:01",
            "serverInfo": server_info(),
            "fail": "",
        })
    }

    /// Milliseconds left before the session expires when idle.
    fn expires_in(&self) -> i64 {
        let idle = TimeDelta::from_std(self.idle_expiry).unwrap_or(TimeDelta::MAX);
        (self.session.last_used + idle - self.now())
            .num_milliseconds()
            .max(0)
    }

    /// Opens the brokerage session (unless another session competes and `compete` is false).
    pub(super) fn init_session(&mut self, compete: bool) {
        if self.session.competing && !compete {
            return;
        }
        if !self.session.authenticated {
            self.session.accounts_queried = false;
            self.session.md_subscribed.clear();
        }
        self.session.authenticated = true;
        self.session.competing = false;
        self.session.last_used = self.now();
    }
}

/// `POST /iserver/auth/status`.
pub(super) async fn status(AxState(shared): AxState<Arc<Shared>>) -> Response {
    ok(shared.lock().auth_status())
}

/// `POST /tickle`: keeps the session alive and gives the WebSocket's `session` value.
pub(super) async fn tickle(AxState(shared): AxState<Arc<Shared>>) -> Response {
    let st = shared.lock();
    ok(json!({
        "session": st.session.token,
        "ssoExpires": st.expires_in(),
        "collission": false,
        "userId": 10_000_001,
        "hmds": { "error": "no bridge" },
        "iserver": { "authStatus": st.auth_status() },
    }))
}

/// `POST /iserver/auth/ssodh/init` with `{"publish": true, "compete": true}`.
pub(super) async fn ssodh_init(AxState(shared): AxState<Arc<Shared>>, body: Bytes) -> Response {
    let b = body_json(&body);
    let compete = b.get("compete").and_then(Value::as_bool).unwrap_or(false);
    let mut st = shared.lock();
    st.init_session(compete);
    ok(st.auth_status())
}

/// `GET /iserver/reauthenticate` (gateway only): reopens the brokerage session without competing.
pub(super) async fn reauthenticate(AxState(shared): AxState<Arc<Shared>>) -> Response {
    shared.lock().init_session(false);
    ok(json!({ "message": "triggered" }))
}

/// `GET /sso/validate`.
pub(super) async fn validate(AxState(shared): AxState<Arc<Shared>>) -> Response {
    let st = shared.lock();
    ok(json!({
        "USER_NAME": st.username,
        "USER_ID": 10_000_001,
        "RESULT": true,
        "AUTH_TIME": millis(st.session.last_used),
        "EXPIRES": st.expires_in(),
        "LOGIN_TYPE": 2,
        "IS_FREE_TRIAL": false,
        "SF_ENABLED": false,
    }))
}

/// `POST /logout`: the gateway login ends; every later call gets 401 until the user logs in again.
pub(super) async fn logout(AxState(shared): AxState<Arc<Shared>>) -> Response {
    let mut st = shared.lock();
    st.session.logged_in = false;
    st.drop_brokerage_session(false);
    ok(json!({ "status": true }))
}
