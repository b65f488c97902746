//! A fake of Interactive Brokers' Third-Party Web API v1: a registered consumer, the three-legged OAuth
//! 1.0a grant with an authorization page of its own, the live session token, and the FIX-style resources
//! on a stateful engine. Written from IBKR's documents, never from the bridge.
//!
//! [`FakeIbkrThirdParty::start`] serves it on `127.0.0.1` (everything under `/v1/api`, the page at
//! `/authorize`); its methods are the test hooks: grant without a browser, the nightly refresh, revoke,
//! expire live session tokens, move prices, schedule faults, and read the ledger (orders, place
//! requests per CustomerOrderId, request counts). `examples/fake_ibkr_thirdparty.rs` serves it alone.

mod authorize;
mod clock;
mod engine;
mod faults;
mod gate;
mod oauth;
mod options;
mod resources;
mod state;
mod ticker;
mod wire;

pub use crate::ibkr_auth::three_legged::IssuedAccess;
pub use authorize::AUTHORIZE_PATH;
pub use clock::next_refresh;
pub use faults::Fault;
pub use options::{ConsumerMaterial, FakeIbkrThirdPartyOptions, FakeTpAccount, FakeTpContract, FakeTpUser};
pub use state::LoggedRequest;

use crate::ibkr::{dh_params, keys_dir};
use crate::ibkr_auth::three_legged::{Decision, Registration, ThreeLeggedServer};
use crate::ibkr_auth::{system_clock, NowMs};
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use clock::Clock;
use resources::{accounts, market, orders, trades};
use rust_decimal::Decimal;
use state::Shared;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One order as the ledger records it.
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerOrder {
    pub account: String,
    pub customer_order_id: i64,
    pub contract_id: i64,
    /// FIX side.
    pub side: String,
    pub quantity: Decimal,
    pub filled: Decimal,
    /// FIX order status now.
    pub status: String,
    /// The CustomerOrderId this order replaced (it is a modification of that order, not a placement).
    pub replaces: Option<i64>,
}

/// What a test checks invariants on.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    /// Every order placed (replacements included), oldest first.
    pub orders: Vec<LedgerOrder>,
    /// Place requests that reached the engine per (account, CustomerOrderId), refused duplicates
    /// included.
    pub place_requests: HashMap<(String, i64), usize>,
    /// Requests per (method, path below `/v1/api`), refused ones included.
    pub requests: HashMap<(String, String), usize>,
}

/// A running fake and the handle tests steer it with. Dropping it stops the server.
pub struct FakeIbkrThirdParty {
    /// `http://127.0.0.1:PORT/v1/api`.
    pub base_url: String,
    /// `http://127.0.0.1:PORT`.
    pub origin: String,
    /// `http://127.0.0.1:PORT/authorize`.
    pub authorize_url: String,
    shared: Arc<Shared>,
    consumer: ConsumerMaterial,
    server: JoinHandle<()>,
    ticker: Option<JoinHandle<()>>,
}

impl Drop for FakeIbkrThirdParty {
    fn drop(&mut self) {
        self.server.abort();
        if let Some(t) = &self.ticker {
            t.abort();
        }
    }
}

/// Every route behind the gate.
fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/oauth/request_token", post(oauth::request_token))
        .route("/oauth/access_token", post(oauth::access_token))
        .route("/oauth/live_session_token", post(oauth::live_session_token))
        .route("/accounts", get(accounts::list))
        .route("/accounts/{acct}/positions", get(accounts::positions))
        .route("/accounts/{acct}/summary", get(accounts::summary))
        .route("/accounts/{acct}/orders", get(orders::list).post(orders::place))
        .route(
            "/accounts/{acct}/orders/{id}",
            get(orders::get).delete(orders::cancel).put(orders::modify),
        )
        .route("/accounts/{acct}/order_impact", post(orders::impact))
        .route("/accounts/{acct}/trades", get(trades::list))
        .route("/secdef", get(market::secdef))
        .route("/marketdata/snapshot", get(market::snapshot))
        .route("/marketdata/exchange_component", get(market::exchange_component))
        .with_state(shared.clone());
    Router::new()
        .nest(gate::PREFIX, api)
        .route(AUTHORIZE_PATH, get(authorize::show).post(authorize::submit))
        .with_state(shared.clone())
        .fallback(gate::fallback)
        .layer(from_fn_with_state(shared, gate::gate))
}

