//! Pure mapping between v1 wire types and the venue's and TradingView's types: no I/O, no clock (times
//! come in as arguments), no async. Every upstream enum is matched explicitly; an `Unknown` value maps to
//! a documented, safe choice and never panics.

pub mod account;
pub mod history;
pub mod market;
pub mod orders;
pub mod positions;
pub mod requests;

pub use account::*;
pub use history::*;
pub use market::*;
pub use orders::*;
pub use positions::*;
pub use requests::*;

use super::model::WireSide;
use crate::tv::Side;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// Which bracket of an order or trade a bracket order id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leg {
    /// `<id>.sl`
    StopLoss,
    /// `<id>.tp`
    TakeProfit,
    /// `<id>.ts`
    TrailingStop,
}

impl Leg {
    /// The id suffix.
    pub fn suffix(self) -> &'static str {
        match self {
            Leg::StopLoss => ".sl",
            Leg::TakeProfit => ".tp",
            Leg::TrailingStop => ".ts",
        }
    }

    /// The v1 form field that sets this bracket.
    pub fn field(self) -> &'static str {
        match self {
            Leg::StopLoss => "stopLoss",
            Leg::TakeProfit => "takeProfit",
            Leg::TrailingStop => "trailingStop",
        }
    }

    /// The words for this bracket in messages.
    pub fn words(self) -> &'static str {
        match self {
            Leg::StopLoss => "stop loss",
            Leg::TakeProfit => "take profit",
            Leg::TrailingStop => "trailing stop",
        }
    }

    /// The id of this bracket of order or trade `parent`.
    pub fn id_of(self, parent: u64) -> String {
        format!("{parent}{}", self.suffix())
    }
}

/// What an order id TradingView sends names: an order or trade by its v1 id, or one bracket of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Entry(u64),
    Bracket(u64, Leg),
}

/// Reads an order id (`175427639`, `175427639.sl`); `None` when it cannot be a v1 id.
pub fn target(order_id: &str) -> Option<Target> {
    let id = order_id.trim();
    for leg in [Leg::StopLoss, Leg::TakeProfit, Leg::TrailingStop] {
        if let Some(parent) = id.strip_suffix(leg.suffix()) {
            return parent.parse().ok().map(|p| Target::Bracket(p, leg));
        }
    }
    id.parse().ok().map(Target::Entry)
}

/// The TradingView side of a wire side; `None` for a value this bridge does not know.
pub fn side(s: WireSide) -> Option<Side> {
    match s {
        WireSide::Buy => Some(Side::Buy),
        WireSide::Sell => Some(Side::Sell),
        WireSide::Unknown => None,
    }
}

/// A bracket or bound field: v1 writes `0` for "not set".
pub fn set(v: Option<Decimal>) -> Option<Decimal> {
    v.filter(|d| !d.is_zero())
}

/// Unix seconds of an optional time.
pub fn unix(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(|t| t.timestamp())
}

/// A decimal as a form value: no trailing zeros, never an exponent.
pub fn form_decimal(d: Decimal) -> String {
    d.normalize().to_string()
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests_account;
#[cfg(test)]
mod tests_history;
#[cfg(test)]
mod tests_market;
#[cfg(test)]
mod tests_orders;
#[cfg(test)]
mod tests_positions;
#[cfg(test)]
mod tests_requests;
