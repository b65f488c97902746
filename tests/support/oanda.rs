//! The bridge on the OANDA backend against the fake OANDA: configuration, start-up, logins and the
//! request-log queries the tests assert on.

use super::fake_oanda::{FakeOanda, FakeOptions, LoggedRequest};
use super::live::LiveApp;
use super::TestApp;
use std::sync::Arc;
use std::time::Duration;
use tvbridge::backends::oanda::stream::StreamOptions;
use tvbridge::backends::oanda::OandaBroker;
use tvbridge::config::{BackendConfig, Config};

/// The fake's default token and accounts: v20 without hedging, v20 with hedging, v1 legacy.
pub const TOKEN: &str = "fake-token";
pub const V20: &str = "101-004-1234567-001";
pub const V20_HEDGE: &str = "101-004-1234567-002";
pub const V1: &str = "7654321";

/// A configuration of the OANDA backend pointed at `fake`, with `backend_extra` TOML appended to
/// `[backend]` and `rest` TOML before it; the account hub caches nothing unless `rest` has a `[hub]`.
pub fn config(fake: &FakeOanda, backend_extra: &str, rest: &str) -> Config {
    let hub = if rest.contains("[hub]") {
        ""
    } else {
        "[hub]\nfreshness_ms = 0\n"
    };
    // A short timeout unless the test sets its own.
    let timeout = if backend_extra.contains("request_timeout_ms") {
        ""
    } else {
        "request_timeout_ms = 2000"
    };
    let text = format!(
        r#"{hub}
{rest}

[backend]
kind = "oanda"
rest_url = "{rest_url}"
stream_url = "{stream_url}"
{timeout}
{backend_extra}
"#,
        rest_url = fake.rest_url,
        stream_url = fake.stream_url,
    );
    Config::from_toml(&text).unwrap_or_else(|e| panic!("test config is valid: {e}\n{text}"))
}

/// Stream timings short enough for tests: a stream silent for 1.5 s is reopened after 100 ms.
pub fn quick_streams() -> StreamOptions {
    let mut o = StreamOptions::new(Duration::from_millis(1500));
    o.min_backoff = Duration::from_millis(100);
    o.max_backoff = Duration::from_millis(400);
    o.debounce = Duration::from_millis(20);
    o
}

/// Starts the OANDA broker for `config` (environment variables read from the process).
pub fn broker(config: &Config) -> Arc<OandaBroker> {
    let BackendConfig::Oanda(oanda) = &config.backend else {
        panic!("oanda config expected");
    };
    let resolved = oanda
        .resolve(&|name| std::env::var(name).ok())
        .expect("the test configuration resolves");
    Arc::new(OandaBroker::start_with(resolved, Some(quick_streams())).expect("oanda broker starts"))
}

/// Starts the OANDA broker for `config` with the fake's clock as the data feed's "now" (so the bridge
/// and a fake clock far from real time agree on what is recent, as the bridge and OANDA do).
pub fn broker_on(config: &Config, fake: &FakeOanda) -> Arc<OandaBroker> {
    let BackendConfig::Oanda(oanda) = &config.backend else {
        panic!("oanda config expected");
    };
    let resolved = oanda
        .resolve(&|name| std::env::var(name).ok())
        .expect("the test configuration resolves");
    Arc::new(
        OandaBroker::start_with_clock(resolved, Some(quick_streams()), Arc::new(fake.clock()))
            .expect("oanda broker starts"),
    )
}

/// The fake (default options) and the bridge in-process on it.
pub async fn start(backend_extra: &str, rest: &str) -> (FakeOanda, TestApp) {
    start_with(fake_options(), backend_extra, rest).await
}

/// Fake options with a heartbeat short enough for tests.
pub fn fake_options() -> FakeOptions {
    FakeOptions {
        heartbeat: Duration::from_millis(200),
        ..FakeOptions::default()
    }
}

pub async fn start_with(options: FakeOptions, backend_extra: &str, rest: &str) -> (FakeOanda, TestApp) {
    let fake = FakeOanda::start(options).await;
    let config = config(&fake, backend_extra, rest);
    let app = TestApp::with_broker(config.clone(), broker(&config));
    (fake, app)
}

/// The fake and the bridge on a real socket (streams), with the broker handle for stream counters.
pub async fn start_live(backend_extra: &str, rest: &str) -> (FakeOanda, LiveApp, Arc<OandaBroker>) {
    let fake = FakeOanda::start(fake_options()).await;
    let config = config(&fake, backend_extra, rest);
    let broker = broker(&config);
    let app = LiveApp::with_broker(config.clone(), broker.clone()).await;
    (fake, app, broker)
}

/// Logs in with pass-through credentials: the account id and the fake's token.
pub async fn login(app: &TestApp, account: &str) -> String {
    app.login_as(account, TOKEN).await
}

/// Requests of `method` whose path is `path` (exact, without query).
pub fn count(requests: &[LoggedRequest], method: &str, path: &str) -> usize {
    requests
        .iter()
        .filter(|r| r.method == method && r.path == path)
        .count()
}
