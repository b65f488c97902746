//! Trading streams: `/accounts/{id}/stream/orders|positions|netPositions|individualPositions|state` and
//! `/stream/quotes`. Newline-delimited compact JSON over one chunked response: a full snapshot first, then
//! only what changed, `{"s":"ok"}` after a quiet spell, errors in-stream. A client that falls behind is
//! resynchronised with a fresh snapshot; it never holds back the others.

use crate::broker::BrokerAccount;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Authed, TvQuery};
use crate::http::positions::{require_hedging, require_netting};
use crate::http::stream_life::{guarded, open_stream};
use crate::http::AppState;
use crate::hub::{json_line, AccountHub, StreamKind, TickLines, Update};
use crate::tv;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::time::Instant;

const PING: &[u8] = b"{\"s\":\"ok\"}\n";
/// Pip values in `/stream/quotes` are refreshed this often (they move only with FX rates).
const PIP_VALUE_REFRESH: Duration = Duration::from_secs(60);

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/accounts/{account_id}/stream/orders",
            get(|s, a, p| account_stream(s, a, p, StreamKind::Orders)),
        )
        .route(
            "/accounts/{account_id}/stream/positions",
            get(|s, a, p| account_stream(s, a, p, StreamKind::Positions)),
        )
        .route(
            "/accounts/{account_id}/stream/netPositions",
            get(|s, a, p| account_stream(s, a, p, StreamKind::NetPositions)),
        )
        .route(
            "/accounts/{account_id}/stream/individualPositions",
            get(|s, a, p| account_stream(s, a, p, StreamKind::IndividualPositions)),
        )
        .route(
            "/accounts/{account_id}/stream/state",
            get(|s, a, p| account_stream(s, a, p, StreamKind::State)),
        )
        .route("/stream/quotes", get(quote_stream))
}

/// A chunked response carrying `lines`.
pub fn streaming_response(lines: impl Stream<Item = Bytes> + Send + 'static) -> Response {
    let mut response = Response::new(Body::from_stream(lines.map(Ok::<Bytes, Infallible>)));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    // Tell buffering proxies (nginx) to pass each line through at once.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

fn check_kind(account: &BrokerAccount, kind: StreamKind) -> ApiResult<()> {
    match kind {
        StreamKind::Positions => require_netting(account),
        StreamKind::NetPositions | StreamKind::IndividualPositions => require_hedging(account),
        StreamKind::Orders | StreamKind::State => Ok(()),
    }
}

async fn account_stream(
    State(state): State<AppState>,
    authed: Authed,
    Path(account_id): Path<String>,
    kind: StreamKind,
) -> ApiResult<Response> {
    let account = authed.account(&account_id)?;
    check_kind(account, kind)?;
    let ticket = open_stream(&state, &authed.0, kind_name(kind), Some(&account.id))?;
    let hub = state.hubs().get(&authed.0.ctx, account);
    let (snapshot, updates) = hub.subscribe().await?;
    let ping = Duration::from_secs(state.config().hub.ping_secs);
    let lines = account_lines(hub, kind, snapshot.line(kind), updates, ping);
    Ok(streaming_response(guarded(ticket, &state, lines)))
}

/// The stream's name in audit lines.
fn kind_name(kind: StreamKind) -> &'static str {
    match kind {
        StreamKind::Orders => "orders",
        StreamKind::Positions => "positions",
        StreamKind::NetPositions => "netPositions",
        StreamKind::IndividualPositions => "individualPositions",
        StreamKind::State => "state",
    }
}

struct AccountStream {
    hub: Arc<AccountHub>,
    kind: StreamKind,
    first: Option<Bytes>,
    updates: broadcast::Receiver<Arc<Update>>,
    ping: Duration,
    /// When the client last got something; a ping is due `ping` later.
    last_sent: Instant,
    done: bool,
}

