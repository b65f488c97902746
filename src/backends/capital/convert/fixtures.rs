//! Test fixtures: the official Postman examples of Capital.com's API, copied as JSON values, and small
//! helpers to parse them and derive variants from them.

use super::model;
use serde_json::{json, Value};

/// Deserialises a fixture (a fixture that does not parse is a broken test, hence the panic).
pub fn parse<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("fixture deserialises")
}

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
    json!({
        "instrument": {
            "epic": "SILVER", "expiry": "-", "name": "Silver", "lotSize": 1, "type": "COMMODITIES",
            "controlledRiskAllowed": true, "streamingPricesAvailable": true, "currency": "USD",
            "marginFactor": 10, "marginFactorUnit": "PERCENTAGE",
            "openingHours": {
                "mon": ["00:00 - 22:00", "23:05 - 00:00"], "tue": ["00:00 - 22:00", "23:05 - 00:00"],
                "wed": ["00:00 - 22:00", "23:05 - 00:00"], "thu": ["00:00 - 22:00", "23:05 - 00:00"],
                "fri": ["00:00 - 22:00"], "sat": [], "sun": ["23:05 - 00:00"], "zone": "UTC"
            },
            "country": ""
        },
        "dealingRules": {
            "minStepDistance": {"unit": "POINTS", "value": 0.001},
            "minDealSize": {"unit": "POINTS", "value": 0.1},
            "minControlledRiskStopDistance": {"unit": "PERCENTAGE", "value": 2},
            "minNormalStopOrLimitDistance": {"unit": "PERCENTAGE", "value": 0.01},
            "maxStopOrLimitDistance": {"unit": "PERCENTAGE", "value": 60},
            "marketOrderPreference": "AVAILABLE_DEFAULT_ON", "trailingStopsPreference": "NOT_AVAILABLE"
        },
        "snapshot": {
            "marketStatus": "TRADEABLE", "netChange": -0.313, "percentageChange": -1.2762,
            "updateTime": "2022-04-06T13:17:42.113", "delayTime": 0, "bid": 24.203, "offer": 24.223,
            "high": 24.405, "low": 24.193, "decimalPlacesFactor": 3, "scalingFactor": 1
        }
    })
}

