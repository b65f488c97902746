//! OANDA v1 (legacy accounts, all-digit ids) through the bridge against the fake: instruments and quotes,
//! market orders with brackets, pending orders with an expiry, modify and cancel, refusals with OANDA's
//! message, trades and net positions with bracket changes and closes, executions and order history, an
//! order whose answer never came ending as exactly one order, and the v1 price stream feeding `/streaming`.

use crate::support;

use axum::http::Method;
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;
use std::time::Duration;
use support::fake_oanda::{FakeOanda, Fault};
use support::oanda::{self, TOKEN, V1};
use support::{dec, TestApp};
use tvbridge::config::BackendConfig;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

async fn list(app: &TestApp, token: &str, what: &str, def: &str) -> Vec<Value> {
    app.get(token, &format!("/accounts/{V1}/{what}?locale=en"), def)
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn trades(app: &TestApp, token: &str) -> Vec<Value> {
    list(app, token, "individualPositions", "IndividualPositionsResponse").await
}

/// Waits past the 300 ms the venue shares one read of the account for.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(350)).await;
}

#[tokio::test]
async fn instruments_and_quotes_of_a_legacy_account() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V1).await;
    let rows = app
        .get(
            &token,
            &format!("/accounts/{V1}/instruments"),
            "InstrumentsResponse",
        )
        .await;
    let eur = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "EURUSD")
        .expect("EURUSD");
    assert_eq!(
        (dec(&eur["pipSize"]), dec(&eur["qtyStep"])),
        (d("0.0001"), d("1"))
    );
    fake.set_price("EUR_USD", d("1.10000"), d("1.10015"));
    let q = app
        .get(
            &token,
            &format!("/quotes?accountId={V1}&symbols=EURUSD"),
            "QuotesResponse",
        )
        .await;
    assert_eq!(dec(&q[0]["v"]["ask"]), d("1.10015"));
    let v1_calls = fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/v1/"))
        .count();
    let v3_calls = fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/v3/accounts/7654321"))
        .count();
    assert!(
        v1_calls > 0 && v3_calls == 0,
        "a legacy account is only ever asked through v1"
    );
}

#[tokio::test]
async fn market_orders_open_trades_with_brackets_that_can_be_changed_and_closed() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V1).await;
    fake.set_price("EUR_USD", d("1.10000"), d("1.10010"));
    let id = app
        .place(
            &token,
            V1,
            "instrument=EURUSD&qty=1000&side=buy&type=market&stopLoss=1.09000&takeProfit=1.12000",
        )
        .await;
    let order = app.order(&token, V1, &id).await;
    assert_eq!(order["status"], "filled", "{order}");
    let form = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/orders"))
        .unwrap();
    for needle in [
        "instrument=EUR_USD",
        "units=1000",
        "side=buy",
        "type=market",
        "stopLoss=1.09",
        "takeProfit=1.12",
    ] {
        assert!(form.body.contains(needle), "{needle} in {}", form.body);
    }
    let open = trades(&app, &token).await;
    assert_eq!(open.len(), 1);
    let trade_id = open[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        (dec(&open[0]["qty"]), open[0]["side"].as_str()),
        (d("1000"), Some("buy"))
    );
    let brackets: Vec<Value> = app
        .orders(&token, V1)
        .await
        .into_iter()
        .filter(|o| o["parentId"] == trade_id.as_str())
        .collect();
    assert_eq!(brackets.len(), 2, "stop loss and take profit of the trade");
    // Move the stop, drop the take profit.
    app.put(
        &token,
        &format!("/accounts/{V1}/individualPositions/{trade_id}"),
        "stopLoss=1.09500",
    )
    .await;
    let fake_trade = fake.trades(V1).into_iter().next().unwrap();
    assert_eq!(
        (fake_trade.stop_loss, fake_trade.take_profit),
        (Some(d("1.095")), None)
    );
    // The net position, then closing the trade.
    settle().await;
    let net = list(&app, &token, "netPositions", "NetPositionsResponse").await;
    assert_eq!(
        (net[0]["id"].as_str(), dec(&net[0]["qty"])),
        (Some("EURUSD"), d("1000"))
    );
    app.delete(
        &token,
        &format!("/accounts/{V1}/individualPositions/{trade_id}"),
        None,
    )
    .await;
    assert!(fake.trades(V1).is_empty());
    settle().await;
    let executions = list(&app, &token, "executions", "ExecutionsResponse").await;
    assert!(
        executions.len() >= 2,
        "the opening and the closing fill: {executions:?}"
    );
    assert!(executions.iter().any(|e| e["isClose"] == true));
}

