//! The symbols offered to TradingView and their contracts: the configured TradingView symbol -> conid
//! table (conids searched with `/iserver/secdef/search` the first time the session is open, then kept),
//! each contract's details and rules (`/iserver/contract/{conid}/info-and-rules`), read once, and its
//! trading hours (`/trsrv/secdef/schedule`), read at most once a day per contract.

use super::client::ScheduleQuery;
use super::config::SymbolConfig;
use super::convert::schedule::{asset_class, trading_hours, TradingHours};
use super::model::market::{ContractInfo, SearchResult};
use super::session::Gateway;
use crate::broker::{BrokerError, BrokerResult};
use crate::sync::MutexExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Where a symbol's conid came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `conid` in `[[backend.symbols]]`.
    Configured,
    /// Found by `/iserver/secdef/search`.
    Searched,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Configured => "configured",
            Source::Searched => "secdef/search",
        }
    }
}

/// One offered symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub symbol: String,
    pub conid: i64,
    /// TradingView's symbol (`/mapping`).
    pub tradingview: String,
    pub source: Source,
}

/// How long an unanswered schedule request is not repeated (a failure is not kept for a whole day).
const SCHEDULE_RETRY_SECS: i64 = 3_600;

/// A contract's trading hours as last read: `None` when IBKR gave none the bridge can use.
#[derive(Debug, Clone)]
struct Hours {
    /// Unix seconds after which it is read again.
    until: i64,
    hours: Option<Arc<TradingHours>>,
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
    /// Held while a schedule is read, so that two requests on a cold cache make one call.
    hours: tokio::sync::Mutex<HashMap<i64, Hours>>,
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
            hours: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    fn entry(config: &SymbolConfig, conid: i64, source: Source) -> Entry {
        Entry {
            source,
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
                .filter_map(|c| c.conid.map(|id| Self::entry(c, id, Source::Configured)))
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
                entries.push(Self::entry(c, id, Source::Configured));
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
                    entries.push(Self::entry(c, id, Source::Searched));
                }
                None => {
                    tracing::warn!(symbol = %c.symbol, search = %query, "IBKR found no contract of the configured type; the symbol is not offered")
                }
            }
        }
        for e in &entries {
            tracing::info!(symbol = %e.symbol, conid = e.conid, source = e.source.as_str(), tradingview = %e.tradingview, "IBKR symbol offered");
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

    /// The trading hours of `entry` (contract details `info`) from IBKR's schedule, read at most once per
    /// UTC day (`now`, unix seconds) and kept; `whole_day` takes the whole trading day rather than the
    /// liquid hours (the bridge trades outside regular hours). `None` when IBKR gives no schedule the
    /// bridge can use: the caller keeps its guess, and the reason is logged once per read.
    pub async fn trading_hours(
        &self,
        gateway: &Gateway,
        entry: &Entry,
        info: &ContractInfo,
        now: i64,
        whole_day: bool,
    ) -> Option<Arc<TradingHours>> {
        let mut kept = self.hours.lock().await;
        if let Some(h) = kept.get(&entry.conid) {
            if now < h.until {
                return h.hours.clone();
            }
        }
        let next_day = now - now.rem_euclid(86_400) + 86_400;
        let (hours, until) = match self.read_hours(gateway, info, whole_day).await {
            Ok(h) => {
                tracing::info!(symbol = %entry.symbol, conid = entry.conid, hours = %h.describe(), "IBKR trading hours read");
                (Some(Arc::new(h)), next_day)
            }
            Err(Unusable::Answer(why)) => {
                tracing::warn!(symbol = %entry.symbol, conid = entry.conid, reason = %why, "IBKR gave no usable trading schedule; the symbol keeps the assumed session");
                (None, next_day)
            }
            Err(Unusable::Call(e)) => {
                tracing::warn!(symbol = %entry.symbol, conid = entry.conid, error = %e, "IBKR trading schedule not read; the symbol keeps the assumed session for now");
                (None, now + SCHEDULE_RETRY_SECS)
            }
        };
        kept.insert(
            entry.conid,
            Hours {
                until,
                hours: hours.clone(),
            },
        );
        hours
    }

    async fn read_hours(
        &self,
        gateway: &Gateway,
        info: &ContractInfo,
        whole_day: bool,
    ) -> Result<TradingHours, Unusable> {
        let sec_type = info.instrument_type.as_deref().unwrap_or_default();
        let class = asset_class(sec_type).ok_or_else(|| {
            Unusable::Answer(format!("IBKR lists no schedule for security type {sec_type:?}"))
        })?;
        let symbol = info
            .symbol
            .clone()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| Unusable::Answer("the contract details name no symbol".into()))?;
        let query = ScheduleQuery {
            asset_class: class.to_string(),
            symbol,
            // SMART is IBKR's router, not an exchange with hours of its own.
            exchange: info
                .exchange
                .clone()
                .filter(|x| !x.trim().is_empty() && !x.eq_ignore_ascii_case("SMART")),
        };
        let answer = gateway
            .call("reading the trading schedule", |api| {
                let q = query.clone();
                async move { api.schedule(&q).await }
            })
            .await
            .map_err(Unusable::Call)?;
        trading_hours(&answer, query.exchange.as_deref(), whole_day).map_err(Unusable::Answer)
    }
}

