//! Paper `/history` through the bridge: the data start (a year-1800 request answers the bars that exist, a
//! range before it is empty), bounded work (checked on the broker's work counter, not by timing), requests
//! that stop computing when their client leaves or the runtime shuts down, a bounded number of computations
//! at once, split-equals-whole at every resolution family across the data start, and `data_start` checks.

use crate::support;

use axum::body::Body;
use axum::http::{header, Method, Request};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use support::schema::assert_schema;
use support::*;
use tower::ServiceExt;
use tvbridge::backends::paper::{ManualClock, Market, PaperBroker, BAR_COST, MINUTE_BUDGET};
use tvbridge::config::{BackendConfig, Config};

const DAY: i64 = 86_400;
const NOW: i64 = T0_MS / 1000;
const TODAY: i64 = NOW - NOW % DAY;
const MINUTES_PER_DAY: u64 = 1_440;

/// The app on a paper broker configured with `backend_toml`, the broker itself (for its work counter) and a
/// token.
async fn paper(backend_toml: &str) -> (TestApp, Arc<PaperBroker>, String) {
    let config = config(&format!("[backend]\nkind = \"paper\"\n{backend_toml}"));
    let BackendConfig::Paper(paper) = config.backend.clone() else {
        unreachable!("a paper configuration");
    };
    let clock = ManualClock::new(T0_MS);
    let broker = PaperBroker::start_with_clock(paper.clone(), Arc::new(clock.clone()))
        .await
        .expect("paper broker starts");
    let broker = Arc::new(broker);
    let mut app = TestApp::with_broker(config, broker.clone());
    app.clock = clock;
    app.market = Market::new(paper.seed, paper.effective_instruments());
    let token = app.login().await;
    (app, broker, token)
}

async fn history(app: &TestApp, token: &str, query: &str) -> Value {
    let r = app
        .send(Method::GET, &format!("/history?{query}"), Some(token), None)
        .await;
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    assert_eq!(r.body["s"], "ok", "{query}: {}", r.body);
    assert_schema("HistoryResponse", &r.body);
    let len = r.body["t"].as_array().map(Vec::len);
    for k in ["o", "h", "l", "c", "v"] {
        assert_eq!(r.body[k].as_array().map(Vec::len), len, "{query}: {k}");
    }
    r.body
}

fn times(body: &Value) -> Vec<i64> {
    body["t"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_i64().unwrap())
        .collect()
}

fn empty() -> Value {
    json!({"s": "ok", "t": [], "o": [], "h": [], "l": [], "c": [], "v": []})
}

/// Unix seconds of `date` (`YYYY-MM-DD`) at 00:00 UTC.
fn day(date: &str) -> i64 {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp()
}

/// Sends a `/history` request in a task of its own, so that the test can drop it as a leaving client does.
fn spawn_history(app: &TestApp, token: &str, query: &str) -> tokio::task::JoinHandle<()> {
    let req = Request::get(format!("/api/history?{query}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let router = app.router.clone();
    tokio::spawn(async move {
        let _ = router.oneshot(req).await;
    })
}

fn minutes(broker: &PaperBroker) -> u64 {
    broker.history_stats().minutes_computed
}

/// Waits (real time, generously) until `broker` has computed something.
async fn until_computing(broker: &PaperBroker) {
    for _ in 0..3_000 {
        if minutes(broker) > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the history request never started computing");
}

/// The work counter after it settled: the same over half a second.
async fn settled(broker: &PaperBroker) -> u64 {
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = minutes(broker);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = minutes(broker);
    assert_eq!(
        before, after,
        "the work counter still grows: a dropped request kept computing"
    );
    after
}

#[tokio::test]
async fn a_daily_request_back_to_1800_answers_the_days_since_the_data_start() {
    let (app, _, token) = paper("data_start = \"2025-06-01\"\n").await;
    let body = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=1D&from=-5364662400&to={NOW}"),
    )
    .await;
    let t = times(&body);
    assert_eq!(
        t.first(),
        Some(&day("2025-06-01")),
        "first bar = the data start's day"
    );
    assert_eq!(t.last(), Some(&TODAY));
    assert_eq!(t.len() as i64, (TODAY - day("2025-06-01")) / DAY + 1);
    // Without a data start configured, history reaches three years back.
    let (app, _, token) = paper("").await;
    let body = history(
        &app,
        &token,
        &format!("symbol=AAPL&resolution=D&from=-5364662400&to={NOW}"),
    )
    .await;
    assert_eq!(times(&body).first(), Some(&(TODAY - 1_096 * DAY)));
}

#[tokio::test]
async fn a_range_wholly_before_the_data_start_is_an_empty_ok() {
    let (app, broker, token) = paper("data_start = \"2025-06-01\"\n").await;
    let before = day("2025-06-01") - 1;
    for resolution in ["1", "60", "D", "W", "M", "12M"] {
        for extra in ["", "&countback=300"] {
            let query = format!("symbol=EURUSD&resolution={resolution}&from=-5364662400&to={before}{extra}");
            assert_eq!(history(&app, &token, &query).await, empty(), "{query}");
        }
    }
    assert_eq!(minutes(&broker), 0, "nothing was computed");
}

#[tokio::test]
async fn countback_beyond_the_data_start_answers_what_exists() {
    let (app, _, token) = paper("data_start = 30\n").await;
    let days = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=D&to={NOW}&countback=300"),
    )
    .await;
    assert_eq!(times(&days).len(), 31, "30 closed days and today's");
    assert_eq!(times(&days)[0], TODAY - 30 * DAY);
    let weeks = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=W&from=0&to={NOW}&countback=300"),
    )
    .await;
    let t = times(&weeks);
    assert_eq!(t.len(), 5, "{t:?}: the weeks starting on or after the data start");
    assert!(t[0] >= TODAY - 30 * DAY && t[0] - 7 * DAY < TODAY - 30 * DAY);
}

