//! TradingView Broker API wire types: the server's domain model, shared by every backend.
//!
//! Backends return these types; the HTTP layer serialises them unchanged inside the `{s,d}` envelope.
//! Field names follow the 1.4.27 spec exactly (camelCase); optional fields are skipped when absent so
//! TradingView never sees a `null` it does not expect.

mod account;
mod datafeed;
mod instrument;
mod market;
mod order;
mod position;
mod state;

pub use account::*;
pub use datafeed::*;
pub use instrument::*;
pub use market::*;
pub use order::*;
pub use position::*;
pub use state::*;

use serde::{Deserialize, Serialize};
use std::fmt;

/// Order or position side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    /// The other side: what closes a position of this side.
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// +1 for buy, -1 for sell: the sign of a signed quantity.
    pub fn sign(self) -> rust_decimal::Decimal {
        match self {
            Side::Buy => rust_decimal::Decimal::ONE,
            Side::Sell => rust_decimal::Decimal::NEGATIVE_ONE,
        }
    }

    /// Parses the wire value, `None` for anything else.
    pub fn parse(s: &str) -> Option<Side> {
        match s {
            "buy" => Some(Side::Buy),
            "sell" => Some(Side::Sell),
            _ => None,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        })
    }
}

/// Order type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderType {
    Market,
    Limit,
    Stop,
    #[serde(rename = "stoplimit")]
    StopLimit,
}

impl OrderType {
    /// Parses the wire value, `None` for anything else.
    pub fn parse(s: &str) -> Option<OrderType> {
        match s {
            "market" => Some(OrderType::Market),
            "limit" => Some(OrderType::Limit),
            "stop" => Some(OrderType::Stop),
            "stoplimit" => Some(OrderType::StopLimit),
            _ => None,
        }
    }

    /// Whether this type carries a limit price.
    pub fn has_limit_price(self) -> bool {
        matches!(self, OrderType::Limit | OrderType::StopLimit)
    }

    /// Whether this type carries a stop price.
    pub fn has_stop_price(self) -> bool {
        matches!(self, OrderType::Stop | OrderType::StopLimit)
    }
}

impl fmt::Display for OrderType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OrderType::Market => "market",
            OrderType::Limit => "limit",
            OrderType::Stop => "stop",
            OrderType::StopLimit => "stoplimit",
        })
    }
}

/// A localized custom-field value shown in an account manager column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomFieldValue {
    pub id: String,
    pub value: String,
}

/// Severity of an informational message attached to an order or position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    Information,
    Warning,
    Error,
}

/// A message shown next to an order or position (for example the reason of a rejection).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InfoMessage {
    pub text: String,
    #[serde(rename = "type")]
    pub kind: MessageType,
}
