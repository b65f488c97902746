//! Pure mapping between OANDA v20 wire types and TradingView types: no I/O, no clock, no async.
//!
//! Upstream enums are matched explicitly; every `Unknown` maps to a documented, safe choice. One submodule
//! per area, re-exported here.

pub mod account;
pub mod executions;
pub mod finals;
pub mod ids;
pub mod market;
pub mod orders;
pub mod positions;
pub mod requests;

pub use account::*;
pub use executions::*;
pub use finals::*;
pub use ids::*;
pub use orders::*;
pub use positions::*;
pub use requests::*;

use super::model::{self, TimeInForce};
use crate::backends::oanda::venue::durations;
use crate::tv::{self, Side};
use rust_decimal::Decimal;

/// Unix seconds of an OANDA time.
pub(crate) fn unix_secs(s: &str) -> Option<i64> {
    model::parse_time(s).map(|t| t.timestamp())
}

/// Unix milliseconds of an OANDA time.
pub(crate) fn unix_ms(s: &str) -> Option<i64> {
    model::parse_time(s).map(|t| t.timestamp_millis())
}

/// The side of signed units: negative sells, anything else buys.
pub(crate) fn side_of(units: Decimal) -> Side {
    if units.is_sign_negative() && !units.is_zero() {
        Side::Sell
    } else {
        Side::Buy
    }
}

/// A price distance in pips; `None` when the pip size is not positive (never divides by zero).
pub(crate) fn pips(distance: Decimal, pip: Decimal) -> Option<Decimal> {
    (pip > Decimal::ZERO).then(|| (distance.abs() / pip).round_dp(8).normalize())
}

/// A time in force as a TradingView duration (GTD with its date in unix seconds); `None` when unknown.
pub(crate) fn duration_of(tif: Option<TimeInForce>, gtd_time: Option<&str>) -> Option<tv::OrderDuration> {
    let (kind, datetime) = match tif? {
        TimeInForce::Gtc => (durations::GTC, None),
        TimeInForce::Gtd => (durations::GTD, gtd_time.and_then(unix_secs)),
        TimeInForce::Gfd => (durations::GFD, None),
        TimeInForce::Fok => (durations::FOK, None),
        TimeInForce::Ioc => (durations::IOC, None),
        TimeInForce::Unknown => return None,
    };
    Some(tv::OrderDuration {
        kind: kind.to_string(),
        datetime,
    })
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests_account;
#[cfg(test)]
mod tests_executions;
#[cfg(test)]
mod tests_finals;
#[cfg(test)]
mod tests_market;
#[cfg(test)]
mod tests_orders;
#[cfg(test)]
mod tests_positions;
#[cfg(test)]
mod tests_requests;
