//! A fake of the Interactive Brokers Client Portal Web API as the gateway serves it under `/v1/api`,
//! built from IBKR's OpenAPI models (session, accounts, portfolio, contracts, orders with the reply
//! loop, market data, the WebSocket) with a stateful engine: orders fill against the fake's own seeded
//! prices, moving positions, cash and executions. Pacing (429), an expiring brokerage session, competing
//! sessions and faults are switches tests drive through [`FakeIbkr`]; `examples/fake_ibkr.rs` serves it
//! on its own.
//!
//! Authentication is the gateway's (nothing, or a configured cookie) by default; the ready-made OAuth
//! 1.0a and OAuth 2.0 modes ([`FakeIbkrOptions::oauth1`], [`FakeIbkrOptions::oauth2`], `oauth.rs`) check
//! signatures and tokens for real, and another scheme plugs in through [`Verifier`] and
//! [`FakeIbkrOptions::extra_routes`].

mod accounts;
mod contracts;
mod engine;
mod gate;
mod live;
mod market;
mod oauth;
mod oauth_keys;
mod options;
mod orders;
use crate::price_path;
mod schedule;
mod session;
mod state;
mod tickets;
mod wire;
mod ws;

pub use contracts::FakeContract;
pub use oauth::{
    FakeOauth, RefusalReason, LIVE_SESSION_TOKEN_PATH, OAUTH2_KEY_ID, SSO_SESSION_PATH, TOKEN_PATH,
};
pub use oauth_keys::{dh_params, keys_dir, Oauth1ClientMaterial, Oauth2ClientMaterial};
pub use options::{
    EndpointPacing, FakeIbkrAccount, FakeIbkrOptions, FakeQuestion, Fault, LoggedRequest, Refusal, Verifier,
};
pub use orders::FakeSubmission;
pub use price_path::Hours as FakeHours;
pub use schedule::{FakeDay, FakeSchedule};

use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use state::Shared;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A running fake on `127.0.0.1` and the handle tests use to steer and inspect it. Dropping it stops
/// the server.
pub struct FakeIbkr {
    /// `http://127.0.0.1:PORT/v1/api`.
    pub base_url: String,
    /// `ws://127.0.0.1:PORT/v1/api/ws`.
    pub ws_url: String,
    shared: Arc<Shared>,
    oauth: Option<Arc<FakeOauth>>,
    server: JoinHandle<()>,
    driver: JoinHandle<()>,
}

impl Drop for FakeIbkr {
    fn drop(&mut self) {
        self.server.abort();
        self.driver.abort();
        self.shared.lock().abort_sockets();
    }
}

/// Every route of the fake behind the gate.
fn router(shared: Arc<Shared>, extra: Option<Router>) -> Router {
    let api = Router::new()
        .route("/iserver/auth/status", post(session::status))
        .route("/iserver/auth/ssodh/init", post(session::ssodh_init))
        .route(
            "/iserver/reauthenticate",
            get(session::reauthenticate).post(session::reauthenticate),
        )
        .route("/tickle", post(session::tickle).get(session::tickle))
        .route("/sso/validate", get(session::validate))
        .route("/logout", post(session::logout))
        .route("/iserver/accounts", get(accounts::iserver_accounts))
        .route("/iserver/account", post(accounts::switch))
        .route("/portfolio/accounts", get(accounts::portfolio_accounts))
        .route("/portfolio/{acct}/summary", get(accounts::summary))
        .route("/portfolio/{acct}/ledger", get(accounts::ledger))
        .route("/portfolio/{acct}/positions/{page}", get(accounts::positions))
        .route(
            "/iserver/secdef/search",
            get(contracts::search).post(contracts::search),
        )
        .route("/trsrv/secdef", get(contracts::secdef))
        .route("/trsrv/secdef/schedule", get(contracts::schedule))
        .route("/iserver/contract/{conid}/info", get(contracts::info))
        .route(
            "/iserver/contract/{conid}/info-and-rules",
            get(contracts::info_and_rules),
        )
        .route("/iserver/account/{acct}/orders", post(orders::place))
        .route("/iserver/account/{acct}/orders/whatif", post(orders::whatif))
        .route(
            "/iserver/account/{acct}/order/{order_id}",
            post(orders::modify).delete(orders::cancel),
        )
        .route("/iserver/account/order/status/{order_id}", get(orders::status))
        .route("/iserver/reply/{id}", post(orders::reply))
        .route("/iserver/questions/suppress", post(orders::suppress))
        .route("/iserver/questions/suppress/reset", post(orders::suppress_reset))
        .route("/iserver/account/orders", get(live::orders))
        .route("/iserver/account/trades", get(live::trades))
        .route("/iserver/marketdata/snapshot", get(market::snapshot))
        .route("/iserver/marketdata/history", get(market::history))
        .route("/iserver/marketdata/unsubscribe", post(market::unsubscribe))
        .route("/iserver/marketdata/unsubscribeall", get(market::unsubscribe_all))
        .route("/ws", get(ws::connect))
        .with_state(shared.clone());
    let mut app = Router::new().nest(gate::PREFIX, api);
    if let Some(extra) = extra {
        app = app.merge(extra);
    }
    app.fallback(gate::fallback)
        .layer(from_fn_with_state(shared.clone(), gate::gate))
}

