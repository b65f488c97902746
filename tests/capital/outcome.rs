//! A placement whose outcome is unknown keeps its `requestId`, end to end. Capital.com cannot look a deal
//! up by the request that made it, so its resend is refused as unknown and nothing is placed again: after
//! a deal taken whose answer never came while the look-up of positions and orders was refused (429), and
//! after a 5xx that made no deal (the look-up finds none, which for Capital.com is "most likely", not
//! settled). Another order under the same request id is refused.

use crate::support;

use axum::http::Method;
use std::time::Duration;
use support::capital::{self, NET};
use support::fake_capital::{FakeCapital, FakeOptions, Fault};
use support::TestApp;

const MARKET: &str = "instrument=EURUSD&qty=1000&side=buy&type=market";

fn placement(request_id: &str) -> String {
    format!("/accounts/{NET}/orders?locale=en&requestId={request_id}")
}

/// Refuses every read of positions and working orders (429, Capital.com's rate-limit answer) once the
/// deal was sent (the bridge reads both before sending it, to tell its deal from earlier ones).
async fn refuse_lookups_once_sent(fake: &FakeCapital) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while capital::count(&fake.requests(), "POST", "/positions") == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the deal was never sent");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for path in ["/positions", "/workingorders"] {
        fake.inject(Fault::Status {
            method: Some("GET".into()),
            path_prefix: path.into(),
            status: 429,
            body: serde_json::json!({ "errorCode": "error.too-many.requests" }),
            times: 1_000,
        });
    }
}

/// The resend of `request_id` is refused as unknown, and nothing is sent.
async fn resend_is_refused(fake: &FakeCapital, app: &TestApp, token: &str, request_id: &str) {
    let posts = capital::count(&fake.requests(), "POST", "/positions");
    let again = app
        .refused(Method::POST, token, &placement(request_id), Some(MARKET))
        .await;
    assert!(
        again.contains("outcome is unknown") && again.contains("before placing it again"),
        "{again}"
    );
    assert_eq!(
        capital::count(&fake.requests(), "POST", "/positions"),
        posts,
        "nothing sent again"
    );
}

#[tokio::test]
async fn an_unknown_outcome_keeps_the_request_id_and_the_resend_is_refused_as_unknown() {
    let (fake, app) = capital::start_with(FakeOptions::default(), "request_timeout_ms = 500", "").await;
    let token = capital::login(&app).await;
    fake.inject(Fault::AcceptThenHang {
        method: Some("POST".into()),
        path_prefix: "/positions".into(),
        delay: Duration::from_secs(5),
    });
    let path = placement("cap-unk-1");
    let started = std::time::Instant::now();
    let (errmsg, ()) = tokio::join!(
        app.refused(Method::POST, &token, &path, Some(MARKET)),
        refuse_lookups_once_sent(&fake)
    );
    println!("the unknown outcome was answered in {:?}", started.elapsed());
    assert!(
        errmsg.contains("outcome is unknown") && errmsg.contains("before placing it again"),
        "TradingView is told the outcome is unknown: {errmsg}"
    );
    assert_eq!(fake.positions(NET).len(), 1, "Capital.com made the deal");

    // Another order under the same request id is refused.
    let other = app
        .refused(
            Method::POST,
            &token,
            &placement("cap-unk-1"),
            Some("instrument=EURUSD&qty=2000&side=buy&type=market"),
        )
        .await;
    assert!(other.contains("already used for a different order"), "{other}");

    // Capital.com recovers; TradingView resends: refused as unknown, never placed twice.
    fake.clear_faults();
    resend_is_refused(&fake, &app, &token, "cap-unk-1").await;
    assert_eq!(fake.positions(NET).len(), 1, "never placed twice");
    assert_eq!(capital::count(&fake.requests(), "POST", "/positions"), 1);
}

#[tokio::test]
async fn a_deal_found_nowhere_after_a_5xx_keeps_the_request_id_too() {
    let (fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    fake.inject(Fault::Status {
        method: Some("POST".into()),
        path_prefix: "/positions".into(),
        status: 502,
        body: serde_json::json!({ "errorCode": "error.service.unavailable" }),
        times: 1,
    });
    let errmsg = app
        .refused(Method::POST, &token, &placement("cap-unk-2"), Some(MARKET))
        .await;
    assert!(
        errmsg.contains("most likely not placed") && errmsg.contains("before placing it again"),
        "{errmsg}"
    );
    assert!(fake.positions(NET).is_empty());
    resend_is_refused(&fake, &app, &token, "cap-unk-2").await;
    assert!(fake.positions(NET).is_empty(), "nothing placed");
}
