//! OANDA market data through the bridge: instruments with pip values in the account currency, quotes,
//! data-feed symbols and mapping, `/history` paged past the 5000-candle limit and aligned to TradingView's
//! bars, and the pricing stream feeding `/streaming` and `/stream/quotes`, reopened after it drops.

use crate::support;

use axum::http::Method;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;
use std::time::Duration;
use support::oanda::{self, TOKEN, V1, V20};
use support::schema::assert_schema;
use support::{dec, TestApp};

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Thursday 2026-01-08 13:00 UTC: the fake's clock for history tests (a week without holidays behind it).
fn thursday() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_877_200, 0).unwrap()
}

async fn history(app: &TestApp, token: &str, query: &str) -> Value {
    let r = app
        .send(Method::GET, &format!("/history?{query}"), Some(token), None)
        .await;
    assert_eq!(r.body["s"], "ok", "{}", r.body);
    assert_schema("HistoryResponse", &r.body);
    r.body
}

fn times(body: &Value) -> Vec<i64> {
    body["t"]
        .as_array()
        .map(|a| a.iter().map(|t| t.as_i64().unwrap()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn instruments_carry_oanda_limits_and_pip_values_in_the_account_currency() {
    let (_fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20).await;
    let list = app
        .get(
            &token,
            &format!("/accounts/{V20}/instruments"),
            "InstrumentsResponse",
        )
        .await;
    let rows = list.as_array().expect("instruments");
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {list}"))
    };
    let eur = row("EURUSD");
    assert_eq!(
        (dec(&eur["pipSize"]), dec(&eur["minTick"])),
        (d("0.0001"), d("0.00001"))
    );
    assert_eq!(
        dec(&eur["pipValue"]),
        d("0.0001"),
        "USD account, USD quote currency"
    );
    assert_eq!(dec(&eur["qtyStep"]), d("1"));
    let jpy = row("USDJPY");
    assert_eq!(dec(&jpy["pipSize"]), d("0.01"));
    let pip_value = dec(&jpy["pipValue"]);
    assert!(
        pip_value > d("0.00006") && pip_value < d("0.00007"),
        "0.01 JPY in USD: {pip_value}"
    );
    assert_eq!(row("XAUUSD")["type"], "commodity");
}

#[tokio::test]
async fn quotes_name_unknown_symbols_and_follow_the_market() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20).await;
    fake.set_price("EUR_USD", d("1.10000"), d("1.10012"));
    let q = app
        .get(
            &token,
            &format!("/quotes?accountId={V20}&symbols=EURUSD,NOPE"),
            "QuotesResponse",
        )
        .await;
    let entries = q.as_array().unwrap();
    assert_eq!(entries[0]["s"], "ok");
    assert_eq!(
        (dec(&entries[0]["v"]["bid"]), dec(&entries[0]["v"]["ask"])),
        (d("1.1"), d("1.10012"))
    );
    assert_eq!(entries[1]["s"], "error");
    assert!(entries[1]["v"]["errmsg"].as_str().unwrap().contains("NOPE"));
}

#[tokio::test]
async fn data_feed_symbols_and_mapping_come_from_the_account() {
    let (_fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20).await;
    let r = app
        .send(
            Method::GET,
            "/symbol_info?group=tvbridge_forex",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.body["s"], "ok", "{}", r.body);
    let symbols: Vec<&str> = r.body["symbol"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    assert!(
        symbols.contains(&"EURUSD") && symbols.contains(&"USDJPY"),
        "{symbols:?}"
    );
    let mapping = app.send(Method::GET, "/mapping", None, None).await;
    let text = mapping.body.to_string();
    assert!(text.contains("OANDA:EURUSD"), "{text}");
}

#[tokio::test]
async fn configured_instruments_are_mapped_without_any_login() {
    let extra = "[[backend.instruments]]\ninstrument = \"XAU_USD\"\nsymbol = \"GOLD\"\ntradingview = \"OANDA:XAUUSD\"\n";
    let (fake, app) = oanda::start(extra, "").await;
    let mapping = app.send(Method::GET, "/mapping", None, None).await;
    assert_eq!(mapping.status, 200);
    let text = mapping.body.to_string();
    assert!(
        text.contains("\"GOLD\"") && text.contains("OANDA:XAUUSD"),
        "{text}"
    );
    assert!(
        fake.requests().is_empty(),
        "no upstream call for configured mapping"
    );
    let token = oanda::login(&app, V20).await;
    let list = app
        .get(
            &token,
            &format!("/accounts/{V20}/instruments"),
            "InstrumentsResponse",
        )
        .await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, vec!["GOLD"], "only the configured instrument is offered");
}

