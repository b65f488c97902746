//! The data feed's prices: every instrument any listener wants travels on ONE upstream pricing stream (OANDA
//! allows 20 streams and 2 new connections per second), reopened when an instrument is added, when it
//! fails, or when it goes silent.

use super::lines::LineReader;
use super::StreamOptions;
use crate::backends::oanda::errors::broker_error;
use crate::backends::oanda::venue::{Conn, Price, StreamLine, Venue};
use crate::broker::BrokerResult;
use crate::sync::MutexExt;
use crate::upstream::fanout::Listeners;
use async_trait::async_trait;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;

/// Ticks buffered per listener; a listener that falls further behind misses ticks instead of stalling
/// every other listener.
const LISTENER_BUFFER: usize = 256;

/// Where the pricing stream comes from: token, account and API version of the data feed, asked anew for
/// every (re)connection so that a change of lender is followed.
#[async_trait]
pub trait PriceSource: Send + Sync + 'static {
    async fn price_source(&self) -> BrokerResult<(Conn, String, Arc<dyn Venue>)>;
}

#[derive(Default)]
struct State {
    listeners: HashMap<String, Listeners<Price>>,
    running: bool,
    /// Stream connections opened so far (diagnostics and tests).
    connections: u64,
}

impl State {
    /// Instruments with at least one live listener (closed listeners are dropped here).
    fn wanted(&mut self) -> BTreeSet<String> {
        self.listeners.retain(|_, l| l.prune());
        self.listeners.keys().cloned().collect()
    }
}

struct Shared {
    state: Mutex<State>,
    changed: Notify,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.locked()
    }

    fn deliver(&self, price: Price) {
        let mut st = self.lock();
        if let Some(listeners) = st.listeners.get_mut(&price.instrument) {
            // Without waiting: a slow listener must never hold up the stream.
            listeners.send(&price);
        }
    }
}

/// The multiplexed pricing stream. Cheap to clone.
#[derive(Clone)]
pub struct PriceStreams {
    shared: Arc<Shared>,
    source: Arc<dyn PriceSource>,
    options: StreamOptions,
}

impl PriceStreams {
    pub fn new(source: Arc<dyn PriceSource>, options: StreamOptions) -> PriceStreams {
        PriceStreams {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                changed: Notify::new(),
            }),
            source,
            options,
        }
    }

    /// Prices of `instrument` from now on. Dropping the receiver unsubscribes (the upstream stream drops the
    /// instrument at its next reopening, and ends when nobody listens).
    pub fn subscribe(&self, instrument: &str) -> mpsc::Receiver<Price> {
        let (tx, rx) = mpsc::channel(LISTENER_BUFFER);
        let start = {
            let mut st = self.shared.lock();
            st.listeners.entry(instrument.to_string()).or_default().add(tx);
            !std::mem::replace(&mut st.running, true)
        };
        if start {
            tokio::spawn(run(self.shared.clone(), self.source.clone(), self.options));
        } else {
            self.shared.changed.notify_one();
        }
        rx
    }

    /// Upstream stream connections opened so far.
    pub fn connections(&self) -> u64 {
        self.shared.lock().connections
    }
}

