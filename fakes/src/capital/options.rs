//! The fake's configuration (users, accounts, markets, limits), the records tests read back (requests,
//! positions, working orders) and the faults tests can inject.

use super::price_path::Hours;
use chrono::{DateTime, Utc, Weekday};
use rust_decimal::Decimal;
use std::time::{Duration, Instant};

/// How the fake is set up. Every field has a realistic default (see [`FakeOptions::default`]).
#[derive(Clone)]
pub struct FakeOptions {
    /// The value `X-CAP-API-KEY` must carry on `POST /session` (default `fake-api-key`).
    pub api_key: String,
    /// The users that can log in (default: [`FakeUser::demo`]).
    pub users: Vec<FakeUser>,
    /// The markets on offer (default: [`FakeMarket::defaults`]).
    pub markets: Vec<FakeMarket>,
    /// Requests per session (CST) inside any sliding second of real time; the next one gets 429.
    pub requests_per_second: u32,
    /// `POST /session` per API key inside any sliding second of real time; the next one gets 429.
    pub session_creations_per_second: u32,
    /// A session dies when it was not used for this long, measured on the fake clock.
    pub idle_expiry: Duration,
    /// The other reading of a behaviour no official document states: a stop or profit field left out of
    /// `PUT /positions/{dealId}` or `PUT /workingorders/{dealId}` (and a `guaranteedStop` or `trailingStop`
    /// flag left out) keeps the current setting (`true`), instead of removing it (`false`, the default).
    pub omitted_stops_kept: bool,
    /// Where the fake clock starts (default: the real time); it then advances with real time.
    pub now: Option<DateTime<Utc>>,
    /// Seed of the price process every price bar and (when `moving`) every streamed quote comes from.
    pub seed: u64,
    /// Prices move by themselves, one tick per second while a market is open (see [`super::market`]);
    /// otherwise they stay where the markets start until `set_price` moves them (trading tests).
    pub moving: bool,
    /// The oldest time the fake has prices for: no bar starts before it (default 2005-01-01).
    pub data_start: DateTime<Utc>,
}

impl Default for FakeOptions {
    fn default() -> Self {
        FakeOptions {
            api_key: "fake-api-key".to_string(),
            users: vec![FakeUser::demo()],
            markets: FakeMarket::defaults(),
            requests_per_second: 10,
            session_creations_per_second: 1,
            idle_expiry: Duration::from_secs(600),
            omitted_stops_kept: false,
            now: None,
            seed: 20_240_101,
            moving: false,
            data_start: DateTime::from_timestamp(1_104_537_600, 0).unwrap_or_default(),
        }
    }
}

impl FakeOptions {
    /// Moving prices with realistic trading hours for every market (see [`FakeMarket::usual_hours`]),
    /// the clock starting at `now`.
    pub fn moving_market(now: DateTime<Utc>) -> FakeOptions {
        let mut o = FakeOptions {
            now: Some(now),
            moving: true,
            ..FakeOptions::default()
        };
        for m in &mut o.markets {
            m.hours = FakeMarket::usual_hours(&m.instrument_type);
        }
        o
    }
}

/// A login of the fake: `identifier` + `password`, owning one or more accounts.
#[derive(Clone)]
pub struct FakeUser {
    /// The login (`identifier` of `POST /session`), compared case-insensitively like an e-mail.
    pub identifier: String,
    /// The plain password (encrypted passwords are refused).
    pub password: String,
    /// The user's financial accounts; the one marked `preferred` is current after login.
    pub accounts: Vec<FakeAccount>,
}

impl FakeUser {
    /// `demo@example.com` / `demo-password` with a netting account `ACC-NET` (preferred) and a hedging
    /// account `ACC-HEDGE`, both in USD with 10 000 deposited.
    pub fn demo() -> FakeUser {
        FakeUser {
            identifier: "demo@example.com".to_string(),
            password: "demo-password".to_string(),
            accounts: vec![
                FakeAccount {
                    id: "ACC-NET".to_string(),
                    name: "USD".to_string(),
                    currency: "USD".to_string(),
                    balance: Decimal::new(10_000, 0),
                    hedging: false,
                    preferred: true,
                },
                FakeAccount {
                    id: "ACC-HEDGE".to_string(),
                    name: "USD hedging".to_string(),
                    currency: "USD".to_string(),
                    balance: Decimal::new(10_000, 0),
                    hedging: true,
                    preferred: false,
                },
            ],
        }
    }
}