/// Markets details: "Successful response: epics".
pub fn market_details_list() -> Value {
    json!({
        "marketDetails": [
            {
                "instrument": {
                    "epic": "SILVER", "expiry": "-", "name": "Silver", "lotSize": 1, "type": "COMMODITIES",
                    "controlledRiskAllowed": true, "streamingPricesAvailable": true, "currency": "USD",
                    "marginFactor": 10, "marginFactorUnit": "PERCENTAGE",
                    "openingHours": {
                        "mon": ["00:00 - 22:00", "23:05 - 00:00"],
                        "tue": ["00:00 - 22:00", "23:05 - 00:00"],
                        "wed": ["00:00 - 22:00", "23:05 - 00:00"],
                        "thu": ["00:00 - 22:00", "23:05 - 00:00"], "fri": ["00:00 - 22:00"], "sat": [],
                        "sun": ["23:05 - 00:00"], "zone": "UTC"
                    },
                    "country": ""
                },
                "dealingRules": {
                    "minStepDistance": {"unit": "POINTS", "value": 0.001},
                    "minDealSize": {"unit": "POINTS", "value": 0.1},
                    "minControlledRiskStopDistance": {"unit": "PERCENTAGE", "value": 2},
                    "minNormalStopOrLimitDistance": {"unit": "PERCENTAGE", "value": 0.01},
                    "maxStopOrLimitDistance": {"unit": "PERCENTAGE", "value": 60},
                    "marketOrderPreference": "AVAILABLE_DEFAULT_ON",
                    "trailingStopsPreference": "NOT_AVAILABLE"
                },
                "snapshot": {
                    "marketStatus": "TRADEABLE", "netChange": -0.335, "percentageChange": -1.3659,
                    "updateTime": "2022-04-06T13:27:10.153", "delayTime": 0, "bid": 24.181,
                    "offer": 24.201, "high": 24.405, "low": 24.159, "decimalPlacesFactor": 3,
                    "scalingFactor": 1
                }
            },
            {
                "instrument": {
                    "epic": "NATURALGAS", "expiry": "-", "name": "Natural Gas", "lotSize": 1,
                    "type": "COMMODITIES", "controlledRiskAllowed": true, "streamingPricesAvailable": true,
                    "currency": "USD", "marginFactor": 10, "marginFactorUnit": "PERCENTAGE",
                    "openingHours": {
                        "mon": ["01:00 - 23:00"], "tue": ["01:00 - 23:00"], "wed": ["01:00 - 23:00"],
                        "thu": ["01:00 - 23:00"], "fri": ["01:00 - 23:00"], "sat": [], "sun": [],
                        "zone": "UTC"
                    },
                    "country": ""
                },
                "dealingRules": {
                    "minStepDistance": {"unit": "POINTS", "value": 0.001},
                    "minDealSize": {"unit": "POINTS", "value": 0.1},
                    "minControlledRiskStopDistance": {"unit": "PERCENTAGE", "value": 2},
                    "minNormalStopOrLimitDistance": {"unit": "PERCENTAGE", "value": 0.1},
                    "maxStopOrLimitDistance": {"unit": "PERCENTAGE", "value": 30},
                    "marketOrderPreference": "AVAILABLE_DEFAULT_ON",
                    "trailingStopsPreference": "NOT_AVAILABLE"
                },
                "snapshot": {
                    "marketStatus": "TRADEABLE", "netChange": 0.423, "percentageChange": 7.2918,
                    "updateTime": "2022-04-06T13:27:11.890", "delayTime": 0, "bid": 6.294, "offer": 6.3,
                    "high": 6.308, "low": 6.073, "decimalPlacesFactor": 3, "scalingFactor": 1
                }
            }
        ]
    })
}

/// All positions: "Successful response".
pub fn all_positions() -> Value {
    json!({
        "positions": [
            {
                "position": {
                    "contractSize": 1, "createdDate": "2022-04-05T12:46:01.872",
                    "createdDateUTC": "2022-04-05T09:46:01.872",
                    "dealId": "00018387-0001-54c4-0000-000080560014",
                    "dealReference": "p_00018387-0001-54c4-0000-000080560014",
                    "workingOrderId": "00018387-0001-54c4-0000-000080560012", "size": 10.0, "leverage": 20,
                    "upl": -0.05, "direction": "BUY", "level": 2.764, "currency": "USD",
                    "guaranteedStop": false
                },
                "market": {
                    "instrumentName": "Natural Gas", "expiry": "-", "marketStatus": "TRADEABLE",
                    "epic": "NATURALGAS", "instrumentType": "COMMODITIES", "lotSize": 1, "high": 2.798,
                    "low": 2.743, "percentageChange": 0.8053, "netChange": 0.022, "bid": 2.759,
                    "offer": 2.764, "updateTime": "2022-04-05T17:41:38.492",
                    "updateTimeUTC": "2022-04-05T14:41:38.492", "delayTime": 0,
                    "streamingPricesAvailable": true, "scalingFactor": 1
                }
            },
            {
                "position": {
                    "contractSize": 1, "createdDate": "2022-04-05T12:46:10.139",
                    "createdDateUTC": "2022-04-05T09:46:10.139",
                    "dealId": "004d0627-0001-54c4-0000-000080560017",
                    "dealReference": "p_004d0627-0001-54c4-0000-000080560017",
                    "workingOrderId": "004d0627-0001-54c4-0000-000080560015", "size": 1.0, "leverage": 20,
                    "upl": -0.8, "direction": "BUY", "level": 3985.1, "currency": "USD",
                    "guaranteedStop": false
                },
                "market": {
                    "instrumentName": "S&P 500", "expiry": "2022-02-01", "marketStatus": "TRADEABLE",
                    "epic": "US500", "instrumentType": "INDICES", "lotSize": 1, "high": 3984.6,
                    "low": 3950.3, "percentageChange": -0.0301, "netChange": -1.2, "bid": 3984.3,
                    "offer": 3985.1, "updateTime": "2022-04-05T17:41:37.991",
                    "updateTimeUTC": "2022-04-05T14:41:37.991", "delayTime": 0,
                    "streamingPricesAvailable": true, "scalingFactor": 1
                }
            }
        ]
    })
}

