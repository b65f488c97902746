//! A placement whose outcome stays unknown keeps its `requestId`, end to end. On v20, OANDA takes the order
//! but its answer never comes and the look-up by client id is refused (429): TradingView is told the
//! outcome is unknown and the fake holds one order; the resend of the same request, OANDA healthy again,
//! looks the order up first and answers the same order id without a second `POST`; another order under the
//! same request id is refused; a placement that never reached OANDA is placed once by its resend after the
//! look-up settles that OANDA does not have it. On v1, which cannot look an order up by request, the
//! history look-up is refused too: the resend is refused as unknown and nothing is placed again.

use crate::support;
use crate::trading::{place, refused_place, sent};
use std::time::Duration;
use support::fake_oanda::{FakeOanda, Fault};
use support::oanda::{self, V1, V20};
use support::TestApp;
use tvbridge::config::BackendConfig;

/// A bridge on `fake` whose OANDA requests time out after 500 ms.
fn bridge(fake: &FakeOanda) -> TestApp {
    let mut config = oanda::config(fake, "", "");
    let BackendConfig::Oanda(backend) = &mut config.backend else {
        panic!("an OANDA configuration");
    };
    backend.request_timeout_ms = 500;
    TestApp::with_broker(config.clone(), oanda::broker(&config))
}

const LIMIT: &str = "instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice=1.08";

fn v20_orders() -> String {
    format!("/v3/accounts/{V20}/orders")
}

/// Every look-up by client id is refused as over the rate limit until the faults are cleared.
fn refuse_lookups(fake: &FakeOanda) {
    fake.inject(Fault::Status {
        status: 429,
        times: 1_000,
        path: Some("/orders/@".into()),
    });
}

/// The orders at OANDA that the bridge placed under a client id.
fn placed_by_bridge(fake: &FakeOanda) -> Vec<(String, Option<String>)> {
    fake.orders(V20)
        .into_iter()
        .filter(|o| o.client_id.is_some())
        .map(|o| (o.id, o.client_id))
        .collect()
}

#[tokio::test]
async fn v20_an_unknown_outcome_keeps_the_request_id_and_the_resend_answers_the_same_order() {
    let fake = FakeOanda::start(oanda::fake_options()).await;
    let app = bridge(&fake);
    let token = oanda::login(&app, V20).await;
    fake.inject(Fault::TimeoutAfterAccept {
        method: "POST".into(),
        path: v20_orders(),
    });
    refuse_lookups(&fake);
    let started = std::time::Instant::now();
    let errmsg = refused_place(&app, &token, V20, "unk-1", LIMIT).await;
    println!("the unknown outcome was answered in {:?}", started.elapsed());
    assert!(
        errmsg.contains("its outcome is unknown") && errmsg.contains("before placing it again"),
        "TradingView is told the outcome is unknown: {errmsg}"
    );
    let lookups = sent(&fake.requests(), "GET", "/orders/@tvb-unk-1")
        .iter()
        .map(|r| r.status)
        .collect::<Vec<_>>();
    assert!(
        !lookups.is_empty() && lookups.iter().all(|s| *s == 429),
        "{lookups:?}"
    );
    let placed = placed_by_bridge(&fake);
    assert_eq!(placed.len(), 1, "OANDA took the order: {placed:?}");

    // Another order under the same request id is refused, and nothing is sent.
    let other = refused_place(
        &app,
        &token,
        V20,
        "unk-1",
        "instrument=EURUSD&qty=2000&side=buy&type=limit&limitPrice=1.08",
    )
    .await;
    assert!(other.contains("already used for a different order"), "{other}");

    // OANDA recovers; TradingView resends the same request: the order is looked up and answered.
    fake.clear_faults();
    let id = place(&app, &token, V20, "unk-1", LIMIT).await;
    assert_eq!(id, "@tvb-unk-1");
    assert_eq!(placed_by_bridge(&fake), placed, "never placed twice");
    assert_eq!(
        sent(&fake.requests(), "POST", &v20_orders()).len(),
        1,
        "sent once only"
    );
    assert_eq!(place(&app, &token, V20, "unk-1", LIMIT).await, id);
    assert_eq!(sent(&fake.requests(), "POST", &v20_orders()).len(), 1);
}

#[tokio::test]
async fn v20_an_unknown_outcome_that_oanda_settles_as_not_placed_is_placed_once_by_the_resend() {
    let fake = FakeOanda::start(oanda::fake_options()).await;
    let app = bridge(&fake);
    let token = oanda::login(&app, V20).await;
    // A 5xx that changed nothing (the placement is the first request on the path), and look-ups refused.
    fake.inject(Fault::Status {
        status: 503,
        times: 1,
        path: Some(v20_orders()),
    });
    refuse_lookups(&fake);
    let errmsg = refused_place(&app, &token, V20, "unk-2", LIMIT).await;
    assert!(errmsg.contains("its outcome is unknown"), "{errmsg}");
    assert!(placed_by_bridge(&fake).is_empty());

    // The resend looks first, OANDA answers 404 (no such client id), and the order is placed once.
    fake.clear_faults();
    let id = place(&app, &token, V20, "unk-2", LIMIT).await;
    assert_eq!(id, "@tvb-unk-2");
    assert_eq!(placed_by_bridge(&fake).len(), 1);
    assert_eq!(sent(&fake.requests(), "POST", &v20_orders()).len(), 2);
    assert_eq!(place(&app, &token, V20, "unk-2", LIMIT).await, id);
    assert_eq!(placed_by_bridge(&fake).len(), 1);
}

#[tokio::test]
async fn v1_an_unknown_outcome_keeps_the_request_id_and_the_resend_is_refused_as_unknown() {
    let fake = FakeOanda::start(oanda::fake_options()).await;
    let app = bridge(&fake);
    let token = oanda::login(&app, V1).await;
    let orders = format!("/v1/accounts/{V1}/orders");
    fake.inject(Fault::TimeoutAfterAccept {
        method: "POST".into(),
        path: orders.clone(),
    });
    let form = "instrument=EURUSD&qty=300&side=sell&type=market";
    // The history is read before the order is sent; its look-ups after the lost answer are refused.
    let refuse_history_once_sent = async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while sent(&fake.requests(), "POST", &orders).is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "the order was never sent");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        fake.inject(Fault::Status {
            status: 429,
            times: 1_000,
            path: Some(format!("/v1/accounts/{V1}/transactions")),
        });
    };
    let started = std::time::Instant::now();
    let (errmsg, ()) = tokio::join!(
        refused_place(&app, &token, V1, "v1-unk", form),
        refuse_history_once_sent
    );
    println!("the unknown outcome was answered in {:?}", started.elapsed());
    assert!(
        errmsg.contains("does not settle whether it was placed")
            && errmsg.contains("before placing it again"),
        "TradingView is told the outcome is unknown: {errmsg}"
    );
    assert_eq!(fake.trades(V1).len(), 1, "OANDA took the order");

    // OANDA recovers; TradingView resends: v1 cannot look the order up, so it is refused, not placed.
    fake.clear_faults();
    let again = refused_place(&app, &token, V1, "v1-unk", form).await;
    assert!(
        again.contains("outcome is unknown") && again.contains("before placing it again"),
        "{again}"
    );
    assert_eq!(fake.trades(V1).len(), 1, "never placed twice");
    assert_eq!(sent(&fake.requests(), "POST", &orders).len(), 1, "sent once only");
}
