//! Account state, balances, executions and leverage types.

use super::Side;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The `d` of `/state`. Deserialize reads back what the account hub shares between replicas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountState {
    pub balance: Decimal,
    pub unrealized_pl: Decimal,
    pub equity: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin_available: Option<Decimal>,
    /// Account manager tables -> rows -> cells, in the column order `/config` declares.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub am_data: Vec<Vec<Vec<String>>>,
}

/// One crypto balance of `/balances`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CryptoBalance {
    pub symbol: String,
    pub total: Decimal,
    pub available: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_currency: Option<String>,
}

/// One fill of `/executions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    pub id: String,
    pub instrument: String,
    pub price: Decimal,
    /// Unix seconds.
    pub time: i64,
    pub qty: Decimal,
    pub side: Side,
    pub order_id: String,
    pub is_close: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commission: Option<Decimal>,
}

/// The order ticket context of a leverage request.
#[derive(Debug, Clone, PartialEq)]
pub struct LeverageQuery {
    pub instrument: String,
    pub side: Side,
    pub order_type: super::OrderType,
}

/// The `d` of `/getLeverage`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeverageInfo {
    pub title: String,
    pub leverage: Decimal,
    pub min: Decimal,
    pub max: Decimal,
    pub step: Decimal,
}

/// The `d` of `/setLeverage`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeverageSet {
    pub leverage: Decimal,
}

/// The `d` of `/previewLeverage`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LeveragePreview {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub infos: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// Columns of the account manager's one table, as `/config` declares them; `amData` rows follow this order.
pub const ACCOUNT_SUMMARY_COLUMNS: [(&str, &str); 6] = [
    ("balance", "Balance"),
    ("equity", "Equity"),
    ("unrealizedPl", "Unrealized P&L"),
    ("realizedPl", "Realized P&L"),
    ("marginUsed", "Margin used"),
    ("marginAvailable", "Margin available"),
];

/// Figures of the account summary table, in the account currency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AccountSummary {
    pub balance: Decimal,
    pub equity: Decimal,
    pub unrealized_pl: Decimal,
    pub realized_pl: Decimal,
    pub margin_used: Decimal,
    pub margin_available: Decimal,
}

impl AccountSummary {
    /// `amData` for [`ACCOUNT_SUMMARY_COLUMNS`]: one table with one row, amounts with two decimals.
    pub fn am_data(&self, currency: &str) -> Vec<Vec<Vec<String>>> {
        let cell = |v: Decimal| format!("{:.2} {currency}", v);
        vec![vec![vec![
            cell(self.balance),
            cell(self.equity),
            cell(self.unrealized_pl),
            cell(self.realized_pl),
            cell(self.margin_used),
            cell(self.margin_available),
        ]]]
    }
}
