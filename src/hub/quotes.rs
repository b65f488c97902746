//! The quote hub: one backend market subscription per symbol, shared by `/quotes`, `/stream/quotes` and
//! `/streaming`. Each tick is rendered once into the data feed's lines; every listener gets the same
//! `Arc`. A symbol nobody listens to for a while is unsubscribed.

use super::accounts::json_line;
use crate::broker::{Broker, BrokerResult};
use crate::sync::{MutexExt, RwLockExt};
use crate::tv;
use bytes::Bytes;
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc};

/// One tick and its `/streaming` lines (quote, trade, daily bar), rendered once.
#[derive(Debug)]
pub struct TickLines {
    pub tick: tv::MarketTick,
    pub streaming: Bytes,
    /// When the hub received the tick from the backend: where a quote's fan-out latency starts
    /// (the load tool's `--fanout` mode measures from here).
    pub received: Instant,
    /// `/stream/quotes` lines of this tick, one per distinct pair of pip values (they depend only on the
    /// account currency), rendered by the first stream that needs one and shared by the others.
    quote_lines: Mutex<Vec<(PipBytes, Bytes)>>,
}

/// Buy and sell pip values as exact bytes: equal decimals of another scale print differently.
type PipBytes = (Option<[u8; 16]>, Option<[u8; 16]>);

/// Distinct pip-value pairs a tick keeps rendered lines for; any more are rendered per stream.
const QUOTE_LINE_VARIANTS: usize = 16;

impl TickLines {
    fn render(tick: tv::MarketTick, received: Instant) -> TickLines {
        let (id, t, d) = (&tick.symbol, tick.t, &tick.day);
        let mut lines = Vec::with_capacity(3);
        lines.push(json_line(
            &json!({"f": "q", "id": id, "t": t, "ap": tick.ask, "as": tick.ask_size,
            "bp": tick.bid, "bs": tick.bid_size}),
        ));
        lines.push(json_line(
            &json!({"f": "t", "id": id, "p": tick.last, "s": tick.last_size, "t": t}),
        ));
        lines.push(json_line(
            &json!({"f": "d", "id": id, "o": d.open, "h": d.high, "l": d.low, "c": d.close,
            "v": d.volume, "t": d.t}),
        ));
        TickLines {
            streaming: Bytes::from(lines.concat()),
            tick,
            received,
            quote_lines: Mutex::new(Vec::new()),
        }
    }

    /// The `/stream/quotes` line of this tick, `[{"s":"ok","n":..,"v":{ask, bid, pip values}}]`, with
    /// the given pip values.
    pub fn quote_line(&self, buy: Option<Decimal>, sell: Option<Decimal>) -> Bytes {
        let key = (buy.map(|d| d.serialize()), sell.map(|d| d.serialize()));
        if let Some((_, line)) = self.quote_lines.locked().iter().find(|(k, _)| *k == key) {
            return line.clone();
        }
        let quote = tv::Quote {
            ask: self.tick.ask,
            bid: self.tick.bid,
            buy_pip_value: buy,
            sell_pip_value: sell,
        };
        let line = json_line(&[tv::QuoteEntry::ok(self.tick.symbol.clone(), quote)]);
        let mut lines = self.quote_lines.locked();
        if lines.len() < QUOTE_LINE_VARIANTS && !lines.iter().any(|(k, _)| *k == key) {
            lines.push((key, line.clone()));
        }
        line
    }
}

/// The latest tick (if any) and the receiver of the following ones.
pub type Listening = (Option<Arc<TickLines>>, broadcast::Receiver<Arc<TickLines>>);

struct SymbolFeed {
    tx: broadcast::Sender<Arc<TickLines>>,
    latest: RwLock<Option<Arc<TickLines>>>,
    /// Last time `/quotes` read this symbol: a polled symbol stays subscribed like a streamed one.
    polled: Mutex<Instant>,
}

impl SymbolFeed {
    fn in_use(&self, idle: Duration) -> bool {
        self.tx.receiver_count() > 0 || self.polled.locked().elapsed() < idle
    }
}

/// Pip values per (account, symbol): they depend on the account currency and move only with FX rates.
type PipKey = (String, String);
/// How long a pip value is reused.
const PIP_TTL: Duration = Duration::from_secs(60);
const PIP_CACHE_CAP: usize = 100_000;

struct Inner {
    broker: Arc<dyn Broker>,
    feeds: Mutex<HashMap<String, Arc<SymbolFeed>>>,
    pips: Mutex<HashMap<PipKey, (tv::QuoteEntry, Instant)>>,
    queue: usize,
    idle: Duration,
}

/// Market data fan-out, one upstream subscription per symbol.
#[derive(Clone)]
pub struct QuoteHub(Arc<Inner>);

impl QuoteHub {
    /// A hub whose per-listener queue holds `queue` ticks; idle symbols are dropped after `idle`.
    pub fn new(broker: Arc<dyn Broker>, queue: usize, idle: Duration) -> Self {
        QuoteHub(Arc::new(Inner {
            broker,
            feeds: Mutex::new(HashMap::new()),
            pips: Mutex::new(HashMap::new()),
            queue,
            idle,
        }))
    }

