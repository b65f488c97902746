//! One running bridge with its market, whichever the backend: the paper broker on a manual clock, or
//! Capital.com / OANDA / IBKR through their fakes with moving prices, each fake clock starting on Wednesday
//! 2026-03-04 15:00 UTC (every market open) and lent to the bridge as its "now". The suite's properties
//! talk to the bridge over a real socket and move the market's clock through [`Feed::advance`].

use crate::support::fake_capital::{FakeCapital, FakeOptions as CapitalOptions};
use crate::support::fake_ibkr::{FakeIbkr, FakeIbkrOptions};
use crate::support::fake_oanda::{FakeOanda, FakeOptions as OandaOptions};
use crate::support::live::{Lines, LiveApp};
use crate::support::schema::assert_schema;
use crate::support::{capital, config, ibkr, oanda};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use std::time::Duration;

/// The market behind the bridge, for its clock.
pub enum Market {
    Paper,
    Capital(FakeCapital),
    Oanda(FakeOanda),
    Ibkr(FakeIbkr),
}

/// The bridge under test, logged in.
pub struct Feed {
    pub app: LiveApp,
    pub token: String,
    pub market: Market,
    /// The forex symbol most properties chart.
    pub fx: &'static str,
    /// Whether streamed trades carry sizes (the paper broker's do; the upstreams send quotes only, so
    /// their trades are the bid with size 0).
    pub trades_have_size: bool,
}

/// Wednesday 2026-03-04 15:00 UTC: where the fakes' clocks start (every market open, New York on winter
/// time, a weekend two days back).
pub fn wednesday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 15, 0, 0)
        .single()
        .expect("a valid time")
}

/// Extra configuration every harness uses: heartbeats every second.
const DATAFEED: &str = "[datafeed]\nheartbeat_secs = 1\n";

impl Feed {
    /// The paper broker on a manual clock at the support module's T0 (a Monday noon).
    pub async fn paper() -> Feed {
        let app = LiveApp::start(config(DATAFEED), true).await;
        let token = app.login().await;
        Feed {
            app,
            token,
            market: Market::Paper,
            fx: "EURUSD",
            trades_have_size: true,
        }
    }

    /// Capital.com through its fake: moving prices, usual opening hours.
    pub async fn capital() -> Feed {
        let mut options = CapitalOptions::moving_market(wednesday());
        options.requests_per_second = 10;
        let fake = FakeCapital::start(options).await;
        let config = capital::config(&fake, "request_timeout_ms = 30000\n", DATAFEED);
        let app = LiveApp::with_broker(config.clone(), capital::broker_on(&config, &fake)).await;
        let token = login(&app, capital::LOGIN, capital::PASSWORD).await;
        Feed {
            app,
            token,
            market: Market::Capital(fake),
            fx: "EURUSD",
            trades_have_size: false,
        }
    }

    /// OANDA (v20) through its fake: moving prices, the FX weekend closed.
    pub async fn oanda() -> Feed {
        let fake = FakeOanda::start(OandaOptions {
            now: Some(wednesday()),
            moving: true,
            ..oanda::fake_options()
        })
        .await;
        let config = oanda::config(&fake, "request_timeout_ms = 30000\n", DATAFEED);
        let app = LiveApp::with_broker(config.clone(), oanda::broker_on(&config, &fake)).await;
        let token = login(&app, oanda::V20, oanda::TOKEN).await;
        Feed {
            app,
            token,
            market: Market::Oanda(fake),
            fx: "EURUSD",
            trades_have_size: false,
        }
    }

    /// OANDA through its fake with the data feed on the legacy v1 account (`/v1/candles`, the v1 rates
    /// stream).
    pub async fn oanda_v1() -> Feed {
        let fake = FakeOanda::start(OandaOptions {
            now: Some(wednesday()),
            moving: true,
            ..oanda::fake_options()
        })
        .await;
        let extra = format!("request_timeout_ms = 30000\ndata_account = \"{}\"\n", oanda::V1);
        let config = oanda::config(&fake, &extra, DATAFEED);
        let app = LiveApp::with_broker(config.clone(), oanda::broker_on(&config, &fake)).await;
        let token = login(&app, oanda::V1, oanda::TOKEN).await;
        Feed {
            app,
            token,
            market: Market::Oanda(fake),
            fx: "EURUSD",
            trades_have_size: false,
        }
    }

    /// Interactive Brokers through the fake Client Portal gateway: moving prices, each contract on its
    /// usual hours (a stock, EUR.USD and a future on offer), IBKR's pacing; the bridge user is mapped to
    /// one gateway account.
    pub async fn ibkr() -> Feed {
        let fake = FakeIbkr::start(FakeIbkrOptions {
            accounts: ibkr::options().accounts,
            ..FakeIbkrOptions::moving_market(wednesday())
        })
        .await;
        let config = ibkr::with_future(&fake, "request_timeout_ms = 30000\n", DATAFEED);
        let app = LiveApp::with_broker(config.clone(), ibkr::broker_on(&config, &fake).await).await;
        let token = login(&app, ibkr::LOGIN, ibkr::PASSWORD).await;
        Feed {
            app,
            token,
            market: Market::Ibkr(fake),
            fx: "EURUSD",
            trades_have_size: false,
        }
    }

    /// The market's clock, unix seconds.
    pub fn now(&self) -> i64 {
        match &self.market {
            Market::Paper => self.app.now(),
            Market::Capital(f) => f.now().timestamp(),
            Market::Oanda(f) => f.now().timestamp(),
            Market::Ibkr(f) => f.now().timestamp(),
        }
    }

    /// Moves the market's clock forward; the market trades every second in between.
    pub fn advance(&self, secs: i64) {
        let by = Duration::from_secs(secs.max(0) as u64);
        match &self.market {
            Market::Paper => self.app.advance(secs),
            Market::Capital(f) => f.advance_clock(by),
            Market::Oanda(f) => f.advance_clock(by),
            Market::Ibkr(f) => f.advance_clock(by),
        }
    }

    /// `GET path` with the token: (status, body).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.app.get(path, Some(&self.token)).await
    }

    /// `/history?{query}`, which must succeed: the body, checked against the schema, with parallel
    /// arrays.
    pub async fn history(&self, query: &str) -> Value {
        let (status, body) = self.get(&format!("/history?{query}")).await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(body["s"], "ok", "{query}: {body}");
        assert_schema("HistoryResponse", &body);
        let n = body["t"].as_array().map(Vec::len).unwrap_or(0);
        for k in ["o", "h", "l", "c", "v"] {
            assert_eq!(body[k].as_array().map(Vec::len), Some(n), "{query}: {k}");
        }
        body
    }

    /// Opens `/streaming`.
    pub async fn streaming(&self) -> Lines {
        self.app.open("/streaming", &self.token).await
    }
}

/// Logs `login` in through `/authorize` and returns the token.
async fn login(app: &LiveApp, login: &str, password: &str) -> String {
    let body = app
        .form(
            "POST",
            "/authorize",
            None,
            &format!("login={login}&password={password}&locale=en"),
        )
        .await;
    body["d"]["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("login refused: {body}"))
        .to_owned()
}
