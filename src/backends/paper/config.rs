//! `[backend] kind = "paper"` settings, with a default instrument set (FX majors, index CFDs, crypto, US stocks).

use super::clock::{Clock, SystemClock};
use super::data_start::DataStart;
use crate::tv::SymbolType;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The paper broker's configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaperConfig {
    /// Seed of the price process: the same seed always gives the same prices.
    pub seed: u64,
    /// A state file of an earlier version, imported once into the state store (`[store]`) when the store
    /// holds no paper books yet; it is no longer written.
    pub state_file: Option<PathBuf>,
    /// The paper books stay in the state store this many days after their last change.
    pub state_ttl_days: u32,
    /// Starting balance of each new account, in the account currency.
    pub initial_balance: Decimal,
    /// How often working orders are checked against the market, in milliseconds.
    pub tick_interval_ms: u64,
    /// Instruments; empty means the built-in default set.
    pub instruments: Vec<InstrumentConfig>,
    /// Where history begins: days before today (default three years) or a date `YYYY-MM-DD`. Bars starting
    /// before it do not exist; the live stream is not affected.
    pub data_start: DataStart,
    /// Most `/history` computations running at once (each on a blocking thread); more requests wait their turn.
    pub history_concurrency: usize,
}

impl Default for PaperConfig {
    fn default() -> Self {
        PaperConfig {
            seed: 20_240_101,
            state_file: None,
            state_ttl_days: 365,
            initial_balance: Decimal::from(100_000),
            tick_interval_ms: 1000,
            instruments: Vec::new(),
            data_start: DataStart::default(),
            history_concurrency: 2,
        }
    }
}

impl PaperConfig {
    /// The configured instruments, or the default set.
    pub fn effective_instruments(&self) -> Vec<InstrumentConfig> {
        if self.instruments.is_empty() {
            default_instruments()
        } else {
            self.instruments.clone()
        }
    }

    /// Problems that types cannot express, each naming the key.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.initial_balance <= Decimal::ZERO {
            out.push(format!(
                "backend.initial_balance must be positive, got {}",
                self.initial_balance
            ));
        }
        if !(50..=60_000).contains(&self.tick_interval_ms) {
            out.push(format!(
                "backend.tick_interval_ms must be 50..=60000, got {}",
                self.tick_interval_ms
            ));
        }
        out.extend(self.data_start.problems(SystemClock.now_ms().div_euclid(1000)));
        if !(1..=3650).contains(&self.state_ttl_days) {
            out.push(format!(
                "backend.state_ttl_days must be 1..=3650, got {}",
                self.state_ttl_days
            ));
        }
        if !(1..=64).contains(&self.history_concurrency) {
            out.push(format!(
                "backend.history_concurrency must be 1..=64, got {}",
                self.history_concurrency
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, ins) in self.instruments.iter().enumerate() {
            let at = format!("backend.instruments[{i}] ({})", ins.symbol);
            if !seen.insert(ins.symbol.as_str()) {
                out.push(format!("{at}: symbol listed twice"));
            }
            if ins.symbol.is_empty()
                || !ins
                    .symbol
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            {
                out.push(format!("{at}: symbol must be letters, digits, '.', '_' or '-'"));
            }
            for (name, v) in [
                ("tick_size", ins.tick_size),
                ("pip_size", ins.pip_size),
                ("qty_step", ins.qty_step),
                ("min_qty", ins.min_qty),
                ("base_price", ins.base_price),
                ("max_leverage", ins.max_leverage),
            ] {
                if v <= Decimal::ZERO {
                    out.push(format!("{at}: {name} must be positive, got {v}"));
                }
            }
            if ins.max_qty < ins.min_qty {
                out.push(format!(
                    "{at}: max_qty {} is below min_qty {}",
                    ins.max_qty, ins.min_qty
                ));
            }
            if !ins.tick_size.is_zero() && !(ins.pip_size % ins.tick_size).is_zero() {
                out.push(format!("{at}: pip_size must be a multiple of tick_size"));
            }
            if !(ins.daily_volatility > 0.0 && ins.daily_volatility < 0.5) {
                out.push(format!(
                    "{at}: daily_volatility must be in (0, 0.5), got {}",
                    ins.daily_volatility
                ));
            }
            if ins.spread_ticks == 0 {
                out.push(format!("{at}: spread_ticks must be at least 1"));
            }
            if ins.currency.len() != 3 {
                out.push(format!(
                    "{at}: currency must be a 3-letter code, got {:?}",
                    ins.currency
                ));
            }
        }
        out
    }
}