#[tokio::test]
async fn pending_orders_expire_modify_and_cancel_and_stop_limits_are_refused() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V1).await;
    fake.set_price("EUR_USD", d("1.10000"), d("1.10010"));
    let expiry = chrono::Utc::now().timestamp() + 86_400;
    let id = app
        .place(
            &token,
            V1,
            &format!("instrument=EURUSD&qty=500&side=buy&type=limit&limitPrice=1.05000&durationType=GTD&durationDateTime={expiry}"),
        )
        .await;
    let order = app.order(&token, V1, &id).await;
    assert_eq!(
        (order["status"].as_str(), dec(&order["limitPrice"])),
        (Some("working"), d("1.05"))
    );
    app.put(
        &token,
        &format!("/accounts/{V1}/orders/{id}"),
        "qty=700&limitPrice=1.06000",
    )
    .await;
    settle().await;
    let order = app.order(&token, V1, &id).await;
    assert_eq!(
        (dec(&order["qty"]), dec(&order["limitPrice"])),
        (d("700"), d("1.06")),
        "v1 keeps the id"
    );
    app.delete(&token, &format!("/accounts/{V1}/orders/{id}"), None)
        .await;
    settle().await;
    assert_eq!(app.order(&token, V1, &id).await["status"], "cancelled");
    let refused = app
        .refused(
            Method::POST,
            &token,
            &format!("/accounts/{V1}/orders?locale=en"),
            Some("instrument=EURUSD&qty=500&side=buy&type=stoplimit&stopPrice=1.2&limitPrice=1.21"),
        )
        .await;
    assert!(!refused.is_empty(), "stop-limit orders are not offered on v1");
}

#[tokio::test]
async fn refusals_carry_oandas_message_and_place_nothing() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V1).await;
    let refused = app
        .refused(
            Method::POST,
            &token,
            &format!("/accounts/{V1}/orders?locale=en"),
            Some("instrument=EURUSD&qty=90000000&side=buy&type=market"),
        )
        .await;
    assert!(refused.to_lowercase().contains("margin"), "{refused}");
    assert!(fake.trades(V1).is_empty());
}

#[tokio::test]
async fn an_order_whose_answer_never_came_is_found_not_resent() {
    let fake = FakeOanda::start(oanda::fake_options()).await;
    let mut config = oanda::config(&fake, "", "");
    let BackendConfig::Oanda(backend) = &mut config.backend else {
        panic!("an OANDA configuration");
    };
    backend.request_timeout_ms = 500;
    let app = TestApp::with_broker(config.clone(), oanda::broker(&config));
    let token = oanda::login(&app, V1).await;
    fake.inject(Fault::TimeoutAfterAccept {
        method: "POST".into(),
        path: format!("/v1/accounts/{V1}/orders"),
    });
    let id = app
        .place(&token, V1, "instrument=EURUSD&qty=300&side=sell&type=market")
        .await;
    let posts = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/orders"))
        .count();
    assert_eq!(posts, 1, "never resent");
    let open = fake.trades(V1);
    assert_eq!(open.len(), 1, "exactly one trade");
    assert_eq!(open[0].units, d("-300"));
    assert_eq!(app.order(&token, V1, &id).await["status"], "filled");
}

#[tokio::test]
async fn the_v1_price_stream_feeds_the_data_feed() {
    let (fake, app, broker) = oanda::start_live(&format!("data_account = \"{V1}\"\n"), "").await;
    let auth = app
        .form(
            "POST",
            "/authorize",
            None,
            &format!("login={V1}&password={TOKEN}&locale=en"),
        )
        .await;
    let token = auth["d"]["access_token"].as_str().expect("token").to_owned();
    let mut feed = app.open("/streaming", &token).await;
    let wait = Duration::from_secs(5);
    let deadline = tokio::time::Instant::now() + wait;
    while broker.stream_connections().0 == 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    fake.set_price("EUR_USD", d("1.31513"), d("1.31528"));
    assert!(feed
        .next_matching(wait, |v| v.to_string().contains("1.31513"))
        .await
        .is_some());
    assert!(fake.requests().iter().any(|r| r.stream && r.path == "/v1/prices"));
}

