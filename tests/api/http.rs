//! HTTP behaviour around the API: CORS for TradingView's browser calls, request ids, `/healthz`, `locale`,
//! `/config`, and the account flags and instruments derived from the backend's capabilities.

use crate::support;

use axum::http::{HeaderMap, Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeSet;
use support::*;

const TV: &str = "https://www.tradingview.com";
const STAGING: &str = "https://beta.xstaging.tv";

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().expect("header is text"))
}

/// A header's comma-separated values, lower-cased.
fn header_list(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .flat_map(|v| {
            v.to_str()
                .unwrap()
                .split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .collect()
}

async fn preflight(app: &TestApp, path: &str, origin: &str) -> Reply {
    app.send_with(
        Method::OPTIONS,
        path,
        None,
        None,
        &[
            ("origin", origin),
            ("access-control-request-method", "GET"),
            ("access-control-request-headers", "authorization"),
        ],
    )
    .await
}

#[track_caller]
fn assert_preflight_allows(r: &Reply, origin: &str) {
    assert!(r.status.is_success(), "preflight from {origin}: {}", r.status);
    assert_eq!(
        header(&r.headers, "access-control-allow-origin"),
        Some(origin),
        "{:?}",
        r.headers
    );
    let allowed_headers = header_list(&r.headers, "access-control-allow-headers");
    assert!(
        allowed_headers.iter().any(|h| h == "authorization"),
        "allow-headers {allowed_headers:?}"
    );
    let methods = header_list(&r.headers, "access-control-allow-methods");
    for m in ["get", "post", "put", "delete"] {
        assert!(
            methods.iter().any(|x| x == m),
            "allow-methods {methods:?} lacks {m}"
        );
    }
    let vary = header_list(&r.headers, "vary");
    assert!(
        vary.iter().any(|v| v == "origin"),
        "an echoed origin needs Vary: Origin, got {vary:?}"
    );
}

#[tokio::test]
async fn preflights_from_tradingview_are_answered() {
    let app = TestApp::new().await;
    for origin in [
        TV,
        STAGING,
        "https://in.tradingview.com",
        "https://a.b.tradingview.com",
    ] {
        for path in ["/accounts", "/accounts/demo-net/orders", "/authorize", "/quotes"] {
            let r = preflight(&app, path, origin).await;
            assert_preflight_allows(&r, origin);
        }
    }
    // Request headers in another case are still allowed.
    let r = app
        .send_with(
            Method::OPTIONS,
            "/accounts/demo-net/orders",
            None,
            None,
            &[
                ("origin", TV),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "Authorization, Content-Type"),
            ],
        )
        .await;
    assert!(r.status.is_success());
    assert_eq!(header(&r.headers, "access-control-allow-origin"), Some(TV));
}

#[tokio::test]
async fn other_origins_get_no_cors_grant() {
    let app = TestApp::new().await;
    let token = app.login().await;
    for origin in [
        "https://evil.example",
        "https://tradingview.com.evil.io",
        "https://www.tradingview.com.evil.io",
        "https://eviltradingview.com",
        "http://www.tradingview.com",
        "https://www.tradingview.com:8443",
        "https://xstaging.tv.evil.io",
        "null",
    ] {
        let r = preflight(&app, "/accounts", origin).await;
        assert_eq!(
            header(&r.headers, "access-control-allow-origin"),
            None,
            "preflight from {origin}"
        );
        let r = app
            .send_with(
                Method::GET,
                "/accounts",
                Some(&token),
                None,
                &[("origin", origin)],
            )
            .await;
        assert_eq!(
            header(&r.headers, "access-control-allow-origin"),
            None,
            "GET from {origin}"
        );
        assert_eq!(header(&r.headers, "access-control-allow-credentials"), None);
    }
}

#[tokio::test]
async fn simple_requests_from_allowed_origins_echo_the_origin() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let r = app
        .send_with(Method::GET, "/accounts", Some(&token), None, &[("origin", TV)])
        .await;
    ok(&r, "AccountsResponse");
    assert_eq!(header(&r.headers, "access-control-allow-origin"), Some(TV));
    // Errors too, or the browser hides the 401 that tells TradingView to log in again.
    let r = app
        .send_with(Method::GET, "/accounts", None, None, &[("origin", STAGING)])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(header(&r.headers, "access-control-allow-origin"), Some(STAGING));
    let r = app
        .send_with(
            Method::GET,
            "/accounts/demo-net/nope",
            Some(&token),
            None,
            &[("origin", TV)],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(header(&r.headers, "access-control-allow-origin"), Some(TV));
    let r = app
        .send_with(
            Method::GET,
            "/accounts/nope/state",
            Some(&token),
            None,
            &[("origin", TV)],
        )
        .await;
    assert_eq!(r.body["s"], "error");
    assert_eq!(header(&r.headers, "access-control-allow-origin"), Some(TV));
}

#[tokio::test]
async fn configured_origins_replace_the_defaults() {
    let app = TestApp::with_config(config("[server]\ncors_origins = [\"http://localhost:3000\"]\n")).await;
    let r = preflight(&app, "/accounts", "http://localhost:3000").await;
    assert_preflight_allows(&r, "http://localhost:3000");
    for origin in [TV, STAGING, "http://localhost:3001", "https://localhost:3000"] {
        let r = preflight(&app, "/accounts", origin).await;
        assert_eq!(
            header(&r.headers, "access-control-allow-origin"),
            None,
            "{origin}"
        );
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let big = "x".repeat(70_000);
    let cases: Vec<(&str, Reply)> = vec![
        (
            "200",
            app.send(Method::GET, "/accounts", Some(&token), None).await,
        ),
        (
            "200 error envelope",
            app.send(Method::GET, "/accounts/nope/state", Some(&token), None)
                .await,
        ),
        ("401", app.send(Method::GET, "/accounts", None, None).await),
        ("404", app.send(Method::GET, "/nope", Some(&token), None).await),
        (
            "404 outside /api",
            app.send(Method::GET, "/healthz/nope", None, None).await,
        ),
        (
            "405",
            app.send(Method::PATCH, "/accounts", Some(&token), None).await,
        ),
        (
            "413",
            app.send(
                Method::POST,
                "/accounts/demo-net/orders",
                Some(&token),
                Some(&big),
            )
            .await,
        ),
        ("preflight", preflight(&app, "/accounts", TV).await),
        ("healthz", app.send(Method::GET, "/healthz", None, None).await),
        (
            "authorize",
            app.send(Method::POST, "/authorize", None, Some("login=demo&password=demo"))
                .await,
        ),
    ];
    let mut seen = BTreeSet::new();
    for (what, r) in &cases {
        let id = header(&r.headers, "x-request-id")
            .unwrap_or_else(|| panic!("{what} ({}) has no x-request-id", r.status));
        assert!(!id.is_empty(), "{what}");
        assert!(
            seen.insert(id.to_owned()),
            "{what}: request id {id} was given before"
        );
    }
}

#[tokio::test]
async fn a_client_request_id_is_propagated_unchanged() {
    let app = TestApp::new().await;
    let token = app.login().await;
    for id in ["abc-123", "tv-7f3c2a1e-0000-4b6d-9e1f-REQUEST", "0"] {
        let r = app
            .send_with(
                Method::GET,
                "/accounts",
                Some(&token),
                None,
                &[("x-request-id", id)],
            )
            .await;
        ok(&r, "AccountsResponse");
        assert_eq!(header(&r.headers, "x-request-id"), Some(id));
        let r = app
            .send_with(Method::GET, "/accounts", None, None, &[("x-request-id", id)])
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(header(&r.headers, "x-request-id"), Some(id));
    }
}

#[tokio::test]
async fn healthz_answers_without_a_token() {
    let app = TestApp::new().await;
    let r = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["s"], "ok");
    assert_eq!(r.body["version"], env!("CARGO_PKG_VERSION"));
    assert!(header(&r.headers, "content-type").is_some_and(|c| c.starts_with("application/json")));
    // It is not under the API prefix.
    let r = app.send(Method::GET, "/api/healthz", None, None).await;
    assert_ne!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn locale_never_changes_the_answer() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let plain = app.get(&token, "/config", "ConfigResponse").await;
    for path in [
        "/config?locale=en",
        "/config?locale=de_DE",
        "/config?locale=xx_XX",
        "/config?locale=",
    ] {
        assert_eq!(app.get(&token, path, "ConfigResponse").await, plain, "{path}");
    }
    let accounts = app.get(&token, "/accounts", "AccountsResponse").await;
    assert_eq!(
        app.get(&token, "/accounts?locale=ja", "AccountsResponse").await,
        accounts
    );
    let title = plain["accountManager"][0]["title"].as_str().unwrap_or_default();
    assert!(
        title.is_ascii() && !title.is_empty(),
        "English titles expected, got {title:?}"
    );
}

#[tokio::test]
async fn config_stays_within_the_spec() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let d = app.get(&token, "/config?locale=en", "ConfigResponse").await;
    let p = &d["pullingInterval"];
    for (key, max) in [
        ("quotes", 1000),
        ("orders", 1000),
        ("positions", 1500),
        ("accountManager", 1500),
        ("balances", 1500),
    ] {
        let v = p[key]
            .as_u64()
            .unwrap_or_else(|| panic!("pullingInterval.{key} missing: {p}"));
        assert!(
            (1..=max).contains(&v),
            "pullingInterval.{key} = {v} exceeds {max}"
        );
    }
    let durations = d["durations"].as_array().expect("durations");
    assert!(!durations.is_empty());
    assert_eq!(
        durations.iter().filter(|x| x["default"] == true).count(),
        1,
        "exactly one default duration: {durations:?}"
    );
    let ids: BTreeSet<&str> = durations.iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), durations.len(), "duration ids repeat");
    let deps = d["orderInfoConfig"]["dependencies"]
        .as_array()
        .expect("orderInfoConfig.dependencies");
    assert!(!deps.is_empty());
    for field in ["instrument", "side", "type", "qty"] {
        assert!(
            deps.iter().any(|x| x == field),
            "orderInfoConfig.dependencies lacks {field}"
        );
    }
}

