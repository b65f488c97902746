//! Operator metrics: the documented series appear after real traffic (a login, polls, orders with a
//! requestId and its replay, a stream, trackLatency, failed upstream calls on the fake OANDA) with bounded
//! labels and moving counts; the page needs the token on the main listener and is served bare on the
//! separate one; no secret, token, user or account id reaches it; every series the Grafana dashboard
//! queries is one the bridge emits. The recorder is process-wide: assertions are on deltas and labels.

use crate::support::{self, fake_oanda::Fault, TestApp};
use axum::body::Body;
use axum::http::{header, Method, Request};
use http_body_util::BodyExt;
use std::collections::BTreeSet;
use std::sync::Arc;
use tower::ServiceExt;

const TOKEN_ENV: &str = "TVB_TEST_METRICS_TOKEN";
const SCRAPE_TOKEN: &str = "scrape-token-0123456789abcdef";

/// One sample line: name, labels, value.
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

fn parse(page: &str) -> Vec<Sample> {
    page.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split("\",")
                .filter(|p| !p.is_empty())
                .filter_map(|p| {
                    let (k, v) = p.split_once("=\"")?;
                    Some((k.to_owned(), v.trim_end_matches('"').to_owned()))
                })
                .collect();
            Some(Sample {
                name: name.to_owned(),
                labels,
                value: value.parse().ok()?,
            })
        })
        .collect()
}

/// The sum of every sample of `name` carrying all of `labels`.
fn sum(page: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    parse(page)
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.iter().any(|(a, b)| a == k && b == v))
        })
        .map(|s| s.value)
        .sum()
}

fn names(page: &str) -> BTreeSet<String> {
    parse(page).into_iter().map(|s| s.name).collect()
}

fn metrics_config(extra: &str) -> tvbridge::config::Config {
    // Set before the configuration is checked (it names a missing variable as a problem).
    std::env::set_var(TOKEN_ENV, SCRAPE_TOKEN);
    support::config(&format!("[metrics]\ntoken_env = \"{TOKEN_ENV}\"\n{extra}"))
}

async fn metered_app() -> TestApp {
    tvbridge::metrics::install();
    let store = tvbridge::metrics::store::MeteredStore::wrap(Arc::new(tvbridge::store::MemoryStore::new()));
    TestApp::with_store(metrics_config(""), store).await
}

/// GET /metrics on the main router with `token`: status, content type, body.
async fn scrape_with(app: &TestApp, token: Option<&str>) -> (u16, String, String) {
    let mut req = Request::builder().method(Method::GET).uri("/metrics");
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let res = app
        .router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status().as_u16();
    let ctype = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, ctype, String::from_utf8_lossy(&body).into_owned())
}

