//! A minimal OANDA client for the fake's own tests: JSON calls for v20, form calls for v1, and a
//! line reader for the streams.

use chrono::{DateTime, TimeZone, Utc};
use fakes::oanda::{FakeOanda, FakeOptions};
use futures_util::StreamExt;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;
use std::time::Duration;

pub const TOKEN: &str = "fake-token";
/// The default netting v20 account, the hedging one and the v1 legacy one.
pub const NET: &str = "101-004-1234567-001";
pub const HEDGE: &str = "101-004-1234567-002";
pub const V1: &str = "7654321";

/// Wednesday 2026-03-04 15:00 UTC: markets open, New York on standard time.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 15, 0, 0)
        .single()
        .expect("valid time")
}

/// Options with a fixed clock start, a short heartbeat and limits only the rate-limit tests meet.
pub fn options() -> FakeOptions {
    FakeOptions {
        requests_per_second: 10_000,
        heartbeat: Duration::from_millis(150),
        now: Some(t0()),
        ..FakeOptions::default()
    }
}

/// A fake with [`options`].
pub async fn start() -> FakeOanda {
    FakeOanda::start(options()).await
}

/// A decimal from a literal.
pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("test decimal")
}

/// A JSON string or number as a decimal (panics in tests when it is neither).
pub fn d(v: &Value) -> Decimal {
    match v {
        Value::String(s) => dec(s),
        Value::Number(n) => dec(&n.to_string()),
        other => panic!("expected a decimal, got {other}"),
    }
}

/// A caller with one token against one fake.
pub struct Client {
    pub http: reqwest::Client,
    pub rest: String,
    pub stream: String,
    pub token: Option<String>,
}

impl Client {
    pub fn new(fake: &FakeOanda) -> Client {
        Client::with_token(fake, Some(TOKEN))
    }

    pub fn with_token(fake: &FakeOanda, token: Option<&str>) -> Client {
        Client {
            http: reqwest::Client::new(),
            rest: fake.rest_url.clone(),
            stream: fake.stream_url.clone(),
            token: token.map(str::to_string),
        }
    }

    fn request(&self, method: Method, url: String) -> reqwest::RequestBuilder {
        let req = self.http.request(method, url);
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// A call on the REST listener: (status, JSON body or `null`).
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.request(method, format!("{}{path}", self.rest));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request to the fake");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
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

    /// A v1 call with a form body.
    pub async fn form(&self, method: Method, path: &str, fields: &[(&str, &str)]) -> (u16, Value) {
        let resp = self
            .request(method, format!("{}{path}", self.rest))
            .form(fields)
            .send()
            .await
            .expect("request to the fake");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `POST /v3/accounts/{account}/orders` with `order`, asserting 201.
    pub async fn order(&self, account: &str, order: Value) -> Value {
        let (status, body) = self
            .post(
                &format!("/v3/accounts/{account}/orders"),
                json!({ "order": order }),
            )
            .await;
        assert_eq!(status, 201, "order refused: {body}");
        body
    }

    /// A market order of `units` of `instrument`, asserting it filled; returns the fill transaction.
    pub async fn market(&self, account: &str, instrument: &str, units: i64) -> Value {
        let body = self
            .order(
                account,
                json!({ "type": "MARKET", "instrument": instrument, "units": units.to_string() }),
            )
            .await;
        assert!(body["orderFillTransaction"].is_object(), "not filled: {body}");
        body["orderFillTransaction"].clone()
    }

    /// Opens a stream on the stream listener.
    pub async fn open_stream(&self, path: &str) -> reqwest::Response {
        self.request(Method::GET, format!("{}{path}", self.stream))
            .send()
            .await
            .expect("stream request")
    }
}

/// Reads NDJSON lines of a streaming answer.
pub struct Lines {
    body: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buf: Vec<u8>,
    /// Whether the body ended.
    pub ended: bool,
}

impl Lines {
    pub fn new(resp: reqwest::Response) -> Lines {
        Lines {
            body: resp.bytes_stream().boxed(),
            buf: Vec::new(),
            ended: false,
        }
    }

    /// The next complete line as JSON, or None when the body ended or `wait` passed.
    pub async fn next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                return serde_json::from_slice(&line[..line.len() - 1]).ok();
            }
            if self.ended {
                return None;
            }
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Ok(Some(Ok(chunk))) => self.buf.extend_from_slice(&chunk),
                Ok(Some(Err(_))) | Ok(None) => self.ended = true,
                Err(_) => return None,
            }
        }
    }

    /// Skips lines until one satisfies `pred` (heartbeats and others are dropped).
    pub async fn until(&mut self, wait: Duration, pred: impl Fn(&Value) -> bool) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let line = self.next(left).await?;
            if pred(&line) {
                return Some(line);
            }
        }
    }
}

/// Waits until `cond` holds (polling), for at most `wait`.
pub async fn eventually(wait: Duration, cond: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    while tokio::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cond()
}
