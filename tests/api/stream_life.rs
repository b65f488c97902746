//! Stream lifetimes, in-process: every stream ends when its token expires or its session logs out, the
//! per-session and per-user limits refuse extra streams with a clear error, each stream leaves an audit
//! line when it opens and closes, and a late `/streaming` subscriber gets every symbol's latest quote at once.

use crate::support;

use axum::body::Body;
use axum::http::Request;
use futures_util::StreamExt;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::TestApp;
use tokio::time::Instant;
use tower::ServiceExt;

/// A streaming response read in-process, line by line.
struct Lines {
    body: axum::body::BodyDataStream,
    text: String,
}

impl Lines {
    async fn open(app: &TestApp, path: &str, token: &str) -> Lines {
        let req = Request::get(format!("/api{path}"))
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let res = app.router.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), 200);
        Lines {
            body: res.into_body().into_data_stream(),
            text: String::new(),
        }
    }

    /// The next line, `Ok(None)` when the body ended, `Err(())` when nothing came within `wait`.
    async fn next(&mut self, wait: Duration) -> Result<Option<Value>, ()> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(i) = self.text.find('\n') {
                let line: String = self.text.drain(..=i).collect();
                return Ok(Some(serde_json::from_str(line.trim()).unwrap()));
            }
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Err(_) => return Err(()),
                Ok(None) => return Ok(None),
                Ok(Some(chunk)) => self.text.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap()),
            }
        }
    }

    /// Every line until the body ends; panics when it has not ended within `wait`.
    async fn read_to_end(&mut self, wait: Duration) -> Vec<Value> {
        let deadline = Instant::now() + wait;
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Ok(Some(line)) => lines.push(line),
                Ok(None) => return lines,
                Err(()) => panic!(
                    "the stream did not end within {wait:?}; last lines {:?}",
                    lines.last()
                ),
            }
        }
    }
}

const STREAMS: [&str; 4] = [
    "/accounts/demo-net/stream/orders",
    "/accounts/demo-net/stream/state",
    "/stream/quotes?accountId=demo-net&symbols=EURUSD,BTCUSD",
    "/streaming",
];

/// With a 60 s token, every kind of stream ends with the expiry line about 60 s after login, on tokio's
/// paused clock (the check is a timer per stream, not a clock read per line).
#[tokio::test(start_paused = true)]
async fn every_stream_ends_when_its_token_expires() {
    let app = TestApp::with_config(support::config("[auth]\ntoken_ttl_secs = 60\n")).await;
    let token = app.login().await;
    let started = Instant::now();
    let mut open = Vec::new();
    for path in STREAMS {
        open.push((path, Lines::open(&app, path, &token).await));
    }
    // Read side by side, as clients would.
    let ends = futures_util::future::join_all(open.into_iter().map(|(path, mut lines)| async move {
        let all = lines.read_to_end(Duration::from_secs(600)).await;
        (path, all, started.elapsed())
    }))
    .await;
    for (path, all, took) in ends {
        let last = all.last().unwrap();
        assert_eq!(last["s"], "error", "{path}: {last}");
        assert_eq!(
            last["errmsg"], "the access token has expired; please log in again",
            "{path}"
        );
        assert!(
            took <= Duration::from_secs(61),
            "{path} ended {took:?} after login"
        );
        assert!(all.len() >= 2, "{path}: data flowed before the end");
    }
    // They ended at the token's expiry, 60 s after login less the real time the set-up took (the expiry
    // is a wall-clock time; the test's clock is paused): generous, since this machine may be busy.
    assert!(
        started.elapsed() >= Duration::from_secs(45),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(app.state.streams().open_streams(), 0);
}

/// Logout ends every stream at once, quote streams and `/streaming` included, with the logout line.
#[tokio::test]
async fn logout_ends_every_stream_including_quotes_and_the_data_feed() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let mut open = Vec::new();
    for path in STREAMS {
        let mut lines = Lines::open(&app, path, &token).await;
        if !path.contains("streaming") {
            assert!(
                lines.next(Duration::from_secs(5)).await.unwrap().is_some(),
                "{path}: snapshot"
            );
        }
        open.push((path, lines));
    }
    assert_eq!(app.state.streams().open_streams(), 4);
    let r = app
        .send(
            axum::http::Method::POST,
            "/logout",
            Some(&token),
            Some("locale=en"),
        )
        .await;
    assert_eq!(r.body["s"], "ok");
    for (path, mut lines) in open {
        let rest = lines.read_to_end(Duration::from_secs(5)).await;
        let last = rest.last().unwrap_or_else(|| panic!("{path}: no final line"));
        assert_eq!(last["s"], "error", "{path}: {last}");
        assert_eq!(
            last["errmsg"], "Your broker session has ended. Please log in again.",
            "{path}"
        );
    }
    assert_eq!(app.state.streams().open_streams(), 0);
}

