//! Capital.com wire types: Markets (instruments, dealing rules, snapshots) and historical prices.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------------------
// Markets
// ---------------------------------------------------------------------------------------------------------

/// Market summary: `market` of a position, `marketData` of a working order, an item of `GET /markets`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketSummary {
    pub epic: String,
    #[serde(default)]
    pub instrument_name: Option<String>,
    #[serde(default)]
    pub instrument_type: Option<InstrumentType>,
    #[serde(default)]
    pub expiry: Option<String>,
    #[serde(default)]
    pub market_status: Option<MarketStatus>,
    #[serde(default)]
    pub lot_size: Option<Decimal>,
    #[serde(default)]
    pub high: Option<Decimal>,
    #[serde(default)]
    pub low: Option<Decimal>,
    #[serde(default)]
    pub percentage_change: Option<Decimal>,
    #[serde(default)]
    pub net_change: Option<Decimal>,
    #[serde(default)]
    pub bid: Option<Decimal>,
    #[serde(default)]
    pub offer: Option<Decimal>,
    #[serde(default)]
    pub update_time: Option<String>,
    #[serde(default, rename = "updateTimeUTC")]
    pub update_time_utc: Option<String>,
    #[serde(default)]
    pub delay_time: Option<i64>,
    #[serde(default)]
    pub streaming_prices_available: Option<bool>,
    #[serde(default)]
    pub scaling_factor: Option<Decimal>,
}

/// `GET /markets?searchTerm=` answer (a list of summaries).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MarketsResponse {
    #[serde(default)]
    pub markets: Vec<MarketSummary>,
}

/// `GET /markets?epics=` answer (full details per epic, unlike the search).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketDetailsList {
    #[serde(default)]
    pub market_details: Vec<MarketDetails>,
}

/// Weekly trading sessions of an instrument: `"00:00 - 22:00"` ranges per day, in `zone`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct OpeningHours {
    #[serde(default)]
    pub mon: Vec<String>,
    #[serde(default)]
    pub tue: Vec<String>,
    #[serde(default)]
    pub wed: Vec<String>,
    #[serde(default)]
    pub thu: Vec<String>,
    #[serde(default)]
    pub fri: Vec<String>,
    #[serde(default)]
    pub sat: Vec<String>,
    #[serde(default)]
    pub sun: Vec<String>,
    #[serde(default)]
    pub zone: Option<String>,
}

/// `instrument` block of `GET /markets/{epic}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Instrument {
    pub epic: String,
    #[serde(default)]
    pub expiry: Option<String>,
    pub name: String,
    #[serde(default)]
    pub lot_size: Option<Decimal>,
    #[serde(rename = "type")]
    pub instrument_type: InstrumentType,
    #[serde(default)]
    pub controlled_risk_allowed: Option<bool>,
    #[serde(default)]
    pub streaming_prices_available: Option<bool>,
    pub currency: String,
    #[serde(default)]
    pub margin_factor: Option<Decimal>,
    #[serde(default)]
    pub margin_factor_unit: Option<RuleUnit>,
    #[serde(default)]
    pub opening_hours: Option<OpeningHours>,
    #[serde(default)]
    pub country: Option<String>,
}

/// One dealing rule: a value and its unit.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct DealingRule {
    pub unit: RuleUnit,
    pub value: Decimal,
}

/// `dealingRules` block of `GET /markets/{epic}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DealingRules {
    #[serde(default)]
    pub min_step_distance: Option<DealingRule>,
    #[serde(default)]
    pub min_deal_size: Option<DealingRule>,
    /// Not in the official example; read if present.
    #[serde(default)]
    pub max_deal_size: Option<DealingRule>,
    #[serde(default)]
    pub min_controlled_risk_stop_distance: Option<DealingRule>,
    #[serde(default)]
    pub min_normal_stop_or_limit_distance: Option<DealingRule>,
    #[serde(default)]
    pub max_stop_or_limit_distance: Option<DealingRule>,
    #[serde(default)]
    pub market_order_preference: Option<MarketOrderPreference>,
    #[serde(default)]
    pub trailing_stops_preference: Option<TrailingStopsPreference>,
}

/// `snapshot` block of `GET /markets/{epic}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketSnapshot {
    #[serde(default)]
    pub market_status: Option<MarketStatus>,
    #[serde(default)]
    pub net_change: Option<Decimal>,
    #[serde(default)]
    pub percentage_change: Option<Decimal>,
    #[serde(default)]
    pub update_time: Option<String>,
    #[serde(default)]
    pub delay_time: Option<i64>,
    #[serde(default)]
    pub bid: Option<Decimal>,
    #[serde(default)]
    pub offer: Option<Decimal>,
    #[serde(default)]
    pub high: Option<Decimal>,
    #[serde(default)]
    pub low: Option<Decimal>,
    #[serde(default)]
    pub decimal_places_factor: Option<u32>,
    #[serde(default)]
    pub scaling_factor: Option<Decimal>,
}

/// `GET /markets/{epic}` answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketDetails {
    pub instrument: Instrument,
    #[serde(default)]
    pub dealing_rules: DealingRules,
    pub snapshot: MarketSnapshot,
}

// ---------------------------------------------------------------------------------------------------------
// Prices
// ---------------------------------------------------------------------------------------------------------

/// A bid/ask pair of a candle.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct BidAsk {
    #[serde(default)]
    pub bid: Option<Decimal>,
    #[serde(default)]
    pub ask: Option<Decimal>,
}

/// One candle of `GET /prices/{epic}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceBar {
    #[serde(default)]
    pub snapshot_time: Option<String>,
    #[serde(rename = "snapshotTimeUTC")]
    pub snapshot_time_utc: String,
    pub open_price: BidAsk,
    pub high_price: BidAsk,
    pub low_price: BidAsk,
    pub close_price: BidAsk,
    #[serde(default)]
    pub last_traded_volume: Option<Decimal>,
}

/// `GET /prices/{epic}` answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricesResponse {
    #[serde(default)]
    pub prices: Vec<PriceBar>,
    #[serde(default)]
    pub instrument_type: Option<InstrumentType>,
}
