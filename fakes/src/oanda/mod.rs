//! A fake of OANDA's v20 REST API (`/v3`, after the official OpenAPI file) and of the legacy v1 REST API
//! (`/v1`, accounts whose id is all digits), with their streams on a second listener like OANDA's
//! stream host. Both APIs share one account model (orders, trades, balance, a transaction log per
//! account). Tests drive it through [`FakeOanda`]; `examples/fake_oanda.rs` serves it on its own.
//!
//! Part of the `fakes` crate (external crates only, never `tvbridge`): the bridge's tests and the example
//! use it as `fakes::oanda`.

mod candles;
mod engine;
mod gate;
mod market;
mod model;
mod options;
use crate::price_path;
mod state;
mod stream;
mod v1;
mod v20;
mod wire;

pub use options::{
    FakeAccount, FakeInstrument, FakeOptions, FakeOrder, FakeToken, FakeTrade, Fault, LoggedRequest,
};

use axum::middleware::from_fn_with_state;
use axum::Router;
use chrono::{DateTime, Utc};
use gate::Gate;
use rust_decimal::Decimal;
use state::{Shared, State};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// A running fake on `127.0.0.1` and the handle tests use to steer and inspect it. Dropping it stops
/// both listeners and ends every open stream.
pub struct FakeOanda {
    /// `http://127.0.0.1:PORT` of the REST listener (`/v3/...`, `/v1/...`), no trailing slash.
    pub rest_url: String,
    /// `http://127.0.0.1:PORT` of the stream listener, no trailing slash.
    pub stream_url: String,
    shared: Arc<Shared>,
}

impl Drop for FakeOanda {
    fn drop(&mut self) {
        self.shared.shutdown.send_replace(true);
        self.shared.lock().end_streams(None);
    }
}

/// The REST listener's routes behind the gate.
fn rest_router(shared: Arc<Shared>) -> Router {
    Router::new()
        .nest("/v3", v20::rest())
        .nest("/v1", v1::rest())
        .fallback(gate::fallback)
        .method_not_allowed_fallback(gate::method_not_allowed)
        .layer(from_fn_with_state(
            Gate {
                shared: shared.clone(),
                stream: false,
            },
            gate::gate,
        ))
        .with_state(shared)
}

/// The stream listener's routes behind the gate.
fn stream_router(shared: Arc<Shared>) -> Router {
    Router::new()
        .nest("/v3", v20::streams())
        .nest("/v1", v1::streams())
        .fallback(gate::fallback)
        .method_not_allowed_fallback(gate::method_not_allowed)
        .layer(from_fn_with_state(
            Gate {
                shared: shared.clone(),
                stream: true,
            },
            gate::gate,
        ))
        .with_state(shared)
}

/// Serves `app` on `listener` until the fake is dropped (then finishes the requests under way).
async fn run(listener: TcpListener, app: Router, shared: Arc<Shared>) -> std::io::Result<()> {
    let mut stop = shared.shutdown.subscribe();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await
}

impl FakeOanda {
    /// Binds two `127.0.0.1:0` listeners (REST and streams) and serves the fake in background tasks.
    ///
    /// # Panics
    /// When no local port can be bound (the test environment is broken).
    pub async fn start(options: FakeOptions) -> FakeOanda {
        let rest = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the fake OANDA server needs a local port");
        let stream = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the fake OANDA stream server needs a local port");
        let rest_url = format!(
            "http://{}",
            rest.local_addr().expect("a bound listener has an address")
        );
        let stream_url = format!(
            "http://{}",
            stream.local_addr().expect("a bound listener has an address")
        );
        let shared = Arc::new(Shared::new(&options, rest_url.clone()));
        if options.moving {
            tokio::spawn(market::drive(shared.clone()));
        }
        tokio::spawn(run(rest, rest_router(shared.clone()), shared.clone()));
        tokio::spawn(run(stream, stream_router(shared.clone()), shared.clone()));
        FakeOanda {
            rest_url,
            stream_url,
            shared,
        }
    }

    /// Serves the fake on the given listeners until one of them fails (for the example binary).
    pub async fn serve(rest: TcpListener, stream: TcpListener, options: FakeOptions) -> std::io::Result<()> {
        let rest_url = format!("http://{}", rest.local_addr()?);
        let shared = Arc::new(Shared::new(&options, rest_url));
        if options.moving {
            tokio::spawn(market::drive(shared.clone()));
        }
        tokio::try_join!(
            run(rest, rest_router(shared.clone()), shared.clone()),
            run(stream, stream_router(shared.clone()), shared.clone()),
        )?;
        Ok(())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.lock()
    }

