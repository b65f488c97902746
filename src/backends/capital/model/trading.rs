//! Capital.com wire types: Positions, working orders, deal references and confirmations.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------------------
// Positions, orders, confirmations
// ---------------------------------------------------------------------------------------------------------

/// `position` block of `GET /positions` and `GET /positions/{dealId}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PositionData {
    pub deal_id: String,
    #[serde(default)]
    pub deal_reference: Option<String>,
    #[serde(default)]
    pub working_order_id: Option<String>,
    #[serde(default)]
    pub contract_size: Option<Decimal>,
    #[serde(default)]
    pub created_date: Option<String>,
    #[serde(default, rename = "createdDateUTC")]
    pub created_date_utc: Option<String>,
    pub size: Decimal,
    #[serde(default)]
    pub leverage: Option<Decimal>,
    #[serde(default)]
    pub upl: Option<Decimal>,
    pub direction: Direction,
    pub level: Decimal,
    pub currency: String,
    #[serde(default)]
    pub guaranteed_stop: bool,
    #[serde(default)]
    pub stop_level: Option<Decimal>,
    #[serde(default)]
    pub profit_level: Option<Decimal>,
    #[serde(default)]
    pub trailing_stop: Option<bool>,
    #[serde(default)]
    pub stop_distance: Option<Decimal>,
    #[serde(default)]
    pub profit_distance: Option<Decimal>,
}

/// One entry of `GET /positions`; also the whole `GET /positions/{dealId}` answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PositionEntry {
    pub position: PositionData,
    pub market: MarketSummary,
}

/// `GET /positions` answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PositionsResponse {
    #[serde(default)]
    pub positions: Vec<PositionEntry>,
}

/// Stop loss / take profit fields shared by the position and working-order requests (unset ones are left out).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StopsAndLimits {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guaranteed_stop: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trailing_stop: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_level: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_distance: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_amount: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profit_level: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profit_distance: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profit_amount: Option<Decimal>,
}

/// `POST /positions` body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePositionRequest {
    pub epic: String,
    pub direction: Direction,
    pub size: Decimal,
    #[serde(flatten)]
    pub stops: StopsAndLimits,
}

/// `PUT /positions/{dealId}` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UpdatePositionRequest {
    #[serde(flatten)]
    pub stops: StopsAndLimits,
}

/// `{dealReference}` answer of every position and working-order mutation.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DealReference {
    pub deal_reference: String,
}

/// One deal touched by a confirmed deal.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AffectedDeal {
    pub deal_id: String,
    #[serde(default)]
    pub status: Option<AffectedDealStatus>,
}

/// `GET /confirms/{dealReference}` answer. Rejections may leave most fields out.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Confirmation {
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub status: Option<ConfirmStatus>,
    #[serde(default)]
    pub reason: Option<String>,
    pub deal_status: DealStatus,
    #[serde(default)]
    pub epic: Option<String>,
    #[serde(default)]
    pub deal_reference: Option<String>,
    #[serde(default)]
    pub deal_id: Option<String>,
    #[serde(default)]
    pub affected_deals: Vec<AffectedDeal>,
    #[serde(default)]
    pub level: Option<Decimal>,
    #[serde(default)]
    pub size: Option<Decimal>,
    #[serde(default)]
    pub direction: Option<Direction>,
    #[serde(default)]
    pub guaranteed_stop: Option<bool>,
    #[serde(default)]
    pub trailing_stop: Option<bool>,
    #[serde(default)]
    pub stop_level: Option<Decimal>,
    #[serde(default)]
    pub profit_level: Option<Decimal>,
}

/// `POST /workingorders` body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateWorkingOrderRequest {
    pub epic: String,
    pub direction: Direction,
    pub size: Decimal,
    pub level: Decimal,
    #[serde(rename = "type")]
    pub order_type: OrderType,
    /// UTC, `YYYY-MM-DDTHH:MM:SS` (see [`format_time`]); absent means good till cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub good_till_date: Option<String>,
    #[serde(flatten)]
    pub stops: StopsAndLimits,
}

/// `PUT /workingorders/{dealId}` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateWorkingOrderRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub good_till_date: Option<String>,
    #[serde(flatten)]
    pub stops: StopsAndLimits,
}

/// `workingOrderData` block of `GET /workingorders`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkingOrderData {
    pub deal_id: String,
    pub direction: Direction,
    pub epic: String,
    pub order_size: Decimal,
    pub order_level: Decimal,
    #[serde(default)]
    pub time_in_force: Option<TimeInForce>,
    #[serde(default)]
    pub good_till_date: Option<String>,
    #[serde(default, rename = "goodTillDateUTC")]
    pub good_till_date_utc: Option<String>,
    #[serde(default)]
    pub created_date: Option<String>,
    #[serde(default, rename = "createdDateUTC")]
    pub created_date_utc: Option<String>,
    #[serde(default)]
    pub guaranteed_stop: bool,
    #[serde(default)]
    pub trailing_stop: Option<bool>,
    pub order_type: OrderType,
    #[serde(default)]
    pub stop_level: Option<Decimal>,
    #[serde(default)]
    pub stop_distance: Option<Decimal>,
    #[serde(default)]
    pub profit_level: Option<Decimal>,
    #[serde(default)]
    pub profit_distance: Option<Decimal>,
    #[serde(default)]
    pub currency_code: Option<String>,
}

/// One entry of `GET /workingorders`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkingOrderEntry {
    pub working_order_data: WorkingOrderData,
    pub market_data: MarketSummary,
}

/// `GET /workingorders` answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkingOrdersResponse {
    #[serde(default)]
    pub working_orders: Vec<WorkingOrderEntry>,
}
