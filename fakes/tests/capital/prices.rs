//! Historical prices: determinism, paging, alignment, limits and errors.

use crate::client::{dec, login, num, start};
use chrono::{DateTime, Datelike, NaiveDateTime, TimeZone, Utc, Weekday};
use serde_json::Value;

fn bars(body: &Value) -> Vec<Value> {
    body["prices"].as_array().cloned().unwrap_or_default()
}

fn time(bar: &Value) -> DateTime<Utc> {
    let s = bar["snapshotTimeUTC"].as_str().unwrap_or_default();
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
        .map(|n| n.and_utc())
        .unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[tokio::test]
async fn bars_are_deterministic_and_page_from_the_oldest() {
    let fake = start().await;
    let c = login(&fake).await;
    let (status, body) = c
        .get("/prices/GOLD?resolution=MINUTE_15&max=4&from=2024-02-24T00:00:00&to=2024-02-24T06:00:00")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["instrumentType"], "COMMODITIES");
    let page = bars(&body);
    let times: Vec<String> = page
        .iter()
        .map(|b| b["snapshotTimeUTC"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        times,
        [
            "2024-02-24T00:00:00",
            "2024-02-24T00:15:00",
            "2024-02-24T00:30:00",
            "2024-02-24T00:45:00"
        ]
    );
    assert_eq!(page[0]["snapshotTime"], "2024-02-24T03:00:00");

    // The same and an overlapping query agree bar for bar.
    let again = bars(
        &c.get("/prices/GOLD?resolution=MINUTE_15&max=4&from=2024-02-24T00:00:00&to=2024-02-24T06:00:00")
            .await
            .1,
    );
    assert_eq!(page, again);
    let shifted = bars(
        &c.get("/prices/GOLD?resolution=MINUTE_15&max=10&from=2024-02-24T00:20:00")
            .await
            .1,
    );
    assert_eq!(shifted[0]["snapshotTimeUTC"], "2024-02-24T00:30:00");
    assert_eq!(shifted[..2], page[2..]);

    for b in &page {
        let (o, h, l, cl) = (&b["openPrice"], &b["highPrice"], &b["lowPrice"], &b["closePrice"]);
        for side in ["bid", "ask"] {
            let (o, h, l, cl) = (num(&o[side]), num(&h[side]), num(&l[side]), num(&cl[side]));
            assert!(h >= o.max(cl) && l <= o.min(cl), "{b}");
        }
        assert_eq!(num(&o["ask"]) - num(&o["bid"]), dec("0.30"));
        assert!(b["lastTradedVolume"].as_i64().is_some_and(|v| v > 0));
        // Around the current price (a few percent).
        let mid = num(&cl["bid"]);
        assert!(mid > dec("1900") && mid < dec("2200"), "{mid}");
    }
}

#[tokio::test]
async fn newest_bars_end_at_the_fake_clock() {
    let fake = start().await;
    fake.set_clock(
        Utc.with_ymd_and_hms(2026, 3, 4, 10, 7, 30)
            .single()
            .unwrap_or_default(),
    );
    fake.freeze_clock();
    let c = login(&fake).await;
    let latest = bars(&c.get("/prices/EURUSD").await.1);
    assert_eq!(latest.len(), 10);
    assert_eq!(latest[9]["snapshotTimeUTC"], "2026-03-04T10:07:00");
    assert_eq!(latest[0]["snapshotTimeUTC"], "2026-03-04T09:58:00");
    let hours = bars(
        &c.get("/prices/EURUSD?resolution=HOUR_4&max=3&to=2026-03-04T09:00:00")
            .await
            .1,
    );
    let t: Vec<String> = hours
        .iter()
        .map(|b| b["snapshotTimeUTC"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        t,
        [
            "2026-03-04T00:00:00",
            "2026-03-04T04:00:00",
            "2026-03-04T08:00:00"
        ]
    );
    assert_eq!(
        hours.last().map(time),
        Utc.with_ymd_and_hms(2026, 3, 4, 8, 0, 0).single()
    );

    let weeks = bars(&c.get("/prices/EURUSD?resolution=WEEK&max=5").await.1);
    assert_eq!(weeks.len(), 5);
    assert!(weeks
        .iter()
        .all(|b| time(b).weekday() == Weekday::Mon && time(b).timestamp() % 86_400 == 0));
    let days = bars(
        &c.get("/prices/EURUSD?resolution=DAY&from=2026-03-01T12:00:00")
            .await
            .1,
    );
    assert_eq!(
        days.len(),
        3,
        "2 March, 3 March and today (4 March); nothing in the future"
    );
    assert_eq!(days[0]["snapshotTimeUTC"], "2026-03-02T00:00:00");

    let (status, body) = c.get("/prices/EURUSD?from=2026-03-05T00:00:00").await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (404, Some("error.prices.not-found"))
    );
}

#[tokio::test]
async fn price_request_errors() {
    let fake = start().await;
    let c = login(&fake).await;
    let cases = [
        (
            "/prices/GOLD?resolution=MINUTE_3",
            400,
            "error.invalid.resolution",
        ),
        ("/prices/GOLD?max=1001", 400, "error.invalid.max"),
        ("/prices/GOLD?max=0", 400, "error.invalid.max"),
        ("/prices/GOLD?from=2022-02-24", 400, "error.invalid.from"),
        ("/prices/GOLD?to=2022-02-24T25:00:00", 400, "error.invalid.to"),
        ("/prices/NOPE", 404, "error.not-found.epic"),
    ];
    for (path, status, code) in cases {
        let (s, body) = c.get(path).await;
        assert_eq!((s, body["errorCode"].as_str()), (status, Some(code)), "{path}");
    }
    let (status, body) = c
        .get("/prices/GOLD?resolution=MINUTE&max=1000&from=2024-01-01T00:00:00")
        .await;
    assert_eq!(status, 200);
    assert_eq!(bars(&body).len(), 1000);
}

#[tokio::test]
async fn the_chart_meets_the_live_price_when_the_fake_starts() {
    let fake = start().await;
    let c = login(&fake).await;
    let last = bars(&c.get("/prices/GOLD?max=1").await.1);
    let close = num(&last[0]["closePrice"]["bid"]);
    // Within 0.1% of the 2034.52 bid.
    assert!((close - dec("2034.52")).abs() < dec("2.04"), "{close}");
}