/// One paper instrument.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentConfig {
    /// Broker symbol, as TradingView sends it back in orders.
    pub symbol: String,
    pub description: String,
    #[serde(rename = "type")]
    pub kind: SymbolType,
    /// `cfd`, `crypto`... (TradingView typespecs).
    #[serde(default)]
    pub typespecs: Option<String>,
    /// TradingView symbol for `/mapping`, e.g. `FX:EURUSD`.
    pub tradingview_symbol: String,
    /// Base currency of a currency pair or crypto pair.
    #[serde(default)]
    pub base_currency: Option<String>,
    /// Quote currency: the currency prices and P/L are in.
    pub currency: String,
    pub tick_size: Decimal,
    pub pip_size: Decimal,
    pub qty_step: Decimal,
    pub min_qty: Decimal,
    pub max_qty: Decimal,
    /// Level the price wanders around.
    pub base_price: Decimal,
    pub daily_volatility: f64,
    pub spread_ticks: u32,
    /// Largest (and default) leverage; margin = notional / leverage.
    pub max_leverage: Decimal,
    /// Commission as a fraction of notional (0.001 = 0.1%).
    #[serde(default)]
    pub commission_rate: Decimal,
    /// Commission per unit of quantity, in the quote currency.
    #[serde(default)]
    pub commission_per_unit: Decimal,
    /// Smallest commission per fill, in the quote currency.
    #[serde(default)]
    pub commission_min: Decimal,
}

#[allow(clippy::too_many_arguments)]
fn instrument(
    symbol: &str,
    description: &str,
    kind: SymbolType,
    tv: &str,
    base: Option<&str>,
    currency: &str,
    tick: Decimal,
    pip: Decimal,
    (qty_step, min_qty, max_qty): (Decimal, Decimal, Decimal),
    base_price: Decimal,
    daily_volatility: f64,
    spread_ticks: u32,
    max_leverage: i64,
) -> InstrumentConfig {
    InstrumentConfig {
        symbol: symbol.into(),
        description: description.into(),
        kind,
        typespecs: None,
        tradingview_symbol: tv.into(),
        base_currency: base.map(String::from),
        currency: currency.into(),
        tick_size: tick,
        pip_size: pip,
        qty_step,
        min_qty,
        max_qty,
        base_price,
        daily_volatility,
        spread_ticks,
        max_leverage: Decimal::from(max_leverage),
        commission_rate: Decimal::ZERO,
        commission_per_unit: Decimal::ZERO,
        commission_min: Decimal::ZERO,
    }
}

fn d(text: &str) -> Decimal {
    text.parse().expect("built-in decimal literal")
}

