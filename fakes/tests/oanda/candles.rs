//! v20 candles: OANDA's alignment (top of minute/hour, daily alignment in a time zone with its DST,
//! weekly and monthly), the weekend gap, the 5000 limit, determinism and the live last candle.

use crate::client::{d, start, Client};
use fakes::oanda::FakeOanda;
use serde_json::Value;

/// `GET /v3/instruments/EUR_USD/candles?{query}`: (status, body).
async fn get(c: &Client, query: &str) -> (u16, Value) {
    c.get(&format!("/v3/instruments/EUR_USD/candles?{query}")).await
}

/// The `time` of each candle.
fn times(body: &Value) -> Vec<String> {
    body["candles"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|c| c["time"].as_str())
                .map(|t| t[..19].to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn fake_and_client() -> (FakeOanda, Client) {
    let fake = start().await;
    let c = Client::new(&fake);
    (fake, c)
}

#[tokio::test]
async fn minutes_align_on_the_hour_and_the_last_candle_is_live() {
    let (fake, c) = fake_and_client().await;
    let (status, body) = get(&c, "granularity=M5&count=3&price=BA").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["instrument"], "EUR_USD");
    assert_eq!(body["granularity"], "M5");
    assert_eq!(
        times(&body),
        [
            "2026-03-04T14:50:00",
            "2026-03-04T14:55:00",
            "2026-03-04T15:00:00"
        ]
    );
    let candles = body["candles"].as_array().cloned().unwrap_or_default();
    assert_eq!(candles[0]["complete"], true);
    assert_eq!(candles[2]["complete"], false);
    assert!(candles[0].get("mid").is_none());
    let last = &candles[2];
    assert_eq!(last["bid"]["c"], "1.08512");
    assert_eq!(last["ask"]["c"], "1.08526");
    for c in &candles {
        for side in ["bid", "ask"] {
            let x = &c[side];
            assert!(d(&x["l"]) <= d(&x["o"]) && d(&x["o"]) <= d(&x["h"]), "{c}");
            assert!(d(&x["l"]) <= d(&x["c"]) && d(&x["c"]) <= d(&x["h"]), "{c}");
        }
        assert!(d(&c["ask"]["o"]) > d(&c["bid"]["o"]));
        assert!(c["volume"].as_u64().is_some_and(|v| v > 0));
        assert!(c["time"].as_str().is_some_and(|t| t.ends_with(".000000000Z")));
    }
    // The live candle follows the market.
    fake.set_price(
        "EUR_USD",
        crate::client::dec("1.08600"),
        crate::client::dec("1.08614"),
    );
    let (_, body) = get(&c, "granularity=M5&count=1").await;
    assert_eq!(body["candles"][0]["mid"]["c"], "1.08607");
}

#[tokio::test]
async fn generated_candles_are_deterministic_and_ranges_agree() {
    let (_fake, c) = fake_and_client().await;
    let (_, a) = get(&c, "granularity=H1&from=2026-02-10T00:00:00Z&count=10&price=MBA").await;
    let (_, b) = get(
        &c,
        "granularity=H1&from=2026-02-10T00:00:00Z&to=2026-02-10T10:00:00Z&price=MBA",
    )
    .await;
    assert_eq!(a["candles"].as_array().map(Vec::len), Some(10));
    assert_eq!(a, b);
    // Another fake started at the same time serves the same history.
    let (_fake2, c2) = fake_and_client().await;
    let (_, again) = get(&c2, "granularity=H1&from=2026-02-10T00:00:00Z&count=10&price=MBA").await;
    assert_eq!(a, again);
    // Without includeFirst the candle at `from` is left out.
    let (_, skip) = get(
        &c,
        "granularity=H1&from=2026-02-10T00:00:00Z&count=2&includeFirst=false",
    )
    .await;
    assert_eq!(times(&skip), ["2026-02-10T01:00:00", "2026-02-10T02:00:00"]);
    // A range ending exactly on a candle's start leaves that candle out.
    let (_, to) = get(&c, "granularity=H1&to=2026-02-10T03:00:00Z&count=2").await;
    assert_eq!(times(&to), ["2026-02-10T01:00:00", "2026-02-10T02:00:00"]);
}

#[tokio::test]
async fn hours_and_days_align_on_the_new_york_trading_day_with_its_dst() {
    let (_fake, c) = fake_and_client().await;
    // Winter (EST): 17:00 New York is 22:00 UTC; H4 boundaries at 22, 02, 06...
    let (_, body) = get(&c, "granularity=H4&from=2026-03-03T00:00:00Z&count=3").await;
    assert_eq!(
        times(&body),
        [
            "2026-03-02T22:00:00",
            "2026-03-03T02:00:00",
            "2026-03-03T06:00:00"
        ]
    );
    // After the switch to EDT (2025-03-09), 17:00 New York is 21:00 UTC.
    let (_, body) = get(&c, "granularity=H4&from=2025-03-10T00:00:00Z&count=3").await;
    assert_eq!(
        times(&body),
        [
            "2025-03-09T21:00:00",
            "2025-03-10T01:00:00",
            "2025-03-10T05:00:00"
        ]
    );
    // The daily candles around the switch: Thursday 22:00 UTC, then Sunday 21:00 UTC (the weekend has
    // none).
    let (_, body) = get(&c, "granularity=D&from=2025-03-06T23:00:00Z&count=3").await;
    assert_eq!(
        times(&body),
        [
            "2025-03-06T22:00:00",
            "2025-03-09T21:00:00",
            "2025-03-10T21:00:00"
        ]
    );
    // Daily candles at midnight New York (the v1 documentation's example alignment).
    let (_, body) = get(
        &c,
        "granularity=D&from=2025-07-01T00:00:00Z&count=2&dailyAlignment=0&alignmentTimezone=America%2FNew_York",
    )
    .await;
    assert_eq!(times(&body), ["2025-06-30T04:00:00", "2025-07-01T04:00:00"]);
    let (_, body) = get(
        &c,
        "granularity=D&from=2026-01-06T12:00:00Z&count=1&dailyAlignment=0",
    )
    .await;
    assert_eq!(times(&body), ["2026-01-06T05:00:00"]);
    // Other zones.
    let (_, body) = get(
        &c,
        "granularity=D&from=2025-07-01T12:00:00Z&count=1&dailyAlignment=0&alignmentTimezone=Europe%2FLondon",
    )
    .await;
    assert_eq!(times(&body), ["2025-06-30T23:00:00"]);
    let (_, body) = get(
        &c,
        "granularity=D&from=2025-07-01T12:00:00Z&count=1&dailyAlignment=0&alignmentTimezone=Etc%2FUTC",
    )
    .await;
    assert_eq!(times(&body), ["2025-07-01T00:00:00"]);
    let (status, _) = get(&c, "granularity=D&alignmentTimezone=Mars%2FOlympus").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn weeks_start_on_the_weekly_alignment_and_months_on_the_first() {
    let (_fake, c) = fake_and_client().await;
    let (_, body) = get(&c, "granularity=W&count=2").await;
    assert_eq!(times(&body), ["2026-02-20T22:00:00", "2026-02-27T22:00:00"]);
    assert_eq!(body["candles"][1]["complete"], false);
    let (_, body) = get(&c, "granularity=W&count=1&weeklyAlignment=Monday").await;
    assert_eq!(times(&body), ["2026-03-02T22:00:00"]);
    let (_, body) = get(&c, "granularity=M&count=2").await;
    assert_eq!(times(&body), ["2026-02-01T22:00:00", "2026-03-01T22:00:00"]);
}

#[tokio::test]
async fn the_weekend_closure_has_no_candles() {
    let (_fake, c) = fake_and_client().await;
    // Friday 15:00 New York, then the market closes at 17:00 and reopens on Sunday 17:00.
    let (_, body) = get(&c, "granularity=H1&from=2026-02-27T20:00:00Z&count=4").await;
    assert_eq!(
        times(&body),
        [
            "2026-02-27T20:00:00",
            "2026-02-27T21:00:00",
            "2026-03-01T22:00:00",
            "2026-03-01T23:00:00"
        ]
    );
    let (_, body) = get(&c, "granularity=D&from=2026-02-26T22:00:00Z&count=3").await;
    assert_eq!(
        times(&body),
        [
            "2026-02-26T22:00:00",
            "2026-03-01T22:00:00",
            "2026-03-02T22:00:00"
        ]
    );
    // Counting back over a weekend too.
    let (_, body) = get(&c, "granularity=H1&to=2026-03-01T23:00:00Z&count=2").await;
    assert_eq!(times(&body), ["2026-02-27T21:00:00", "2026-03-01T22:00:00"]);
    let (_, body) = get(&c, "granularity=S5&from=2026-02-28T12:00:00Z&count=1").await;
    assert_eq!(times(&body), ["2026-03-01T22:00:00"]);
}

#[tokio::test]
async fn more_than_5000_candles_and_bad_parameters_are_refused() {
    let (_fake, c) = fake_and_client().await;
    let (status, body) = get(&c, "granularity=M1&count=5001").await;
    assert_eq!(status, 400);
    assert_eq!(body["errorMessage"], "Maximum value for 'count' exceeded");
    assert_eq!(get(&c, "granularity=M1&count=5000").await.0, 200);
    // A range covering more than 5000 candles is refused the same way.
    let (status, body) = get(
        &c,
        "granularity=S5&from=2026-03-04T00:00:00Z&to=2026-03-04T10:00:00Z",
    )
    .await;
    assert_eq!(
        (status, body["errorMessage"].as_str()),
        (400, Some("Maximum value for 'count' exceeded"))
    );
    for query in [
        "granularity=M3",
        "granularity=X",
        "price=Q",
        "to=2030-01-01T00:00:00Z",
        "dailyAlignment=24&granularity=D",
        "weeklyAlignment=Someday&granularity=W",
        "from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&count=10",
    ] {
        assert_eq!(get(&c, query).await.0, 400, "{query}");
    }
    let (status, body) = c.get("/v3/instruments/NOPE_USD/candles").await;
    assert_eq!(status, 400);
    assert_eq!(body["errorMessage"], "Invalid value specified for 'instrument'");
    // Defaults: S5, 500 candles, mid prices; UNIX times are accepted.
    let (_, body) = get(&c, "from=1772600000").await;
    assert_eq!(body["granularity"], "S5");
    assert!(body["candles"][0]["mid"].is_object());
    let (_, body) = get(&c, "").await;
    assert_eq!(body["candles"].as_array().map(Vec::len), Some(500));
    // The account form of the endpoint answers the same.
    let account = format!(
        "/v3/accounts/{}/instruments/EUR_USD/candles?granularity=H1&from=2026-02-10T00:00:00Z&count=3",
        crate::client::NET
    );
    let (status, by_account) = c.get(&account).await;
    assert_eq!(status, 200);
    let (_, plain) = get(&c, "granularity=H1&from=2026-02-10T00:00:00Z&count=3").await;
    assert_eq!(by_account, plain);
}
