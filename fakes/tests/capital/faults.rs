//! Injected faults: canned statuses, "accepted then hung" and "slow before doing anything".

use crate::client::{impatient, login, start};
use fakes::capital::Fault;
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

fn gold() -> serde_json::Value {
    json!({ "epic": "GOLD", "direction": "BUY", "size": 1 })
}

#[tokio::test]
async fn status_faults_answer_without_effect() {
    let fake = start().await;
    let c = login(&fake).await;
    fake.inject(Fault::Status {
        method: Some("POST".into()),
        path_prefix: "/positions".into(),
        status: 503,
        body: json!({ "errorCode": "error.service.unavailable" }),
        times: 2,
    });
    // Other methods and paths are untouched.
    assert_eq!(c.get("/positions").await.0, 200);
    for _ in 0..2 {
        let (status, body) = c.post("/positions", gold()).await;
        assert_eq!(
            (status, body["errorCode"].as_str()),
            (503, Some("error.service.unavailable"))
        );
    }
    assert!(fake.positions("ACC-NET").is_empty());
    assert_eq!(c.post("/positions", gold()).await.0, 200);
    assert_eq!(fake.positions("ACC-NET").len(), 1);
    let statuses: Vec<u16> = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/positions")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [503, 503, 200]);

    // Any method, e.g. a 401 for the next call whatever it is.
    fake.inject(Fault::Status {
        method: None,
        path_prefix: "/".into(),
        status: 401,
        body: json!({ "errorCode": "error.invalid.session.token" }),
        times: 1,
    });
    assert_eq!(c.get("/accounts").await.0, 401);
    assert_eq!(c.get("/accounts").await.0, 200);
}

#[tokio::test]
async fn accept_then_hang_makes_the_deal_but_withholds_the_answer() {
    let fake = start().await;
    let c = login(&fake).await;
    fake.inject(Fault::AcceptThenHang {
        method: Some("POST".into()),
        path_prefix: "/positions".into(),
        delay: Duration::from_secs(30),
    });
    let quick = impatient(Duration::from_millis(300));
    let started = Instant::now();
    let result = c
        .call_with(&quick, Method::POST, "/positions", Some(gold()))
        .await;
    assert!(result.is_err_and(|e| e.is_timeout()));
    assert!(started.elapsed() < Duration::from_secs(5));
    // The deal was made and is visible to the next calls.
    assert_eq!(fake.positions("ACC-NET").len(), 1);
    let (status, body) = c.get("/positions").await;
    assert_eq!(status, 200);
    assert_eq!(body["positions"].as_array().map(Vec::len), Some(1));
    let logged = fake.requests();
    let post = logged.iter().find(|r| r.method == "POST").cloned();
    assert_eq!(post.map(|r| r.status), Some(200));
}

#[tokio::test]
async fn delay_before_does_nothing_until_the_delay_is_over() {
    let fake = start().await;
    let c = login(&fake).await;
    fake.inject(Fault::DelayBefore {
        method: Some("POST".into()),
        path_prefix: "/positions".into(),
        delay: Duration::from_millis(600),
    });
    let quick = impatient(Duration::from_millis(200));
    let result = c
        .call_with(&quick, Method::POST, "/positions", Some(gold()))
        .await;
    assert!(result.is_err_and(|e| e.is_timeout()));
    assert!(
        fake.positions("ACC-NET").is_empty(),
        "nothing happened before the delay ran out"
    );

    // A patient client gets the answer after the delay.
    fake.inject(Fault::DelayBefore {
        method: None,
        path_prefix: "/positions".into(),
        delay: Duration::from_millis(300),
    });
    let started = Instant::now();
    let (status, _) = c.post("/positions", gold()).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    // The first (abandoned) request may or may not run once its delay is over; this one did.
    assert!(!fake.positions("ACC-NET").is_empty());
}

#[tokio::test]
async fn cleared_faults_no_longer_apply() {
    let fake = start().await;
    let c = login(&fake).await;
    fake.inject(Fault::Status {
        method: Some("GET".into()),
        path_prefix: "/positions".into(),
        status: 429,
        body: json!({ "errorCode": "error.too-many.requests" }),
        times: 100,
    });
    assert_eq!(c.get("/positions").await.0, 429);
    fake.clear_faults();
    assert_eq!(c.get("/positions").await.0, 200);
}