/// Single position: "Successful response".
pub fn single_position() -> Value {
    json!({
        "position": {
            "contractSize": 1, "createdDate": "2022-04-06T10:49:52.056",
            "createdDateUTC": "2022-04-06T07:49:52.056", "dealId": "006011e7-0001-54c4-0000-00008056005e",
            "dealReference": "p_006011e7-0001-54c4-0000-00008056005e",
            "workingOrderId": "006011e7-0001-54c4-0000-00008056005c", "size": 1.0, "leverage": 20,
            "upl": -0.022, "direction": "BUY", "level": 21.059, "currency": "USD", "guaranteedStop": false
        },
        "market": {
            "instrumentName": "Silver", "expiry": "-", "marketStatus": "TRADEABLE", "epic": "SILVER",
            "instrumentType": "COMMODITIES", "lotSize": 1, "high": 21.167, "low": 20.823,
            "percentageChange": 1.8478, "netChange": 0.381, "bid": 21.037, "offer": 21.057,
            "updateTime": "2022-04-06T10:53:35.389", "updateTimeUTC": "2022-04-06T07:53:35.389",
            "delayTime": 0, "streamingPricesAvailable": true, "scalingFactor": 1
        }
    })
}

/// All working orders: "Successful response".
pub fn all_working_orders() -> Value {
    json!({
        "workingOrders": [
            {
                "workingOrderData": {
                    "dealId": "006011e7-0001-54c4-0000-000080560078", "direction": "BUY", "epic": "SILVER",
                    "orderSize": 1, "orderLevel": 20, "timeInForce": "GOOD_TILL_DATE",
                    "goodTillDate": "2022-06-09T04:01:00.000",
                    "goodTillDateUTC": "2022-06-09T01:01:00.000", "createdDate": "2022-04-06T12:48:28.114",
                    "createdDateUTC": "2022-04-06T09:48:28.114", "guaranteedStop": true,
                    "orderType": "LIMIT", "stopDistance": -3, "profitDistance": 3, "currencyCode": "USD"
                },
                "marketData": {
                    "instrumentName": "Silver", "expiry": "-", "marketStatus": "TRADEABLE",
                    "epic": "SILVER", "instrumentType": "COMMODITIES", "lotSize": 50, "high": 24.398,
                    "low": 24.193, "percentageChange": -0.6198, "netChange": -0.152, "bid": 24.387,
                    "offer": 24.407, "updateTime": "2022-04-06T12:48:31.587",
                    "updateTimeUTC": "2022-04-06T09:48:31.587", "delayTime": 0,
                    "streamingPricesAvailable": true, "scalingFactor": 1
                }
            },
            {
                "workingOrderData": {
                    "dealId": "00018387-0001-54c4-0000-000080560019", "direction": "BUY",
                    "epic": "NATURALGAS", "orderSize": 1, "orderLevel": 6,
                    "timeInForce": "GOOD_TILL_CANCELLED", "createdDate": "2022-04-06T12:13:46.571",
                    "createdDateUTC": "2022-04-06T09:13:46.571", "guaranteedStop": false,
                    "orderType": "LIMIT", "currencyCode": "USD"
                },
                "marketData": {
                    "instrumentName": "Natural Gas", "expiry": "-", "marketStatus": "TRADEABLE",
                    "epic": "NATURALGAS", "instrumentType": "COMMODITIES", "lotSize": 1000, "high": 6.194,
                    "low": 6.073, "percentageChange": 6.4472, "netChange": 0.374, "bid": 6.185,
                    "offer": 6.195, "updateTime": "2022-04-06T12:48:24.795",
                    "updateTimeUTC": "2022-04-06T09:48:24.795", "delayTime": 0,
                    "streamingPricesAvailable": true, "scalingFactor": 1
                }
            }
        ]
    })
}

