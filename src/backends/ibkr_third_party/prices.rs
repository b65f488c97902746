//! Quotes, the one-level book and the polled quote stream, all from `/marketdata/snapshot`. Market data
//! must be signed for a user with a live session: requests made for a session use its user; the stream
//! (which no session owns) uses the user most recently active, and waits, saying why, while there is none.
//! Delayed data (temporality 1) is said: a log line when a contract's data turns delayed, and the
//! instrument's description.

use super::catalog::Catalog;
use super::client::{read, Api, Patience};
use super::convert::fix::{temporality_label, Temporality};
use super::convert::market;
use super::model::market::{ComponentBit, SnapshotRow};
use crate::broker::{BrokerError, BrokerResult};
use crate::sync::MutexExt;
use crate::tv;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// Ticks a stream holds for a slow reader before the newest is dropped.
const STREAM_BUFFER: usize = 64;

/// What the market data side remembers.
#[derive(Default)]
pub struct Market {
    /// Contracts whose last snapshot was delayed.
    delayed: Mutex<HashSet<i64>>,
    /// The bridge user who made the latest call, with a live session then.
    active: Mutex<Option<String>>,
    /// Exchange-component mappings, by conid.
    components: Mutex<HashMap<i64, Vec<ComponentBit>>>,
}

impl Market {
    /// `user` made a call with a live session.
    pub fn touch(&self, user: &str) {
        let mut active = self.active.locked();
        if active.as_deref() != Some(user) {
            *active = Some(user.to_string());
        }
    }

    /// The user the stream signs with.
    pub fn active_user(&self) -> Option<String> {
        self.active.locked().clone()
    }

    /// `user`'s session no longer works: the stream stops using it.
    pub fn drop_user(&self, user: &str) {
        let mut active = self.active.locked();
        if active.as_deref() == Some(user) {
            *active = None;
        }
    }

    pub fn is_delayed(&self, conid: i64) -> bool {
        self.delayed.locked().contains(&conid)
    }

    /// Notes a snapshot's temporality; logs when a contract's data turns delayed or real time.
    pub fn note(&self, symbol: &str, row: &SnapshotRow) {
        let t = market::temporality(row);
        let conid = row.conid.0;
        let changed = {
            let mut delayed = self.delayed.locked();
            match t {
                Temporality::Delayed => delayed.insert(conid),
                Temporality::RealTime => delayed.remove(&conid),
            }
        };
        if changed {
            let bid = self.decode(conid, row.bid.as_ref().and_then(|l| l.market));
            let ask = self.decode(conid, row.offer.as_ref().and_then(|l| l.market));
            tracing::info!(symbol, conid, temporality = temporality_label(t), bid_exchanges = ?bid, ask_exchanges = ?ask, "IBKR market data");
        }
    }

    fn decode(&self, conid: i64, bits: Option<u64>) -> Vec<String> {
        match (bits, self.components.locked().get(&conid)) {
            (Some(bits), Some(mapping)) => market::exchanges(bits, mapping),
            _ => Vec::new(),
        }
    }

    /// Reads the contract's exchange-component mapping once (for the log lines); a failure only logs.
    pub async fn learn_components(&self, api: &dyn Api, user: &str, conid: i64) {
        if self.components.locked().contains_key(&conid) {
            return;
        }
        match api.exchange_component(user, &[conid]).await {
            Ok(rows) => {
                if let Some(row) = rows.into_iter().find(|r| r.conid.0 == conid) {
                    self.components.locked().insert(conid, row.mapping);
                }
            }
            Err(e) => tracing::debug!(conid, error = %e, "IBKR exchange components not read"),
        }
    }
}

/// One snapshot row per conid asked.
async fn snapshot(
    api: &dyn Api,
    user: &str,
    patience: Patience,
    conids: &[i64],
) -> BrokerResult<HashMap<i64, SnapshotRow>> {
    let rows = read("reading market data", patience, || api.snapshot(user, conids)).await?;
    Ok(rows.into_iter().map(|r| (r.conid.0, r)).collect())
}

/// Quotes of `symbols` for `user`; a symbol without a quote gets an error entry.
pub async fn quotes(
    api: &dyn Api,
    catalog: &Catalog,
    market_state: &Market,
    user: &str,
    patience: Patience,
    symbols: &[String],
) -> BrokerResult<Vec<tv::QuoteEntry>> {
    // Entries in the order asked: an unknown symbol's error where it was asked.
    let mut resolved: Vec<Result<i64, tv::QuoteEntry>> = Vec::with_capacity(symbols.len());
    for s in symbols {
        match catalog.conid(api, user, patience, s).await {
            Ok(c) => resolved.push(Ok(c)),
            Err(e @ BrokerError::NotFound(_)) => resolved.push(Err(tv::QuoteEntry::error(s, e.to_string()))),
            Err(e) => return Err(e),
        }
    }
    let list: Vec<i64> = resolved.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
    let rows = if list.is_empty() {
        HashMap::new()
    } else {
        snapshot(api, user, patience, &list).await?
    };
    let mut out = Vec::with_capacity(symbols.len());
    for (symbol, r) in symbols.iter().zip(resolved) {
        let conid = match r {
            Ok(c) => c,
            Err(entry) => {
                out.push(entry);
                continue;
            }
        };
        match rows.get(&conid) {
            Some(row) => {
                market_state.note(symbol, row);
                match market::quote(row) {
                    Ok(q) => out.push(tv::QuoteEntry::ok(symbol, q)),
                    Err(m) => out.push(tv::QuoteEntry::error(symbol, m)),
                }
            }
            None => out.push(tv::QuoteEntry::error(
                symbol,
                "IBKR sent no market data for this symbol",
            )),
        }
    }
    Ok(out)
}