    /// Moves the market: fills crossed pending orders, moves trailing stops and triggers stop loss,
    /// take profit and trailing stop orders (all recorded as transactions), pushes the price to the
    /// pricing streams subscribed to it and the new transactions to the transaction/event streams.
    /// An unknown instrument is ignored.
    pub fn set_price(&self, instrument: &str, bid: Decimal, ask: Decimal) {
        engine::set_price(&mut self.state(), instrument, bid, ask);
    }

    /// Halts (or resumes) trading of an instrument: prices turn non-tradeable, market orders are
    /// cancelled with `MARKET_HALTED`, pending orders wait. Pricing streams get the new status.
    pub fn set_halted(&self, instrument: &str, halted: bool) {
        let mut st = self.state();
        let now = st.now();
        if let Some(q) = st.quotes.iter_mut().find(|q| q.spec.name == instrument) {
            q.spec.halted = halted;
            q.time = now;
        }
        st.push_price(instrument);
    }

    /// The current bid and ask of an instrument.
    pub fn quote(&self, instrument: &str) -> Option<(Decimal, Decimal)> {
        self.state().quote(instrument).map(|q| (q.spec.bid, q.spec.ask))
    }

    /// Queues a fault for the next matching request(s). A `Status` fault for zero requests is a no-op.
    pub fn inject(&self, fault: Fault) {
        if matches!(fault, Fault::Status { times: 0, .. }) {
            return;
        }
        self.state().faults.push(fault);
    }

    /// Drops every fault still queued (counted ones with requests left included): OANDA recovers.
    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    /// From now on every request with `token` gets 401; its open streams end.
    pub fn revoke_token(&self, token: &str) {
        let mut st = self.state();
        st.revoked.insert(token.to_string());
        st.end_streams(Some(token));
    }

    /// Ends every open stream abruptly: the body stops, without a final line or an error.
    pub fn drop_streams(&self) {
        self.state().end_streams(None);
    }

    /// Streams currently connected.
    pub fn open_streams(&self) -> usize {
        self.state().streams.len()
    }

    /// Stream connections accepted since the start.
    pub fn stream_connections(&self) -> usize {
        self.state().stream_connections
    }

    /// Every request on both listeners, oldest first (rejected and faulted ones included).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.state().log.iter().map(|(_, r)| r.clone()).collect()
    }

    /// Forgets the logged requests.
    pub fn clear_requests(&self) {
        self.state().log.clear();
    }

    /// Every order the account ever had (any state, dependent orders included), oldest first.
    pub fn orders(&self, account: &str) -> Vec<FakeOrder> {
        let st = self.state();
        let Some(a) = st.account_index(account) else {
            return Vec::new();
        };
        st.accounts[a]
            .orders
            .iter()
            .map(|o| FakeOrder {
                id: o.id.to_string(),
                account: account.to_string(),
                instrument: o.instrument.clone(),
                kind: o.kind.wire().to_string(),
                units: o.units,
                price: o.trailing_value.or(o.price),
                state: o.state.wire().to_string(),
                client_id: o.client_id().map(str::to_string),
                trade_id: o.trade_id.map(|t| t.to_string()),
                replaces: o.replaces.map(|r| r.to_string()),
            })
            .collect()
    }

    /// The open trades of an account, oldest first.
    pub fn trades(&self, account: &str) -> Vec<FakeTrade> {
        let st = self.state();
        let Some(a) = st.account_index(account) else {
            return Vec::new();
        };
        let acct = &st.accounts[a];
        acct.open_trades()
            .map(|t| {
                let order = |id: Option<u64>| id.and_then(|id| acct.order(id));
                FakeTrade {
                    id: t.id.to_string(),
                    account: account.to_string(),
                    instrument: t.instrument.clone(),
                    units: t.units,
                    price: t.price,
                    stop_loss: order(t.sl).and_then(|o| o.price),
                    take_profit: order(t.tp).and_then(|o| o.price),
                    trailing_distance: order(t.tsl).and_then(|o| o.distance),
                }
            })
            .collect()
    }

    /// The wire JSON of every transaction of an account (v20 or v1 shape), oldest first.
    pub fn transactions(&self, account: &str) -> Vec<serde_json::Value> {
        let st = self.state();
        st.account_index(account)
            .map(|a| st.accounts[a].txs.iter().map(|t| t.json.clone()).collect())
            .unwrap_or_default()
    }

    /// The balance (deposit plus realized P/L) of an account, if it exists.
    pub fn balance(&self, account: &str) -> Option<Decimal> {
        let st = self.state();
        st.account_index(account).map(|a| st.accounts[a].balance)
    }

    /// Moves the fake clock forward (GTD/GFD orders lapse on the next request or price move).
    pub fn advance_clock(&self, by: Duration) {
        let mut st = self.state();
        st.clock.advance(by);
        engine::expire_all(&mut st);
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
}
