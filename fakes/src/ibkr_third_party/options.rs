//! How the fake Third-Party Web API is set up: the registered consumer, the IBKR users who may grant it
//! access (password, accounts, whether IBKR's nightly refresh already ran for them), the contract
//! catalogue with its prices, and the limits (requests per second, the lock interval of `/accounts/*`,
//! slow reads). Every field has a working default ([`FakeIbkrThirdPartyOptions::default`]).

use chrono::{DateTime, Utc};
use num_bigint::BigUint;
use rust_decimal::Decimal;
use std::path::PathBuf;
use std::time::Duration;

/// One brokerage account of a user.
#[derive(Clone, Debug)]
pub struct FakeTpAccount {
    /// `U1234567`.
    pub id: String,
    /// Base currency (the summary's `Currency`).
    pub currency: String,
    /// Starting cash.
    pub cash: Decimal,
}

impl FakeTpAccount {
    /// An account with 100 000 USD.
    pub fn usd(id: &str) -> FakeTpAccount {
        FakeTpAccount {
            id: id.to_string(),
            currency: "USD".to_string(),
            cash: Decimal::from(100_000),
        }
    }
}

/// An IBKR user who can log in on the authorization page.
#[derive(Clone, Debug)]
pub struct FakeTpUser {
    pub username: String,
    /// Test-only: compared in clear on the fake's page.
    pub password: String,
    pub accounts: Vec<FakeTpAccount>,
    /// IBKR's nightly refresh already covers this user: `/accounts*` answers at once after the first
    /// grant instead of 204 until the next refresh.
    pub refreshed: bool,
}

impl FakeTpUser {
    /// A user with USD accounts `accounts`, not refreshed yet.
    pub fn new(username: &str, password: &str, accounts: &[&str]) -> FakeTpUser {
        FakeTpUser {
            username: username.to_string(),
            password: password.to_string(),
            accounts: accounts.iter().map(|a| FakeTpAccount::usd(a)).collect(),
            refreshed: false,
        }
    }

    /// The same user, already covered by a nightly refresh.
    pub fn refreshed(mut self) -> FakeTpUser {
        self.refreshed = true;
        self
    }
}

/// A contract of the catalogue and its (fixed, test-movable) prices.
#[derive(Clone, Debug)]
pub struct FakeTpContract {
    pub conid: i64,
    /// `AAPL`, or the base currency of a pair (`EUR`).
    pub ticker: String,
    /// `STK` or `CASH`.
    pub sec_type: String,
    /// Listing exchange (`NASDAQ`, `NYSE`, `IDEALPRO`).
    pub exchange: String,
    pub company_name: String,
    /// Trading currency (the quote currency of a pair).
    pub currency: String,
    pub bid: Decimal,
    pub ask: Decimal,
    /// Last trade price.
    pub last: Decimal,
    /// Previous close.
    pub close: Decimal,
    /// Snapshots answer `Temporality` 1 (delayed) instead of 0.
    pub delayed: bool,
}

impl FakeTpContract {
    fn new(conid: i64, ticker: &str, sec_type: &str, exchange: &str, name: &str, currency: &str) -> Self {
        FakeTpContract {
            conid,
            ticker: ticker.to_string(),
            sec_type: sec_type.to_string(),
            exchange: exchange.to_string(),
            company_name: name.to_string(),
            currency: currency.to_string(),
            bid: Decimal::ZERO,
            ask: Decimal::ZERO,
            last: Decimal::ZERO,
            close: Decimal::ZERO,
            delayed: false,
        }
    }

    /// The same contract quoted at `bid`/`ask` (last and close at the mid).
    pub fn quoted(mut self, bid: Decimal, ask: Decimal) -> Self {
        self.bid = bid;
        self.ask = ask;
        self.last = (bid + ask) / Decimal::TWO;
        self.close = self.last;
        self
    }

    /// The same contract with delayed market data.
    pub fn delayed(mut self) -> Self {
        self.delayed = true;
        self
    }

