//! What clients send, bounded: `requestId` answers only a resend of the same order and is limited in
//! length and number, sessions are capped per user, failed logins back off per login and per client
//! address, and every trading action and login leaves one audit line.

use crate::support;

use axum::http::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;
use support::live::LiveApp;
use support::log_capture::LogCapture;
use support::*;

const SEC: Duration = Duration::from_secs(1);

fn orders_path(request_id: &str) -> String {
    format!("/accounts/{NET}/orders?locale=en&requestId={request_id}")
}

#[tokio::test]
async fn a_request_id_answers_a_resend_of_the_same_order_and_refuses_another_order() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let buy = "instrument=EURUSD&side=buy&type=market&qty=1000&currentAsk=1.1&currentBid=1.09";
    let first = app
        .post(&token, &orders_path("R1"), buy, "PostOrderResponse")
        .await;
    // TradingView's resend carries the prices the user sees now, and may write numbers differently.
    let resend = "instrument=EURUSD&side=buy&type=market&qty=1000.0&currentAsk=1.2&currentBid=1.19";
    let again = app
        .post(&token, &orders_path("R1"), resend, "PostOrderResponse")
        .await;
    assert_eq!(
        again["orderId"], first["orderId"],
        "a resend gets the first order"
    );

    let sell = "instrument=GBPUSD&side=sell&type=market&qty=1000&currentAsk=1.3&currentBid=1.29";
    let refused = app
        .refused(Method::POST, &token, &orders_path("R1"), Some(sell))
        .await;
    assert_eq!(
        refused,
        "requestId 'R1' was already used for a different order on this account; a new order needs a new requestId"
    );
    let positions = app.positions(&token, NET).await;
    assert_eq!(positions.len(), 1, "no GBPUSD position: {positions:?}");
    assert_eq!(positions[0]["instrument"], "EURUSD");
    assert_eq!(dec(&positions[0]["qty"]), dec(&Value::from(1000)));
    // Under a new id the second order goes through.
    app.post(&token, &orders_path("R2"), sell, "PostOrderResponse")
        .await;
    assert_eq!(app.positions(&token, NET).await.len(), 2);
}

#[tokio::test]
async fn a_huge_request_id_is_refused_naming_the_limit_and_stores_nothing() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let huge = "7".repeat(60 * 1024);
    let msg = app
        .refused(
            Method::POST,
            &token,
            &orders_path(&huge),
            Some("instrument=EURUSD&side=buy&type=market&qty=1000"),
        )
        .await;
    assert_eq!(
        msg,
        "query parameter 'requestId' is too long: at most 64 characters, got 61440"
    );
    assert!(app.orders(&token, NET).await.is_empty(), "nothing was placed");
}

#[tokio::test]
async fn refused_placements_take_no_entry_and_a_full_cap_refuses_rather_than_forget_a_young_id() {
    let app = TestApp::with_config(config(
        "[idempotency]\nmax_entries = 3\nmax_entries_per_user = 2\n",
    ))
    .await;
    let token = app.login().await;
    // Refused by the broker (a buy stop must be above the market): these must not use up the cap.
    for id in ["bad-1", "bad-2", "bad-3"] {
        let msg = app
            .refused(
                Method::POST,
                &token,
                &orders_path(id),
                Some("instrument=EURUSD&side=buy&type=stop&qty=1000&stopPrice=0.5"),
            )
            .await;
        assert!(
            msg.starts_with("a buy stop must be above the current ask"),
            "{msg}"
        );
    }
    let market = "instrument=EURUSD&side=buy&type=market&qty=1000";
    let ok1 = app
        .post(&token, &orders_path("ok-1"), market, "PostOrderResponse")
        .await;
    app.post(&token, &orders_path("ok-2"), market, "PostOrderResponse")
        .await;
    // The cap is reached and both ids are minutes old at most: forgetting one could double an order.
    let full = app
        .refused(Method::POST, &token, &orders_path("ok-3"), Some(market))
        .await;
    assert!(
        full.starts_with(
            "Too many orders with a requestId from this login: at most 2 within 900 s; try again in "
        ),
        "{full}"
    );
    let resend = app
        .post(&token, &orders_path("ok-1"), market, "PostOrderResponse")
        .await;
    assert_eq!(
        resend["orderId"], ok1["orderId"],
        "the young id is still remembered"
    );
    assert_eq!(app.positions(&token, NET).await.len(), 1);
    assert_eq!(
        dec(&app.positions(&token, NET).await[0]["qty"]),
        dec(&Value::from(2000)),
        "two orders, the refused third was not placed"
    );
    // The cap is per user: another login still places.
    let other = app.login_as("other", "other-pass").await;
    app.post(
        &other,
        "/accounts/other-net/orders?requestId=ok-1",
        market,
        "PostOrderResponse",
    )
    .await;
}