impl FakeIbkr {
    /// Binds `127.0.0.1:0` and serves the fake in a background task.
    ///
    /// # Panics
    /// When no local port can be bound (the test environment is broken).
    pub async fn start(options: FakeIbkrOptions) -> FakeIbkr {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the fake IBKR server needs a local port");
        let addr = listener.local_addr().expect("a bound listener has an address");
        let shared = Arc::new(Shared::new(&options));
        let app = router(shared.clone(), options.extra_routes.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let driver = tokio::spawn(market::drive(shared.clone(), options.moving));
        FakeIbkr {
            base_url: format!("http://{addr}{}", gate::PREFIX),
            ws_url: format!("ws://{addr}{}/ws", gate::PREFIX),
            shared,
            oauth: options.oauth.clone(),
            server,
            driver,
        }
    }

    /// Serves the fake on `listener` until the server fails (for the example binary).
    pub async fn serve(listener: TcpListener, options: FakeIbkrOptions) -> std::io::Result<()> {
        let shared = Arc::new(Shared::new(&options));
        tokio::spawn(market::drive(shared.clone(), options.moving));
        axum::serve(listener, router(shared, options.extra_routes.clone())).await
    }

    fn state(&self) -> std::sync::MutexGuard<'_, state::State> {
        self.shared.lock()
    }

    // --- Clock and prices ---