#[tokio::test]
async fn history_is_paged_past_5000_candles_with_utc_alignment() {
    let options = support::fake_oanda::FakeOptions {
        now: Some(thursday()),
        ..oanda::fake_options()
    };
    let (fake, app) = oanda::start_with(options, "", "").await;
    let token = oanda::login(&app, V20).await;
    // Monday 00:00 to Thursday 12:00 UTC: 5041 minute bars, two upstream pages.
    let from = 1_767_571_200;
    let to = from + 84 * 3600;
    let body = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=1&from={from}&to={to}"),
    )
    .await;
    let t = times(&body);
    assert_eq!(t.len(), 5041);
    assert!(t.windows(2).all(|w| w[1] - w[0] == 60), "consecutive minutes");
    assert_eq!((t[0], *t.last().unwrap()), (from, to));
    let pages: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v3/instruments/EUR_USD/candles" && r.query.contains("granularity=M1"))
        .collect();
    assert_eq!(pages.len(), 2, "{pages:?}");
    for p in &pages {
        for needle in [
            "price=B",
            "dailyAlignment=0",
            "alignmentTimezone=UTC",
            "weeklyAlignment=Monday",
        ] {
            assert!(p.query.contains(needle), "{needle} in {}", p.query);
        }
    }
    // The same minutes in two halves are the same bars.
    let mid = from + 2000 * 60;
    let a = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=1&from={from}&to={}", mid - 60),
    )
    .await;
    let b = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=1&from={mid}&to={to}"),
    )
    .await;
    let joined: Vec<Value> = a["c"]
        .as_array()
        .unwrap()
        .iter()
        .chain(b["c"].as_array().unwrap())
        .cloned()
        .collect();
    assert_eq!(&joined, body["c"].as_array().unwrap());
}

#[tokio::test]
async fn coarser_resolutions_are_aligned_like_tradingview_bars() {
    let fake = support::fake_oanda::FakeOanda::start(support::fake_oanda::FakeOptions {
        now: Some(thursday()),
        ..oanda::fake_options()
    })
    .await;
    // The bridge shares the fake's clock, so a `to` in the fake's current week is recent to both.
    let config = oanda::config(&fake, "", "");
    let app = TestApp::with_broker(config.clone(), oanda::broker_on(&config, &fake));
    let token = oanda::login(&app, V20).await;
    let to = thursday().timestamp() - 3600;
    let from = to - 3 * 86_400;
    for (resolution, len) in [("3", 180), ("240", 14_400), ("45", 2_700)] {
        let body = history(
            &app,
            &token,
            &format!("symbol=EURUSD&resolution={resolution}&from={from}&to={to}"),
        )
        .await;
        let t = times(&body);
        assert!(!t.is_empty(), "{resolution}");
        assert!(t.iter().all(|t| t % len == 0), "{resolution}: {t:?}");
        let (h, l) = (body["h"].as_array().unwrap(), body["l"].as_array().unwrap());
        assert!(h.iter().zip(l).all(|(h, l)| h.as_f64() >= l.as_f64()));
    }
    let days = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=D&from={}&to={to}", to - 20 * 86_400),
    )
    .await;
    assert!(
        times(&days).iter().all(|t| t % 86_400 == 0),
        "days start at 00:00 UTC"
    );
    let weeks = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=W&from={}&to={to}", to - 70 * 86_400),
    )
    .await;
    let w = times(&weeks);
    assert!(
        !w.is_empty() && w.iter().all(|t| (t - 345_600) % 604_800 == 0),
        "weeks start on Monday: {w:?}"
    );
}

