//! Test fixtures: v20 payloads shaped exactly as the OpenAPI `definitions` describe them (`Account`,
//! `TradeSummary`, `Position`, the `Order` subtypes, `OrderFillTransaction`, `OrderCancelTransaction`),
//! with decimals as strings and times in RFC 3339 with nanoseconds, as OANDA sends them.

use super::model;
use crate::backends::oanda::catalog::{AccountCatalog, SymbolRules};
use crate::backends::oanda::venue::{InstrumentKind, InstrumentSpec};
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// Deserialises a fixture (one that does not parse is a broken test, hence the panic).
pub fn parse<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("fixture deserialises")
}

/// An instrument as the data module would describe it.
pub fn spec(name: &str, pip_location: i32, display_precision: u32) -> InstrumentSpec {
    InstrumentSpec {
        name: name.into(),
        display_name: name.replace('_', "/"),
        kind: InstrumentKind::Currency,
        pip_location,
        display_precision,
        units_precision: 0,
        min_units: Decimal::ONE,
        max_units: Decimal::from(100_000_000),
        margin_rate: Decimal::new(333, 4),
        min_trailing_distance: Some(Decimal::new(50, 5)),
        max_trailing_distance: Some(Decimal::ONE),
    }
}

/// EUR_USD (pip 0.0001, 5 decimals) and USD_JPY (pip 0.01, 3 decimals) with the default symbols.
pub fn catalog() -> AccountCatalog {
    let mut jpy = spec("USD_JPY", -2, 3);
    jpy.min_trailing_distance = Some(Decimal::new(5, 2));
    jpy.max_trailing_distance = Some(Decimal::from(100));
    AccountCatalog::new(vec![spec("EUR_USD", -4, 5), jpy], &SymbolRules::default())
}

pub const ACCOUNT_ID: &str = "101-004-1435156-001";

/// `GET /accounts/{id}`: a netting account with two open trades (EUR_USD long with take profit, stop loss
/// and trailing stop; USD_JPY short with a guaranteed stop loss), their positions and a flat one, and
/// three pending entry orders (a LIMIT with all three on-fill legs, a STOP with a price bound, a
/// MARKET_IF_TOUCHED).
pub fn account_json() -> Value {
    let mut account = json!({
            "id": ACCOUNT_ID,
            "alias": "Primary",
            "currency": "USD",
            "balance": "100000.0000",
            "createdByUserID": 1435156,
            "createdTime": "2016-06-22T18:41:29.285982286Z",
            "guaranteedStopLossOrderMode": "ALLOWED",
            "pl": "-12.3456",
            "resettablePL": "-12.3456",
            "financing": "-0.1234",
            "commission": "0.0000",
            "guaranteedExecutionFees": "0.0000",
            "marginRate": "0.02",
            "openTradeCount": 2,
            "openPositionCount": 2,
            "pendingOrderCount": 7,
            "hedgingEnabled": false,
            "unrealizedPL": "2.5000",
            "NAV": "100002.5000",
            "marginUsed": "33.3300",
            "marginAvailable": "99969.1700",
            "positionValue": "1666.5000",
            "marginCloseoutUnrealizedPL": "2.6000",
            "marginCloseoutNAV": "100002.6000",
            "marginCloseoutMarginUsed": "33.3300",
            "marginCloseoutPercent": "0.00017",
            "marginCloseoutPositionValue": "1666.5000",
            "withdrawalLimit": "99969.1700",
            "marginCallMarginUsed": "33.3300",
            "marginCallPercent": "0.00033",
            "lastTransactionID": "6380"
    });
    account["trades"] = trades_json();
    account["positions"] = positions_json();
    account["orders"] = pending_json();
    json!({"account": account, "lastTransactionID": "6380"})
}

