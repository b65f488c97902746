//! The offered symbols and their contracts: a configured symbol's conid is taken as given or found with
//! `/secdef` (by ticker and exchange, or ticker and currency) the first time a user's call needs it
//! (`/secdef` must be signed for a user, and none may have logged in at start). Contracts met in positions
//! or orders that no configured symbol names are looked up by conid once and kept, so they are shown
//! under their ticker, never dropped.

use super::client::{read, Api, Patience, SecdefQuery};
use super::config::SymbolConfig;
use super::model::market::Secdef;
use crate::broker::{BrokerError, BrokerResult};
use crate::sync::MutexExt;
use std::collections::HashMap;
use std::sync::Mutex;

/// A contract as the bridge names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Contract {
    pub conid: i64,
    /// The bridge's symbol (configured), or the ticker of a contract met upstream.
    pub symbol: String,
    /// IBKR's definition, when it was read.
    pub secdef: Option<Secdef>,
}

/// The symbols offered and every contract met.
pub struct Catalog {
    symbols: Vec<SymbolConfig>,
    /// Configured symbols resolved so far, by symbol.
    resolved: Mutex<HashMap<String, Contract>>,
    /// Contracts not configured, by conid.
    others: Mutex<HashMap<i64, Contract>>,
}

impl Catalog {
    pub fn new(symbols: Vec<SymbolConfig>) -> Catalog {
        Catalog {
            symbols,
            resolved: Mutex::new(HashMap::new()),
            others: Mutex::new(HashMap::new()),
        }
    }

    /// Every configured symbol with its TradingView symbol (`/mapping`).
    pub fn mapping(&self) -> Vec<(String, String)> {
        self.symbols
            .iter()
            .map(|s| {
                let tv = s.tradingview.clone().unwrap_or_else(|| s.symbol.clone());
                (s.symbol.clone(), tv)
            })
            .collect()
    }

    /// The configured symbols.
    pub fn symbols(&self) -> impl Iterator<Item = &str> {
        self.symbols.iter().map(|s| s.symbol.as_str())
    }

    fn config(&self, symbol: &str) -> BrokerResult<&SymbolConfig> {
        self.symbols
            .iter()
            .find(|s| s.symbol == symbol)
            .ok_or_else(|| BrokerError::NotFound(format!("Unknown symbol '{}'", clip(symbol))))
    }

    /// The contract of configured `symbol`, its definition read for `user` the first time.
    pub async fn contract(
        &self,
        api: &dyn Api,
        user: &str,
        patience: Patience,
        symbol: &str,
    ) -> BrokerResult<Contract> {
        if let Some(c) = self.resolved.locked().get(symbol) {
            return Ok(c.clone());
        }
        let config = self.config(symbol)?;
        let query = secdef_query(config)?;
        let secdef = read("looking the contract up", patience, || api.secdef(user, &query))
            .await
            .map_err(|e| match e {
                BrokerError::Rejected(m) => {
                    BrokerError::NotFound(format!("IBKR has no contract for '{symbol}': {m}"))
                }
                other => other,
            })?;
        if let Some(conid) = config.conid.filter(|c| *c != secdef.contract_id.0) {
            return Err(BrokerError::Internal(format!(
                "IBKR answered conid {} for {symbol}, configured {conid}",
                secdef.contract_id
            )));
        }
        let contract = Contract {
            conid: secdef.contract_id.0,
            symbol: symbol.to_string(),
            secdef: Some(secdef),
        };
        tracing::info!(symbol, conid = contract.conid, "IBKR contract resolved");
        self.resolved
            .locked()
            .insert(symbol.to_string(), contract.clone());
        Ok(contract)
    }

    /// The conid of configured `symbol` (no call when the configuration gives it).
    pub async fn conid(
        &self,
        api: &dyn Api,
        user: &str,
        patience: Patience,
        symbol: &str,
    ) -> BrokerResult<i64> {
        match self.config(symbol)?.conid {
            Some(conid) => Ok(conid),
            None => Ok(self.contract(api, user, patience, symbol).await?.conid),
        }
    }