/// The book of `symbol`: the one level each side a snapshot holds.
pub async fn depth(
    api: &dyn Api,
    catalog: &Catalog,
    market_state: &Market,
    user: &str,
    patience: Patience,
    symbol: &str,
) -> BrokerResult<tv::Depth> {
    let conid = catalog.conid(api, user, patience, symbol).await?;
    let rows = snapshot(api, user, patience, &[conid]).await?;
    let row = rows
        .get(&conid)
        .ok_or_else(|| BrokerError::Unavailable("IBKR sent no market data for this symbol".into()))?;
    market_state.note(symbol, row);
    Ok(market::depth(row))
}

/// Polls `conid`'s snapshot every `interval` for the most recently active user and sends a tick when the
/// market changed; ends when the receiver is dropped.
pub fn stream(
    api: Arc<dyn Api>,
    catalog: Arc<Catalog>,
    market_state: Arc<Market>,
    symbol: String,
    interval: Duration,
    patience: Patience,
) -> mpsc::Receiver<tv::MarketTick> {
    let (tx, rx) = mpsc::channel(STREAM_BUFFER);
    tokio::spawn(async move {
        let mut waiting_said = false;
        let mut last: Option<tv::MarketTick> = None;
        let mut day: Option<tv::Bar> = None;
        let mut components_for: Option<String> = None;
        let mut conid: Option<i64> = catalog.known_conid(&symbol);
        loop {
            if tx.is_closed() {
                return;
            }
            let Some(user) = market_state.active_user() else {
                if !waiting_said {
                    tracing::info!(symbol = %symbol, "IBKR quote stream waiting: market data needs a user with a live IBKR session, and none has made a call yet");
                    waiting_said = true;
                }
                tokio::time::sleep(interval).await;
                continue;
            };
            waiting_said = false;
            let conid = match conid {
                Some(c) => c,
                None => match catalog.conid(&*api, &user, patience, &symbol).await {
                    Ok(c) => {
                        conid = Some(c);
                        c
                    }
                    Err(e) => {
                        tracing::info!(symbol = %symbol, error = %e, "IBKR quote stream: the symbol's contract is not known yet");
                        tokio::time::sleep(interval).await;
                        continue;
                    }
                },
            };
            if components_for.as_deref() != Some(user.as_str()) {
                market_state.learn_components(&*api, &user, conid).await;
                components_for = Some(user.clone());
            }
            match snapshot(&*api, &user, patience, &[conid]).await {
                Ok(rows) => {
                    if let Some(row) = rows.get(&conid) {
                        market_state.note(&symbol, row);
                        let now = chrono::Utc::now().timestamp();
                        if let Some(tick) = next_tick(&symbol, row, now, &mut day, last.as_ref()) {
                            last = Some(tick.clone());
                            if tx.try_send(tick).is_err() && tx.is_closed() {
                                return;
                            }
                        }
                    }
                }
                Err(e @ (BrokerError::LogInAgain(_) | BrokerError::Unauthorized(_))) => {
                    tracing::info!(symbol = %symbol, user = %user, error = %e, "IBKR quote stream: the user's session no longer works; waiting for another");
                    market_state.drop_user(&user);
                }
                Err(e) => {
                    tracing::debug!(symbol = %symbol, error = %e, "IBKR quote snapshot failed; trying again")
                }
            }
            tokio::time::sleep(interval).await;
        }
    });
    rx
}

/// The tick of `row` when bid, ask or last changed since `last`, the day's bar `day` carried on.
fn next_tick(
    symbol: &str,
    row: &SnapshotRow,
    now: i64,
    day: &mut Option<tv::Bar>,
    last: Option<&tv::MarketTick>,
) -> Option<tv::MarketTick> {
    let probe = market::tick(
        symbol,
        row,
        now,
        tv::Bar::trade(now, Default::default(), Default::default()),
    )?;
    if last.is_some_and(|l| l.bid == probe.bid && l.ask == probe.ask && l.last == probe.last) {
        return None;
    }
    let start = probe.t - probe.t.rem_euclid(86_400);
    let bar = tv::Bar::trade(start, probe.last, probe.last_size);
    let merged = match *day {
        Some(d) if d.t == start => d.then(bar),
        _ => bar,
    };
    *day = Some(merged);
    Some(tv::MarketTick { day: merged, ..probe })
}
