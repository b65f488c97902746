//! IBKR's own statuses against the fake, as TradingView's polls meet them: 423 (a resource polled too
//! often) serves the last answer while the bridge backs off, 202 (accepted, not yet available) is asked
//! again until the answer comes, and a real lock from polling faster than the fake allows never reaches
//! TradingView as an error.

use crate::flow::first_login;
use crate::{start, start_with, ACCOUNT};
use fakes::ibkr_third_party::FakeIbkrThirdPartyOptions;
use std::time::Duration;

/// Past the hub's minimum interval (1.1 s), so the next poll reads IBKR again.
async fn next_refresh() {
    tokio::time::sleep(Duration::from_millis(1_200)).await;
}

#[tokio::test]
async fn a_locked_resource_serves_the_last_answer_and_an_accepted_one_is_asked_again() {
    let (fake, app) = start().await;
    let token = first_login(&app, &fake).await;
    let orders_path = format!("/accounts/{ACCOUNT}/orders");
    let before = app.orders(&token, ACCOUNT).await;

    // 423 on the next read: TradingView still gets the orders (the last good answer), not an error.
    fake.fail_next("GET", &orders_path, 423, 1);
    next_refresh().await;
    let served = app.orders(&token, ACCOUNT).await;
    assert_eq!(served, before);
    assert_eq!(fake.answered(423), 1);

    // 202 twice, then the answer: asked three times, and the poll succeeds.
    next_refresh().await;
    let calls = fake.calls("GET", &orders_path);
    fake.fail_next("GET", &orders_path, 202, 2);
    let state = app.state(&token, ACCOUNT).await;
    assert!(state["balance"].as_f64().is_some(), "{state}");
    app.orders(&token, ACCOUNT).await;
    assert!(
        fake.calls("GET", &orders_path) >= calls + 3,
        "202 answers are asked again"
    );
}

#[tokio::test]
async fn polling_faster_than_ibkr_allows_never_shows_an_error() {
    // The fake locks a resource read more often than once a second, as IBKR does.
    let (fake, app) = start_with(
        FakeIbkrThirdPartyOptions {
            lock_interval: Duration::from_secs(1),
            ..FakeIbkrThirdPartyOptions::relaxed()
        },
        "",
    )
    .await;
    let token = first_login(&app, &fake).await;
    // Two "tabs" (sessions) of one user polling every 100 ms for 3 s.
    let other = app
        .send(
            axum::http::Method::POST,
            "/authorize",
            None,
            Some("login=demo&password=demo"),
        )
        .await
        .body["d"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..30 {
        for t in [&token, &other] {
            app.orders(t, ACCOUNT).await;
            app.positions(t, ACCOUNT).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every poll answered `ok` (the helpers assert it); IBKR was asked about once a second per resource.
    let reads = fake.calls("GET", &format!("/accounts/{ACCOUNT}/orders"));
    assert!(reads <= 6, "{reads} order reads in 3 s");
}
