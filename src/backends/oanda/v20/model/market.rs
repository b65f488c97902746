//! v20 wire types of market data (OpenAPI `definitions`: `Instrument`, `ClientPrice`, `HomeConversions`,
//! `Candlestick`...), mapped to the venue types by [`super::super::convert::market`]. Unlike the trading
//! types, every field is optional, so one odd entry is skipped instead of failing a whole answer.

use crate::backends::oanda::model::parse_decimal;
use rust_decimal::Decimal;
use serde::Deserialize;

/// A decimal as v20 sends it: a string (`"1.10000"`, precision kept); a JSON number is tolerated.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Num {
    Text(String),
    Number(serde_json::Number),
}

impl Num {
    /// The decimal it holds, or `None` when its text is not a decimal.
    pub fn decimal(&self) -> Option<Decimal> {
        match self {
            Num::Text(s) => parse_decimal(s.trim()),
            Num::Number(n) => parse_decimal(&n.to_string()),
        }
    }
}

/// The answer of `GET /v3/accounts/{id}/instruments`.
#[derive(Debug, Deserialize)]
pub struct InstrumentsBody {
    #[serde(default)]
    pub instruments: Vec<WireInstrument>,
}

/// v20 `Instrument`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireInstrument {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<WireKind>,
    pub display_name: Option<String>,
    pub pip_location: Option<i64>,
    pub display_precision: Option<i64>,
    pub trade_units_precision: Option<i64>,
    pub minimum_trade_size: Option<Num>,
    pub maximum_order_units: Option<Num>,
    pub margin_rate: Option<Num>,
    pub minimum_trailing_stop_distance: Option<Num>,
    pub maximum_trailing_stop_distance: Option<Num>,
}

/// v20 `InstrumentType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WireKind {
    Currency,
    Cfd,
    Metal,
    #[serde(other)]
    Unknown,
}

/// The answer of `GET /v3/accounts/{id}/pricing`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingBody {
    #[serde(default)]
    pub prices: Vec<ClientPrice>,
    #[serde(default)]
    pub home_conversions: Vec<HomeConversions>,
}

/// v20 `ClientPrice`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientPrice {
    pub instrument: Option<String>,
    pub time: Option<String>,
    /// Deprecated in favour of `tradeable`, still read when `tradeable` is absent.
    pub status: Option<String>,
    pub tradeable: Option<bool>,
    pub bids: Option<Vec<PriceBucket>>,
    pub asks: Option<Vec<PriceBucket>>,
    pub closeout_bid: Option<Num>,
    pub closeout_ask: Option<Num>,
    pub quote_home_conversion_factors: Option<QuoteHomeConversionFactors>,
}

/// v20 `PriceBucket`.
#[derive(Debug, Deserialize)]
pub struct PriceBucket {
    pub price: Option<Num>,
    pub liquidity: Option<Num>,
}

/// v20 `HomeConversions`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HomeConversions {
    pub currency: Option<String>,
    pub account_gain: Option<Num>,
    pub account_loss: Option<Num>,
}

/// v20 `QuoteHomeConversionFactors` (deprecated, still sent on streams).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteHomeConversionFactors {
    pub positive_units: Option<Num>,
    pub negative_units: Option<Num>,
}

/// The answer of `GET /v3/instruments/{instrument}/candles`.
#[derive(Debug, Deserialize)]
pub struct CandlesBody {
    #[serde(default)]
    pub candles: Vec<Candlestick>,
}

/// v20 `Candlestick`.
#[derive(Debug, Deserialize)]
pub struct Candlestick {
    pub time: Option<String>,
    pub mid: Option<CandlestickData>,
    pub bid: Option<CandlestickData>,
    pub ask: Option<CandlestickData>,
    pub volume: Option<Num>,
    pub complete: Option<bool>,
}

/// v20 `CandlestickData`.
#[derive(Debug, Deserialize)]
pub struct CandlestickData {
    pub o: Option<Num>,
    pub h: Option<Num>,
    pub l: Option<Num>,
    pub c: Option<Num>,
}
