//! Capital.com sessions through the bridge: both login modes, account switching, expiry and recovery,
//! keep-alive, a 401 when the session cannot be re-established, pacing under a burst of polls, and an
//! accepted-but-timed-out deal ending as exactly one position.

use crate::support;

use axum::http::{Method, StatusCode};
use std::time::Duration;
use support::capital::{self, HEDGE, LOGIN, NET, PASSWORD};
use support::fake_capital::{FakeCapital, FakeOptions, Fault, LoggedRequest};

#[tokio::test]
async fn pass_through_login_uses_the_capital_credentials() {
    let (fake, app) = capital::start("", "").await;
    let wrong = app
        .send(
            Method::POST,
            "/authorize",
            None,
            Some(&format!("login={LOGIN}&password=nope&locale=en")),
        )
        .await;
    assert_eq!(wrong.body["s"], "error", "{}", wrong.body);
    assert_eq!(wrong.body["errmsg"], "Invalid login or password");
    let token = capital::login(&app).await;
    let accounts = app.get(&token, "/accounts?locale=en", "AccountsResponse").await;
    let ids: Vec<&str> = accounts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [NET, HEDGE], "the preferred account comes first");
    assert_eq!(fake.sessions_created(), 1);
    // Logging out of the bridge ends the Capital.com session too.
    let r = app.send(Method::POST, "/logout", Some(&token), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(capital::count(&fake.requests(), "DELETE", "/session"), 1);
}

#[tokio::test]
async fn mapped_users_log_in_with_their_bridge_password() {
    std::env::set_var("TVB_TEST_MAPPED_ID", LOGIN);
    std::env::set_var("TVB_TEST_MAPPED_PW", PASSWORD);
    let backend = r#"login = "mapped"
[[backend.users]]
login = "alice"
identifier_env = "TVB_TEST_MAPPED_ID"
password_env = "TVB_TEST_MAPPED_PW"
"#;
    let users = r#"[[auth.users]]
login = "alice"
password = "alice-bridge-password"
"#;
    let (fake, app) = capital::start(backend, users).await;
    let refused = app
        .send(
            Method::POST,
            "/authorize",
            None,
            Some(&format!("login={LOGIN}&password={PASSWORD}&locale=en")),
        )
        .await;
    assert_eq!(refused.body["errmsg"], "Invalid login or password");
    assert_eq!(
        fake.sessions_created(),
        0,
        "an unknown bridge user never reaches Capital.com"
    );
    let token = app.login_as("alice", "alice-bridge-password").await;
    let accounts = app.get(&token, "/accounts?locale=en", "AccountsResponse").await;
    assert_eq!(accounts.as_array().unwrap().len(), 2);
    assert_eq!(fake.sessions_created(), 1);
}

#[tokio::test]
async fn two_tabs_on_two_accounts_never_see_each_others_data() {
    let (fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    app.place(&token, HEDGE, "instrument=GOLD&qty=1&side=buy&type=market")
        .await;
    app.place(&token, NET, "instrument=EURUSD&qty=1000&side=sell&type=market")
        .await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (router_app, token) = (app.router.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let account = if i % 2 == 0 { NET } else { HEDGE };
            let path = if account == NET {
                format!("/accounts/{NET}/positions?locale=en")
            } else {
                format!("/accounts/{HEDGE}/individualPositions?locale=en")
            };
            (account, capital::get_json(router_app, &token, &path).await)
        }));
    }
    for t in tasks {
        let (account, body) = t.await.unwrap();
        let list = body["d"].as_array().unwrap_or_else(|| panic!("{body}"));
        let symbols: Vec<&str> = list.iter().map(|p| p["instrument"].as_str().unwrap()).collect();
        let expected = if account == NET { "EURUSD" } else { "GOLD" };
        assert_eq!(symbols, [expected], "{account}: {body}");
    }
    assert_eq!(fake.positions(NET).len(), 1);
    assert_eq!(fake.positions(HEDGE).len(), 1);
}