/// The built-in instruments: FX majors, index CFDs, crypto and US stocks.
pub fn default_instruments() -> Vec<InstrumentConfig> {
    use SymbolType::*;
    let fx_qty = (d("1000"), d("1000"), d("10000000"));
    let fx = |s: &str, desc: &str, base: &str, quote: &str, price: &str, jpy: bool| {
        let (tick, pip) = if jpy {
            (d("0.001"), d("0.01"))
        } else {
            (d("0.00001"), d("0.0001"))
        };
        instrument(
            s,
            desc,
            Forex,
            &format!("FX:{s}"),
            Some(base),
            quote,
            tick,
            pip,
            fx_qty,
            d(price),
            0.006,
            8,
            30,
        )
    };
    let index = |s: &str, desc: &str, tv: &str, ccy: &str, price: &str, tick: &str| {
        let mut i = instrument(
            s,
            desc,
            Index,
            tv,
            None,
            ccy,
            d(tick),
            d(tick),
            (d("0.1"), d("0.1"), d("1000")),
            d(price),
            0.01,
            5,
            20,
        );
        i.typespecs = Some("cfd".into());
        i
    };
    let crypto = |s: &str, desc: &str, base: &str, price: &str, tick: &str, step: &str, max: &str| {
        let mut i = instrument(
            s,
            desc,
            Crypto,
            &format!("BITSTAMP:{s}"),
            Some(base),
            "USD",
            d(tick),
            d(tick),
            (d(step), d(step), d(max)),
            d(price),
            0.03,
            10,
            2,
        );
        i.typespecs = Some("crypto".into());
        i.commission_rate = d("0.001");
        i
    };
    let stock = |s: &str, desc: &str, exchange: &str, price: &str| {
        let mut i = instrument(
            s,
            desc,
            Stock,
            &format!("{exchange}:{s}"),
            None,
            "USD",
            d("0.01"),
            d("0.01"),
            (d("1"), d("1"), d("100000")),
            d(price),
            0.015,
            2,
            5,
        );
        i.commission_per_unit = d("0.005");
        i.commission_min = d("1");
        i
    };
    vec![
        fx("EURUSD", "Euro / US Dollar", "EUR", "USD", "1.0850", false),
        fx(
            "GBPUSD",
            "British Pound / US Dollar",
            "GBP",
            "USD",
            "1.2650",
            false,
        ),
        fx("USDJPY", "US Dollar / Japanese Yen", "USD", "JPY", "150.00", true),
        fx("USDCHF", "US Dollar / Swiss Franc", "USD", "CHF", "0.8800", false),
        fx(
            "AUDUSD",
            "Australian Dollar / US Dollar",
            "AUD",
            "USD",
            "0.6550",
            false,
        ),
        fx(
            "USDCAD",
            "US Dollar / Canadian Dollar",
            "USD",
            "CAD",
            "1.3600",
            false,
        ),
        index(
            "US500",
            "US 500 index CFD",
            "CAPITALCOM:US500",
            "USD",
            "5000",
            "0.1",
        ),
        index(
            "DE40",
            "Germany 40 index CFD",
            "CAPITALCOM:DE40",
            "EUR",
            "18000",
            "0.1",
        ),
        index(
            "UK100",
            "UK 100 index CFD",
            "CAPITALCOM:UK100",
            "GBP",
            "7700",
            "0.1",
        ),
        index(
            "JP225",
            "Japan 225 index CFD",
            "CAPITALCOM:J225",
            "JPY",
            "38000",
            "1",
        ),
        crypto(
            "BTCUSD",
            "Bitcoin / US Dollar",
            "BTC",
            "60000",
            "0.1",
            "0.001",
            "100",
        ),
        crypto(
            "ETHUSD",
            "Ethereum / US Dollar",
            "ETH",
            "3000",
            "0.01",
            "0.01",
            "1000",
        ),
        stock("AAPL", "Apple Inc.", "NASDAQ", "190"),
        stock("MSFT", "Microsoft Corporation", "NASDAQ", "420"),
        stock("TSLA", "Tesla, Inc.", "NASDAQ", "200"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_set_is_valid() {
        let config = PaperConfig {
            instruments: default_instruments(),
            ..Default::default()
        };
        assert_eq!(config.problems(), Vec::<String>::new());
        assert!(config.effective_instruments().len() >= 12);
    }

    #[test]
    fn bad_instruments_are_named() {
        let mut bad = default_instruments().remove(0);
        bad.tick_size = Decimal::ZERO;
        bad.max_qty = Decimal::ONE;
        let config = PaperConfig {
            instruments: vec![bad.clone(), bad],
            ..Default::default()
        };
        let problems = config.problems().join("\n");
        assert!(
            problems.contains("backend.instruments[0] (EURUSD): tick_size must be positive"),
            "{problems}"
        );
        assert!(problems.contains("max_qty 1 is below min_qty 1000"), "{problems}");
        assert!(problems.contains("symbol listed twice"), "{problems}");
    }

    #[test]
    fn the_books_time_to_live_is_bounded() {
        assert_eq!(PaperConfig::default().state_ttl_days, 365);
        for days in [0, 3651] {
            let config = PaperConfig {
                state_ttl_days: days,
                ..Default::default()
            };
            assert_eq!(
                config.problems(),
                vec![format!("backend.state_ttl_days must be 1..=3650, got {days}")]
            );
        }
    }
}

#[cfg(test)]
mod toml_tests {
    use super::*;

    /// TOML has no decimal type: tick sizes arrive as floats and must land exactly on the decimal the
    /// user wrote, or every price check against the tick grid would be off.
    #[test]
    fn toml_floats_become_the_exact_decimals_written() {
        let text = r#"
symbol = "X"
description = "x"
type = "forex"
tradingview_symbol = "FX:X"
currency = "USD"
tick_size = 0.00001
pip_size = 0.0001
qty_step = 0.001
min_qty = 0.001
max_qty = 1e7
base_price = 1.0850
daily_volatility = 0.006
spread_ticks = 8
max_leverage = 30
commission_rate = 0.001
"#;
        let ins: InstrumentConfig = toml::from_str(text).unwrap();
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(ins.tick_size, d("0.00001"));
        assert_eq!(ins.pip_size, d("0.0001"));
        assert_eq!(ins.qty_step, d("0.001"));
        assert_eq!(ins.max_qty, d("10000000"));
        assert_eq!(ins.base_price, d("1.085"));
        assert_eq!(ins.commission_rate, d("0.001"));
    }
}
