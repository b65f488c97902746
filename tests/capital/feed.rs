//! The Capital.com data feed's own bounds through the fake Capital.com: one `/history` answer makes at
//! most `backend.history_max_pages` `/prices` requests and answers a longer range with its newest bars
//! (never "more than N bars"), nothing before `backend.data_start` is asked for, and a client that goes
//! away stops the paging.

use crate::support;

use axum::http::Method;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use std::time::Duration;
use support::capital;
use support::fake_capital::{FakeCapital, FakeOptions, Fault};
use support::schema::assert_schema;
use support::TestApp;

const DAY: i64 = 86_400;

/// Wednesday 2026-03-04 15:00 UTC.
fn wednesday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 15, 0, 0)
        .single()
        .expect("valid")
}

/// The fake at [`wednesday`] and the bridge on it (with the fake's clock), logged in.
async fn start(backend_extra: &str) -> (FakeCapital, TestApp, String) {
    let fake = FakeCapital::start(FakeOptions {
        now: Some(wednesday()),
        ..FakeOptions::default()
    })
    .await;
    let config = capital::config(&fake, backend_extra, "");
    let app = TestApp::with_broker(config.clone(), capital::broker_on(&config, &fake));
    let token = capital::login(&app).await;
    (fake, app, token)
}

async fn history(app: &TestApp, token: &str, query: &str) -> Value {
    let r = app
        .send(Method::GET, &format!("/history?{query}"), Some(token), None)
        .await;
    assert_eq!(r.body["s"], "ok", "{query}: {}", r.body);
    assert_schema("HistoryResponse", &r.body);
    r.body
}

fn times(body: &Value) -> Vec<i64> {
    body["t"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default()
}

fn price_requests(fake: &FakeCapital) -> Vec<String> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/prices/"))
        .map(|r| r.query)
        .collect()
}

#[tokio::test]
async fn a_range_beyond_the_page_budget_answers_its_newest_bars() {
    let (fake, app, token) = start("history_max_pages = 3\n").await;
    let now = wednesday().timestamp();
    let to = now - 3600 - now % 60;
    fake.clear_requests();
    // Sixty days of minutes: far more than three pages of 1000.
    let t = times(
        &history(
            &app,
            &token,
            &format!("symbol=EURUSD&resolution=1&from={}&to={to}", to - 60 * DAY),
        )
        .await,
    );
    assert_eq!(price_requests(&fake).len(), 3);
    assert_eq!(t.len(), 3000, "the newest 3000 minutes");
    assert_eq!(t.last().copied(), Some(to));
    assert!(t.windows(2).all(|w| w[1] - w[0] == 60));
}

#[tokio::test]
async fn nothing_before_the_data_start_is_asked_for() {
    let (fake, app, token) = start("data_start = \"2026-02-02\"\n").await;
    let start = 1_769_990_400; // 2026-02-02
    let now = wednesday().timestamp();
    fake.clear_requests();
    let t = times(
        &history(
            &app,
            &token,
            &format!("symbol=EURUSD&resolution=D&from=-5364662400&to={now}"),
        )
        .await,
    );
    assert_eq!(t.first().copied(), Some(start), "from the data start");
    assert_eq!(t.last().copied(), Some(now - now % DAY), "to today");
    let asked = price_requests(&fake);
    assert!(asked.len() <= 2, "{asked:?}");
    assert!(
        asked
            .iter()
            .all(|q| !q.contains("from=2026-01") && !q.contains("from=2025")),
        "{asked:?}"
    );
    fake.clear_requests();
    let empty = history(
        &app,
        &token,
        &format!(
            "symbol=EURUSD&resolution=60&from={}&to={}",
            start - 10 * DAY,
            start - DAY
        ),
    )
    .await;
    assert_eq!(empty["t"], serde_json::json!([]));
    assert!(price_requests(&fake).is_empty());
}

#[tokio::test]
async fn paging_stops_when_the_client_goes_away() {
    let (fake, app, token) = start("").await;
    let now = wednesday().timestamp();
    let to = now - 3600 - now % 60;
    // The market-data session exists before the timed request.
    history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=1&from={to}&to={to}"),
    )
    .await;
    fake.clear_requests();
    fake.inject(Fault::DelayBefore {
        method: Some("GET".into()),
        path_prefix: "/prices".into(),
        delay: Duration::from_millis(1500),
    });
    let query = format!(
        "/history?symbol=EURUSD&resolution=1&from={}&to={to}",
        to - 30 * DAY
    );
    let gone = tokio::time::timeout(
        Duration::from_millis(400),
        app.send(Method::GET, &query, Some(&token), None),
    )
    .await;
    assert!(gone.is_err(), "the client gave up during the first page");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(price_requests(&fake).len(), 1, "no page after the client left");
}
