//! The OANDA data feed's own rules through the fake OANDA: currencies and metals trade the New York
//! day (session `1700-1700:23456`, daily bars cut at 17:00 New York and filed at 00:00 UTC of the
//! trading date, no Sunday bar), CFDs never close; one `/history` answer makes at most
//! `backend.history_max_pages` candle requests and answers a longer range with its newest bars; nothing
//! before `backend.data_start` is asked for; a client that goes away stops the paging.

use crate::support;

use axum::http::Method;
use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use std::time::Duration;
use support::fake_oanda::{FakeOanda, FakeOptions, Fault};
use support::schema::assert_schema;
use support::{dec, oanda, TestApp};

const DAY: i64 = 86_400;

/// Wednesday 2026-03-04 15:00 UTC (New York on winter time).
fn wednesday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 15, 0, 0)
        .single()
        .expect("valid")
}

fn at(s: &str) -> i64 {
    DateTime::parse_from_rfc3339(s).expect("time").timestamp()
}

/// The fake at [`wednesday`] and the bridge on it (with the fake's clock), logged in.
async fn start(backend_extra: &str) -> (FakeOanda, TestApp, String) {
    let fake = FakeOanda::start(FakeOptions {
        now: Some(wednesday()),
        ..oanda::fake_options()
    })
    .await;
    let config = oanda::config(&fake, backend_extra, "");
    let app = TestApp::with_broker(config.clone(), oanda::broker_on(&config, &fake));
    let token = oanda::login(&app, oanda::V20).await;
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

/// `(t, open, high, low, close)` of each bar.
fn bars(body: &Value) -> Vec<(i64, Decimal, Decimal, Decimal, Decimal)> {
    let col = |k: &str| body[k].as_array().cloned().unwrap_or_default();
    let (t, o, h, l, c) = (col("t"), col("o"), col("h"), col("l"), col("c"));
    (0..t.len())
        .map(|i| {
            (
                t[i].as_i64().unwrap_or(0),
                dec(&o[i]),
                dec(&h[i]),
                dec(&l[i]),
                dec(&c[i]),
            )
        })
        .collect()
}

fn candle_requests(fake: &FakeOanda) -> Vec<String> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/candles"))
        .map(|r| r.query)
        .collect()
}

#[tokio::test]
async fn fx_trades_the_new_york_day_and_cfds_never_close() {
    let (_fake, app, token) = start("").await;
    let r = app.send(Method::GET, "/symbol_info", Some(&token), None).await;
    let info = &r.body;
    let row = |symbol: &str| {
        info["symbol"]
            .as_array()
            .and_then(|a| a.iter().position(|s| s == symbol))
            .unwrap_or_else(|| panic!("{symbol} in {info}"))
    };
    for (symbol, zone, session, minmovement2, typespecs) in [
        ("EURUSD", "America/New_York", "1700-1700:23456", 10, ""),
        ("USDJPY", "America/New_York", "1700-1700:23456", 10, ""),
        ("XAUUSD", "America/New_York", "1700-1700:23456", 0, "cfd"),
        ("SPX500USD", "Etc/UTC", "24x7", 0, "cfd"),
    ] {
        let i = row(symbol);
        assert_eq!(info["timezone"][i], zone, "{symbol}");
        assert_eq!(info["session-regular"][i], session, "{symbol}");
        assert_eq!(info["minmovement2"][i], minmovement2, "{symbol}");
        assert_eq!(info["typespecs"][i], typespecs, "{symbol}");
    }
    // Daily bars: one per trading day Monday to Friday, stamped 00:00 UTC of its date; Monday's bar
    // begins Sunday 17:00 New York (22:00 UTC), so there is no Sunday bar.
    let week = at("2026-02-23T00:00:00Z");
    let days = bars(
        &history(
            &app,
            &token,
            &format!("symbol=EURUSD&resolution=D&from={week}&to={}", week + 6 * DAY),
        )
        .await,
    );
    let labels: Vec<i64> = days.iter().map(|b| b.0).collect();
    assert_eq!(labels, (0..5).map(|k| week + k * DAY).collect::<Vec<_>>());
    let hours = bars(
        &history(
            &app,
            &token,
            &format!(
                "symbol=EURUSD&resolution=60&from={}&to={}",
                week - 2 * 3600,
                week + 5 * DAY
            ),
        )
        .await,
    );
    for day in &days {
        let (from, to) = (day.0 - 2 * 3600, day.0 + 22 * 3600);
        let inside: Vec<_> = hours.iter().filter(|h| h.0 >= from && h.0 < to).collect();
        assert_eq!(inside.len(), 24, "the trading day {} has 24 hours", day.0);
        let built = (
            day.0,
            inside[0].1,
            inside.iter().map(|h| h.2).max().unwrap_or_default(),
            inside.iter().map(|h| h.3).min().unwrap_or_default(),
            inside[inside.len() - 1].4,
        );
        assert_eq!(&built, day, "the day is its New York hours");
    }
    let weeks = bars(
        &history(
            &app,
            &token,
            &format!("symbol=EURUSD&resolution=W&from={week}&to={week}"),
        )
        .await,
    );
    assert_eq!(weeks.len(), 1);
    assert_eq!(weeks[0].1, days[0].1, "the week opens with Monday's bar");
    assert_eq!(weeks[0].4, days[4].4, "and closes with Friday's");
    // CFDs keep UTC days.
    let cfd = bars(
        &history(
            &app,
            &token,
            &format!("symbol=SPX500USD&resolution=D&from={week}&to={}", week + 6 * DAY),
        )
        .await,
    );
    assert!(cfd.iter().all(|b| b.0 % DAY == 0) && !cfd.is_empty());
}

