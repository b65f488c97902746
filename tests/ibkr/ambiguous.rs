//! Failures that leave a write's outcome unknown never end in a doubled order: a timeout after IBKR
//! accepted the order, a 5xx on `POST /orders`, and a lost answer to a confirmed question each end with
//! exactly one order at the fake, found by its `cOID` (never by sending again), also when TradingView
//! resends the same `requestId`.

use crate::support;

use axum::http::Method;
use std::time::Duration;
use support::fake_ibkr::{FakeIbkrOptions, FakeQuestion};
use support::ibkr::{self, fake_order, ACCT};

/// Answers come within 600 ms or not at all.
const IMPATIENT: &str = "request_timeout_ms = 600";

fn orders_path() -> String {
    format!("/iserver/account/{ACCT}/orders")
}

#[tokio::test]
async fn a_timeout_after_ibkr_accepted_the_order_finds_it_by_its_coid() {
    let (fake, app) = ibkr::start_with(ibkr::relaxed(), IMPATIENT, "").await;
    let token = app.login().await;
    fake.hang_after_accept("POST", &orders_path(), Duration::from_secs(3));
    let path = format!("/accounts/{ACCT}/orders?locale=en&requestId=slow-1");
    let form = "instrument=AAPL&qty=1&side=buy&type=limit&limitPrice=150";
    let placed = app.post(&token, &path, form, "PostOrderResponse").await;
    let id = placed["orderId"]
        .as_str()
        .expect("the order id found by cOID")
        .to_owned();
    assert_eq!(fake.order_count(), 1);
    let order_ref = fake_order(&fake, ACCT, &id)["order_ref"].clone();
    assert!(
        order_ref.as_str().is_some_and(|r| r.starts_with("tvb-slow-1-")),
        "the cOID carries the request id and its user: {order_ref}"
    );
    assert_eq!(fake.calls("POST", &orders_path()), 1, "never sent again");
    // TradingView resends the request: still one order.
    let again = app.post(&token, &path, form, "PostOrderResponse").await;
    assert_eq!(again["orderId"], id.as_str());
    assert_eq!(fake.order_count(), 1);
    assert_eq!(fake.calls("POST", &orders_path()), 1);
}

#[tokio::test]
async fn a_5xx_on_post_orders_is_looked_up_and_a_resend_places_exactly_one_order() {
    let (fake, app) = ibkr::start_with(ibkr::relaxed(), IMPATIENT, "").await;
    let token = app.login().await;
    fake.fail_next("POST", &orders_path(), 503, 1);
    let path = format!("/accounts/{ACCT}/orders?locale=en&requestId=five-1");
    let form = "instrument=AAPL&qty=1&side=buy&type=limit&limitPrice=150";
    let errmsg = app.refused(Method::POST, &token, &path, Some(form)).await;
    assert!(errmsg.contains("most likely not placed"), "{errmsg}");
    assert_eq!(fake.order_count(), 0);
    assert_eq!(
        fake.calls("GET", "/iserver/account/orders"),
        1,
        "looked up among the live orders"
    );
    assert_eq!(
        fake.calls("POST", &orders_path()),
        1,
        "never sent again by itself"
    );
    // The user (or TradingView) tries again: one order.
    let placed = app.post(&token, &path, form, "PostOrderResponse").await;
    assert_eq!(fake.order_count(), 1);
    let id = placed["orderId"].as_str().unwrap();
    let order_ref = fake_order(&fake, ACCT, id)["order_ref"].clone();
    assert!(
        order_ref.as_str().is_some_and(|r| r.starts_with("tvb-five-1-")),
        "the cOID carries the request id and its user: {order_ref}"
    );
}

#[tokio::test]
async fn a_lost_answer_to_a_confirmed_question_finds_the_order_by_its_coid() {
    let options = FakeIbkrOptions {
        questions: FakeQuestion::defaults(),
        ..ibkr::relaxed()
    };
    let (fake, app) = ibkr::start_with(options, &format!("{IMPATIENT}\nauto_confirm = [\"o383\"]"), "").await;
    let token = app.login().await;
    fake.hang_after_accept("POST", "/iserver/reply/", Duration::from_secs(3));
    let placed = app
        .post(
            &token,
            &format!("/accounts/{ACCT}/orders?locale=en&requestId=reply-1"),
            "instrument=AAPL&qty=600&side=buy&type=limit&limitPrice=150",
            "PostOrderResponse",
        )
        .await;
    let id = placed["orderId"].as_str().expect("found by cOID").to_owned();
    assert_eq!(fake.order_count(), 1);
    let order_ref = fake_order(&fake, ACCT, &id)["order_ref"].clone();
    assert!(
        order_ref.as_str().is_some_and(|r| r.starts_with("tvb-reply-1-")),
        "the cOID carries the request id and its user: {order_ref}"
    );
    let replies = fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/iserver/reply/"))
        .count();
    assert_eq!(replies, 1, "the confirmation was not sent twice");
}
