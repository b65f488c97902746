//! Trading for a user through their grant, asserting on what TradingView sees and on IBKR's ledger:
//! market and limit orders by `CustomerOrderId`, modifications keeping TradingView's order id, a cancel, a
//! close, quotes; and placements whose answer was lost after IBKR accepted them, found and never doubled.

use crate::flow::first_login;
use crate::{start, start_with, AAPL, ACCOUNT};
use axum::http::Method;
use fakes::ibkr_third_party::FakeIbkrThirdPartyOptions;
use std::time::Duration;

/// Waits out the account hub's minimum interval for this backend (1.1 s: IBKR locks a resource read
/// more often than about once a second), so the next read shows the last write.
async fn next_refresh() {
    tokio::time::sleep(Duration::from_millis(1_200)).await;
}

/// Places an order with TradingView's `requestId` (a query parameter) and returns its id.
async fn place(app: &crate::support::TestApp, token: &str, form: &str, request_id: &str) -> String {
    let d = app
        .post(
            token,
            &format!("/accounts/{ACCOUNT}/orders?locale=en&requestId={request_id}"),
            form,
            "PostOrderResponse",
        )
        .await;
    d["orderId"].as_str().expect("orderId").to_owned()
}

#[tokio::test]
async fn a_user_trades_with_their_grant_and_a_modified_order_keeps_its_id() {
    let (fake, app) = start().await;
    let token = first_login(&app, &fake).await;

    // A market order fills at once at IBKR.
    let filled = place(
        &app,
        &token,
        "instrument=AAPL&qty=10&side=buy&type=market",
        "tp-m1",
    )
    .await;
    let id: i64 = filled.parse().expect("the order id is the CustomerOrderId");
    assert_eq!(fake.orders_with_id(ACCOUNT, id), 1);
    assert_eq!(fake.position(ACCOUNT, AAPL), rust_decimal::Decimal::from(10));
    next_refresh().await;
    let order = app.order(&token, ACCOUNT, &filled).await;
    assert_eq!(order["status"], "filled", "{order}");

    // The resend TradingView makes after a lost answer is the same order.
    let again = place(
        &app,
        &token,
        "instrument=AAPL&qty=10&side=buy&type=market",
        "tp-m1",
    )
    .await;
    assert_eq!(again, filled);
    assert_eq!(fake.orders_with_id(ACCOUNT, id), 1, "never placed twice");

    // A limit order far from the market, modified twice: TradingView's id stays.
    let limit = place(
        &app,
        &token,
        "instrument=AAPL&qty=5&side=buy&type=limit&limitPrice=50",
        "tp-l1",
    )
    .await;
    for price in ["51", "52"] {
        next_refresh().await;
        app.put(
            &token,
            &format!("/accounts/{ACCOUNT}/orders/{limit}"),
            &format!("qty=6&limitPrice={price}"),
        )
        .await;
        next_refresh().await;
        let order = app.order(&token, ACCOUNT, &limit).await;
        assert_eq!(order["status"], "working", "{order}");
        assert_eq!(
            order["limitPrice"].as_f64(),
            Some(price.parse().unwrap()),
            "{order}"
        );
        assert_eq!(order["qty"].as_f64(), Some(6.0), "{order}");
    }
    let working: Vec<_> = app
        .orders(&token, ACCOUNT)
        .await
        .into_iter()
        .filter(|o| o["status"] == "working")
        .collect();
    assert_eq!(
        working.len(),
        1,
        "the replaced orders are not shown as working: {working:?}"
    );
    app.delete(&token, &format!("/accounts/{ACCOUNT}/orders/{limit}"), None)
        .await;
    next_refresh().await;
    let order = app.order(&token, ACCOUNT, &limit).await;
    assert_eq!(order["status"], "cancelled", "{order}");

    // Close the position: an opposite market order of its size.
    next_refresh().await;
    let positions = app.positions(&token, ACCOUNT).await;
    let position = positions
        .iter()
        .find(|p| p["instrument"] == "AAPL")
        .unwrap_or_else(|| panic!("{positions:?}"));
    assert_eq!(position["qty"].as_f64(), Some(10.0));
    let pid = position["id"].as_str().unwrap();
    app.delete(&token, &format!("/accounts/{ACCOUNT}/positions/{pid}"), None)
        .await;
    assert_eq!(fake.position(ACCOUNT, AAPL), rust_decimal::Decimal::ZERO);

    // Quotes from the market-data snapshot.
    let quotes = app
        .get(
            &token,
            &format!("/quotes?locale=en&accountId={ACCOUNT}&symbols=AAPL"),
            "QuotesResponse",
        )
        .await;
    let q = &quotes[0];
    assert_eq!(q["s"], "ok", "{quotes}");
    assert!(
        q["v"]["ask"].as_f64().unwrap() > q["v"]["bid"].as_f64().unwrap(),
        "{q}"
    );
    let state = app.state(&token, ACCOUNT).await;
    assert!(state["balance"].as_f64().unwrap() > 0.0, "{state}");
}

