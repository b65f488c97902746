//! Helpers shared by the wire-type tests.

use serde_json::json;

/// An official example from `testdata/capital/` by file name, as a JSON value.
pub fn testdata(name: &str) -> serde_json::Value {
    let text = match name {
        "market_details" => include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/capital/market_details.json"
        )),
        "accounts" => include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/capital/accounts.json"
        )),
        "account_preferences" => {
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/testdata/capital/account_preferences.json"
            ))
        }
        other => panic!("no testdata/capital/{other}.json in the model tests"),
    };
    crate::upstream::fixtures::load(text)
}

pub use crate::upstream::fixtures::parse;

pub fn market_summary_json(epic: &str, status: &str) -> serde_json::Value {
    json!({
        "instrumentName": "Silver", "expiry": "-", "marketStatus": status, "epic": epic,
        "instrumentType": "COMMODITIES", "lotSize": 1, "high": 21.167, "low": 20.823,
        "percentageChange": 1.8478, "netChange": 0.3810, "bid": 21.037, "offer": 21.057,
        "updateTime": "2022-04-06T10:53:35.389", "updateTimeUTC": "2022-04-06T07:53:35.389",
        "delayTime": 0, "streamingPricesAvailable": true, "scalingFactor": 1,
        "somethingNew": {"nested": [1, 2]}
    })
}