    /// The default catalogue: AAPL 265598 NASDAQ, MSFT 272093 NASDAQ, IBM 8314 NYSE (delayed data),
    /// EUR.USD 12087792 IDEALPRO.
    pub fn catalogue() -> Vec<FakeTpContract> {
        let d = |s: &str| s.parse::<Decimal>().unwrap_or_default();
        vec![
            Self::new(265_598, "AAPL", "STK", "NASDAQ", "APPLE INC", "USD").quoted(d("187.50"), d("187.52")),
            Self::new(272_093, "MSFT", "STK", "NASDAQ", "MICROSOFT CORP", "USD")
                .quoted(d("410.10"), d("410.14")),
            Self::new(8_314, "IBM", "STK", "NYSE", "INTL BUSINESS MACHINES CORP", "USD")
                .quoted(d("165.20"), d("165.26"))
                .delayed(),
            Self::new(
                12_087_792,
                "EUR",
                "CASH",
                "IDEALPRO",
                "European Monetary Union Euro",
                "USD",
            )
            .quoted(d("1.08510"), d("1.08515")),
        ]
    }
}

/// The fake's set-up.
#[derive(Clone, Debug)]
pub struct FakeIbkrThirdPartyOptions {
    pub consumer_key: String,
    pub realm: String,
    pub users: Vec<FakeTpUser>,
    pub contracts: Vec<FakeTpContract>,
    /// Requests per second (over the consumer) before 429 with `Retry-After`; 0 means no limit.
    pub requests_per_second: u32,
    /// A (access token, method, `/accounts/{id}/...` path) polled more often than this gets 423; zero
    /// disables the lock.
    pub lock_interval: Duration,
    /// The first N GETs of every resource path answer 202 (a slow resource); 0 disables.
    pub slow_reads: usize,
    /// Where the fake clock starts.
    pub start: DateTime<Utc>,
    /// The fake clock stands still unless a test moves it.
    pub frozen_clock: bool,
    pub lst_lifetime: Duration,
    /// How long a request token waits for the user and the exchange.
    pub request_token_lifetime: Duration,
    /// Live session tokens of one access token that are valid at once (the newest ones).
    pub lsts_per_token: usize,
    /// Commission per share (stocks) with a minimum per order of `min_commission`.
    pub commission_per_share: Decimal,
    pub min_commission: Decimal,
    /// Prices move every second along seeded paths (`Some(seed)`) instead of staying fixed.
    pub moving_seed: Option<u64>,
}

impl Default for FakeIbkrThirdPartyOptions {
    fn default() -> Self {
        FakeIbkrThirdPartyOptions {
            consumer_key: "TVBRIDGETP".to_string(),
            realm: "limited_poa".to_string(),
            users: vec![
                FakeTpUser::new("alice", "alice-pass-1", &["U1234567"]),
                FakeTpUser::new("bob", "bob-pass-2", &["U7654321", "U7654322"]),
            ],
            contracts: FakeTpContract::catalogue(),
            requests_per_second: 50,
            lock_interval: Duration::from_secs(1),
            slow_reads: 0,
            start: Utc::now(),
            frozen_clock: false,
            lst_lifetime: Duration::from_secs(24 * 3600),
            request_token_lifetime: Duration::from_secs(600),
            lsts_per_token: 1,
            commission_per_share: Decimal::new(5, 3),
            min_commission: Decimal::ONE,
            moving_seed: None,
        }
    }
}

impl FakeIbkrThirdPartyOptions {
    /// Defaults with every user already refreshed, no lock interval and no rate limit: what a test
    /// that is not about those rules wants.
    pub fn relaxed() -> Self {
        FakeIbkrThirdPartyOptions {
            requests_per_second: 0,
            lock_interval: Duration::ZERO,
            ..Self::default()
        }
        .all_refreshed()
    }

    /// The same options with every user already covered by a nightly refresh.
    pub fn all_refreshed(mut self) -> Self {
        for u in &mut self.users {
            u.refreshed = true;
        }
        self
    }

    /// Adds a user.
    pub fn with_user(mut self, user: FakeTpUser) -> Self {
        self.users.push(user);
        self
    }
}

/// What the consumer (the bridge) is configured with.
#[derive(Clone, Debug)]
pub struct ConsumerMaterial {
    pub consumer_key: String,
    pub realm: String,
    /// PKCS#1 PEM of the private signature key.
    pub signature_key_file: PathBuf,
    /// PKCS#8 PEM of the private encryption key.
    pub encryption_key_file: PathBuf,
    /// PEM `DH PARAMETERS` file.
    pub dh_param_file: PathBuf,
    pub dh_prime: BigUint,
    pub dh_generator: BigUint,
}
