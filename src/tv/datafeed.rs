//! Market data shared by the trading streams and the data feed: live ticks, OHLCV bars, resolutions and
//! the per-symbol description behind `/symbol_info`.

use rust_decimal::Decimal;
use std::fmt;

/// One OHLCV bar starting at `t` (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    pub t: i64,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: Decimal,
}

impl Bar {
    /// This bar extended by `later`, which follows it: the open and start of this one, the close of the
    /// later one, the extremes of both, the volumes added.
    pub fn then(self, later: Bar) -> Bar {
        Bar {
            t: self.t,
            open: self.open,
            high: self.high.max(later.high),
            low: self.low.min(later.low),
            close: later.close,
            volume: self.volume + later.volume,
        }
    }

    /// A one-trade bar: a tick's last price and size at second `t`.
    pub fn trade(t: i64, price: Decimal, size: Decimal) -> Bar {
        Bar {
            t,
            open: price,
            high: price,
            low: price,
            close: price,
            volume: size,
        }
    }
}

/// A `/history` request as the HTTP layer checked it (the symbol resolved to the broker's name, `from <= to`).
///
/// A backend answers with the bars that exist: a range reaching before its data start (TradingView asks for
/// daily bars back to the year 1800) is clipped to it, never refused, and a range wholly before it is an empty
/// answer. What one request may cost (bars computed, upstream pages fetched) is bounded by the backend; a range
/// longer than that bound keeps its newest bars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    /// The broker's symbol.
    pub symbol: String,
    pub resolution: Resolution,
    /// Earliest bar start wanted, inclusive (ignored when `countback` is set).
    pub from: i64,
    /// Latest bar start wanted, inclusive; may lie in the future (the last bar may then still be open).
    pub to: i64,
    /// When set, the newest `countback` bars starting at or before `to`, however far before `from` they lie
    /// (TradingView: `countback` has priority over `from`).
    pub countback: Option<usize>,
}

/// The most bars one `/history` answer holds: a longer range keeps its newest bars (TradingView asks again, with
/// an earlier `to`, when it scrolls back).
pub const MAX_HISTORY_BARS: usize = 50_000;

/// The market of one symbol at second `t`, with the current day's bar so far.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketTick {
    pub symbol: String,
    /// Unix seconds.
    pub t: i64,
    pub bid: Decimal,
    pub ask: Decimal,
    pub bid_size: Decimal,
    pub ask_size: Decimal,
    /// Last trade price and size during this second.
    pub last: Decimal,
    pub last_size: Decimal,
    /// The daily bar (00:00 UTC) up to and including this tick.
    pub day: Bar,
}

/// A `/history` resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resolution {
    Minutes(u32),
    Days(u32),
    Weeks(u32),
    Months(u32),
}

impl Resolution {
    /// Parses TradingView's notation: `1`, `5`, `60`, `240` (minutes), `D`/`1D`/`2D`, `W`/`1W`, `M`/`1M`.
    pub fn parse(text: &str) -> Option<Resolution> {
        let t = text.trim();
        let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
            Some((i, _)) => (&t[..i], &t[i..]),
            None => (t, ""),
        };
        let n: u32 = if digits.is_empty() {
            1
        } else {
            digits.parse().ok()?
        };
        if n == 0 {
            return None;
        }
        match unit {
            "" if !digits.is_empty() && n <= 1440 => Some(Resolution::Minutes(n)),
            "D" | "d" if n <= 365 => Some(Resolution::Days(n)),
            "W" | "w" if n <= 52 => Some(Resolution::Weeks(n)),
            "M" if n <= 12 => Some(Resolution::Months(n)),
            _ => None,
        }
    }

    /// Length in seconds of an intraday or daily/weekly bar; `None` for months (their length varies).
    pub fn fixed_secs(self) -> Option<i64> {
        match self {
            Resolution::Minutes(n) => Some(i64::from(n) * 60),
            Resolution::Days(n) => Some(i64::from(n) * 86_400),
            Resolution::Weeks(n) => Some(i64::from(n) * 7 * 86_400),
            Resolution::Months(_) => None,
        }
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resolution::Minutes(n) => write!(f, "{n}"),
            Resolution::Days(n) => write!(f, "{n}D"),
            Resolution::Weeks(n) => write!(f, "{n}W"),
            Resolution::Months(n) => write!(f, "{n}M"),
        }
    }
}

/// One symbol of the data feed: a row of `/symbol_info`'s parallel arrays.
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolInfo {
    /// The name TradingView shows and requests (upper-case letters, digits, `.`, `_`, `-`).
    pub symbol: String,
    /// Set when the broker's own name has characters TradingView's symbol rules forbid.
    pub ticker: Option<String>,
    pub description: String,
    /// Quote currency.
    pub currency: String,
    pub base_currency: Option<String>,
    /// Upper-case exchange name.
    pub exchange: String,
    /// Smallest price increment as a multiple of `1 / pricescale`.
    pub minmovement: u64,
    /// TradingView's `minmovement2`: for FX quoted finer than a pip, ticks per pip (10 for 5-digit pairs),
    /// so that prices show the pip fraction; 0 otherwise.
    pub minmovement2: u64,
    /// A power of ten.
    pub pricescale: u64,
    pub timezone: String,
    /// Trading session in exchange time, e.g. `24x7` or `0930-1600`.
    pub session: String,
    pub kind: super::SymbolType,
    pub typespecs: Option<String>,
    /// The `/groups` group the symbol belongs to.
    pub group: String,
    pub has_no_volume: bool,
}

