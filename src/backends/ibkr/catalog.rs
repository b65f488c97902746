//! The symbols offered to TradingView and their contracts: the configured TradingView symbol -> conid
//! table (conids searched with `/iserver/secdef/search` the first time the session is open, then kept),
//! and each contract's details and rules (`/iserver/contract/{conid}/info-and-rules`), read once.

use super::config::SymbolConfig;
use super::model::market::{ContractInfo, SearchResult};
use super::session::Gateway;
use crate::broker::{BrokerError, BrokerResult};
use crate::sync::MutexExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One offered symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub symbol: String,
    pub conid: i64,
    /// TradingView's symbol (`/mapping`).
    pub tradingview: String,
}

/// The resolved symbol table.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub entries: Vec<Entry>,
}

impl Table {
    /// The entry of a bridge symbol.
    pub fn by_symbol(&self, symbol: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.symbol == symbol)
    }

    /// The entry of a conid.
    pub fn by_conid(&self, conid: i64) -> Option<&Entry> {
        self.entries.iter().find(|e| e.conid == conid)
    }

    /// The conid of a bridge symbol, or the refusal naming it.
    pub fn conid(&self, symbol: &str) -> BrokerResult<i64> {
        self.by_symbol(symbol)
            .map(|e| e.conid)
            .ok_or_else(|| BrokerError::NotFound(format!("Unknown symbol '{symbol}'")))
    }
}

/// The symbol table and contract details.
pub struct Catalog {
    configured: Vec<SymbolConfig>,
    /// Set once every configured symbol has a conid (searches done).
    table: tokio::sync::Mutex<Option<Arc<Table>>>,
    contracts: Mutex<HashMap<i64, Arc<ContractInfo>>>,
}

/// The conid of `config`'s contract among search results: the first result offering the wanted security
/// type (`STK` unless configured).
pub fn pick(config: &SymbolConfig, results: &[SearchResult]) -> Option<i64> {
    let wanted = config.sec_type.as_deref().unwrap_or("STK");
    results
        .iter()
        .find(|r| r.sections.iter().any(|s| s.sec_type.as_deref() == Some(wanted)))
        .and_then(|r| r.conid)
        .map(|c| c.0)
}

impl Catalog {
    pub fn new(configured: Vec<SymbolConfig>) -> Catalog {
        Catalog {
            configured,
            table: tokio::sync::Mutex::new(None),
            contracts: Mutex::new(HashMap::new()),
        }
    }

    fn entry(config: &SymbolConfig, conid: i64) -> Entry {
        Entry {
            symbol: config.symbol.clone(),
            conid,
            tradingview: config
                .tradingview
                .clone()
                .unwrap_or_else(|| config.symbol.clone()),
        }
    }

    /// The symbols whose conid is configured (what `/mapping` can answer before any login).
    pub fn known(&self) -> Table {
        Table {
            entries: self
                .configured
                .iter()
                .filter_map(|c| c.conid.map(|id| Self::entry(c, id)))
                .collect(),
        }
    }

    /// The whole table, searching the conids not configured (once; a symbol IBKR does not find is left
    /// out and logged with its name).
    pub async fn table(&self, gateway: &Gateway) -> BrokerResult<Arc<Table>> {
        let mut table = self.table.lock().await;
        if let Some(t) = &*table {
            return Ok(t.clone());
        }
        let mut entries = Vec::new();
        for c in &self.configured {
            if let Some(id) = c.conid {
                entries.push(Self::entry(c, id));
                continue;
            }
            let query = c.search.clone().unwrap_or_else(|| c.symbol.clone());
            let results = gateway
                .call("searching a contract", |api| {
                    let q = query.clone();
                    async move { api.search(&q).await }
                })
                .await?;
            match pick(c, &results) {
                Some(id) => {
                    tracing::info!(symbol = %c.symbol, conid = id, "IBKR contract found");
                    entries.push(Self::entry(c, id));
                }
                None => {
                    tracing::warn!(symbol = %c.symbol, search = %query, "IBKR found no contract of the configured type; the symbol is not offered")
                }
            }
        }
        let t = Arc::new(Table { entries });
        *table = Some(t.clone());
        Ok(t)
    }

    /// The table if it is resolved already (no upstream call).
    pub fn resolved(&self) -> Option<Arc<Table>> {
        self.table.try_lock().ok().and_then(|t| t.clone())
    }

    /// The details and rules of `conid`, read once.
    pub async fn contract(&self, gateway: &Gateway, conid: i64) -> BrokerResult<Arc<ContractInfo>> {
        if let Some(c) = self.contracts.locked().get(&conid) {
            return Ok(c.clone());
        }
        let info = Arc::new(
            gateway
                .call(
                    "reading the contract",
                    |api| async move { api.contract(conid).await },
                )
                .await?,
        );
        self.contracts.locked().insert(conid, info.clone());
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::ibkr::testing::{fixture, ScriptedApi};

    fn symbol(symbol: &str, conid: Option<i64>, sec_type: Option<&str>) -> SymbolConfig {
        SymbolConfig {
            symbol: symbol.into(),
            conid,
            search: None,
            sec_type: sec_type.map(str::to_string),
            tradingview: None,
        }
    }

    #[tokio::test]
    async fn configured_conids_need_no_search_and_searches_run_once() {
        let api = Arc::new(ScriptedApi::default());
        api.open_session()
            .ok("search", &fixture("search.json"))
            .ok("search", &fixture("search.json"));
        let gateway = Gateway::new(api.clone());
        let catalog = Catalog::new(vec![
            symbol("MSFT", Some(272093), None),
            symbol("AAPL", None, None),
            symbol("AAPLOPT", None, Some("CASH")),
        ]);
        assert_eq!(catalog.known().entries.len(), 1);
        let t = catalog.table(&gateway).await.unwrap();
        assert_eq!(t.conid("AAPL").unwrap(), 265598);
        assert!(t.by_symbol("AAPLOPT").is_none(), "no CASH section: not offered");
        assert!(matches!(t.conid("XYZ"), Err(BrokerError::NotFound(_))));
        catalog.table(&gateway).await.unwrap();
        assert_eq!(api.count("search"), 2, "one per searched symbol, once");
    }
}
