//! Test fixtures: the official Postman examples of Capital.com's API (JSON files in `testdata/capital/`,
//! compiled in), and small helpers to parse them and derive variants from them.

use super::model;
use serde_json::{json, Value};

use crate::upstream::fixtures::load;
pub use crate::upstream::fixtures::parse;

/// The SILVER market details of the official example.
pub fn silver() -> model::MarketDetails {
    parse(single_market_details())
}

/// The official SILVER market details turned into a currency pair: `epic`, `currency`, `decimalPlacesFactor`
/// and the snapshot prices replaced (Capital.com shows no currency in its examples).
pub fn currency_pair(epic: &str, currency: &str, dp: u32, bid: f64) -> model::MarketDetails {
    let mut v = single_market_details();
    v["instrument"]["epic"] = json!(epic);
    v["instrument"]["name"] = json!(format!("{epic} pair"));
    v["instrument"]["type"] = json!("CURRENCIES");
    v["instrument"]["currency"] = json!(currency);
    v["instrument"]["marginFactor"] = json!(3.33);
    v["dealingRules"]["minDealSize"] = json!({"unit": "POINTS", "value": 100});
    v["snapshot"]["decimalPlacesFactor"] = json!(dp);
    v["snapshot"]["bid"] = json!(bid);
    parse(v)
}

/// The deals of the official "All positions" example.
pub fn official_deals() -> Vec<model::PositionEntry> {
    parse::<model::PositionsResponse>(all_positions()).positions
}

/// The working orders of the official "All working orders" example.
pub fn working_orders() -> Vec<model::WorkingOrderEntry> {
    parse::<model::WorkingOrdersResponse>(all_working_orders()).working_orders
}

/// The activities of one official activity example.
pub fn activities(v: Value) -> Vec<model::Activity> {
    parse::<model::ActivityResponse>(v).activities
}

/// Single market details: "Successful response".
pub fn single_market_details() -> Value {
    load(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/capital/market_details.json"
    )))
}

/// Markets details: "Successful response: epics".
pub fn market_details_list() -> Value {
    load(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/capital/markets_details_epics.json"
    )))
}

/// All positions: "Successful response".
pub fn all_positions() -> Value {
    load(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/capital/positions.json"
    )))
}

/// Single position: "Successful response".
pub fn single_position() -> Value {
    load(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/capital/position.json"
    )))
}

/// All working orders: "Successful response".
pub fn all_working_orders() -> Value {
    load(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/capital/working_orders.json"
    )))
}

/// All accounts: "Successfull response".
pub fn all_accounts() -> Value {
    load(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/capital/accounts.json"
    )))
}

/// Account preferences: "Successful response".
pub fn account_preferences() -> Value {
    load(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/capital/account_preferences.json"
    )))
}

/// Account activity history: "Success: Filter list by date".
pub fn activity_by_date() -> Value {
    load(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/capital/activity_by_date.json"
    )))
}

/// Account activity history: "Success: Filter list by dealId with enabled detailed view".
pub fn activity_detailed() -> Value {
    load(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/capital/activity_detailed.json"
    )))
}

/// Historical prices: "Success: Default response".
pub fn prices_minute() -> Value {
    load(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/capital/prices_minute.json"
    )))
}

/// Historical prices: "Success: Use not default resolution, start date and max parameters".
pub fn prices_quarter_hour() -> Value {
    load(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/capital/prices_quarter_hour.json"
    )))
}