/// `auth.max_sessions_per_user` (20 by default): the 21st login of a user ends their first session.
#[tokio::test]
async fn beyond_the_session_cap_the_users_oldest_session_ends_with_its_streams() {
    let app = LiveApp::start(config(""), true).await;
    let first = app.login().await;
    let mut orders = app.open("/accounts/demo-net/stream/orders", &first).await;
    assert_eq!(orders.next(SEC * 3).await, Some(Value::Array(vec![])));
    let mut tokens = Vec::new();
    for _ in 1..20 {
        tokens.push(app.login().await);
    }
    let other = app
        .form(
            "POST",
            "/authorize",
            None,
            "login=other&password=other-pass&locale=en",
        )
        .await;
    assert_eq!(other["s"], "ok", "other users do not count");
    let (status, _) = app.get("/accounts?locale=en", Some(&first)).await;
    assert_eq!(status, 200, "twenty sessions are within the cap");
    tokens.push(app.login().await);
    let ended = orders
        .next(SEC * 3)
        .await
        .expect("an error line ends the oldest session's stream");
    assert_eq!(ended["s"], "error", "{ended}");
    assert_eq!(orders.next(SEC * 2).await, None, "then the stream ends");
    let (status, body) = app.get("/accounts?locale=en", Some(&first)).await;
    assert_eq!(status, 401, "the oldest token is revoked: {body}");
    for token in &tokens {
        let (status, _) = app.get("/accounts?locale=en", Some(token)).await;
        assert_eq!(status, 200);
    }
}

#[tokio::test]
async fn wrong_passwords_back_off_that_login_only_even_for_the_right_password() {
    // Defaults: five free failures per login, then 1 s, doubling.
    let app = TestApp::new().await;
    let form = |pw: &str| format!("login=demo&password={pw}&locale=en");
    for _ in 0..5 {
        let r = app
            .send(Method::POST, "/authorize", None, Some(&form("nope")))
            .await;
        assert_eq!(r.body["errmsg"], "Invalid login or password");
    }
    let throttled = app
        .send(Method::POST, "/authorize", None, Some(&form("demo")))
        .await;
    assert_eq!(throttled.status, StatusCode::OK);
    assert_eq!(
        throttled.body["errmsg"], "Too many failed logins for this login; try again in 1 s.",
        "refused before the password is even checked"
    );
    // Other users are not affected.
    app.login_as("other", "other-pass").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.login().await;
    // The success forgave the failures: a typo now is one failure, not a sixth.
    let r = app
        .send(Method::POST, "/authorize", None, Some(&form("typo")))
        .await;
    assert_eq!(r.body["errmsg"], "Invalid login or password");
    app.login().await;
}

#[tokio::test]
async fn failures_from_one_address_throttle_that_address_only() {
    let app = TestApp::with_config(config("[auth.login_throttle]\nfree_failures_per_address = 20\n")).await;
    // Twenty logins guessed once each: no login is throttled, the address is.
    for i in 0..20 {
        let r = app
            .login_from("203.0.113.5:40000", &format!("guess{i}"), "x")
            .await;
        assert_eq!(r.body["errmsg"], "Invalid login or password");
    }
    let r = app.login_from("203.0.113.5:40001", "demo", "demo").await;
    assert_eq!(
        r.body["errmsg"],
        "Too many failed logins from this address; try again in 1 s."
    );
    let r = app.login_from("203.0.113.6:40000", "demo", "demo").await;
    assert_eq!(r.body["s"], "ok", "another address logs in: {}", r.body);
}