/// The test key files.
fn read_key(name: &str) -> Result<String, String> {
    let path = keys_dir().join(name);
    std::fs::read_to_string(&path).map_err(|e| format!("test key {}: {e}", path.display()))
}

/// The consumer's material and the server side, on the fake clock.
fn build(options: &FakeIbkrThirdPartyOptions) -> Result<(Arc<Shared>, ConsumerMaterial), String> {
    let (dh_prime, dh_generator) =
        dh_params(&read_key("dhparam.pem")?).ok_or("the DH parameters fixture is not DH PARAMETERS")?;
    let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    let registration = Registration {
        consumer_key: options.consumer_key.clone(),
        realm: options.realm.clone(),
        signature_public_pem: read_key("signature.pub.pem")?,
        encryption_public_pem: read_key("encryption.pub.pem")?,
        dh_prime: dh_prime.clone(),
        dh_generator: dh_generator.clone(),
        lst_lifetime_ms: ms(options.lst_lifetime),
        request_token_lifetime_ms: ms(options.request_token_lifetime),
        lsts_per_token: options.lsts_per_token,
    };
    let clock = Arc::new(Mutex::new(Clock::new(options.start, options.frozen_clock)));
    let reader = clock.clone();
    let now: NowMs = Arc::new(move || {
        reader
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .now()
            .timestamp_millis()
    });
    let auth = ThreeLeggedServer::new(registration, system_clock(), now)?;
    let consumer = ConsumerMaterial {
        consumer_key: options.consumer_key.clone(),
        realm: options.realm.clone(),
        signature_key_file: keys_dir().join("signature.pem"),
        encryption_key_file: keys_dir().join("encryption.pem"),
        dh_param_file: keys_dir().join("dhparam.pem"),
        dh_prime,
        dh_generator,
    };
    Ok((Arc::new(Shared::new(options, clock, auth)), consumer))
}

impl FakeIbkrThirdParty {
    /// Binds `127.0.0.1:0` and serves the fake in a background task.
    ///
    /// # Panics
    /// When no local port can be bound or the test keys are missing (the environment is broken).
    pub async fn start(options: FakeIbkrThirdPartyOptions) -> FakeIbkrThirdParty {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the fake IBKR third-party server needs a local port");
        let addr = listener.local_addr().expect("a bound listener has an address");
        let (shared, consumer) = build(&options).expect("the test keys of testdata/ibkr/keys");
        let app = router(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let ticker = options
            .moving_seed
            .map(|seed| tokio::spawn(ticker::drive(shared.clone(), seed)));
        let origin = format!("http://{addr}");
        FakeIbkrThirdParty {
            base_url: format!("{origin}{}", gate::PREFIX),
            authorize_url: format!("{origin}{AUTHORIZE_PATH}"),
            origin,
            shared,
            consumer,
            server,
            ticker,
        }
    }

    /// Serves the fake on `listener` until the server fails (for the example binary); returns the
    /// consumer material through `ready` first.
    pub async fn serve(
        listener: TcpListener,
        options: FakeIbkrThirdPartyOptions,
        ready: impl FnOnce(&ConsumerMaterial),
    ) -> std::io::Result<()> {
        let (shared, consumer) = build(&options).map_err(std::io::Error::other)?;
        ready(&consumer);
        if let Some(seed) = options.moving_seed {
            tokio::spawn(ticker::drive(shared.clone(), seed));
        }
        axum::serve(listener, router(shared)).await
    }

    /// What the consumer (the bridge) is configured with.
    pub fn consumer(&self) -> &ConsumerMaterial {
        &self.consumer
    }

    // --- Users and grants ---

    /// Adds (or replaces) a user and opens their accounts.
    pub fn add_user(&self, user: FakeTpUser) {
        self.shared.lock().add_user(user);
    }

    /// The user logs in on the page and presses Allow for `request_token`: where their browser goes
    /// (the callback with `oauth_token` and `oauth_verifier`). `Err` is the page's error text.
    pub fn approve(&self, request_token: &str, username: &str, password: &str) -> Result<String, String> {
        match self.shared.approve(request_token, username, password)? {
            Decision::Redirect(url) => Ok(url),
            Decision::OutOfBand(verifier) => Ok(format!("oob:{}", verifier.unwrap_or_default())),
        }
    }

    /// The user presses Deny for `request_token`: where their browser goes (`denied=1`).
    pub fn deny(&self, request_token: &str) -> Result<String, String> {
        match self
            .shared
            .auth
            .deny(request_token)
            .map_err(|r| r.message().to_string())?
        {
            Decision::Redirect(url) => Ok(url),
            Decision::OutOfBand(_) => Ok("oob:denied".into()),
        }
    }

    /// Steps 1 to 3 without a browser or signatures: `username` approves the consumer and an access
    /// token is issued (its secret encrypted to the consumer's encryption key). `None` for an unknown
    /// user.
    pub fn grant(&self, username: &str) -> Option<IssuedAccess> {
        self.shared.lock().user(username)?;
        let issued = self.shared.auth.issue(username).ok()?;
        let now = self.shared.now();
        self.shared.lock().authorized(username, now);
        Some(issued)
    }

    /// The user revokes the consumer at IBKR: their access tokens and live session tokens stop working
    /// (401); a new grant works again. Returns how many access tokens were revoked.
    pub fn revoke(&self, username: &str) -> usize {
        self.shared.auth.revoke_user(username)
    }

    /// Every live session token expires now.
    pub fn expire_lsts(&self) {
        self.shared.auth.expire_lsts();
    }

    /// Live session tokens issued so far.
    pub fn lsts_issued(&self) -> usize {
        self.shared.auth.lsts_issued()
    }

    /// The access tokens issued to a user (revoked ones included).
    pub fn access_tokens_of(&self, username: &str) -> Vec<String> {
        self.shared.auth.access_tokens_of(username)
    }

    /// IBKR's nightly refresh runs now: `/accounts*` answers for every authorised user.
    pub fn nightly_refresh(&self) {
        self.shared.lock().nightly_refresh();
    }

    /// Whether `/accounts*` answers 204 for the user now (authorised, refresh not yet run).
    pub fn awaiting_refresh(&self, username: &str) -> bool {
        let now = self.now();
        self.shared.lock().awaiting_refresh(username, now)
    }

    /// When the user first approved the consumer (fake clock), if ever.
    pub fn first_authorized(&self, username: &str) -> Option<DateTime<Utc>> {
        self.shared.lock().user(username)?.first_authorized
    }

    // --- Clock ---

    /// The fake clock's time.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.now()
    }

