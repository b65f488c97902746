//! Accounts: `AccountProperties` (`GET /accounts`), `AccountSummary` (`GET /accounts/{id}/summary`) and the
//! full `Account` (`GET /accounts/{id}`, which also carries the pending orders, open trades and positions).

use super::{dec, opt_dec, Order, Position, TradeSummary};
use rust_decimal::Decimal;
use serde::Deserialize;

/// `AccountProperties`: one entry of `GET /accounts`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountProperties {
    pub id: String,
    /// Present for MetaTrader 4 accounts only.
    #[serde(default, rename = "mt4AccountID")]
    pub mt4_account_id: Option<i64>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// The answer of `GET /accounts`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AccountsResponse {
    #[serde(default)]
    pub accounts: Vec<AccountProperties>,
}

/// `GuaranteedStopLossOrderMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GuaranteedStopLossOrderMode {
    Disabled,
    Allowed,
    Required,
    #[serde(other)]
    Unknown,
}

/// `AccountSummary`: the account's figures without its orders, trades and positions.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountSummary {
    pub id: String,
    #[serde(default)]
    pub alias: Option<String>,
    pub currency: String,
    #[serde(deserialize_with = "dec")]
    pub balance: Decimal,
    #[serde(default)]
    pub hedging_enabled: bool,
    #[serde(default)]
    pub guaranteed_stop_loss_order_mode: Option<GuaranteedStopLossOrderMode>,
    /// Realized profit/loss over the account's lifetime.
    #[serde(default, deserialize_with = "opt_dec")]
    pub pl: Option<Decimal>,
    #[serde(default, rename = "unrealizedPL", deserialize_with = "opt_dec")]
    pub unrealized_pl: Option<Decimal>,
    /// Net asset value: balance + unrealized P/L.
    #[serde(default, rename = "NAV", deserialize_with = "opt_dec")]
    pub nav: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub margin_used: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub margin_available: Option<Decimal>,
    #[serde(default)]
    pub open_trade_count: Option<i64>,
    #[serde(default)]
    pub pending_order_count: Option<i64>,
    #[serde(default, rename = "lastTransactionID")]
    pub last_transaction_id: Option<String>,
}

/// The answer of `GET /accounts/{id}/summary`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountSummaryResponse {
    pub account: AccountSummary,
    #[serde(default, rename = "lastTransactionID")]
    pub last_transaction_id: Option<String>,
}

/// `Account`: the summary plus the pending orders, open trades and every position (including ones
/// with no units left).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Account {
    #[serde(flatten)]
    pub summary: AccountSummary,
    #[serde(default)]
    pub trades: Vec<TradeSummary>,
    #[serde(default)]
    pub positions: Vec<Position>,
    #[serde(default)]
    pub orders: Vec<Order>,
}

/// The answer of `GET /accounts/{id}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountResponse {
    pub account: Account,
    #[serde(default, rename = "lastTransactionID")]
    pub last_transaction_id: Option<String>,
}

impl AccountResponse {
    /// The id of the last transaction the answer reflects (top level, else the account's own).
    pub fn last_transaction_id(&self) -> Option<&str> {
        self.last_transaction_id
            .as_deref()
            .or(self.account.summary.last_transaction_id.as_deref())
    }
}