/// Keeps one stream open for the wanted instruments while anyone listens.
async fn run(shared: Arc<Shared>, source: Arc<dyn PriceSource>, options: StreamOptions) {
    let mut backoff = options.backoff();
    loop {
        let wanted = {
            let mut st = shared.lock();
            let wanted = st.wanted();
            if wanted.is_empty() {
                st.running = false;
                return;
            }
            wanted
        };
        let instruments: Vec<String> = wanted.iter().cloned().collect();
        let opened = async {
            let (conn, account, venue) = source.price_source().await?;
            let request = venue.price_stream(&account, &instruments);
            let response = conn
                .http
                .open_stream(&conn.token, &request.path, &request.query)
                .await
                .map_err(|e| broker_error(&e, "the pricing stream"))?;
            BrokerResult::Ok((response, venue))
        };
        let (response, venue) = match opened.await {
            Ok(opened) => opened,
            Err(e) => {
                let wait = backoff.after_failure(false);
                tracing::warn!(error = %e, ?wait, "the OANDA pricing stream could not be opened");
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        shared.lock().connections += 1;
        let since = Instant::now();
        let mut reader = LineReader::new(response);
        let ended = loop {
            tokio::select! {
                line = tokio::time::timeout(options.silence, reader.next_line()) => match line {
                    Err(_) => break format!("silent for {:?}", options.silence),
                    Ok(Err(e)) => break e,
                    Ok(Ok(None)) => break "closed by OANDA".to_string(),
                    Ok(Ok(Some(line))) => {
                        if let StreamLine::Item(price) = venue.parse_price_line(&line) {
                            shared.deliver(price);
                        }
                    }
                },
                _ = shared.changed.notified() => {
                    tokio::time::sleep(options.debounce).await;
                    let now = shared.lock().wanted();
                    if !now.is_subset(&wanted) || now.is_empty() {
                        break String::new();
                    }
                }
            }
        };
        if ended.is_empty() {
            // New instruments (or nobody left): reopen (or stop) at once.
            continue;
        }
        let wait = backoff.after_failure(options.healthy(since.elapsed()));
        tracing::info!(reason = %ended, ?wait, "the OANDA pricing stream ended; reopening");
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::oanda::client::Http;
    use crate::backends::oanda::v20::V20Venue;
    use crate::secret::Secret;
    use axum::body::Body;
    use axum::routing::get;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    const PRICE: &str = r#"{"type":"PRICE","instrument":"EUR_USD","time":"2026-01-05T12:00:00.000000000Z","tradeable":true,"bids":[{"price":"1.10000","liquidity":1000000}],"asks":[{"price":"1.10010","liquidity":1000000}],"closeoutBid":"1.10000","closeoutAsk":"1.10010"}"#;

    /// A pricing stream that sends one price and then nothing at all, not even a heartbeat.
    async fn silent_upstream(connections: Arc<AtomicUsize>) -> String {
        let app = axum::Router::new().route(
            "/v3/accounts/A/pricing/stream",
            get(move || {
                connections.fetch_add(1, Ordering::SeqCst);
                async move {
                    let first = futures_util::stream::once(async {
                        Ok::<_, std::io::Error>(bytes::Bytes::from(format!("{PRICE}\n")))
                    });
                    Body::from_stream(futures_util::StreamExt::chain(
                        first,
                        futures_util::stream::pending(),
                    ))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    struct Fixed(Conn);

    #[async_trait]
    impl PriceSource for Fixed {
        async fn price_source(&self) -> BrokerResult<(Conn, String, Arc<dyn Venue>)> {
            Ok((self.0.clone(), "A".into(), Arc::new(V20Venue::new())))
        }
    }

    #[tokio::test]
    async fn a_silent_stream_is_reopened() {
        let connections = Arc::new(AtomicUsize::new(0));
        let url = silent_upstream(connections.clone()).await;
        let conn = Conn {
            http: Arc::new(Http::new(&url, &url, 50, Duration::from_secs(2)).unwrap()),
            token: Secret::new("t"),
        };
        let mut options = StreamOptions::new(Duration::from_millis(300));
        options.min_backoff = Duration::from_millis(50);
        let streams = PriceStreams::new(Arc::new(Fixed(conn)), options);
        let mut prices = streams.subscribe("EUR_USD");
        for _ in 0..2 {
            let price = tokio::time::timeout(Duration::from_secs(3), prices.recv())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(price.bid.to_string(), "1.10000");
        }
        assert!(
            connections.load(Ordering::SeqCst) >= 2,
            "the second price came on a reopened stream"
        );
        assert!(streams.connections() >= 2);
        // Nobody listens any more: the stream ends at its next reopening and is not reopened again.
        drop(prices);
        tokio::time::sleep(Duration::from_millis(800)).await;
        let settled = connections.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(connections.load(Ordering::SeqCst), settled);
    }
}
