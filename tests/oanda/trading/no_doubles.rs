//! Nothing is doubled: a placement whose answer never comes is looked up by its client id instead of being
//! sent again; a server error before OANDA did anything is reported as "not placed" without a resend; the
//! same `requestId` gives the same order, at once, later, and after the bridge restarted (OANDA then
//! refuses the client id as taken, and the bridge answers with the order that has it, but only to the user
//! who placed it: another user of the account sending the same request id hears his order was not placed).

use super::support::fake_oanda::{FakeOanda, Fault};
use super::support::oanda::{self, V20};
use super::support::TestApp;
use super::{bodies, d, find_order, num, only, place, refused_place, sent};
use std::time::{Duration, Instant};
use tvbridge::config::BackendConfig;

/// A bridge on `fake` whose OANDA requests time out after `timeout_ms`.
fn bridge(fake: &FakeOanda, timeout_ms: u64) -> TestApp {
    let mut config = oanda::config(fake, "", "");
    let BackendConfig::Oanda(backend) = &mut config.backend else {
        panic!("an OANDA configuration");
    };
    backend.request_timeout_ms = timeout_ms;
    TestApp::with_broker(config.clone(), oanda::broker(&config))
}

fn orders_of() -> String {
    format!("/v3/accounts/{V20}/orders")
}

/// Lookups of the order with client id `client_id`.
fn lookups(fake: &FakeOanda, client_id: &str) -> usize {
    sent(&fake.requests(), "GET", &format!("/orders/@{client_id}")).len()
}

#[tokio::test]
async fn an_order_whose_answer_never_comes_is_found_by_its_client_id_not_resent() {
    let fake = FakeOanda::start(oanda::fake_options()).await;
    let app = bridge(&fake, 500);
    let token = oanda::login(&app, V20).await;
    for (request, form) in [
        (
            "slow-mkt",
            "instrument=EURUSD&qty=1000&side=buy&type=market&stopLoss=1.07",
        ),
        (
            "slow-lim",
            "instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice=1.08",
        ),
    ] {
        fake.inject(Fault::TimeoutAfterAccept {
            method: "POST".into(),
            path: orders_of(),
        });
        let started = Instant::now();
        let id = place(&app, &token, V20, request, form).await;
        assert_eq!(id, format!("@tvb-{request}"));
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "answered soon after the timeout"
        );
        assert_eq!(lookups(&fake, &format!("tvb-{request}")), 1);
    }
    assert_eq!(
        bodies(&fake, "POST", &orders_of()).len(),
        2,
        "each order was sent once"
    );
    let entries: Vec<(String, String)> = fake
        .orders(V20)
        .into_iter()
        .filter(|o| o.client_id.is_some())
        .map(|o| (o.kind, o.state))
        .collect();
    assert_eq!(
        entries,
        [("MARKET", "FILLED"), ("LIMIT", "PENDING")].map(|(k, s)| (k.to_string(), s.to_string()))
    );
    assert_eq!(only(fake.trades(V20)).stop_loss, Some(d("1.07")));
    let market = find_order(&app, &token, V20, "@tvb-slow-mkt")
        .await
        .expect("the market order");
    assert_eq!(
        (market["status"].as_str(), num(&market["filledQty"])),
        (Some("filled"), d("1000"))
    );
    let limit = find_order(&app, &token, V20, "@tvb-slow-lim")
        .await
        .expect("the limit order");
    assert_eq!(limit["status"], "working");
}

