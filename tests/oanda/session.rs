//! OANDA sessions through the bridge: pass-through and mapped logins, account flags per API version and
//! hedging mode, a revoked token giving TradingView a 401, client-side pacing under a burst of polls, and the
//! transaction stream pushing changes into the account streams (and being reopened after a drop).

use crate::support;

use axum::http::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;
use support::oanda::{self, TOKEN, V1, V20, V20_HEDGE};

async fn refused_login(app: &support::TestApp, login: &str, password: &str) -> String {
    let r = app
        .send(
            Method::POST,
            "/authorize",
            None,
            Some(&format!("login={login}&password={password}&locale=en")),
        )
        .await;
    assert_eq!(r.body["s"], "error", "{}", r.body);
    r.body["errmsg"].as_str().unwrap_or_default().to_string()
}

fn account<'a>(accounts: &'a Value, id: &str) -> &'a Value {
    accounts
        .as_array()
        .and_then(|a| a.iter().find(|x| x["id"] == id))
        .unwrap_or_else(|| panic!("{id} in {accounts}"))
}

#[tokio::test]
async fn pass_through_login_takes_the_account_id_and_the_token() {
    let (fake, app) = oanda::start("", "").await;
    assert!(refused_login(&app, V20, "not-a-token")
        .await
        .contains("Invalid login or password"));
    assert!(!refused_login(&app, "", TOKEN).await.is_empty());
    assert!(refused_login(&app, "101-004-9999999-001", TOKEN)
        .await
        .contains("101-004-9999999-001"));
    let token = oanda::login(&app, V20).await;
    let accounts = app.get(&token, "/accounts?locale=en", "AccountsResponse").await;
    assert_eq!(
        accounts.as_array().unwrap().len(),
        1,
        "the session trades the account it logged in with"
    );
    let config = &account(&accounts, V20)["config"];
    assert_eq!(
        config["supportPositionNetting"], true,
        "trades are individual positions"
    );
    assert_eq!(
        config["supportReversePosition"], true,
        "FIFO account: an opposite order reverses"
    );
    assert_eq!(config["supportStopLimitOrders"], true);
    let bearer = format!("Bearer {TOKEN}");
    assert!(fake.requests().iter().all(|r| r
        .authorization
        .as_deref()
        .is_some_and(|a| a.starts_with("Bearer "))));
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.authorization.as_deref() == Some(bearer.as_str())));
    // A hedging account reverses nothing with an opposite order.
    let token = oanda::login(&app, V20_HEDGE).await;
    let accounts = app.get(&token, "/accounts?locale=en", "AccountsResponse").await;
    assert_eq!(
        account(&accounts, V20_HEDGE)["config"]["supportReversePosition"],
        false
    );
    // A legacy account is served by v1: no stop-limit orders, no partial close.
    let token = oanda::login(&app, V1).await;
    let accounts = app.get(&token, "/accounts?locale=en", "AccountsResponse").await;
    let config = &account(&accounts, V1)["config"];
    assert_eq!(config["supportStopLimitOrders"], false);
    assert_eq!(config["supportPartialCloseIndividualPosition"], false);
    assert!(fake.requests().iter().any(|r| r.path == "/v1/accounts"));
}

#[tokio::test]
async fn mapped_users_log_in_with_their_bridge_password() {
    std::env::set_var("TVB_TEST_OANDA_ALICE", TOKEN);
    let backend = format!(
        "login = \"mapped\"\n[[backend.users]]\nlogin = \"alice\"\ntoken_env = \"TVB_TEST_OANDA_ALICE\"\naccounts = [\"{V20}\", \"{V20_HEDGE}\"]\n"
    );
    let users = "[[auth.users]]\nlogin = \"alice\"\npassword = \"alice-bridge-password\"\n";
    let (fake, app) = oanda::start(&backend, users).await;
    assert_eq!(refused_login(&app, V20, TOKEN).await, "Invalid login or password");
    assert!(
        fake.requests().is_empty(),
        "an unknown bridge user never reaches OANDA"
    );
    let token = app.login_as("alice", "alice-bridge-password").await;
    let accounts = app.get(&token, "/accounts?locale=en", "AccountsResponse").await;
    let ids: Vec<&str> = accounts
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(ids, [V20, V20_HEDGE]);
}

#[tokio::test]
async fn a_revoked_token_sends_tradingview_to_the_login() {
    let (fake, app) = oanda::start("", "").await;
    let token = oanda::login(&app, V20).await;
    app.state(&token, V20).await;
    fake.revoke_token(TOKEN);
    // Past the 300 ms a refresh's snapshot is shared for.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let r = app
        .send(
            Method::GET,
            &format!("/accounts/{V20}/state?locale=en"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
}

#[tokio::test]
async fn a_burst_of_polls_stays_under_the_configured_rate() {
    let options = support::fake_oanda::FakeOptions {
        requests_per_second: 20,
        ..oanda::fake_options()
    };
    let (fake, app) =
        oanda::start_with(options, "requests_per_second = 15\n", "[hub]\nfreshness_ms = 0\n").await;
    let token = oanda::login(&app, V20).await;
    fake.clear_requests();
    let mut tasks = Vec::new();
    for i in 0..60 {
        let (router, token) = (app.router.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let path = match i % 3 {
                0 => format!("/accounts/{V20}/orders?locale=en"),
                1 => format!("/accounts/{V20}/state?locale=en"),
                _ => format!("/quotes?accountId={V20}&symbols=EURUSD&locale=en"),
            };
            support::capital::get_json(router, &token, &path).await
        }));
    }
    for t in tasks {
        let body = t.await.unwrap();
        assert_eq!(body["s"], "ok", "{body}");
    }
    assert!(
        fake.requests().iter().all(|r| r.status != 429),
        "the fake throttled the bridge"
    );
}

