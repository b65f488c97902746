//! Pure mapping between Capital.com wire types and TradingView types: no I/O, no clock, no async.
//!
//! Every upstream enum is matched explicitly; each `Unknown` variant maps to a documented, safe choice and
//! never panics. The functions live in one submodule per area and are re-exported here, so callers may write
//! either `convert::placement` or `convert::orders::placement`.

pub mod account;
pub mod bars;
pub mod history;
pub mod history_orders;
pub mod markets;
pub mod order_views;
pub mod orders;
pub mod positions;
mod session;

pub use account::*;
pub use bars::*;
pub use history::*;
pub use history_orders::*;
pub use markets::*;
pub use order_views::*;
pub use orders::*;
pub use positions::*;

use super::model;
use rust_decimal::Decimal;

/// Unix seconds of an upstream UTC timestamp (`2022-04-05T09:46:01.872`); `None` when it does not parse.
pub(crate) fn unix_secs(s: &str) -> Option<i64> {
    model::parse_time(s).map(|t| t.and_utc().timestamp())
}

/// Unix milliseconds of an upstream UTC timestamp.
pub(crate) fn unix_ms(s: &str) -> Option<i64> {
    model::parse_time(s).map(|t| t.and_utc().timestamp_millis())
}

/// `10^-places` (`places` is capped at 28, the most a `Decimal` can hold, so bad input cannot panic).
pub(crate) fn tenth_power(places: u32) -> Decimal {
    Decimal::new(1, places.min(28))
}

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests_account;
#[cfg(test)]
mod tests_bars;
#[cfg(test)]
mod tests_history;
#[cfg(test)]
mod tests_markets;
#[cfg(test)]
mod tests_order_views;
#[cfg(test)]
mod tests_orders;
#[cfg(test)]
mod tests_positions;