#[tokio::test]
async fn pulling_intervals_come_from_the_config() {
    let app = TestApp::with_config(config(
        "[tradingview.pulling_interval]\nquotes = 250\norders = 1000\npositions = 1500\naccount_manager = 1200\nbalances = 700\n",
    ))
    .await;
    let token = app.login().await;
    let d = app.get(&token, "/config", "ConfigResponse").await;
    assert_eq!(
        d["pullingInterval"],
        serde_json::json!({"quotes": 250, "orders": 1000, "positions": 1500, "accountManager": 1200, "balances": 700})
    );
}

async fn account(app: &TestApp, token: &str, id: &str) -> Value {
    let accounts = app.get(token, "/accounts?locale=en", "AccountsResponse").await;
    accounts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no {id}"))
}

#[track_caller]
fn assert_flags(account: &Value, expected: &[(&str, bool)]) {
    let config = &account["config"];
    for (flag, want) in expected {
        // An absent flag means false for TradingView's defaults we care about here.
        let got = config
            .get(*flag)
            .map(|v| v.as_bool().unwrap_or_else(|| panic!("{flag} is not a bool")));
        assert_eq!(got.unwrap_or(false), *want, "{} {flag}: {config}", account["id"]);
    }
}

const COMMON_FLAGS: &[(&str, bool)] = &[
    ("supportLevel2Data", true),
    ("supportLeverage", true),
    ("supportExecutions", true),
    ("supportOrdersHistory", true),
    ("supportPlaceOrderPreview", true),
    ("supportCustomOrderInfo", true),
    ("supportTrailingStop", true),
    ("supportGuaranteedStop", true),
    ("supportStopLimitOrders", true),
    ("supportBalances", false),
];