#[tokio::test]
async fn legacy_accounts_chart_from_v1_candles() {
    let options = support::fake_oanda::FakeOptions {
        now: Some(thursday()),
        ..oanda::fake_options()
    };
    let extra = format!("data_account = \"{V1}\"\n");
    let (fake, app) = oanda::start_with(options, &extra, "").await;
    let token = oanda::login(&app, V1).await;
    let to = thursday().timestamp() - 3600;
    let body = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=60&from={}&to={to}", to - 86_400),
    )
    .await;
    let t = times(&body);
    assert_eq!(t.len(), 25);
    assert!(t.iter().all(|t| t % 3600 == 0));
    let v1 = fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/candles")
        .count();
    assert!(v1 >= 1, "served by /v1/candles");
}

#[tokio::test]
async fn the_pricing_stream_feeds_both_streams_and_is_reopened_after_a_drop() {
    let (fake, app, broker) = oanda::start_live("", "").await;
    let auth = app
        .form(
            "POST",
            "/authorize",
            None,
            &format!("login={V20}&password={TOKEN}&locale=en"),
        )
        .await;
    let token = auth["d"]["access_token"].as_str().expect("token").to_owned();
    let mut quotes = app
        .open(&format!("/stream/quotes?accountId={V20}&symbols=EURUSD"), &token)
        .await;
    let mut feed = app.open("/streaming", &token).await;
    let wait = Duration::from_secs(5);
    let has_bid = |v: &Value, bid: &str| v.to_string().contains(bid);
    // Wait for the upstream stream, then move the market.
    let deadline = tokio::time::Instant::now() + wait;
    while broker.stream_connections().0 == 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    fake.set_price("EUR_USD", d("1.23450"), d("1.23460"));
    assert!(
        quotes
            .next_matching(wait, |v| has_bid(v, "1.2345"))
            .await
            .is_some(),
        "stream/quotes"
    );
    assert!(
        feed.next_matching(wait, |v| has_bid(v, "1.2345")).await.is_some(),
        "streaming"
    );
    let opened = broker.stream_connections().0;
    // The stream dies: the bridge reopens it and prices flow again.
    fake.drop_streams();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while broker.stream_connections().0 == opened && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(broker.stream_connections().0 > opened, "reopened");
    tokio::time::sleep(Duration::from_millis(200)).await;
    fake.set_price("EUR_USD", d("1.24560"), d("1.24570"));
    assert!(
        quotes
            .next_matching(wait, |v| has_bid(v, "1.2456"))
            .await
            .is_some(),
        "after reconnect"
    );
    assert!(
        feed.next_matching(wait, |v| has_bid(v, "1.2456")).await.is_some(),
        "streaming after reconnect"
    );
    let streams = fake
        .requests()
        .into_iter()
        .filter(|r| r.stream && r.path.ends_with("/pricing/stream"))
        .count();
    assert!(streams >= 2, "both on the stream host");
}

#[tokio::test]
async fn placing_orders_reuses_the_instrument_rows_instead_of_asking_prices_again() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20).await;
    app.get(
        &token,
        &format!("/accounts/{V20}/instruments"),
        "InstrumentsResponse",
    )
    .await;
    fake.clear_requests();
    for price in ["1.00000", "1.00100"] {
        app.place(
            &token,
            V20,
            &format!("instrument=EURUSD&qty=100&side=buy&type=limit&limitPrice={price}"),
        )
        .await;
    }
    let pricing = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/pricing"))
        .count();
    assert_eq!(pricing, 0, "the order path asks OANDA for no prices");
    assert_eq!(fake.orders(V20).len(), 2);
}
