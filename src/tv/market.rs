//! Market data types: `/quotes` and `/depth`.

use rust_decimal::Decimal;
use serde::Serialize;

/// One instrument's quote.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    pub ask: Decimal,
    pub bid: Decimal,
    /// Value of one pip for one unit bought, in the account currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buy_pip_value: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sell_pip_value: Option<Decimal>,
}

/// One element of `/quotes`: either a quote or a per-symbol error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuoteEntry {
    pub s: &'static str,
    pub n: String,
    pub v: QuoteValue,
}

/// The `v` of a `/quotes` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum QuoteValue {
    Quote(Quote),
    Error { errmsg: String },
}

impl QuoteEntry {
    /// A successful entry.
    pub fn ok(symbol: impl Into<String>, quote: Quote) -> Self {
        QuoteEntry {
            s: "ok",
            n: symbol.into(),
            v: QuoteValue::Quote(quote),
        }
    }

    /// An entry for a symbol that has no quote, with the reason.
    pub fn error(symbol: impl Into<String>, errmsg: impl Into<String>) -> Self {
        QuoteEntry {
            s: "error",
            n: symbol.into(),
            v: QuoteValue::Error {
                errmsg: errmsg.into(),
            },
        }
    }
}

/// Level 2 book: both sides sorted by price ascending, each level `[price, volume]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Depth {
    pub asks: Vec<[Decimal; 2]>,
    pub bids: Vec<[Decimal; 2]>,
}
