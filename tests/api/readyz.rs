//! `/readyz`: ready on the paper broker, ready on the fake Capital.com and the fake OANDA while they
//! listen, 503 naming the upstream URL and the cause once the fake's listener is gone; 503 while stopping.

use crate::support;

use axum::http::{Method, StatusCode};
use std::time::Duration;
use support::TestApp;
use tvbridge::upstream::probe::PROBE_TTL;

#[tokio::test]
async fn paper_is_always_ready_until_shutdown_begins() {
    let app = TestApp::new().await;
    let r = app.send(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body,
        serde_json::json!({"s": "ok", "ready": true, "upstream": null,
            "store": {"kind": "memory", "ok": true}})
    );
    app.state.shutdown().begin();
    let r = app.send(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.body["errmsg"], "the server is shutting down");
    // Liveness is another question: the process still answers.
    assert_eq!(
        app.send(Method::GET, "/healthz", None, None).await.status,
        StatusCode::OK
    );
}

async fn ready_then_gone(app: &TestApp, fake_url: &str, drop_fake: impl FnOnce()) {
    let r = app.send(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["ready"], true);
    assert_eq!(r.body["upstream"], fake_url);
    drop_fake();
    // The answer is cached for a few seconds; then the probe finds nobody listening.
    tokio::time::sleep(PROBE_TTL + Duration::from_millis(300)).await;
    let r = app.send(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(r.body["s"], "error");
    assert_eq!(r.body["ready"], false);
    assert_eq!(r.body["upstream"], fake_url);
    let errmsg = r.body["errmsg"].as_str().unwrap();
    assert!(
        errmsg.starts_with(&format!("upstream {fake_url} unreachable: ")),
        "{errmsg}"
    );
    assert!(
        errmsg.to_lowercase().contains("refused"),
        "the cause is named: {errmsg}"
    );
}

#[tokio::test]
async fn capital_is_ready_while_its_rest_base_answers() {
    let (fake, app) = support::capital::start("", "").await;
    let url = fake.base_url.clone();
    ready_then_gone(&app, &url, move || drop(fake)).await;
}

#[tokio::test]
async fn oanda_is_ready_while_its_rest_host_answers() {
    let (fake, app) = support::oanda::start("", "").await;
    let url = fake.rest_url.clone();
    ready_then_gone(&app, &url, move || drop(fake)).await;
}