/// Over a real socket the server hands every handler its TCP peer, so the per-address allowance applies to
/// clients that never name an address themselves.
#[tokio::test]
async fn over_a_socket_the_peer_address_is_the_client_address() {
    let app = LiveApp::start(
        config("[auth.login_throttle]\nfree_failures_per_address = 3\n"),
        true,
    )
    .await;
    for i in 0..3 {
        let r = app
            .form(
                "POST",
                "/authorize",
                None,
                &format!("login=guess{i}&password=x&locale=en"),
            )
            .await;
        assert_eq!(r["errmsg"], "Invalid login or password");
    }
    let r = app
        .form("POST", "/authorize", None, "login=demo&password=demo&locale=en")
        .await;
    assert_eq!(
        r["errmsg"], "Too many failed logins from this address; try again in 1 s.",
        "the loopback peer was not seen: {r}"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_throttled_and_forged_headers_are_not_believed() {
    let app = TestApp::with_config(config(
        "[auth]\ntrusted_proxies = [\"127.0.0.1\"]\n[auth.login_throttle]\nfree_failures_per_address = 3\n",
    ))
    .await;
    let via_proxy = |client: &'static str| [("x-forwarded-for", client)];
    for i in 0..3 {
        let form = format!("login=guess{i}&password=x&locale=en");
        let r = app
            .send_from(
                "127.0.0.1:5000",
                Method::POST,
                "/authorize",
                Some(&form),
                &via_proxy("198.51.100.7"),
            )
            .await;
        assert_eq!(r.body["errmsg"], "Invalid login or password");
    }
    let good = "login=demo&password=demo&locale=en";
    let r = app
        .send_from(
            "127.0.0.1:5000",
            Method::POST,
            "/authorize",
            Some(good),
            &via_proxy("198.51.100.7"),
        )
        .await;
    assert_eq!(
        r.body["errmsg"],
        "Too many failed logins from this address; try again in 1 s."
    );
    // Another client behind the same proxy is not affected.
    let r = app
        .send_from(
            "127.0.0.1:5000",
            Method::POST,
            "/authorize",
            Some(good),
            &via_proxy("198.51.100.8"),
        )
        .await;
    assert_eq!(r.body["s"], "ok", "{}", r.body);
    // A client that is not the proxy cannot take the throttled address's place, nor escape its own.
    let r = app
        .send_from(
            "203.0.113.9:1",
            Method::POST,
            "/authorize",
            Some(good),
            &via_proxy("198.51.100.7"),
        )
        .await;
    assert_eq!(
        r.body["s"], "ok",
        "the header of an untrusted peer is ignored: {}",
        r.body
    );
}

/// The one audit event of `action` with `outcome`, failing with everything captured otherwise.
fn one(logs: &LogCapture, action: &str, outcome: &str) -> Value {
    let found: Vec<Value> = logs
        .with("action", action)
        .into_iter()
        .filter(|e| e["outcome"] == outcome)
        .collect();
    assert_eq!(found.len(), 1, "{action}/{outcome} in:\n{}", logs.text());
    found.into_iter().next().unwrap()
}

#[tokio::test]
async fn every_trading_action_and_login_leaves_one_audit_line() {
    let logs = LogCapture::start("tvbridge::audit");
    let app = TestApp::new().await;
    let r = app
        .login_from("203.0.113.5:40000", "demo", "wrong-secret-pw")
        .await;
    assert_eq!(r.body["s"], "error");
    let failed = one(&logs, "login", "refused");
    assert_eq!(failed["user"], "demo");
    assert_eq!(failed["address"], "203.0.113.5");
    assert_eq!(failed["reason"], "Invalid login or password");
    let r = app.login_from("203.0.113.5:40000", "demo", "demo").await;
    let token = r.body["d"]["access_token"].as_str().unwrap().to_owned();
    let logged_in = one(&logs, "login", "ok");
    assert_eq!(
        (logged_in["user"].as_str(), logged_in["address"].as_str()),
        (Some("demo"), Some("203.0.113.5"))
    );

    let r = app
        .send(
            Method::POST,
            &orders_path("audit-1"),
            Some(&token),
            Some("instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice=0.9"),
        )
        .await;
    let order_id = ok(&r, "PostOrderResponse")["orderId"]
        .as_str()
        .unwrap()
        .to_owned();
    let request_id = r.headers["x-request-id"].to_str().unwrap().to_owned();
    let placed = one(&logs, "place", "ok");
    for (field, value) in [
        ("request_id", request_id.as_str()),
        ("user", "demo"),
        ("account", NET),
        ("instrument", "EURUSD"),
        ("side", "buy"),
        ("qty", "1000"),
        ("upstream_id", order_id.as_str()),
    ] {
        assert_eq!(placed[field], value, "{field} in {placed}");
    }
    assert!(
        placed["detail"].as_str().unwrap().contains("requestId=audit-1"),
        "{placed}"
    );

    let msg = app
        .refused(
            Method::POST,
            &token,
            &format!("/accounts/{NET}/orders"),
            Some("instrument=EURUSD&side=sell&type=market&qty=1500"),
        )
        .await;
    let refused = one(&logs, "place", "refused");
    assert_eq!(refused["reason"], msg.as_str());
    assert_eq!(
        (refused["side"].as_str(), refused["qty"].as_str()),
        (Some("sell"), Some("1500"))
    );
    assert_eq!(refused["upstream_id"], "-");

    app.delete(&token, &format!("/accounts/{NET}/orders/{order_id}"), None)
        .await;
    let cancelled = one(&logs, "cancel", "ok");
    assert_eq!(cancelled["upstream_id"], order_id.as_str());
    assert_eq!(
        (
            cancelled["instrument"].as_str(),
            cancelled["side"].as_str(),
            cancelled["qty"].as_str()
        ),
        (Some("EURUSD"), Some("buy"), Some("1000")),
        "what the cancelled order was, from the hub"
    );

    app.place(&token, NET, "instrument=EURUSD&side=buy&type=market&qty=2000")
        .await;
    app.delete(
        &token,
        &format!("/accounts/{NET}/positions/EURUSD"),
        Some("amount=1000"),
    )
    .await;
    let closed = one(&logs, "close", "ok");
    assert_eq!(
        (closed["instrument"].as_str(), closed["qty"].as_str()),
        (Some("EURUSD"), Some("2000"))
    );
    assert!(
        closed["detail"].as_str().unwrap().contains("amount=1000"),
        "{closed}"
    );
    app.post(
        &token,
        &format!("/accounts/{NET}/setLeverage"),
        "instrument=EURUSD&side=buy&orderType=market&leverage=10",
        "SetLeverageResponse",
    )
    .await;
    assert_eq!(one(&logs, "leverage", "ok")["instrument"], "EURUSD");

    // A resend is answered with the first order and says so.
    let again = app
        .post(
            &token,
            &orders_path("audit-1"),
            "instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice=0.9",
            "PostOrderResponse",
        )
        .await;
    assert_eq!(again["orderId"], order_id.as_str());
    let replays: Vec<Value> = logs
        .with("action", "place")
        .into_iter()
        .filter(|e| e["detail"].as_str().unwrap().contains("replayed=true"))
        .collect();
    assert_eq!(replays.len(), 1, "{}", logs.text());
    assert_eq!(replays[0]["upstream_id"], order_id.as_str());

    let text = logs.text();
    for secret in ["wrong-secret-pw", token.as_str()] {
        assert!(!text.contains(secret), "a secret in the audit trail: {secret}");
    }
    assert_eq!(
        logs.events().iter().filter(|e| e["action"].is_string()).count(),
        9,
        "one line per action: two logins, four placements, a cancel, a close, a leverage:\n{text}"
    );
}
