//! OANDA v1 wire types, as the v1 documentation shows them: numbers are JSON numbers (read exactly, see
//! [`super::num`]), ids integers, times RFC 3339, and `0` stands for "not set" in bracket and bound
//! fields. Upstream enums carry an `Unknown` variant so a value OANDA adds later never breaks an answer.

mod account;
mod market;
mod trading;
mod transactions;

pub use account::*;
pub use market::*;
pub use trading::*;
pub use transactions::*;

use serde::Deserialize;

/// An error body: `{"code":43,"message":"Order not found","moreInfo":"http://developer.oanda.com/..."}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub more_info: Option<String>,
}

#[cfg(test)]
mod tests;
