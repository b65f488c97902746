//! The bridge on IBKR's Third-Party Web API against the fake (`fakes::ibkr_third_party`), driven as
//! TradingView and a user's browser drive it: the Code flow through the login page to IBKR's authorization
//! page and back, trading for the user with their grant (place, modify, cancel, close, quotes), a second
//! login that skips IBKR, revocation at IBKR, the nightly-refresh 204s, and orders whose answer was lost
//! after IBKR accepted them (found, never placed twice). The secrets reach the bridge through the process
//! environment under names no other test uses.

#[path = "../support/mod.rs"]
mod support;

#[allow(dead_code)]
#[path = "../api/oauth/browserless.rs"]
mod browserless;

mod flow;
mod outcome;
mod statuses;
mod trading;

use browserless::{CLIENT, REDIRECT, SECRET};
use fakes::ibkr_third_party::{FakeIbkrThirdParty, FakeIbkrThirdPartyOptions};
use std::sync::Arc;
use support::TestApp;
use tvbridge::config::{BackendConfig, Config};

/// Alice at IBKR: her password and account at the fake.
pub const IBKR_USER: &str = "alice";
pub const IBKR_PASSWORD: &str = "alice-pass-1";
pub const ACCOUNT: &str = "U1234567";
/// AAPL's conid (the fake's catalogue and IBKR's).
pub const AAPL: i64 = 265_598;
/// The public URL the bridge tells IBKR to send browsers back to.
pub const PUBLIC: &str = "https://bridge.example.com/api";

/// The environment the bridge reads its consumer key and link key from.
fn set_env(fake: &FakeIbkrThirdParty) {
    std::env::set_var("TVB_TEST_TP_CONSUMER_KEY", &fake.consumer().consumer_key);
    // 32 bytes, base64: a throw-away test key.
    std::env::set_var(
        "TVB_TEST_TP_LINK_KEY",
        "dGVzdC1vbmx5LWxpbmsta2V5LTMyLWJ5dGVzLWxvbmc=",
    );
}

/// The bridge's configuration on `fake`: bridge users demo and other, the staging OAuth client, AAPL and
/// EURUSD.
pub fn config(fake: &FakeIbkrThirdParty, extra_backend: &str) -> Config {
    let c = fake.consumer();
    let toml = format!(
        r#"
[hub]
freshness_ms = 0

[auth]
token_secret = "tp-tests-token-secret-0123456789abcdef"

[[auth.users]]
login = "demo"
password = "demo"

[[auth.users]]
login = "other"
password = "other-pass"

[oauth]
public_url = "{PUBLIC}"

[[oauth.clients]]
client_id = "{CLIENT}"
name = "TradingView (staging)"
client_secret = "{SECRET}"
redirect_uris = ["{REDIRECT}"]

[backend]
kind = "ibkr-third-party"
base_url = "{base}"
authorize_url = "{authorize}"
consumer_key_env = "TVB_TEST_TP_CONSUMER_KEY"
signature_key_file = "{sig}"
encryption_key_file = "{enc}"
dh_param_file = "{dh}"
realm = "{realm}"
link_key_env = "TVB_TEST_TP_LINK_KEY"
accepted_retry_ms = 100
locked_backoff_ms = 100
{extra_backend}

[[backend.symbols]]
symbol = "AAPL"
conid = {AAPL}
tradingview = "NASDAQ:AAPL"

[[backend.symbols]]
symbol = "EURUSD"
instrument_type = "CASH"
ticker = "EUR"
currency = "USD"
"#,
        base = fake.base_url,
        authorize = fake.authorize_url,
        sig = c.signature_key_file.display(),
        enc = c.encryption_key_file.display(),
        dh = c.dh_param_file.display(),
        realm = c.realm,
    );
    Config::from_toml(&toml).unwrap_or_else(|e| panic!("test config is valid: {e}\n{toml}"))
}

/// The fake with `options` and the bridge in-process on it.
pub async fn start_with(
    options: FakeIbkrThirdPartyOptions,
    extra_backend: &str,
) -> (FakeIbkrThirdParty, TestApp) {
    let fake = FakeIbkrThirdParty::start(options).await;
    set_env(&fake);
    let config = config(&fake, extra_backend);
    let BackendConfig::IbkrThirdParty(tp) = &config.backend else {
        panic!("ibkr-third-party config expected");
    };
    let store = Arc::new(tvbridge::store::MemoryStore::new());
    let broker = tvbridge::backends::ibkr_third_party::IbkrThirdPartyBroker::start(tp, store)
        .await
        .expect("the broker starts");
    (fake, TestApp::with_broker(config, Arc::new(broker)))
}

/// The fake with every user past the nightly refresh, no 423 lock and no rate limit.
pub async fn start() -> (FakeIbkrThirdParty, TestApp) {
    start_with(FakeIbkrThirdPartyOptions::relaxed(), "").await
}