#[tokio::test]
async fn transactions_push_changes_into_the_account_streams() {
    // Polling is slowed to a minute: only the transaction stream can bring the change in time.
    let (fake, app, broker) =
        oanda::start_live("", "[hub]\nfreshness_ms = 0\npoll_interval_ms = 60000\n").await;
    let auth = app
        .form(
            "POST",
            "/authorize",
            None,
            &format!("login={V20}&password={TOKEN}&locale=en"),
        )
        .await;
    let token = auth["d"]["access_token"].as_str().expect("token").to_owned();
    let mut orders = app.open(&format!("/accounts/{V20}/stream/orders"), &token).await;
    let wait = Duration::from_secs(5);
    assert!(orders.next(wait).await.is_some(), "the snapshot");
    let deadline = tokio::time::Instant::now() + wait;
    while broker.stream_connections().1 == 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Another OANDA client places an order on the account.
    let place = |units: &str| {
        let url = format!("{}/v3/accounts/{V20}/orders", fake.rest_url);
        let body = serde_json::json!({"order": {"type": "LIMIT", "instrument": "EUR_USD", "units": units, "price": "1.00000", "timeInForce": "GTC"}});
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .bearer_auth(TOKEN)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
        }
    };
    place("100").await;
    assert!(
        orders
            .next_matching(wait, |v| v.to_string().contains("\"qty\":100"))
            .await
            .is_some(),
        "pushed by the transaction stream"
    );
    // The stream drops: it is reopened, and changes flow again.
    let opened = broker.stream_connections().1;
    fake.drop_streams();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while broker.stream_connections().1 == opened && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(broker.stream_connections().1 > opened, "reopened");
    place("200").await;
    assert!(
        orders
            .next_matching(wait, |v| v.to_string().contains("\"qty\":200"))
            .await
            .is_some(),
        "pushed after the reconnection"
    );
}

fn mapped_alice(token_env: &str) -> (String, &'static str) {
    let backend = format!(
        "login = \"mapped\"\n[[backend.users]]\nlogin = \"alice\"\ntoken_env = \"{token_env}\"\naccounts = [\"{V20}\"]\n"
    );
    (
        backend,
        "[[auth.users]]\nlogin = \"alice\"\npassword = \"alice-bridge-password\"\n",
    )
}

#[tokio::test]
async fn a_mapped_token_refused_at_login_blames_the_configuration_not_the_user() {
    let logs = support::log_capture::LogCapture::start("tvbridge");
    std::env::set_var("TVB_TEST_OANDA_BAD", "not-the-operators-token");
    let (backend, users) = mapped_alice("TVB_TEST_OANDA_BAD");
    let (_fake, app) = oanda::start(&backend, users).await;
    let errmsg = refused_login(&app, "alice", "alice-bridge-password").await;
    assert!(!errmsg.contains("Invalid login or password"), "{errmsg}");
    assert!(
        errmsg.contains("OANDA refused") && errmsg.contains("bridge operator"),
        "{errmsg}"
    );
    let lines = logs.lines_with("TVB_TEST_OANDA_BAD");
    assert_eq!(lines.len(), 1, "{}", logs.text());
    assert!(lines[0].contains("alice"), "{}", lines[0]);
    assert!(
        !logs.text().contains("not-the-operators-token"),
        "{}",
        logs.text()
    );
    // Pass-through keeps the password reading (and now logs the refusal too).
    let (_fake, app) = oanda::start("", "").await;
    assert!(refused_login(&app, V20, "not-a-token")
        .await
        .contains("Invalid login or password"));
    assert!(!logs
        .lines_with("OANDA refused the access token at login")
        .is_empty());
}

#[tokio::test]
async fn a_mapped_token_revoked_later_gives_an_error_not_a_login_loop() {
    let logs = support::log_capture::LogCapture::start("tvbridge");
    std::env::set_var("TVB_TEST_OANDA_LATER", TOKEN);
    let (backend, users) = mapped_alice("TVB_TEST_OANDA_LATER");
    let (fake, app) = oanda::start(&backend, users).await;
    let token = app.login_as("alice", "alice-bridge-password").await;
    app.state(&token, V20).await;
    fake.revoke_token(TOKEN);
    // Past the 300 ms a refresh's snapshot is shared for.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let path = format!("/accounts/{V20}/state?locale=en");
    let errmsg = app.refused(Method::GET, &token, &path, None).await;
    assert!(
        errmsg.contains("OANDA refused") && errmsg.contains("bridge operator"),
        "{errmsg}"
    );
    let lines = logs.lines_with("TVB_TEST_OANDA_LATER");
    assert_eq!(lines.len(), 1, "{}", logs.text());
    assert!(lines[0].contains("alice"), "{}", lines[0]);
    assert!(!logs.text().contains(TOKEN), "{}", logs.text());
    // Polling on: answered at once without OANDA, and no second warning.
    fake.clear_requests();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(app.refused(Method::GET, &token, &path, None).await, errmsg);
    let rest_calls = fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/v3/accounts/") && !r.path.ends_with("/stream"))
        .count();
    assert_eq!(rest_calls, 0, "{:?}", fake.requests());
    assert_eq!(logs.lines_with("TVB_TEST_OANDA_LATER").len(), 1);
}
