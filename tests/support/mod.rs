//! Test harness: the whole app in-process (`tower::ServiceExt::oneshot`), the paper broker on a manual
//! clock, and every response body checked against the TradingView JSON schemas.
#![allow(dead_code)]

pub mod capital;
pub mod ibkr;
pub mod live;
pub mod log_capture;
pub mod oanda;
pub mod peer;
pub mod schema;
pub mod tally;

/// The fake upstreams live in their own crate (`fakes/`, compiled once); these names keep the tests'
/// `support::fake_capital` and `support::fake_oanda` paths.
pub use fakes::capital as fake_capital;
pub use fakes::ibkr as fake_ibkr;
pub use fakes::oanda as fake_oanda;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use rust_decimal::Decimal;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;
use tvbridge::backends::paper::feed::Tick;
use tvbridge::backends::paper::{default_instruments, ManualClock, Market, PaperBroker};
use tvbridge::config::Config;
use tvbridge::AppState;

/// 2026-01-05 12:00:00 UTC, a Monday: where every test's clock starts.
pub const T0_MS: i64 = 1_767_614_400_000;
/// The netting (USD) and hedging (EUR) accounts of the demo user.
pub const NET: &str = "demo-net";
pub const HEDGE: &str = "demo-hedge";

/// The default configuration (paper broker, user demo/demo) with extra TOML on top. The account hub
/// caches nothing (`freshness_ms = 0`): these tests move the paper clock and poll again at once.
pub fn config(extra_toml: &str) -> Config {
    let hub = if extra_toml.contains("[hub]") {
        ""
    } else {
        "[hub]\nfreshness_ms = 0\n"
    };
    let base = r#"
[[auth.users]]
login = "demo"
password = "demo"
name = "Demo Trader"
email = "demo@example.com"

[[auth.users]]
login = "other"
password = "other-pass"
"#;
    Config::from_toml(&format!("{hub}{base}\n{extra_toml}")).expect("test config is valid")
}

/// One app under test.
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub clock: ManualClock,
    pub market: Market,
    pub config: Config,
}

