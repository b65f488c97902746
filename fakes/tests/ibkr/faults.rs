//! Injected faults: 5xx and 401 on the next calls, and a timeout after an order was accepted.

use crate::client::{lmt, Api, AAPL, ACCT};
use fakes::ibkr::{FakeIbkr, FakeIbkrOptions};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn failed_calls_have_no_effect_until_the_fault_is_used_up() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let api = Api::ready(&fake).await;
    fake.fail_next("POST", "/iserver/account/", 503, 2);
    for _ in 0..2 {
        let (status, body) = api.place(json!([lmt(AAPL, "BUY", 1, 180.0)])).await;
        assert_eq!(status, 503);
        assert!(body["error"].is_string());
    }
    assert_eq!(fake.order_count(), 0);
    let (status, _) = api.place(json!([lmt(AAPL, "BUY", 1, 180.0)])).await;
    assert_eq!(status, 200);
    assert_eq!(fake.order_count(), 1);
}

#[tokio::test]
async fn an_injected_401_refuses_the_call() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let api = Api::ready(&fake).await;
    fake.fail_next("GET", "/portfolio", 401, 1);
    assert_eq!(api.get("/portfolio/accounts").await.0, 401);
    assert_eq!(api.get("/portfolio/accounts").await.0, 200);
}

#[tokio::test]
async fn an_order_accepted_before_a_timeout_exists_and_can_be_found_by_its_coid() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let api = Api::ready(&fake).await;
    fake.hang_after_accept(
        "POST",
        &format!("/iserver/account/{ACCT}/orders"),
        Duration::from_secs(5),
    );
    let mut ticket = lmt(AAPL, "BUY", 1, 180.0);
    ticket["cOID"] = json!("tv-timeout-1");
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let sent = impatient
        .post(format!("{}/iserver/account/{ACCT}/orders", fake.base_url))
        .json(&json!({ "orders": [ticket] }))
        .send()
        .await;
    assert!(sent.is_err(), "the answer should never have come");
    assert_eq!(fake.order_count(), 1);
    let found = api
        .live_orders()
        .await
        .into_iter()
        .find(|o| o["order_ref"] == "tv-timeout-1");
    assert!(found.is_some());
}

#[tokio::test]
async fn cleared_faults_no_longer_apply() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let api = Api::ready(&fake).await;
    fake.fail_next("GET", "/portfolio", 429, 100);
    assert_eq!(api.get("/portfolio/accounts").await.0, 429);
    fake.clear_faults();
    assert_eq!(api.get("/portfolio/accounts").await.0, 200);
}
