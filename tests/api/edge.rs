//! The HTTP edge over real sockets: header, body and idle timeouts, the connection cap, hyper's and axum's
//! own error answers in the envelope, and the shutdown that ends streams and returns within the grace period.

use crate::support;

use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tvbridge::backends::paper::{PaperBroker, SystemClock};
use tvbridge::config::{BackendConfig, Config};
use tvbridge::server::Stopped;
use tvbridge::AppState;

/// The bridge served by `tvbridge::server::run` on 127.0.0.1:0, stopped on demand.
struct Edge {
    addr: std::net::SocketAddr,
    state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<Stopped>,
}

impl Edge {
    async fn start(server_toml: &str) -> Edge {
        let config = support::config(&format!("[server]\n{server_toml}\n"));
        let router_for = |state: AppState| tvbridge::app(state);
        Edge::with_router(config, router_for).await
    }

    async fn with_router(config: Config, router: impl FnOnce(AppState) -> axum::Router) -> Edge {
        let BackendConfig::Paper(paper) = config.backend.clone() else {
            panic!("paper");
        };
        let broker = PaperBroker::start_with_clock(paper, Arc::new(SystemClock))
            .await
            .unwrap();
        let state = AppState::new(config, Arc::new(broker));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = router(state.clone());
        let served = state.clone();
        let server = tokio::spawn(async move {
            tvbridge::server::run(listener, served, app, async {
                let _ = stopped.await;
            })
            .await
        });
        Edge {
            addr,
            state,
            stop: Some(stop),
            server,
        }
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.addr).await.unwrap()
    }

    /// One request on a fresh connection (closed after the answer): status and body.
    async fn request(&self, raw: &str) -> (u16, String) {
        let mut s = self.connect().await;
        s.write_all(raw.as_bytes()).await.unwrap();
        read_answer(&mut s, Duration::from_secs(10))
            .await
            .expect("an answer")
    }

    async fn login(&self) -> String {
        let form = "login=demo&password=demo&locale=en";
        let (status, body) = self
            .request(&format!(
                "POST /api/authorize HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
                form.len()
            ))
            .await;
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        v["d"]["access_token"].as_str().unwrap().to_owned()
    }

    /// Sends the shutdown signal and waits for `run` to return.
    async fn stop(&mut self) -> Stopped {
        let _ = self.stop.take().unwrap().send(());
        (&mut self.server).await.unwrap()
    }
}

/// Reads one HTTP/1.1 answer with a Content-Length body: (status, body), or `None` when the connection
/// closed (or nothing came within `wait`) before a whole answer.
async fn read_answer(s: &mut TcpStream, wait: Duration) -> Option<(u16, String)> {
    let deadline = Instant::now() + wait;
    let mut buf = Vec::new();
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let status = head.split_whitespace().nth(1)?.parse().ok()?;
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).into_owned();
                return Some((status, body));
            }
        }
        let mut chunk = [0u8; 8192];
        match tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return None,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Waits until the server closes `s` (EOF or reset); returns how long that took, or `None` past `limit`.