#[tokio::test]
async fn the_slow_requests_of_the_issue_cost_the_data_range_at_most() {
    let (app, broker, token) = paper("data_start = 600\n").await;
    let bound = 602 * MINUTES_PER_DAY;
    let years = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=12M&countback=50000&to={NOW}"),
    )
    .await;
    assert_eq!(times(&years), [day("2025-01-01"), day("2026-01-01")]);
    assert!(
        minutes(&broker) <= bound,
        "{} minute bars computed",
        minutes(&broker)
    );
    let again = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=12M&from=-1&to={NOW}"),
    )
    .await;
    assert_eq!(again, years);
    assert!(
        minutes(&broker) <= bound,
        "{} minute bars computed",
        minutes(&broker)
    );
    // Intraday bars: the newest that fit the minute budget.
    let before = minutes(&broker);
    let hours = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=60&countback=50000&to={NOW}"),
    )
    .await;
    assert_eq!(times(&hours).len() as i64, MINUTE_BUDGET / (60 + BAR_COST));
    assert_eq!(times(&hours).last(), Some(&(NOW - NOW % 3_600)));
    assert!(minutes(&broker) - before <= MINUTE_BUDGET as u64);
    // One-minute bars from 1970: the newest 50,000 (this range was refused before).
    let mins = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=1&from=0&to={NOW}"),
    )
    .await;
    assert_eq!(times(&mins).len(), 50_000);
    assert_eq!(times(&mins).last(), Some(&(NOW - NOW % 60)));
}

#[tokio::test]
async fn a_dropped_request_stops_computing_and_waiting() {
    let (app, broker, token) = paper("data_start = \"1970-01-01\"\nhistory_concurrency = 1\n").await;
    // Twenty thousand days to compute: far longer than this test waits.
    let query = format!("symbol=EURUSD&resolution=W&from=0&to={NOW}");
    let first = spawn_history(&app, &token, &query);
    until_computing(&broker).await;
    // A second request waits for the only permit; its client leaves too.
    let second = spawn_history(&app, &token, &query.replace("EURUSD", "GBPUSD"));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(broker.history_stats().running, 1);
    second.abort();
    first.abort();
    let stopped = settled(&broker).await;
    assert!(stopped < 20_000 * MINUTES_PER_DAY, "{stopped}");
    assert_eq!(broker.history_stats().running, 0, "the permit came back");
    // The next request gets the permit and its answer.
    let next = tokio::time::timeout(
        Duration::from_secs(30),
        history(
            &app,
            &token,
            &format!("symbol=EURUSD&resolution=D&to={NOW}&countback=5"),
        ),
    )
    .await
    .expect("the permit was released");
    assert_eq!(times(&next).len(), 5);
}

#[test]
fn a_runtime_shutdown_stops_history_work() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (app, broker, token) = runtime.block_on(paper("data_start = \"1970-01-01\"\n"));
    runtime.block_on(async {
        // Detached: only the runtime's shutdown ends it.
        drop(spawn_history(
            &app,
            &token,
            &format!("symbol=EURUSD&resolution=M&from=0&to={NOW}"),
        ));
        until_computing(&broker).await;
    });
    // What `main` does on SIGTERM: the runtime drops every task and waits a little for blocking threads.
    runtime.shutdown_timeout(Duration::from_millis(100));
    std::thread::sleep(Duration::from_millis(300));
    let before = minutes(&broker);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(before, minutes(&broker), "history work outlived the runtime");
    assert!(before < 20_000 * MINUTES_PER_DAY);
    drop(app);
}

#[tokio::test]
async fn a_flood_of_requests_runs_at_most_history_concurrency_at_once() {
    let (app, broker, token) = paper("data_start = \"1970-01-01\"\nhistory_concurrency = 2\n").await;
    let flood: Vec<_> = ["EURUSD", "GBPUSD", "USDJPY", "AUDUSD", "USDCAD", "BTCUSD"]
        .iter()
        .map(|s| spawn_history(&app, &token, &format!("symbol={s}&resolution=W&from=0&to={NOW}")))
        .collect();
    until_computing(&broker).await;
    let mut most = 0;
    for _ in 0..25 {
        most = most.max(broker.history_stats().running);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(most, 2, "two computations at once, the others waiting");
    // The rest of the API still answers at once.
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        app.send(Method::GET, "/accounts?locale=en", Some(&token), None),
    )
    .await
    .expect("the API answers during a history flood");
    assert_eq!(r.status, 200);
    for request in flood {
        request.abort();
    }
    settled(&broker).await;
    assert_eq!(broker.history_stats().running, 0);
}

