//! Test fixtures: v20 payloads shaped exactly as the OpenAPI `definitions` describe them (`Account`,
//! `TradeSummary`, `Position`, the `Order` subtypes, `OrderFillTransaction`, `OrderCancelTransaction`),
//! with decimals as strings and times in RFC 3339 with nanoseconds, as OANDA sends them. The fixed ones
//! are JSON files in `testdata/oanda/v20/`, compiled in.

use super::model;
use crate::backends::oanda::catalog::{AccountCatalog, SymbolRules};
use crate::backends::oanda::venue::{InstrumentKind, InstrumentSpec};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::upstream::fixtures::load;
pub use crate::upstream::fixtures::parse;

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
    load(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/oanda/v20/account.json"
    )))
}

/// The account of [`account_json`].
pub fn account() -> model::Account {
    parse::<model::AccountResponse>(account_json()).account
}

/// `GET /orders?state=ALL`: a filled market order of the bridge, an expired limit order, a market order
/// killed for lack of margin, the order replaced by 6372, a market order made by a trade close, a filled
/// take profit and a cancelled stop loss of a closed trade, an old fill, and a pending order.
pub fn all_orders_json() -> Value {
    load(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/oanda/v20/orders_all.json"
    )))
}

/// The orders of [`all_orders_json`].
pub fn all_orders() -> Vec<model::Order> {
    parse::<model::OrdersResponse>(all_orders_json()).orders
}

/// `ORDER_FILL` 6381: market order 6380 (client id tv-2) opened trade 6381, 100 EUR_USD at 1.10012.
pub fn market_fill_json() -> Value {
    load(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/oanda/v20/market_fill.json"
    )))
}

/// `ORDER_FILL` 6390: a sell of 150 that closed trade 6368 (100) and opened trade 6390 (50), with a
/// commission.
pub fn reversing_fill_json() -> Value {
    load(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/oanda/v20/reversing_fill.json"
    )))
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

/// `GET /v3/accounts/{id}/instruments` as documented: decimals are strings, precision as sent.
pub fn instruments_body() -> serde_json::Value {
    json!({"instruments": [
        {"name": "EUR_USD", "type": "CURRENCY", "displayName": "EUR/USD", "pipLocation": -4,
         "displayPrecision": 5, "tradeUnitsPrecision": 0, "minimumTradeSize": "1",
         "maximumTrailingStopDistance": "1.00000", "minimumTrailingStopDistance": "0.00050",
         "maximumPositionSize": "0", "maximumOrderUnits": "100000000", "marginRate": "0.0333",
         "commission": {"commission": "0.0000", "unitsTraded": "1000000", "minimumCommission": "0.0000"}},
        {"name": "USD_JPY", "type": "CURRENCY", "displayName": "USD/JPY", "pipLocation": -2,
         "displayPrecision": 3, "tradeUnitsPrecision": 0, "minimumTradeSize": "1",
         "maximumTrailingStopDistance": "100.000", "minimumTrailingStopDistance": "0.050",
         "maximumPositionSize": "0", "maximumOrderUnits": "100000000", "marginRate": "0.04"},
        {"name": "XAU_USD", "type": "METAL", "displayName": "Gold", "pipLocation": -2,
         "displayPrecision": 3, "tradeUnitsPrecision": 0, "minimumTradeSize": "1",
         "maximumOrderUnits": "5000", "marginRate": "0.05"},
        {"name": "DE30_EUR", "type": "CFD", "displayName": "Germany 30", "pipLocation": 0,
         "displayPrecision": 1, "tradeUnitsPrecision": 1, "minimumTradeSize": "0.1",
         "maximumTrailingStopDistance": "10000.0", "minimumTrailingStopDistance": "5.0",
         "maximumOrderUnits": "2500", "marginRate": "0.05"},
        {"name": "XYZ_USD", "type": "SOMETHING_NEW", "pipLocation": -2, "displayPrecision": 2,
         "tradeUnitsPrecision": 2, "minimumTradeSize": "0.01", "maximumOrderUnits": "100",
         "marginRate": "0.5"},
        {"name": "NO_RULES", "type": "CURRENCY", "displayName": "No rules", "pipLocation": -4,
         "displayPrecision": 5},
        {"type": "CURRENCY", "pipLocation": -4}
    ], "lastTransactionID": "6356"})
}

/// `GET /v3/instruments/EUR_USD/candles?price=MBA` as documented.
pub fn candles_body() -> serde_json::Value {
    json!({"instrument": "EUR_USD", "granularity": "S5", "candles": [
        {"complete": true, "volume": 12, "time": "2016-10-17T15:16:40.000000000Z",
         "bid": {"o": "1.09880", "h": "1.09890", "l": "1.09875", "c": "1.09885"},
         "mid": {"o": "1.09887", "h": "1.09896", "l": "1.09882", "c": "1.09890"},
         "ask": {"o": "1.09894", "h": "1.09902", "l": "1.09889", "c": "1.09895"}},
        {"complete": false, "volume": 3, "time": "2016-10-17T15:16:45.000000000Z",
         "mid": {"o": "1.09890", "h": "1.09900", "l": "1.09890", "c": "1.09900"}}
    ]})
}