    /// Moves the fake clock forward (past 16:55 US/Eastern, the nightly refresh has run).
    pub fn advance_clock(&self, by: Duration) {
        self.shared.clock().advance(by);
    }

    /// Puts the fake clock at `at`.
    pub fn set_clock(&self, at: DateTime<Utc>) {
        self.shared.clock().set(at);
    }

    /// Stops real time from moving the fake clock.
    pub fn freeze_clock(&self) {
        self.shared.clock().freeze();
    }

    // --- Prices ---

    /// Moves a contract's quote (last at the mid); working orders that cross fill. An unknown conid is
    /// ignored.
    pub fn set_price(&self, conid: i64, bid: Decimal, ask: Decimal) {
        let now = self.now();
        self.shared.lock().set_quote(conid, bid, ask, now);
    }

    /// The (bid, ask) of a contract.
    pub fn quote(&self, conid: i64) -> Option<(Decimal, Decimal)> {
        self.shared
            .lock()
            .markets
            .get(&conid)
            .map(|m| (m.contract.bid, m.contract.ask))
    }

    /// Marks a contract's market data delayed (`Temporality` 1) or real time.
    pub fn set_delayed(&self, conid: i64, delayed: bool) {
        if let Some(m) = self.shared.lock().markets.get_mut(&conid) {
            m.contract.delayed = delayed;
        }
    }

    // --- Faults and limits ---

    /// Schedules a fault (a counted one for zero requests is a no-op).
    pub fn inject(&self, fault: Fault) {
        if matches!(
            fault,
            Fault::Status { times: 0, .. } | Fault::Delay { times: 0, .. }
        ) {
            return;
        }
        self.shared.lock().faults.push(fault);
    }

    /// The next `times` calls of `method` on paths starting with `path_prefix` (below `/v1/api`) answer
    /// `status` and do nothing (5xx, 408, 429 with `Retry-After`, 202 with no body).
    pub fn fail_next(&self, method: &str, path_prefix: &str, status: u16, times: usize) {
        self.inject(Fault::Status {
            method: Some(method.to_string()),
            path_prefix: path_prefix.to_string(),
            status,
            times,
        });
    }