#[tokio::test]
async fn an_expired_session_is_re_established_once_then_the_user_must_log_in() {
    let (fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    app.positions(&token, NET).await;
    // Ten idle minutes: Capital.com forgets the session; the bridge logs in again transparently.
    fake.advance_clock(Duration::from_secs(11 * 60));
    assert!(app.positions(&token, NET).await.is_empty());
    assert_eq!(fake.sessions_created(), 2);
    // Now the re-login itself is refused: the user gets a 401 and must log in again.
    fake.expire_all_sessions();
    fake.inject(Fault::Status {
        method: Some("POST".into()),
        path_prefix: "/session".into(),
        status: 401,
        body: serde_json::json!({"errorCode": "error.invalid.details"}),
        times: 1,
    });
    let r = app
        .send(
            Method::GET,
            &format!("/accounts/{NET}/positions?locale=en"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
}

#[tokio::test]
async fn idle_sessions_are_kept_alive_with_ping() {
    let (fake, app) = capital::start("keepalive_secs = 1", "").await;
    let token = capital::login(&app).await;
    app.positions(&token, NET).await;
    tokio::time::sleep(Duration::from_millis(1800)).await;
    assert!(capital::count(&fake.requests(), "GET", "/ping") >= 1);
}

#[tokio::test]
async fn a_burst_of_polls_stays_under_ten_upstream_requests_per_second() {
    let (fake, app) = capital::start("", "[hub]\nfreshness_ms = 500\n").await;
    let token = capital::login(&app).await;
    fake.clear_requests();
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (router_app, token) = (app.router.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let path = match i % 4 {
                0 => format!("/accounts/{NET}/orders?locale=en"),
                1 => format!("/accounts/{NET}/positions?locale=en"),
                2 => format!("/accounts/{NET}/state?locale=en"),
                _ => format!("/accounts/{HEDGE}/individualPositions?locale=en"),
            };
            // Spread over about two seconds, like tabs polling.
            tokio::time::sleep(Duration::from_millis((i % 20) * 100)).await;
            capital::get_json(router_app, &token, &path).await
        }));
    }
    for t in tasks {
        let body = t.await.unwrap();
        assert_eq!(body["s"], "ok", "{body}");
    }
    let requests = fake.requests();
    assert!(
        requests.iter().all(|r| r.status != 429),
        "the fake throttled the bridge"
    );
    let worst = capital::max_per_second(&requests);
    assert!(worst <= 10, "{worst} upstream requests within one second");
    println!(
        "200 polls in {:?}: {} upstream requests, at most {worst} in any second",
        started.elapsed(),
        requests.len()
    );
}

#[tokio::test]
async fn a_position_accepted_but_timed_out_ends_as_exactly_one_position() {
    let (fake, app) = capital::start_with(FakeOptions::default(), "request_timeout_ms = 500", "").await;
    let token = capital::login(&app).await;
    fake.inject(Fault::AcceptThenHang {
        method: Some("POST".into()),
        path_prefix: "/positions".into(),
        delay: Duration::from_secs(5),
    });
    let form = "instrument=EURUSD&qty=1000&side=buy&type=market";
    let path = format!("/accounts/{NET}/orders?locale=en&requestId=tab-1-order-1");
    let first = app.post(&token, &path, form, "PostOrderResponse").await["orderId"].clone();
    assert_eq!(fake.positions(NET).len(), 1);
    // TradingView resends the same request: the same order, still one position.
    let again = app.post(&token, &path, form, "PostOrderResponse").await["orderId"].clone();
    assert_eq!(first, again);
    assert_eq!(fake.positions(NET).len(), 1);
    assert_eq!(capital::count(&fake.requests(), "POST", "/positions"), 1);
    let first = first.as_str().unwrap().to_owned();
    assert_eq!(app.order(&token, NET, &first).await["status"], "filled");
}

