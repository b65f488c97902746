//! `/accounts`, `/accounts/{acct}/positions` and `/accounts/{acct}/summary`.

use super::{Conid, Num};
use serde::Deserialize;

/// `GET /accounts` (200).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Accounts {
    #[serde(default)]
    pub accounts: Vec<String>,
}

/// One row of `GET /accounts/{acct}/positions`: signed size (negative: short).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Position {
    pub contract_id: Conid,
    pub position: Num,
    #[serde(default)]
    pub average_cost: Option<Num>,
}

/// `GET /accounts/{acct}/summary`: IBKR's account-value tags (ASSUMED keys, see the wire contract).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Summary {
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub net_liquidation: Option<Num>,
    #[serde(default)]
    pub total_cash_value: Option<Num>,
    #[serde(default)]
    pub equity_with_loan_value: Option<Num>,
    #[serde(default)]
    pub buying_power: Option<Num>,
    #[serde(default)]
    pub available_funds: Option<Num>,
    #[serde(default)]
    pub excess_liquidity: Option<Num>,
    #[serde(default)]
    pub init_margin_req: Option<Num>,
    #[serde(default)]
    pub maint_margin_req: Option<Num>,
    #[serde(default)]
    pub gross_position_value: Option<Num>,
    #[serde(default, rename = "UnrealizedPnL")]
    pub unrealized_pnl: Option<Num>,
    #[serde(default, rename = "RealizedPnL")]
    pub realized_pnl: Option<Num>,
}
