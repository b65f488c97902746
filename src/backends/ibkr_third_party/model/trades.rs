//! `GET /accounts/{acct}/trades?since=`: the account's fills.

use super::{Coid, Conid, Num};
use serde::Deserialize;

/// One fill.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Trade {
    #[serde(default)]
    pub customer_order_id: Option<Coid>,
    #[serde(default)]
    pub contract_id: Option<Conid>,
    /// IBKR's own order id.
    #[serde(default)]
    pub order_id: Option<String>,
    #[serde(default)]
    pub ticker: Option<String>,
    #[serde(default)]
    pub listing_exchange: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    pub side: String,
    #[serde(default)]
    pub order_type: Option<String>,
    #[serde(default)]
    pub filled_quantity: Option<Num>,
    #[serde(default)]
    pub remaining_quantity: Option<Num>,
    #[serde(default)]
    pub quantity: Option<Num>,
    pub trade_price: Num,
    pub trade_size: Num,
    #[serde(default)]
    pub avg_price: Option<Num>,
    /// FIX UTCTimestamp `YYYYMMDD-HH:MM:SS`.
    pub execution_time: String,
    pub exec_id: String,
    #[serde(default)]
    pub commission: Option<Num>,
    #[serde(default)]
    pub commission_currency: Option<String>,
    #[serde(default)]
    pub last_market: Option<String>,
}
