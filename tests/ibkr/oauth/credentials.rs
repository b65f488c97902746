//! The OAuth credential's life under a TradingView user's calls: expired at IBKR, renewed exactly once
//! and the call answered; revoked, one renewal attempt, then an HTTP 200 refusal naming the bridge's
//! OAuth table, with IBKR not asked again within the hold (60 s by default), and trading again once the
//! hold (shortened to 2 s through `backend.refusal_hold_secs`) is over and IBKR takes the refusal back.

use super::{logins, one_login, parts_with, start, Scheme};
use crate::support::TestApp;
use axum::http::Method;
use fakes::ibkr::{FakeIbkr, RefusalReason};
use std::time::{Duration, Instant};

/// A `/history` call (never cached by the bridge: it always reaches IBKR); `Ok(bars)` or `Err(errmsg)`.
async fn history(fake: &FakeIbkr, app: &TestApp, token: &str) -> Result<usize, String> {
    let to = fake.now().timestamp();
    let path = format!("/history?symbol=AAPL&resolution=60&from={}&to={to}", to - 86_400);
    let r = app.send(Method::GET, &path, Some(token), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    match r.body["s"].as_str() {
        Some("ok") => Ok(r.body["t"].as_array().map_or(0, Vec::len)),
        _ => Err(r.body["errmsg"].as_str().unwrap_or_default().to_string()),
    }
}

async fn an_expired_credential_is_renewed_once(scheme: Scheme) {
    let (fake, app) = start(scheme).await;
    let token = app.login().await;
    let auth = fake.oauth().unwrap();
    assert!(history(&fake, &app, &token).await.unwrap() > 0);
    assert_eq!(logins(&fake), one_login(scheme));

    auth.expire_now();
    let bars = history(&fake, &app, &token).await;
    assert!(bars.is_ok_and(|n| n > 0), "the user's call succeeds");
    assert_eq!(auth.refusals(RefusalReason::Expired), 1, "IBKR refused once");
    let (one, two) = one_login(scheme);
    assert_eq!(logins(&fake), (2 * one, 2 * two), "exactly one renewal");

    // The renewed credential serves the next calls without another login.
    assert!(history(&fake, &app, &token).await.is_ok());
    assert_eq!(logins(&fake), (2 * one, 2 * two));
}

async fn a_revoked_credential_is_refused_naming_the_table(scheme: Scheme, table: &str) {
    let (fake, app) = start(scheme).await;
    let token = app.login().await;
    let auth = fake.oauth().unwrap();
    assert!(history(&fake, &app, &token).await.is_ok());

    auth.revoke();
    let errmsg = history(&fake, &app, &token).await.unwrap_err();
    assert!(errmsg.contains(table), "{errmsg}");
    assert!(!errmsg.contains(&secret(&fake)), "no secret in {errmsg}");
    assert_eq!(
        auth.refusals(RefusalReason::Revoked),
        2,
        "the call, then one renewal attempt"
    );
    assert_eq!(logins(&fake), one_login(scheme), "no credential issued");

    // Within the hold the bridge answers alone: IBKR sees nothing more, not even a trading call.
    let asked = fake.requests().len();
    let again = history(&fake, &app, &token).await.unwrap_err();
    assert_eq!(again, errmsg);
    let refused = app
        .refused(Method::GET, &token, "/accounts/DU1234567/state?locale=en", None)
        .await;
    assert!(refused.contains(table), "{refused}");
    assert_eq!(fake.requests().len(), asked, "IBKR not asked within the hold");
    assert_eq!(auth.refusals(RefusalReason::Revoked), 2);

    let ready = app.send(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, 503, "{}", ready.body);
}

/// The secret the bridge signs with (it must appear nowhere).
fn secret(fake: &FakeIbkr) -> String {
    let auth = fake.oauth().unwrap();
    match (auth.oauth1_client(), auth.oauth2_client()) {
        (Some(c), _) => c.access_token.clone(),
        (_, Some(c)) => c.client_id.clone(),
        _ => unreachable!("an OAuth mode"),
    }
}

#[tokio::test]
async fn oauth1_an_expired_live_session_token_is_renewed_once() {
    an_expired_credential_is_renewed_once(Scheme::One).await;
}

#[tokio::test]
async fn oauth2_an_expired_bearer_is_renewed_once() {
    an_expired_credential_is_renewed_once(Scheme::Two).await;
}

#[tokio::test]
async fn oauth1_a_revoked_access_token_is_refused_naming_backend_oauth1() {
    a_revoked_credential_is_refused_naming_the_table(Scheme::One, "[backend.oauth1]").await;
}

#[tokio::test]
async fn oauth2_a_revoked_client_is_refused_naming_backend_oauth2() {
    a_revoked_credential_is_refused_naming_the_table(Scheme::Two, "[backend.oauth2]").await;
}

/// Revoked, refused for the hold; IBKR takes the refusal back (an account unlocked); once the hold is over
/// the next call asks IBKR again, logs in afresh and is answered, and the bridge is ready again.
async fn trading_resumes_after_the_hold(scheme: Scheme, table: &str) {
    let (fake, config, broker) = parts_with(scheme, "", "refusal_hold_secs = 2").await;
    let app = TestApp::with_broker(config, broker);
    let token = app.login().await;
    let auth = fake.oauth().unwrap();
    assert!(history(&fake, &app, &token).await.is_ok());

    auth.revoke();
    // The hold starts somewhere inside this call, between `before` and `after`.
    let before = Instant::now();
    assert!(history(&fake, &app, &token).await.unwrap_err().contains(table));
    let after = Instant::now();
    auth.reinstate();
    let asked = fake.requests().len();
    // Still within the hold (if this machine got here in time): answered without asking IBKR.
    let within = history(&fake, &app, &token).await;
    if before.elapsed() < Duration::from_millis(1_800) {
        assert!(within.unwrap_err().contains(table));
        assert_eq!(fake.requests().len(), asked, "IBKR not asked within the hold");
    }

    tokio::time::sleep(Duration::from_millis(2_100).saturating_sub(after.elapsed())).await;
    assert!(
        history(&fake, &app, &token).await.unwrap() > 0,
        "answered after the hold"
    );
    let state = app.state(&token, "DU1234567").await;
    assert!(
        state["balance"].is_number() || state["balance"].is_string(),
        "{state}"
    );
    let ready = app.send(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(
        auth.refusals(RefusalReason::Revoked),
        2,
        "no refusal after the hold"
    );
}

#[tokio::test]
async fn oauth1_trading_resumes_once_the_hold_is_over_and_ibkr_takes_the_refusal_back() {
    trading_resumes_after_the_hold(Scheme::One, "[backend.oauth1]").await;
}

#[tokio::test]
async fn oauth2_trading_resumes_once_the_hold_is_over_and_ibkr_takes_the_refusal_back() {
    trading_resumes_after_the_hold(Scheme::Two, "[backend.oauth2]").await;
}
