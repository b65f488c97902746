//! Injected faults: documented error answers, "accepted then hung" and "slow before doing anything".

use crate::client::{start, Client, NET, V1};
use fakes::oanda::Fault;
use serde_json::json;
use std::time::{Duration, Instant};

fn market() -> serde_json::Value {
    json!({ "order": { "type": "MARKET", "instrument": "EUR_USD", "units": "1" } })
}

#[tokio::test]
async fn status_faults_answer_the_documented_body_without_effect() {
    let fake = start().await;
    let c = Client::new(&fake);
    fake.inject(Fault::Status {
        status: 503,
        times: 2,
        path: Some("/orders".into()),
    });
    // Other paths are untouched.
    assert_eq!(c.get(&format!("/v3/accounts/{NET}/summary")).await.0, 200);
    for _ in 0..2 {
        let (status, body) = c.post(&format!("/v3/accounts/{NET}/orders"), market()).await;
        assert_eq!(status, 503);
        assert!(body["errorMessage"].is_string());
    }
    assert!(fake.trades(NET).is_empty());
    assert_eq!(
        c.post(&format!("/v3/accounts/{NET}/orders"), market()).await.0,
        201
    );
    let statuses: Vec<u16> = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [503, 503, 201]);
    // v1 paths get the v1 shape; a fault without a path hits the next request whatever it is.
    fake.inject(Fault::Status {
        status: 429,
        times: 1,
        path: None,
    });
    let (status, body) = c.get(&format!("/v1/accounts/{V1}")).await;
    assert_eq!((status, body["code"].as_u64()), (429, Some(68)));
    fake.inject(Fault::Status {
        status: 401,
        times: 1,
        path: Some("/v3/".into()),
    });
    let (status, body) = c.get("/v3/accounts").await;
    assert_eq!(status, 401);
    assert_eq!(
        body["errorMessage"],
        "Insufficient authorization to perform request."
    );
    assert_eq!(c.get("/v3/accounts").await.0, 200);
}

#[tokio::test]
async fn timeout_after_accept_creates_the_order_but_never_answers() {
    let fake = start().await;
    let c = Client::new(&fake);
    fake.inject(Fault::TimeoutAfterAccept {
        method: "POST".into(),
        path: "/orders".into(),
    });
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("http client");
    let started = Instant::now();
    let result = quick
        .post(format!("{}/v3/accounts/{NET}/orders", fake.rest_url))
        .bearer_auth(crate::client::TOKEN)
        .json(
            &json!({ "order": { "type": "MARKET", "instrument": "EUR_USD", "units": "1",
                                  "clientExtensions": { "id": "lost-1" } } }),
        )
        .send()
        .await;
    assert!(result.is_err_and(|e| e.is_timeout()));
    assert!(started.elapsed() < Duration::from_secs(3));
    // The order exists and is found by its client id.
    assert_eq!(fake.trades(NET).len(), 1);
    let (status, body) = c.get(&format!("/v3/accounts/{NET}/orders/@lost-1")).await;
    assert_eq!(status, 200);
    assert_eq!(body["order"]["state"], "FILLED");
    // Only the first matching request hangs.
    assert_eq!(
        c.post(&format!("/v3/accounts/{NET}/orders"), market()).await.0,
        201
    );
}

#[tokio::test]
async fn delay_waits_before_doing_anything() {
    let fake = start().await;
    let c = Client::new(&fake);
    fake.inject(Fault::Delay {
        delay: Duration::from_millis(500),
        path: Some("/orders".into()),
    });
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(150))
        .build()
        .expect("http client");
    let result = quick
        .post(format!("{}/v3/accounts/{NET}/orders", fake.rest_url))
        .bearer_auth(crate::client::TOKEN)
        .json(&market())
        .send()
        .await;
    assert!(result.is_err_and(|e| e.is_timeout()));
    assert!(
        fake.trades(NET).is_empty(),
        "nothing happened before the delay ran out"
    );
    // (Whether the abandoned request runs after its delay depends on the server noticing the client
    // left; nothing is asserted about it.)
    fake.inject(Fault::Delay {
        delay: Duration::from_millis(200),
        path: None,
    });
    let started = Instant::now();
    assert_eq!(c.get("/v3/accounts").await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn cleared_faults_no_longer_apply() {
    let fake = start().await;
    let c = Client::new(&fake);
    fake.inject(Fault::Status {
        status: 429,
        times: 100,
        path: Some("/summary".into()),
    });
    assert_eq!(c.get(&format!("/v3/accounts/{NET}/summary")).await.0, 429);
    fake.clear_faults();
    assert_eq!(c.get(&format!("/v3/accounts/{NET}/summary")).await.0, 200);
}
