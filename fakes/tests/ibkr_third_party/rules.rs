//! The status rules and faults: 423 on fast polling of `/accounts/*`, 202 on slow reads, 429 with
//! `Retry-After`, scheduled 5xx/408, an accepted write answered 500 (the order exists) or late.

use crate::client::*;
use fakes::ibkr_third_party::{FakeIbkrThirdParty, FakeIbkrThirdPartyOptions};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn polling_an_account_resource_faster_than_the_lock_interval_answers_423() {
    let options = FakeIbkrThirdPartyOptions {
        lock_interval: Duration::from_millis(400),
        ..FakeIbkrThirdPartyOptions::relaxed()
    };
    let fake = FakeIbkrThirdParty::start(options).await;
    let c = Consumer::new(&fake);
    let s = c.granted(&fake, "alice").await;
    let path = format!("/accounts/{ALICE_ACCT}/orders");
    assert_eq!(c.get(&s, &path).await.status, 200);
    let locked = c.get(&s, &path).await;
    assert_eq!(
        (locked.status, locked.body.clone()),
        (423, json!({"error": "Resource locked"}))
    );
    // Another path, another method, and /accounts itself are not locked by it.
    assert_eq!(
        c.get(&s, &format!("/accounts/{ALICE_ACCT}/positions"))
            .await
            .status,
        200
    );
    assert_eq!(c.get(&s, "/accounts").await.status, 200);
    assert_eq!(c.get(&s, "/accounts").await.status, 200);
    // Another access token of another user has its own lock.
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(c.get(&s, &path).await.status, 200);
    assert_eq!(fake.answered(423), 1);
}

#[tokio::test]
async fn slow_reads_answer_202_first_then_the_resource() {
    let options = FakeIbkrThirdPartyOptions {
        slow_reads: 2,
        ..FakeIbkrThirdPartyOptions::relaxed()
    };
    let fake = FakeIbkrThirdParty::start(options).await;
    let c = Consumer::new(&fake);
    let s = c.granted(&fake, "alice").await;
    assert_eq!(c.get(&s, "/accounts").await.status, 202);
    assert_eq!(c.get(&s, "/accounts").await.status, 202);
    assert_eq!(c.get(&s, "/accounts").await.status, 200);
}

#[tokio::test]
async fn over_the_request_rate_answers_429_with_retry_after() {
    let (fake, c) = relaxed().await;
    let s = c.granted(&fake, "alice").await;
    fake.set_requests_per_second(3);
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..5 {
        let a = c.get(&s, "/secdef?conid=265598").await;
        if a.status == 429 {
            retry_after = a
                .headers
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
        }
        statuses.push(a.status);
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    assert_eq!(retry_after.as_deref(), Some("1"));
}

#[tokio::test]
async fn scheduled_failures_do_nothing_but_an_accepted_write_is_placed() {
    let (fake, c) = relaxed().await;
    let s = c.granted(&fake, "alice").await;
    let path = format!("/accounts/{ALICE_ACCT}/orders");
    let order = |id: i64| json!({"CustomerOrderId": id, "ContractId": AAPL, "Side": "1", "OrderType": "2", "OrderQty": 1, "Price": 100, "TimeInForce": "1"});
    fake.fail_next("POST", &path, 503, 1);
    fake.fail_next("POST", &path, 408, 1);
    assert_eq!(c.call(&s, Method::POST, &path, Some(&order(1))).await.status, 503);
    assert_eq!(c.call(&s, Method::POST, &path, Some(&order(1))).await.status, 408);
    assert_eq!(
        fake.orders_with_id(ALICE_ACCT, 1),
        0,
        "a failed call placed nothing"
    );
    assert_eq!(fake.place_requests(ALICE_ACCT, 1), 0);

    fake.accept_then_fail("POST", &path, 500);
    let ambiguous = c.call(&s, Method::POST, &path, Some(&order(2))).await;
    assert_eq!(ambiguous.status, 500);
    let found = c.get(&s, &format!("{path}/2")).await;
    assert_eq!(
        found.body[0]["Status"], "0",
        "the order exists: look it up, never resend"
    );
    let resent = c.call(&s, Method::POST, &path, Some(&order(2))).await;
    assert_eq!(resent.status, 400);
    assert_eq!(fake.orders_with_id(ALICE_ACCT, 2), 1);

    fake.accept_then_hang("POST", &path, Duration::from_secs(30));
    let hung = tokio::time::timeout(
        Duration::from_millis(500),
        c.call(&s, Method::POST, &path, Some(&order(3))),
    )
    .await;
    assert!(hung.is_err(), "the answer is withheld");
    assert_eq!(fake.orders_with_id(ALICE_ACCT, 3), 1, "but the order is placed");

    fake.delay_next("GET", "/secdef", Duration::from_millis(300), 1);
    let started = std::time::Instant::now();
    assert_eq!(c.get(&s, "/secdef?conid=265598").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    fake.fail_next("GET", "/accounts", 202, 1);
    assert_eq!(c.get(&s, "/accounts").await.status, 202);
    assert_eq!(c.get(&s, "/accounts").await.status, 200);
}

#[tokio::test]
async fn cleared_faults_no_longer_apply() {
    let (fake, c) = relaxed().await;
    let s = c.granted(&fake, "alice").await;
    fake.fail_next("GET", "/accounts", 429, 100);
    assert_eq!(c.get(&s, "/accounts").await.status, 429);
    fake.clear_faults();
    assert_eq!(c.get(&s, "/accounts").await.status, 200);
}
