//! `/accounts/{id}/instruments` types.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// TradingView symbol type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SymbolType {
    Stock,
    Index,
    Forex,
    Futures,
    Crypto,
    Cfd,
    Commodity,
    Bond,
    Spot,
}

/// One tradable instrument as TradingView sees it for one account.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Instrument {
    pub name: String,
    pub description: String,
    pub min_qty: Decimal,
    pub max_qty: Decimal,
    pub qty_step: Decimal,
    pub pip_size: Decimal,
    /// Value of one pip for one unit of quantity, in the account currency.
    pub pip_value: Decimal,
    pub min_tick: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lot_size: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote_currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margin_rate: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub units: Option<String>,
    #[serde(rename = "type")]
    pub kind: SymbolType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub typespecs: Option<String>,
}