/// All accounts: "Successfull response".
pub fn all_accounts() -> Value {
    json!({
        "accounts": [
            {
                "accountId": "12345678901234567", "accountName": "USD", "status": "ENABLED",
                "accountType": "CFD", "preferred": true,
                "balance": {"balance": 124.95, "deposit": 125.18, "profitLoss": -0.23, "available": 116.93},
                "currency": "USD"
            },
            {
                "accountId": "12345678907654321", "accountName": "Second account", "status": "ENABLED",
                "accountType": "CFD", "preferred": false,
                "balance": {"balance": 100.0, "deposit": 100.0, "profitLoss": 0.0, "available": 0.0},
                "currency": "USD"
            }
        ]
    })
}

/// Account preferences: "Successful response".
pub fn account_preferences() -> Value {
    json!({
        "hedgingMode": false,
        "leverages": {
            "SHARES": {"current": 2, "available": [1, 2, 3, 5]},
            "CURRENCIES": {"current": 1, "available": [1, 10, 20, 30]},
            "INDICES": {"current": 10, "available": [1, 10, 20]},
            "CRYPTOCURRENCIES": {"current": 1, "available": [1, 2]},
            "COMMODITIES": {"current": 5, "available": [1, 5, 10, 20]}
        }
    })
}

/// Account activity history: "Success: Filter list by date".
pub fn activity_by_date() -> Value {
    json!({
        "activities": [
            {
                "date": "2022-01-17T18:09:47.344", "dateUTC": "2022-01-17T15:09:47.344",
                "epic": "OIL_CRUDE", "dealId": "00018509-0001-54c4-0000-000080430164", "source": "USER",
                "type": "POSITION", "status": "ACCEPTED"
            },
            {
                "date": "2022-01-17T18:09:47.344", "dateUTC": "2022-01-17T15:09:47.344",
                "epic": "OIL_CRUDE", "dealId": "00018509-0001-54c4-0000-000080430163", "source": "SYSTEM",
                "type": "WORKING_ORDER", "status": "ACCEPTED"
            },
            {
                "date": "2022-01-17T18:09:47.344", "dateUTC": "2022-01-17T15:09:47.344",
                "epic": "OIL_CRUDE", "dealId": "00018509-0001-54c4-0000-000080430163", "source": "USER",
                "type": "WORKING_ORDER", "status": "ACCEPTED"
            }
        ]
    })
}