#[tokio::test]
async fn v1_events_push_changes_into_the_account_streams() {
    // Polling is slowed to a minute: only the v1 event stream can bring the change in time.
    let (fake, app, broker) =
        oanda::start_live("", "[hub]\nfreshness_ms = 0\npoll_interval_ms = 60000\n").await;
    let auth = app
        .form(
            "POST",
            "/authorize",
            None,
            &format!("login={V1}&password={TOKEN}&locale=en"),
        )
        .await;
    let token = auth["d"]["access_token"].as_str().expect("token").to_owned();
    let mut orders = app.open(&format!("/accounts/{V1}/stream/orders"), &token).await;
    let wait = Duration::from_secs(5);
    assert!(orders.next(wait).await.is_some(), "the snapshot");
    let deadline = tokio::time::Instant::now() + wait;
    while broker.stream_connections().1 == 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Another client places a pending order on the account.
    let expiry = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let r = reqwest::Client::new()
        .post(format!("{}/v1/accounts/{V1}/orders", fake.rest_url))
        .bearer_auth(TOKEN)
        .form(&[
            ("instrument", "EUR_USD"),
            ("units", "4321"),
            ("side", "buy"),
            ("type", "limit"),
            ("price", "1.00000"),
            ("expiry", expiry.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    assert!(
        orders
            .next_matching(wait, |v| v.to_string().contains("\"qty\":4321"))
            .await
            .is_some(),
        "pushed by /v1/events"
    );
    assert!(fake.requests().iter().any(|r| r.stream && r.path == "/v1/events"));
}

/// The `/config` durations of a token.
async fn config_durations(app: &TestApp, token: &str) -> Vec<(String, Vec<String>)> {
    let config = app.get(token, "/config?locale=en", "ConfigResponse").await;
    config["durations"]
        .as_array()
        .expect("durations")
        .iter()
        .map(|d| {
            let types = d["supportedOrderTypes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string())
                .collect();
            (d["id"].as_str().unwrap().to_string(), types)
        })
        .collect()
}

#[tokio::test]
async fn durations_and_order_types_follow_each_accounts_api_version() {
    use support::oanda::V20;
    std::env::set_var("TVB_TEST_OANDA_MIXED", TOKEN);
    let backend = format!(
        "login = \"mapped\"\n[[backend.users]]\nlogin = \"mixed\"\ntoken_env = \"TVB_TEST_OANDA_MIXED\"\naccounts = [\"{V1}\", \"{V20}\"]\n\
         [[backend.users]]\nlogin = \"legacy\"\ntoken_env = \"TVB_TEST_OANDA_MIXED\"\naccounts = [\"{V1}\"]\n"
    );
    let users = "[[auth.users]]\nlogin = \"mixed\"\npassword = \"mixed-pass\"\n\
                 [[auth.users]]\nlogin = \"legacy\"\npassword = \"legacy-pass\"\n";
    let (fake, app) = oanda::start(&backend, users).await;
    fake.set_price("EUR_USD", d("1.10000"), d("1.10010"));

    // A v1 account alone is offered only what v1 can do.
    let token = app.login_as("legacy", "legacy-pass").await;
    let offered = config_durations(&app, &token).await;
    let ids: Vec<&str> = offered.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["GTC", "GTD", "FOK"], "no GFD or IOC on v1: {offered:?}");
    assert!(
        offered
            .iter()
            .all(|(_, types)| !types.iter().any(|t| t == "stoplimit")),
        "{offered:?}"
    );
    let accounts = app.get(&token, "/accounts?locale=en", "AccountsResponse").await;
    assert_eq!(accounts[0]["config"]["supportStopLimitOrders"], false);

    // One login holding a v1 and a v20 account: /config offers the union, placement checks each account.
    let token = app.login_as("mixed", "mixed-pass").await;
    let offered = config_durations(&app, &token).await;
    let ids: Vec<&str> = offered.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["GTC", "GTD", "FOK", "GFD", "IOC"], "{offered:?}");
    let gtc = &offered[0].1;
    assert!(
        gtc.iter().any(|t| t == "stoplimit"),
        "stop-limit from the v20 account: {gtc:?}"
    );
    let before = fake.orders(V1).len();
    let place = |account: &str| format!("/accounts/{account}/orders?locale=en");
    let ioc = app
        .refused(
            Method::POST,
            &token,
            &place(V1),
            Some("instrument=EURUSD&qty=100&side=buy&type=market&durationType=IOC"),
        )
        .await;
    assert!(ioc.contains("'IOC'") && ioc.contains("FOK"), "{ioc}");
    let gfd = app
        .refused(
            Method::POST,
            &token,
            &place(V1),
            Some("instrument=EURUSD&qty=100&side=buy&type=limit&limitPrice=1.05&durationType=GFD"),
        )
        .await;
    assert!(gfd.contains("'GFD'"), "{gfd}");
    let stop_limit = app
        .refused(
            Method::POST,
            &token,
            &place(V1),
            Some("instrument=EURUSD&qty=100&side=buy&type=stoplimit&stopPrice=1.2&limitPrice=1.21"),
        )
        .await;
    assert!(
        stop_limit.contains("stoplimit orders are not supported"),
        "{stop_limit}"
    );
    assert_eq!(fake.orders(V1).len(), before, "nothing refused reached OANDA");
    assert!(fake.trades(V1).is_empty());
    // The same durations are accepted on the v20 account.
    app.place(
        &token,
        V20,
        "instrument=EURUSD&qty=100&side=buy&type=market&durationType=IOC",
    )
    .await;
    app.place(
        &token,
        V20,
        "instrument=EURUSD&qty=100&side=buy&type=limit&limitPrice=1.05&durationType=GFD",
    )
    .await;
    assert_eq!(fake.trades(V20).len(), 1);
    // FOK (the v1 market duration) still goes through on v1.
    app.place(
        &token,
        V1,
        "instrument=EURUSD&qty=100&side=buy&type=market&durationType=FOK",
    )
    .await;
    assert_eq!(fake.trades(V1).len(), 1);
}
