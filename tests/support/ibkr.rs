//! The bridge on the Interactive Brokers backend (Client Portal gateway transport) against the fake IBKR
//! gateway: configuration, start-up, and the fake's accounts and contracts the tests trade.

use super::fake_ibkr::{FakeIbkr, FakeIbkrAccount, FakeIbkrOptions};
use super::TestApp;
use std::sync::Arc;
use tvbridge::backends::ibkr::IbkrBroker;
use tvbridge::config::{BackendConfig, Config};

/// The fake gateway user's accounts: `demo` sees the first, `other` the second.
pub const ACCT: &str = "DU1234567";
pub const OTHER: &str = "DU7654321";
/// The fake's contracts the configuration offers.
pub const AAPL: i64 = 265_598;
pub const EURUSD: i64 = 12_087_792;
/// The fake's E-mini S&P 500 future, which [`with_future`] adds to a configuration.
pub const ES: i64 = 495_512_563;
/// The bridge login mapped to [`ACCT`] and its password.
pub const LOGIN: &str = "demo";
pub const PASSWORD: &str = "demo";

/// The fake's default set-up with a second paper account (for the account mapping).
pub fn options() -> FakeIbkrOptions {
    FakeIbkrOptions {
        accounts: vec![
            FakeIbkrAccount::paper(ACCT, "USD"),
            FakeIbkrAccount::paper(OTHER, "USD"),
        ],
        ..FakeIbkrOptions::default()
    }
}

/// The fake's set-up without pacing and questions (tests of trading, not of pacing).
pub fn relaxed() -> FakeIbkrOptions {
    FakeIbkrOptions {
        accounts: options().accounts,
        ..FakeIbkrOptions::relaxed()
    }
}

/// A configuration of the IBKR backend on the gateway transport pointed at `fake`, `backend_extra`
/// appended to `[backend]` (before the symbol tables), `rest` before it; the account hub caches nothing
/// unless `rest` has a `[hub]`.
pub fn config(fake: &FakeIbkr, backend_extra: &str, rest: &str) -> Config {
    let text = config_text(fake, backend_extra, rest);
    Config::from_toml(&text).unwrap_or_else(|e| panic!("test config is valid: {e}\n{text}"))
}

/// The text of [`config`].
fn config_text(fake: &FakeIbkr, backend_extra: &str, rest: &str) -> String {
    let hub = if rest.contains("[hub]") {
        ""
    } else {
        "[hub]\nfreshness_ms = 0\n"
    };
    format!(
        r#"{hub}
[[auth.users]]
login = "demo"
password = "demo"

[[auth.users]]
login = "other"
password = "other-pass"

{rest}

[backend]
kind = "ibkr"
transport = "gateway"
base_url = "{base}"
snapshot_retry_ms = 100
{backend_extra}

[[backend.users]]
login = "demo"
accounts = ["{ACCT}"]

[[backend.users]]
login = "other"
accounts = ["{OTHER}"]

[[backend.symbols]]
symbol = "AAPL"
conid = {AAPL}
tradingview = "NASDAQ:AAPL"

[[backend.symbols]]
symbol = "EURUSD"
search = "EUR.USD"
sec_type = "CASH"
tradingview = "FX:EURUSD"
"#,
        base = fake.base_url,
    )
}

/// [`config`] offering the fake's future too (as `ES`, found by `secdef/search`), so that a stock, a
/// currency pair and a future are all on offer.
pub fn with_future(fake: &FakeIbkr, backend_extra: &str, rest: &str) -> Config {
    let text = format!(
        "{}\n[[backend.symbols]]\nsymbol = \"ES\"\nsearch = \"ES\"\nsec_type = \"FUT\"\n",
        config_text(fake, backend_extra, rest)
    );
    Config::from_toml(&text).unwrap_or_else(|e| panic!("test config is valid: {e}\n{text}"))
}

/// Starts the IBKR broker for `config` with the fake's clock as the data feed's "now" (so the bridge
/// and a fake clock far from real time agree on what is recent, as the bridge and IBKR do).
pub async fn broker_on(config: &Config, fake: &FakeIbkr) -> Arc<IbkrBroker> {
    let BackendConfig::Ibkr(ibkr) = &config.backend else {
        panic!("ibkr config expected");
    };
    Arc::new(
        IbkrBroker::start_with_clock(ibkr, Arc::new(fake.clock()))
            .await
            .expect("ibkr broker starts"),
    )
}

/// Starts the IBKR broker for `config`.
pub async fn broker(config: &Config) -> Arc<IbkrBroker> {
    let BackendConfig::Ibkr(ibkr) = &config.backend else {
        panic!("ibkr config expected");
    };
    Arc::new(IbkrBroker::start(ibkr).await.expect("ibkr broker starts"))
}

/// The fake with `options` and the bridge in-process on it.
pub async fn start_with(options: FakeIbkrOptions, backend_extra: &str, rest: &str) -> (FakeIbkr, TestApp) {
    let fake = FakeIbkr::start(options).await;
    let config = config(&fake, backend_extra, rest);
    let app = TestApp::with_broker(config.clone(), broker(&config).await);
    (fake, app)
}

/// The fake without pacing or questions, and the bridge on it.
pub async fn start() -> (FakeIbkr, TestApp) {
    start_with(relaxed(), "", "").await
}

/// `POST path` straight to the fake (what a person does at the gateway, like `/logout`).
pub async fn poke(fake: &FakeIbkr, path: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{}{path}", fake.base_url))
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("the fake answers")
        .status()
        .as_u16()
}

/// Waits out IBKR's one-read-per-5-s limit on `/iserver/account/orders` and `/trades`: the bridge's next
/// account refresh (which a write asked for) has been made by then, so TradingView's next poll sees it.
pub async fn next_refresh() {
    tokio::time::sleep(std::time::Duration::from_millis(5_600)).await;
}

/// The fake's row of order `id` (as `/iserver/account/orders` lists it) in `account`.
pub fn fake_order(fake: &FakeIbkr, account: &str, id: &str) -> serde_json::Value {
    let rows = fake.orders(account);
    rows.iter()
        .find(|o| o["orderId"].to_string().trim_matches('"') == id)
        .cloned()
        .unwrap_or_else(|| panic!("order {id} not at the fake: {rows:?}"))
}