/// Account activity history: "Success: Filter list by dealId with enabled detailed view".
pub fn activity_detailed() -> Value {
    json!({
        "activities": [
            {
                "date": "2022-01-03T18:01:48.536", "dateUTC": "2022-01-03T15:01:48.536",
                "epic": "OIL_CRUDE", "dealId": "00018509-0001-54c4-0000-0000803c0ec6", "source": "SYSTEM",
                "type": "EDIT_STOP_AND_LIMIT", "status": "REJECTED",
                "details": {
                    "dealReference": "p_00018509-0001-54c4-0000-0000803c0ec6", "marketName": "Crude Oil",
                    "currency": "USD", "size": 0, "direction": "SELL", "level": 75.31,
                    "guaranteedStop": false
                }
            },
            {
                "date": "2022-01-03T18:01:48.420", "dateUTC": "2022-01-03T15:01:48.420",
                "epic": "OIL_CRUDE", "dealId": "00018509-0001-54c4-0000-0000803c0ec6",
                "source": "CLOSE_OUT", "type": "POSITION", "status": "ACCEPTED",
                "details": {
                    "dealReference": "p_00018509-0001-54c4-0000-0000803c0ec6", "marketName": "Crude Oil",
                    "currency": "USD", "size": 1, "direction": "SELL", "level": 75.2,
                    "guaranteedStop": false
                }
            },
            {
                "date": "2022-01-03T18:01:34.228", "dateUTC": "2022-01-03T15:01:34.228",
                "epic": "OIL_CRUDE", "dealId": "00018509-0001-54c4-0000-0000803c0ec6", "source": "USER",
                "type": "POSITION", "status": "ACCEPTED",
                "details": {
                    "dealReference": "p_00018509-0001-54c4-0000-0000803c0ec6", "marketName": "Crude Oil",
                    "currency": "USD", "size": 1, "direction": "BUY", "level": 75.31,
                    "guaranteedStop": false
                }
            }
        ]
    })
}

/// Historical prices: "Success: Default response".
pub fn prices_minute() -> Value {
    json!({
        "prices": [
            {
                "snapshotTime": "2022-04-06T15:18:00", "snapshotTimeUTC": "2022-04-06T13:18:00",
                "openPrice": {"bid": 24.356, "ask": 24.376}, "closePrice": {"bid": 24.378, "ask": 24.398},
                "highPrice": {"bid": 24.378, "ask": 24.398}, "lowPrice": {"bid": 24.355, "ask": 24.375},
                "lastTradedVolume": 187
            },
            {
                "snapshotTime": "2022-04-06T15:19:00", "snapshotTimeUTC": "2022-04-06T13:19:00",
                "openPrice": {"bid": 24.379, "ask": 24.399}, "closePrice": {"bid": 24.379, "ask": 24.399},
                "highPrice": {"bid": 24.389, "ask": 24.409}, "lowPrice": {"bid": 24.373, "ask": 24.393},
                "lastTradedVolume": 168
            },
            {
                "snapshotTime": "2022-04-06T15:20:00", "snapshotTimeUTC": "2022-04-06T13:20:00",
                "openPrice": {"bid": 24.378, "ask": 24.398}, "closePrice": {"bid": 24.4, "ask": 24.42},
                "highPrice": {"bid": 24.4, "ask": 24.42}, "lowPrice": {"bid": 24.375, "ask": 24.395},
                "lastTradedVolume": 183
            },
            {
                "snapshotTime": "2022-04-06T15:21:00", "snapshotTimeUTC": "2022-04-06T13:21:00",
                "openPrice": {"bid": 24.399, "ask": 24.419}, "closePrice": {"bid": 24.395, "ask": 24.415},
                "highPrice": {"bid": 24.405, "ask": 24.425}, "lowPrice": {"bid": 24.388, "ask": 24.408},
                "lastTradedVolume": 196
            },
            {
                "snapshotTime": "2022-04-06T15:22:00", "snapshotTimeUTC": "2022-04-06T13:22:00",
                "openPrice": {"bid": 24.394, "ask": 24.414}, "closePrice": {"bid": 24.399, "ask": 24.419},
                "highPrice": {"bid": 24.4, "ask": 24.42}, "lowPrice": {"bid": 24.383, "ask": 24.403},
                "lastTradedVolume": 171
            },
            {
                "snapshotTime": "2022-04-06T15:23:00", "snapshotTimeUTC": "2022-04-06T13:23:00",
                "openPrice": {"bid": 24.398, "ask": 24.418}, "closePrice": {"bid": 24.381, "ask": 24.401},
                "highPrice": {"bid": 24.405, "ask": 24.425}, "lowPrice": {"bid": 24.38, "ask": 24.4},
                "lastTradedVolume": 161
            },
            {
                "snapshotTime": "2022-04-06T15:24:00", "snapshotTimeUTC": "2022-04-06T13:24:00",
                "openPrice": {"bid": 24.38, "ask": 24.4}, "closePrice": {"bid": 24.387, "ask": 24.407},
                "highPrice": {"bid": 24.399, "ask": 24.419}, "lowPrice": {"bid": 24.38, "ask": 24.4},
                "lastTradedVolume": 155
            },
            {
                "snapshotTime": "2022-04-06T15:25:00", "snapshotTimeUTC": "2022-04-06T13:25:00",
                "openPrice": {"bid": 24.388, "ask": 24.408}, "closePrice": {"bid": 24.389, "ask": 24.409},
                "highPrice": {"bid": 24.393, "ask": 24.413}, "lowPrice": {"bid": 24.384, "ask": 24.404},
                "lastTradedVolume": 118
            },
            {
                "snapshotTime": "2022-04-06T15:26:00", "snapshotTimeUTC": "2022-04-06T13:26:00",
                "openPrice": {"bid": 24.389, "ask": 24.409}, "closePrice": {"bid": 24.373, "ask": 24.393},
                "highPrice": {"bid": 24.39, "ask": 24.41}, "lowPrice": {"bid": 24.37, "ask": 24.39},
                "lastTradedVolume": 143
            },
            {
                "snapshotTime": "2022-04-06T15:27:00", "snapshotTimeUTC": "2022-04-06T13:27:00",
                "openPrice": {"bid": 24.372, "ask": 24.392}, "closePrice": {"bid": 24.375, "ask": 24.395},
                "highPrice": {"bid": 24.376, "ask": 24.396}, "lowPrice": {"bid": 24.371, "ask": 24.391},
                "lastTradedVolume": 44
            }
        ],
        "instrumentType": "COMMODITIES"
    })
}