/// A response: status, headers and JSON body (or `Value::Null` when the body is not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestApp {
    /// The default app.
    pub async fn new() -> TestApp {
        TestApp::with_config(config("")).await
    }

    /// An app with `config`, its paper broker on a manual clock at [`T0_MS`], its books in memory.
    pub async fn with_config(config: Config) -> TestApp {
        TestApp::with_store(config, Arc::new(tvbridge::store::MemoryStore::new())).await
    }

    /// An app with `config`, its paper broker on a manual clock at [`T0_MS`], its books in `store`.
    pub async fn with_store(config: Config, store: Arc<dyn tvbridge::store::Store>) -> TestApp {
        let clock = ManualClock::new(T0_MS);
        let tvbridge::config::BackendConfig::Paper(paper) = config.backend.clone() else {
            panic!("TestApp::with_config runs the paper broker; use TestApp::with_broker for others");
        };
        let market = Market::new(paper.seed, paper.effective_instruments());
        let broker = PaperBroker::start_with_store_and_clock(paper, store, Arc::new(clock.clone()))
            .await
            .expect("paper broker starts");
        let mut app = TestApp::with_broker(config, Arc::new(broker));
        app.clock = clock;
        app.market = market;
        app
    }

    /// An app on the paper broker whose tokens, sessions and OAuth grants are judged by `auth_clock`.
    pub async fn with_auth_clock(config: Config, auth_clock: tvbridge::auth::clock::Clock) -> TestApp {
        let clock = ManualClock::new(T0_MS);
        let tvbridge::config::BackendConfig::Paper(paper) = config.backend.clone() else {
            panic!("TestApp::with_auth_clock runs the paper broker");
        };
        let market = Market::new(paper.seed, paper.effective_instruments());
        let store = Arc::new(tvbridge::store::MemoryStore::new());
        let broker = PaperBroker::start_with_store_and_clock(paper, store, Arc::new(clock.clone()))
            .await
            .expect("paper broker starts");
        let state = AppState::with_clock(config.clone(), Arc::new(broker), auth_clock);
        let router = tvbridge::app(state.clone());
        TestApp {
            router,
            state,
            clock,
            market,
            config,
        }
    }

    /// An app on any broker. `clock` and `market` then describe nothing (they belong to the paper broker).
    pub fn with_broker(config: Config, broker: Arc<dyn tvbridge::broker::Broker>) -> TestApp {
        let clock = ManualClock::new(T0_MS);
        let market = Market::new(0, default_instruments());
        let state = AppState::new(config.clone(), broker);
        let router = tvbridge::app(state.clone());
        TestApp {
            router,
            state,
            clock,
            market,
            config,
        }
    }

    /// Sends a request; `body` is a form.
    pub async fn send(&self, method: Method, path: &str, token: Option<&str>, body: Option<&str>) -> Reply {
        self.send_with(method, path, token, body, &[]).await
    }

    /// Sends a request with extra headers.
    pub async fn send_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let uri = if path.starts_with("/api") || path.starts_with("/healthz") || path.starts_with("/readyz") {
            path.to_owned()
        } else {
            format!("/api{path}")
        };
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        if body.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(Body::from(body.unwrap_or_default().to_owned()))
            .expect("request builds");
        let res = self.router.clone().oneshot(req).await.expect("router answers");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body reads").to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Logs in as `login`/`password` and returns the access token.
    pub async fn login_as(&self, login: &str, password: &str) -> String {
        let form = format!("login={login}&password={password}&locale=en");
        let r = self.send(Method::POST, "/authorize", None, Some(&form)).await;
        ok(&r, "AuthorizeResponse");
        r.body["d"]["access_token"].as_str().expect("token").to_owned()
    }

    /// Logs in as the demo user.
    pub async fn login(&self) -> String {
        self.login_as("demo", "demo").await
    }

    /// GET that must succeed with the `{s:"ok",d}` envelope and schema `def`; returns `d`.
    pub async fn get(&self, token: &str, path: &str, def: &str) -> Value {
        let r = self.send(Method::GET, path, Some(token), None).await;
        ok(&r, def)
    }

    /// POST form that must succeed with schema `def`; returns `d`.
    pub async fn post(&self, token: &str, path: &str, form: &str, def: &str) -> Value {
        let r = self.send(Method::POST, path, Some(token), Some(form)).await;
        ok(&r, def)
    }

    /// PUT form that must succeed with `{"s":"ok"}`.
    pub async fn put(&self, token: &str, path: &str, form: &str) {
        let r = self.send(Method::PUT, path, Some(token), Some(form)).await;
        ok(&r, "OkEmpty");
    }

    /// DELETE (optional form) that must succeed with `{"s":"ok"}`.
    pub async fn delete(&self, token: &str, path: &str, form: Option<&str>) {
        let r = self.send(Method::DELETE, path, Some(token), form).await;
        ok(&r, "OkEmpty");
    }

    /// A request that must be refused with HTTP 200 and the error envelope; returns `errmsg`.
    pub async fn refused(&self, method: Method, token: &str, path: &str, form: Option<&str>) -> String {
        let r = self.send(method.clone(), path, Some(token), form).await;
        assert_eq!(r.status, StatusCode::OK, "{method} {path} {form:?}: {}", r.body);
        schema::assert_schema("ErrorResponse", &r.body);
        r.body["errmsg"].as_str().expect("errmsg").to_owned()
    }

    /// Places an order and returns its id.
    pub async fn place(&self, token: &str, account: &str, form: &str) -> String {
        let d = self
            .post(
                token,
                &format!("/accounts/{account}/orders?locale=en"),
                form,
                "PostOrderResponse",
            )
            .await;
        d["orderId"].as_str().expect("orderId").to_owned()
    }

    /// `/orders` of `account`.
    pub async fn orders(&self, token: &str, account: &str) -> Vec<Value> {
        self.get(
            token,
            &format!("/accounts/{account}/orders?locale=en"),
            "OrdersResponse",
        )
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
    }

    /// The order `id` from `/orders`.
    pub async fn order(&self, token: &str, account: &str, id: &str) -> Value {
        self.orders(token, account)
            .await
            .into_iter()
            .find(|o| o["id"] == id)
            .unwrap_or_else(|| panic!("order {id} not in /orders"))
    }

    /// `/positions` of a netting account.
    pub async fn positions(&self, token: &str, account: &str) -> Vec<Value> {
        self.get(
            token,
            &format!("/accounts/{account}/positions?locale=en"),
            "PositionsResponse",
        )
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
    }

    /// `/state` of `account`.
    pub async fn state(&self, token: &str, account: &str) -> Value {
        self.get(
            token,
            &format!("/accounts/{account}/state?locale=en"),
            "AccountStateResponse",
        )
        .await
    }

    /// Backend fetches made by the account hubs so far.
    pub fn hub_fetches(&self) -> u64 {
        self.state.hubs().total_fetches()
    }

    /// Current time of the paper broker, unix seconds.
    pub fn now(&self) -> i64 {
        T0_MS / 1000 + (self.clock_ms() - T0_MS) / 1000
    }

    fn clock_ms(&self) -> i64 {
        use tvbridge::backends::paper::Clock;
        self.clock.now_ms()
    }

    /// Moves the paper broker's clock forward.
    pub fn advance(&self, secs: i64) {
        self.clock.advance_ms(secs * 1000);
    }

    /// The paper market of `symbol` at second `t` (the same pure function the broker uses).
    pub fn tick(&self, symbol: &str, t: i64) -> Tick {
        let ins = self.market.get(symbol).expect("known symbol");
        self.market.tick(ins, t)
    }

    /// The first second in `(from, from + within]` where `pred` holds for `symbol`'s tick.
    pub fn first_second(
        &self,
        symbol: &str,
        from: i64,
        within: i64,
        pred: impl Fn(&Tick) -> bool,
    ) -> Option<i64> {
        (from + 1..=from + within).find(|t| pred(&self.tick(symbol, *t)))
    }
}

/// Asserts HTTP 200, `s == "ok"` and schema `def`; returns `d` (the whole body for `{"s":"ok"}`).
pub fn ok(r: &Reply, def: &str) -> Value {
    assert_eq!(r.status, StatusCode::OK, "expected 200, body {}", r.body);
    assert_eq!(r.body["s"], "ok", "expected s=ok, body {}", r.body);
    schema::assert_schema(def, &r.body);
    r.body.get("d").cloned().unwrap_or_else(|| r.body.clone())
}

/// A JSON number as Decimal (exact for the values the server writes).
pub fn dec(v: &Value) -> Decimal {
    let f = v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"));
    Decimal::from_f64_retain(f)
        .map(|d| d.round_dp(10).normalize())
        .expect("finite")
}

/// Default instruments, for tests that iterate over them.
pub fn instrument_names() -> Vec<String> {
    default_instruments().into_iter().map(|i| i.symbol).collect()
}