    /// Listens to `symbol`, subscribing upstream on first use. Returns the latest tick, if any, and the
    /// receiver of the following ones.
    pub async fn subscribe(&self, symbol: &str) -> BrokerResult<Listening> {
        // Looked up and subscribed under the lock, so the pump cannot retire the feed in between.
        if let Some(found) = self.listen(symbol) {
            return Ok(found);
        }
        let upstream = self.0.broker.subscribe_market(symbol).await?;
        let mut feeds = self.0.feeds.locked();
        // Another listener may have subscribed meanwhile: keep theirs, drop ours (dropping unsubscribes).
        let feed = feeds
            .entry(symbol.to_owned())
            .or_insert_with(|| {
                let (tx, _) = broadcast::channel(self.0.queue);
                let feed = Arc::new(SymbolFeed {
                    tx,
                    latest: RwLock::new(None),
                    polled: Mutex::new(Instant::now()),
                });
                tokio::spawn(pump(self.clone(), symbol.to_owned(), feed.clone(), upstream));
                feed
            })
            .clone();
        let rx = feed.tx.subscribe();
        let latest = feed.latest.read_locked().clone();
        Ok((latest, rx))
    }

    fn listen(&self, symbol: &str) -> Option<Listening> {
        let feeds = self.0.feeds.locked();
        let feed = feeds.get(symbol)?;
        let rx = feed.tx.subscribe();
        let latest = feed.latest.read_locked().clone();
        Some((latest, rx))
    }

    /// The latest tick of `symbol` for a poll, subscribing upstream on first use (the answer is then
    /// `None` until the first tick arrives). Polling keeps the subscription alive.
    pub async fn latest(&self, symbol: &str) -> BrokerResult<Option<Arc<TickLines>>> {
        let found = {
            let feeds = self.0.feeds.locked();
            feeds.get(symbol).map(|feed| {
                *feed.polled.locked() = Instant::now();
                feed.latest.read_locked().clone()
            })
        };
        match found {
            Some(latest) => Ok(latest),
            None => self.subscribe(symbol).await.map(|(latest, _)| latest),
        }
    }

    /// A cached `/quotes` entry of `symbol` for `account` (for its pip values), if fresh.
    pub fn cached_entry(&self, account: &str, symbol: &str) -> Option<tv::QuoteEntry> {
        let pips = self.0.pips.locked();
        let key = (account.to_owned(), symbol.to_owned());
        pips.get(&key)
            .filter(|(_, at)| at.elapsed() < PIP_TTL)
            .map(|(e, _)| e.clone())
    }

    /// Remembers the backend's `/quotes` entries of `account`.
    pub fn store_entries(&self, account: &str, entries: &[tv::QuoteEntry]) {
        let mut pips = self.0.pips.locked();
        if pips.len() >= PIP_CACHE_CAP {
            pips.clear();
        }
        for e in entries.iter().filter(|e| e.s == "ok") {
            pips.insert((account.to_owned(), e.n.clone()), (e.clone(), Instant::now()));
        }
    }

    /// Symbols with a live upstream subscription.
    pub fn subscribed(&self) -> Vec<String> {
        let mut v: Vec<String> = self.0.feeds.locked().keys().cloned().collect();
        v.sort();
        v
    }
}

/// Moves one symbol's upstream ticks to its listeners until nobody has listened for the idle time.
async fn pump(
    hub: QuoteHub,
    symbol: String,
    feed: Arc<SymbolFeed>,
    mut upstream: mpsc::Receiver<tv::MarketTick>,
) {
    let mut alone_since: Option<Instant> = None;
    let check = Duration::from_secs(1).min(hub.0.idle);
    loop {
        let next = tokio::time::timeout(check, upstream.recv()).await;
        match next {
            Ok(Some(tick)) => {
                let lines = Arc::new(TickLines::render(tick, Instant::now()));
                *feed.latest.write_locked() = Some(lines.clone());
                let _ = feed.tx.send(lines);
            }
            Ok(None) => {
                tracing::warn!(%symbol, "market data subscription ended upstream");
                break;
            }
            Err(_) => {}
        }
        if feed.in_use(hub.0.idle) {
            alone_since = None;
            continue;
        }
        let since = *alone_since.get_or_insert_with(Instant::now);
        if since.elapsed() >= hub.0.idle {
            // Re-checked under the lock that `subscribe` takes: nobody can join between check and removal.
            let mut feeds = hub.0.feeds.locked();
            if !feed.in_use(hub.0.idle) {
                if feeds.get(&symbol).is_some_and(|f| Arc::ptr_eq(f, &feed)) {
                    feeds.remove(&symbol);
                }
                return;
            }
        }
    }
    let mut feeds = hub.0.feeds.locked();
    if feeds.get(&symbol).is_some_and(|f| Arc::ptr_eq(f, &feed)) {
        feeds.remove(&symbol);
    }
}