#[tokio::test]
async fn a_range_beyond_the_page_budget_answers_its_newest_bars() {
    let (fake, app, token) = start("history_max_pages = 2\n").await;
    let now = wednesday().timestamp();
    fake.clear_requests();
    let body = history(
        &app,
        &token,
        &format!(
            "symbol=EURUSD&resolution=1&from={}&to={}",
            now - 60 * DAY,
            now - 600
        ),
    )
    .await;
    let t: Vec<i64> = bars(&body).iter().map(|b| b.0).collect();
    assert_eq!(candle_requests(&fake).len(), 2, "two pages");
    assert!(t.len() > 5000 && t.len() <= 10_000, "{} bars", t.len());
    assert_eq!(
        t.last().copied(),
        Some(now - 600 - (now - 600) % 60),
        "the newest bars"
    );
    assert!(t.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn nothing_before_the_data_start_is_asked_for() {
    let (fake, app, token) = start("data_start = \"2026-02-02\"\n").await;
    let start = at("2026-02-02T00:00:00Z");
    let now = wednesday().timestamp();
    fake.clear_requests();
    let body = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=D&from=-5364662400&to={now}"),
    )
    .await;
    let days = bars(&body);
    assert_eq!(days.first().map(|b| b.0), Some(start), "from the data start");
    assert_eq!(candle_requests(&fake).len(), 1, "one page reaches the data start");
    // A range wholly before it costs no request at all.
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
    assert!(candle_requests(&fake).is_empty());
    // A bad date is refused at start-up, naming the key.
    let e = tvbridge::config::Config::from_toml("[backend]\nkind = \"oanda\"\ndata_start = \"yesterday\"\n")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("backend.data_start"), "{e}");
}

#[tokio::test]
async fn paging_stops_when_the_client_goes_away() {
    let (fake, app, token) = start("request_timeout_ms = 5000\n").await;
    let now = wednesday().timestamp();
    fake.clear_requests();
    fake.inject(Fault::Delay {
        delay: Duration::from_millis(1500),
        path: Some("/candles".into()),
    });
    let query = format!(
        "/history?symbol=EURUSD&resolution=1&from={}&to={}",
        now - 60 * DAY,
        now - 600
    );
    let gone = tokio::time::timeout(
        Duration::from_millis(400),
        app.send(Method::GET, &query, Some(&token), None),
    )
    .await;
    assert!(gone.is_err(), "the client gave up during the first page");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(candle_requests(&fake).len(), 1, "no page after the client left");
}
