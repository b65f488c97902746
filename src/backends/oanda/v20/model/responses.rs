//! Answers of the order, trade and position endpoints: the 200/201 bodies with the transactions a write
//! created, and the 400/404 body (`errorCode`, `errorMessage` and whichever reject transaction applies).

use super::{Order, Transaction};
use serde::Deserialize;

/// The answer of `GET /orders`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrdersResponse {
    #[serde(default)]
    pub orders: Vec<Order>,
    #[serde(default, rename = "lastTransactionID")]
    pub last_transaction_id: Option<String>,
}

/// The answer of `GET /orders/{specifier}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderResponse {
    pub order: Order,
    #[serde(default, rename = "lastTransactionID")]
    pub last_transaction_id: Option<String>,
}

/// 201 of `POST /orders` and of `PUT /orders/{specifier}` (replace). A replace also cancels the replaced
/// order (`orderCancelTransaction`); a created order that was killed at once (a market order without
/// margin, a halted market) has an `orderCancelTransaction` of its own instead of a fill.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderWriteResponse {
    #[serde(default)]
    pub order_create_transaction: Option<Transaction>,
    #[serde(default)]
    pub order_fill_transaction: Option<Transaction>,
    #[serde(default)]
    pub order_cancel_transaction: Option<Transaction>,
    /// Replace only: the replacing order was cancelled at once.
    #[serde(default)]
    pub replacing_order_cancel_transaction: Option<Transaction>,
    #[serde(default, rename = "relatedTransactionIDs")]
    pub related_transaction_ids: Vec<String>,
    #[serde(default, rename = "lastTransactionID")]
    pub last_transaction_id: Option<String>,
}

/// 200 of `PUT /orders/{specifier}/cancel`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelOrderResponse {
    #[serde(default)]
    pub order_cancel_transaction: Option<Transaction>,
    #[serde(default, rename = "lastTransactionID")]
    pub last_transaction_id: Option<String>,
}

/// 200 of `PUT /trades/{specifier}/close`: the closing market order, and its fill or its cancellation.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseTradeResponse {
    #[serde(default)]
    pub order_create_transaction: Option<Transaction>,
    #[serde(default)]
    pub order_fill_transaction: Option<Transaction>,
    #[serde(default)]
    pub order_cancel_transaction: Option<Transaction>,
    #[serde(default, rename = "lastTransactionID")]
    pub last_transaction_id: Option<String>,
}

/// 200 of `PUT /trades/{specifier}/orders`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DependentOrdersResponse {
    #[serde(default)]
    pub take_profit_order_transaction: Option<Transaction>,
    #[serde(default)]
    pub take_profit_order_fill_transaction: Option<Transaction>,
    #[serde(default)]
    pub take_profit_order_created_cancel_transaction: Option<Transaction>,
    #[serde(default)]
    pub stop_loss_order_transaction: Option<Transaction>,
    #[serde(default)]
    pub stop_loss_order_fill_transaction: Option<Transaction>,
    #[serde(default)]
    pub stop_loss_order_created_cancel_transaction: Option<Transaction>,
    #[serde(default)]
    pub trailing_stop_loss_order_transaction: Option<Transaction>,
    #[serde(default, rename = "lastTransactionID")]
    pub last_transaction_id: Option<String>,
}

/// 200 of `PUT /positions/{instrument}/close`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClosePositionResponse {
    #[serde(default)]
    pub long_order_create_transaction: Option<Transaction>,
    #[serde(default)]
    pub long_order_fill_transaction: Option<Transaction>,
    #[serde(default)]
    pub long_order_cancel_transaction: Option<Transaction>,
    #[serde(default)]
    pub short_order_create_transaction: Option<Transaction>,
    #[serde(default)]
    pub short_order_fill_transaction: Option<Transaction>,
    #[serde(default)]
    pub short_order_cancel_transaction: Option<Transaction>,
    #[serde(default, rename = "lastTransactionID")]
    pub last_transaction_id: Option<String>,
}

/// The 400/404 body of every write: `errorCode`/`errorMessage` plus the reject transaction of the endpoint
/// (each endpoint names it differently; all are read).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub error_message: Option<String>,
    #[serde(default)]
    pub order_reject_transaction: Option<Transaction>,
    #[serde(default)]
    pub order_cancel_reject_transaction: Option<Transaction>,
    #[serde(default)]
    pub long_order_reject_transaction: Option<Transaction>,
    #[serde(default)]
    pub short_order_reject_transaction: Option<Transaction>,
    #[serde(default)]
    pub take_profit_order_reject_transaction: Option<Transaction>,
    #[serde(default)]
    pub take_profit_order_cancel_reject_transaction: Option<Transaction>,
    #[serde(default)]
    pub stop_loss_order_reject_transaction: Option<Transaction>,
    #[serde(default)]
    pub stop_loss_order_cancel_reject_transaction: Option<Transaction>,
    #[serde(default)]
    pub trailing_stop_loss_order_reject_transaction: Option<Transaction>,
    #[serde(default)]
    pub trailing_stop_loss_order_cancel_reject_transaction: Option<Transaction>,
    #[serde(default, rename = "lastTransactionID")]
    pub last_transaction_id: Option<String>,
}

impl ErrorBody {
    /// Every `rejectReason` of the body, in a fixed order (order, then long/short, then the legs).
    pub fn reject_reasons(&self) -> Vec<&str> {
        [
            &self.order_reject_transaction,
            &self.order_cancel_reject_transaction,
            &self.long_order_reject_transaction,
            &self.short_order_reject_transaction,
            &self.take_profit_order_reject_transaction,
            &self.take_profit_order_cancel_reject_transaction,
            &self.stop_loss_order_reject_transaction,
            &self.stop_loss_order_cancel_reject_transaction,
            &self.trailing_stop_loss_order_reject_transaction,
            &self.trailing_stop_loss_order_cancel_reject_transaction,
        ]
        .into_iter()
        .flatten()
        .filter_map(|t| t.reject_reason.as_deref())
        .collect()
    }

    /// The first reject reason, else the `errorCode` (OANDA often repeats the reason there).
    pub fn reason(&self) -> Option<&str> {
        self.reject_reasons()
            .into_iter()
            .next()
            .or(self.error_code.as_deref())
            .filter(|r| !r.trim().is_empty())
    }
}
