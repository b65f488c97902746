//! Trades and positions: `TradeSummary` (inside `Account`), `Position` and `PositionSide`, and the bodies
//! of the trade and position writes.

use super::{dec, opt_dec, ClientExtensions, StopLossDetails, TakeProfitDetails, TrailingStopLossDetails};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize, Serializer};

/// `TradeState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TradeState {
    Open,
    Closed,
    CloseWhenTradeable,
    #[serde(other)]
    Unknown,
}

/// `TradeSummary`: an open trade with the ids of its dependent orders.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TradeSummary {
    pub id: String,
    pub instrument: String,
    /// The execution (open) price.
    #[serde(deserialize_with = "dec")]
    pub price: Decimal,
    pub open_time: String,
    #[serde(default)]
    pub state: Option<TradeState>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub initial_units: Option<Decimal>,
    /// Signed: negative for a short trade.
    #[serde(deserialize_with = "dec")]
    pub current_units: Decimal,
    #[serde(default, rename = "realizedPL", deserialize_with = "opt_dec")]
    pub realized_pl: Option<Decimal>,
    #[serde(default, rename = "unrealizedPL", deserialize_with = "opt_dec")]
    pub unrealized_pl: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub margin_used: Option<Decimal>,
    #[serde(default)]
    pub client_extensions: Option<ClientExtensions>,
    #[serde(default, rename = "takeProfitOrderID")]
    pub take_profit_order_id: Option<String>,
    #[serde(default, rename = "stopLossOrderID")]
    pub stop_loss_order_id: Option<String>,
    #[serde(default, rename = "guaranteedStopLossOrderID")]
    pub guaranteed_stop_loss_order_id: Option<String>,
    #[serde(default, rename = "trailingStopLossOrderID")]
    pub trailing_stop_loss_order_id: Option<String>,
}

/// `PositionSide`: the long or the short half of a position.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PositionSide {
    /// Signed (negative for the short side); zero when the side is flat.
    #[serde(default, deserialize_with = "opt_dec")]
    pub units: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub average_price: Option<Decimal>,
    #[serde(default, rename = "tradeIDs")]
    pub trade_ids: Vec<String>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub pl: Option<Decimal>,
    #[serde(default, rename = "unrealizedPL", deserialize_with = "opt_dec")]
    pub unrealized_pl: Option<Decimal>,
}

impl PositionSide {
    /// The side's signed units (zero when absent).
    pub fn units(&self) -> Decimal {
        self.units.unwrap_or_default()
    }
}

/// `Position`: the account's long and short units of one instrument.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Position {
    pub instrument: String,
    #[serde(default, deserialize_with = "opt_dec")]
    pub pl: Option<Decimal>,
    #[serde(default, rename = "unrealizedPL", deserialize_with = "opt_dec")]
    pub unrealized_pl: Option<Decimal>,
    #[serde(default)]
    pub long: PositionSide,
    #[serde(default)]
    pub short: PositionSide,
}

/// The body of `PUT /trades/{specifier}/close`: `"ALL"` or a positive number of units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CloseTradeBody {
    pub units: String,
}

/// One leg of `PUT /trades/{specifier}/orders`: left out (unchanged), `null` (cancel) or a new value.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Dependent<T> {
    /// Not sent: the existing order (if any) stays as it is.
    #[default]
    Keep,
    /// Sent as `null`: the existing order is cancelled.
    Cancel,
    /// Sent: the order is created, or replaced.
    Set(T),
}

impl<T> Dependent<T> {
    /// Whether the leg is left out of the body.
    pub fn is_keep(&self) -> bool {
        matches!(self, Dependent::Keep)
    }
}

impl<T: Serialize> Serialize for Dependent<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Dependent::Set(v) => v.serialize(s),
            Dependent::Cancel | Dependent::Keep => s.serialize_none(),
        }
    }
}

/// The body of `PUT /trades/{specifier}/orders` (set dependent orders).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DependentOrdersBody {
    #[serde(skip_serializing_if = "Dependent::is_keep")]
    pub take_profit: Dependent<TakeProfitDetails>,
    #[serde(skip_serializing_if = "Dependent::is_keep")]
    pub stop_loss: Dependent<StopLossDetails>,
    #[serde(skip_serializing_if = "Dependent::is_keep")]
    pub trailing_stop_loss: Dependent<TrailingStopLossDetails>,
}

impl DependentOrdersBody {
    /// Whether the body changes nothing.
    pub fn is_empty(&self) -> bool {
        self.take_profit.is_keep() && self.stop_loss.is_keep() && self.trailing_stop_loss.is_keep()
    }
}

/// The body of `PUT /positions/{instrument}/close`: `"ALL"` for each side to close, nothing for the
/// others (OANDA rejects `"ALL"` for a side that has no units).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClosePositionBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long_units: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short_units: Option<String>,
}
