//! The transaction history: `GET /v1/accounts/{id}/transactions` (newest first) and the `transaction`
//! objects of the event stream, which have the same shape.

use super::super::num;
use super::{TradeChange, WireSide};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

/// `GET /v1/accounts/{id}/transactions`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Transactions {
    #[serde(default)]
    pub transactions: Vec<Transaction>,
}

/// Transaction types the bridge reads; everything else (interest, transfers, margin calls...) is
/// `Unknown` or ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TxType {
    MarketOrderCreate,
    LimitOrderCreate,
    StopOrderCreate,
    MarketIfTouchedOrderCreate,
    OrderUpdate,
    OrderCancel,
    OrderFilled,
    TradeUpdate,
    TradeClose,
    StopLossFilled,
    TakeProfitFilled,
    TrailingStopFilled,
    DailyInterest,
    TransferFunds,
    #[serde(other)]
    Unknown,
}

/// One transaction. Which fields are present depends on the type; all but `id` and `type` are optional
/// so that any transaction reads.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    #[serde(deserialize_with = "num::id")]
    pub id: u64,
    #[serde(default, deserialize_with = "num::opt_id")]
    pub account_id: Option<u64>,
    #[serde(default, deserialize_with = "num::opt_time")]
    pub time: Option<DateTime<Utc>>,
    #[serde(rename = "type")]
    pub kind: TxType,
    #[serde(default)]
    pub instrument: Option<String>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub units: Option<Decimal>,
    #[serde(default)]
    pub side: Option<WireSide>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub price: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub pl: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub interest: Option<Decimal>,
    #[serde(default, deserialize_with = "num::opt_decimal")]
    pub account_balance: Option<Decimal>,
    /// The order an `ORDER_FILLED`, `ORDER_CANCEL` or `ORDER_UPDATE` is about.
    #[serde(default, deserialize_with = "num::opt_id")]
    pub order_id: Option<u64>,
    /// The trade a `TRADE_CLOSE`, `TRADE_UPDATE` or `*_FILLED` bracket transaction is about.
    #[serde(default, deserialize_with = "num::opt_id")]
    pub trade_id: Option<u64>,
    /// Why an order was cancelled (`CLIENT_REQUEST`, `TIME_IN_FORCE_EXPIRED`, `INSUFFICIENT_MARGIN`...).
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default, deserialize_with = "num::opt_time")]
    pub expiry: Option<DateTime<Utc>>,
    #[serde(default, alias = "takeProfit", deserialize_with = "num::opt_decimal")]
    pub take_profit_price: Option<Decimal>,
    #[serde(default, alias = "stopLoss", deserialize_with = "num::opt_decimal")]
    pub stop_loss_price: Option<Decimal>,
    #[serde(default, alias = "trailingStop", deserialize_with = "num::opt_decimal")]
    pub trailing_stop_loss_distance: Option<Decimal>,
    #[serde(default)]
    pub trade_opened: Option<TradeChange>,
    #[serde(default)]
    pub trade_reduced: Option<TradeChange>,
    #[serde(default)]
    pub trades_closed: Vec<TradeChange>,
}

impl Transaction {
    /// Whether this transaction created an order (`*_ORDER_CREATE`).
    pub fn creates_order(&self) -> bool {
        matches!(
            self.kind,
            TxType::MarketOrderCreate
                | TxType::LimitOrderCreate
                | TxType::StopOrderCreate
                | TxType::MarketIfTouchedOrderCreate
        )
    }
}