/// The per-session limit refuses a stream with an envelope naming the limit; closing one makes room.
#[tokio::test]
async fn the_per_session_and_per_user_stream_limits_refuse_with_a_clear_error() {
    let app = TestApp::with_config(support::config(
        "[server]\nmax_streams_per_session = 2\nmax_streams_per_user = 3\n",
    ))
    .await;
    let token = app.login().await;
    let first = Lines::open(&app, STREAMS[0], &token).await;
    let _second = Lines::open(&app, STREAMS[1], &token).await;
    let refused = app
        .refused(axum::http::Method::GET, &token, STREAMS[2], None)
        .await;
    assert_eq!(
        refused,
        "Too many open streams: this session already has 2 (the limit is 2 per session); close one and try again"
    );
    drop(first);
    let _third = Lines::open(&app, STREAMS[2], &token).await;

    // The same user in a second session: one more fits under the user's limit of 3, then no more.
    let other = app.login().await;
    let _fourth = Lines::open(&app, STREAMS[0], &other).await;
    let refused = app
        .refused(axum::http::Method::GET, &other, STREAMS[1], None)
        .await;
    assert!(refused.contains("the limit is 3 per user"), "{refused}");
}

/// Log lines written by this test's thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One audit line when a stream opens and one when it closes, with user, account, kind, duration and why.
#[tokio::test]
async fn streams_leave_an_audit_line_when_they_open_and_close() {
    let logs = Captured::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = TestApp::new().await;
    let token = app.login().await;
    let mut orders = Lines::open(&app, STREAMS[0], &token).await;
    orders.next(Duration::from_secs(5)).await.unwrap();
    let quotes = Lines::open(&app, STREAMS[2], &token).await;
    drop(quotes);
    app.send(axum::http::Method::POST, "/logout", Some(&token), None)
        .await;
    orders.read_to_end(Duration::from_secs(5)).await;
    drop(orders);
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("stream ")).collect();
    let has = |parts: &[&str]| lines.iter().any(|l| parts.iter().all(|p| l.contains(p)));
    assert!(
        has(&[
            "stream opened",
            "user=demo",
            "account=\"demo-net\"",
            "kind=\"orders\""
        ]),
        "{text}"
    );
    assert!(
        has(&[
            "stream closed",
            "kind=\"orders\"",
            "reason=\"logged out\"",
            "duration_secs="
        ]),
        "{text}"
    );
    assert!(
        has(&["stream closed", "kind=\"quotes\"", "reason=\"client left\""]),
        "{text}"
    );
}

/// A `/streaming` client that connects after the prices last moved still gets every symbol's latest quote,
/// trade and daily bar at once (the paper clock is frozen here: no new tick would come).
#[tokio::test]
async fn a_late_streaming_subscriber_gets_every_symbols_latest_quote_at_once() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let _early = Lines::open(&app, "/streaming", &token).await;
    let symbols = support::instrument_names();
    let deadline = Instant::now() + Duration::from_secs(10);
    for s in &symbols {
        while app.state.quotes().latest(s).await.unwrap().is_none() {
            assert!(Instant::now() < deadline, "no tick of {s}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let mut late = Lines::open(&app, "/streaming", &token).await;
    let mut quoted = BTreeSet::new();
    while let Ok(Some(line)) = late.next(Duration::from_millis(1000)).await {
        if line["f"] == "q" {
            quoted.insert(line["id"].as_str().unwrap().to_owned());
        }
        if quoted.len() == symbols.len() {
            break;
        }
    }
    let expected: BTreeSet<String> = symbols.into_iter().collect();
    assert_eq!(quoted, expected, "the late subscriber's first lines");
}
