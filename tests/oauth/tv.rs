//! TradingView's side of a browser login, for the browser tests: its redirect endpoint (a local server
//! recording each hit's query), the query's parameters, and its server's code exchange.

use axum::routing::get;
use axum::Router;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A stand-in for TradingView's redirect endpoint: records the query of each hit.
pub async fn callback() -> (String, Arc<Mutex<Vec<String>>>) {
    let hits = Arc::new(Mutex::new(Vec::new()));
    let seen = hits.clone();
    let router = Router::new().route(
        "/oauth-redirect",
        get(move |uri: axum::http::Uri| {
            let seen = seen.clone();
            async move {
                seen.lock()
                    .expect("not poisoned")
                    .push(uri.query().unwrap_or("").to_owned());
                "back at TradingView"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let port = listener.local_addr().expect("an address").port();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://localhost:{port}/oauth-redirect"), hits)
}

pub async fn wait_for_hit(hits: &Mutex<Vec<String>>, count: usize) -> String {
    for _ in 0..200 {
        if let Some(hit) = hits.lock().expect("not poisoned").get(count - 1) {
            return hit.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the browser never reached the callback");
}

pub fn param(query: &str, name: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .expect("a query")
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// TradingView's server exchanging `code` at the bridge on `base` as `client`: the access token.
pub async fn exchange(base: &str, client: &str, secret: &str, code: &str, redirect: &str) -> String {
    let tokens: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/api/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client),
            ("client_secret", secret),
            ("code", code),
            ("redirect_uri", redirect),
        ])
        .send()
        .await
        .expect("the token endpoint answers")
        .json()
        .await
        .expect("JSON");
    tokens["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{tokens}"))
        .to_owned()
}
