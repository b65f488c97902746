//! Federated login in a real headless Chromium: TradingView's authorize link to the bridge's login page,
//! the bridge password, IBKR's authorization page (the fake IBKR third-party API's own page) with the IBKR
//! password and Allow, back through the bridge to TradingView's redirect with a code; the code's token
//! trades for the user at IBKR. A second login (`prompt=login`) goes straight back to TradingView.
//! Screenshots: `target/test-artifacts/oauth-federated-*.png`.

use crate::tv::{callback, exchange, param, wait_for_hit};
use fakes::browser::fantoccini::Locator;
use fakes::browser::Browser;
use fakes::ibkr_third_party::{FakeIbkrThirdParty, FakeIbkrThirdPartyOptions};
use std::sync::Arc;
use std::time::Duration;
use tvbridge::config::{BackendConfig, Config};
use tvbridge::AppState;

const CLIENT: &str = "tv-staging";
const SECRET: &str = "tv-staging-secret-0123456789";
const ACCOUNT: &str = "U1234567";

/// The bridge on the ibkr-third-party backend against `fake`, served on a free port; its base URL.
async fn bridge(fake: &FakeIbkrThirdParty, redirect: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let port = listener.local_addr().expect("an address").port();
    // `localhost`, which browsers treat as a secure origin: the login cookies are `Secure`.
    let base = format!("http://localhost:{port}");
    std::env::set_var("TVB_TEST_TPB_CONSUMER_KEY", &fake.consumer().consumer_key);
    std::env::set_var(
        "TVB_TEST_TPB_LINK_KEY",
        "YnJvd3Nlci10ZXN0LWxpbmsta2V5LTMyLWJ5dGVzLSE=",
    );
    let c = fake.consumer();
    let toml = format!(
        r#"
[server]
base_path = "/api"

[[auth.users]]
login = "demo"
password = "demo"

[oauth]
public_url = "{base}/api"

[[oauth.clients]]
client_id = "{CLIENT}"
name = "TradingView"
client_secret = "{SECRET}"
redirect_uris = ["{redirect}"]

[backend]
kind = "ibkr-third-party"
base_url = "{api}"
authorize_url = "{authorize}"
consumer_key_env = "TVB_TEST_TPB_CONSUMER_KEY"
signature_key_file = "{sig}"
encryption_key_file = "{enc}"
dh_param_file = "{dh}"
realm = "{realm}"
link_key_env = "TVB_TEST_TPB_LINK_KEY"

[[backend.symbols]]
symbol = "AAPL"
conid = 265598
"#,
        api = fake.base_url,
        authorize = fake.authorize_url.replace("127.0.0.1", "localhost"),
        sig = c.signature_key_file.display(),
        enc = c.encryption_key_file.display(),
        dh = c.dh_param_file.display(),
        realm = c.realm,
    );
    let config = Config::from_toml(&toml).expect("valid config");
    let BackendConfig::IbkrThirdParty(tp) = &config.backend else {
        panic!("ibkr-third-party")
    };
    let broker = tvbridge::backends::ibkr_third_party::IbkrThirdPartyBroker::start(
        tp,
        Arc::new(tvbridge::store::MemoryStore::new()),
    )
    .await
    .expect("the broker starts");
    let state = AppState::new(config, Arc::new(broker));
    let app = tvbridge::app(state.clone());
    tokio::spawn(
        async move { tvbridge::server::run(listener, state, app, std::future::pending::<()>()).await },
    );
    base
}

/// Types `text` into the field with id `id` (cleared first).
async fn fill(browser: &Browser, id: &str, text: &str) {
    let field = browser
        .client()
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("field {id}: {e}"));
    field.clear().await.expect("clear");
    field.send_keys(text).await.expect("typing");
}

async fn click(browser: &Browser, css: &str) {
    browser
        .client()
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .expect("click");
}

/// Waits until the page's title is `title`.
async fn wait_for_title(browser: &Browser, title: &str) {
    let mut seen = String::new();
    for _ in 0..100 {
        seen = browser.client().title().await.unwrap_or_default();
        if seen.contains(title) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page never became {title:?} (last {seen:?})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_login_goes_through_ibkrs_page_and_trades_and_a_second_skips_it() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let fake = FakeIbkrThirdParty::start(FakeIbkrThirdPartyOptions::relaxed()).await;
    let (redirect, hits) = callback().await;
    let base = bridge(&fake, &redirect).await;
    let client = browser.client();
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", CLIENT),
        ("redirect_uri", redirect.as_str()),
        ("state", "tv-state-7"),
    ])
    .expect("a query");
    client
        .goto(&format!("{base}/api/oauth/authorize?{query}"))
        .await
        .expect("the authorize link loads");
    let source = client.source().await.expect("the page");
    assert!(
        source.contains("Interactive Brokers"),
        "the page names IBKR:\n{source}"
    );
    browser.screenshot("oauth-federated-login.png").await;
    fill(&browser, "login", "demo").await;
    fill(&browser, "password", "demo").await;
    click(&browser, "button[type=submit]").await;

    // IBKR's page (the fake's): the IBKR login and Allow.
    wait_for_title(&browser, "Authorize access").await;
    browser.screenshot("oauth-federated-ibkr.png").await;
    fill(&browser, "username", "alice").await;
    fill(&browser, "password", "alice-pass-1").await;
    click(&browser, "button[value=allow]").await;

    let hit = wait_for_hit(&hits, 1).await;
    assert_eq!(param(&hit, "state").as_deref(), Some("tv-state-7"));
    let code = param(&hit, "code").expect("a code in the redirect");

    // TradingView's server exchanges the code and trades with the token, at IBKR.
    let http = reqwest::Client::new();
    let access = exchange(&base, CLIENT, SECRET, &code, &redirect).await;
    let access = access.as_str();
    let placed: serde_json::Value = http
        .post(format!(
            "{base}/api/accounts/{ACCOUNT}/orders?requestId=browser-1"
        ))
        .bearer_auth(access)
        .form(&[
            ("instrument", "AAPL"),
            ("qty", "2"),
            ("side", "buy"),
            ("type", "market"),
        ])
        .send()
        .await
        .expect("an order")
        .json()
        .await
        .expect("JSON");
    assert_eq!(placed["s"], "ok", "{placed}");
    let id: i64 = placed["d"]["orderId"].as_str().unwrap().parse().unwrap();
    assert_eq!(fake.orders_with_id(ACCOUNT, id), 1);

    // A second login asks for the bridge password only.
    client
        .goto(&format!("{base}/api/oauth/authorize?{query}&prompt=login"))
        .await
        .expect("the login page");
    fill(&browser, "login", "demo").await;
    fill(&browser, "password", "demo").await;
    click(&browser, "button[type=submit]").await;
    let hit = wait_for_hit(&hits, 2).await;
    assert!(param(&hit, "code").is_some(), "{hit}");
    assert_eq!(
        fake.access_tokens_of("alice").len(),
        1,
        "IBKR was not asked again"
    );
    browser.close().await;
}
