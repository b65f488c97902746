//! The fake's configuration (tokens, accounts, instruments, limits), the records tests read back
//! (requests, orders, trades) and the faults tests can inject.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::fmt;
use std::time::Duration;

/// How the fake is set up. Every field has a realistic default (see [`FakeOptions::default`]).
#[derive(Clone, Debug)]
pub struct FakeOptions {
    /// The personal access tokens the fake accepts (default: `fake-token`, reaching every account).
    pub tokens: Vec<FakeToken>,
    /// The accounts (default: a netting and a hedging v20 account and one v1 legacy account).
    pub accounts: Vec<FakeAccount>,
    /// The instruments on offer (default: [`FakeInstrument::defaults`]).
    pub instruments: Vec<FakeInstrument>,
    /// Requests per token inside any sliding second of real time (both listeners); the next one gets 429.
    pub requests_per_second: u32,
    /// Time between heartbeat lines on every stream (OANDA: 5 s).
    pub heartbeat: Duration,
    /// Where the fake clock starts (default: the real time); the clock then advances with real time.
    pub now: Option<DateTime<Utc>>,
    /// The other reading of a behaviour no official document states: OANDA's replacement of an order
    /// (`PUT /orders/{spec}`) without `clientExtensions` in the request keeps the replaced order's (`false`,
    /// the default) or starts without any (`true`), so that a client must set them again.
    pub replacements_drop_client_extensions: bool,
    /// Seed of the price process every candle and (when `moving`) every streamed price comes from.
    pub seed: u64,
    /// Prices move by themselves, one tick per second while the market is open (see [`super::market`]);
    /// otherwise they stay where the instruments start until `set_price` moves them (trading tests).
    pub moving: bool,
    /// The oldest time the fake has prices for: no candle starts before it (default 2005-01-01).
    pub data_start: DateTime<Utc>,
}

impl Default for FakeOptions {
    fn default() -> Self {
        let accounts = vec![
            FakeAccount::v20("101-004-1234567-001", false),
            FakeAccount::v20("101-004-1234567-002", true),
            FakeAccount::v1("7654321"),
        ];
        FakeOptions {
            tokens: vec![FakeToken {
                token: "fake-token".to_string(),
                accounts: accounts.iter().map(|a| a.id.clone()).collect(),
            }],
            accounts,
            instruments: FakeInstrument::defaults(),
            requests_per_second: 120,
            heartbeat: Duration::from_secs(5),
            now: None,
            replacements_drop_client_extensions: false,
            seed: 20_240_101,
            moving: false,
            data_start: DateTime::from_timestamp(1_104_537_600, 0).unwrap_or_default(),
        }
    }
}

/// A personal access token and the accounts it may use. Its value never appears in `Debug` output.
#[derive(Clone)]
pub struct FakeToken {
    /// The value clients send as `Authorization: Bearer <token>`.
    pub token: String,
    /// Ids of the accounts this token reaches (others answer 403).
    pub accounts: Vec<String>,
}

impl fmt::Debug for FakeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeToken")
            .field("token", &"<redacted>")
            .field("accounts", &self.accounts)
            .finish()
    }
}

/// One trading account. `legacy` accounts (all-digit ids) are served only on `/v1`, the others only on
/// `/v3`.
#[derive(Clone, Debug)]
pub struct FakeAccount {
    /// v20: `{site}-{division}-{user}-{number}`; v1: digits only.
    pub id: String,
    /// v20 `alias` / v1 `accountName`.
    pub alias: String,
    /// Home currency; P/L and margin are converted to it.
    pub currency: String,
    /// Cash deposited when the fake starts (recorded as a `TRANSFER_FUNDS` transaction).
    pub balance: Decimal,
    /// Every fill opens its own trade (v20 `hedgingEnabled`); otherwise opposite trades are reduced FIFO.
    pub hedging: bool,
    /// A v1 (legacy) account.
    pub legacy: bool,
    /// `guaranteedStopLossOrderMode` is `ALLOWED` (else `DISABLED`: guaranteed stops are rejected).
    pub guaranteed_stops: bool,
}

impl FakeAccount {
    /// A v20 account in USD with 100 000 deposited.
    pub fn v20(id: &str, hedging: bool) -> FakeAccount {
        FakeAccount {
            id: id.to_string(),
            alias: if hedging { "Hedging" } else { "Primary" }.to_string(),
            currency: "USD".to_string(),
            balance: Decimal::new(100_000, 0),
            hedging,
            legacy: false,
            guaranteed_stops: false,
        }
    }

