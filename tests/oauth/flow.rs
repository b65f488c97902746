//! The whole Code flow in a real headless Chromium against the real bridge (paper broker, served over a
//! socket): TradingView's authorize link, the login form filled in with the keyboard only, the redirect
//! with the code to the client's callback, the token exchange, and an API call with the access token.
//! Then `prompt=none` from the browser's login cookie. Screenshot: `target/test-artifacts/oauth-flow-*.png`.

use crate::tv::{callback, exchange, param, wait_for_hit};
use fakes::browser::fantoccini::key::Key;
use fakes::browser::Browser;
use std::sync::Arc;
use std::time::Duration;
use tvbridge::backends::paper::{PaperBroker, SystemClock};
use tvbridge::config::{BackendConfig, Config};
use tvbridge::AppState;

const CLIENT: &str = "tv-staging";
const SECRET: &str = "tv-staging-secret-0123456789";

/// The bridge on a free port; returns its base URL (`http://localhost:PORT`).
async fn bridge(redirect: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let port = listener.local_addr().expect("an address").port();
    let toml = format!(
        r#"
[server]
base_path = "/api"

[[auth.users]]
login = "demo"
password = "demo"

[[oauth.clients]]
client_id = "{CLIENT}"
name = "TradingView"
client_secret = "{SECRET}"
redirect_uris = ["{redirect}"]
"#
    );
    let config = Config::from_toml(&toml).expect("valid config");
    let BackendConfig::Paper(paper) = config.backend.clone() else {
        panic!("paper")
    };
    let broker = PaperBroker::start_with_clock(paper, Arc::new(SystemClock))
        .await
        .expect("paper broker");
    let state = AppState::new(config, Arc::new(broker));
    let app = tvbridge::app(state.clone());
    tokio::spawn(
        async move { tvbridge::server::run(listener, state, app, std::future::pending::<()>()).await },
    );
    // `localhost`, which browsers treat as a secure origin: the login cookies are `Secure`.
    format!("http://localhost:{port}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_flow_in_a_real_browser_with_the_keyboard_only() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let (redirect, hits) = callback().await;
    let base = bridge(&redirect).await;
    let client = browser.client();
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", CLIENT),
        ("redirect_uri", redirect.as_str()),
        ("state", "tv-state-42"),
        ("scope", "read trade"),
    ])
    .expect("a query");
    client
        .goto(&format!("{base}/api/oauth/authorize?{query}"))
        .await
        .expect("the authorize link loads");
    let active = client.active_element().await.expect("a focused element");
    assert_eq!(
        active.attr("name").await.expect("its name").as_deref(),
        Some("login")
    );
    browser.screenshot("oauth-flow-login.png").await;

    // A wrong password first: the page says so and keeps the login.
    browser.type_text("demo").await.expect("typing");
    browser.press(Key::Tab).await.expect("Tab");
    browser.type_text("not-the-password").await.expect("typing");
    browser.press(Key::Enter).await.expect("Enter");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let source = client.source().await.expect("the page");
    assert!(
        source.contains("role=\"alert\""),
        "the error is announced:\n{source}"
    );
    browser.screenshot("oauth-flow-wrong-password.png").await;
    // The login is kept, so the password field has the focus.
    browser.type_text("demo").await.expect("typing");
    browser.press(Key::Enter).await.expect("Enter");

    let hit = wait_for_hit(&hits, 1).await;
    assert_eq!(param(&hit, "state").as_deref(), Some("tv-state-42"));
    let code = param(&hit, "code").expect("a code in the redirect");

    // TradingView's server exchanges the code, then calls the API with the token.
    let http = reqwest::Client::new();
    let access = exchange(&base, CLIENT, SECRET, &code, &redirect).await;
    let access = access.as_str();
    let accounts: serde_json::Value = http
        .get(format!("{base}/api/accounts"))
        .bearer_auth(access)
        .send()
        .await
        .expect("accounts")
        .json()
        .await
        .expect("JSON");
    assert_eq!(accounts["s"], "ok", "{accounts}");

    // The browser now holds the login cookie: prompt=none answers with a code and no page.
    let none = format!("{query}&prompt=none");
    client
        .goto(&format!("{base}/api/oauth/authorize?{none}"))
        .await
        .expect("prompt=none");
    let hit = wait_for_hit(&hits, 2).await;
    assert!(
        param(&hit, "code").is_some(),
        "prompt=none with a live login gives a code: {hit}"
    );
    browser.close().await;
}
