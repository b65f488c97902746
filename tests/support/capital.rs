//! The bridge on the Capital.com backend against the fake Capital.com: configuration, start-up and the
//! request-log queries the tests assert on (rates, counts).

use super::fake_capital::{FakeCapital, FakeOptions, LoggedRequest};
use super::live::LiveApp;
use super::TestApp;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tvbridge::backends::capital::CapitalBroker;
use tvbridge::config::{BackendConfig, Config};

/// The fake's demo user (pass-through login).
pub const LOGIN: &str = "demo@example.com";
pub const PASSWORD: &str = "demo-password";
/// The fake demo user's netting and hedging accounts.
pub const NET: &str = "ACC-NET";
pub const HEDGE: &str = "ACC-HEDGE";

/// A configuration of the Capital.com backend pointed at `fake`, with `extra` TOML appended to `[backend]`
/// and the account hub caching nothing unless `hub` is given.
pub fn config(fake: &FakeCapital, backend_extra: &str, rest: &str) -> Config {
    let hub = if rest.contains("[hub]") {
        ""
    } else {
        "[hub]\nfreshness_ms = 0\n"
    };
    let text = format!(
        r#"{hub}
{rest}

[backend]
kind = "capital"
base_url = "{base}"
stream_url = "{ws}"
api_key = "{key}"
{backend_extra}
"#,
        base = fake.base_url,
        ws = fake.ws_url,
        key = fake.api_key,
    );
    Config::from_toml(&text).unwrap_or_else(|e| panic!("test config is valid: {e}\n{text}"))
}

/// Starts the Capital.com broker for `config`.
pub fn broker(config: &Config) -> Arc<CapitalBroker> {
    let BackendConfig::Capital(capital) = &config.backend else {
        panic!("capital config expected");
    };
    Arc::new(CapitalBroker::start(capital).expect("capital broker starts"))
}

/// Starts the Capital.com broker for `config` with the fake's clock as the data feed's "now" (so the
/// bridge and a fake clock far from real time agree on what is recent, as the bridge and Capital.com do).
pub fn broker_on(config: &Config, fake: &FakeCapital) -> Arc<CapitalBroker> {
    let BackendConfig::Capital(capital) = &config.backend else {
        panic!("capital config expected");
    };
    let resolved = capital
        .resolve(&|name| std::env::var(name).ok())
        .expect("the test configuration resolves");
    Arc::new(
        CapitalBroker::start_with_clock(resolved, Arc::new(fake.clock())).expect("capital broker starts"),
    )
}

/// The fake (default options) and the bridge in-process on it.
pub async fn start(backend_extra: &str, rest: &str) -> (FakeCapital, TestApp) {
    start_with(FakeOptions::default(), backend_extra, rest).await
}

pub async fn start_with(options: FakeOptions, backend_extra: &str, rest: &str) -> (FakeCapital, TestApp) {
    let fake = FakeCapital::start(options).await;
    let config = config(&fake, backend_extra, rest);
    let app = TestApp::with_broker(config.clone(), broker(&config));
    (fake, app)
}

/// The fake and the bridge on a real socket (streams).
pub async fn start_live(backend_extra: &str, rest: &str) -> (FakeCapital, LiveApp) {
    let fake = FakeCapital::start(FakeOptions::default()).await;
    let config = config(&fake, backend_extra, rest);
    let app = LiveApp::with_broker(config.clone(), broker(&config)).await;
    (fake, app)
}

/// Logs the fake's demo user in (pass-through) and returns the bridge token.
pub async fn login(app: &TestApp) -> String {
    app.login_as(LOGIN, PASSWORD).await
}

/// Most requests any one upstream session made within any sliding second.
pub fn max_per_second(requests: &[LoggedRequest]) -> usize {
    let mut by_session: HashMap<&str, Vec<Instant>> = HashMap::new();
    for r in requests {
        if let Some(cst) = r.cst.as_deref() {
            by_session.entry(cst).or_default().push(r.at);
        }
    }
    let mut worst = 0;
    for times in by_session.values_mut() {
        times.sort();
        for (i, t) in times.iter().enumerate() {
            let n = times[i..]
                .iter()
                .take_while(|u| u.duration_since(*t) < Duration::from_secs(1))
                .count();
            worst = worst.max(n);
        }
    }
    worst
}

/// Requests of `method` on `path` (exact, without query).
pub fn count(requests: &[LoggedRequest], method: &str, path: &str) -> usize {
    requests
        .iter()
        .filter(|r| r.method == method && r.path == path)
        .count()
}

/// `GET path` (under `/api`) on a clone of the router, for tests that fire many requests from tasks.
pub async fn get_json(router: axum::Router, token: &str, path: &str) -> serde_json::Value {
    let req = axum::http::Request::get(format!("/api{path}"))
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .expect("request builds");
    let res = tower::ServiceExt::oneshot(router, req)
        .await
        .expect("router answers");
    let bytes = http_body_util::BodyExt::collect(res.into_body())
        .await
        .expect("body reads")
        .to_bytes();
    serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)
}
