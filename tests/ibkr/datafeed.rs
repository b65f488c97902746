//! The data-feed suite (`tests/datafeed_suite/`) on Interactive Brokers through the fake Client Portal
//! gateway (moving prices, each contract on its usual hours, the fake's clock lent to the bridge).

use crate::suite;

suite::suite!(suite::Feed::ibkr);

/// `/symbol_info` sessions and time zones come from IBKR's trading schedule (the stock's liquid hours,
/// the FX week, the future's overnight day in Chicago), read once per symbol however often TradingView
/// asks.
#[tokio::test]
async fn sessions_come_from_ibkrs_trading_schedule_read_once_a_day() {
    let feed = suite::Feed::ibkr().await;
    let suite::harness::Market::Ibkr(fake) = &feed.market else {
        panic!("an IBKR feed");
    };
    for _ in 0..2 {
        let (status, body) = feed.get("/symbol_info").await;
        assert_eq!(status, 200, "{body}");
        let rows: Vec<(String, String, String)> = (0..body["symbol"].as_array().map_or(0, Vec::len))
            .map(|i| {
                let text = |k: &str| body[k][i].as_str().unwrap_or_default().to_string();
                (text("symbol"), text("timezone"), text("session-regular"))
            })
            .collect();
        let of = |s: &str| rows.iter().find(|r| r.0 == s).cloned().unwrap_or_default();
        assert_eq!(of("AAPL").1, "America/New_York");
        assert_eq!(
            of("AAPL").2,
            "0930-1600:23456",
            "regular hours, not the extended day"
        );
        assert_eq!(of("EURUSD").1, "America/New_York");
        assert_eq!(of("EURUSD").2, "1700-1700:23456");
        assert_eq!(of("ES").1, "America/Chicago");
        assert_eq!(of("ES").2, "1700-1600:23456");
    }
    assert_eq!(
        fake.calls("GET", "/trsrv/secdef/schedule"),
        3,
        "one schedule request per symbol"
    );
}