#[tokio::test]
async fn upstream_outages_are_reported_not_hidden() {
    let (fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    fake.inject(Fault::Status {
        method: Some("GET".into()),
        path_prefix: "/positions".into(),
        status: 503,
        body: serde_json::json!({"errorCode": "error.service.unavailable"}),
        times: 2,
    });
    let msg = app
        .refused(
            Method::GET,
            &token,
            &format!("/accounts/{NET}/positions?locale=en"),
            None,
        )
        .await;
    assert!(msg.contains("temporarily unavailable"), "{msg}");
    // The next poll works again.
    assert!(app.positions(&token, NET).await.is_empty());
}

#[tokio::test]
async fn an_ambiguous_reducing_deal_is_found_and_a_failed_one_is_never_resent() {
    let (fake, app) = capital::start("request_timeout_ms = 500", "").await;
    let token = capital::login(&app).await;
    app.place(&token, NET, "instrument=GOLD&qty=3&side=buy&type=market")
        .await;
    // The reducing sell is made upstream but its answer never comes: found by the change of the deal.
    fake.inject(Fault::AcceptThenHang {
        method: Some("POST".into()),
        path_prefix: "/positions".into(),
        delay: Duration::from_secs(5),
    });
    let id = app
        .place(&token, NET, "instrument=GOLD&qty=1&side=sell&type=market")
        .await;
    assert_eq!(app.order(&token, NET, &id).await["status"], "filled");
    let total: rust_decimal::Decimal = fake.positions(NET).iter().map(|p| p.size).sum();
    assert_eq!(total, rust_decimal::Decimal::TWO);
    // A 502 that made no deal: nothing is found, nothing is resent, and the user is told to check.
    fake.inject(Fault::Status {
        method: Some("POST".into()),
        path_prefix: "/positions".into(),
        status: 502,
        body: serde_json::json!({"errorCode": "error.service.unavailable"}),
        times: 1,
    });
    let msg = app
        .refused(
            Method::POST,
            &token,
            &format!("/accounts/{NET}/orders?locale=en"),
            Some("instrument=EURUSD&qty=1000&side=buy&type=market"),
        )
        .await;
    assert!(msg.contains("most likely not placed"), "{msg}");
    assert!(fake.positions(NET).iter().all(|p| p.epic == "GOLD"));
    assert_eq!(capital::count(&fake.requests(), "POST", "/positions"), 3);
}

#[tokio::test]
async fn sessions_tradingview_stopped_using_are_logged_out() {
    let (fake, app) = capital::start("keepalive_secs = 1\nkeepalive_max_idle_secs = 1", "").await;
    let token = capital::login(&app).await;
    app.positions(&token, NET).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while capital::count(&fake.requests(), "DELETE", "/session") == 0
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(capital::count(&fake.requests(), "DELETE", "/session"), 1);
    // The bridge token still names the session, but its Capital.com session is gone: log in again.
    let r = app
        .send(
            Method::GET,
            &format!("/accounts/{NET}/positions?locale=en"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
}

/// Mapped mode with the operator's Capital.com password in `password_env`.
fn mapped_backend(id_env: &str, pw_env: &str) -> (String, &'static str) {
    let backend = format!(
        "login = \"mapped\"\n[[backend.users]]\nlogin = \"alice\"\nidentifier_env = \"{id_env}\"\npassword_env = \"{pw_env}\"\n"
    );
    let users = "[[auth.users]]\nlogin = \"alice\"\npassword = \"alice-bridge-password\"\n";
    (backend, users)
}

#[tokio::test]
async fn mapped_credentials_refused_at_login_blame_the_configuration_not_the_user() {
    let logs = support::log_capture::LogCapture::start("tvbridge");
    std::env::set_var("TVB_TEST_CAP_BADPW_ID", LOGIN);
    std::env::set_var("TVB_TEST_CAP_BADPW_PW", "wrong-operator-secret");
    let (backend, users) = mapped_backend("TVB_TEST_CAP_BADPW_ID", "TVB_TEST_CAP_BADPW_PW");
    let (fake, app) = capital::start(&backend, users).await;
    let r = app
        .send(
            Method::POST,
            "/authorize",
            None,
            Some("login=alice&password=alice-bridge-password&locale=en"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["s"], "error");
    let errmsg = r.body["errmsg"].as_str().unwrap();
    assert!(!errmsg.contains("Invalid login or password"), "{errmsg}");
    assert!(
        errmsg.contains("Capital.com refused") && errmsg.contains("bridge operator"),
        "{errmsg}"
    );
    assert_eq!(capital::count(&fake.requests(), "POST", "/session"), 1);
    let lines = logs.lines_with("TVB_TEST_CAP_BADPW_PW");
    assert_eq!(lines.len(), 1, "one line names the variable: {}", logs.text());
    assert!(
        lines[0].contains("alice") && lines[0].contains("TVB_TEST_CAP_BADPW_ID"),
        "{}",
        lines[0]
    );
    assert!(!logs.text().contains("wrong-operator-secret"), "{}", logs.text());
    // The user's own wrong bridge password is still "Invalid login or password", and never reaches Capital.com.
    let r = app
        .send(
            Method::POST,
            "/authorize",
            None,
            Some("login=alice&password=nope&locale=en"),
        )
        .await;
    assert_eq!(r.body["errmsg"], "Invalid login or password");
    assert_eq!(capital::count(&fake.requests(), "POST", "/session"), 1);
}

#[tokio::test]
async fn mapped_credentials_refused_later_give_an_error_not_a_login_loop() {
    let logs = support::log_capture::LogCapture::start("tvbridge");
    std::env::set_var("TVB_TEST_CAP_LATER_ID", LOGIN);
    std::env::set_var("TVB_TEST_CAP_LATER_PW", PASSWORD);
    let (backend, users) = mapped_backend("TVB_TEST_CAP_LATER_ID", "TVB_TEST_CAP_LATER_PW");
    let (fake, app) = capital::start(&backend, users).await;
    let token = app.login_as("alice", "alice-bridge-password").await;
    app.positions(&token, NET).await;
    // The session expires and the operator's password no longer works (changed at Capital.com).
    fake.expire_all_sessions();
    fake.inject(Fault::Status {
        method: Some("POST".into()),
        path_prefix: "/session".into(),
        status: 401,
        body: serde_json::json!({"errorCode": "error.invalid.details"}),
        times: 1,
    });
    let path = format!("/accounts/{NET}/positions?locale=en");
    let errmsg = app.refused(Method::GET, &token, &path, None).await;
    assert!(
        errmsg.contains("Capital.com refused") && errmsg.contains("bridge operator"),
        "{errmsg}"
    );
    let lines = logs.lines_with("TVB_TEST_CAP_LATER_PW");
    assert_eq!(lines.len(), 1, "{}", logs.text());
    assert!(
        lines[0].contains("alice") && lines[0].contains("TVB_TEST_CAP_LATER_ID"),
        "{}",
        lines[0]
    );
    assert!(!logs.text().contains(PASSWORD), "{}", logs.text());
    // TradingView keeps polling: the same answer at once, without another login attempt that Capital.com
    // would refuse (repeated refusals can lock the account).
    let logins = capital::count(&fake.requests(), "POST", "/session");
    let again = app.refused(Method::GET, &token, &path, None).await;
    assert_eq!(again, errmsg);
    assert_eq!(capital::count(&fake.requests(), "POST", "/session"), logins);
    assert_eq!(
        logs.lines_with("TVB_TEST_CAP_LATER_PW").len(),
        1,
        "one warning per cool-down"
    );
}

#[tokio::test]
async fn a_deal_waiting_for_its_confirmation_does_not_hold_up_another_tabs_account_switch() {
    let (fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    // The confirmation lags: five answers of 404 before it is there, over a second of asking again.
    fake.inject(Fault::Status {
        method: Some("GET".into()),
        path_prefix: "/confirms".into(),
        status: 404,
        body: serde_json::json!({"errorCode": "error.not-found.dealReference"}),
        times: 5,
    });
    let placing = app.place(&token, NET, "instrument=EURUSD&qty=1000&side=buy&type=market");
    let other_tab = async {
        // Once the placement is asking for its confirmation, another tab reads the other account.
        until_seen(&fake, |r| r.path.starts_with("/confirms/")).await;
        let path = format!("/accounts/{HEDGE}/individualPositions?locale=en");
        let positions = capital::get_json(app.router.clone(), &token, &path).await;
        (positions, std::time::Instant::now())
    };
    let (id, (positions, other_done)) = tokio::join!(placing, other_tab);
    assert_eq!(positions["d"], serde_json::json!([]), "{positions}");
    let last_confirm = fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/confirms/"))
        .map(|r| r.at)
        .max()
        .expect("the deal was confirmed");
    assert!(
        other_done < last_confirm,
        "the other tab's account switch waited for the whole confirmation"
    );
    // The placement went back to its account for the rest of its confirmation and ended as one deal.
    assert_eq!(app.order(&token, NET, &id).await["status"], "filled");
    assert_eq!(fake.positions(NET).len(), 1);
    assert!(fake.positions(HEDGE).is_empty());
    assert_eq!(capital::count(&fake.requests(), "POST", "/positions"), 1);
}

#[tokio::test]
async fn a_429_back_off_does_not_hold_up_another_tabs_account_switch() {
    let (fake, app) = capital::start("", "").await;
    let token = capital::login(&app).await;
    let id = app
        .place(
            &token,
            NET,
            "instrument=EURUSD&qty=1000&side=buy&type=limit&limitPrice=1.0",
        )
        .await;
    // Past the session's pace (10 requests per second), so only the back-off can hold anything up.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // Capital.com throttles the next two listings of working orders: two back-offs of a second each.
    fake.inject(Fault::Status {
        method: Some("GET".into()),
        path_prefix: "/workingorders".into(),
        status: 429,
        body: serde_json::json!({"errorCode": "error.too-many.requests"}),
        times: 2,
    });
    let listing = app.orders(&token, NET);
    let other_tab = async {
        // Once the listing is throttled, another tab reads the other account's executions (which list
        // no working orders).
        until_seen(&fake, |r| r.path.starts_with("/workingorders") && r.status == 429).await;
        let path = format!("/accounts/{HEDGE}/executions?locale=en");
        let executions = capital::get_json(app.router.clone(), &token, &path).await;
        (executions, std::time::Instant::now())
    };
    let (orders, (executions, other_done)) = tokio::join!(listing, other_tab);
    assert_eq!(executions["s"], "ok", "{executions}");
    let listings: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/workingorders"))
        .collect();
    let last = listings
        .iter()
        .map(|r| r.at)
        .max()
        .expect("working orders listed");
    assert!(
        other_done < last,
        "the other tab's account switch waited for the back-off"
    );
    // The listing went back to its account for its retry (the switch back was throttled once more, and
    // retried on that account): it shows that account's working order.
    assert!(orders.iter().any(|o| o["id"] == id.as_str()), "{orders:?}");
    assert_eq!(listings.iter().filter(|r| r.status == 429).count(), 2);
}

/// Waits (five seconds at most) until the fake has seen a request `seen` accepts.
async fn until_seen(fake: &FakeCapital, seen: impl Fn(&LoggedRequest) -> bool) {
    for _ in 0..500 {
        if fake.requests().iter().any(&seen) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
