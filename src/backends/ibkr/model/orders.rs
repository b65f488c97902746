//! Order resources: submission (`/iserver/account/{acct}/orders`), the reply questions, modify, cancel,
//! what-if, live orders (`/iserver/account/orders`) and executions (`/iserver/account/trades`).

use super::num::{Conid, Num};
use serde::{Deserialize, Serialize};

/// One order ticket of a submission (`SingleOrderSubmissionRequest`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderTicket {
    pub acct_id: String,
    pub conid: i64,
    /// Client order id: how the bridge finds an order whose answer was lost.
    #[serde(rename = "cOID", skip_serializing_if = "Option::is_none")]
    pub c_oid: Option<String>,
    /// A bracket child: the parent's `cOID`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// `MKT`, `LMT`, `STP`, `STOP_LIMIT`.
    pub order_type: &'static str,
    /// `BUY` or `SELL`.
    pub side: &'static str,
    /// `DAY`, `GTC`, `IOC`, `OPG`.
    pub tif: &'static str,
    #[serde(with = "rust_decimal::serde::float")]
    pub quantity: rust_decimal::Decimal,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::float_option"
    )]
    pub price: Option<rust_decimal::Decimal>,
    /// The stop price of a stop-limit order.
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::float_option"
    )]
    pub aux_price: Option<rust_decimal::Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_single_group: Option<bool>,
    pub outside_rth: bool,
}

/// The body of `POST /iserver/account/{acct}/orders` and `/orders/whatif`.
#[derive(Debug, Clone, Serialize)]
pub struct OrdersBody {
    pub orders: Vec<OrderTicket>,
}

/// One element of an order submission's (or a reply's) answer array.
#[derive(Debug, Clone, PartialEq)]
pub enum SubmitItem {
    /// The order was accepted (`OrderSubmitSuccess`).
    Placed {
        order_id: String,
        status: Option<String>,
    },
    /// A question to confirm with `POST /iserver/reply/{id}` (`OrderReplyMessage`).
    Question(Question),
    /// The submission was refused (`OrderSubmitError` / `AdvancedOrderReject`).
    Refused(String),
}

/// An order reply message: its id and, index for index, its texts and message ids.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Question {
    pub id: String,
    #[serde(default)]
    pub message: Vec<String>,
    #[serde(rename = "messageIds", default)]
    pub message_ids: Vec<String>,
}

#[derive(Deserialize)]
struct RawItem {
    #[serde(default)]
    order_id: Option<serde_json::Value>,
    #[serde(default)]
    order_status: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    message: Option<Vec<String>>,
    #[serde(rename = "messageIds", default)]
    message_ids: Option<Vec<String>>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

/// Reads a submission answer: an array of successes or questions, or one object (an error, a rejection).
/// `Err` when the answer is none of the documented shapes.
pub fn parse_submit(text: &str) -> Result<Vec<SubmitItem>, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("order answer is not JSON: {e}"))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        other => vec![other],
    };
    if items.is_empty() {
        return Err("order answer is an empty array".into());
    }
    items.into_iter().map(item).collect()
}

fn item(value: serde_json::Value) -> Result<SubmitItem, String> {
    let raw: RawItem = serde_json::from_value(value).map_err(|e| format!("order answer element: {e}"))?;
    if let Some(error) = raw.error.filter(|e| !e.trim().is_empty()) {
        return Ok(SubmitItem::Refused(error));
    }
    if let (Some(id), Some(message)) = (&raw.id, &raw.message) {
        return Ok(SubmitItem::Question(Question {
            id: id.clone(),
            message: message.clone(),
            message_ids: raw.message_ids.unwrap_or_default(),
        }));
    }
    match raw.order_id {
        Some(serde_json::Value::String(s)) if !s.is_empty() && raw.text.is_none() => Ok(SubmitItem::Placed {
            order_id: s,
            status: raw.order_status,
        }),
        Some(serde_json::Value::Number(n)) if raw.text.is_none() => Ok(SubmitItem::Placed {
            order_id: n.to_string(),
            status: raw.order_status,
        }),
        _ => match raw.text {
            Some(text) => Ok(SubmitItem::Refused(text)),
            None => Err("order answer element is neither an order, a question nor an error".into()),
        },
    }
}

