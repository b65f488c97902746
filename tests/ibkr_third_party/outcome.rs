//! A placement whose outcome stays unknown keeps its `requestId`, end to end: IBKR takes the order but the
//! answer is lost, and the look-up by `CustomerOrderId` is refused too (429), so TradingView is told to
//! check before placing again and IBKR's ledger holds one order. The resend of the same request, IBKR
//! healthy again, looks the order up first and answers the same order id without a second place request;
//! another order under the same request id is refused; and a placement that never reached IBKR is placed
//! once by its resend after the look-up settles that IBKR does not have it. Also: a limit order modified
//! at once after its placement (before the hub's next snapshot) is found and changed.

use crate::flow::first_login;
use crate::{start_with, ACCOUNT};
use axum::http::Method;
use fakes::ibkr_third_party::FakeIbkrThirdPartyOptions;
use std::time::Duration;

const FORM: &str = "instrument=AAPL&qty=3&side=buy&type=limit&limitPrice=50";

fn placement(request_id: &str) -> String {
    format!("/accounts/{ACCOUNT}/orders?locale=en&requestId={request_id}")
}

/// Where orders are placed at IBKR; a look-up by id is below it.
fn orders_path() -> String {
    format!("/accounts/{ACCOUNT}/orders")
}

/// The orders IBKR holds on the account, replacements included.
fn ledger_orders(fake: &fakes::ibkr_third_party::FakeIbkrThirdParty) -> Vec<i64> {
    fake.ledger()
        .orders
        .into_iter()
        .filter(|o| o.account == ACCOUNT)
        .map(|o| o.customer_order_id)
        .collect()
}

#[tokio::test]
async fn an_unknown_outcome_keeps_the_request_id_and_the_resend_answers_the_same_order() {
    let (fake, app) = start_with(FakeIbkrThirdPartyOptions::relaxed(), "request_timeout_ms = 2000").await;
    let token = first_login(&app, &fake).await;
    fake.accept_then_fail("POST", &orders_path(), 500);
    fake.fail_next("GET", &format!("{}/", orders_path()), 429, 100);
    let started = std::time::Instant::now();
    let errmsg = app
        .refused(Method::POST, &token, &placement("tp-unk-1"), Some(FORM))
        .await;
    println!("the unknown outcome was answered in {:?}", started.elapsed());
    assert!(
        errmsg.contains("did not confirm") && errmsg.contains("before placing the order again"),
        "TradingView is told the outcome is unknown: {errmsg}"
    );
    assert!(fake.answered(429) >= 1, "the look-up was refused");
    let placed = ledger_orders(&fake);
    assert_eq!(placed.len(), 1, "IBKR took the order: {placed:?}");

    // Another order under the same request id is refused, and nothing is sent.
    let other = app
        .refused(
            Method::POST,
            &token,
            &placement("tp-unk-1"),
            Some("instrument=AAPL&qty=4&side=buy&type=limit&limitPrice=50"),
        )
        .await;
    assert!(other.contains("already used for a different order"), "{other}");

    // IBKR recovers; TradingView resends the same request: the order is looked up and answered.
    fake.clear_faults();
    let again = app
        .post(&token, &placement("tp-unk-1"), FORM, "PostOrderResponse")
        .await;
    assert_eq!(again["orderId"], placed[0].to_string());
    assert_eq!(ledger_orders(&fake), placed, "never placed twice");
    assert_eq!(fake.place_requests(ACCOUNT, placed[0]), 1, "sent once only");
}

#[tokio::test]
async fn an_unknown_outcome_that_ibkr_settles_as_not_placed_is_placed_once_by_the_resend() {
    let (fake, app) = start_with(FakeIbkrThirdPartyOptions::relaxed(), "request_timeout_ms = 2000").await;
    let token = first_login(&app, &fake).await;
    // A 5xx that changed nothing, and a look-up that is refused: unknown to the bridge.
    fake.fail_next("POST", &orders_path(), 503, 1);
    fake.fail_next("GET", &format!("{}/", orders_path()), 429, 100);
    let errmsg = app
        .refused(Method::POST, &token, &placement("tp-unk-2"), Some(FORM))
        .await;
    assert!(
        errmsg.contains("did not confirm") && errmsg.contains("before placing the order again"),
        "{errmsg}"
    );
    assert!(ledger_orders(&fake).is_empty());

    // The resend looks first, IBKR does not have the order, and it is placed once.
    fake.clear_faults();
    let placed = app
        .post(&token, &placement("tp-unk-2"), FORM, "PostOrderResponse")
        .await;
    let id: i64 = placed["orderId"].as_str().unwrap().parse().unwrap();
    assert_eq!(ledger_orders(&fake), [id]);
    let again = app
        .post(&token, &placement("tp-unk-2"), FORM, "PostOrderResponse")
        .await;
    assert_eq!(again["orderId"], id.to_string());
    assert_eq!(ledger_orders(&fake), [id]);
}

#[tokio::test]
async fn a_limit_order_modified_at_once_after_its_placement_is_found_and_changed() {
    // IBKR locks a resource read more often than once a second (423), as the real API does.
    let (fake, app) = start_with(
        FakeIbkrThirdPartyOptions {
            lock_interval: Duration::from_secs(1),
            ..FakeIbkrThirdPartyOptions::relaxed()
        },
        "",
    )
    .await;
    let token = first_login(&app, &fake).await;
    // TradingView's poll just had the hub take a snapshot (the last one is older than the hub's minimum
    // interval of 1.1 s), without the order to come: the next may only be taken 1.1 s after it.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert!(app.orders(&token, ACCOUNT).await.is_empty());
    let placed = app
        .post(&token, &placement("tp-mod-1"), FORM, "PostOrderResponse")
        .await;
    let id = placed["orderId"].as_str().expect("orderId").to_owned();
    let started = std::time::Instant::now();
    let reply = app
        .send(
            Method::PUT,
            &format!("/accounts/{ACCOUNT}/orders/{id}?locale=en"),
            Some(&token),
            Some("qty=3&limitPrice=51"),
        )
        .await;
    let took = started.elapsed();
    assert_eq!(reply.body["s"], "ok", "modified at once: {}", reply.body);
    assert!(took < Duration::from_secs(5), "answered in {took:?}");
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let order = app.order(&token, ACCOUNT, &id).await;
    assert_eq!(
        (order["status"].as_str(), order["limitPrice"].as_f64()),
        (Some("working"), Some(51.0)),
        "{order}"
    );
    // What the user waits (the look-up in a snapshot from now waits for the hub's minimum interval).
    println!("a modification sent at once after the placement was answered in {took:?}");
}
