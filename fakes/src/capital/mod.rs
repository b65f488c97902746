//! A fake of the Capital.com REST v1 API and its WebSocket stream, built from the official Postman
//! collection (paths, headers, JSON shapes, error codes) plus a few upstream behaviours observed in
//! practice. Tests drive it through [`FakeCapital`]; `examples/fake_capital.rs` serves it on its own.
//!
//! Part of the `fakes` crate (external crates only, never `tvbridge`): the bridge's tests and the example
//! use it as `fakes::capital`.

mod accounts;
mod engine;
mod gate;
mod history;
mod market;
mod markets;
mod options;
mod orders;
use crate::price_path;
mod prices;
mod session;
mod state;
mod stops;
mod trading;
mod wire;
mod ws;

pub use options::{
    FakeAccount, FakeMarket, FakeOptions, FakePosition, FakeUser, FakeWorkingOrder, Fault, LoggedRequest,
};
pub use price_path::Hours as FakeHours;

use axum::middleware::from_fn_with_state;
use axum::routing::{get, post, put};
use axum::Router;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use state::{Shared, State};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A running fake on `127.0.0.1` and the handle tests use to steer and inspect it. Dropping it stops
/// the server.
pub struct FakeCapital {
    /// `http://127.0.0.1:PORT/api/v1`.
    pub base_url: String,
    /// `ws://127.0.0.1:PORT/connect`.
    pub ws_url: String,
    /// The API key `POST /session` expects.
    pub api_key: String,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
    /// The moving market, when prices move.
    market: Option<JoinHandle<()>>,
}

impl Drop for FakeCapital {
    fn drop(&mut self) {
        self.server.abort();
        if let Some(m) = &self.market {
            m.abort();
        }
        self.shared.lock().abort_sockets();
    }
}

/// Every route of the fake behind the gate (logging, faults, authentication, rate limits).
fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/time", get(session::time))
        .route("/ping", get(session::ping))
        .route("/session/encryptionKey", get(session::encryption_key))
        .route(
            "/session",
            post(session::create)
                .get(session::details)
                .put(session::switch)
                .delete(session::logout),
        )
        .route("/accounts", get(accounts::list))
        .route(
            "/accounts/preferences",
            get(accounts::preferences).put(accounts::update_preferences),
        )
        .route("/history/activity", get(history::activity))
        .route("/history/transactions", get(history::transactions))
        .route("/positions", get(trading::list).post(trading::create))
        .route(
            "/positions/{deal_id}",
            get(trading::get).put(trading::update).delete(trading::close),
        )
        .route("/workingorders", get(orders::list).post(orders::create))
        .route(
            "/workingorders/{deal_id}",
            put(orders::update).delete(orders::delete),
        )
        .route("/confirms/{reference}", get(trading::confirm))
        .route("/markets", get(markets::search))
        .route("/markets/{epic}", get(markets::details))
        .route("/marketnavigation", get(markets::navigation))
        .route("/marketnavigation/{node}", get(markets::navigation_node))
        .route("/prices/{epic}", get(prices::prices));
    Router::new()
        .nest("/api/v1", api)
        .route("/connect", get(ws::connect))
        .fallback(gate::fallback)
        .layer(from_fn_with_state(shared.clone(), gate::gate))
        .with_state(shared)
}

impl FakeCapital {
    /// Binds `127.0.0.1:0` and serves the fake in a background task.
    ///
    /// # Panics
    /// When no local port can be bound (the test environment is broken).
    pub async fn start(options: FakeOptions) -> FakeCapital {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the fake Capital.com server needs a local port");
        let addr = listener.local_addr().expect("a bound listener has an address");
        let shared = Arc::new(Shared::new(&options, format!("ws://{addr}/")));
        let app = router(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let market = options
            .moving
            .then(|| tokio::spawn(market::drive(shared.clone())));
        FakeCapital {
            base_url: format!("http://{addr}/api/v1"),
            ws_url: format!("ws://{addr}/connect"),
            api_key: options.api_key.clone(),
            shared,
            server,
            market,
        }
    }

    /// Serves the fake on `listener` until the server fails (for the example binary).
    pub async fn serve(listener: TcpListener, options: FakeOptions) -> std::io::Result<()> {
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(&options, format!("ws://{addr}/")));
        if options.moving {
            tokio::spawn(market::drive(shared.clone()));
        }
        axum::serve(listener, router(shared)).await
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.lock()
    }

    /// Moves the fake clock forward: sessions idle for longer than the expiry die (and their sockets
    /// close), working orders past their `goodTillDate` expire, new deals get later timestamps.
    pub fn advance_clock(&self, by: Duration) {
        let mut st = self.state();
        st.clock.advance(by);
        st.housekeep();
    }