    /// The next `times` matching calls are answered normally after `delay`.
    pub fn delay_next(&self, method: &str, path_prefix: &str, delay: Duration, times: usize) {
        self.inject(Fault::Delay {
            method: Some(method.to_string()),
            path_prefix: path_prefix.to_string(),
            delay,
            times,
        });
    }

    /// The next matching call is carried out (an order IS placed) and answered `status`.
    pub fn accept_then_fail(&self, method: &str, path_prefix: &str, status: u16) {
        self.inject(Fault::AcceptThenStatus {
            method: Some(method.to_string()),
            path_prefix: path_prefix.to_string(),
            status,
        });
    }

    /// The next matching call is carried out (an order IS placed) and answered only after `delay`.
    pub fn accept_then_hang(&self, method: &str, path_prefix: &str, delay: Duration) {
        self.inject(Fault::AcceptThenHang {
            method: Some(method.to_string()),
            path_prefix: path_prefix.to_string(),
            delay,
        });
    }

    /// Drops every fault still scheduled (counted ones with requests left included): IBKR recovers.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Changes the requests per second (0: no limit).
    pub fn set_requests_per_second(&self, rps: u32) {
        self.shared.lock().requests_per_second = rps;
    }

    /// Changes the 423 lock interval (zero: no lock).
    pub fn set_lock_interval(&self, interval: Duration) {
        self.shared.lock().lock_interval = interval;
    }

    /// Changes how many first GETs of each path answer 202 (counted from now).
    pub fn set_slow_reads(&self, n: usize) {
        let mut st = self.shared.lock();
        st.slow_reads = n;
        st.reads.clear();
    }

    // --- Inspection ---

    /// The ledger: orders, place requests per CustomerOrderId, request counts.
    pub fn ledger(&self) -> Ledger {
        let st = self.shared.lock();
        let mut requests: HashMap<(String, String), usize> = HashMap::new();
        for r in &st.log {
            *requests.entry((r.method.clone(), r.path.clone())).or_default() += 1;
        }
        Ledger {
            orders: st
                .orders
                .iter()
                .map(|o| LedgerOrder {
                    account: o.account.clone(),
                    customer_order_id: o.coid,
                    contract_id: o.conid,
                    side: o.side.clone(),
                    quantity: o.qty,
                    filled: o.filled,
                    status: o.status.clone(),
                    replaces: o.replaces,
                })
                .collect(),
            place_requests: st.place_requests.clone(),
            requests,
        }
    }

    /// Orders placed on an account with this CustomerOrderId (0 or 1: the fake never places twice).
    pub fn orders_with_id(&self, account: &str, customer_order_id: i64) -> usize {
        self.shared
            .lock()
            .orders
            .iter()
            .filter(|o| o.account == account && o.coid == customer_order_id)
            .count()
    }

    /// Place requests that named (account, CustomerOrderId).
    pub fn place_requests(&self, account: &str, customer_order_id: i64) -> usize {
        self.shared
            .lock()
            .place_requests
            .get(&(account.to_string(), customer_order_id))
            .copied()
            .unwrap_or(0)
    }

    /// The FIX status of an order now.
    pub fn order_status(&self, account: &str, customer_order_id: i64) -> Option<String> {
        let st = self.shared.lock();
        st.order_index(account, customer_order_id)
            .map(|i| st.orders[i].status.clone())
    }

    /// The net position of an account in a contract (zero when none).
    pub fn position(&self, account: &str, conid: i64) -> Decimal {
        self.shared
            .lock()
            .accounts
            .get(account)
            .and_then(|a| a.positions.get(&conid))
            .map(|p| p.qty)
            .unwrap_or_default()
    }

    /// The cash of an account.
    pub fn cash(&self, account: &str) -> Option<Decimal> {
        self.shared.lock().accounts.get(account).map(|a| a.cash)
    }

    /// Executions so far, over all accounts.
    pub fn trade_count(&self) -> usize {
        self.shared.lock().trades.len()
    }

    /// Every request so far, oldest first (refused ones included).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.lock().log.clone()
    }

    /// Requests of `method` on exactly `path` (below `/v1/api`) so far.
    pub fn calls(&self, method: &str, path: &str) -> usize {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.path == path)
            .count()
    }

    /// Requests answered `status` so far.
    pub fn answered(&self, status: u16) -> usize {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|r| r.status == status)
            .count()
    }
}
