//! OpenTelemetry export end to end (feature `otel`): the bridge on the OANDA backend, with a recording
//! proxy in front of the fake OANDA (which keeps the `traceparent` of each upstream request) and a stand-in
//! OTLP/HTTP collector on loopback. One TradingView request must be exported as a span carrying its
//! request id, and the upstream call it made must carry a `traceparent` of the same trace.
//!
//! The collector does not decode the protobuf (that would need `opentelemetry-proto` as one more
//! dependency): it checks the content type and finds the strings and the 16 raw trace-id bytes in the
//! body, which is how protobuf stores `string` and `bytes` fields.
#![cfg(feature = "otel")]

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

const ACCOUNT: &str = "101-004-1234567-001";
const TOKEN: &str = "fake-token";
const REQUEST_ID: &str = "otel-test-request-7f3a";

/// What the stand-in collector received: (content type, body) per export.
type Exports = Arc<Mutex<Vec<(String, Bytes)>>>;

async fn collector() -> (String, Exports) {
    let exports: Exports = Arc::default();
    let kept = exports.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let kept = kept.clone();
            async move {
                let content_type = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                kept.lock().unwrap().push((content_type, body));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), exports)
}

/// The path and `traceparent` of each request the proxy forwarded.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A proxy that records each request's path and `traceparent`, then forwards it to the fake.
#[derive(Clone)]
struct Proxy {
    target: String,
    client: reqwest::Client,
    seen: Seen,
}

async fn forward(State(proxy): State<Proxy>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let traceparent = parts
        .headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    proxy
        .seen
        .lock()
        .unwrap()
        .push((parts.uri.path().to_owned(), traceparent));
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let mut headers = parts.headers.clone();
    headers.remove("host");
    headers.remove("content-length");
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let answer = proxy
        .client
        .request(parts.method, format!("{}{path}", proxy.target))
        .headers(headers)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let mut out = HeaderMap::new();
    for (name, value) in answer.headers() {
        if name != "content-length" && name != "transfer-encoding" {
            out.insert(name.clone(), value.clone());
        }
    }
    (status, out, answer.bytes().await.unwrap()).into_response()
}

async fn proxy_to(target: &str) -> (String, Proxy) {
    let proxy = Proxy {
        target: target.trim_end_matches('/').to_owned(),
        client: reqwest::Client::new(),
        seen: Arc::default(),
    };
    let app = axum::Router::new().fallback(forward).with_state(proxy.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), proxy)
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_exported_with_its_request_id_and_its_trace_reaches_the_upstream() {
    let (collector_url, exports) = collector().await;
    let fake = fakes::oanda::FakeOanda::start(fakes::oanda::FakeOptions::default()).await;
    let (proxy_url, proxy) = proxy_to(&fake.rest_url).await;

    let text = format!(
        "[hub]\nfreshness_ms = 0\n\n[telemetry]\notlp_endpoint = \"{collector_url}\"\nservice_name = \"tvbridge-test\"\n\n\
         [backend]\nkind = \"oanda\"\nrest_url = \"{proxy_url}\"\nstream_url = \"{}\"\n",
        fake.stream_url
    );
    let config = tvbridge::config::Config::from_toml(&text).expect("the configuration is valid");
    // The subscriber as `main` builds it (its default filter), minus the log lines.
    let (layer, telemetry) = tvbridge::telemetry::layer(&config.telemetry).expect("the exporter builds");
    tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("info"))
        .with(layer.expect("export is on"))
        .init();

    let tvbridge::config::BackendConfig::Oanda(oanda) = &config.backend else {
        panic!("oanda");
    };
    let broker = Arc::new(tvbridge::backends::oanda::OandaBroker::start(oanda).expect("broker starts"));
    let state = tvbridge::AppState::new(config.clone(), broker);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}/api", listener.local_addr().unwrap());
    let app = tvbridge::app(state.clone());
    tokio::spawn(async move { tvbridge::server::run(listener, state, app, std::future::pending()).await });

    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("{api}/authorize"))
        .form(&[("login", ACCOUNT), ("password", TOKEN), ("locale", "en")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["d"]["access_token"].as_str().expect("logged in").to_owned();
    proxy.seen.lock().unwrap().clear();
    let answer = http
        .get(format!("{api}/accounts/{ACCOUNT}/ordersHistory"))
        .bearer_auth(&token)
        .header("x-request-id", REQUEST_ID)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["x-request-id"], REQUEST_ID);

    // The upstream call of that request carried the trace.
    let seen = proxy.seen.lock().unwrap().clone();
    let account_read = format!("/v3/accounts/{ACCOUNT}");
    let (_, traceparent) = seen
        .iter()
        .find(|(path, _)| *path == account_read)
        .unwrap_or_else(|| panic!("the request read the account upstream: {seen:?}"));
    let traceparent = traceparent
        .clone()
        .expect("the upstream call carries traceparent");
    let fields: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(fields.len(), 4, "{traceparent}");
    assert_eq!(fields[0], "00", "{traceparent}");
    assert_eq!(fields[1].len(), 32, "{traceparent}");
    let trace_id = hex_bytes(fields[1]);
    assert!(
        trace_id.iter().any(|b| *b != 0),
        "a valid trace id: {traceparent}"
    );

    // Flush: the batch exporter sends what it holds (off the runtime's workers: it blocks until sent).
    tokio::task::spawn_blocking(move || telemetry.shutdown())
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let exports = exports.lock().unwrap().clone();
        let with_id: Vec<&(String, Bytes)> = exports
            .iter()
            .filter(|(_, body)| contains(body, REQUEST_ID.as_bytes()))
            .collect();
        if let Some((content_type, body)) = with_id.first() {
            assert_eq!(content_type, "application/x-protobuf");
            assert!(
                contains(body, &trace_id),
                "the exported request span is of the trace the upstream saw"
            );
            assert!(contains(body, b"tvbridge-test"), "the service name is exported");
            assert!(
                contains(body, b"/v3/accounts/{id}"),
                "the upstream call's span names its endpoint without the account id"
            );
            assert!(
                !contains(body, TOKEN.as_bytes()),
                "no upstream token in the spans"
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no exported span holds the request id; {} exports",
            exports.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