/// Why a contract has no trading hours from IBKR.
enum Unusable {
    /// IBKR answered, but nothing the bridge can use.
    Answer(String),
    /// The request failed.
    Call(BrokerError),
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
        assert_eq!(t.by_symbol("AAPL").map(|e| e.source), Some(Source::Searched));
        assert_eq!(t.by_symbol("MSFT").map(|e| e.source), Some(Source::Configured));
    }

    const NASDAQ: &str = r#"[{"exchange":"NASDAQ","timezone":"America/New_York","schedules":[
        {"tradingScheduleDate":"20000101","sessions":[],"tradingtimes":[{"openingTime":"0000","closingTime":"0000"}]},
        {"tradingScheduleDate":"20000103","sessions":[{"openingTime":"0930","closingTime":"1600","prop":"LIQUID"}],
         "tradingtimes":[{"openingTime":"0400","closingTime":"2000"}]}]}]"#;

    fn aapl() -> (Entry, ContractInfo) {
        let entry = Entry {
            symbol: "AAPL".into(),
            conid: 265598,
            tradingview: "AAPL".into(),
            source: Source::Configured,
        };
        let info = ContractInfo {
            symbol: Some("AAPL".into()),
            instrument_type: Some("STK".into()),
            exchange: Some("NASDAQ".into()),
            ..ContractInfo::default()
        };
        (entry, info)
    }

    #[tokio::test]
    async fn trading_hours_are_read_once_a_day_and_a_failure_keeps_the_guess_for_an_hour() {
        let api = Arc::new(ScriptedApi::default());
        api.open_session()
            .ok("schedule", NASDAQ)
            .status("schedule", 503, r#"{"error":"busy"}"#)
            .ok("schedule", NASDAQ);
        let gateway = Gateway::new(api.clone());
        let catalog = Catalog::new(Vec::new());
        let (entry, info) = aapl();
        // Wednesday 2026-03-04 15:00 UTC.
        let now = 1_772_636_400;
        let h = catalog.trading_hours(&gateway, &entry, &info, now, false).await;
        assert_eq!(h.as_deref().map(|h| h.session.as_str()), Some("0930-1600:2"));
        catalog
            .trading_hours(&gateway, &entry, &info, now + 3_600, false)
            .await;
        assert_eq!(api.count("schedule"), 1, "once a day");
        // The next day the schedule is read again; IBKR fails: the guess, asked again only an hour on.
        let tomorrow = now + 86_400;
        assert!(catalog
            .trading_hours(&gateway, &entry, &info, tomorrow, false)
            .await
            .is_none());
        assert!(catalog
            .trading_hours(&gateway, &entry, &info, tomorrow + 60, false)
            .await
            .is_none());
        assert_eq!(api.count("schedule"), 2);
        let again = catalog
            .trading_hours(&gateway, &entry, &info, tomorrow + 3_600, false)
            .await;
        assert!(again.is_some());
        assert!(
            api.calls().contains(&"schedule:STK/AAPL/NASDAQ".to_string()),
            "{:?}",
            api.calls()
        );
    }

    #[tokio::test]
    async fn a_security_type_the_schedule_does_not_list_is_not_asked_for() {
        let api = Arc::new(ScriptedApi::default());
        api.open_session();
        let gateway = Gateway::new(api.clone());
        let catalog = Catalog::new(Vec::new());
        let (entry, mut info) = aapl();
        info.instrument_type = Some("IND".into());
        assert!(catalog
            .trading_hours(&gateway, &entry, &info, 0, false)
            .await
            .is_none());
        assert_eq!(api.count("schedule"), 0);
    }
}
