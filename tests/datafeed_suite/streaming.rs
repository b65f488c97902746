//! `/streaming` properties: chunked lines, heartbeats, every symbol of `/symbol_info` gets quotes and
//! trades, tick times per symbol never go back, every connection gets the same data, minute bars built
//! from the streamed trades match `/history`'s (at least 95% of them, as TradingView checks), and the
//! streamed daily bar opens where `/history`'s daily bar does.

use super::{bars, Feed, DAY, MINUTE};
use crate::support::dec;
use crate::support::live::Lines;
use crate::support::schema::assert_schema;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// Reads lines until `stop` holds for one, or nothing comes for three seconds, or `limit` passes.
async fn collect(lines: &mut Lines, limit: Duration, stop: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut out = Vec::new();
    while tokio::time::Instant::now() < deadline {
        let Some(line) = lines.next(Duration::from_secs(3)).await else {
            break;
        };
        let done = stop(&line);
        out.push(line);
        if done {
            break;
        }
    }
    out
}

/// Minute bars (open, high, low, close, volume) of the complete minutes among `trades`.
fn minute_bars(trades: &[&Value]) -> BTreeMap<i64, (Decimal, Decimal, Decimal, Decimal, Decimal)> {
    let mut by_minute: BTreeMap<i64, BTreeMap<i64, (Decimal, Decimal)>> = BTreeMap::new();
    for v in trades {
        let t = v["t"].as_i64().unwrap_or_default();
        by_minute
            .entry(t - t.rem_euclid(MINUTE))
            .or_default()
            .entry(t)
            .or_insert((dec(&v["p"]), dec(&v["s"])));
    }
    by_minute
        .into_iter()
        .filter(|(_, secs)| secs.len() == MINUTE as usize)
        .map(|(m, secs)| {
            let prices: Vec<Decimal> = secs.values().map(|(p, _)| *p).collect();
            let volume: Decimal = secs.values().map(|(_, s)| *s).sum();
            let (hi, lo) = (
                prices.iter().copied().max().unwrap_or_default(),
                prices.iter().copied().min().unwrap_or_default(),
            );
            (m, (prices[0], hi, lo, prices[prices.len() - 1], volume))
        })
        .collect()
}

pub async fn streaming_ticks_forward_with_heartbeats_and_bars_matching_history(feed: &Feed) {
    let (_, info) = feed.get("/symbol_info").await;
    let symbols: Vec<String> = info["symbol"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect();
    let mut clients = Vec::new();
    // TradingView opens up to four connections and expects the same data on each.
    for _ in 0..4 {
        clients.push(feed.streaming().await);
    }
    assert_eq!(
        clients[0]
            .headers
            .get("transfer-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("chunked")
    );
    // Let every connection subscribe (an upstream stream opens), then move the market three minutes.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    for _ in 0..18 {
        feed.advance(10);
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let end = feed.now() - 2;
    let fx = feed.fx;
    let mut got = Vec::new();
    for c in clients.iter_mut() {
        let lines = collect(c, Duration::from_secs(20), |v| {
            v["f"] == "t" && v["id"] == fx && v["t"].as_i64().is_some_and(|t| t >= end)
        })
        .await;
        got.push(lines);
    }
    // Kinds, schemas, and times per symbol that never go back.
    let lines = &got[0];
    let heartbeats = lines.iter().filter(|v| v.get("heartbeat").is_some()).count();
    assert!(heartbeats >= 1, "heartbeats every second here");
    let mut last: BTreeMap<String, i64> = BTreeMap::new();
    for v in lines.iter().filter(|v| v.get("f").is_some()) {
        let kind = v["f"].as_str().unwrap_or_default();
        let def = match kind {
            "q" => "StreamingQuote",
            "t" => "StreamingTrade",
            "d" => "StreamingDailyBar",
            other => panic!("unexpected line kind {other}"),
        };
        assert_schema(def, v);
        if kind != "d" {
            let key = format!("{kind}{}", v["id"].as_str().unwrap_or_default());
            let t = v["t"].as_i64().unwrap_or_default();
            let before = last.insert(key.clone(), t).unwrap_or(i64::MIN);
            assert!(t >= before, "tick times never go back: {key}");
        }
    }
    for s in &symbols {
        assert!(last.contains_key(&format!("q{s}")), "{s} gets quotes");
        assert!(last.contains_key(&format!("t{s}")), "{s} gets trades");
    }
    // Every connection gets the same trades from the first second all of them saw.
    let trades_of = |lines: &Vec<Value>| -> Vec<Value> {
        lines
            .iter()
            .filter(|v| v["f"] == "t" && v["id"] == fx)
            .cloned()
            .collect()
    };
    let all: Vec<Vec<Value>> = got.iter().map(trades_of).collect();
    let common = all
        .iter()
        .filter_map(|t| t.first().and_then(|v| v["t"].as_i64()))
        .max()
        .unwrap_or_default();
    let from = |x: &Vec<Value>| -> Vec<Value> {
        x.iter()
            .filter(|v| v["t"].as_i64().is_some_and(|t| t >= common))
            .cloned()
            .collect()
    };
    for other in &all[1..] {
        assert_eq!(from(other), from(&all[0]), "every connection gets the same data");
    }
    let a = all[0].clone();
    // Minute bars built from the streamed trades match /history's.
    let trades: Vec<&Value> = a.iter().collect();
    let streamed = minute_bars(&trades);
    assert!(streamed.len() >= 2, "at least two whole minutes streamed");
    let (first, last_minute) = (
        *streamed.keys().next().unwrap_or(&0),
        *streamed.keys().last().unwrap_or(&0),
    );
    let stored = bars(
        &feed
            .history(&format!("symbol={fx}&resolution=1&from={first}&to={last_minute}"))
            .await,
    );
    let mut matching = 0;
    for (minute, (o, h, l, c, v)) in &streamed {
        let Some(bar) = stored.iter().find(|b| b.t == *minute) else {
            continue;
        };
        let volume_ok = !feed.trades_have_size || bar.v == *v;
        if (bar.o, bar.h, bar.l, bar.c) == (*o, *h, *l, *c) && volume_ok {
            matching += 1;
        }
    }
    assert!(
        matching * 100 >= streamed.len() * 95,
        "{matching} of {} streamed minute bars match /history",
        streamed.len()
    );
    // The streamed daily bar opens where /history's daily bar does.
    let mut days: BTreeMap<String, (i64, Decimal)> = BTreeMap::new();
    for v in lines.iter().filter(|v| v["f"] == "d") {
        days.insert(
            v["id"].as_str().unwrap_or_default().to_string(),
            (v["t"].as_i64().unwrap_or_default(), dec(&v["o"])),
        );
    }
    assert!(days.contains_key(fx), "{fx} gets daily bars");
    for (symbol, (t, open)) in days {
        assert_eq!(t % DAY, 0, "{symbol}: daily bars at 00:00 UTC");
        let day = bars(
            &feed
                .history(&format!("symbol={symbol}&resolution=D&from={t}&to={t}"))
                .await,
        );
        assert_eq!(day.len(), 1, "{symbol}: /history has the day {t}");
        assert_eq!(
            day[0].o, open,
            "{symbol}: the streamed daily bar opens as /history's"
        );
    }
}
