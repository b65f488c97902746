//! `/time`, `/ping` and `/session` (login with the API key, details, account switch, logout) plus the
//! encryption key of the encrypted-password login.

use super::gate::{header, prune, Ctx};
use super::state::{Session, Shared, State};
use super::wire::{
    body_object, field_bool, field_str, json_response, ok, ApiError, ApiResult, TZ_OFFSET_HOURS,
};
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, HeaderValue};
use axum::Extension;
use rand::distributions::Alphanumeric;
use rand::Rng;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

/// A public key (X.509 SubjectPublicKeyInfo, base64) generated for the fake; its private half was
/// thrown away, so encrypted passwords can never be read (such logins are refused).
const ENCRYPTION_KEY: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsATi5ubbxI00YUI/C5iZYZY+8D8WDyl4Z87fJt0Pp6Tjhk5XVsvwex63ViTRJz0Ol54DI3ohdiDBLwW1J4TW7vTKbDxknvU7vLiTjuI3f5VWDEQ4fhSTTE/gRHNRhldPeltKT/WbOaEg1ZGl73hNNDksAvc/vV+aZYMaGn02/kquSGZNn2J2EAtny22RCCHteuub+WWEzo9qq5AV1w8+mgo9SQp6xit9X9daZAJu4hxsatqLhCAISQrJ2MFzBGcJJ1IDM9aY/L9CLGlDvD+anqOHyLQVvzJSd1EGmfKydOZk2fmpZUZMjTfxV4FNX26A2vJ7+0HJKUa8amu/kQ5jywIDAQAB";

/// `GET /time`: `{"serverTime": <unix ms>}` on the fake clock.
pub(super) async fn time(AxState(shared): AxState<Arc<Shared>>) -> ApiResult {
    let now = shared.lock().now();
    ok(json!({ "serverTime": now.timestamp_millis() }))
}

/// `GET /ping`: keeps the session alive (the gate already touched it).
pub(super) async fn ping() -> ApiResult {
    ok(json!({ "status": "OK" }))
}

/// Checks `X-CAP-API-KEY`: missing is 400 `error.null.api.key`, wrong is 401 `error.invalid.api.key`.
fn check_api_key(shared: &Shared, headers: &HeaderMap) -> Result<String, ApiError> {
    match header(headers, "X-CAP-API-KEY") {
        None => Err(ApiError::bad("error.null.api.key")),
        Some(k) if k != shared.api_key => Err(ApiError::new(401, "error.invalid.api.key")),
        Some(k) => Ok(k),
    }
}

/// `GET /session/encryptionKey`.
pub(super) async fn encryption_key(AxState(shared): AxState<Arc<Shared>>, headers: HeaderMap) -> ApiResult {
    check_api_key(&shared, &headers)?;
    let now = shared.lock().now();
    ok(json!({ "encryptionKey": ENCRYPTION_KEY, "timeStamp": now.timestamp_millis() }))
}