    /// The fake clock's current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.state().now()
    }

    /// The fake clock as unix seconds, for a client that must agree with the fake on what "now" is.
    pub fn clock(&self) -> impl Fn() -> i64 + Send + Sync + 'static {
        let shared = self.shared.clone();
        move || shared.lock().now().timestamp()
    }

    /// Stops real time from moving the fake clock; from then on only [`Self::advance_clock`] and
    /// [`Self::set_clock`] move it (useful for "the newest bars" tests).
    pub fn freeze_clock(&self) {
        self.state().clock.freeze();
    }

    /// Puts the fake clock at `at` (a frozen clock stays frozen).
    pub fn set_clock(&self, at: DateTime<Utc>) {
        let mut st = self.state();
        st.clock.set(at);
        st.housekeep();
    }

    /// Moves a market: fills crossed working orders, moves trailing stops, triggers stops and take
    /// profits (all recorded in the activity history) and pushes a quote to WebSocket subscribers.
    /// An unknown epic is ignored.
    pub fn set_price(&self, epic: &str, bid: Decimal, offer: Decimal) {
        self.state().set_price(epic, bid, offer);
    }

    /// Queues a fault for the next matching HTTP request(s). A `Status` fault for zero requests is
    /// a no-op.
    pub fn inject(&self, fault: Fault) {
        if matches!(fault, Fault::Status { times: 0, .. }) {
            return;
        }
        self.state().faults.push(fault);
    }

    /// Drops every fault still queued (counted ones with requests left included): Capital.com recovers.
    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    /// Every HTTP request so far, oldest first (including rejected ones and the WebSocket upgrade).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.state().log.iter().map(|(_, r)| r.clone()).collect()
    }

    /// Forgets the logged requests.
    pub fn clear_requests(&self) {
        self.state().log.clear();
    }

    /// The open positions of an account (empty for an unknown account), oldest first.
    pub fn positions(&self, account_id: &str) -> Vec<FakePosition> {
        let st = self.state();
        let Some(a) = st.accounts.iter().find(|a| a.id == account_id) else {
            return Vec::new();
        };
        a.positions
            .iter()
            .map(|p| FakePosition {
                account_id: a.id.clone(),
                deal_id: p.deal_id.clone(),
                deal_reference: p.deal_reference.clone(),
                epic: p.epic.clone(),
                direction: p.dir.as_str().to_string(),
                size: p.size,
                level: p.level,
                stop_level: p.stops.stop_level,
                profit_level: p.stops.profit_level,
                trailing_stop: p.stops.trailing,
                stop_distance: p.stops.stop_distance,
                guaranteed_stop: p.stops.guaranteed,
            })
            .collect()
    }

    /// The working orders of an account (empty for an unknown account), oldest first.
    pub fn working_orders(&self, account_id: &str) -> Vec<FakeWorkingOrder> {
        let st = self.state();
        let Some(a) = st.accounts.iter().find(|a| a.id == account_id) else {
            return Vec::new();
        };
        a.orders
            .iter()
            .map(|o| FakeWorkingOrder {
                account_id: a.id.clone(),
                deal_id: o.deal_id.clone(),
                epic: o.epic.clone(),
                direction: o.dir.as_str().to_string(),
                size: o.size,
                level: o.level,
                order_type: o.kind.as_str().to_string(),
                good_till_date: o.good_till.map(wire::fmt_s),
                stop_level: o.stops.stop_level,
                profit_level: o.stops.profit_level,
                guaranteed_stop: o.stops.guaranteed,
            })
            .collect()
    }

    /// Every deal confirmation stored so far (the bodies `GET /confirms/{dealReference}` answers: opened,
    /// amended, closed and deleted deals and working orders, rejected ones too), in no particular order.
    /// A position's opening is stored under two references (its deal's and `p_<dealId>`), so callers
    /// counting deals count distinct `dealId`s.
    pub fn confirms(&self) -> Vec<serde_json::Value> {
        self.state().confirms.values().map(|c| c.body.clone()).collect()
    }

    /// Successful `POST /session` calls so far.
    pub fn sessions_created(&self) -> usize {
        self.state().sessions_created
    }

    /// Invalidates every session (as after 10 idle minutes); their WebSocket connections close.
    pub fn expire_all_sessions(&self) {
        let mut st = self.state();
        st.sessions.clear();
        st.sweep_sockets();
    }

    /// Closes every open WebSocket connection abruptly (no close frame).
    pub fn drop_websockets(&self) {
        self.state().abort_sockets();
    }

    /// Currently open WebSocket connections.
    pub fn ws_connections(&self) -> usize {
        self.state().ws.len()
    }

    /// Epics subscribed over all open sockets (with repeats).
    pub fn ws_subscriptions(&self) -> Vec<String> {
        self.state()
            .ws
            .values()
            .flat_map(|c| c.epics.iter().cloned())
            .collect()
    }

    /// The cash balance (deposit plus realised P/L) of an account, if it exists.
    pub fn cash(&self, account_id: &str) -> Option<Decimal> {
        let st = self.state();
        st.accounts.iter().find(|a| a.id == account_id).map(|a| a.cash)
    }
}