/// One financial account of a user. `balance` is the cash deposited when the fake starts.
#[derive(Clone)]
pub struct FakeAccount {
    /// `accountId`.
    pub id: String,
    /// `accountName`.
    pub name: String,
    /// ISO code of the account currency; P/L is converted to it.
    pub currency: String,
    /// Cash deposited when the fake starts (also listed as a `DEPOSIT` transaction).
    pub balance: Decimal,
    /// `hedgingMode` of the account preferences: every deal opens its own position.
    pub hedging: bool,
    /// The account a new session starts on.
    pub preferred: bool,
}

/// One market (epic). Prices are quoted in `currency`; distances in percent of the price.
#[derive(Clone)]
pub struct FakeMarket {
    /// The market id used in every path and payload.
    pub epic: String,
    /// `instrumentName` / `instrument.name`.
    pub name: String,
    /// `CURRENCIES`, `COMMODITIES`, `INDICES`, `SHARES` or `CRYPTOCURRENCIES`.
    pub instrument_type: String,
    /// Quote currency of the prices and P/L.
    pub currency: String,
    /// Opening quote; [`super::FakeCapital::set_price`] moves it.
    pub bid: Decimal,
    pub offer: Decimal,
    /// Price precision (`decimalPlacesFactor`); levels are rounded to it.
    pub decimal_places: u32,
    pub lot_size: Decimal,
    /// Smaller deals are rejected; sizes may not have more decimals than this value.
    pub min_deal_size: Decimal,
    /// Larger deals are rejected.
    pub max_deal_size: Decimal,
    /// `minStepDistance` (informational).
    pub min_step_distance: Decimal,
    /// `minNormalStopOrLimitDistance`, percent.
    pub min_stop_distance_pct: Decimal,
    /// `maxStopOrLimitDistance`, percent.
    pub max_stop_distance_pct: Decimal,
    /// Whether trailing stops are allowed (`trailingStopsPreference`).
    pub trailing_stops: bool,
    /// When it trades (UTC, as `openingHours` lists it): no ticks and no price bars outside. The
    /// default markets never close, so trading tests do not depend on the day of the week.
    pub hours: Hours,
}

impl FakeMarket {
    /// EURUSD, GBPUSD, GOLD, US100, BTCUSD and AAPL with realistic prices and dealing rules (AAPL has no
    /// trailing stops).
    pub fn defaults() -> Vec<FakeMarket> {
        let d = Decimal::new;
        let m = |epic: &str,
                 name: &str,
                 ty: &str,
                 bid: Decimal,
                 offer: Decimal,
                 dp: u32,
                 (min, max): (Decimal, Decimal),
                 step: Decimal,
                 (min_pct, max_pct): (Decimal, Decimal),
                 trailing: bool| FakeMarket {
            epic: epic.to_string(),
            name: name.to_string(),
            instrument_type: ty.to_string(),
            currency: "USD".to_string(),
            bid,
            offer,
            decimal_places: dp,
            lot_size: Decimal::ONE,
            min_deal_size: min,
            max_deal_size: max,
            min_step_distance: step,
            min_stop_distance_pct: min_pct,
            max_stop_distance_pct: max_pct,
            trailing_stops: trailing,
            hours: Hours::Always,
        };
        vec![
            m(
                "EURUSD",
                "EUR/USD",
                "CURRENCIES",
                d(108_512, 5),
                d(108_518, 5),
                5,
                (d(100, 0), d(10_000_000, 0)),
                d(1, 5),
                (d(1, 2), d(10, 0)),
                true,
            ),
            m(
                "GBPUSD",
                "GBP/USD",
                "CURRENCIES",
                d(126_840, 5),
                d(126_849, 5),
                5,
                (d(100, 0), d(10_000_000, 0)),
                d(1, 5),
                (d(1, 2), d(10, 0)),
                true,
            ),
            m(
                "GOLD",
                "Gold",
                "COMMODITIES",
                d(203_452, 2),
                d(203_482, 2),
                2,
                (d(1, 1), d(2_000, 0)),
                d(1, 2),
                (d(5, 2), d(30, 0)),
                true,
            ),
            m(
                "US100",
                "US Tech 100",
                "INDICES",
                d(178_243, 1),
                d(178_261, 1),
                1,
                (d(1, 1), d(500, 0)),
                d(1, 1),
                (d(5, 2), d(20, 0)),
                true,
            ),
            m(
                "BTCUSD",
                "Bitcoin/USD",
                "CRYPTOCURRENCIES",
                d(4_325_015, 2),
                d(4_331_015, 2),
                2,
                (d(1, 3), d(100, 0)),
                d(1, 2),
                (d(5, 1), d(50, 0)),
                true,
            ),
            m(
                "AAPL",
                "Apple Inc",
                "SHARES",
                d(18_542, 2),
                d(18_560, 2),
                2,
                (d(1, 0), d(5_000, 0)),
                d(1, 2),
                (d(1, 1), d(50, 0)),
                false,
            ),
        ]
    }
}

