//! The transport against a local server on 127.0.0.1:0 that records every request and answers from a script.

use super::*;
use axum::http::{HeaderMap as AxumHeaders, Method as AxumMethod, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One scripted answer; when the script is empty the server answers 200 `{"ok":true}`.
#[derive(Clone, Copy)]
enum Reply {
    Status(u16, Option<&'static str>, &'static str),
    /// Answers 200 only after this long.
    Slow(Duration),
}

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    auth: Option<String>,
    content_type: Option<String>,
    body: String,
}

#[derive(Clone, Default)]
struct Server {
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
    in_flight: Arc<AtomicUsize>,
    most_in_flight: Arc<AtomicUsize>,
}

impl Server {
    async fn start(replies: &[Reply]) -> (Server, String) {
        let server = Server::default();
        server.script.lock().unwrap().extend(replies.iter().cloned());
        let s = server.clone();
        let app =
            axum::Router::new().fallback(move |m: AxumMethod, uri: Uri, h: AxumHeaders, body: String| {
                let s = s.clone();
                async move { s.answer(m, uri, h, body).await }
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (server, base)
    }

    async fn answer(&self, method: AxumMethod, uri: Uri, headers: AxumHeaders, body: String) -> Response {
        let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
        self.seen.lock().unwrap().push(Seen {
            method: method.to_string(),
            path: uri.to_string(),
            auth: header("authorization"),
            content_type: header("content-type"),
            body,
        });
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        let reply = self.script.lock().unwrap().pop_front();
        let response = match reply {
            Some(Reply::Status(status, retry_after, body)) => {
                let mut r = (StatusCode::from_u16(status).unwrap(), body.to_string()).into_response();
                if let Some(after) = retry_after {
                    r.headers_mut().insert("retry-after", after.parse().unwrap());
                }
                r
            }
            Some(Reply::Slow(wait)) => {
                tokio::time::sleep(wait).await;
                r#"{"ok":true}"#.into_response()
            }
            None => r#"{"ok":true}"#.into_response(),
        };
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        response
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

#[derive(Debug, serde::Deserialize, PartialEq)]
struct Ok {
    ok: bool,
}

const FAST: RetryPolicy = RetryPolicy {
    read_attempts: 3,
    throttled_attempts: 3,
    backoff: Duration::from_millis(20),
    throttled_wait: None,
    max_total_wait: Duration::from_secs(5),
};

fn transport(base: &str) -> Transport {
    Transport::builder(base)
        .request_timeout(Some(Duration::from_millis(500)))
        .retry(FAST)
        .build()
        .unwrap()
}

/// Counts the attempts it signs and puts the count in a header.
#[derive(Default)]
struct Counting(AtomicUsize);

impl Signer for Counting {
    fn sign(&self, req: &mut reqwest::Request) -> Result<(), SignError> {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        req.headers_mut()
            .insert("authorization", format!("Sig {n}").parse().unwrap());
        Ok(())
    }
}

#[tokio::test]
async fn a_read_is_retried_on_5xx_and_429_honouring_retry_after_and_signed_afresh() {
    let (server, base) = Server::start(&[
        Reply::Status(503, None, "{}"),
        Reply::Status(429, Some("1"), "{}"),
    ])
    .await;
    let signer = Counting::default();
    let started = Instant::now();
    let got: Ok = transport(&base)
        .json(&Call::get("/things").query([("a", "1")]).signed(&signer))
        .await
        .unwrap();
    assert_eq!(got, Ok { ok: true });
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|s| s.path == "/things?a=1"));
    let auth: Vec<_> = seen.iter().map(|s| s.auth.clone().unwrap()).collect();
    assert_eq!(
        auth,
        ["Sig 1", "Sig 2", "Sig 3"],
        "every attempt is signed afresh"
    );
}

#[tokio::test]
async fn a_read_gives_up_after_its_attempts_and_reports_the_status() {
    let (server, base) = Server::start(&[Reply::Status(502, None, "{}"); 5]).await;
    let e = transport(&base).json::<Ok>(&Call::get("/x")).await.unwrap_err();
    assert_eq!(e.status(), Some(502));
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn a_retry_past_the_total_wait_is_not_made() {
    let (server, base) = Server::start(&[Reply::Status(429, Some("30"), r#"{"errorCode":"slow"}"#)]).await;
    let started = Instant::now();
    let e = transport(&base).json::<Ok>(&Call::get("/x")).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        e,
        CallError::Status {
            status: 429,
            body: r#"{"errorCode":"slow"}"#.into(),
            retry_after: Some(Duration::from_secs(30)),
            parsed: ParsedBody::default(),
        }
    );
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn a_write_is_never_resent_after_an_ambiguous_failure() {
    for reply in [
        Reply::Status(502, None, "{}"),
        Reply::Status(429, Some("1"), "{}"),
        Reply::Slow(Duration::from_secs(2)),
    ] {
        let (server, base) = Server::start(&[reply]).await;
        let call = Call::write(reqwest::Method::POST, "/orders").json(&serde_json::json!({"b": 1, "a": 2}));
        let e = transport(&base).json::<Ok>(&call).await.unwrap_err();
        let seen = server.seen();
        assert_eq!(seen.len(), 1, "{e:?} was followed by another request");
        assert_eq!(seen[0].method, "POST");
        assert_eq!(seen[0].content_type.as_deref(), Some("application/json"));
        assert_eq!(seen[0].body, r#"{"a":2,"b":1}"#);
    }
}

#[tokio::test]
async fn a_timeout_is_no_answer_which_is_ambiguous() {
    let (server, base) = Server::start(&[Reply::Slow(Duration::from_secs(2))]).await;
    let e = transport(&base)
        .json::<Ok>(&Call::write(reqwest::Method::PUT, "/x").form([("units", "5")]))
        .await
        .unwrap_err();
    assert!(matches!(e, CallError::NoAnswer(_)), "{e:?}");
    assert!(e.is_ambiguous());
    assert_eq!(server.seen()[0].body, "units=5");
    // A read that timed out is tried again and gets its answer.
    let (server, base) = Server::start(&[Reply::Slow(Duration::from_secs(2))]).await;
    transport(&base).json::<Ok>(&Call::get("/x")).await.unwrap();
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn a_write_that_never_left_is_sent_once_more() {
    // A port nobody listens on: the connection is refused, so nothing was sent.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let signer = Counting::default();
    let e = transport(&base)
        .json::<Ok>(&Call::write(reqwest::Method::POST, "/x").signed(&signer))
        .await
        .unwrap_err();
    assert!(matches!(e, CallError::NotSent(_)), "{e:?}");
    assert_eq!(
        signer.0.load(Ordering::SeqCst),
        2,
        "one resend of a write that never left"
    );
}

#[tokio::test]
async fn a_signing_failure_is_not_sent_and_bearer_reaches_the_server() {
    struct Refusing;
    impl Signer for Refusing {
        fn sign(&self, _: &mut reqwest::Request) -> Result<(), SignError> {
            Err(SignError("no key".into()))
        }
    }
    let (server, base) = Server::start(&[]).await;
    let t = transport(&base);
    let e = t
        .json::<Ok>(&Call::get("/x").signed(&Refusing))
        .await
        .unwrap_err();
    assert_eq!(e, CallError::NotSent("signing: no key".into()));
    assert!(server.seen().is_empty());
    let token = crate::secret::Secret::new("tok");
    t.json::<Ok>(&Call::get("/x").signed(&Bearer(&token)))
        .await
        .unwrap();
    assert_eq!(server.seen()[0].auth.as_deref(), Some("Bearer tok"));
}

#[tokio::test]
async fn calls_are_paced_per_key_and_other_keys_do_not_wait() {
    let (server, base) = Server::start(&[]).await;
    let t = Arc::new(transport(&base));
    let window = Duration::from_millis(600);
    let (a, b) = (
        Arc::new(Lane::new(2, window, None)),
        Arc::new(Lane::new(2, window, None)),
    );
    let started = Instant::now();
    for _ in 0..2 {
        t.json::<Ok>(&Call::get("/a").on_lane(Some(&a))).await.unwrap();
    }
    t.json::<Ok>(&Call::get("/b").on_lane(Some(&b))).await.unwrap();
    assert!(started.elapsed() < window, "a call of another key waited");
    t.json::<Ok>(&Call::get("/a").on_lane(Some(&a))).await.unwrap();
    assert!(
        started.elapsed() >= window,
        "the third call of a key within its window did not wait"
    );
    assert_eq!(server.seen().len(), 4);
}

#[tokio::test]
async fn a_lane_caps_calls_in_flight() {
    let replies = [Reply::Slow(Duration::from_millis(150)); 4];
    let (server, base) = Server::start(&replies).await;
    let t = Arc::new(transport(&base));
    let lane = Arc::new(Lane::new(100, Duration::from_secs(1), Some(2)));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (t, lane) = (t.clone(), lane.clone());
        tasks.push(tokio::spawn(async move {
            t.json::<Ok>(&Call::get("/x").on_lane(Some(&lane))).await.unwrap()
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(server.seen().len(), 4);
    assert_eq!(server.most_in_flight.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_endpoint_limit_paces_only_its_endpoint_and_a_stream_opens_once() {
    let (server, base) = Server::start(&[Reply::Status(503, None, "down")]).await;
    let window = Duration::from_millis(600);
    let t = Transport::builder(&base)
        .pace_endpoint(EndpointLimit::new(
            Some(reqwest::Method::GET),
            "/stream",
            SlidingWindow::new(1, window),
        ))
        .build()
        .unwrap();
    let started = Instant::now();
    let e = t.open(&Call::get("/stream/a")).await.unwrap_err();
    assert_eq!(e.status(), Some(503), "a stream is opened once, not retried");
    t.json::<Ok>(&Call::get("/other")).await.unwrap();
    assert!(started.elapsed() < window);
    let response = t.open(&Call::get("/stream/b")).await.unwrap();
    assert!(started.elapsed() >= window);
    assert_eq!(response.text().await.unwrap(), r#"{"ok":true}"#);
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn a_per_key_endpoint_limit_spaces_one_sessions_calls_and_their_retries() {
    let ok = Reply::Status(200, None, r#"{"ok":true}"#);
    let (server, base) = Server::start(&[ok, ok, Reply::Status(503, None, "down")]).await;
    let interval = Duration::from_millis(600);
    let t = Transport::builder(&base)
        .retry(RetryPolicy {
            backoff: Duration::from_millis(1),
            ..RetryPolicy::default()
        })
        .pace_endpoint(EndpointLimit::per_key(
            Some(reqwest::Method::GET),
            "/orders",
            KeyLimit::once_per(interval),
        ))
        .build()
        .unwrap();
    let started = Instant::now();
    t.json::<Ok>(&Call::get("/orders").key("s2")).await.unwrap();
    t.json::<Ok>(&Call::get("/other").key("s1")).await.unwrap();
    assert!(started.elapsed() < interval, "another session or endpoint waited");
    // s1's first attempt fails (503): its retry is a call to the endpoint like any other, so it waits.
    t.json::<Ok>(&Call::get("/orders").key("s1")).await.unwrap();
    assert!(started.elapsed() >= interval, "a session's retry was not spaced");
    assert_eq!(server.seen().len(), 4);
}

/// A caller's wait between attempts: records each wait without sleeping, and allows `allow` retries.
struct Waits {
    asked: Mutex<Vec<Duration>>,
    allow: usize,
}

#[async_trait::async_trait]
impl RetryWait for Waits {
    async fn wait(&self, wait: Duration) -> bool {
        let mut asked = self.asked.lock().unwrap();
        asked.push(wait);
        asked.len() <= self.allow
    }
}

#[tokio::test]
async fn a_callers_wait_replaces_the_sleep_between_attempts_and_can_stop_the_retries() {
    let down = Reply::Status(503, None, "down");
    let (server, base) = Server::start(&[down, down, down]).await;
    let t = Transport::builder(&base)
        .retry(RetryPolicy {
            read_attempts: 3,
            backoff: Duration::from_secs(1),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let waits = Waits {
        asked: Mutex::new(Vec::new()),
        allow: 1,
    };
    let started = Instant::now();
    let e = t
        .json::<Ok>(&Call::get("/x").wait_with(&waits))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the transport slept itself"
    );
    assert_eq!(e.status(), Some(503));
    assert_eq!(
        *waits.asked.lock().unwrap(),
        [Duration::from_secs(1), Duration::from_secs(2)]
    );
    assert_eq!(
        server.seen().len(),
        2,
        "a retry was made after the caller stopped them"
    );
}

/// A test upstream's error body; counts how often a body is parsed.
#[derive(Debug, PartialEq)]
struct Coded(String);

static PARSES: AtomicUsize = AtomicUsize::new(0);

impl ErrorBody for Coded {
    fn parse(body: &str) -> Option<Self> {
        PARSES.fetch_add(1, Ordering::SeqCst);
        let v: serde_json::Value = serde_json::from_str(body).ok()?;
        Some(Coded(v.get("code")?.as_str()?.to_string()))
    }
    fn code(&self) -> Option<String> {
        Some(self.0.clone())
    }
}

#[tokio::test]
async fn a_failed_answer_is_parsed_once_into_the_backends_error_type() {
    let (_server, base) = Server::start(&[Reply::Status(400, None, r#"{"code":"bad.units"}"#)]).await;
    let t = Transport::builder(&base).error_body::<Coded>().build().unwrap();
    let e = t.json::<Ok>(&Call::get("/x")).await.unwrap_err();
    assert_eq!(PARSES.load(Ordering::SeqCst), 1);
    assert_eq!(e.upstream::<Coded>(), Some(&Coded("bad.units".into())));
    assert_eq!(e.upstream::<Coded>().map(|c| c.0.as_str()), Some("bad.units"));
    assert_eq!(e.to_string(), "HTTP 400 bad.units");
    assert_eq!(
        PARSES.load(Ordering::SeqCst),
        1,
        "looking at the error parsed the body again"
    );
}

#[tokio::test]
async fn a_raw_body_goes_as_it_is_with_its_content_type() {
    let (server, base) = Server::start(&[]).await;
    let call = Call::write(reqwest::Method::POST, "/sso").raw("application/jwt", "a.b.c");
    transport(&base).json::<Ok>(&call).await.unwrap();
    let seen = server.seen();
    assert_eq!(seen[0].content_type.as_deref(), Some("application/jwt"));
    assert_eq!(seen[0].body, "a.b.c");
}

#[tokio::test]
async fn a_request_sent_outside_the_transport_takes_a_slot_of_its_pace() {
    let (server, base) = Server::start(&[]).await;
    let window = Duration::from_millis(600);
    let t = Transport::builder(&base)
        .pace_all(SlidingWindow::new(2, window))
        .build()
        .unwrap();
    let started = Instant::now();
    // A WebSocket upgrade (say) and one call fill the window: the next call waits for it to pass.
    t.pace_outside().await;
    t.json::<Ok>(&Call::get("/a")).await.unwrap();
    assert!(started.elapsed() < window);
    t.json::<Ok>(&Call::get("/b")).await.unwrap();
    assert!(started.elapsed() >= window, "the outside request was not counted");
    assert_eq!(server.seen().len(), 2);
    // Without a pace there is nothing to wait for.
    let free = Transport::builder(&base).build().unwrap();
    let started = Instant::now();
    for _ in 0..5 {
        free.pace_outside().await;
    }
    assert!(started.elapsed() < window);
}

/// Two transports standing for two replicas on one shared store, four calls in all through a limit of one
/// per `window`: shared, they take three windows at least; each alone would let its two through in one.
async fn shared_pace_takes(
    build: impl Fn(&str, Arc<dyn crate::store::Store>) -> Transport,
    window: Duration,
) -> Duration {
    let (server, base) = Server::start(&[]).await;
    let store: Arc<dyn crate::store::Store> = Arc::new(crate::store::MemoryStore::new_shared());
    let (a, b) = (build(&base, store.clone()), build(&base, store));
    let started = Instant::now();
    let run = |t: Transport| async move {
        for _ in 0..2 {
            t.json::<Ok>(&Call::get("/limited")).await.unwrap();
        }
    };
    tokio::join!(run(a), run(b));
    assert_eq!(server.seen().len(), 4);
    let took = started.elapsed();
    assert!(took < window * 6, "{took:?}");
    took
}

#[tokio::test]
async fn a_shared_pace_holds_across_replicas() {
    use crate::upstream::shared_window::SharedWindow;
    let window = Duration::from_millis(400);
    let took = shared_pace_takes(
        |base, store| {
            Transport::builder(base)
                .pace_all_shared(SharedWindow::new(1, window, store, "test-all", &["t"]))
                .build()
                .unwrap()
        },
        window,
    )
    .await;
    assert!(took >= window * 3, "{took:?}");
}

#[tokio::test]
async fn a_shared_endpoint_limit_holds_across_replicas() {
    use crate::upstream::shared_window::SharedWindow;
    let window = Duration::from_millis(400);
    let took = shared_pace_takes(
        |base, store| {
            Transport::builder(base)
                .pace_endpoint(
                    EndpointLimit::new(
                        Some(reqwest::Method::GET),
                        "/limited",
                        SlidingWindow::new(1, window),
                    )
                    .shared(SharedWindow::new(
                        1,
                        window,
                        store,
                        "test-endpoint",
                        &["limited"],
                    )),
                )
                .build()
                .unwrap()
        },
        window,
    )
    .await;
    assert!(took >= window * 3, "{took:?}");
}
