//! Orders: the `Order` every order resource answers, the body of place/modify/impact, and the answers of
//! `DELETE` (cancel) and `PUT` (modify) and `/order_impact`.

use super::{Coid, Conid, Num};
use serde::{Deserialize, Serialize};

/// An order as `/accounts/{acct}/orders` (and place, and the look-up by id) lists it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Order {
    pub customer_order_id: Coid,
    #[serde(default)]
    pub contract_id: Option<Conid>,
    #[serde(default)]
    pub ticker: Option<String>,
    #[serde(default)]
    pub listing_exchange: Option<String>,
    #[serde(default)]
    pub remaining_quantity: Option<Num>,
    #[serde(default)]
    pub filled_quantity: Option<Num>,
    pub order_type: String,
    #[serde(default)]
    pub time_in_force: Option<String>,
    #[serde(default, rename = "OutsideRTH")]
    pub outside_rth: Option<String>,
    pub side: String,
    #[serde(default)]
    pub price: Option<Num>,
    #[serde(default)]
    pub stop_price: Option<Num>,
    #[serde(default)]
    pub avg_price: Option<Num>,
    pub status: String,
    #[serde(default)]
    pub warning: Option<String>,
    /// FIX UTCTimestamp `YYYYMMDD-HH:MM:SS`.
    #[serde(default)]
    pub transaction_time: Option<String>,
}

/// The body of place, modify (`PUT`, with the replacement's new id) and `/order_impact`.
/// The contract is named by `ContractId`, or by `Ticker` + `ListingExchange` (`STK`) or `Ticker` +
/// `Currency` (`CASH`) with `InstrumentType`; the bridge always sends the conid it resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_order_id: Option<Coid>,
    pub contract_id: i64,
    /// `1` buy, `2` sell.
    pub side: &'static str,
    /// `1`..`4`.
    pub order_type: &'static str,
    pub order_qty: rust_decimal::Decimal,
    /// The limit price (types 2 and 4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<rust_decimal::Decimal>,
    /// The stop price (types 3 and 4; FIX tag 99, ASSUMED name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_price: Option<rust_decimal::Decimal>,
    pub time_in_force: &'static str,
    #[serde(rename = "OutsideRTH")]
    pub outside_rth: &'static str,
}

/// One row of the `DELETE /accounts/{acct}/orders/{id}` answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancelAnswer {
    pub customer_order_id: Coid,
    #[serde(default)]
    pub symbol: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub warning: Option<String>,
}

/// One row of the `PUT /accounts/{acct}/orders/{id}` answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModifyAnswer {
    #[serde(default)]
    pub orig_customer_order_id: Option<Coid>,
    pub customer_order_id: Coid,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub warning: Option<String>,
}

/// `POST /accounts/{acct}/order_impact`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Impact {
    #[serde(default)]
    pub equity_with_loan: Option<Num>,
    #[serde(default)]
    pub init_margin: Option<Num>,
    #[serde(default)]
    pub init_margin_before: Option<Num>,
    #[serde(default)]
    pub maint_margin: Option<Num>,
    #[serde(default)]
    pub maint_margin_before: Option<Num>,
    #[serde(default)]
    pub margin_currency: Option<String>,
    #[serde(default)]
    pub commission: Option<Num>,
    #[serde(default)]
    pub min_commissions: Option<Num>,
    #[serde(default)]
    pub max_commissions: Option<Num>,
    #[serde(default)]
    pub commissions_currency: Option<String>,
}