fn trades_json() -> Value {
    json!([
        {
            "id": "6368",
            "instrument": "EUR_USD",
            "price": "1.10000",
            "openTime": "2016-10-28T14:28:05.231759081Z",
            "state": "OPEN",
            "initialUnits": "100",
            "initialMarginRequired": "2.2000",
            "currentUnits": "100",
            "realizedPL": "0.0000",
            "unrealizedPL": "1.5000",
            "marginUsed": "2.2000",
            "financing": "0.0000",
            "takeProfitOrderID": "6369",
            "stopLossOrderID": "6370",
            "trailingStopLossOrderID": "6371"
        },
        {
            "id": "6375",
            "instrument": "USD_JPY",
            "price": "150.000",
            "openTime": "2016-10-28T15:00:00.000000000Z",
            "state": "OPEN",
            "initialUnits": "-200",
            "currentUnits": "-200",
            "realizedPL": "0.0000",
            "unrealizedPL": "1.0000",
            "marginUsed": "31.1300",
            "financing": "0.0000",
            "stopLossOrderID": "6376"
        }
    ])
}

fn positions_json() -> Value {
    json!([
        {
            "instrument": "EUR_USD",
            "pl": "-12.3456",
            "unrealizedPL": "1.5000",
            "marginUsed": "2.2000",
            "resettablePL": "-12.3456",
            "financing": "0.0000",
            "commission": "0.0000",
            "long": {"units": "100", "averagePrice": "1.10000", "tradeIDs": ["6368"], "pl": "-12.3456",
                     "unrealizedPL": "1.5000", "resettablePL": "-12.3456", "financing": "0.0000"},
            "short": {"units": "0", "pl": "0.0000", "unrealizedPL": "0.0000", "resettablePL": "0.0000",
                      "financing": "0.0000"}
        },
        {
            "instrument": "USD_JPY",
            "pl": "0.0000",
            "unrealizedPL": "1.0000",
            "long": {"units": "0", "pl": "0.0000", "unrealizedPL": "0.0000"},
            "short": {"units": "-200", "averagePrice": "150.000", "tradeIDs": ["6375"], "pl": "0.0000",
                      "unrealizedPL": "1.0000"}
        },
        {
            "instrument": "GBP_USD",
            "pl": "4.0000",
            "unrealizedPL": "0.0000",
            "long": {"units": "0", "pl": "4.0000", "unrealizedPL": "0.0000"},
            "short": {"units": "0", "pl": "0.0000", "unrealizedPL": "0.0000"}
        }
    ])
}

fn pending_json() -> Value {
    json!([
        {
            "id": "6372",
            "createTime": "2016-10-28T14:30:00.000000000Z",
            "state": "PENDING",
            "clientExtensions": {"id": "tv-1", "tag": "tvbridge"},
            "type": "LIMIT",
            "instrument": "EUR_USD",
            "units": "1000",
            "price": "1.05000",
            "timeInForce": "GTC",
            "positionFill": "DEFAULT",
            "triggerCondition": "DEFAULT",
            "takeProfitOnFill": {"price": "1.10000", "timeInForce": "GTC"},
            "stopLossOnFill": {"distance": "0.00500", "timeInForce": "GTC"},
            "trailingStopLossOnFill": {"distance": "0.00100", "timeInForce": "GTC"},
            "replacesOrderID": "6350"
        },
        {
            "id": "6373",
            "createTime": "2016-10-28T14:31:00.000000000Z",
            "state": "PENDING",
            "type": "STOP",
            "instrument": "EUR_USD",
            "units": "-500",
            "price": "1.04000",
            "priceBound": "1.03900",
            "timeInForce": "GTD",
            "gtdTime": "2016-11-01T00:00:00.000000000Z",
            "positionFill": "DEFAULT",
            "triggerCondition": "DEFAULT"
        },
        {
            "id": "6374",
            "createTime": "2016-10-28T14:32:00.000000000Z",
            "state": "PENDING",
            "type": "MARKET_IF_TOUCHED",
            "instrument": "USD_JPY",
            "units": "300",
            "price": "149.000",
            "initialMarketPrice": "150.010",
            "timeInForce": "GFD",
            "positionFill": "DEFAULT",
            "triggerCondition": "DEFAULT",
            "stopLossOnFill": {"price": "148.000", "guaranteed": true}
        },
        {
            "id": "6369",
            "createTime": "2016-10-28T14:28:05.231759081Z",
            "state": "PENDING",
            "type": "TAKE_PROFIT",
            "tradeID": "6368",
            "price": "1.12000",
            "timeInForce": "GTC",
            "triggerCondition": "DEFAULT"
        },
        {
            "id": "6370",
            "createTime": "2016-10-28T14:28:05.231759081Z",
            "state": "PENDING",
            "type": "STOP_LOSS",
            "tradeID": "6368",
            "price": "1.09000",
            "timeInForce": "GTC",
            "triggerCondition": "DEFAULT",
            "guaranteed": false
        },
        {
            "id": "6371",
            "createTime": "2016-10-28T14:28:05.231759081Z",
            "state": "PENDING",
            "type": "TRAILING_STOP_LOSS",
            "tradeID": "6368",
            "distance": "0.00250",
            "timeInForce": "GTC",
            "triggerCondition": "DEFAULT",
            "trailingStopValue": "1.09750"
        },
        {
            "id": "6376",
            "createTime": "2016-10-28T15:00:00.000000000Z",
            "state": "PENDING",
            "type": "STOP_LOSS",
            "tradeID": "6375",
            "price": "151.000",
            "timeInForce": "GTC",
            "triggerCondition": "DEFAULT",
            "guaranteed": true,
            "guaranteedExecutionPremium": "0.010"
        }
    ])
}

