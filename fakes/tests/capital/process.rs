//! The price process behind the fake's bars and quotes: every resolution is the aggregation of minute
//! bars, the same seed and start give the same prices, markets trade during their opening hours only,
//! moving prices send one quote per open second and minute bars aggregate exactly those quotes, and
//! nothing trades before the data start.

use crate::client::{login, num, relaxed, Client};
use crate::ws::{connect, recv, send};
use chrono::{DateTime, NaiveDateTime, TimeDelta, TimeZone, Utc};
use fakes::capital::{FakeCapital, FakeMarket, FakeOptions};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Wednesday 2026-03-04 15:00 UTC: every market open.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 15, 0, 0)
        .single()
        .expect("valid time")
}

/// Relaxed limits, the clock at [`t0`], every market with its usual hours.
fn options() -> FakeOptions {
    let mut o = FakeOptions {
        now: Some(t0()),
        ..relaxed()
    };
    for m in &mut o.markets {
        m.hours = FakeMarket::usual_hours(&m.instrument_type);
    }
    o
}

/// A bar as (start, bid open, high, low, close, ask open, volume).
type Bar = (i64, Decimal, Decimal, Decimal, Decimal, Decimal, u64);

fn parse(s: &str) -> i64 {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
        .map(|n| n.and_utc().timestamp())
        .unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn fmt(t: i64) -> String {
    DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

/// `GET /prices/{epic}?{query}` as bars (404 is no bars).
async fn bars(c: &Client, epic: &str, query: &str) -> Vec<Bar> {
    let (status, body) = c.get(&format!("/prices/{epic}?{query}")).await;
    if status == 404 {
        assert_eq!(body["errorCode"], "error.prices.not-found");
        return Vec::new();
    }
    assert_eq!(status, 200, "{epic} {query}: {body}");
    body["prices"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|b| {
            (
                parse(b["snapshotTimeUTC"].as_str().unwrap_or_default()),
                num(&b["openPrice"]["bid"]),
                num(&b["highPrice"]["bid"]),
                num(&b["lowPrice"]["bid"]),
                num(&b["closePrice"]["bid"]),
                num(&b["openPrice"]["ask"]),
                b["lastTradedVolume"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// `fine` grouped by `start_of`: first open, highest high, lowest low, last close, volume summed.
fn aggregate(fine: &[Bar], start_of: impl Fn(i64) -> i64) -> Vec<Bar> {
    let mut out: BTreeMap<i64, Bar> = BTreeMap::new();
    for &(t, o, h, l, c, ask, v) in fine {
        out.entry(start_of(t))
            .and_modify(|b| {
                b.2 = b.2.max(h);
                b.3 = b.3.min(l);
                b.4 = c;
                b.6 += v;
            })
            .or_insert((start_of(t), o, h, l, c, ask, v));
    }
    out.into_values().collect()
}

fn window(from: i64, to: i64) -> String {
    format!("from={}&to={}", fmt(from), fmt(to))
}

#[tokio::test]
async fn every_resolution_is_the_aggregation_of_minute_bars() {
    let fake = FakeCapital::start(options()).await;
    let c = login(&fake).await;
    // Four hours of minutes make the 5, 15 and 30 minute bars, the hours and the four-hour bar.
    let from = parse("2026-03-03T08:00:00");
    let to = from + 4 * 3600 - 1;
    let minutes = bars(
        &c,
        "GOLD",
        &format!("resolution=MINUTE&max=1000&{}", window(from, to)),
    )
    .await;
    assert_eq!(minutes.len(), 240);
    for (name, len) in [
        ("MINUTE_5", 300),
        ("MINUTE_15", 900),
        ("MINUTE_30", 1800),
        ("HOUR", 3600),
        ("HOUR_4", 14_400),
    ] {
        let coarse = bars(
            &c,
            "GOLD",
            &format!("resolution={name}&max=1000&{}", window(from, to)),
        )
        .await;
        assert_eq!(aggregate(&minutes, |t| t - t % len), coarse, "{name}");
    }
    // A week of hours makes its days (none on Saturday), and the days their Monday week.
    let monday = parse("2026-02-16T00:00:00");
    let week_end = monday + 7 * 86_400 - 1;
    let hours = bars(
        &c,
        "GOLD",
        &format!("resolution=HOUR&max=1000&{}", window(monday, week_end)),
    )
    .await;
    let days = bars(
        &c,
        "GOLD",
        &format!("resolution=DAY&max=1000&{}", window(monday, week_end)),
    )
    .await;
    assert_eq!(aggregate(&hours, |t| t - t % 86_400), days);
    assert_eq!(days.len(), 6, "Monday to Friday and Sunday evening");
    let week = bars(
        &c,
        "GOLD",
        &format!("resolution=WEEK&max=1&{}", window(monday, week_end)),
    )
    .await;
    assert_eq!(aggregate(&days, |_| monday), week);
    // The ask is the bid plus the spread the market started with (GOLD: 0.30).
    assert!(minutes.iter().all(|b| b.5 - b.1 == Decimal::new(30, 2)));
}

#[tokio::test]
async fn markets_trade_in_their_opening_hours_only() {
    let fake = FakeCapital::start(options()).await;
    let c = login(&fake).await;
    // Shares trade 14:30 to 21:00 UTC on weekdays.
    let day = parse("2026-03-03T00:00:00");
    let aapl = bars(
        &c,
        "AAPL",
        &format!("resolution=HOUR&max=1000&{}", window(day, day + 86_399)),
    )
    .await;
    let hours: Vec<i64> = aapl.iter().map(|b| (b.0 - day) / 3600).collect();
    assert_eq!(hours, [14, 15, 16, 17, 18, 19, 20]);
    let first = bars(
        &c,
        "AAPL",
        &format!("resolution=MINUTE&max=2&{}", window(day, day + 86_399)),
    )
    .await;
    assert_eq!(first[0].0, day + 14 * 3600 + 30 * 60, "opens at 14:30");
    // Currencies are closed from Friday 21:00 to Sunday 22:00 UTC; crypto never closes.
    let saturday = parse("2026-02-28T00:00:00");
    let range = window(saturday - 3 * 3600, saturday + 2 * 86_400 - 1);
    let fx = bars(&c, "EURUSD", &format!("resolution=HOUR&max=1000&{range}")).await;
    let times: Vec<String> = fx.iter().map(|b| fmt(b.0)).collect();
    assert_eq!(times, ["2026-03-01T22:00:00", "2026-03-01T23:00:00"]);
    let btc = bars(&c, "BTCUSD", &format!("resolution=HOUR&max=1000&{range}")).await;
    assert_eq!(btc.len(), 51);
    // `openingHours` says the same.
    let (_, details) = c.get("/markets/AAPL").await;
    assert_eq!(
        details["instrument"]["openingHours"]["mon"],
        json!(["14:30 - 21:00"])
    );
    assert_eq!(details["instrument"]["openingHours"]["sat"], json!([]));
    let (_, details) = c.get("/markets/EURUSD").await;
    let hours = &details["instrument"]["openingHours"];
    assert_eq!(hours["sun"], json!(["22:00 - 00:00"]));
    assert_eq!(hours["fri"], json!(["00:00 - 21:00"]));
    assert_eq!(hours["zone"], "UTC");
}

#[tokio::test]
async fn the_same_seed_and_start_give_the_same_bars_and_another_seed_others() {
    let query = "resolution=MINUTE_15&max=300&to=2026-03-04T12:00:00";
    let a = FakeCapital::start(options()).await;
    let b = FakeCapital::start(options()).await;
    let first = bars(&login(&a).await, "EURUSD", query).await;
    assert_eq!(first.len(), 300);
    assert_eq!(first, bars(&login(&b).await, "EURUSD", query).await);
    let other = FakeCapital::start(FakeOptions { seed: 7, ..options() }).await;
    assert_ne!(first, bars(&login(&other).await, "EURUSD", query).await);
    let closes: std::collections::BTreeSet<Decimal> = first.iter().map(|b| b.4).collect();
    assert!(
        closes.len() > 150,
        "prices move: {} distinct closes",
        closes.len()
    );
}

#[tokio::test]
async fn nothing_trades_before_the_data_start() {
    let data_start = t0() - TimeDelta::days(3);
    let fake = FakeCapital::start(FakeOptions {
        data_start,
        ..options()
    })
    .await;
    let c = login(&fake).await;
    let days = bars(&c, "BTCUSD", "resolution=DAY&max=1000").await;
    assert_eq!(days.len(), 4, "three days back and today");
    assert!(days.iter().all(|b| b.0 + 86_400 > data_start.timestamp()));
    let before = fmt(data_start.timestamp() - 3600);
    assert!(
        bars(&c, "BTCUSD", &format!("resolution=MINUTE&max=10&to={before}"))
            .await
            .is_empty()
    );
    let early = bars(&c, "BTCUSD", "resolution=HOUR&max=2&from=2001-01-01T00:00:00").await;
    assert_eq!(early[0].0, data_start.timestamp() - data_start.timestamp() % 3600);
}

#[tokio::test]
async fn moving_prices_send_a_quote_per_open_second_and_minute_bars_aggregate_them() {
    let fake = FakeCapital::start(FakeOptions {
        moving: true,
        ..options()
    })
    .await;
    let c = login(&fake).await;
    let mut ws = connect(&fake).await;
    send(
        &mut ws,
        &c,
        "marketData.subscribe",
        "1",
        json!({ "epics": ["EURUSD"] }),
    )
    .await;
    assert_eq!(recv(&mut ws).await["status"], "OK");
    // Two and a half minutes of the fake clock, in steps: every second in between gets its quote.
    for _ in 0..15 {
        fake.advance_clock(Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
    let end = fake.now().timestamp() - 2;
    let mut quotes: BTreeMap<i64, Decimal> = BTreeMap::new();
    loop {
        let q: Value = recv(&mut ws).await;
        if q["destination"] != "quote" {
            continue;
        }
        let t = q["payload"]["timestamp"].as_i64().unwrap_or(0) / 1000;
        quotes.insert(t, num(&q["payload"]["bid"]));
        if t >= end {
            break;
        }
    }
    let distinct: std::collections::BTreeSet<&Decimal> = quotes.values().collect();
    assert!(distinct.len() > 10, "prices move");
    let (first, _) = quotes
        .first_key_value()
        .map(|(t, p)| (*t, *p))
        .unwrap_or_default();
    let minutes = bars(
        &c,
        "EURUSD",
        &format!("resolution=MINUTE&max=10&{}", window(first, end)),
    )
    .await;
    let mut checked = 0;
    for b in &minutes {
        let inside: Vec<Decimal> = (b.0..b.0 + 60).filter_map(|t| quotes.get(&t).copied()).collect();
        if inside.len() < 60 {
            continue;
        }
        let streamed = (
            inside[0],
            *inside.iter().max().unwrap_or(&inside[0]),
            *inside.iter().min().unwrap_or(&inside[0]),
            inside[59],
        );
        assert_eq!(streamed, (b.1, b.2, b.3, b.4), "minute {}", fmt(b.0));
        checked += 1;
    }
    assert!(checked >= 1, "a whole minute streamed");
    // The snapshot carries the day's low so far, as the day bar has it, and the change since the
    // previous day's close (which is not the day's open: a day opens a few ticks away).
    let (_, details) = c.get("/markets/EURUSD").await;
    let now = fake.now().timestamp();
    let days = bars(&c, "EURUSD", &format!("resolution=DAY&max=2&to={}", fmt(now))).await;
    let snap = &details["snapshot"];
    assert_eq!(snap["marketStatus"], "TRADEABLE");
    assert_eq!(num(&snap["low"]), days[1].3);
    assert_eq!(num(&snap["bid"]) - num(&snap["netChange"]), days[0].4);
    assert_ne!(days[0].4, days[1].1, "yesterday's close is not today's open");
}
