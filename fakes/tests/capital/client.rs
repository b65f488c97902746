//! A minimal Capital.com client for the fake's own tests: login, JSON calls with the session headers,
//! and a deal helper that posts and fetches the confirmation.

use fakes::capital::{FakeCapital, FakeOptions};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;
use std::time::Duration;

pub const IDENTIFIER: &str = "demo@example.com";
pub const PASSWORD: &str = "demo-password";

/// Options with limits high enough that only the rate-limit tests ever meet them.
pub fn relaxed() -> FakeOptions {
    FakeOptions {
        requests_per_second: 10_000,
        session_creations_per_second: 10_000,
        ..FakeOptions::default()
    }
}

/// A fake with relaxed limits.
pub async fn start() -> FakeCapital {
    FakeCapital::start(relaxed()).await
}

/// A decimal from a literal.
pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("test decimal")
}

/// A JSON number as a decimal (panics in tests when it is not a number).
pub fn num(v: &Value) -> Decimal {
    match v {
        Value::Number(n) => dec(&n.to_string()),
        other => panic!("expected a number, got {other}"),
    }
}

/// A logged-in session.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub cst: String,
    pub token: String,
}

/// `POST /session` with the given key and credentials: (status, body, CST, X-SECURITY-TOKEN).
pub async fn raw_login(
    fake: &FakeCapital,
    api_key: Option<&str>,
    identifier: &str,
    password: &str,
) -> (u16, Value, Option<String>, Option<String>) {
    let http = reqwest::Client::new();
    let mut req = http
        .post(format!("{}/session", fake.base_url))
        .json(&json!({ "identifier": identifier, "password": password, "encryptedPassword": false }));
    if let Some(k) = api_key {
        req = req.header("X-CAP-API-KEY", k);
    }
    let resp = req.send().await.expect("login request");
    let status = resp.status().as_u16();
    let h = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (cst, token) = (h("CST"), h("X-SECURITY-TOKEN"));
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    (status, body, cst, token)
}

/// Logs in as the demo user.
pub async fn login(fake: &FakeCapital) -> Client {
    let (status, body, cst, token) = raw_login(fake, Some(&fake.api_key), IDENTIFIER, PASSWORD).await;
    assert_eq!(status, 200, "login failed: {body}");
    Client {
        http: reqwest::Client::new(),
        base: fake.base_url.clone(),
        cst: cst.expect("CST header"),
        token: token.expect("X-SECURITY-TOKEN header"),
    }
}

impl Client {
    /// A call with the session headers: (status, JSON body or `null`).
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call_with(&self.http, method, path, body)
            .await
            .expect("request to the fake")
    }

    /// Like [`Client::call`] with another HTTP client (e.g. one with a short timeout).
    pub async fn call_with(
        &self,
        http: &reqwest::Client,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), reqwest::Error> {
        let mut req = http
            .request(method, format!("{}{path}", self.base))
            .header("CST", &self.cst)
            .header("X-SECURITY-TOKEN", &self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let text = resp.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// Fetches a confirmation (asserting it exists).
    pub async fn confirm(&self, reference: &Value) -> Value {
        let reference = reference.as_str().expect("a deal reference");
        let (status, body) = self.get(&format!("/confirms/{reference}")).await;
        assert_eq!(status, 200, "confirm {reference}: {body}");
        body
    }

    /// `POST path` (a deal) then its confirmation.
    pub async fn deal(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.post(path, body).await;
        assert_eq!(status, 200, "{path}: {answer}");
        self.confirm(&answer["dealReference"]).await
    }

    /// Switches the session to another account.
    pub async fn switch(&self, account: &str) {
        let (status, body) = self.put("/session", json!({ "accountId": account })).await;
        assert_eq!(status, 200, "switch to {account}: {body}");
    }
}

/// An HTTP client that gives up quickly.
pub fn impatient(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .expect("http client")
}