/// The lines of one account stream: the snapshot, then its kind's updates, pings when quiet.
fn account_lines(
    hub: Arc<AccountHub>,
    kind: StreamKind,
    first: Bytes,
    updates: broadcast::Receiver<Arc<Update>>,
    ping: Duration,
) -> impl Stream<Item = Bytes> + Send + 'static {
    let start = AccountStream {
        hub,
        kind,
        first: Some(first),
        updates,
        ping,
        last_sent: Instant::now(),
        done: false,
    };
    stream::unfold(start, |mut st| async move {
        if st.done {
            return None;
        }
        if let Some(first) = st.first.take() {
            st.last_sent = Instant::now();
            return Some((first, st));
        }
        let line = loop {
            match tokio::time::timeout_at(st.last_sent + st.ping, st.updates.recv()).await {
                Err(_) => break Bytes::from_static(PING),
                Ok(Ok(update)) => {
                    if update.fatal {
                        st.done = true;
                    }
                    if let Some(line) = update.line(st.kind) {
                        break line.clone();
                    }
                }
                // Fell behind: what it missed is folded into a fresh snapshot.
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => match st.hub.snapshot().await {
                    Ok(s) => break s.line(st.kind),
                    Err(e) => break error_line(e.into()),
                },
                Ok(Err(broadcast::error::RecvError::Closed)) => return None,
            }
        };
        st.last_sent = Instant::now();
        Some((line, st))
    })
}

/// `{"s":"error","errmsg":..}` as a stream line.
pub fn error_line(e: ApiError) -> Bytes {
    let (_, errmsg) = e.status_and_message();
    json_line(&serde_json::json!({ "s": "error", "errmsg": errmsg }))
}

async fn quote_stream(
    State(state): State<AppState>,
    authed: Authed,
    TvQuery(query): TvQuery,
) -> ApiResult<Response> {
    let account_id = query.str_req("accountId")?.to_owned();
    authed.account(&account_id)?;
    let symbols = crate::http::market::symbols_param(&query)?;
    let ticket = open_stream(&state, &authed.0, "quotes", Some(&account_id))?;
    let ctx = authed.0.ctx.clone();
    // The snapshot carries pip values in the account currency, and says which symbols are unknown.
    let snapshot = state.broker().quotes(&ctx, &account_id, &symbols).await?;
    let mut receivers = Vec::new();
    for entry in snapshot.iter().filter(|e| e.s == "ok") {
        let (_, rx) = state.quotes().subscribe(&entry.n).await?;
        receivers.push(rx);
    }
    let first = json_line(&snapshot);
    let ticks = stream::select_all(receivers.into_iter().map(tick_stream));
    let ping = Duration::from_secs(state.config().hub.ping_secs);
    let pips = PipValues {
        state: state.clone(),
        ctx,
        account_id,
        symbols,
        values: snapshot,
        fetched: Instant::now(),
    };
    let lines = quote_lines(first, ticks, pips, ping);
    Ok(streaming_response(guarded(ticket, &state, lines)))
}

/// Pip values per symbol, refreshed now and then from the backend's quotes.
struct PipValues {
    state: AppState,
    ctx: crate::broker::SessionCtx,
    account_id: String,
    symbols: Vec<String>,
    values: Vec<tv::QuoteEntry>,
    fetched: Instant,
}

impl PipValues {
    async fn for_symbol(
        &mut self,
        symbol: &str,
    ) -> (Option<rust_decimal::Decimal>, Option<rust_decimal::Decimal>) {
        if self.fetched.elapsed() >= PIP_VALUE_REFRESH {
            self.fetched = Instant::now();
            if let Ok(v) = self
                .state
                .broker()
                .quotes(&self.ctx, &self.account_id, &self.symbols)
                .await
            {
                self.values = v;
            }
        }
        match self.values.iter().find(|e| e.n == symbol).map(|e| &e.v) {
            Some(tv::QuoteValue::Quote(q)) => (q.buy_pip_value, q.sell_pip_value),
            _ => (None, None),
        }
    }
}

/// A broadcast receiver as a stream of ticks; a lagging client skips what it missed (quotes are live data).
pub fn tick_stream(
    rx: broadcast::Receiver<Arc<TickLines>>,
) -> impl Stream<Item = Arc<TickLines>> + Send + Unpin {
    Box::pin(stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(t) => return Some((t, rx)),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }))
}

