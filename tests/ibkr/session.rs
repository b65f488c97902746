//! The gateway's brokerage session as TradingView users meet it: login and the accounts each mapped user
//! sees, an expired session re-opened with `ssodh/init`, a logged-out gateway answered with a 401 that says
//! to log in to the Client Portal gateway again, and a competing session taken back.

use crate::support;

use axum::http::{Method, StatusCode};
use support::ibkr::{self, ACCT, OTHER};
use support::TestApp;

async fn account_ids(app: &TestApp, token: &str) -> Vec<String> {
    app.get(token, "/accounts?locale=en", "AccountsResponse")
        .await
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| a["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn mapped_users_log_in_and_see_only_their_accounts() {
    let (fake, app) = ibkr::start().await;
    let demo = app.login().await;
    let other = app.login_as("other", "other-pass").await;
    assert_eq!(account_ids(&app, &demo).await, [ACCT]);
    assert_eq!(account_ids(&app, &other).await, [OTHER]);
    // A user cannot read an account that is not theirs.
    let r = app
        .send(
            Method::GET,
            &format!("/accounts/{OTHER}/orders?locale=en"),
            Some(&demo),
            None,
        )
        .await;
    assert_ne!(r.body["s"], "ok", "{}", r.body);
    // The gateway was already authenticated: the session opened without ssodh/init.
    assert_eq!(fake.calls("POST", "/iserver/auth/ssodh/init"), 0);
    assert!(fake.calls("GET", "/iserver/accounts") >= 1);
}

#[tokio::test]
async fn an_expired_session_is_reopened_with_ssodh_init() {
    let (fake, app) = ibkr::start().await;
    let token = app.login().await;
    app.orders(&token, ACCT).await;
    fake.expire_session();
    assert!(!fake.authenticated());
    app.place(
        &token,
        ACCT,
        "instrument=AAPL&qty=1&side=buy&type=limit&limitPrice=150",
    )
    .await;
    assert_eq!(fake.calls("POST", "/iserver/auth/ssodh/init"), 1);
    assert!(fake.authenticated());
    assert_eq!(fake.orders(ACCT).len(), 1, "the order was placed once");
    // TradingView's list shows it once the refresh after the write has run (at most 5 s after the last
    // order read: IBKR's pacing).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(12);
    while app.orders(&token, ACCT).await.len() != 1 {
        assert!(std::time::Instant::now() < deadline, "the order was never listed");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn a_logged_out_gateway_is_a_401_saying_to_log_in_to_the_gateway_again() {
    let (fake, app) = ibkr::start().await;
    let token = app.login().await;
    assert_eq!(ibkr::poke(&fake, "/logout").await, 200);
    let r = app
        .send(
            Method::GET,
            &format!("/accounts/{ACCT}/orders?locale=en"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    let message = r.body["errmsg"].as_str().unwrap_or_default();
    assert!(
        message.contains("log in to the Client Portal gateway again"),
        "{message}"
    );
    // Once the user logs in at the gateway again, the same bridge session works again.
    fake.login();
    let token = app.login().await;
    app.orders(&token, ACCT).await;
}

#[tokio::test]
async fn a_competing_session_is_taken_back() {
    let (fake, app) = ibkr::start().await;
    let token = app.login().await;
    fake.compete();
    assert!(!fake.authenticated());
    app.orders(&token, ACCT).await;
    assert!(
        fake.authenticated(),
        "ssodh/init with compete took the session back"
    );
    assert_eq!(fake.calls("POST", "/iserver/auth/ssodh/init"), 1);
}