/// The account of [`account_json`].
pub fn account() -> model::Account {
    parse::<model::AccountResponse>(account_json()).account
}

/// `GET /orders?state=ALL`: a filled market order of the bridge, an expired limit order, a market order
/// killed for lack of margin, the order replaced by 6372, a market order made by a trade close, a filled
/// take profit and a cancelled stop loss of a closed trade, an old fill, and a pending order.
pub fn all_orders_json() -> Value {
    json!({
        "orders": [
            {"id": "6380", "createTime": "2016-10-28T16:00:00.000000000Z", "state": "FILLED", "type": "MARKET",
             "clientExtensions": {"id": "tv-2", "tag": "tvbridge"}, "instrument": "EUR_USD", "units": "100",
             "timeInForce": "FOK", "positionFill": "DEFAULT", "fillingTransactionID": "6381",
             "filledTime": "2016-10-28T16:00:00.000000000Z", "tradeOpenedID": "6381"},
            {"id": "6372", "createTime": "2016-10-28T14:30:00.000000000Z", "state": "PENDING", "type": "LIMIT",
             "clientExtensions": {"id": "tv-1", "tag": "tvbridge"}, "instrument": "EUR_USD", "units": "1000",
             "price": "1.05000", "timeInForce": "GTC", "positionFill": "DEFAULT"},
            {"id": "6362", "createTime": "2016-10-28T13:00:00.000000000Z", "state": "CANCELLED", "type": "MARKET",
             "clientExtensions": {"id": "tv-3", "tag": "tvbridge"}, "instrument": "EUR_USD", "units": "-50000000",
             "timeInForce": "FOK", "positionFill": "DEFAULT", "cancellingTransactionID": "6363",
             "cancelledTime": "2016-10-28T13:00:00.000000000Z"},
            {"id": "6360", "createTime": "2016-10-27T13:00:00.000000000Z", "state": "CANCELLED", "type": "LIMIT",
             "instrument": "USD_JPY", "units": "10", "price": "140.000", "timeInForce": "GTD",
             "gtdTime": "2016-10-28T12:00:00.000000000Z", "positionFill": "DEFAULT",
             "cancellingTransactionID": "6361", "cancelledTime": "2016-10-28T12:00:00.000000000Z"},
            {"id": "6355", "createTime": "2016-10-28T11:00:00.000000000Z", "state": "FILLED", "type": "MARKET",
             "instrument": "EUR_USD", "units": "-100", "timeInForce": "FOK", "positionFill": "REDUCE_ONLY",
             "tradeClose": {"tradeID": "6330", "units": "ALL"}, "fillingTransactionID": "6356",
             "filledTime": "2016-10-28T11:00:00.000000000Z", "tradeClosedIDs": ["6330"]},
            {"id": "6350", "createTime": "2016-10-28T10:00:00.000000000Z", "state": "CANCELLED", "type": "LIMIT",
             "clientExtensions": {"id": "tv-1", "tag": "tvbridge"}, "instrument": "EUR_USD", "units": "1000",
             "price": "1.04000", "timeInForce": "GTC", "positionFill": "DEFAULT",
             "cancellingTransactionID": "6372", "cancelledTime": "2016-10-28T14:30:00.000000000Z",
             "replacedByOrderID": "6372"},
            {"id": "6340", "createTime": "2016-10-28T09:00:00.000000000Z", "state": "FILLED", "type": "TAKE_PROFIT",
             "tradeID": "6331", "price": "1.20000", "timeInForce": "GTC", "fillingTransactionID": "6345",
             "filledTime": "2016-10-28T10:30:00.000000000Z", "tradeClosedIDs": ["6331"]},
            {"id": "6341", "createTime": "2016-10-28T09:00:00.000000000Z", "state": "CANCELLED", "type": "STOP_LOSS",
             "tradeID": "6331", "price": "1.00000", "timeInForce": "GTC", "cancellingTransactionID": "6346",
             "cancelledTime": "2016-10-28T10:30:00.000000000Z"},
            {"id": "6001", "createTime": "2016-10-01T09:00:00.000000000Z", "state": "FILLED", "type": "MARKET",
             "instrument": "EUR_USD", "units": "1", "timeInForce": "FOK", "fillingTransactionID": "6002",
             "filledTime": "2016-10-01T09:00:00.000000000Z", "tradeOpenedID": "6002"}
        ],
        "lastTransactionID": "6381"
    })
}