async fn closed_within(s: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut chunk = [0u8; 1024];
    loop {
        match tokio::time::timeout_at(started + limit, s.read(&mut chunk)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

const TIMEOUTS: &str = "header_read_timeout_secs = 1\nbody_read_timeout_secs = 1\nidle_timeout_secs = 3";

/// Slowloris: a head that trickles in (one header line every 300 ms) is cut after the header timeout, even
/// though bytes keep coming.
#[tokio::test]
async fn a_trickling_request_head_is_closed_after_the_header_timeout() {
    let edge = Edge::start(TIMEOUTS).await;
    let mut s = edge.connect().await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let trickle = async {
        for i in 0..30 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if s.write_all(format!("X-Slow-{i}: a\r\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
        }
    };
    trickle.await;
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(1), s.read_to_end(&mut rest)).await;
    let writes_failed_after = started.elapsed();
    assert!(
        writes_failed_after < Duration::from_secs(5),
        "the connection was still open after {writes_failed_after:?}"
    );
    // A normal request meanwhile is served.
    let (status, _) = edge
        .request("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await;
    assert_eq!(status, 200);
}

/// A body shorter than its Content-Length: the answer is the envelope with 408 once the body timeout passes.
#[tokio::test]
async fn a_body_shorter_than_its_content_length_gets_an_envelope_after_the_body_timeout() {
    let edge = Edge::start(TIMEOUTS).await;
    let mut s = edge.connect().await;
    s.write_all(
        b"POST /api/authorize HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          Content-Length: 100\r\n\r\nlogin=demo",
    )
    .await
    .unwrap();
    let started = Instant::now();
    let (status, body) = read_answer(&mut s, Duration::from_secs(5))
        .await
        .expect("an answer before the connection closes");
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(status, 408, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["s"], "error");
    assert_eq!(v["errmsg"], "the request body did not arrive within 1 s");
    assert!(closed_within(&mut s, Duration::from_secs(3)).await.is_some());
}

/// An idle keep-alive connection lives past the header timeout (1 s) and closes after the idle timeout
/// (3 s); a connection that never sends anything closes after the idle timeout too.
#[tokio::test]
async fn idle_keep_alive_connections_close_after_the_idle_timeout_not_the_header_timeout() {
    let edge = Edge::start(TIMEOUTS).await;
    let mut silent = edge.connect().await;
    let mut s = edge.connect().await;
    let get = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    s.write_all(get).await.unwrap();
    assert_eq!(read_answer(&mut s, Duration::from_secs(5)).await.unwrap().0, 200);
    tokio::time::sleep(Duration::from_millis(1800)).await;
    s.write_all(get).await.unwrap();
    assert_eq!(
        read_answer(&mut s, Duration::from_secs(5)).await.map(|a| a.0),
        Some(200),
        "idle for longer than the header timeout, the keep-alive connection is still served"
    );
    let took = closed_within(&mut s, Duration::from_secs(8))
        .await
        .expect("the idle connection is closed");
    assert!(took >= Duration::from_millis(2500), "closed too early: {took:?}");
    assert!(closed_within(&mut silent, Duration::from_secs(5)).await.is_some());
}

/// At `max_connections` further clients wait; when a connection closes, the waiting request is served.
#[tokio::test]
async fn the_connection_cap_holds_and_a_waiting_client_is_served_when_a_slot_frees() {
    let edge = Edge::start("max_connections = 2\nidle_timeout_secs = 30").await;
    let first = edge.connect().await;
    let _second = edge.connect().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = edge.connect().await;
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    assert!(
        read_answer(&mut third, Duration::from_millis(700))
            .await
            .is_none(),
        "a third connection was served beyond max_connections = 2"
    );
    drop(first);
    let answer = read_answer(&mut third, Duration::from_secs(5)).await;
    assert_eq!(answer.map(|a| a.0), Some(200), "served once a slot freed");
}

fn envelope(body: &str) -> Value {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body:?}"));
    assert_eq!(v["s"], "error", "{v}");
    assert!(v["errmsg"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    v
}

/// Answers axum and hyper write themselves come in the envelope too: a path that is not UTF-8, a URI over
/// 64 KiB (hyper's 414), headers over hyper's buffer (431).
#[tokio::test]
async fn plain_error_answers_of_axum_and_hyper_get_the_envelope() {
    let edge = Edge::start("").await;
    let token = edge.login().await;
    let (status, body) = edge
        .request(&format!(
            "GET /api/accounts/%FF%FE/orders HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
             Authorization: Bearer {token}\r\n\r\n"
        ))
        .await;
    assert_eq!(status, 200, "bad input is refused like any other: {body}");
    let v = envelope(&body);
    assert!(v["errmsg"].as_str().unwrap().contains("URL"), "{v}");

    let long = "a".repeat(70 * 1024);
    let (status, body) = edge
        .request(&format!(
            "GET /api/config?x={long} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        ))
        .await;
    assert_eq!(status, 414);
    assert!(envelope(&body)["errmsg"]
        .as_str()
        .unwrap()
        .contains("URI is too long"));

    let huge = "b".repeat(600 * 1024);
    let (status, body) = edge
        .request(&format!(
            "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Huge: {huge}\r\nConnection: close\r\n\r\n"
        ))
        .await;
    assert_eq!(status, 431);
    envelope(&body);

    let (status, body) = edge.request("BLAH\r\n\r\n").await;
    assert_eq!(status, 400);
    envelope(&body);
}

/// An open chunked stream read line by line over a raw socket.
struct RawStream {
    s: TcpStream,
    buf: Vec<u8>,
}

impl RawStream {
    async fn open(edge: &Edge, path: &str, token: &str) -> RawStream {
        let mut s = edge.connect().await;
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut raw = RawStream { s, buf: Vec::new() };
        let head = raw.until(b"\r\n\r\n").await.expect("a head");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        raw
    }

    async fn until(&mut self, delim: &[u8]) -> Option<String> {
        loop {
            if let Some(i) = self.buf.windows(delim.len()).position(|w| w == delim) {
                let out: Vec<u8> = self.buf.drain(..i + delim.len()).collect();
                return Some(String::from_utf8_lossy(&out[..i]).into_owned());
            }
            let mut chunk = [0u8; 8192];
            match tokio::time::timeout(Duration::from_secs(10), self.s.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return None,
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Every JSON line until the chunked body ends (the zero-length chunk) or the connection closes.
    async fn lines_to_end(&mut self) -> (Vec<Value>, bool) {
        let mut lines = Vec::new();
        let mut text = String::new();
        loop {
            let Some(size) = self.until(b"\r\n").await else {
                return (lines, false);
            };
            let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
            if size == 0 {
                return (lines, true);
            }
            while self.buf.len() < size + 2 {
                let mut chunk = [0u8; 8192];
                match tokio::time::timeout(Duration::from_secs(10), self.s.read(&mut chunk)).await {
                    Ok(Ok(n)) if n > 0 => self.buf.extend_from_slice(&chunk[..n]),
                    _ => return (lines, false),
                }
            }
            let data: Vec<u8> = self.buf.drain(..size + 2).collect();
            text.push_str(&String::from_utf8_lossy(&data[..size]));
            while let Some(i) = text.find('\n') {
                let line: String = text.drain(..=i).collect();
                lines.push(serde_json::from_str(line.trim()).unwrap());
            }
        }
    }
}

/// On shutdown every stream (account, quotes, data feed) ends with the restart line and a proper end of
/// body, an idle keep-alive connection closes, and `run` returns well within the grace period.
#[tokio::test]
async fn shutdown_ends_every_stream_with_a_final_line_and_returns_within_the_grace_period() {
    let mut edge = Edge::start("shutdown_grace_secs = 5").await;
    let token = edge.login().await;
    let mut streams = Vec::new();
    for path in [
        "/api/accounts/demo-net/stream/orders",
        "/api/accounts/demo-hedge/stream/individualPositions",
        "/api/stream/quotes?accountId=demo-net&symbols=EURUSD",
        "/api/streaming",
    ] {
        streams.push((path, RawStream::open(&edge, path, &token).await));
    }
    let mut idle = edge.connect().await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(
        read_answer(&mut idle, Duration::from_secs(5)).await.unwrap().0,
        200
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(edge.state.streams().open_streams(), 4);

    let started = Instant::now();
    let stopped = edge.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(stopped.cut, 0, "nothing had to be cut");
    for (path, mut stream) in streams {
        let (lines, ended) = stream.lines_to_end().await;
        assert!(ended, "{path}: the body ended properly");
        let last = lines.last().unwrap_or_else(|| panic!("{path}: no line"));
        assert_eq!(last["s"], "error", "{path}: {last}");
        assert_eq!(last["errmsg"], "The server is restarting; reconnect.", "{path}");
        assert!(
            closed_within(&mut stream.s, Duration::from_secs(2))
                .await
                .is_some(),
            "{path}"
        );
    }
    assert!(closed_within(&mut idle, Duration::from_secs(1)).await.is_some());
    assert!(
        TcpStream::connect(edge.addr).await.is_err(),
        "the listener is closed"
    );
    assert_eq!(edge.state.streams().open_streams(), 0);
}

/// A request that never finishes cannot hold the shutdown beyond the grace period: it is cut.
#[tokio::test]
async fn a_request_that_never_finishes_is_cut_at_the_end_of_the_grace_period() {
    let config = support::config("[server]\nshutdown_grace_secs = 2\n");
    let mut edge = Edge::with_router(config, |_| {
        axum::Router::new().route("/hang", axum::routing::get(std::future::pending::<&'static str>))
    })
    .await;
    let mut s = edge.connect().await;
    s.write_all(b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let _ = edge.stop.take().unwrap().send(());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        TcpStream::connect(edge.addr).await.is_err(),
        "during the grace period new clients are refused, not queued"
    );
    let stopped = (&mut edge.server).await.unwrap();
    let took = started.elapsed();
    assert_eq!(stopped.cut, 1);
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_millis(2000),
        "cut within the grace period (2 s, less the runtime's share): {took:?}"
    );
    assert!(closed_within(&mut s, Duration::from_secs(1)).await.is_some());
}

#[test]
fn edge_limits_are_validated_naming_the_key() {
    for (toml, key) in [
        ("header_read_timeout_secs = 0", "server.header_read_timeout_secs"),
        ("body_read_timeout_secs = 0", "server.body_read_timeout_secs"),
        ("idle_timeout_secs = 0", "server.idle_timeout_secs"),
        ("max_connections = 0", "server.max_connections"),
        ("max_streams_per_session = 0", "server.max_streams_per_session"),
        ("max_streams_per_user = 0", "server.max_streams_per_user"),
        ("shutdown_grace_secs = 0", "server.shutdown_grace_secs"),
    ] {
        let err = Config::from_toml(&format!("[server]\n{toml}\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(key), "{toml}: {err}");
    }
    let d = Config::from_toml("").unwrap().server;
    assert_eq!(
        (
            d.header_read_timeout_secs,
            d.body_read_timeout_secs,
            d.idle_timeout_secs,
            d.max_connections,
            d.max_streams_per_session,
            d.max_streams_per_user,
            d.shutdown_grace_secs
        ),
        (10, 15, 75, 10_000, 100, 300, 10)
    );
}
