//! Transactions: the `Transaction` subtypes the bridge reads (order creation, fill, cancel and the reject
//! transactions), as one flat struct keyed by `type`, with `TradeOpen` and `TradeReduce`.

use super::{opt_dec, ClientExtensions};
use rust_decimal::Decimal;
use serde::Deserialize;

/// `TransactionType`, the values the bridge acts on; the rest read as `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransactionType {
    MarketOrder,
    MarketOrderReject,
    FixedPriceOrder,
    LimitOrder,
    LimitOrderReject,
    StopOrder,
    StopOrderReject,
    MarketIfTouchedOrder,
    MarketIfTouchedOrderReject,
    TakeProfitOrder,
    TakeProfitOrderReject,
    StopLossOrder,
    StopLossOrderReject,
    GuaranteedStopLossOrder,
    GuaranteedStopLossOrderReject,
    TrailingStopLossOrder,
    TrailingStopLossOrderReject,
    OrderFill,
    OrderCancel,
    OrderCancelReject,
    OrderClientExtensionsModify,
    OrderClientExtensionsModifyReject,
    DailyFinancing,
    #[serde(other)]
    Unknown,
}

/// `TradeOpen`: the trade a fill opened.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TradeOpen {
    #[serde(rename = "tradeID")]
    pub trade_id: String,
    #[serde(default, deserialize_with = "opt_dec")]
    pub units: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub price: Option<Decimal>,
    #[serde(default)]
    pub client_extensions: Option<ClientExtensions>,
}

/// `TradeReduce`: a trade a fill closed or reduced.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TradeReduce {
    #[serde(rename = "tradeID")]
    pub trade_id: String,
    #[serde(default, deserialize_with = "opt_dec")]
    pub units: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub price: Option<Decimal>,
    #[serde(default, rename = "realizedPL", deserialize_with = "opt_dec")]
    pub realized_pl: Option<Decimal>,
}

/// A `Transaction` of any type. `reason` is the creation reason of an order transaction, the fill reason
/// of `ORDER_FILL` and the `OrderCancelReason` of `ORDER_CANCEL`; `rejectReason` is the
/// `TransactionRejectReason` of every `*_REJECT`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    pub id: String,
    #[serde(default)]
    pub time: Option<String>,
    #[serde(rename = "type")]
    pub kind: TransactionType,
    #[serde(default, rename = "accountID")]
    pub account_id: Option<String>,
    #[serde(default, rename = "batchID")]
    pub batch_id: Option<String>,
    #[serde(default, rename = "orderID")]
    pub order_id: Option<String>,
    #[serde(default, rename = "clientOrderID")]
    pub client_order_id: Option<String>,
    #[serde(default, rename = "tradeID")]
    pub trade_id: Option<String>,
    #[serde(default)]
    pub instrument: Option<String>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub units: Option<Decimal>,
    /// Deprecated on `ORDER_FILL` (the trade parts carry the official prices) but still sent.
    #[serde(default, deserialize_with = "opt_dec")]
    pub price: Option<Decimal>,
    #[serde(default, rename = "fullVWAP", deserialize_with = "opt_dec")]
    pub full_vwap: Option<Decimal>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub reject_reason: Option<String>,
    #[serde(default)]
    pub client_extensions: Option<ClientExtensions>,
    #[serde(default, rename = "replacesOrderID")]
    pub replaces_order_id: Option<String>,
    #[serde(default, rename = "replacedByOrderID")]
    pub replaced_by_order_id: Option<String>,
    #[serde(default)]
    pub trade_opened: Option<TradeOpen>,
    #[serde(default)]
    pub trades_closed: Vec<TradeReduce>,
    #[serde(default)]
    pub trade_reduced: Option<TradeReduce>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub pl: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub commission: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_dec")]
    pub financing: Option<Decimal>,
}

impl Transaction {
    /// The client id the transaction carries (`clientOrderID`, else its `clientExtensions.id`).
    pub fn client_id(&self) -> Option<&str> {
        self.client_order_id
            .as_deref()
            .or_else(|| self.client_extensions.as_ref().and_then(|c| c.id.as_deref()))
            .filter(|id| !id.is_empty())
    }
}

/// The answer of `GET /transactions/idrange` and `GET /transactions/sinceid`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionsResponse {
    #[serde(default)]
    pub transactions: Vec<Transaction>,
    #[serde(default, rename = "lastTransactionID")]
    pub last_transaction_id: Option<String>,
}

/// The answer of `GET /transactions/{id}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionResponse {
    pub transaction: Transaction,
    #[serde(default, rename = "lastTransactionID")]
    pub last_transaction_id: Option<String>,
}
