//! Pacing like IBKR's: a global requests-per-second limit and one call per interval on the limited
//! endpoints, 429 beyond, with counters a test can read.

use crate::client::Api;
use fakes::ibkr::{EndpointPacing, FakeIbkr, FakeIbkrOptions};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn requests_past_the_global_rate_get_429_and_are_counted() {
    let fake = FakeIbkr::start(FakeIbkrOptions {
        requests_per_second: 5,
        ..FakeIbkrOptions::relaxed()
    })
    .await;
    let api = Api::new(&fake);
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(api.post("/iserver/auth/status", json!({})).await.0);
    }
    assert_eq!(statuses, vec![200, 200, 200, 200, 200, 429, 429, 429]);
    assert_eq!(fake.throttled(), 3);
    assert_eq!(fake.calls("POST", "/iserver/auth/status"), 8);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(api.post("/iserver/auth/status", json!({})).await.0, 200);
}

#[tokio::test]
async fn live_orders_trades_and_portfolio_accounts_allow_one_call_per_interval() {
    let fake = FakeIbkr::start(FakeIbkrOptions {
        endpoint_pacing: EndpointPacing::defaults(),
        ..FakeIbkrOptions::relaxed()
    })
    .await;
    let api = Api::ready(&fake).await;
    for path in [
        "/iserver/account/orders",
        "/iserver/account/trades",
        "/portfolio/accounts",
    ] {
        assert_eq!(api.get(path).await.0, 200, "{path}");
        let (status, body) = api.get(path).await;
        assert_eq!(status, 429, "{path}");
        assert!(body["error"].as_str().unwrap_or("").contains("Too many requests"));
    }
    assert_eq!(fake.throttled(), 3);
}

#[tokio::test]
async fn a_limited_endpoint_opens_again_after_its_interval() {
    let fake = FakeIbkr::start(FakeIbkrOptions {
        endpoint_pacing: vec![EndpointPacing::new(
            "GET",
            "/iserver/account/orders",
            Duration::from_millis(300),
        )],
        ..FakeIbkrOptions::relaxed()
    })
    .await;
    let api = Api::ready(&fake).await;
    assert_eq!(api.get("/iserver/account/orders").await.0, 200);
    assert_eq!(api.get("/iserver/account/orders").await.0, 429);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(api.get("/iserver/account/orders").await.0, 200);
    assert_eq!(fake.calls("GET", "/iserver/account/orders"), 3);
}

#[tokio::test]
async fn the_default_gateway_limit_is_ten_per_second() {
    let fake = FakeIbkr::start(FakeIbkrOptions::default()).await;
    let api = Api::new(&fake);
    let calls: Vec<_> = (0..15).map(|_| api.post("/tickle", json!({}))).collect();
    let statuses: Vec<u16> = futures_util::future::join_all(calls)
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 10, "{statuses:?}");
    assert_eq!(fake.throttled(), 5);
}

#[tokio::test]
async fn the_busiest_window_of_an_endpoint_is_counted() {
    let fake = FakeIbkr::start(FakeIbkrOptions::relaxed()).await;
    let api = Api::ready(&fake).await;
    let orders = "/iserver/account/orders";
    assert_eq!(fake.max_calls_in_window("GET", orders, Duration::from_secs(5)), 0);
    api.get(orders).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    api.get(orders).await;
    api.get(orders).await;
    assert_eq!(fake.max_calls_in_window("GET", orders, Duration::from_secs(5)), 3);
    assert_eq!(
        fake.max_calls_in_window("GET", orders, Duration::from_millis(250)),
        2
    );
    assert_eq!(
        fake.max_calls_in_window("GET", "/iserver/accounts", Duration::from_secs(5)),
        1
    );
}