#[tokio::test]
async fn an_order_whose_answer_is_lost_after_ibkr_took_it_is_found_not_placed_again() {
    let (fake, app) = start_with(FakeIbkrThirdPartyOptions::relaxed(), "request_timeout_ms = 2000").await;
    let token = first_login(&app, &fake).await;
    let path = format!("/accounts/{ACCOUNT}/orders");

    // IBKR places the order, then answers 500.
    fake.accept_then_fail("POST", &path, 500);
    let id = place(
        &app,
        &token,
        "instrument=AAPL&qty=3&side=buy&type=limit&limitPrice=50",
        "tp-a1",
    )
    .await;
    let cid: i64 = id.parse().unwrap();
    assert_eq!(fake.orders_with_id(ACCOUNT, cid), 1);
    assert_eq!(fake.place_requests(ACCOUNT, cid), 1, "looked up, not sent again");

    // IBKR places the order and never answers (past the bridge's timeout).
    fake.accept_then_hang("POST", &path, Duration::from_secs(30));
    let reply = app
        .send(
            Method::POST,
            &format!("/accounts/{ACCOUNT}/orders?locale=en&requestId=tp-a2"),
            Some(&token),
            Some("instrument=AAPL&qty=4&side=buy&type=limit&limitPrice=50"),
        )
        .await;
    let placed: Vec<_> = fake
        .ledger()
        .orders
        .into_iter()
        .filter(|o| o.account == ACCOUNT)
        .collect();
    assert_eq!(placed.len(), 2, "exactly the two orders: {placed:?}");
    for o in &placed {
        assert_eq!(fake.place_requests(ACCOUNT, o.customer_order_id), 1);
    }
    assert_eq!(reply.body["s"], "ok", "found by CustomerOrderId: {}", reply.body);

    // A 503 that changed nothing: the order is not there, TradingView is told, and its resend places it once.
    fake.fail_next("POST", &path, 503, 1);
    let reply = app
        .send(
            Method::POST,
            &format!("/accounts/{ACCOUNT}/orders?locale=en&requestId=tp-a3"),
            Some(&token),
            Some("instrument=AAPL&qty=1&side=buy&type=limit&limitPrice=50"),
        )
        .await;
    if reply.body["s"] == "error" {
        let again = place(
            &app,
            &token,
            "instrument=AAPL&qty=1&side=buy&type=limit&limitPrice=50",
            "tp-a3",
        )
        .await;
        assert_eq!(fake.orders_with_id(ACCOUNT, again.parse().unwrap()), 1);
    } else {
        let id = reply.body["d"]["orderId"].as_str().unwrap();
        assert_eq!(fake.orders_with_id(ACCOUNT, id.parse().unwrap()), 1);
    }
}