    /// A v1 legacy account in USD with 100 000 deposited (v1 accounts never hedge).
    pub fn v1(id: &str) -> FakeAccount {
        FakeAccount {
            id: id.to_string(),
            alias: "Primary".to_string(),
            currency: "USD".to_string(),
            balance: Decimal::new(100_000, 0),
            hedging: false,
            legacy: true,
            guaranteed_stops: false,
        }
    }
}

/// One instrument and its starting quote. Names are `BASE_QUOTE`; prices are in the quote currency.
#[derive(Clone, Debug)]
pub struct FakeInstrument {
    /// `EUR_USD`.
    pub name: String,
    /// `CURRENCY`, `CFD` or `METAL`.
    pub kind: String,
    /// `EUR/USD`.
    pub display_name: String,
    /// The pip is `10^pip_location` (-4 for EUR_USD).
    pub pip_location: i32,
    /// Decimals of a price; finer prices are rejected (`PRICE_PRECISION_EXCEEDED`).
    pub display_precision: u32,
    /// Decimals allowed in `units`.
    pub trade_units_precision: u32,
    /// Smaller orders are rejected (`UNITS_MIMIMUM_NOT_MET`, as the documented enum spells it).
    pub minimum_trade_size: Decimal,
    /// Larger orders are rejected (`UNITS_LIMIT_EXCEEDED`).
    pub maximum_order_units: Decimal,
    /// Margin needed per unit of position value (0.02 = 50:1).
    pub margin_rate: Decimal,
    /// Starting bid; [`super::FakeOanda::set_price`] moves it.
    pub bid: Decimal,
    /// Starting ask.
    pub ask: Decimal,
    /// Trading halted: prices are not tradeable, market orders are cancelled (`MARKET_HALTED`).
    pub halted: bool,
}

impl FakeInstrument {
    /// EUR_USD, USD_JPY, GBP_USD (CURRENCY), XAU_USD (METAL) and SPX500_USD (CFD) with OANDA's pip
    /// locations and precisions, US margin rates and plausible quotes.
    pub fn defaults() -> Vec<FakeInstrument> {
        let d = Decimal::new;
        #[allow(clippy::too_many_arguments)]
        let i = |name: &str,
                 kind: &str,
                 display: &str,
                 pip: i32,
                 precision: u32,
                 max_units: Decimal,
                 margin: Decimal,
                 bid: Decimal,
                 ask: Decimal| FakeInstrument {
            name: name.to_string(),
            kind: kind.to_string(),
            display_name: display.to_string(),
            pip_location: pip,
            display_precision: precision,
            trade_units_precision: 0,
            minimum_trade_size: Decimal::ONE,
            maximum_order_units: max_units,
            margin_rate: margin,
            bid,
            ask,
            halted: false,
        };
        vec![
            i(
                "EUR_USD",
                "CURRENCY",
                "EUR/USD",
                -4,
                5,
                d(100_000_000, 0),
                d(2, 2),
                d(108_512, 5),
                d(108_526, 5),
            ),
            i(
                "USD_JPY",
                "CURRENCY",
                "USD/JPY",
                -2,
                3,
                d(100_000_000, 0),
                d(4, 2),
                d(149_512, 3),
                d(149_526, 3),
            ),
            i(
                "GBP_USD",
                "CURRENCY",
                "GBP/USD",
                -4,
                5,
                d(100_000_000, 0),
                d(5, 2),
                d(126_840, 5),
                d(126_858, 5),
            ),
            i(
                "XAU_USD",
                "METAL",
                "Gold",
                -2,
                3,
                d(5_000, 0),
                d(5, 2),
                d(2_034_520, 3),
                d(2_034_870, 3),
            ),
            i(
                "SPX500_USD",
                "CFD",
                "US SPX 500",
                0,
                1,
                d(5_000, 0),
                d(5, 2),
                d(47_852, 1),
                d(47_860, 1),
            ),
        ]
    }

    /// The size of one pip in price units.
    pub fn pip(&self) -> Decimal {
        pow10(self.pip_location)
    }

    /// Quote currency (`USD` of `EUR_USD`).
    pub fn quote_currency(&self) -> &str {
        self.name.split('_').nth(1).unwrap_or("")
    }

