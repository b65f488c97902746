//! The venue against a tiny scripted OANDA on 127.0.0.1: every request is recorded, every answer is a
//! documented payload queued per method and path (the last one repeats), and the bearer token is checked
//! the way OANDA does (401 with `errorMessage`).

mod reads;
mod writes;

use super::convert::fixtures;
use crate::backends::oanda::catalog::AccountCatalog;
use crate::backends::oanda::client::Http;
use crate::backends::oanda::venue::{Conn, Ctx};
use crate::secret::Secret;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const TOKEN: &str = "t0ken-of-tests";

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub body: Value,
}

#[derive(Default)]
struct Script {
    answers: HashMap<(Method, String), VecDeque<(StatusCode, Value)>>,
    seen: Vec<Seen>,
}

/// The scripted OANDA.
#[derive(Clone, Default)]
pub struct Fake {
    script: Arc<Mutex<Script>>,
}

impl Fake {
    /// Queues an answer to `method path` (path without query). The last queued answer repeats.
    pub fn on(&self, method: Method, path: &str, status: u16, body: Value) -> &Self {
        let status = StatusCode::from_u16(status).expect("status");
        self.script
            .lock()
            .unwrap()
            .answers
            .entry((method, path.to_string()))
            .or_default()
            .push_back((status, body));
        self
    }

    /// Requests received so far with this method and path.
    pub fn seen(&self, method: &Method, path: &str) -> Vec<Seen> {
        self.script
            .lock()
            .unwrap()
            .seen
            .iter()
            .filter(|s| s.method == *method && s.path == path)
            .cloned()
            .collect()
    }

    /// Every write received (anything but GET).
    pub fn writes(&self) -> Vec<Seen> {
        self.script
            .lock()
            .unwrap()
            .seen
            .iter()
            .filter(|s| s.method != Method::GET)
            .cloned()
            .collect()
    }

    /// Serves on 127.0.0.1 and returns the base URL.
    pub async fn serve(&self) -> String {
        let app = Router::new().fallback(answer).with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        format!("http://{addr}")
    }
}

async fn answer(
    State(fake): State<Fake>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {TOKEN}"));
    if !authorized {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"errorMessage": "Insufficient authorization to perform request."})),
        )
            .into_response();
    }
    let mut script = fake.script.lock().unwrap();
    script.seen.push(Seen {
        method: method.clone(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or_default().to_string(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    let queue = script.answers.get_mut(&(method, uri.path().to_string()));
    let (status, body) = match queue {
        Some(q) if q.len() > 1 => q.pop_front().expect("queued"),
        Some(q) if !q.is_empty() => q[0].clone(),
        _ => (
            StatusCode::NOT_FOUND,
            json!({"errorCode": "NOT_SCRIPTED", "errorMessage": format!("no answer for {}", uri.path())}),
        ),
    };
    (status, axum::Json(body)).into_response()
}

/// The path of the fixture account (+ `rest`).
pub fn path(rest: &str) -> String {
    format!("/v3/accounts/{}{rest}", fixtures::ACCOUNT_ID)
}

/// A connection to `base` with the test token.
pub fn conn(base: &str) -> Conn {
    Conn {
        http: Arc::new(Http::new(base, base, 100, Duration::from_secs(2)).expect("client")),
        token: Secret::new(TOKEN),
    }
}

/// The start of the bridge session of the tests.
pub fn since() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2016, 10, 28, 0, 0, 0)
        .single()
        .expect("date")
}

/// A call context on the fixture account.
pub fn ctx<'a>(conn: &'a Conn, catalog: &'a AccountCatalog) -> Ctx<'a> {
    Ctx {
        conn,
        account: fixtures::ACCOUNT_ID,
        catalog,
        since: since(),
    }
}

/// A fake that serves the fixture account.
pub async fn with_account() -> (Fake, String) {
    let fake = Fake::default();
    fake.on(Method::GET, &path(""), 200, fixtures::account_json());
    let base = fake.serve().await;
    (fake, base)
}
