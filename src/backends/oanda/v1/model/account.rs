//! Accounts: `GET /v1/accounts` and `GET /v1/accounts/{id}`.

use super::super::num;
use rust_decimal::Decimal;
use serde::Deserialize;

/// `GET /v1/accounts`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Accounts {
    #[serde(default)]
    pub accounts: Vec<AccountRef>,
}

/// One entry of the account list.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountRef {
    #[serde(deserialize_with = "num::id")]
    pub account_id: u64,
    #[serde(default)]
    pub account_name: Option<String>,
    #[serde(default)]
    pub account_currency: Option<String>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub margin_rate: Option<Decimal>,
}

/// `GET /v1/accounts/{id}`: balance, P/L and margin in the account currency.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    #[serde(deserialize_with = "num::id")]
    pub account_id: u64,
    #[serde(default)]
    pub account_name: Option<String>,
    #[serde(deserialize_with = "num::decimal")]
    pub balance: Decimal,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub unrealized_pl: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub realized_pl: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub margin_used: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub margin_avail: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub open_trades: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub open_orders: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub margin_rate: Option<Decimal>,
    #[serde(default)]
    pub account_currency: Option<String>,
}