    /// Base currency or asset (`EUR` of `EUR_USD`).
    pub fn base_currency(&self) -> &str {
        self.name.split('_').next().unwrap_or("")
    }
}

/// `10^exp` as a decimal (exponents outside ±20 are clamped).
pub(super) fn pow10(exp: i32) -> Decimal {
    let exp = exp.clamp(-20, 20);
    if exp >= 0 {
        Decimal::from(10u64.pow(exp.unsigned_abs()))
    } else {
        Decimal::new(1, exp.unsigned_abs())
    }
}

/// One request as the fake saw it (rejected ones included). `Debug` hides the authorization value.
#[derive(Clone)]
pub struct LoggedRequest {
    /// `GET`, `POST`...
    pub method: String,
    /// The full path without the query, e.g. `/v3/accounts/101-004-1234567-001/orders`.
    pub path: String,
    /// The raw query string (`""` when there is none).
    pub query: String,
    /// The request body as text (`""` when empty).
    pub body: String,
    /// The `Authorization` header as sent.
    pub authorization: Option<String>,
    /// Whether it came in on the stream listener.
    pub stream: bool,
    /// The status answered (0 while the answer is still being made).
    pub status: u16,
}

impl fmt::Debug for LoggedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoggedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("body", &self.body)
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .field("stream", &self.stream)
            .field("status", &self.status)
            .finish()
    }
}

/// An order as the fake holds it (any state, dependent orders included).
#[derive(Clone, Debug, PartialEq)]
pub struct FakeOrder {
    /// The order id (also the id of the transaction that created it).
    pub id: String,
    /// The account it belongs to.
    pub account: String,
    /// `EUR_USD`.
    pub instrument: String,
    /// v20 order type: `MARKET`, `LIMIT`, `STOP`, `MARKET_IF_TOUCHED`, `TAKE_PROFIT`, `STOP_LOSS`,
    /// `TRAILING_STOP_LOSS`.
    pub kind: String,
    /// Signed units (0 for dependent orders, which close their whole trade).
    pub units: Decimal,
    /// The order price (the current trigger level for a trailing stop).
    pub price: Option<Decimal>,
    /// `PENDING`, `FILLED`, `CANCELLED` or `TRIGGERED`.
    pub state: String,
    /// `clientExtensions.id`.
    pub client_id: Option<String>,
    /// The trade a dependent order belongs to.
    pub trade_id: Option<String>,
    /// The order this one replaced (`replacesOrderID`: a replace cancels the old order and creates this).
    pub replaces: Option<String>,
}

/// An open trade as the fake holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeTrade {
    /// The trade id (also the id of the fill that opened it).
    pub id: String,
    /// The account it belongs to.
    pub account: String,
    /// `EUR_USD`.
    pub instrument: String,
    /// Signed current units (negative: short).
    pub units: Decimal,
    /// Opening price.
    pub price: Decimal,
    /// Price of its stop loss order, if any.
    pub stop_loss: Option<Decimal>,
    /// Price of its take profit order, if any.
    pub take_profit: Option<Decimal>,
    /// Distance of the trailing stop, in price units.
    pub trailing_distance: Option<Decimal>,
}

/// A misbehaviour for the next matching request(s). Faulted requests are still logged.
#[derive(Clone, Debug)]
pub enum Fault {
    /// The next `times` requests whose path contains `path` (any path when None) get `status` with the
    /// matching documented error body (v20 or v1 shape by path); they have no effect.
    Status {
        status: u16,
        times: u32,
        path: Option<String>,
    },
    /// The next request whose method and path match (the path contains `path`) is carried out (the
    /// order is created...) but the answer never comes: the handler sleeps about an hour.
    TimeoutAfterAccept { method: String, path: String },
    /// The next matching request waits `delay` before being processed.
    Delay { delay: Duration, path: Option<String> },
}

impl Fault {
    /// Whether this fault applies to a request.
    pub(super) fn matches(&self, method: &str, path: &str) -> bool {
        match self {
            Fault::Status { path: p, .. } | Fault::Delay { path: p, .. } => {
                p.as_deref().is_none_or(|p| path.contains(p))
            }
            Fault::TimeoutAfterAccept { method: m, path: p } => {
                m.eq_ignore_ascii_case(method) && path.contains(p.as_str())
            }
        }
    }
}
