//! Positions: plain positions, net positions and individual positions, and the requests that change them.

use super::{Brackets, Side};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A position of `/positions` (netting accounts: one per instrument).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Position {
    pub id: String,
    pub instrument: String,
    pub qty: Decimal,
    pub side: Side,
    pub avg_price: Decimal,
    pub unrealized_pl: Decimal,
}

/// A net position of `/netPositions` (hedging accounts: the sum of individual positions per instrument).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetPosition {
    pub id: String,
    pub instrument: String,
    /// Signed net quantity: long minus short.
    pub qty: Decimal,
    pub long_qty: Decimal,
    pub short_qty: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avg_price: Option<Decimal>,
}

/// An individual position of `/individualPositions` (one per opening fill on hedging accounts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndividualPosition {
    pub id: String,
    pub instrument: String,
    /// Opening time, unix milliseconds, as a string (per the spec).
    pub date: String,
    pub qty: Decimal,
    pub side: Side,
    pub price: Decimal,
    pub unrealized_pl: Decimal,
}

/// A validated modify-position request: the full desired set of brackets, and `side` to reverse.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModifyPosition {
    pub brackets: Brackets,
    /// When set to the opposite of the current side, the position is reversed.
    pub side: Option<Side>,
}