/// A random token of `len` letters and digits.
fn token(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

fn currency_symbol(currency: &str) -> &str {
    match currency {
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "¥",
        other => other,
    }
}

fn client_id(user: usize) -> String {
    (12_345_000 + user).to_string()
}

/// `POST /session`: the login.
pub(super) async fn create(
    AxState(shared): AxState<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let key = check_api_key(&shared, &headers)?;
    let mut st = shared.lock();
    let limit = shared.session_creations_per_second as usize;
    let window = st.key_windows.entry(key).or_default();
    let now = Instant::now();
    prune(window, now);
    if window.len() >= limit {
        return Err(ApiError::new(429, "error.too-many.requests"));
    }
    window.push_back(now);

    let body = body_object(&body)?;
    let identifier = field_str(&body, "identifier")?.ok_or_else(|| ApiError::bad("error.null.identifier"))?;
    let password = field_str(&body, "password")?.ok_or_else(|| ApiError::bad("error.null.password"))?;
    // The fake cannot decrypt (see ENCRYPTION_KEY): an encrypted password never matches.
    let encrypted = field_bool(&body, "encryptedPassword")?.unwrap_or(false);
    let user = st
        .users
        .iter()
        .position(|u| u.identifier.eq_ignore_ascii_case(identifier.trim()) && u.password == password)
        .filter(|_| !encrypted)
        .ok_or_else(|| ApiError::new(401, "error.invalid.details"))?;
    let account = st
        .accounts
        .iter()
        .position(|a| a.user == user && a.preferred)
        .or_else(|| st.accounts.iter().position(|a| a.user == user))
        .ok_or_else(|| ApiError::new(401, "error.invalid.details"))?;

    let cst = token(24);
    let security = token(32);
    let last_used = st.now();
    st.sessions.insert(
        cst.clone(),
        Session {
            token: security.clone(),
            user,
            account,
            last_used,
            window: VecDeque::new(),
        },
    );
    st.sessions_created += 1;

    let a = &st.accounts[account];
    let accounts: Vec<Value> = st
        .accounts
        .iter()
        .filter(|x| x.user == user)
        .map(|x| {
            json!({
                "accountId": x.id,
                "accountName": x.name,
                "preferred": x.preferred,
                "accountType": "CFD",
            })
        })
        .collect();
    let body = json!({
        "accountType": "CFD",
        "accountInfo": st.balance_json(account),
        "currencyIsoCode": a.currency,
        "currencySymbol": currency_symbol(&a.currency),
        "currentAccountId": a.id,
        "streamingHost": shared.stream_host,
        "accounts": accounts,
        "clientId": client_id(user),
        "timezoneOffset": TZ_OFFSET_HOURS,
        "hasActiveDemoAccounts": true,
        "hasActiveLiveAccounts": false,
        "trailingStopsEnabled": true,
    });
    let mut resp = json_response(200, body);
    if let (Ok(c), Ok(t)) = (HeaderValue::from_str(&cst), HeaderValue::from_str(&security)) {
        resp.headers_mut().insert("CST", c);
        resp.headers_mut().insert("X-SECURITY-TOKEN", t);
    }
    Ok(resp)
}

/// `GET /session`.
pub(super) async fn details(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
) -> ApiResult {
    let st = shared.lock();
    let account = st.ctx_account(&ctx)?;
    let a = &st.accounts[account];
    ok(json!({
        "clientId": client_id(ctx.user),
        "accountId": a.id,
        "timezoneOffset": TZ_OFFSET_HOURS,
        "locale": "en",
        "currency": a.currency,
        "streamEndpoint": shared.stream_host,
    }))
}

/// `PUT /session {accountId}`: switches the session's account. As documented, the session's
/// WebSocket streams fall off when the account changes.
pub(super) async fn switch(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> ApiResult {
    let body = body_object(&body)?;
    let id = field_str(&body, "accountId")?.ok_or_else(|| ApiError::bad("error.null.accountId"))?;
    let mut st = shared.lock();
    let current = st.ctx_account(&ctx)?;
    let target = st
        .account_index(&id)
        .filter(|i| st.accounts[*i].user == ctx.user)
        .ok_or_else(|| ApiError::bad("error.invalid.accountId"))?;
    if target == current {
        // Observed upstream answer to a switch to the current account.
        return Err(ApiError::bad("error.not-different.accountId"));
    }
    if let Some(s) = st.sessions.get_mut(&ctx.cst) {
        s.account = target;
    }
    st.close_session_sockets(&ctx.cst);
    ok(json!({
        "trailingStopsEnabled": true,
        "dealingEnabled": true,
        "hasActiveDemoAccounts": true,
        "hasActiveLiveAccounts": false,
    }))
}

/// `DELETE /session`: logout.
pub(super) async fn logout(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
) -> ApiResult {
    shared.lock().end_session(&ctx.cst);
    ok(json!({ "status": "SUCCESS" }))
}

impl State {
    /// Ends a session: its tokens stop working and its WebSocket connections are closed.
    pub fn end_session(&mut self, cst: &str) {
        self.sessions.remove(cst);
        self.close_session_sockets(cst);
    }
}
