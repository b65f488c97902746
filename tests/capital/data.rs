//! Capital.com market data through the bridge: history paged past the 1000-bar limit and aggregated to
//! TradingView resolutions, data-feed symbols, and WebSocket quotes on `/streaming` and `/stream/quotes`
//! surviving a dropped socket.

use crate::support;

use axum::http::Method;
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;
use std::time::Duration;
use support::capital::{self, LOGIN, PASSWORD};
use support::schema::assert_schema;
use support::TestApp;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
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
async fn history_is_paged_past_the_upstream_limit_and_aligned() {
    let (fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    let now = chrono::Utc::now().timestamp();
    let to = now - now.rem_euclid(60) - 3600;
    let from = to - 3 * 86_400;
    // Three days of minute bars: 4321 bars, five upstream pages.
    let body = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=1&from={from}&to={to}"),
    )
    .await;
    let t = times(&body);
    assert_eq!(t.len(), 4321);
    assert!(
        t.windows(2).all(|w| w[1] - w[0] == 60),
        "consecutive minutes, no gaps or repeats"
    );
    assert_eq!((t[0], *t.last().unwrap()), (from, to));
    let pages = fake
        .requests()
        .iter()
        .filter(|r| r.path == "/prices/EURUSD" && r.query.contains("resolution=MINUTE&"))
        .count();
    assert_eq!(pages, 5);
    // The same minutes asked in two halves give the same bars.
    let mid = from + 1500 * 60;
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
    assert_eq!(joined, *body["c"].as_array().unwrap());

    // Two-minute bars are built from minute bars, aligned to even minutes.
    let two = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=2&from={from}&to={to}"),
    )
    .await;
    let t2 = times(&two);
    assert!(t2.iter().all(|t| t % 120 == 0));
    let first_two = two["h"][0].as_f64().unwrap();
    let i = t.iter().position(|x| *x == t2[0]).unwrap();
    let expect = body["h"][i]
        .as_f64()
        .unwrap()
        .max(body["h"][i + 1].as_f64().unwrap());
    assert_eq!(first_two, expect);

    // Weekly bars start on Mondays.
    let weeks = history(
        &app,
        &token,
        &format!("symbol=EURUSD&resolution=1W&from={}&to={to}", to - 60 * 86_400),
    )
    .await;
    let tw = times(&weeks);
    assert!(!tw.is_empty());
    // 1970-01-05 was a Monday.
    assert!(
        tw.iter().all(|t| (t - 4 * 86_400).rem_euclid(7 * 86_400) == 0),
        "{tw:?}"
    );
}

#[tokio::test]
async fn data_feed_symbols_describe_the_offered_markets() {
    let (_fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    // Whatever the group layout, every offered symbol appears in some group of /groups.
    let groups = app.send(Method::GET, "/groups", Some(&token), None).await;
    assert_eq!(groups.body["s"], "ok", "{}", groups.body);
    let mut symbols = Vec::new();
    for g in groups.body["d"]["groups"].as_array().unwrap() {
        let info = app
            .send(
                Method::GET,
                &format!("/symbol_info?group={}", g["id"].as_str().unwrap()),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(info.body["s"], "ok", "{}", info.body);
        assert_schema("SymbolInfoResponse", &info.body);
        for s in info.body["symbol"].as_array().unwrap() {
            symbols.push(s.as_str().unwrap().to_owned());
        }
    }
    symbols.sort();
    assert_eq!(symbols, ["AAPL", "BTCUSD", "EURUSD", "GBPUSD", "GOLD", "US100"]);
}

#[tokio::test]
async fn websocket_quotes_reach_both_streams_and_survive_a_dropped_socket() {
    let (fake, app) = capital::start_live("", "").await;
    let auth = app
        .form(
            "POST",
            "/authorize",
            None,
            &format!("login={LOGIN}&password={PASSWORD}&locale=en"),
        )
        .await;
    let token = auth["d"]["access_token"].as_str().expect("token").to_owned();
    let mut quotes = app
        .open(
            &format!("/stream/quotes?accountId={}&symbols=EURUSD", capital::NET),
            &token,
        )
        .await;
    let mut feed = app.open("/streaming", &token).await;
    let wait = Duration::from_secs(5);
    // Wait until the upstream subscription is live, then move the market.
    let deadline = tokio::time::Instant::now() + wait;
    while !fake.ws_subscriptions().contains(&"EURUSD".to_string()) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    fake.set_price("EURUSD", d("1.23450"), d("1.23460"));
    let has_bid = |v: &Value, bid: f64| v.to_string().contains(&bid.to_string());
    assert!(
        quotes.next_matching(wait, |v| has_bid(v, 1.2345)).await.is_some(),
        "stream/quotes"
    );
    assert!(
        feed.next_matching(wait, |v| has_bid(v, 1.2345)).await.is_some(),
        "streaming"
    );
    assert_eq!(fake.ws_connections(), 1, "one socket serves every listener");

    // Tabs on both accounts switch the user's session back and forth; the quotes come from a session of
    // their own, so the socket stays up.
    for account in [capital::HEDGE, capital::NET, capital::HEDGE] {
        let (status, _) = app
            .get(&format!("/accounts/{account}/orders?locale=en"), Some(&token))
            .await;
        assert_eq!(status, 200);
    }
    fake.set_price("EURUSD", d("1.23500"), d("1.23510"));
    assert!(
        quotes.next_matching(wait, |v| has_bid(v, 1.235)).await.is_some(),
        "after switches"
    );
    assert_eq!(fake.ws_connections(), 1);
    let upgrades = fake.requests().iter().filter(|r| r.path == "/connect").count();
    assert_eq!(upgrades, 1, "no reconnect was needed");

    // The socket dies: the bridge reconnects, resubscribes, and quotes flow again.
    fake.drop_websockets();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !(fake.ws_connections() == 1 && fake.ws_subscriptions().contains(&"EURUSD".to_string()))
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    fake.set_price("EURUSD", d("1.24560"), d("1.24570"));
    assert!(
        quotes.next_matching(wait, |v| has_bid(v, 1.2456)).await.is_some(),
        "after reconnect"
    );
}

#[tokio::test]
async fn the_market_data_session_ends_with_the_login_that_lent_it() {
    let (fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    let now = chrono::Utc::now().timestamp();
    history(
        &app,
        &token,
        &format!("symbol=GOLD&resolution=60&from={}&to={now}", now - 86_400),
    )
    .await;
    assert_eq!(
        fake.sessions_created(),
        2,
        "the user's session and the market-data session"
    );
    let r = app.send(Method::POST, "/logout", Some(&token), None).await;
    assert_eq!(r.body["s"], "ok");
    assert_eq!(
        capital::count(&fake.requests(), "DELETE", "/session"),
        2,
        "both sessions are logged out: no credentials outlive the user's login"
    );
}
