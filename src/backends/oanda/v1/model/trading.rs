//! Trading: pending orders, trades (the v1 name of an open fill), net positions, and the answers of the
//! writes that create, change and close them.

use super::super::num;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

/// `side` of an order, trade or position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireSide {
    Buy,
    Sell,
    #[serde(other)]
    Unknown,
}

/// `type` of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum WireOrderType {
    #[serde(rename = "market")]
    Market,
    #[serde(rename = "limit")]
    Limit,
    #[serde(rename = "stop")]
    Stop,
    #[serde(rename = "marketIfTouched")]
    MarketIfTouched,
    #[serde(other)]
    Unknown,
}

/// `GET /v1/accounts/{id}/orders`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Orders {
    #[serde(default)]
    pub orders: Vec<Order>,
}

/// A pending order (also the answer of `GET`/`PATCH /orders/{id}`). Bracket and bound fields are `0`
/// when not set; `trailingStop` is a distance in pips.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    #[serde(deserialize_with = "num::id")]
    pub id: u64,
    pub instrument: String,
    #[serde(deserialize_with = "num::decimal")]
    pub units: Decimal,
    pub side: WireSide,
    #[serde(rename = "type")]
    pub kind: WireOrderType,
    #[serde(default, deserialize_with = "num::opt_time")]
    pub time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub price: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub take_profit: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub stop_loss: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_time")]
    pub expiry: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub upper_bound: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub lower_bound: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub trailing_stop: Option<Decimal>,
}

/// `GET /v1/accounts/{id}/trades`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Trades {
    #[serde(default)]
    pub trades: Vec<Trade>,
}

/// An open trade (also the answer of `GET`/`PATCH /trades/{id}`). `trailingStop` is the distance in
/// pips; `trailingAmount` the price the trailing stop stands at now (`0` when none).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trade {
    #[serde(deserialize_with = "num::id")]
    pub id: u64,
    #[serde(deserialize_with = "num::decimal")]
    pub units: Decimal,
    pub side: WireSide,
    pub instrument: String,
    #[serde(default, deserialize_with = "num::opt_time")]
    pub time: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "num::decimal")]
    pub price: Decimal,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub take_profit: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub stop_loss: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub trailing_stop: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub trailing_amount: Option<Decimal>,
}

/// `GET /v1/accounts/{id}/positions`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Positions {
    #[serde(default)]
    pub positions: Vec<Position>,
}

/// The net position of one instrument (v1 accounts net: one side per instrument).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Position {
    pub instrument: String,
    #[serde(deserialize_with = "num::decimal")]
    pub units: Decimal,
    pub side: WireSide,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub avg_price: Option<Decimal>,
}

/// The answer of `POST /v1/accounts/{id}/orders`: a market order reports the trade it opened and the
/// trades it closed or reduced; a pending order reports `orderOpened`. Empty objects (`"tradeReduced":{}`)
/// read as entries without an id.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderAnswer {
    #[serde(default)]
    pub instrument: Option<String>,
    #[serde(default, deserialize_with = "num::opt_time")]
    pub time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub price: Option<Decimal>,
    #[serde(default)]
    pub trade_opened: Option<TradeChange>,
    #[serde(default)]
    pub trades_closed: Vec<TradeChange>,
    #[serde(default)]
    pub trade_reduced: Option<TradeChange>,
    #[serde(default)]
    pub order_opened: Option<TradeChange>,
}

/// A trade or order an answer or a transaction mentions (`tradeOpened`, `tradesClosed[]`,
/// `tradeReduced`, `orderOpened`). Every field is optional: OANDA sends `{}` for "none".
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TradeChange {
    #[serde(default, deserialize_with = "num::opt_id")]
    pub id: Option<u64>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub units: Option<Decimal>,
    #[serde(default)]
    pub side: Option<WireSide>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub pl: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub interest: Option<Decimal>,
}

impl TradeChange {
    /// The id, when this is a real entry (not `{}`).
    pub fn real_id(change: &Option<TradeChange>) -> Option<u64> {
        change.as_ref().and_then(|c| c.id).filter(|&id| id > 0)
    }
}

/// The answer of `DELETE /orders/{id}`, `DELETE /trades/{id}` and `DELETE /positions/{instrument}`; the
/// bridge only needs to know the write succeeded, so nothing in it is required.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Closed {
    #[serde(default, deserialize_with = "num::opt_id")]
    pub id: Option<u64>,
    #[serde(default)]
    pub ids: Vec<serde_json::Value>,
    #[serde(default)]
    pub instrument: Option<String>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub price: Option<Decimal>,
}