#[tokio::test]
async fn a_server_error_before_anything_happened_is_reported_as_not_placed() {
    let fake = FakeOanda::start(oanda::fake_options()).await;
    let app = bridge(&fake, 2_000);
    let token = oanda::login(&app, V20).await;
    fake.inject(Fault::Status {
        status: 503,
        times: 1,
        path: Some(orders_of()),
    });
    let form = "instrument=EURUSD&qty=1000&side=buy&type=market";
    let msg = refused_place(&app, &token, V20, "err", form).await;
    assert_eq!(
        msg,
        "OANDA did not confirm the order and does not have it: it was not placed, and nothing was sent \
         twice. Place it again if you still want it."
    );
    let requests = fake.requests();
    assert_eq!(sent(&requests, "POST", &orders_of()).len(), 1, "never resent");
    assert_eq!(
        lookups(&fake, "tvb-err"),
        3,
        "looked up a few times while OANDA might still be at it"
    );
    assert!(fake.orders(V20).is_empty() && fake.trades(V20).is_empty());

    // TradingView sends it again with the same request id: a failed placement left nothing to replay.
    let id = place(&app, &token, V20, "err", form).await;
    assert_eq!(id, "@tvb-err");
    assert_eq!(only(fake.orders(V20)).state, "FILLED");
    assert_eq!(fake.trades(V20).len(), 1);
}

#[tokio::test]
async fn the_same_request_id_places_one_order_at_once_later_and_after_a_restart() {
    let fake = FakeOanda::start(oanda::fake_options()).await;
    let app = bridge(&fake, 2_000);
    let token = oanda::login(&app, V20).await;
    let form = "instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice=1.08";
    let (a, b) = tokio::join!(
        place(&app, &token, V20, "dup", form),
        place(&app, &token, V20, "dup", form)
    );
    let again = place(&app, &token, V20, "dup", form).await;
    assert_eq!([&a, &b, &again], ["@tvb-dup"; 3]);
    assert_eq!(sent(&fake.requests(), "POST", &orders_of()).len(), 1);

    // A new bridge process knows nothing of the first one's request ids: OANDA's client ids do.
    let restarted = bridge(&fake, 2_000);
    let token = oanda::login(&restarted, V20).await;
    let id = place(&restarted, &token, V20, "dup", form).await;
    assert_eq!(id, "@tvb-dup");
    let posted = sent(&fake.requests(), "POST", &orders_of())
        .iter()
        .map(|r| r.status)
        .collect::<Vec<_>>();
    assert_eq!(
        posted,
        [201, 400],
        "the resend was refused: the client id is taken"
    );
    let reject = fake
        .transactions(V20)
        .into_iter()
        .rev()
        .find(|t| t["type"] == "LIMIT_ORDER_REJECT");
    assert_eq!(
        reject.map(|t| t["rejectReason"].clone()),
        Some(serde_json::json!("CLIENT_ORDER_ID_ALREADY_EXISTS"))
    );
    assert_eq!(lookups(&fake, "tvb-dup"), 1);
    let order = only(fake.orders(V20));
    assert_eq!(
        (order.state.as_str(), order.client_id.as_deref()),
        ("PENDING", Some("tvb-dup"))
    );

    // A resent order OANDA had killed at once still says why, and is not placed again.
    let huge = "instrument=EURUSD&qty=100000000&side=buy&type=market";
    let first = refused_place(&restarted, &token, V20, "huge", huge).await;
    let third = bridge(&fake, 2_000);
    let token = oanda::login(&third, V20).await;
    let resent = refused_place(&third, &token, V20, "huge", huge).await;
    assert_eq!(first, resent);
    assert_eq!(
        resent,
        "OANDA did not execute the order: There was not enough margin available to fill the order."
    );
    assert_eq!(
        fake.orders(V20).len(),
        2,
        "one limit order, one killed market order"
    );
    assert!(fake.trades(V20).is_empty());
}

