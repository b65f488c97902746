//! Market data: `GET /v1/instruments`, `GET /v1/prices`, `GET /v1/candles`, and the lines of the price and
//! event streams.

use super::super::num;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

/// `GET /v1/instruments?accountId=..&fields=..`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Instruments {
    #[serde(default)]
    pub instruments: Vec<Instrument>,
}

/// One instrument, with the fields the bridge asks for. `pip` and `precision` come as strings in the
/// documented example (`"0.0001"`); both forms are read.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Instrument {
    pub instrument: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub pip: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub max_trade_units: Option<Decimal>,
    /// The smallest price step (`"0.00001"`).
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub precision: Option<Decimal>,
    /// Trailing stop bounds, in pips.
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub max_trailing_stop: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub min_trailing_stop: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub margin_rate: Option<Decimal>,
    #[serde(default)]
    pub halted: Option<bool>,
}

/// `GET /v1/prices?instruments=..`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Prices {
    #[serde(default)]
    pub prices: Vec<Quote>,
}

/// One price (also the `tick` of the price stream). `status` is present (`"halted"`) only when trading is
/// halted.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Quote {
    pub instrument: String,
    #[serde(default, deserialize_with = "num::opt_time")]
    pub time: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "num::decimal")]
    pub bid: Decimal,
    #[serde(deserialize_with = "num::decimal")]
    pub ask: Decimal,
    #[serde(default)]
    pub status: Option<String>,
}

impl Quote {
    /// Whether OANDA says trading is halted.
    pub fn halted(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("halted"))
    }
}

/// `GET /v1/candles`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Candles {
    #[serde(default)]
    pub instrument: Option<String>,
    #[serde(default)]
    pub granularity: Option<String>,
    #[serde(default)]
    pub candles: Vec<Candle>,
}

/// One candle, midpoint (`openMid`...) or bid/ask (`openBid`, `openAsk`...) depending on `candleFormat`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candle {
    #[serde(default, deserialize_with = "num::opt_time")]
    pub time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub open_mid: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub high_mid: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub low_mid: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub close_mid: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub open_bid: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub high_bid: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub low_bid: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub close_bid: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub open_ask: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub high_ask: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub low_ask: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub close_ask: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub volume: Option<Decimal>,
    /// `false` while the candle may still change ("dancing bear").
    #[serde(default)]
    pub complete: Option<bool>,
}

/// One line of the price stream: `{"tick":{..}}` or `{"heartbeat":{"time":..}}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PriceLine {
    #[serde(default)]
    pub tick: Option<Quote>,
    #[serde(default)]
    pub heartbeat: Option<serde_json::Value>,
}

/// One line of the event stream: `{"transaction":{..}}` or `{"heartbeat":{..}}`. Only the account id of
/// a transaction is read here; the transactions themselves are read from `/transactions`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct EventLine {
    #[serde(default)]
    pub transaction: Option<EventHead>,
    #[serde(default)]
    pub heartbeat: Option<serde_json::Value>,
}

/// The account a streamed transaction belongs to.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventHead {
    #[serde(default, deserialize_with = "num::opt_id")]
    pub account_id: Option<u64>,
}
