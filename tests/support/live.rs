//! A live server on a real socket (127.0.0.1, an ephemeral port) for stream tests, and a reader that
//! splits a chunked response into JSON lines.

use super::T0_MS;
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use serde_json::Value;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tvbridge::backends::paper::{Clock, ManualClock, PaperBroker, SystemClock};
use tvbridge::config::Config;
use tvbridge::AppState;

/// The app served over TCP.
pub struct LiveApp {
    pub base: String,
    pub state: AppState,
    /// Set when the paper broker runs on a manual clock.
    pub clock: Option<ManualClock>,
    pub http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for LiveApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl LiveApp {
    /// Serves `config` on 127.0.0.1:0; the paper broker uses a manual clock at T0 when `manual_clock`.
    pub async fn start(config: Config, manual_clock: bool) -> LiveApp {
        let manual = manual_clock.then(|| ManualClock::new(T0_MS));
        let clock: Arc<dyn Clock> = match &manual {
            Some(c) => Arc::new(c.clone()),
            None => Arc::new(SystemClock),
        };
        let tvbridge::config::BackendConfig::Paper(paper) = config.backend.clone() else {
            panic!("LiveApp::start runs the paper broker; use LiveApp::with_broker for others");
        };
        let broker = PaperBroker::start_with_clock(paper, clock)
            .await
            .expect("paper starts");
        let mut app = LiveApp::with_broker(config, Arc::new(broker)).await;
        app.clock = manual;
        app
    }

    /// Serves `config` with any broker on 127.0.0.1:0.
    pub async fn with_broker(config: Config, broker: Arc<dyn tvbridge::broker::Broker>) -> LiveApp {
        let manual = None;
        let state = AppState::new(config, broker);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let app = tvbridge::app(state.clone());
        // The bridge's own edge (timeouts, connection cap), as `serve` runs it.
        let served = state.clone();
        let server = tokio::spawn(async move {
            tvbridge::server::run(listener, served, app, std::future::pending()).await;
        });
        LiveApp {
            base: format!("http://{addr}/api"),
            state,
            clock: manual,
            http: reqwest::Client::new(),
            server,
        }
    }

    /// Logs in as demo/demo.
    pub async fn login(&self) -> String {
        let r = self
            .form("POST", "/authorize", None, "login=demo&password=demo&locale=en")
            .await;
        r["d"]["access_token"].as_str().expect("token").to_owned()
    }

    /// A form request; returns the JSON body.
    pub async fn form(&self, method: &str, path: &str, token: Option<&str>, form: &str) -> Value {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json body")
    }

    /// A GET; returns status and JSON body.
    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Opens a stream.
    pub async fn open(&self, path: &str, token: &str) -> Lines {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("stream opens");
        assert_eq!(r.status(), 200, "stream {path}");
        let headers = r.headers().clone();
        Lines {
            body: Box::pin(r.bytes_stream()),
            buf: BytesMut::new(),
            headers,
        }
    }

    /// Moves the manual clock forward.
    pub fn advance(&self, secs: i64) {
        self.clock.as_ref().expect("manual clock").advance_ms(secs * 1000);
    }

    /// The paper clock's time, unix seconds.
    pub fn now(&self) -> i64 {
        match &self.clock {
            Some(c) => c.now_ms() / 1000,
            None => SystemClock.now_ms() / 1000,
        }
    }
}

/// A stream response read line by line.
pub struct Lines {
    body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    /// Received bytes not yet returned; lines are split off the front without moving the rest.
    buf: BytesMut,
    pub headers: reqwest::header::HeaderMap,
}

impl Lines {
    /// The next line as JSON, or `None` when nothing came within `wait` (or the stream ended).
    pub async fn next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
                let line = self.buf.split_to(i + 1);
                let text = std::str::from_utf8(&line[..line.len() - 1]).expect("utf-8 line");
                assert!(
                    !text.contains('\n') && !text.is_empty(),
                    "one compact JSON object per line: {text:?}"
                );
                return Some(serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")));
            }
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Ok(Some(Ok(chunk))) => self.buf.extend_from_slice(&chunk),
                Ok(Some(Err(e))) => panic!("stream broke: {e}"),
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// The next line that satisfies `pred`, skipping others, within `wait` overall.
    pub async fn next_matching(&mut self, wait: Duration, pred: impl Fn(&Value) -> bool) -> Option<Value> {
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
