//! The brokerage session: status, tickle, expiry and `ssodh/init`, competing sessions, logout, the
//! "query /accounts first" rule, the gateway cookie and the authentication hook.

use crate::client::{Api, AAPL};
use fakes::ibkr::{FakeIbkr, FakeIbkrOptions, Refusal};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn status_and_tickle_describe_the_gateway_session() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let api = Api::new(&fake);
    let (status, body) = api.post("/iserver/auth/status", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["authenticated"], true);
    assert_eq!(body["connected"], true);
    assert_eq!(body["competing"], false);
    let (status, body) = api.post("/tickle", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["session"], fake.session_token());
    assert_eq!(body["iserver"]["authStatus"]["authenticated"], true);
    assert!(body["ssoExpires"].as_i64().unwrap_or(0) > 0);
}

#[tokio::test]
async fn orders_and_market_data_need_the_accounts_call_first() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let api = Api::new(&fake);
    let (status, body) = api
        .get(&format!("/iserver/marketdata/snapshot?conids={AAPL}&fields=31"))
        .await;
    assert_eq!(status, 500);
    assert_eq!(body["error"], "Please query /accounts first");
    let (status, _) = api.get("/iserver/account/orders").await;
    assert_eq!(status, 500);
    // Portfolio and contract calls do not need it.
    assert_eq!(api.get("/portfolio/accounts").await.0, 200);
    assert_eq!(api.get("/iserver/secdef/search?symbol=AAPL").await.0, 200);
    assert_eq!(api.get("/iserver/accounts").await.0, 200);
    assert_eq!(api.get("/iserver/account/orders").await.0, 200);
}

#[tokio::test]
async fn an_idle_session_expires_and_ssodh_init_reopens_it() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let api = Api::ready(&fake).await;
    fake.advance_clock(Duration::from_secs(7 * 60));
    let (status, _) = api.get("/iserver/account/orders").await;
    assert_eq!(status, 401);
    let (_, body) = api.post("/iserver/auth/status", json!({})).await;
    assert_eq!(body["authenticated"], false);
    assert_eq!(body["connected"], true);
    let (status, body) = api
        .post(
            "/iserver/auth/ssodh/init",
            json!({ "publish": true, "compete": true }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["authenticated"], true);
    // A new brokerage session: the accounts must be queried again.
    assert_eq!(api.get("/iserver/account/orders").await.0, 500);
    assert_eq!(api.get("/iserver/accounts").await.0, 200);
    assert_eq!(api.get("/iserver/account/orders").await.0, 200);
}

#[tokio::test]
async fn calls_keep_the_session_alive() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let api = Api::ready(&fake).await;
    for _ in 0..4 {
        fake.advance_clock(Duration::from_secs(4 * 60));
        assert_eq!(api.post("/tickle", json!({})).await.0, 200);
    }
    assert!(fake.authenticated());
    fake.advance_clock(Duration::from_secs(6 * 60));
    assert!(!fake.authenticated());
}

#[tokio::test]
async fn a_competing_session_is_taken_back_only_with_compete() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let api = Api::ready(&fake).await;
    fake.compete();
    let (_, body) = api.post("/iserver/auth/status", json!({})).await;
    assert_eq!(body["competing"], true);
    assert_eq!(body["authenticated"], false);
    let (_, body) = api
        .post(
            "/iserver/auth/ssodh/init",
            json!({ "publish": true, "compete": false }),
        )
        .await;
    assert_eq!(body["authenticated"], false);
    let (_, body) = api
        .post(
            "/iserver/auth/ssodh/init",
            json!({ "publish": true, "compete": true }),
        )
        .await;
    assert_eq!(body["authenticated"], true);
    assert_eq!(body["competing"], false);
}

#[tokio::test]
async fn logout_ends_everything_until_the_user_logs_in_again() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let api = Api::ready(&fake).await;
    assert_eq!(api.post("/logout", json!({})).await.0, 200);
    assert_eq!(api.post("/iserver/auth/status", json!({})).await.0, 401);
    assert_eq!(api.post("/tickle", json!({})).await.0, 401);
    assert_eq!(api.get("/portfolio/accounts").await.0, 401);
    fake.login();
    assert_eq!(api.post("/iserver/auth/status", json!({})).await.0, 200);
}

#[tokio::test]
async fn an_oauth_style_session_starts_closed() {
    let fake = FakeIbkr::start(FakeIbkrOptions {
        start_authenticated: false,
        ..FakeIbkrOptions::relaxed()
    })
    .await;
    let api = Api::new(&fake);
    assert_eq!(api.get("/iserver/accounts").await.0, 401);
    let (_, body) = api
        .post(
            "/iserver/auth/ssodh/init",
            json!({ "publish": true, "compete": true }),
        )
        .await;
    assert_eq!(body["authenticated"], true);
    assert_eq!(api.get("/iserver/accounts").await.0, 200);
}

#[tokio::test]
async fn a_configured_cookie_is_required() {
    let fake = FakeIbkr::start(FakeIbkrOptions {
        cookie: Some("api=s3cret".to_string()),
        ..FakeIbkrOptions::relaxed()
    })
    .await;
    let url = format!("{}/iserver/auth/status", fake.base_url);
    let http = reqwest::Client::new();
    let without = http.post(&url).send().await.unwrap();
    assert_eq!(without.status().as_u16(), 401);
    let with = http
        .post(&url)
        .header("Cookie", "x=1; api=s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(with.status().as_u16(), 200);
}

#[tokio::test]
async fn the_verifier_sees_head_and_body_and_its_refusal_is_answered() {
    let verifier = |parts: &axum::http::request::Parts, body: &[u8]| {
        let signed = parts
            .headers
            .get("authorization")
            .is_some_and(|v| v == "OAuth good");
        let tampered = std::str::from_utf8(body).is_ok_and(|b| b.contains("tampered"));
        if signed && !tampered {
            Ok(())
        } else {
            Err(Refusal::unauthorized("invalid signature"))
        }
    };
    let fake = FakeIbkr::start(FakeIbkrOptions {
        verifier: Some(Arc::new(verifier)),
        ..FakeIbkrOptions::relaxed()
    })
    .await;
    let http = reqwest::Client::new();
    let url = format!("{}/iserver/auth/ssodh/init", fake.base_url);
    let refused = http
        .post(&url)
        .json(&json!({ "compete": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "invalid signature");
    let tampered = http
        .post(&url)
        .header("Authorization", "OAuth good")
        .json(&json!({ "compete": "tampered" }))
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status().as_u16(), 401);
    let good = http
        .post(&url)
        .header("Authorization", "OAuth good")
        .json(&json!({ "compete": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(good.status().as_u16(), 200);
    // Refused requests are logged too.
    assert_eq!(fake.calls("POST", "/iserver/auth/ssodh/init"), 3);
}