/// The orders of [`all_orders_json`].
pub fn all_orders() -> Vec<model::Order> {
    parse::<model::OrdersResponse>(all_orders_json()).orders
}

/// `ORDER_FILL` 6381: market order 6380 (client id tv-2) opened trade 6381, 100 EUR_USD at 1.10012.
pub fn market_fill_json() -> Value {
    json!({
        "id": "6381", "time": "2016-10-28T16:00:00.000000000Z", "userID": 1435156, "accountID": ACCOUNT_ID,
        "batchID": "6380", "requestID": "42993464427546567", "type": "ORDER_FILL", "orderID": "6380",
        "clientOrderID": "tv-2", "instrument": "EUR_USD", "units": "100",
        "gainQuoteHomeConversionFactor": "1", "lossQuoteHomeConversionFactor": "1", "price": "1.10012",
        "fullVWAP": "1.10012",
        "fullPrice": {"type": "PRICE", "bids": [{"price": "1.10000", "liquidity": "10000000"}],
                      "asks": [{"price": "1.10012", "liquidity": "10000000"}],
                      "closeoutBid": "1.09996", "closeoutAsk": "1.10016"},
        "reason": "MARKET_ORDER", "pl": "0.0000", "financing": "0.0000", "commission": "0.0000",
        "guaranteedExecutionFee": "0.0000", "accountBalance": "100000.0000",
        "tradeOpened": {"tradeID": "6381", "units": "100", "price": "1.10012", "guaranteedExecutionFee": "0.0000",
                        "halfSpreadCost": "0.0060", "initialMarginRequired": "2.2000"},
        "halfSpreadCost": "0.0060"
    })
}

/// `ORDER_FILL` 6390: a sell of 150 that closed trade 6368 (100) and opened trade 6390 (50), with a
/// commission.
pub fn reversing_fill_json() -> Value {
    json!({
        "id": "6390", "time": "2016-10-29T10:00:00.000000000Z", "accountID": ACCOUNT_ID, "batchID": "6389",
        "type": "ORDER_FILL", "orderID": "6389", "instrument": "EUR_USD", "units": "-150", "price": "1.10100",
        "reason": "MARKET_ORDER", "pl": "1.0000", "commission": "0.1500", "accountBalance": "100001.0000",
        "tradesClosed": [{"tradeID": "6368", "units": "-100", "price": "1.10100", "realizedPL": "1.0000",
                          "financing": "0.0000", "halfSpreadCost": "0.0050"}],
        "tradeOpened": {"tradeID": "6390", "units": "-50", "price": "1.10100", "halfSpreadCost": "0.0025"}
    })
}

/// `ORDER_CANCEL` of `order` for `reason` (e.g. `INSUFFICIENT_MARGIN`).
pub fn cancel_json(id: &str, order: &str, reason: &str) -> Value {
    json!({
        "id": id, "time": "2016-10-28T13:00:00.000000000Z", "userID": 1435156, "accountID": ACCOUNT_ID,
        "batchID": id, "requestID": "42993464427546568", "type": "ORDER_CANCEL", "orderID": order,
        "reason": reason
    })
}

/// A transaction of a fixture.
pub fn tx(v: Value) -> model::Transaction {
    parse(v)
}
