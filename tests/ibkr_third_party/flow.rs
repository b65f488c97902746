//! Logging in: TradingView's Code flow through the bridge's login page, IBKR's authorization page (the
//! fake's, approved as the user would) and back; a second login that skips IBKR; a grant revoked at IBKR;
//! a user who denies; the nightly refresh's 204s.

use crate::browserless::*;
use crate::support::TestApp;
use crate::{start, start_with, ACCOUNT, IBKR_PASSWORD, IBKR_USER, PUBLIC};
use axum::http::{Method, StatusCode};
use fakes::ibkr_third_party::{FakeIbkrThirdParty, FakeIbkrThirdPartyOptions};

/// The login page up to IBKR: returns the request token IBKR was asked for.
async fn to_ibkr(
    app: &TestApp,
    fake: &FakeIbkrThirdParty,
    jar: &mut Jar,
    login: &str,
    password: &str,
) -> String {
    let page = authorize(app, jar, &authorize_query(CLIENT, REDIRECT, "code", &[])).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains("Interactive Brokers"),
        "the page says a first login continues at IBKR"
    );
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains(&fake.origin), "the form may redirect to IBKR: {csp}");
    let location = submit(app, jar, &page, login, password).await.location();
    assert!(
        location.starts_with(&fake.authorize_url),
        "sent to IBKR: {location}"
    );
    params(&location, '?')["oauth_token"].clone()
}

/// IBKR sends the browser back to the bridge: `GET` of `url` (the callback, made relative).
async fn back_from_ibkr(app: &TestApp, jar: &mut Jar, url: &str) -> Raw {
    assert!(
        url.starts_with(PUBLIC),
        "IBKR returns to the bridge's public URL: {url}"
    );
    let raw = send(
        app,
        Method::GET,
        url.trim_start_matches(PUBLIC),
        &jar.0,
        None,
        &[],
    )
    .await;
    jar.keep(&raw);
    raw
}

/// The whole first login of bridge user `demo` as IBKR user alice: returns the access token.
pub async fn first_login(app: &TestApp, fake: &FakeIbkrThirdParty) -> String {
    let mut jar = Jar::default();
    let request_token = to_ibkr(app, fake, &mut jar, "demo", "demo").await;
    let callback = fake
        .approve(&request_token, IBKR_USER, IBKR_PASSWORD)
        .expect("alice allows the bridge");
    let back = back_from_ibkr(app, &mut jar, &callback).await;
    let redirect = back.location();
    assert!(redirect.starts_with(&format!("{REDIRECT}?")), "{redirect}");
    let code = params(&redirect, '?')["code"].clone();
    let answer = exchange(app, &code, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json()["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_new_user_grants_at_ibkr_once_and_a_second_login_skips_ibkr() {
    let (fake, app) = start().await;
    let token = first_login(&app, &fake).await;
    let accounts = app.get(&token, "/accounts", "AccountsResponse").await;
    assert_eq!(accounts[0]["id"], ACCOUNT, "{accounts}");
    assert_eq!(fake.access_tokens_of(IBKR_USER).len(), 1);

    // Another browser: the password, then straight back to TradingView.
    let mut jar = Jar::default();
    let page = authorize(&app, &mut jar, &authorize_query(CLIENT, REDIRECT, "code", &[])).await;
    let redirect = submit(&app, &mut jar, &page, "demo", "demo").await.location();
    assert!(
        redirect.starts_with(&format!("{REDIRECT}?")),
        "no second visit to IBKR: {redirect}"
    );
    assert_eq!(fake.access_tokens_of(IBKR_USER).len(), 1, "no second grant");
    // And the password API works for a user with a grant.
    let reply = app
        .send(Method::POST, "/authorize", None, Some("login=demo&password=demo"))
        .await;
    assert_eq!(reply.body["s"], "ok", "{}", reply.body);

    // A bridge user without a grant is told how to give one.
    let reply = app
        .send(
            Method::POST,
            "/authorize",
            None,
            Some("login=other&password=other-pass"),
        )
        .await;
    assert_eq!(reply.body["s"], "error");
    assert!(
        reply.body["errmsg"].as_str().unwrap().contains("login page"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn a_grant_revoked_at_ibkr_ends_trading_with_a_clear_message_and_the_next_login_asks_ibkr_again() {
    let (fake, app) = start().await;
    let token = first_login(&app, &fake).await;
    app.get(&token, "/accounts", "AccountsResponse").await;
    fake.revoke(IBKR_USER);
    let reply = app
        .send(
            Method::GET,
            &format!("/accounts/{ACCOUNT}/orders"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    let errmsg = reply.body["errmsg"].as_str().unwrap();
    assert!(errmsg.contains("revoked"), "{errmsg}");
    // The bridge session ended with it: the token no longer names a session.
    let after = app.send(Method::GET, "/accounts", Some(&token), None).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.body);
    let errmsg = after.body["errmsg"].as_str().unwrap();
    assert!(!errmsg.contains("revoked"), "not asked of IBKR again: {errmsg}");
    // The grant is gone: the next login goes to IBKR again, and a new grant trades.
    let token = first_login(&app, &fake).await;
    let orders = app
        .send(
            Method::GET,
            &format!("/accounts/{ACCOUNT}/orders"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(orders.body["s"], "ok", "{}", orders.body);
}

#[tokio::test]
async fn a_user_who_denies_at_ibkr_gets_a_page_saying_so_and_no_grant() {
    let (fake, app) = start().await;
    let mut jar = Jar::default();
    let request_token = to_ibkr(&app, &fake, &mut jar, "demo", "demo").await;
    let callback = fake.deny(&request_token).expect("a redirect");
    let back = back_from_ibkr(&app, &mut jar, &callback).await;
    assert_eq!(back.status, StatusCode::FORBIDDEN);
    assert!(back.text.contains("Access was not granted"), "{}", back.text);
    let reply = app
        .send(Method::POST, "/authorize", None, Some("login=demo&password=demo"))
        .await;
    assert_eq!(reply.body["s"], "error", "still no grant: {}", reply.body);
}

#[tokio::test]
async fn before_ibkrs_nightly_refresh_the_user_is_told_when_the_accounts_come() {
    // Alice has never authorised: her accounts answer 204 until IBKR's nightly refresh.
    let (fake, app) = start_with(
        FakeIbkrThirdPartyOptions {
            lock_interval: std::time::Duration::ZERO,
            ..FakeIbkrThirdPartyOptions::default()
        },
        "",
    )
    .await;
    let mut jar = Jar::default();
    let request_token = to_ibkr(&app, &fake, &mut jar, "demo", "demo").await;
    let callback = fake.approve(&request_token, IBKR_USER, IBKR_PASSWORD).unwrap();
    let back = back_from_ibkr(&app, &mut jar, &callback).await;
    assert!(
        back.text.contains("nightly refresh"),
        "the page explains why there is no account yet: {}",
        back.text
    );
    assert!(fake.awaiting_refresh(IBKR_USER));
    // The grant is kept: after the refresh, a login without IBKR trades.
    fake.nightly_refresh();
    let reply = app
        .send(Method::POST, "/authorize", None, Some("login=demo&password=demo"))
        .await;
    assert_eq!(reply.body["s"], "ok", "{}", reply.body);
    let token = reply.body["d"]["access_token"].as_str().unwrap();
    let accounts = app.get(token, "/accounts", "AccountsResponse").await;
    assert_eq!(accounts[0]["id"], ACCOUNT);
}
