//! Market data: the snapshot's first-call-only-subscribes behaviour and string values, the history
//! resource and its concurrency limit.

use crate::client::{dec, start, Api, AAPL, ES, EURUSD};
use fakes::ibkr::{FakeContract, FakeIbkr, FakeIbkrOptions};
use std::time::Duration;

#[tokio::test]
async fn the_first_snapshot_only_subscribes_and_the_next_has_string_values() {
    let fake = start().await;
    let api = Api::ready(&fake).await;
    let path = format!("/iserver/marketdata/snapshot?conids={AAPL},{EURUSD}&fields=31,84,85,86,88,7295");
    let (status, first) = api.get(&path).await;
    assert_eq!(status, 200);
    assert_eq!(first[0]["conid"], AAPL);
    assert!(first[0].get("84").is_none(), "first call has no prices: {first}");
    assert!(first[1].get("31").is_none());
    let (_, next) = api.get(&path).await;
    assert_eq!(next[0]["84"], "185.42");
    assert_eq!(next[0]["86"], "185.44");
    assert_eq!(next[0]["31"], "185.43");
    assert_eq!(next[0]["88"], "300");
    // Sizes carry thousands separators; FX prices their five decimals.
    assert_eq!(next[1]["85"], "2,500,000");
    assert_eq!(next[1]["84"], "1.08510");
    assert!(next[1]["_updated"].is_i64());
    // A new conid in the list starts with an empty row again.
    let (_, mixed) = api
        .get(&format!(
            "/iserver/marketdata/snapshot?conids={AAPL},{ES}&fields=84"
        ))
        .await;
    assert_eq!(mixed[0]["84"], "185.42");
    assert!(mixed[1].get("84").is_none());
}

#[tokio::test]
async fn unsubscribing_makes_the_next_snapshot_empty_again() {
    let fake = start().await;
    let api = Api::ready(&fake).await;
    let path = format!("/iserver/marketdata/snapshot?conids={AAPL}&fields=84");
    api.get(&path).await;
    assert_eq!(api.get(&path).await.1[0]["84"], "185.42");
    let (status, _) = api
        .post(
            "/iserver/marketdata/unsubscribe",
            serde_json::json!({ "conid": AAPL }),
        )
        .await;
    assert_eq!(status, 200);
    assert!(api.get(&path).await.1[0].get("84").is_none());
}

#[tokio::test]
async fn a_closed_market_shows_the_close_prefix_and_a_halted_one_the_halt_prefix() {
    let mut options = FakeIbkrOptions::relaxed();
    for c in &mut options.contracts {
        c.hours = FakeContract::usual_hours(&c.sec_type);
    }
    // Saturday 2026-12-05 12:00 UTC.
    options.now = chrono::DateTime::from_timestamp(1_796_472_000, 0);
    let fake = FakeIbkr::start(options).await;
    let api = Api::ready(&fake).await;
    let path = format!("/iserver/marketdata/snapshot?conids={AAPL}&fields=31");
    api.get(&path).await;
    assert_eq!(api.get(&path).await.1[0]["31"], "C185.43");
    let fake = start().await;
    let api = Api::ready(&fake).await;
    fake.halt(AAPL, true);
    api.get(&path).await;
    assert_eq!(api.get(&path).await.1[0]["31"], "H185.43");
}

#[tokio::test]
async fn history_gives_bars_of_the_requested_width() {
    let fake = start().await;
    fake.freeze_clock();
    let api = Api::ready(&fake).await;
    let (status, body) = api
        .get(&format!(
            "/iserver/marketdata/history?conid={AAPL}&period=1d&bar=1h"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    let bars = body["data"].as_array().cloned().unwrap_or_default();
    // A day back from now cuts 24 or 25 hourly bars (the first and last ones partial).
    assert!((24..=25).contains(&bars.len()), "{} bars", bars.len());
    assert_eq!(body["points"], bars.len());
    assert_eq!(body["symbol"], "AAPL");
    assert_eq!(body["barLength"], 3600);
    for pair in bars.windows(2) {
        let (a, b) = (pair[0]["t"].as_i64().unwrap(), pair[1]["t"].as_i64().unwrap());
        assert_eq!(b - a, 3_600_000);
    }
    for bar in &bars {
        let (o, h, l, c) = (
            bar["o"].as_f64().unwrap(),
            bar["h"].as_f64().unwrap(),
            bar["l"].as_f64().unwrap(),
            bar["c"].as_f64().unwrap(),
        );
        assert!(l <= o.min(c) && h >= o.max(c), "{bar}");
        assert!(bar["v"].is_u64());
    }
}

#[tokio::test]
async fn history_with_a_start_time_runs_forward_from_it() {
    let fake = start().await;
    let api = Api::ready(&fake).await;
    let (status, body) = api
        .get(&format!(
            "/iserver/marketdata/history?conid={EURUSD}&period=2h&bar=5min&startTime=20240102-10:00:00"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    let bars = body["data"].as_array().cloned().unwrap_or_default();
    assert_eq!(bars.len(), 24);
    assert_eq!(bars[0]["t"], 1_704_189_600_000i64);
    assert_eq!(body["startTime"], "20240102-10:00:00");
}

#[tokio::test]
async fn bad_history_requests_are_named() {
    let fake = start().await;
    let api = Api::ready(&fake).await;
    let (status, body) = api
        .get(&format!(
            "/iserver/marketdata/history?conid={AAPL}&period=1d&bar=7min"
        ))
        .await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap_or("").contains("bar"));
    let (status, _) = api
        .get(&format!(
            "/iserver/marketdata/history?conid={AAPL}&period=9h&bar=1h"
        ))
        .await;
    assert_eq!(status, 400);
    let (status, _) = api
        .get("/iserver/marketdata/history?conid=1&period=1d&bar=1h")
        .await;
    assert_eq!(status, 400);
    let (status, _) = api
        .get(&format!(
            "/iserver/marketdata/history?conid={AAPL}&period=1d&bar=1h&startTime=yesterday"
        ))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_sixth_concurrent_history_request_gets_429() {
    let fake = FakeIbkr::start(FakeIbkrOptions {
        history_latency: Duration::from_millis(800),
        ..FakeIbkrOptions::relaxed()
    })
    .await;
    let api = Api::ready(&fake).await;
    let path = format!("/iserver/marketdata/history?conid={AAPL}&period=1h&bar=5min");
    let calls: Vec<_> = (0..6).map(|_| api.get(&path)).collect();
    let results = futures_util::future::join_all(calls).await;
    let statuses: Vec<u16> = results.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 1, "{statuses:?}");
    // Once they are done, there is room again.
    assert_eq!(api.get(&path).await.0, 200);
}

#[tokio::test]
async fn moving_prices_follow_the_seeded_path() {
    let fake = FakeIbkr::start(FakeIbkrOptions {
        moving: true,
        ..FakeIbkrOptions::relaxed()
    })
    .await;
    fake.freeze_clock();
    let first = fake.quote(EURUSD);
    // Some hours later on the fake clock the path has moved; the driver looks every 200 ms.
    let mut moved = false;
    for _ in 0..8 {
        fake.advance_clock(Duration::from_secs(6 * 3_600));
        tokio::time::sleep(Duration::from_millis(450)).await;
        if fake.quote(EURUSD) != first {
            moved = true;
            break;
        }
    }
    assert!(moved, "EUR.USD never moved");
    let (bid, ask) = fake.quote(EURUSD).unwrap();
    assert!(ask > bid && bid > dec("1") && bid < dec("1.2"));
    // On the tick grid of 0.00005.
    assert_eq!((bid * dec("20000")).fract(), dec("0"));
}