#[tokio::test]
async fn account_flags_follow_the_capabilities() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let net = account(&app, &token, NET).await;
    assert_eq!(net["currency"], "USD");
    assert_eq!(net["currencySign"], "$");
    assert_flags(
        &net,
        &[
            ("supportPositionNetting", false),
            ("supportMultiposition", false),
            ("supportPositionBrackets", true),
            ("supportIndividualPositionBrackets", false),
            ("supportNativeReversePosition", true),
            ("supportReversePosition", true),
            ("supportPartialClosePosition", true),
            ("supportPartialCloseIndividualPosition", false),
        ],
    );
    assert_flags(&net, COMMON_FLAGS);

    let hedge = account(&app, &token, HEDGE).await;
    assert_eq!(hedge["currency"], "EUR");
    assert_flags(
        &hedge,
        &[
            ("supportPositionNetting", true),
            ("supportMultiposition", true),
            ("supportIndividualPositionBrackets", true),
            ("supportPositionBrackets", false),
            ("supportPartialCloseIndividualPosition", true),
            ("supportPartialClosePosition", false),
            ("supportReversePosition", false),
            ("supportNativeReversePosition", false),
        ],
    );
    assert_flags(&hedge, COMMON_FLAGS);
}

#[tokio::test]
async fn balances_are_refused_on_paper_accounts() {
    let app = TestApp::new().await;
    let token = app.login().await;
    for account in [NET, HEDGE] {
        let msg = app
            .refused(
                Method::GET,
                &token,
                &format!("/accounts/{account}/balances"),
                None,
            )
            .await;
        assert_eq!(msg, "crypto balances are not supported on this account");
    }
}

