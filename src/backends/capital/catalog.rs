//! The instruments offered to TradingView: epic <-> symbol mapping (from the configuration or a market
//! navigation node) and a cache of each market's details (dealing rules and snapshot).

use super::config::InstrumentConfig;
use super::model::MarketDetails;
use super::session::{Kind, Upstream};
use crate::broker::{BrokerError, BrokerResult};
use crate::sync::{MutexExt, RwLockExt};
use crate::tv;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::time::Instant;

/// `GET /markets?epics=` takes at most this many epics.
const EPICS_PER_REQUEST: usize = 50;

/// One offered instrument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub epic: String,
    pub symbol: String,
    pub tradingview: String,
}

/// Instruments and market details.
pub struct Catalog {
    entries: RwLock<Vec<Entry>>,
    /// The navigation node still to be expanded into entries (market_node mode).
    pending_node: tokio::sync::Mutex<Option<String>>,
    details: Mutex<HashMap<String, (Instant, Arc<MarketDetails>)>>,
    /// Epics Capital.com did not know at the given time (asked again only after `ttl`).
    unknown: Mutex<HashMap<String, Instant>>,
    ttl: Duration,
}

fn entry(epic: &str, symbol: Option<&str>, tradingview: Option<&str>) -> Entry {
    let symbol = symbol.unwrap_or(epic).to_string();
    Entry {
        epic: epic.to_string(),
        tradingview: tradingview
            .map(str::to_string)
            .unwrap_or_else(|| format!("CAPITALCOM:{symbol}")),
        symbol,
    }
}

impl Catalog {
    pub fn new(instruments: &[InstrumentConfig], market_node: Option<String>, ttl: Duration) -> Catalog {
        let entries = instruments
            .iter()
            .map(|i| entry(&i.epic, i.symbol.as_deref(), i.tradingview.as_deref()))
            .collect();
        Catalog {
            entries: RwLock::new(entries),
            pending_node: tokio::sync::Mutex::new(market_node),
            details: Mutex::new(HashMap::new()),
            unknown: Mutex::new(HashMap::new()),
            ttl,
        }
    }

    /// Expands the configured market navigation node once (its markets join the configured instruments).
    pub async fn load(&self, upstream: &Upstream) -> BrokerResult<()> {
        let mut pending = self.pending_node.lock().await;
        let Some(node) = pending.clone() else {
            return Ok(());
        };
        let answer = upstream
            .call(Kind::Read, |c, t| {
                let node = node.clone();
                async move { c.navigation(&t, Some(&node)).await }
            })
            .await?;
        let mut entries = self.write();
        for market in answer.markets {
            let symbol: String = market
                .epic
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
                .collect();
            if symbol.is_empty()
                || entries
                    .iter()
                    .any(|e| e.epic == market.epic || e.symbol == symbol)
            {
                continue;
            }
            entries.push(entry(&market.epic, Some(&symbol), None));
        }
        *pending = None;
        Ok(())
    }

    /// Whether the instrument list still depends on an upstream call.
    pub async fn needs_load(&self) -> bool {
        self.pending_node.lock().await.is_some()
    }

    pub fn entries(&self) -> Vec<Entry> {
        self.read().clone()
    }

    /// The epic of a TradingView symbol.
    pub fn epic_of(&self, symbol: &str) -> BrokerResult<String> {
        self.read()
            .iter()
            .find(|e| e.symbol == symbol)
            .map(|e| e.epic.clone())
            .ok_or_else(|| BrokerError::NotFound(format!("Unknown instrument '{symbol}'")))
    }

    /// The TradingView symbol of an epic, if it is offered.
    pub fn symbol_of(&self, epic: &str) -> Option<String> {
        self.read()
            .iter()
            .find(|e| e.epic == epic)
            .map(|e| e.symbol.clone())
    }

    pub fn mapping(&self) -> Vec<tv::SymbolMapping> {
        self.read()
            .iter()
            .map(|e| tv::SymbolMapping {
                f: [e.symbol.clone()],
                s: e.tradingview.clone(),
            })
            .collect()
    }

    /// Details of one market (cached for the configured time).
    pub async fn detail(&self, upstream: &Upstream, epic: &str) -> BrokerResult<Arc<MarketDetails>> {
        let found = self.details(upstream, &[epic.to_string()]).await?;
        found
            .into_iter()
            .next()
            .ok_or_else(|| BrokerError::NotFound(format!("Capital.com has no market '{epic}'")))
    }

    /// Details of `epics` that exist upstream, in the given order (unknown epics are left out and logged).
    pub async fn details(
        &self,
        upstream: &Upstream,
        epics: &[String],
    ) -> BrokerResult<Vec<Arc<MarketDetails>>> {
        let now = Instant::now();
        let missing: Vec<String> = {
            let cache = self.cache();
            let unknown = self.unknown.locked();
            let fresh = |at: &Instant| now.duration_since(*at) < self.ttl;
            epics
                .iter()
                .filter(|e| !cache.get(*e).is_some_and(|(at, _)| fresh(at)))
                .filter(|e| !unknown.get(*e).is_some_and(fresh))
                .cloned()
                .collect()
        };
        for chunk in missing.chunks(EPICS_PER_REQUEST) {
            let chunk = chunk.to_vec();
            let answer = upstream
                .call(Kind::Read, |c, t| {
                    let chunk = chunk.clone();
                    async move { c.markets(&t, &chunk).await }
                })
                .await?;
            let mut cache = self.cache();
            for details in answer.market_details {
                cache.insert(details.instrument.epic.clone(), (now, Arc::new(details)));
            }
            let mut unknown = self.unknown.locked();
            for epic in &chunk {
                if !cache.contains_key(epic) && unknown.insert(epic.clone(), now).is_none() {
                    tracing::info!(%epic, "Capital.com has no market with this epic");
                }
            }
        }
        let cache = self.cache();
        Ok(epics
            .iter()
            .filter_map(|e| cache.get(e).map(|(_, d)| d.clone()))
            .collect())
    }

    /// Details already cached, however old (for pip sizes while an upstream call would be wasteful).
    pub fn cached(&self, epic: &str) -> Option<Arc<MarketDetails>> {
        self.cache().get(epic).map(|(_, d)| d.clone())
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Arc<MarketDetails>)>> {
        self.details.locked()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Entry>> {
        self.entries.read_locked()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Entry>> {
        self.entries.write_locked()
    }
}