#[tokio::test]
async fn split_equals_whole_at_every_resolution_across_the_data_start() {
    let (app, _, token) = paper("data_start = 200\n").await;
    let start = TODAY - 200 * DAY;
    let families: [(&str, i64, i64); 13] = [
        ("1", start - 90 * 60, start + 150 * 60),
        ("5", start - 50 * 60, start + 200 * 60),
        ("60", start - 10 * 3_600, start + 40 * 3_600),
        ("240", start - 10 * 14_400, start + 40 * 14_400),
        ("720", start - 5 * DAY, start + 20 * DAY),
        ("1439", start - 5 * DAY, start + 20 * DAY),
        ("D", start - 20 * DAY, NOW + 5 * DAY),
        ("2D", start - 20 * DAY, NOW),
        ("W", start - 20 * DAY, NOW + 5 * DAY),
        ("2W", start - 40 * DAY, NOW),
        ("M", start - 100 * DAY, NOW + 40 * DAY),
        ("3M", start - 100 * DAY, NOW),
        ("12M", start - 400 * DAY, NOW),
    ];
    for (resolution, from, to) in families {
        let query = |a: i64, b: i64| format!("symbol=BTCUSD&resolution={resolution}&from={a}&to={b}");
        let whole = history(&app, &token, &query(from, to)).await;
        let t = times(&whole);
        assert!(!t.is_empty(), "{resolution}");
        assert!(
            t.iter().all(|x| (from..=to).contains(x) && *x >= start),
            "{resolution}: {t:?}"
        );
        // Three parts cut at unaligned seconds, the first one ending near the data start.
        let cut1 = start + 7;
        let cut2 = cut1 + (to - cut1) / 2 - 13;
        let mut joined: Vec<Value> = vec![Value::Array(Vec::new()); 6];
        for (a, b) in [(from, cut1 - 1), (cut1, cut2 - 1), (cut2, to)] {
            let part = history(&app, &token, &query(a, b)).await;
            for (i, k) in ["t", "o", "h", "l", "c", "v"].iter().enumerate() {
                joined[i]
                    .as_array_mut()
                    .unwrap()
                    .extend(part[*k].as_array().unwrap().iter().cloned());
            }
        }
        for (i, k) in ["t", "o", "h", "l", "c", "v"].iter().enumerate() {
            assert_eq!(joined[i], whole[*k], "{resolution}: {k}");
        }
    }
}

#[tokio::test]
async fn a_future_to_ends_at_the_current_open_bar() {
    let (app, _, token) = paper("data_start = 400\n").await;
    let later = NOW + 10 * 365 * DAY;
    for (resolution, open) in [
        ("1", NOW - NOW % 60),
        ("60", NOW - NOW % 3_600),
        ("D", TODAY),
        ("W", TODAY),
        ("M", day("2026-01-01")),
        ("12M", day("2026-01-01")),
    ] {
        let future = history(
            &app,
            &token,
            &format!(
                "symbol=ETHUSD&resolution={resolution}&from={}&to={later}",
                NOW - 40 * DAY
            ),
        )
        .await;
        assert_eq!(times(&future).last(), Some(&open), "{resolution}");
        let now = history(
            &app,
            &token,
            &format!(
                "symbol=ETHUSD&resolution={resolution}&from={}&to={NOW}",
                NOW - 40 * DAY
            ),
        )
        .await;
        assert_eq!(future, now, "{resolution}: a future `to` is `to` = now");
    }
}

#[test]
fn data_start_and_history_concurrency_are_checked_naming_the_key() {
    let load = |extra: &str| Config::from_toml(&format!("[backend]\nkind = \"paper\"\n{extra}\n"));
    for good in [
        "data_start = \"2023-01-01\"",
        "data_start = 30",
        "data_start = \"30\"",
        "history_concurrency = 4",
        "data_start = 2023-01-01",
    ] {
        assert!(load(good).is_ok(), "{good}: {:?}", load(good).err());
    }
    for (bad, expected) in [
        (
            "data_start = \"2023-13-01\"",
            "backend.data_start must be a date YYYY-MM-DD or a number of days back, got \"2023-13-01\"",
        ),
        (
            "data_start = 0",
            "backend.data_start must be 1..=20000 days back or a date YYYY-MM-DD, got 0",
        ),
        (
            "data_start = \"1960-01-01\"",
            "backend.data_start must not be before 1970-01-01, got 1960-01-01",
        ),
        (
            "data_start = \"2999-01-01\"",
            "backend.data_start 2999-01-01 is in the future",
        ),
        (
            "history_concurrency = 0",
            "backend.history_concurrency must be 1..=64, got 0",
        ),
    ] {
        let err = load(bad).expect_err(bad).to_string();
        assert!(err.contains(expected), "{bad}: {err}");
    }
}
