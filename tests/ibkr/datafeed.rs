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

/// `check-config` names each symbol's conid and where it came from, offline; with `--upstream` it adds
/// the trading hours IBKR's schedule gives, Good Friday within the month among them (the lines the
/// binary prints).
#[tokio::test]
async fn check_config_names_each_conid_its_source_and_trading_hours() {
    use crate::support::fake_ibkr::{FakeIbkr, FakeIbkrOptions};
    use crate::support::ibkr;
    use tvbridge::backends::ibkr::check;
    let fake = FakeIbkr::start(FakeIbkrOptions {
        accounts: ibkr::options().accounts,
        ..FakeIbkrOptions::moving_market(suite::harness::wednesday())
    })
    .await;
    let config = ibkr::with_future(&fake, "", "");
    let tvbridge::config::BackendConfig::Ibkr(settings) = &config.backend else {
        panic!("an IBKR configuration");
    };
    assert_eq!(
        check::offline(settings),
        [
            "AAPL (TradingView NASDAQ:AAPL): conid 265598 (configured)",
            "EURUSD (TradingView FX:EURUSD): conid searched as \"EUR.USD\" (CASH) with secdef/search at the first login",
            "ES (TradingView ES): conid searched as \"ES\" (FUT) with secdef/search at the first login",
        ]
    );
    let broker = ibkr::broker_on(&config, &fake).await;
    assert_eq!(
        check::upstream(&broker).await.expect("IBKR resolves the symbols"),
        [
            "AAPL (TradingView NASDAQ:AAPL): conid 265598 (configured); trading hours America/New_York 0930-1600:23456 (NASDAQ), closed 2026-04-03",
            "EURUSD (TradingView FX:EURUSD): conid 12087792 (found by secdef/search); trading hours America/New_York 1700-1700:23456 (IDEALPRO)",
            "ES (TradingView ES): conid 495512563 (found by secdef/search); trading hours America/Chicago 1700-1600:23456 (CME)",
        ]
    );
}