#[tokio::test]
async fn changes_and_closes_whose_answer_never_comes_are_checked_not_resent() {
    let fake = FakeOanda::start(oanda::fake_options()).await;
    let app = bridge(&fake, 500);
    let token = oanda::login(&app, V20).await;
    let id = place(
        &app,
        &token,
        V20,
        "lim",
        "instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice=1.08",
    )
    .await;
    let first = only(fake.orders(V20)).id;
    fake.inject(Fault::TimeoutAfterAccept {
        method: "PUT".into(),
        path: format!("/orders/{first}"),
    });
    app.put(
        &token,
        &format!("/accounts/{V20}/orders/{id}?locale=en"),
        "qty=1000&limitPrice=1.079",
    )
    .await;
    assert_eq!(
        sent(&fake.requests(), "PUT", &format!("/orders/{first}")).len(),
        1
    );
    let live: Vec<_> = fake
        .orders(V20)
        .into_iter()
        .filter(|o| o.state == "PENDING")
        .collect();
    assert_eq!(only(live).price, Some(d("1.079")));
    assert_eq!(
        num(&find_order(&app, &token, V20, &id).await.expect("the order")["limitPrice"]),
        d("1.079")
    );

    let second = fake.orders(V20).pop().expect("the replacement").id;
    fake.inject(Fault::TimeoutAfterAccept {
        method: "PUT".into(),
        path: format!("/orders/{second}/cancel"),
    });
    app.delete(&token, &format!("/accounts/{V20}/orders/{id}?locale=en"), None)
        .await;
    assert_eq!(sent(&fake.requests(), "PUT", "/cancel").len(), 1);
    assert!(fake.orders(V20).iter().all(|o| o.state == "CANCELLED"));

    place(
        &app,
        &token,
        V20,
        "mkt",
        "instrument=EURUSD&qty=1000&side=buy&type=market",
    )
    .await;
    let trade = only(fake.trades(V20)).id;
    fake.inject(Fault::TimeoutAfterAccept {
        method: "PUT".into(),
        path: format!("/trades/{trade}/close"),
    });
    app.delete(
        &token,
        &format!("/accounts/{V20}/individualPositions/{trade}?locale=en"),
        Some("amount=400"),
    )
    .await;
    assert_eq!(sent(&fake.requests(), "PUT", "/close").len(), 1);
    assert_eq!(only(fake.trades(V20)).units, d("600"), "closed once, not twice");
}

#[tokio::test]
async fn two_users_sharing_an_account_never_get_each_others_order_for_the_same_request_id() {
    std::env::set_var("TVB_TEST_OANDA_SHARED", oanda::TOKEN);
    let backend = format!(
        "login = \"mapped\"\n\
         [[backend.users]]\nlogin = \"alice\"\ntoken_env = \"TVB_TEST_OANDA_SHARED\"\naccounts = [\"{V20}\"]\n\
         [[backend.users]]\nlogin = \"bob\"\ntoken_env = \"TVB_TEST_OANDA_SHARED\"\naccounts = [\"{V20}\"]\n"
    );
    let users = "[[auth.users]]\nlogin = \"alice\"\npassword = \"alice-bridge-password\"\n\
                 [[auth.users]]\nlogin = \"bob\"\npassword = \"bob-bridge-password\"\n";
    let (fake, app) = oanda::start(&backend, users).await;
    let alice = app.login_as("alice", "alice-bridge-password").await;
    let bob = app.login_as("bob", "bob-bridge-password").await;
    let form = "instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice=1.08";
    let placed = place(&app, &alice, V20, "same", form).await;
    assert_eq!(placed, "@tvb-same");

    // Bob's request id happens to be Alice's: OANDA refuses the taken client id, and the order it has is
    // Alice's, so Bob hears that his order was not placed instead of being handed hers.
    let errmsg = refused_place(
        &app,
        &bob,
        V20,
        "same",
        "instrument=EURUSD&qty=2000&side=sell&type=limit&limitPrice=1.2",
    )
    .await;
    assert!(
        errmsg.contains("not placed by you") && errmsg.contains("was not placed"),
        "{errmsg}"
    );
    let order = only(fake.orders(V20));
    assert_eq!(order.client_id.as_deref(), Some("tvb-same"));

    // Alice resending her own request still gets her order, and nothing is placed twice.
    assert_eq!(place(&app, &alice, V20, "same", form).await, "@tvb-same");
    assert_eq!(fake.orders(V20).len(), 1);
}