async fn scrape(app: &TestApp) -> String {
    let (status, ctype, body) = scrape_with(app, Some(SCRAPE_TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ctype, "text/plain; version=0.0.4; charset=utf-8");
    body
}

#[tokio::test]
async fn traffic_moves_the_documented_series_and_the_dashboard_queries_only_those() {
    let app = metered_app().await;
    let orders = ("endpoint", "/api/accounts/{account_id}/orders");
    let before = scrape(&app).await;

    // A failed login, a good one, polls, an order with a requestId and its replay, a refused order.
    let r = app
        .send(
            Method::POST,
            "/authorize",
            None,
            Some("login=demo&password=wrong-password&locale=en"),
        )
        .await;
    assert_eq!(r.body["s"], "error");
    let token = app.login().await;
    app.get(&token, "/accounts", "AccountsResponse").await;
    app.get(&token, "/accounts/demo-net/orders", "OrdersResponse")
        .await;
    let form = "instrument=EURUSD&qty=1000&side=buy&type=market";
    let path = "/accounts/demo-net/orders?requestId=metrics-test-1";
    let first = app.post(&token, path, form, "PostOrderResponse").await;
    let again = app.post(&token, path, form, "PostOrderResponse").await;
    assert_eq!(first["orderId"], again["orderId"]);
    let bad = app
        .send(
            Method::POST,
            "/accounts/demo-net/orders",
            Some(&token),
            Some("instrument=EURUSD&qty=-1&side=buy&type=market"),
        )
        .await;
    assert_eq!(bad.body["s"], "error");
    app.send(Method::GET, "/no/such/path/12345", None, None).await;
    let report = "transactionId=t1&transactionType=place_order&instrument=EURUSD&roundTripDuration=183";
    let r = app
        .send(
            Method::POST,
            "/accounts/demo-net/trackLatency",
            Some(&token),
            Some(report),
        )
        .await;
    assert_eq!(r.body["s"], "ok", "{:?}", r.body);

    // A stream: opened (the handler returned), then closed when the client goes.
    let req = Request::builder()
        .uri("/api/accounts/demo-net/stream/orders")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let stream = app.router.clone().oneshot(req).await.unwrap();
    assert_eq!(stream.status(), 200);
    let open = scrape(&app).await;
    assert!(
        sum(&open, "tvbridge_streams_open", &[("kind", "orders")]) >= 1.0,
        "{open}"
    );
    drop(stream);

    let after = scrape(&app).await;
    let delta = |name: &str, labels: &[(&str, &str)]| sum(&after, name, labels) - sum(&before, name, labels);
    assert!(delta("tvbridge_logins_total", &[("outcome", "ok")]) >= 1.0);
    assert!(delta("tvbridge_logins_total", &[("outcome", "failed")]) >= 1.0);
    assert!(
        delta(
            "tvbridge_http_requests_total",
            &[orders, ("method", "POST"), ("outcome", "ok")]
        ) >= 2.0
    );
    assert!(
        delta(
            "tvbridge_http_requests_total",
            &[orders, ("method", "POST"), ("outcome", "tv_error")]
        ) >= 1.0
    );
    assert!(
        delta(
            "tvbridge_http_requests_total",
            &[orders, ("method", "GET"), ("outcome", "ok")]
        ) >= 1.0
    );
    assert!(
        delta(
            "tvbridge_http_requests_total",
            &[("endpoint", "unmatched"), ("outcome", "4xx")]
        ) >= 1.0
    );
    assert!(
        delta(
            "tvbridge_http_request_duration_seconds_count",
            &[orders, ("method", "GET")]
        ) >= 1.0
    );
    assert!(
        delta(
            "tvbridge_http_requests_total",
            &[
                ("endpoint", "/api/accounts/{account_id}/stream/orders"),
                ("method", "GET")
            ]
        ) >= 1.0
    );
    assert!(delta("tvbridge_streams_opened_total", &[("kind", "orders")]) >= 1.0);
    assert!(
        delta(
            "tvbridge_streams_closed_total",
            &[("kind", "orders"), ("reason", "client_left")]
        ) >= 1.0
    );
    assert!(delta("tvbridge_idempotency_total", &[("outcome", "placed")]) >= 1.0);
    assert!(delta("tvbridge_idempotency_total", &[("outcome", "replayed")]) >= 1.0);
    assert!(
        delta(
            "tvbridge_trading_actions_total",
            &[("action", "place"), ("outcome", "ok")]
        ) >= 1.0
    );
    assert!(
        delta(
            "tvbridge_trading_actions_total",
            &[("action", "place"), ("outcome", "refused")]
        ) >= 1.0
    );
    assert!(delta("tvbridge_hub_snapshots_total", &[]) >= 1.0);
    assert!(
        delta(
            "tvbridge_store_operation_duration_seconds_count",
            &[("store", "memory"), ("op", "swap")]
        ) >= 1.0
    );
    assert!(
        delta(
            "tvbridge_tradingview_round_trip_seconds_count",
            &[("type", "place_order")]
        ) >= 1.0
    );
    assert!(
        sum(
            &after,
            "tvbridge_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ) == 1.0
    );

    // Upstream: the fake OANDA answers one 429 and one 503 (both retried, as reads), then succeeds.
    let (fake, oanda) = support::oanda::start("", "").await;
    let oanda_token = support::oanda::login(&oanda, support::oanda::V20).await;
    fake.inject(Fault::Status {
        status: 429,
        times: 1,
        path: Some("/orders".into()),
    });
    fake.inject(Fault::Status {
        status: 503,
        times: 1,
        path: Some("/orders".into()),
    });
    let orders_path = format!("/accounts/{}/orders", support::oanda::V20);
    oanda.get(&oanda_token, &orders_path, "OrdersResponse").await;
    let upstream = scrape(&app).await;
    let up = |outcome: &str| {
        sum(
            &upstream,
            "tvbridge_upstream_requests_total",
            &[("backend", "oanda"), ("outcome", outcome)],
        ) - sum(
            &after,
            "tvbridge_upstream_requests_total",
            &[("backend", "oanda"), ("outcome", outcome)],
        )
    };
    assert!(
        up("ok") >= 1.0 && up("throttled") >= 1.0 && up("server_error") >= 1.0,
        "{upstream}"
    );
    assert!(
        sum(
            &upstream,
            "tvbridge_upstream_requests_total",
            &[("backend", "oanda"), ("endpoint", "GET /v3/accounts/{id}/orders")]
        ) >= 1.0,
        "{upstream}"
    );
    assert!(
        sum(
            &upstream,
            "tvbridge_upstream_limit_wait_seconds_count",
            &[("backend", "oanda")]
        ) >= 1.0
    );

    // Nothing identifying: no token, password, user or account id, no raw path with an id.
    for secret in [
        SCRAPE_TOKEN,
        token.as_str(),
        oanda_token.as_str(),
        support::oanda::TOKEN,
        support::oanda::V20,
        "demo-net",
        "wrong-password",
        "login=",
        "/no/such",
        "metrics-test-1",
        "EURUSD",
    ] {
        assert!(!upstream.contains(secret), "{secret:?} appears in the scrape");
    }
    for sample in parse(&upstream) {
        for (k, v) in &sample.labels {
            assert!(
                !(k == "endpoint" && v.contains("demo")) && k != "user" && k != "account",
                "{k}={v}"
            );
        }
    }

    // Every documented series has a description and a type, and every series the dashboard queries is
    // in this scrape.
    for s in tvbridge::metrics::names::ALL {
        let family_present = names(&upstream).iter().any(|n| n.starts_with(s.name));
        if family_present {
            assert!(
                upstream.contains(&format!("# HELP {} ", s.name)),
                "no HELP for {}",
                s.name
            );
            assert!(
                upstream.contains(&format!("# TYPE {} ", s.name)),
                "no TYPE for {}",
                s.name
            );
        }
    }
    let emitted = names(&upstream);
    let queried = dashboard_series();
    assert!(queried.len() >= 15, "{queried:?}");
    let missing: Vec<_> = queried.iter().filter(|n| !emitted.contains(*n)).collect();
    assert!(
        missing.is_empty(),
        "the dashboard queries series the bridge does not emit: {missing:?}"
    );
}

/// Every `tvbridge_*` series name in the dashboard's PromQL expressions.
fn dashboard_series() -> BTreeSet<String> {
    let text = include_str!("../../docker/grafana/dashboards/tvbridge.json");
    let dashboard: serde_json::Value = serde_json::from_str(text).expect("the dashboard is JSON");
    let mut exprs = Vec::new();
    collect_exprs(&dashboard, &mut exprs);
    let mut out = BTreeSet::new();
    for expr in exprs {
        let mut rest = expr.as_str();
        while let Some(at) = rest.find("tvbridge_") {
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            out.insert(tail[..end].to_owned());
            rest = &tail[end..];
        }
    }
    out
}

fn collect_exprs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("expr", serde_json::Value::String(s)) | ("definition", serde_json::Value::String(s)) => {
                        out.push(s.clone())
                    }
                    _ => collect_exprs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_exprs(i, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_main_listener_needs_the_token_and_hides_the_page_without_one() {
    let app = metered_app().await;
    let (status, _, body) = scrape_with(&app, None).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("Bearer") && !body.contains(SCRAPE_TOKEN), "{body}");
    let (status, _, _) = scrape_with(&app, Some("scrape-token-0123456789abcdeX")).await;
    assert_eq!(status, 401);
    let (status, _, body) = scrape_with(&app, Some(SCRAPE_TOKEN)).await;
    assert_eq!(status, 200);
    assert!(body.contains("# TYPE tvbridge_build_info gauge"), "{body}");

    // No token configured: the path is an unknown endpoint like any other.
    let plain = TestApp::new().await;
    let (status, _, body) = scrape_with(&plain, Some(SCRAPE_TOKEN)).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("unknown endpoint /metrics"), "{body}");
}

#[tokio::test]
async fn the_separate_listener_serves_the_page_and_nothing_else() {
    tvbridge::metrics::install();
    let config = tvbridge::metrics::MetricsConfig {
        listen: "127.0.0.1:0".into(),
        ..Default::default()
    };
    let listener = tvbridge::metrics::serve::bind_side(&config)
        .await
        .unwrap()
        .expect("a listener");
    let addr = listener.local_addr().unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(tvbridge::server::run_side(
        listener,
        tvbridge::metrics::serve::side_router("/metrics"),
        4,
        stop.clone(),
    ));
    let http = reqwest::Client::new();
    let r = http.get(format!("http://{addr}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()[header::CONTENT_TYPE.as_str()],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert!(r.text().await.unwrap().contains("tvbridge_build_info"));
    let r = http.post(format!("http://{addr}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let r = http
        .get(format!("http://{addr}/api/accounts"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    stop.cancel();
    tokio::time::timeout(std::time::Duration::from_secs(5), server)
        .await
        .expect("the side listener stops")
        .unwrap();

    // An address in use is a clear start-up error naming the key.
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let busy = tvbridge::metrics::MetricsConfig {
        listen: taken.local_addr().unwrap().to_string(),
        ..Default::default()
    };
    let e = tvbridge::metrics::serve::bind_side(&busy)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("metrics.listen") && e.contains("cannot listen"), "{e}");
}
