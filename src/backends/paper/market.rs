//! The paper market: instruments with their price feed, quotes, and currency conversion between them.

use super::config::InstrumentConfig;
use super::feed::{Feed, FeedSpec, Tick};
use crate::tv::SymbolType;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// An instrument as the engine uses it.
#[derive(Debug, Clone)]
pub struct PaperInstrument {
    pub cfg: InstrumentConfig,
    pub feed: FeedSpec,
}

/// Every instrument and its prices, at any time.
#[derive(Debug, Clone)]
pub struct Market {
    feed: Feed,
    instruments: Vec<PaperInstrument>,
    by_symbol: HashMap<String, usize>,
}

impl Market {
    /// A market over `instruments` priced by the feed seeded with `seed`.
    pub fn new(seed: u64, instruments: Vec<InstrumentConfig>) -> Self {
        let instruments: Vec<PaperInstrument> = instruments
            .into_iter()
            .map(|cfg| {
                let (base_size, size_step) = typical_size(&cfg);
                let feed = FeedSpec {
                    symbol: cfg.symbol.clone(),
                    base_price: cfg.base_price,
                    tick_size: cfg.tick_size,
                    daily_volatility: cfg.daily_volatility,
                    spread_ticks: cfg.spread_ticks,
                    base_size,
                    size_step,
                };
                PaperInstrument { cfg, feed }
            })
            .collect();
        let by_symbol = instruments
            .iter()
            .enumerate()
            .map(|(i, ins)| (ins.cfg.symbol.clone(), i))
            .collect();
        Market {
            feed: Feed::new(seed),
            instruments,
            by_symbol,
        }
    }

    /// All instruments in configuration order.
    pub fn instruments(&self) -> &[PaperInstrument] {
        &self.instruments
    }

    /// The instrument `symbol`, if traded.
    pub fn get(&self, symbol: &str) -> Option<&PaperInstrument> {
        self.by_symbol.get(symbol).map(|&i| &self.instruments[i])
    }

    /// The market of `ins` at whole second `t`.
    pub fn tick(&self, ins: &PaperInstrument, t: i64) -> Tick {
        self.feed.tick(&ins.feed, t)
    }

    /// The price feed (bars and depth).
    pub fn feed(&self) -> &Feed {
        &self.feed
    }

    /// Mid price of `ins` at second `t`.
    pub fn mid(&self, ins: &PaperInstrument, t: i64) -> Decimal {
        let tick = self.tick(ins, t);
        (tick.bid + tick.ask) / Decimal::TWO
    }

    /// How many units of `to` one unit of `from` is worth at second `t`, from the FX instruments (directly,
    /// inverted, or through USD). `None` when no chain of pairs connects the two.
    pub fn rate(&self, from: &str, to: &str, t: i64) -> Option<Decimal> {
        if from == to {
            return Some(Decimal::ONE);
        }
        if let Some(r) = self.direct_rate(from, to, t) {
            return Some(r);
        }
        let via_usd = self.direct_rate(from, "USD", t)? * self.direct_rate("USD", to, t)?;
        Some(via_usd)
    }

    fn direct_rate(&self, from: &str, to: &str, t: i64) -> Option<Decimal> {
        if from == to {
            return Some(Decimal::ONE);
        }
        for ins in &self.instruments {
            if ins.cfg.kind != SymbolType::Forex {
                continue;
            }
            let base = ins.cfg.base_currency.as_deref();
            if base == Some(from) && ins.cfg.currency == to {
                return Some(self.mid(ins, t));
            }
            if base == Some(to) && ins.cfg.currency == from {
                let mid = self.mid(ins, t);
                return (!mid.is_zero()).then(|| Decimal::ONE / mid);
            }
        }
        None
    }
}

/// Typical book size and size step for the synthetic order book of an instrument.
fn typical_size(cfg: &InstrumentConfig) -> (Decimal, Decimal) {
    match cfg.kind {
        SymbolType::Forex => (Decimal::from(1_000_000), Decimal::from(1000)),
        SymbolType::Stock => (Decimal::from(500), Decimal::ONE),
        _ => (cfg.min_qty * Decimal::from(100), cfg.qty_step),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::paper::config::default_instruments;

    #[test]
    fn rates_connect_every_default_currency() {
        let market = Market::new(7, default_instruments());
        let t = 1_700_000_000;
        for ccy in ["USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD"] {
            for acct in ["USD", "EUR"] {
                let r = market
                    .rate(ccy, acct, t)
                    .unwrap_or_else(|| panic!("{ccy}->{acct}"));
                assert!(r > Decimal::ZERO);
            }
        }
        let eur_usd = market.rate("EUR", "USD", t).unwrap();
        let usd_eur = market.rate("USD", "EUR", t).unwrap();
        assert!((eur_usd * usd_eur - Decimal::ONE).abs() < Decimal::new(1, 9));
        assert!(market.rate("XAU", "USD", t).is_none());
    }
}