    /// The fake clock's current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.state().now()
    }

    /// The fake clock as unix seconds, for a client that must agree with the fake on what "now" is.
    pub fn clock(&self) -> impl Fn() -> i64 + Send + Sync + 'static {
        let shared = self.shared.clone();
        move || shared.lock().now().timestamp()
    }

    /// Moves the fake clock forward (an idle session may expire on the next request).
    pub fn advance_clock(&self, by: Duration) {
        self.state().clock.advance(by);
    }

    /// Puts the fake clock at `at`.
    pub fn set_clock(&self, at: DateTime<Utc>) {
        self.state().clock.set(at);
    }

    /// Stops real time from moving the fake clock.
    pub fn freeze_clock(&self) {
        self.state().clock.freeze();
    }

    /// Moves a contract's quote: working orders that cross fill, subscribers hear it. An unknown conid
    /// is ignored.
    pub fn set_price(&self, conid: i64, bid: Decimal, ask: Decimal) {
        self.state().set_quote(conid, bid, ask);
    }

    /// The current (bid, ask) of a contract.
    pub fn quote(&self, conid: i64) -> Option<(Decimal, Decimal)> {
        self.state()
            .markets
            .get(&conid)
            .map(|m| (m.quote.bid, m.quote.ask))
    }

    /// Halts or resumes trading in a contract (snapshot last price gets the `H` prefix, nothing fills,
    /// new orders become `Inactive`).
    pub fn halt(&self, conid: i64, halted: bool) {
        if let Some(m) = self.state().markets.get_mut(&conid) {
            m.quote.halted = halted;
        }
    }

    // --- Session switches ---

    /// The brokerage session expires (as after idle minutes): `/iserver` calls get 401 until
    /// `ssodh/init`, and `/iserver/accounts` must be called again.
    pub fn expire_session(&self) {
        self.state().drop_brokerage_session(false);
    }

    /// Another session of the user takes over: `competing: true`, not authenticated; `ssodh/init` with
    /// `compete: true` takes it back.
    pub fn compete(&self) {
        self.state().drop_brokerage_session(true);
    }

    /// The user logs in at the gateway again after `/logout` (authenticated, accounts to query).
    pub fn login(&self) {
        let mut st = self.state();
        st.session.logged_in = true;
        st.session.authenticated = true;
        st.session.competing = false;
        st.session.accounts_queried = false;
        st.session.last_used = st.now();
    }

    /// The `session` value `/tickle` returns (what the WebSocket wants).
    pub fn session_token(&self) -> String {
        self.state().session.token.clone()
    }

    /// Whether the brokerage session is authenticated now.
    pub fn authenticated(&self) -> bool {
        let mut st = self.state();
        st.expire_if_idle();
        st.session.authenticated
    }

    // --- Faults ---

    /// Queues a fault for the next matching HTTP request(s) (a counted fault for zero requests is a
    /// no-op).
    pub fn inject(&self, fault: Fault) {
        if matches!(
            fault,
            Fault::Status { times: 0, .. } | Fault::Delay { times: 0, .. }
        ) {
            return;
        }
        self.state().faults.push(fault);
    }

    /// The next `times` calls of `method path_prefix` answer `status` with `{"error": ...}` and do
    /// nothing (5xx, 401...).
    pub fn fail_next(&self, method: &str, path_prefix: &str, status: u16, times: usize) {
        self.inject(Fault::Status {
            method: Some(method.to_string()),
            path_prefix: path_prefix.to_string(),
            status,
            body: serde_json::json!({ "error": format!("injected failure {status}") }),
            times,
        });
    }

    /// The next `times` calls of `method` (None: any) on `path_prefix` are handled as usual after
    /// waiting `delay` (a slow gateway).
    pub fn delay_next(&self, method: Option<&str>, path_prefix: &str, delay: Duration, times: usize) {
        self.inject(Fault::Delay {
            method: method.map(str::to_string),
            path_prefix: path_prefix.to_string(),
            delay,
            times,
        });
    }

    /// The next matching call is carried out (an order is placed) but answered only after `delay`.
    pub fn hang_after_accept(&self, method: &str, path_prefix: &str, delay: Duration) {
        self.inject(Fault::AcceptThenHang {
            method: Some(method.to_string()),
            path_prefix: path_prefix.to_string(),
            delay,
        });
    }

    /// Drops every fault still queued (counted ones with requests left included): the upstream recovers.
    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    /// Closes every WebSocket abruptly (no close frame).
    pub fn drop_websockets(&self) {
        self.state().abort_sockets();
    }

    // --- Inspection ---

    /// Every HTTP request so far, oldest first (refused ones included).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.state().log.clone()
    }

    /// Requests of `method` on exactly `path` (below `/v1/api`) so far.
    pub fn calls(&self, method: &str, path: &str) -> usize {
        self.state()
            .log
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.path == path)
            .count()
    }

    /// The most requests of `method` on exactly `path` that arrived inside any `window` of real time
    /// (refused ones included): what proves a client kept to a pacing rule over a burst.
    pub fn max_calls_in_window(&self, method: &str, path: &str, window: Duration) -> usize {
        let times: Vec<std::time::Instant> = self
            .state()
            .log
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.path == path)
            .map(|r| r.at)
            .collect();
        let mut most = 0;
        let mut start = 0;
        for (end, t) in times.iter().enumerate() {
            while t.duration_since(times[start]) >= window {
                start += 1;
            }
            most = most.max(end + 1 - start);
        }
        most
    }

    /// Requests answered 429 so far.
    pub fn throttled(&self) -> usize {
        self.state().log.iter().filter(|r| r.status == 429).count()
    }

    /// Forgets the logged requests.
    pub fn clear_requests(&self) {
        self.state().log.clear();
    }

    /// Open WebSocket connections.
    pub fn ws_connections(&self) -> usize {
        self.state().ws.len()
    }

    /// The orders of an account as `/iserver/account/orders` rows (newest first), whatever the pacing.
    pub fn orders(&self, account: &str) -> Vec<Value> {
        let st = self.state();
        st.orders
            .iter()
            .rev()
            .filter(|o| o.account == account)
            .filter_map(|o| st.order_row(o))
            .collect()
    }

    /// Every order submission the fake read (well-formed tickets, whatever came of them), oldest first.
    pub fn submissions(&self) -> Vec<FakeSubmission> {
        self.state().submissions.clone()
    }

    /// Orders placed so far, over all accounts.
    pub fn order_count(&self) -> usize {
        self.state().orders.len()
    }

    /// The net position of an account in a contract (zero when none).
    pub fn position(&self, account: &str, conid: i64) -> Decimal {
        let st = self.state();
        st.account_index(account)
            .and_then(|i| st.accounts[i].positions.get(&conid))
            .map(|p| p.qty)
            .unwrap_or_default()
    }

    /// The cash of an account.
    pub fn cash(&self, account: &str) -> Option<Decimal> {
        let st = self.state();
        st.account_index(account).map(|i| st.accounts[i].cash)
    }

    /// Executions so far, over all accounts.
    pub fn execution_count(&self) -> usize {
        self.state().executions.len()
    }
}
