//! The price process behind the fake's candles and prices: every granularity is the aggregation of the
//! finest one, the same seed and start give the same prices, moving prices stream one tick per open
//! second and candles aggregate exactly those ticks, and nothing trades before the data start or in the
//! FX weekend.

use crate::client::{d, options, start, t0, Client, Lines, NET};
use chrono::{DateTime, TimeDelta};
use fakes::oanda::{FakeOanda, FakeOptions};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// A candle as (start, open, high, low, close, volume), bid prices.
type Bar = (i64, Decimal, Decimal, Decimal, Decimal, u64);

fn parse(t: &str) -> i64 {
    DateTime::parse_from_rfc3339(t)
        .unwrap_or_else(|e| panic!("{t}: {e}"))
        .timestamp()
}

/// `GET /v3/instruments/EUR_USD/candles?price=B&{query}` as bars; asserts 200.
async fn bars(c: &Client, query: &str) -> Vec<Bar> {
    let (status, body) = c
        .get(&format!("/v3/instruments/EUR_USD/candles?price=B&{query}"))
        .await;
    assert_eq!(status, 200, "{query}: {body}");
    body["candles"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            let b = &c["bid"];
            (
                parse(c["time"].as_str().unwrap_or_default()),
                d(&b["o"]),
                d(&b["h"]),
                d(&b["l"]),
                d(&b["c"]),
                c["volume"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// `fine` grouped by `start_of` into bars: first open, highest high, lowest low, last close, volume summed.
fn aggregate(fine: &[Bar], start_of: impl Fn(i64) -> i64) -> Vec<Bar> {
    let mut out: BTreeMap<i64, Bar> = BTreeMap::new();
    for &(t, o, h, l, c, v) in fine {
        let s = start_of(t);
        out.entry(s)
            .and_modify(|b| {
                b.2 = b.2.max(h);
                b.3 = b.3.min(l);
                b.4 = c;
                b.5 += v;
            })
            .or_insert((s, o, h, l, c, v));
    }
    out.into_values().collect()
}

fn iso(t: i64) -> String {
    DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

const UTC: &str = "dailyAlignment=0&alignmentTimezone=UTC&weeklyAlignment=Monday";

#[tokio::test]
async fn every_granularity_is_the_aggregation_of_the_finest() {
    let fake = start().await;
    let c = Client::new(&fake);
    // One hour of S5 (720 candles) makes that hour's M1 candles, and those its H1 candle.
    let hour = parse("2026-03-03T10:00:00Z");
    let range = format!("from={}&to={}", iso(hour), iso(hour + 3600));
    let s5 = bars(&c, &format!("granularity=S5&{range}")).await;
    assert_eq!(s5.len(), 720);
    assert!(s5.iter().all(|b| b.5 == 5), "five ticks in every S5 candle");
    let m1 = bars(&c, &format!("granularity=M1&{range}")).await;
    assert_eq!(aggregate(&s5, |t| t - t % 60), m1);
    let m5 = bars(&c, &format!("granularity=M5&{range}")).await;
    assert_eq!(aggregate(&m1, |t| t - t % 300), m5);
    let h1 = bars(&c, &format!("granularity=H1&{range}")).await;
    assert_eq!(aggregate(&m1, |t| t - t % 3600), h1);
    assert_eq!(h1[0].5, 3600, "one tick per second");

    // A week of H1 candles makes its UTC days, and those days its Monday week (the FX weekend has none).
    let monday = parse("2026-02-16T00:00:00Z");
    let week = format!("from={}&to={}", iso(monday), iso(monday + 7 * 86_400));
    let h1 = bars(&c, &format!("granularity=H1&{week}")).await;
    assert_eq!(
        h1.len(),
        24 * 4 + 22 + 2,
        "Friday closes and Sunday opens at 22:00 UTC in winter"
    );
    let days = bars(&c, &format!("granularity=D&{UTC}&{week}")).await;
    assert_eq!(aggregate(&h1, |t| t - t % 86_400), days);
    assert_eq!(days.len(), 6, "no Saturday");
    let weeks = bars(&c, &format!("granularity=W&{UTC}&from={}&count=1", iso(monday))).await;
    assert_eq!(aggregate(&days, |_| monday), weeks);
    // New York days (OANDA's default alignment) are the same hours cut at 17:00 New York.
    let ny_days = bars(&c, &format!("granularity=D&{week}")).await;
    let ny = aggregate(&h1, |t| {
        let shifted = t - 22 * 3600;
        shifted - shifted.rem_euclid(86_400) + 22 * 3600
    });
    let whole: Vec<Bar> = ny
        .into_iter()
        .filter(|b| b.0 >= monday && b.0 + 86_400 <= monday + 7 * 86_400)
        .collect();
    assert_eq!(whole.len(), 4, "Monday to Thursday 22:00 UTC, whole");
    let served: Vec<Bar> = ny_days
        .into_iter()
        .filter(|d| d.0 >= monday && d.0 + 86_400 <= monday + 7 * 86_400)
        .collect();
    assert_eq!(whole, served);

    // February's daily candles make February's monthly candle.
    let feb = parse("2026-02-01T00:00:00Z");
    let march = parse("2026-03-01T00:00:00Z");
    let days = bars(
        &c,
        &format!("granularity=D&{UTC}&from={}&to={}", iso(feb), iso(march)),
    )
    .await;
    let month = bars(&c, &format!("granularity=M&{UTC}&from={}&count=1", iso(feb))).await;
    assert_eq!(aggregate(&days, |_| feb), month);
}

#[tokio::test]
async fn the_same_seed_and_start_give_the_same_prices_and_another_seed_others() {
    let query = "granularity=M15&from=2026-03-02T00:00:00Z&count=200";
    let a = start().await;
    let b = start().await;
    let first = bars(&Client::new(&a), query).await;
    assert_eq!(first.len(), 200);
    assert_eq!(first, bars(&Client::new(&b), query).await);
    let other = FakeOanda::start(FakeOptions { seed: 7, ..options() }).await;
    let different = bars(&Client::new(&other), query).await;
    assert_ne!(first, different, "another seed, another path");
    // Prices really move: many distinct closes, highs above lows.
    let closes: std::collections::BTreeSet<Decimal> = first.iter().map(|b| b.4).collect();
    assert!(closes.len() > 100, "{} distinct closes", closes.len());
    assert!(first.iter().all(|b| b.3 <= b.1.min(b.4) && b.2 >= b.1.max(b.4)));
}

#[tokio::test]
async fn nothing_trades_before_the_data_start_nor_in_the_fx_weekend() {
    let data_start = t0() - TimeDelta::days(10);
    let fake = FakeOanda::start(FakeOptions {
        data_start,
        ..options()
    })
    .await;
    let c = Client::new(&fake);
    let days = bars(&c, &format!("granularity=D&{UTC}&count=5000")).await;
    assert!(!days.is_empty() && days.len() < 12, "{} days", days.len());
    assert!(days.iter().all(|b| b.0 + 86_400 > data_start.timestamp()));
    // Before the data start there is nothing at all.
    let before = iso(data_start.timestamp() - 86_400);
    assert!(bars(&c, &format!("granularity=H1&to={before}&count=10"))
        .await
        .is_empty());
    // A `from` long before the data start answers from the data start on.
    let early = bars(
        &c,
        &format!("granularity=D&{UTC}&from=2001-01-01T00:00:00Z&count=3"),
    )
    .await;
    assert_eq!(early.first().map(|b| b.0), days.first().map(|b| b.0));
    // Friday 17:00 to Sunday 17:00 New York (22:00 UTC in winter) has no minute candle.
    let weekend = bars(&c, "granularity=M1&from=2026-02-27T21:55:00Z&count=10").await;
    let times: Vec<String> = weekend.iter().map(|b| iso(b.0)).collect();
    assert_eq!(
        times[..5],
        [
            "2026-02-27T21:55:00Z",
            "2026-02-27T21:56:00Z",
            "2026-02-27T21:57:00Z",
            "2026-02-27T21:58:00Z",
            "2026-02-27T21:59:00Z"
        ]
    );
    assert_eq!(times[5], "2026-03-01T22:00:00Z");
}

#[tokio::test]
async fn moving_prices_stream_each_open_second_and_candles_aggregate_those_ticks() {
    let fake = FakeOanda::start(FakeOptions {
        moving: true,
        ..options()
    })
    .await;
    let c = Client::new(&fake);
    let resp = c
        .open_stream(&format!(
            "/v3/accounts/{NET}/pricing/stream?instruments=EUR_USD&snapshot=false"
        ))
        .await;
    let mut lines = Lines::new(resp);
    // Move the clock a minute and a half in steps: every second in between gets its tick.
    for _ in 0..9 {
        fake.advance_clock(Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
    let end = fake.now().timestamp() - 2;
    let mut ticks: BTreeMap<i64, Decimal> = BTreeMap::new();
    while let Some(line) = lines.next(Duration::from_secs(2)).await {
        if line["type"] != "PRICE" {
            continue;
        }
        let t = parse(line["time"].as_str().unwrap_or_default());
        assert!(
            ticks.keys().last().is_none_or(|last| t > *last),
            "one tick per second, in order"
        );
        ticks.insert(t, d(&line["bids"][0]["price"]));
        if t >= end {
            break;
        }
    }
    assert!(ticks.len() >= 80, "{} ticks", ticks.len());
    let distinct: std::collections::BTreeSet<&Decimal> = ticks.values().collect();
    assert!(distinct.len() > 10, "prices move: {ticks:?}");
    // Each S5 candle the stream covered whole is exactly its five ticks.
    let (first, last) = (*ticks.keys().next().unwrap_or(&0), end);
    let s5 = bars(
        &c,
        &format!("granularity=S5&from={}&to={}", iso(first), iso(last)),
    )
    .await;
    let mut checked = 0;
    for b in &s5 {
        let inside: Vec<Decimal> = (b.0..b.0 + 5).filter_map(|t| ticks.get(&t).copied()).collect();
        if inside.len() < 5 {
            continue;
        }
        let streamed = (
            b.0,
            inside[0],
            *inside.iter().max().unwrap_or(&inside[0]),
            *inside.iter().min().unwrap_or(&inside[0]),
            inside[4],
            5,
        );
        assert_eq!(&streamed, b);
        checked += 1;
    }
    assert!(checked >= 14, "{checked} candles checked");
    // The live price is the last tick.
    let (_, pricing) = c
        .get(&format!("/v3/accounts/{NET}/pricing?instruments=EUR_USD"))
        .await;
    let quote: &Value = &pricing["prices"][0];
    let t = parse(quote["time"].as_str().unwrap_or_default());
    assert!(t >= end, "the quote is the latest tick");
}
