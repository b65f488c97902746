//! The data feed's prices: every instrument any listener wants travels on ONE upstream pricing stream (OANDA
//! allows 20 streams and 2 new connections per second), reopened when an instrument is added, when it
//! fails, or when it goes silent.

use super::lines::LineReader;
use super::{Backoff, StreamOptions};
use crate::backends::oanda::errors::broker_error;
use crate::backends::oanda::venue::{Conn, Price, StreamLine, Venue};
use crate::broker::BrokerResult;
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
    listeners: HashMap<String, Vec<mpsc::Sender<Price>>>,
    running: bool,
    /// Stream connections opened so far (diagnostics and tests).
    connections: u64,
}

impl State {
    /// Instruments with at least one live listener (closed listeners are dropped here).
    fn wanted(&mut self) -> BTreeSet<String> {
        self.listeners.retain(|_, l| {
            l.retain(|tx| !tx.is_closed());
            !l.is_empty()
        });
        self.listeners.keys().cloned().collect()
    }
}

struct Shared {
    state: Mutex<State>,
    changed: Notify,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn deliver(&self, price: Price) {
        let mut st = self.lock();
        if let Some(listeners) = st.listeners.get_mut(&price.instrument) {
            // `try_send`: a slow listener must never hold up the stream.
            listeners.retain(|tx| {
                !matches!(
                    tx.try_send(price.clone()),
                    Err(mpsc::error::TrySendError::Closed(_))
                )
            });
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
            st.listeners.entry(instrument.to_string()).or_default().push(tx);
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
    let mut backoff = Backoff::new(options);
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
                let wait = backoff.after(None);
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
        let wait = backoff.after(Some(since.elapsed()));
        tracing::info!(reason = %ended, ?wait, "the OANDA pricing stream ended; reopening");
        tokio::time::sleep(wait).await;
    }
}