    /// The bridge's symbol of `conid`: the configured one, else the ticker (`hint`: as the resource
    /// gave it, else from `/secdef` by conid, kept). A contract IBKR cannot define is still shown, as
    /// `conid:<n>`, and looked up again next time.
    pub async fn symbol_of(
        &self,
        api: &dyn Api,
        user: &str,
        patience: Patience,
        conid: i64,
        hint: Option<&str>,
    ) -> String {
        if let Some(s) = self.configured_symbol(conid) {
            return s;
        }
        if let Some(c) = self.others.locked().get(&conid) {
            return c.symbol.clone();
        }
        // A configured symbol not resolved yet may be this contract: resolve them first, so that it is
        // shown under its configured name.
        self.resolve_pending(api, user, patience).await;
        if let Some(s) = self.configured_symbol(conid) {
            return s;
        }
        let by_conid = SecdefQuery::Conid(conid);
        let (ticker, secdef) = match hint.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => (t.to_string(), None),
            None => match read("looking the contract up", patience, || {
                api.secdef(user, &by_conid)
            })
            .await
            {
                Ok(s) => (
                    s.ticker.clone().unwrap_or_else(|| format!("conid:{conid}")),
                    Some(s),
                ),
                Err(e) => {
                    tracing::warn!(conid, error = %e, "IBKR contract not configured and not defined; shown by conid");
                    return format!("conid:{conid}");
                }
            },
        };
        // A ticker that is also a configured symbol (of another contract) would be traded as that one.
        let symbol = if self.symbols.iter().any(|s| s.symbol == ticker) {
            format!("{ticker}:{conid}")
        } else {
            clip(&ticker)
        };
        tracing::info!(conid, symbol = %symbol, "IBKR contract not among the configured symbols; shown by its ticker");
        self.others.locked().insert(
            conid,
            Contract {
                conid,
                symbol: symbol.clone(),
                secdef,
            },
        );
        symbol
    }

    /// Resolves every configured symbol without a conid not resolved yet; failures are logged (the
    /// symbol is tried again at its next use).
    async fn resolve_pending(&self, api: &dyn Api, user: &str, patience: Patience) {
        let pending: Vec<String> = {
            let resolved = self.resolved.locked();
            self.symbols
                .iter()
                .filter(|s| s.conid.is_none() && !resolved.contains_key(&s.symbol))
                .map(|s| s.symbol.clone())
                .collect()
        };
        for symbol in pending {
            if let Err(e) = self.contract(api, user, patience, &symbol).await {
                tracing::warn!(symbol = %symbol, error = %e, "IBKR contract of a configured symbol not resolved");
            }
        }
    }

    /// The conid of any symbol the bridge showed: configured (resolved or given) or met upstream.
    pub fn known_conid(&self, symbol: &str) -> Option<i64> {
        if let Ok(config) = self.config(symbol) {
            if let Some(c) = config.conid {
                return Some(c);
            }
        }
        if let Some(c) = self.resolved.locked().get(symbol) {
            return Some(c.conid);
        }
        self.others
            .locked()
            .values()
            .find(|c| c.symbol == symbol)
            .map(|c| c.conid)
            .or_else(|| symbol.strip_prefix("conid:").and_then(|n| n.parse().ok()))
    }

    fn configured_symbol(&self, conid: i64) -> Option<String> {
        if let Some(s) = self.symbols.iter().find(|s| s.conid == Some(conid)) {
            return Some(s.symbol.clone());
        }
        self.resolved
            .locked()
            .values()
            .find(|c| c.conid == conid)
            .map(|c| c.symbol.clone())
    }
}

/// The catalog as one user's calls name contracts.
pub struct Namer<'a> {
    pub catalog: &'a Catalog,
    pub api: &'a dyn Api,
    pub user: &'a str,
    pub patience: Patience,
}

impl Namer<'_> {
    /// See [`Catalog::symbol_of`].
    pub async fn symbol(&self, conid: i64, hint: Option<&str>) -> String {
        self.catalog
            .symbol_of(self.api, self.user, self.patience, conid, hint)
            .await
    }
}

/// What `/secdef` is asked for a configured symbol.
pub fn secdef_query(s: &SymbolConfig) -> BrokerResult<SecdefQuery> {
    if let Some(conid) = s.conid {
        return Ok(SecdefQuery::Conid(conid));
    }
    let kind = s.instrument_type.as_deref().unwrap_or("STK");
    match kind {
        "STK" => {
            let exchange = s.exchange.clone().ok_or_else(|| {
                BrokerError::Internal(format!("symbol {}: a stock needs its exchange", s.symbol))
            })?;
            Ok(SecdefQuery::Stock {
                ticker: s.ticker.clone().unwrap_or_else(|| s.symbol.clone()),
                exchange,
            })
        }
        "CASH" => {
            let currency = s.currency.clone().ok_or_else(|| {
                BrokerError::Internal(format!(
                    "symbol {}: an FX pair needs its quote currency",
                    s.symbol
                ))
            })?;
            let ticker = s
                .ticker
                .clone()
                .unwrap_or_else(|| s.symbol.chars().take(3).collect());
            Ok(SecdefQuery::Cash { ticker, currency })
        }
        other => Err(BrokerError::Internal(format!(
            "symbol {}: instrument type {other:?} is not offered (STK or CASH)",
            s.symbol
        ))),
    }
}

/// A name from upstream as the bridge may show it: printable, at most 32 characters.
fn clip(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(symbol: &str) -> SymbolConfig {
        SymbolConfig {
            symbol: symbol.into(),
            conid: None,
            instrument_type: None,
            ticker: None,
            exchange: None,
            currency: None,
            tradingview: None,
        }
    }

    #[test]
    fn symbols_are_checked_by_key_and_queried_by_kind() {
        let stock = SymbolConfig {
            exchange: Some("NASDAQ".into()),
            ..sym("AAPL")
        };
        let fx = SymbolConfig {
            instrument_type: Some("CASH".into()),
            currency: Some("USD".into()),
            ..sym("EURUSD")
        };
        let by_conid = SymbolConfig {
            conid: Some(8314),
            ..sym("IBM")
        };
        assert!(secdef_query(&stock).is_ok());
        assert_eq!(
            secdef_query(&fx).unwrap(),
            SecdefQuery::Cash {
                ticker: "EUR".into(),
                currency: "USD".into()
            }
        );
        assert_eq!(secdef_query(&by_conid).unwrap(), SecdefQuery::Conid(8314));
        // What the configuration check refuses at start is refused here too (a symbol added at run time).
        let no_exchange = secdef_query(&sym("MSFT")).unwrap_err().to_string();
        assert!(
            no_exchange.contains("MSFT") && no_exchange.contains("exchange"),
            "{no_exchange}"
        );
        let future = SymbolConfig {
            instrument_type: Some("FUT".into()),
            ..sym("ES")
        };
        assert!(secdef_query(&future).is_err());
    }
}