/// Historical prices: "Success: Use not default resolution, start date and max parameters".
pub fn prices_quarter_hour() -> Value {
    json!({
        "prices": [
            {
                "snapshotTime": "2022-02-24T01:00:00", "snapshotTimeUTC": "2022-02-24T00:00:00",
                "openPrice": {"bid": 24.541, "ask": 24.561}, "closePrice": {"bid": 24.527, "ask": 24.547},
                "highPrice": {"bid": 24.557, "ask": 24.577}, "lowPrice": {"bid": 24.522, "ask": 24.542},
                "lastTradedVolume": 858
            },
            {
                "snapshotTime": "2022-02-24T01:15:00", "snapshotTimeUTC": "2022-02-24T00:15:00",
                "openPrice": {"bid": 24.526, "ask": 24.546}, "closePrice": {"bid": 24.532, "ask": 24.552},
                "highPrice": {"bid": 24.561, "ask": 24.581}, "lowPrice": {"bid": 24.51, "ask": 24.53},
                "lastTradedVolume": 1005
            },
            {
                "snapshotTime": "2022-02-24T01:30:00", "snapshotTimeUTC": "2022-02-24T00:30:00",
                "openPrice": {"bid": 24.531, "ask": 24.551}, "closePrice": {"bid": 24.57, "ask": 24.59},
                "highPrice": {"bid": 24.578, "ask": 24.598}, "lowPrice": {"bid": 24.531, "ask": 24.551},
                "lastTradedVolume": 1214
            },
            {
                "snapshotTime": "2022-02-24T01:45:00", "snapshotTimeUTC": "2022-02-24T00:45:00",
                "openPrice": {"bid": 24.569, "ask": 24.589}, "closePrice": {"bid": 24.583, "ask": 24.603},
                "highPrice": {"bid": 24.587, "ask": 24.607}, "lowPrice": {"bid": 24.561, "ask": 24.581},
                "lastTradedVolume": 771
            }
        ],
        "instrumentType": "COMMODITIES"
    })
}