impl SymbolInfo {
    /// `minmovement2` of an FX symbol whose price step is `tick` and pip `pip`: the ticks in a pip when a
    /// pip is a whole number (more than one) of ticks, else 0.
    pub fn pip_fraction(tick: Decimal, pip: Decimal) -> u64 {
        if tick <= Decimal::ZERO || pip <= tick {
            return 0;
        }
        let ratio = pip / tick;
        if ratio.fract().is_zero() {
            rust_decimal::prelude::ToPrimitive::to_u64(&ratio).unwrap_or(0)
        } else {
            0
        }
    }

    /// `minmovement` and `pricescale` for a tick size: the tick as an integer count of 1/10^decimals.
    pub fn price_format(tick: Decimal) -> (u64, u64) {
        let tick = tick.normalize();
        let scale = tick.scale();
        let pricescale = 10u64.saturating_pow(scale);
        let minmovement = (tick * Decimal::from(pricescale))
            .trunc()
            .mantissa()
            .unsigned_abs() as u64;
        (minmovement.max(1), pricescale)
    }

    /// `symbol` and `ticker` for a broker's symbol: TradingView's symbol names are upper-case letters, digits
    /// and the `punctuation` the backend allows, so a symbol with anything else (or lower case) is shown
    /// under a cleaned name (each other character becomes `_`) and keeps its own as the `ticker`
    /// TradingView sends back; a clean symbol has no ticker.
    pub fn name_and_ticker(symbol: &str, punctuation: &[char]) -> (String, Option<String>) {
        let clean: String = symbol
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || punctuation.contains(&c) {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        if clean == symbol {
            (clean, None)
        } else {
            (clean, Some(symbol.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions_parse_as_tradingview_writes_them() {
        assert_eq!(Resolution::parse("1"), Some(Resolution::Minutes(1)));
        assert_eq!(Resolution::parse("240"), Some(Resolution::Minutes(240)));
        assert_eq!(Resolution::parse("D"), Some(Resolution::Days(1)));
        assert_eq!(Resolution::parse("1D"), Some(Resolution::Days(1)));
        assert_eq!(Resolution::parse("2D"), Some(Resolution::Days(2)));
        assert_eq!(Resolution::parse("W"), Some(Resolution::Weeks(1)));
        assert_eq!(Resolution::parse("1M"), Some(Resolution::Months(1)));
        for bad in ["", "0", "0D", "X", "1H", "-1", "99999", "1.5"] {
            assert_eq!(Resolution::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_bar_then_a_later_one_keeps_the_open_and_takes_the_close() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let a = Bar {
            t: 60,
            open: d("10"),
            high: d("12"),
            low: d("9"),
            close: d("11"),
            volume: d("5"),
        };
        let b = Bar {
            t: 120,
            open: d("11"),
            high: d("13"),
            low: d("10"),
            close: d("12.5"),
            volume: d("2"),
        };
        let ab = a.then(b);
        assert_eq!(
            ab,
            Bar {
                t: 60,
                open: d("10"),
                high: d("13"),
                low: d("9"),
                close: d("12.5"),
                volume: d("7")
            }
        );
        let spike = ab.then(Bar::trade(121, d("8"), d("1")));
        assert_eq!(
            (spike.low, spike.close, spike.volume, spike.t),
            (d("8"), d("8"), d("8"), 60)
        );
    }

    #[test]
    fn fx_pip_fractions() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(SymbolInfo::pip_fraction(d("0.00001"), d("0.0001")), 10);
        assert_eq!(SymbolInfo::pip_fraction(d("0.001"), d("0.01")), 10);
        assert_eq!(SymbolInfo::pip_fraction(d("0.0001"), d("0.0001")), 0);
        assert_eq!(SymbolInfo::pip_fraction(d("0.00003"), d("0.0001")), 0);
        assert_eq!(SymbolInfo::pip_fraction(d("0"), d("0.0001")), 0);
    }

    #[test]
    fn odd_symbols_get_a_cleaned_name_and_keep_theirs_as_ticker() {
        let name = |s: &str, p: &[char]| SymbolInfo::name_and_ticker(s, p);
        assert_eq!(name("EURUSD", &['.']), ("EURUSD".into(), None));
        assert_eq!(name("BRK-B", &['.', '_']), ("BRK_B".into(), Some("BRK-B".into())));
        assert_eq!(name("BRK-B", &['-']), ("BRK-B".into(), None));
        assert_eq!(
            name("eth.usd", &['.']),
            ("ETH.USD".into(), Some("eth.usd".into()))
        );
        assert_eq!(name("A/B é", &[]), ("A_B__".into(), Some("A/B é".into())));
        assert_eq!(name("", &[]), (String::new(), None));
    }

    #[test]
    fn price_format_follows_the_tick() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(SymbolInfo::price_format(d("0.00001")), (1, 100_000));
        assert_eq!(SymbolInfo::price_format(d("0.25")), (25, 100));
        assert_eq!(SymbolInfo::price_format(d("0.1")), (1, 10));
        assert_eq!(SymbolInfo::price_format(d("1")), (1, 1));
        assert_eq!(SymbolInfo::price_format(d("0.0050")), (5, 1000));
    }
}