#[tokio::test]
async fn instruments_are_priced_in_the_account_currency() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let usd = app
        .get(
            &token,
            "/accounts/demo-net/instruments?locale=en",
            "InstrumentsResponse",
        )
        .await;
    let eur = app
        .get(
            &token,
            "/accounts/demo-hedge/instruments?locale=en",
            "InstrumentsResponse",
        )
        .await;
    let names = |v: &Value| -> BTreeSet<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&usd), names(&eur), "both accounts trade the same symbols");
    assert_eq!(
        names(&usd),
        instrument_names().into_iter().collect::<BTreeSet<_>>()
    );

    for list in [&usd, &eur] {
        for i in list.as_array().unwrap() {
            let at = i["name"].as_str().unwrap();
            assert!(dec(&i["minQty"]) <= dec(&i["maxQty"]), "{at}: minQty > maxQty");
            assert!(dec(&i["qtyStep"]) > Decimal::ZERO, "{at}: qtyStep");
            assert!(dec(&i["minTick"]) > Decimal::ZERO, "{at}: minTick");
            assert!(dec(&i["pipSize"]) > Decimal::ZERO, "{at}: pipSize");
            assert!(dec(&i["pipValue"]) > Decimal::ZERO, "{at}: pipValue");
        }
    }

    let find = |v: &Value, name: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .cloned()
            .unwrap()
    };
    let usd_pip = find(&usd, "EURUSD")["pipValue"].as_f64().unwrap();
    let eur_pip = find(&eur, "EURUSD")["pipValue"].as_f64().unwrap();
    assert!(
        (usd_pip - 0.0001).abs() < 1e-12,
        "USD account EURUSD pipValue {usd_pip}"
    );
    let tick = app.tick("EURUSD", app.now());
    let mid: f64 = ((tick.bid + tick.ask) / Decimal::TWO)
        .to_string()
        .parse()
        .unwrap();
    let expected = 0.0001 / mid;
    assert!(
        ((eur_pip - expected) / expected).abs() < 0.01,
        "EUR account EURUSD pipValue {eur_pip}, expected ~{expected}"
    );
    assert_ne!(usd_pip, eur_pip);
    // A EUR-quoted instrument is worth one pip in EUR on the EUR account.
    let de40 = find(&eur, "DE40");
    assert_eq!(dec(&de40["pipValue"]), dec(&de40["pipSize"]));
}
