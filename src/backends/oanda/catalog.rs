//! Which TradingView symbol stands for which OANDA instrument: configured names first, otherwise the
//! instrument name without `_` (`EUR_USD` is `EURUSD`), and each account's instruments by either name.

use super::config::InstrumentConfig;
use super::venue::InstrumentSpec;
use std::collections::HashMap;

/// The configured symbol names, shared by every account.
#[derive(Debug, Clone, Default)]
pub struct SymbolRules {
    /// Instrument -> (symbol, TradingView symbol).
    configured: HashMap<String, (String, Option<String>)>,
    /// Configured instruments in configuration order (empty: every instrument is offered).
    offered: Vec<String>,
}

impl SymbolRules {
    pub fn new(instruments: &[InstrumentConfig]) -> SymbolRules {
        SymbolRules {
            configured: instruments
                .iter()
                .map(|i| {
                    let symbol = i.symbol.clone().unwrap_or_else(|| default_symbol(&i.instrument));
                    (i.instrument.clone(), (symbol, i.tradingview.clone()))
                })
                .collect(),
            offered: instruments.iter().map(|i| i.instrument.clone()).collect(),
        }
    }

    /// The bridge symbol of an instrument (also for instruments not offered, e.g. an old position's).
    pub fn symbol(&self, instrument: &str) -> String {
        match self.configured.get(instrument) {
            Some((symbol, _)) => symbol.clone(),
            None => default_symbol(instrument),
        }
    }

    /// TradingView's symbol for `/mapping`.
    pub fn tradingview(&self, instrument: &str) -> String {
        match self.configured.get(instrument) {
            Some((_, Some(tv))) => tv.clone(),
            _ => format!("OANDA:{}", self.symbol(instrument)),
        }
    }

    /// The configured instruments, in order; empty when every instrument is offered.
    pub fn offered(&self) -> &[String] {
        &self.offered
    }

    /// Whether `instrument` is offered to TradingView.
    pub fn is_offered(&self, instrument: &str) -> bool {
        self.offered.is_empty() || self.configured.contains_key(instrument)
    }
}

/// `EUR_USD` -> `EURUSD`.
pub fn default_symbol(instrument: &str) -> String {
    instrument.replace('_', "")
}

/// One account's instruments, found by OANDA name or by bridge symbol.
#[derive(Debug, Clone, Default)]
pub struct AccountCatalog {
    specs: Vec<InstrumentSpec>,
    by_name: HashMap<String, usize>,
    by_symbol: HashMap<String, usize>,
    rules: SymbolRules,
}

impl AccountCatalog {
    pub fn new(specs: Vec<InstrumentSpec>, rules: &SymbolRules) -> AccountCatalog {
        let by_name = specs
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect();
        let by_symbol = specs
            .iter()
            .enumerate()
            .map(|(i, s)| (rules.symbol(&s.name).to_ascii_uppercase(), i))
            .collect();
        AccountCatalog {
            specs,
            by_name,
            by_symbol,
            rules: rules.clone(),
        }
    }

    /// Every instrument of the account.
    pub fn all(&self) -> &[InstrumentSpec] {
        &self.specs
    }

    /// The instruments offered to TradingView, in configuration order (or the account's order).
    pub fn offered(&self) -> Vec<&InstrumentSpec> {
        if self.rules.offered().is_empty() {
            self.specs.iter().collect()
        } else {
            self.rules.offered().iter().filter_map(|n| self.spec(n)).collect()
        }
    }

    /// An instrument by OANDA name.
    pub fn spec(&self, instrument: &str) -> Option<&InstrumentSpec> {
        self.by_name.get(instrument).map(|&i| &self.specs[i])
    }

    /// An instrument by bridge symbol (case-insensitive), or by OANDA name.
    pub fn by_symbol(&self, symbol: &str) -> Option<&InstrumentSpec> {
        let key = symbol.trim().to_ascii_uppercase();
        self.by_symbol
            .get(&key)
            .or_else(|| self.by_name.get(&key))
            .map(|&i| &self.specs[i])
    }

    /// The bridge symbol of an instrument.
    pub fn symbol(&self, instrument: &str) -> String {
        self.rules.symbol(instrument)
    }

    /// The symbol rules this catalog maps with.
    pub fn rules(&self) -> &SymbolRules {
        &self.rules
    }
}

#[cfg(test)]
mod tests {
    use super::super::venue::InstrumentKind;
    use super::*;
    use rust_decimal::Decimal;

    pub(crate) fn spec(name: &str, pip_location: i32) -> InstrumentSpec {
        InstrumentSpec {
            name: name.into(),
            display_name: name.replace('_', "/"),
            kind: InstrumentKind::Currency,
            pip_location,
            display_precision: (1 - pip_location).max(0) as u32,
            units_precision: 0,
            min_units: Decimal::ONE,
            max_units: Decimal::from(100_000_000),
            margin_rate: Decimal::new(333, 4),
            min_trailing_distance: None,
            max_trailing_distance: None,
        }
    }

    #[test]
    fn symbols_default_to_the_name_without_underscore() {
        let rules = SymbolRules::new(&[InstrumentConfig {
            instrument: "XAU_USD".into(),
            symbol: Some("GOLD".into()),
            tradingview: Some("OANDA:XAUUSD".into()),
        }]);
        assert_eq!(rules.symbol("EUR_USD"), "EURUSD");
        assert_eq!(rules.symbol("XAU_USD"), "GOLD");
        assert_eq!(rules.tradingview("XAU_USD"), "OANDA:XAUUSD");
        assert_eq!(rules.tradingview("EUR_USD"), "OANDA:EURUSD");
        assert!(rules.is_offered("XAU_USD") && !rules.is_offered("EUR_USD"));
        assert!(SymbolRules::default().is_offered("EUR_USD"));
    }

    #[test]
    fn instruments_are_found_by_symbol_or_name() {
        let rules = SymbolRules::default();
        let catalog = AccountCatalog::new(vec![spec("EUR_USD", -4), spec("USD_JPY", -2)], &rules);
        assert_eq!(
            catalog.by_symbol("eurusd").map(|s| s.name.as_str()),
            Some("EUR_USD")
        );
        assert_eq!(
            catalog.by_symbol("USD_JPY").map(|s| s.name.as_str()),
            Some("USD_JPY")
        );
        assert!(catalog.by_symbol("GBPUSD").is_none());
        assert_eq!(catalog.offered().len(), 2);
        assert_eq!(catalog.spec("USD_JPY").map(|s| s.pip()), Some(Decimal::new(1, 2)));
        assert_eq!(spec("X_Y", 0).pip(), Decimal::ONE);
        assert_eq!(spec("X_Y", 2).pip(), Decimal::from(100));
    }
}
