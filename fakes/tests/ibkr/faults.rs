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

#[tokio::test]
async fn a_slow_answer_comes_after_the_delay_for_that_many_calls_then_at_once() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let api = Api::ready(&fake).await;
    let delay = Duration::from_millis(400);
    fake.delay_next(Some("GET"), "/portfolio", delay, 2);
    // Another method or path is not slowed.
    let started = std::time::Instant::now();
    assert_eq!(api.get("/iserver/accounts").await.0, 200);
    assert!(started.elapsed() < delay, "{:?}", started.elapsed());
    for _ in 0..2 {
        let started = std::time::Instant::now();
        let (status, body) = api.get("/portfolio/accounts").await;
        assert_eq!(status, 200, "answered as usual: {body}");
        assert!(started.elapsed() >= delay, "{:?}", started.elapsed());
    }
    let started = std::time::Instant::now();
    assert_eq!(api.get("/portfolio/accounts").await.0, 200);
    assert!(started.elapsed() < delay, "used up: {:?}", started.elapsed());
}

#[tokio::test]
async fn a_slow_write_is_carried_out_after_the_delay() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let api = Api::ready(&fake).await;
    let delay = Duration::from_millis(300);
    fake.delay_next(None, "/iserver/account/", delay, 1);
    let started = std::time::Instant::now();
    let (status, _) = api.place(json!([lmt(AAPL, "BUY", 1, 180.0)])).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= delay, "{:?}", started.elapsed());
    assert_eq!(fake.order_count(), 1);
}