impl FakeMarket {
    /// Trading hours like Capital.com lists them per instrument type, in UTC: currencies, commodities and
    /// indices from Sunday 22:00 to Friday 21:00, shares on weekdays 14:30 to 21:00, crypto always.
    pub fn usual_hours(instrument_type: &str) -> Hours {
        use Weekday::*;
        match instrument_type {
            "CRYPTOCURRENCIES" => Hours::Always,
            "SHARES" => Hours::weekly(&[
                (Mon, "14:30", "21:00"),
                (Tue, "14:30", "21:00"),
                (Wed, "14:30", "21:00"),
                (Thu, "14:30", "21:00"),
                (Fri, "14:30", "21:00"),
            ]),
            _ => Hours::weekly(&[
                (Sun, "22:00", "00:00"),
                (Mon, "00:00", "00:00"),
                (Tue, "00:00", "00:00"),
                (Wed, "00:00", "00:00"),
                (Thu, "00:00", "00:00"),
                (Fri, "00:00", "21:00"),
            ]),
        }
    }
}

/// One HTTP request as the fake saw it (rejected ones included).
#[derive(Clone, Debug)]
pub struct LoggedRequest {
    /// When it arrived (real time).
    pub at: Instant,
    /// `GET`, `POST`...
    pub method: String,
    /// Without the `/api/v1` prefix and without the query, e.g. `/positions`.
    pub path: String,
    /// The raw query string (`""` when there is none).
    pub query: String,
    /// The `CST` header, if any.
    pub cst: Option<String>,
    /// The status answered (0 while the answer is still being made).
    pub status: u16,
}

/// An open position (deal) as the fake holds it.
#[derive(Clone, Debug)]
pub struct FakePosition {
    pub account_id: String,
    pub deal_id: String,
    /// `p_<dealId>`.
    pub deal_reference: String,
    pub epic: String,
    /// `BUY` or `SELL`.
    pub direction: String,
    pub size: Decimal,
    /// Opening price.
    pub level: Decimal,
    pub stop_level: Option<Decimal>,
    pub profit_level: Option<Decimal>,
    pub trailing_stop: bool,
    /// The trailing distance (set with `trailing_stop`).
    pub stop_distance: Option<Decimal>,
    pub guaranteed_stop: bool,
}

/// A working (limit or stop) order as the fake holds it.
#[derive(Clone, Debug)]
pub struct FakeWorkingOrder {
    pub account_id: String,
    pub deal_id: String,
    pub epic: String,
    /// `BUY` or `SELL`.
    pub direction: String,
    pub size: Decimal,
    /// The order price.
    pub level: Decimal,
    /// `LIMIT` or `STOP`.
    pub order_type: String,
    /// UTC, `YYYY-MM-DDTHH:MM:SS`.
    pub good_till_date: Option<String>,
    pub stop_level: Option<Decimal>,
    pub profit_level: Option<Decimal>,
    pub guaranteed_stop: bool,
}

/// A misbehaviour to apply to the next matching HTTP request(s), after the request was logged.
#[derive(Clone, Debug)]
pub enum Fault {
    /// The next `times` requests matching method (None = any) and path prefix (e.g. "/positions") get this status and JSON body; they have no effect.
    Status {
        method: Option<String>,
        path_prefix: String,
        status: u16,
        body: serde_json::Value,
        times: usize,
    },
    /// The next matching request is fully executed (the deal is made, its confirm stored) but its answer is withheld for `delay` (tests use a delay longer than the client's timeout): a "timeout after accepting".
    AcceptThenHang {
        method: Option<String>,
        path_prefix: String,
        delay: Duration,
    },
    /// The next matching request hangs `delay` BEFORE being executed (a slow upstream that did nothing yet).
    DelayBefore {
        method: Option<String>,
        path_prefix: String,
        delay: Duration,
    },
}

impl Fault {
    /// Whether this fault applies to a request.
    pub(super) fn matches(&self, req_method: &str, req_path: &str) -> bool {
        let (method, prefix) = match self {
            Fault::Status {
                method, path_prefix, ..
            }
            | Fault::AcceptThenHang {
                method, path_prefix, ..
            }
            | Fault::DelayBefore {
                method, path_prefix, ..
            } => (method, path_prefix),
        };
        method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(req_method))
            && req_path.starts_with(prefix.as_str())
    }
}