fn quote_lines(
    first: Bytes,
    ticks: impl Stream<Item = Arc<TickLines>> + Send + Unpin + 'static,
    pips: PipValues,
    ping: Duration,
) -> impl Stream<Item = Bytes> + Send + 'static {
    let state = QuoteLines {
        first: Some(first),
        ticks,
        pips,
        last_sent: Instant::now(),
        keep_alive: Box::pin(tokio::time::sleep(ping)),
    };
    stream::unfold(state, move |mut st| async move {
        if let Some(first) = st.first.take() {
            st.last_sent = Instant::now();
            return Some((first, st));
        }
        let line = loop {
            tokio::select! {
                biased;
                next = st.ticks.next() => match next {
                    None => return None,
                    Some(tick) => {
                        let (buy, sell) = st.pips.for_symbol(&tick.tick.symbol).await;
                        break tick.quote_line(buy, sell);
                    }
                },
                _ = st.keep_alive.as_mut() => {
                    let due = st.last_sent + ping;
                    if Instant::now() >= due {
                        st.keep_alive.as_mut().reset(Instant::now() + ping);
                        break Bytes::from_static(PING);
                    }
                    // Lines went out since the timer was set: wait for the rest of the quiet spell.
                    st.keep_alive.as_mut().reset(due);
                }
            }
        };
        st.last_sent = Instant::now();
        Some((line, st))
    })
}

/// A `/stream/quotes` stream between lines. The keep-alive timer is set when it fires, not per line: with
/// a quote every second on each of 1,000 streams, re-arming it per line was a timer-wheel insertion and
/// removal per line per stream.
struct QuoteLines<T> {
    first: Option<Bytes>,
    ticks: T,
    pips: PipValues,
    last_sent: Instant,
    keep_alive: std::pin::Pin<Box<tokio::time::Sleep>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::paper::{PaperBroker, PaperConfig};
    use crate::broker::{BridgeUser, Broker, BrokerAccount, Login, SessionCtx};
    use crate::hub::{AccountHubs, HubConfig};

    /// Past its queue, a client that did not read gets one snapshot holding everything it missed.
    #[tokio::test]
    async fn a_client_that_falls_behind_gets_a_fresh_snapshot() {
        let broker: Arc<dyn Broker> = Arc::new(PaperBroker::start(PaperConfig::default()).await.unwrap());
        let demo = BridgeUser {
            login: "demo".into(),
            display_name: "demo".into(),
        };
        broker.login("s", &Login::Bridge(demo)).await.unwrap();
        let ctx = SessionCtx {
            session_id: "s".into(),
            user: "demo".into(),
        };
        let account: BrokerAccount = broker
            .accounts(&ctx)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.id == "demo-net")
            .unwrap();
        let hubs = AccountHubs::new(
            broker.clone(),
            HubConfig {
                freshness_ms: 0,
                stream_queue: 8,
                ..Default::default()
            },
        );
        let hub = hubs.get(&ctx, &account);
        let (snapshot, rx) = hub.subscribe().await.unwrap();
        let mut lines = Box::pin(account_lines(
            hub.clone(),
            StreamKind::Orders,
            snapshot.line(StreamKind::Orders),
            rx,
            Duration::from_secs(60),
        ));
        assert_eq!(&lines.next().await.unwrap()[..], b"[]\n");
        let order = |n: usize| tv::PlaceOrder {
            instrument: "AAPL".into(),
            qty: rust_decimal::Decimal::from(n as i64),
            side: tv::Side::Buy,
            kind: tv::OrderType::Market,
            limit_price: None,
            stop_price: None,
            duration: None,
            brackets: tv::Brackets::default(),
            current_ask: None,
            current_bid: None,
        };
        for n in 1..=20 {
            broker
                .place_order(&ctx, "demo-net", order(n), None)
                .await
                .unwrap();
            hub.after_write().await;
        }
        let next = lines.next().await.unwrap();
        let resync: Vec<serde_json::Value> = serde_json::from_slice(&next).unwrap();
        assert_eq!(
            resync.len(),
            20,
            "one snapshot with all twenty orders, not the eight that fit the queue"
        );
    }
}