/// `POST /iserver/reply/{id}` body.
#[derive(Debug, Clone, Serialize)]
pub struct Reply {
    pub confirmed: bool,
}

/// IBKR's order status (`Status` of a live order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum OrderStatus {
    Inactive,
    PendingSubmit,
    PreSubmitted,
    Submitted,
    Filled,
    PendingCancel,
    Cancelled,
    WarnState,
    #[serde(other)]
    Unknown,
}

/// `GET /iserver/account/orders`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LiveOrders {
    #[serde(default)]
    pub orders: Vec<LiveOrder>,
    /// Whether the answer is complete (false while the gateway is still loading orders).
    #[serde(default)]
    pub snapshot: Option<bool>,
}

/// One order of `GET /iserver/account/orders` (`LiveOrdersResponseOrdersInner`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveOrder {
    #[serde(default)]
    pub acct: Option<String>,
    pub conid: Conid,
    pub order_id: Num,
    #[serde(default)]
    pub ticker: Option<String>,
    #[serde(default)]
    pub sec_type: Option<String>,
    #[serde(default)]
    pub remaining_quantity: Option<Num>,
    #[serde(default)]
    pub filled_quantity: Option<Num>,
    #[serde(default)]
    pub total_size: Option<Num>,
    pub status: OrderStatus,
    #[serde(default)]
    pub order_type: Option<String>,
    #[serde(default)]
    pub orig_order_type: Option<String>,
    #[serde(default)]
    pub price: Option<Num>,
    /// The stop price of stop and stop-limit orders (not in IBKR's model; seen in answers).
    #[serde(default)]
    pub aux_price: Option<Num>,
    #[serde(default)]
    pub time_in_force: Option<String>,
    /// Unix milliseconds of the last execution.
    #[serde(rename = "lastExecutionTime_r", default)]
    pub last_execution_time_r: Option<Num>,
    /// `BUY` or `SELL`.
    pub side: String,
    #[serde(default)]
    pub avg_price: Option<Num>,
    /// The client order id (`cOID`) the order was placed with. IBKR's model of this endpoint does not
    /// list it (the trades endpoint does); see README, Known gaps.
    #[serde(rename = "order_ref", default)]
    pub order_ref: Option<String>,
    /// A bracket child's parent order id (not in IBKR's model either).
    #[serde(rename = "parentId", default)]
    pub parent_id: Option<Num>,
}

/// One execution of `GET /iserver/account/trades` (`TradesResponseInner`).
#[derive(Debug, Clone, Deserialize)]
pub struct Trade {
    pub execution_id: String,
    /// `B` or `S`.
    pub side: String,
    #[serde(default)]
    pub trade_time_r: Option<Num>,
    pub size: Num,
    pub price: Num,
    /// The `cOID` of the order the execution belongs to.
    #[serde(default)]
    pub order_ref: Option<String>,
    #[serde(default)]
    pub commission: Option<Num>,
    #[serde(default)]
    pub account: Option<String>,
    pub conid: Conid,
    /// The order's IBKR id (`order_id`; not in IBKR's model, present in answers).
    #[serde(default)]
    pub order_id: Option<Num>,
}

/// `DELETE /iserver/account/{acct}/order/{id}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CancelAnswer {
    #[serde(default)]
    pub msg: Option<String>,
    #[serde(default)]
    pub order_id: Option<Num>,
    #[serde(default)]
    pub error: Option<String>,
}

/// `POST /iserver/account/{acct}/orders/whatif` (`OrderPreview`): each section's values are strings as
/// IBKR formats them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WhatIf {
    #[serde(default)]
    pub amount: Option<WhatIfAmount>,
    #[serde(default)]
    pub equity: Option<WhatIfChange>,
    #[serde(default)]
    pub initial: Option<WhatIfChange>,
    #[serde(default)]
    pub maintenance: Option<WhatIfChange>,
    #[serde(default)]
    pub warn: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

/// The `amount` section of a what-if.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WhatIfAmount {
    #[serde(default)]
    pub amount: Option<String>,
    #[serde(default)]
    pub commission: Option<String>,
    #[serde(default)]
    pub total: Option<String>,
}

/// A before/change/after section of a what-if.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WhatIfChange {
    #[serde(default)]
    pub current: Option<String>,
    #[serde(default)]
    pub change: Option<String>,
    #[serde(default)]
    pub after: Option<String>,
}
