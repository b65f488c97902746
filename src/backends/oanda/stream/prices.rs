//! The data feed's prices: every instrument any listener wants travels on ONE upstream pricing stream (OANDA
//! allows 20 streams and 2 new connections per second), reopened when an instrument is added, when it
//! fails, or when it goes silent. The shared stream pool ([`crate::upstream::stream`]) does all of that;
//! this file is what is OANDA's: where the stream comes from and what its lines mean.

use super::{StreamOptions, MAX_LINE};
use crate::backends::oanda::errors::broker_error;
use crate::backends::oanda::venue::{Conn, Price, StreamLine, Venue};
use crate::broker::BrokerResult;
use crate::upstream::stream::ndjson::NdjsonLink;
use crate::upstream::stream::{Incoming, OpenError, Opened, PoolOptions, Protocol, StreamPool};
use async_trait::async_trait;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Ticks buffered per listener; a listener that falls further behind misses ticks instead of stalling
/// every other listener.
const LISTENER_BUFFER: usize = 256;

/// Where the pricing stream comes from: token, account and API version of the data feed, asked anew for
/// every (re)connection so that a change of lender is followed.
#[async_trait]
pub trait PriceSource: Send + Sync + 'static {
    async fn price_source(&self) -> BrokerResult<(Conn, String, Arc<dyn Venue>)>;
}

/// The pricing stream as the pool speaks it: instruments are the keys, the URL carries them all.
struct PriceProtocol {
    source: Arc<dyn PriceSource>,
}

#[async_trait]
impl Protocol for PriceProtocol {
    type Event = Price;
    /// The API version the stream was opened on, which reads its lines.
    type Session = Arc<dyn Venue>;

    fn name(&self) -> &'static str {
        "OANDA pricing stream"
    }

    async fn open(
        &self,
        instruments: &[String],
        _reopened: bool,
    ) -> Result<Opened<Arc<dyn Venue>>, OpenError> {
        let (conn, account, venue) = self
            .source
            .price_source()
            .await
            .map_err(|e| OpenError::retry(e.to_string()))?;
        let request = venue.price_stream(&account, instruments);
        let response = conn
            .http
            .open_stream(&conn.token, &request.path, &request.query)
            .await
            .map_err(|e| OpenError::retry(broker_error(&e, "the pricing stream").to_string()))?;
        Ok(Opened {
            session: venue,
            link: Box::new(NdjsonLink::new(response, MAX_LINE)),
        })
    }

    fn decode(&self, venue: &Arc<dyn Venue>, line: &[u8]) -> Incoming<Price> {
        match venue.parse_price_line(line) {
            StreamLine::Item(price) => Incoming::Data {
                key: price.instrument.clone(),
                event: price,
            },
            // A heartbeat, or a line the venue has no use for: the stream is alive either way.
            _ => Incoming::Alive,
        }
    }
}

/// The multiplexed pricing stream. Cheap to clone.
#[derive(Clone)]
pub struct PriceStreams {
    pool: StreamPool<PriceProtocol>,
}

impl PriceStreams {
    pub fn new(source: Arc<dyn PriceSource>, options: StreamOptions) -> PriceStreams {
        let options = PoolOptions {
            channel_capacity: LISTENER_BUFFER,
            ..options.pool()
        };
        PriceStreams {
            pool: StreamPool::new(Arc::new(PriceProtocol { source }), options),
        }
    }

    /// Prices of `instrument` from now on. Dropping the receiver unsubscribes (the upstream stream keeps
    /// the instrument until its next reopening, and ends when nobody listens).
    pub fn subscribe(&self, instrument: &str) -> mpsc::Receiver<Price> {
        // The pool refuses only once shut down, which cannot happen while `self` holds it: a closed
        // receiver would then be the honest answer.
        self.pool
            .subscribe(instrument)
            .unwrap_or_else(|_| mpsc::channel(1).1)
    }

    /// Upstream stream connections opened so far.
    pub fn connections(&self) -> u64 {
        self.pool.stats().opened
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
