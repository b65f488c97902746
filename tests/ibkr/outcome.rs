//! A placement whose outcome stays unknown keeps its `requestId`, end to end: IBKR takes the order but the
//! answer is lost, and the look-up by `cOID` is refused too (429), so TradingView is told to check before
//! placing again and the fake holds one order. The resend of the same request, the upstream healthy again,
//! looks the order up first and answers the same order id without placing a second; another order under
//! the same request id is refused; and a placement that never reached IBKR is placed once by its resend
//! after the look-up settles that IBKR does not have it.

use crate::support;

use axum::http::Method;
use std::time::Duration;
use support::ibkr::{self, fake_order, ACCT};

/// Answers come within 600 ms or not at all.
const IMPATIENT: &str = "request_timeout_ms = 600";
const FORM: &str = "instrument=AAPL&qty=1&side=buy&type=limit&limitPrice=150";
/// IBKR's live orders, where the bridge looks an order up by its `cOID` first.
const LIVE_ORDERS: &str = "/iserver/account/orders";

fn submit_path() -> String {
    format!("/iserver/account/{ACCT}/orders")
}

fn placement(request_id: &str) -> String {
    format!("/accounts/{ACCT}/orders?locale=en&requestId={request_id}")
}

#[tokio::test]
async fn an_unknown_outcome_keeps_the_request_id_and_the_resend_answers_the_same_order() {
    let (fake, app) = ibkr::start_with(ibkr::relaxed(), IMPATIENT, "").await;
    let token = app.login().await;
    fake.hang_after_accept("POST", &submit_path(), Duration::from_secs(3));
    fake.fail_next("GET", LIVE_ORDERS, 429, 100);
    let started = std::time::Instant::now();
    let errmsg = app
        .refused(Method::POST, &token, &placement("unk-1"), Some(FORM))
        .await;
    println!("the unknown outcome was answered in {:?}", started.elapsed());
    assert!(
        errmsg.starts_with(tvbridge::backends::ibkr::orders::UNKNOWN),
        "TradingView is told the outcome is unknown: {errmsg}"
    );
    assert!(fake.throttled() >= 1, "the look-up was refused");
    assert_eq!(fake.order_count(), 1, "IBKR took the order");

    // Another order under the same request id is refused, and nothing is sent.
    let other = app
        .refused(
            Method::POST,
            &token,
            &placement("unk-1"),
            Some("instrument=AAPL&qty=2&side=buy&type=limit&limitPrice=150"),
        )
        .await;
    assert!(other.contains("already used for a different order"), "{other}");

    // IBKR recovers; TradingView resends the same request: the order is looked up and answered.
    fake.clear_faults();
    let again = app
        .post(&token, &placement("unk-1"), FORM, "PostOrderResponse")
        .await;
    let id = again["orderId"].as_str().expect("the order id").to_owned();
    let order_ref = fake_order(&fake, ACCT, &id)["order_ref"].clone();
    assert!(
        order_ref.as_str().is_some_and(|r| r.starts_with("tvb-unk-1-")),
        "the order of this request: {order_ref}"
    );
    assert_eq!(fake.order_count(), 1, "never placed twice");
    assert_eq!(fake.calls("POST", &submit_path()), 1, "sent once only");
    // And again: the same answer, from the record now.
    let third = app
        .post(&token, &placement("unk-1"), FORM, "PostOrderResponse")
        .await;
    assert_eq!(third["orderId"], id.as_str());
    assert_eq!(fake.order_count(), 1);
}

#[tokio::test]
async fn an_unknown_outcome_that_ibkr_settles_as_not_placed_is_placed_once_by_the_resend() {
    let (fake, app) = ibkr::start_with(ibkr::relaxed(), IMPATIENT, "").await;
    let token = app.login().await;
    // A 5xx that changed nothing, and a look-up that is refused: unknown to the bridge.
    fake.fail_next("POST", &submit_path(), 503, 1);
    fake.fail_next("GET", LIVE_ORDERS, 429, 100);
    let errmsg = app
        .refused(Method::POST, &token, &placement("unk-2"), Some(FORM))
        .await;
    assert!(
        errmsg.starts_with(tvbridge::backends::ibkr::orders::UNKNOWN),
        "{errmsg}"
    );
    assert_eq!(fake.order_count(), 0);

    // The resend looks first, finds nothing in IBKR's complete answer, and places the order once.
    fake.clear_faults();
    let placed = app
        .post(&token, &placement("unk-2"), FORM, "PostOrderResponse")
        .await;
    let id = placed["orderId"].as_str().expect("the order id").to_owned();
    assert_eq!(fake.order_count(), 1);
    assert_eq!(
        fake.calls("POST", &submit_path()),
        2,
        "the first try and the resend"
    );
    let again = app
        .post(&token, &placement("unk-2"), FORM, "PostOrderResponse")
        .await;
    assert_eq!(again["orderId"], id.as_str());
    assert_eq!(fake.order_count(), 1);
}

#[tokio::test]
async fn a_resend_while_the_look_up_still_fails_keeps_the_request_id_for_the_next() {
    let (fake, app) = ibkr::start_with(ibkr::relaxed(), IMPATIENT, "").await;
    let token = app.login().await;
    fake.hang_after_accept("POST", &submit_path(), Duration::from_secs(3));
    fake.fail_next("GET", LIVE_ORDERS, 429, 1_000);
    let errmsg = app
        .refused(Method::POST, &token, &placement("unk-3"), Some(FORM))
        .await;
    assert!(
        errmsg.starts_with(tvbridge::backends::ibkr::orders::UNKNOWN),
        "{errmsg}"
    );
    assert_eq!(fake.order_count(), 1);

    // TradingView resends while IBKR still refuses the look-up: nothing is sent, and it is told so.
    let still = app
        .refused(Method::POST, &token, &placement("unk-3"), Some(FORM))
        .await;
    assert!(still.contains("nothing was sent"), "{still}");
    assert_eq!(fake.calls("POST", &submit_path()), 1);

    // The next resend, IBKR healthy again, still looks first and answers the one order.
    fake.clear_faults();
    let reply = app
        .send(Method::POST, &placement("unk-3"), Some(&token), Some(FORM))
        .await;
    assert_eq!(fake.order_count(), 1, "never placed twice");
    assert_eq!(fake.calls("POST", &submit_path()), 1, "never sent again");
    assert_eq!(reply.body["s"], "ok", "the order of this request: {}", reply.body);
    let id = reply.body["d"]["orderId"].as_str().expect("orderId");
    let order_ref = fake_order(&fake, ACCT, id)["order_ref"].clone();
    assert!(
        order_ref.as_str().is_some_and(|r| r.starts_with("tvb-unk-3-")),
        "{order_ref}"
    );
}
