//! Bad input, as a table: every case is refused with the exact `errmsg` that names the problem, and none
//! of them changes anything. Then the HTTP-level refusals (413, 404, 405, wrong content type), which must
//! still answer with the `{"s":"error","errmsg":..}` envelope and never with a 500.

use crate::support;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use rust_decimal::Decimal;
use serde_json::Value;
use support::*;
use tower::ServiceExt;

/// A valid market order of the smallest EURUSD size, that the cases below break one field at a time.
const MARKET: &str = "instrument=EURUSD&side=buy&type=market&qty=1000";

/// `{hedge_order}` in a path is replaced by the id of a working buy limit order on `demo-hedge`.
const HEDGE_ORDER: &str = "{hedge_order}";

/// (case name, method, path, form, the exact errmsg).
type Case = (
    &'static str,
    Method,
    &'static str,
    Option<&'static str>,
    &'static str,
);

const CASES: &[Case] = &[
    // --- place order: missing fields ---
    (
        "missing instrument",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("side=buy&type=market&qty=1000"),
        "form field 'instrument' is required",
    ),
    (
        "missing side",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&type=market&qty=1000"),
        "form field 'side' is required",
    ),
    (
        "missing type",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&qty=1000"),
        "form field 'type' is required",
    ),
    (
        "missing qty",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market"),
        "form field 'qty' is required",
    ),
    (
        "empty qty",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty="),
        "form field 'qty' is required",
    ),
    // --- place order: quantity ---
    (
        "non-numeric qty",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=abc"),
        "form field 'qty' must be a plain decimal number, got 'abc'",
    ),
    (
        "NaN qty",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=NaN"),
        "form field 'qty' must be a plain decimal number, got 'NaN'",
    ),
    (
        "negative qty",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=-1000"),
        "'qty' must be greater than zero, got -1000",
    ),
    (
        "zero qty",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=0"),
        "'qty' must be greater than zero, got 0",
    ),
    (
        "qty off the lot step",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1500"),
        "quantity 1500 is not a multiple of the quantity step 1000 for EURUSD",
    ),
    (
        "qty below the minimum",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=500"),
        "quantity 500 is below the minimum 1000 for EURUSD",
    ),
    (
        "qty above the maximum",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=20000000"),
        "quantity 20000000 is above the maximum 10000000 for EURUSD",
    ),
    (
        "fractional qty below a stock's step",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=AAPL&side=buy&type=market&qty=1.5"),
        "quantity 1.5 is not a multiple of the quantity step 1 for AAPL",
    ),
    (
        "qty given twice",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1000&qty=2000"),
        "form field 'qty' is given more than once",
    ),
    // --- place order: instrument, side, type ---
    (
        "unknown instrument",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=NOPE&side=buy&type=market&qty=1000"),
        "Unknown instrument 'NOPE' for this account",
    ),
    (
        "unknown side",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=up&type=market&qty=1000"),
        "form field 'side' must be one of buy, sell, got 'up'",
    ),
    (
        "side in upper case",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=BUY&type=market&qty=1000"),
        "form field 'side' must be one of buy, sell, got 'BUY'",
    ),
    (
        "unknown type",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=iceberg&qty=1000"),
        "form field 'type' must be one of market, limit, stop, stoplimit, got 'iceberg'",
    ),
    // --- place order: prices against the type ---
    (
        "limit price on a market order",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1000&limitPrice=1.05"),
        "a market order takes no 'limitPrice' (got 1.05)",
    ),
    (
        "stop price on a market order",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1000&stopPrice=1.2"),
        "a market order takes no 'stopPrice' (got 1.2)",
    ),
    (
        "limit without limitPrice",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=limit&qty=1000"),
        "'limitPrice' is required for a limit order",
    ),
    (
        "limit with limitPrice=0 (TradingView's 'not set')",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice=0"),
        "'limitPrice' is required for a limit order",
    ),
    (
        "stop without stopPrice",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=stop&qty=1000"),
        "'stopPrice' is required for a stop order",
    ),
    (
        "stoplimit without stopPrice",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=stoplimit&qty=1000&limitPrice=1.2"),
        "'stopPrice' is required for a stoplimit order",
    ),
    (
        "stopPrice on a limit order",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice=1.05&stopPrice=1.2"),
        "a limit order takes no 'stopPrice' (got 1.2)",
    ),
    (
        "negative limitPrice",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice=-1.05"),
        "form field 'limitPrice' must be positive, got -1.05",
    ),
    (
        "non-numeric limitPrice",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice=1,05"),
        "form field 'limitPrice' must be a plain decimal number, got '1,05'",
    ),
    (
        "limit price off the tick grid",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice=1.000001"),
        "limit price 1.000001 is not a multiple of the tick size 0.00001 for EURUSD",
    ),
    // --- place order: brackets ---
    (
        "non-numeric stopLoss",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1000&stopLoss=abc"),
        "form field 'stopLoss' must be a plain decimal number, got 'abc'",
    ),
    (
        "negative takeProfit",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1000&takeProfit=-2"),
        "form field 'takeProfit' must be positive, got -2",
    ),
    (
        "guaranteedStop together with stopLoss",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1000&stopLoss=1.0&guaranteedStop=1.0"),
        "a guaranteed stop replaces the stop loss: send 'guaranteedStop' alone",
    ),
    (
        "negative trailingStopPips",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1000&trailingStopPips=-5"),
        "'trailingStopPips' must be greater than zero, got -5",
    ),
    // --- place order: durations ---
    (
        "unknown durationType",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice=1.05&durationType=forever"),
        "unknown durationType 'forever': expected one of gtc, day, gtt",
    ),
    (
        "durationType=gtc on a market order",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1000&durationType=gtc"),
        "duration 'gtc' does not apply to market orders",
    ),
    (
        "durationType=gtt without durationDateTime",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice=1.05&durationType=gtt"),
        "duration 'gtt' needs 'durationDateTime'",
    ),
    (
        "durationDateTime without durationType",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice=1.05&durationDateTime=1767700000"),
        "'durationDateTime' was given without 'durationType'",
    ),
    (
        "durationDateTime on gtc",
        Method::POST,
        "/accounts/demo-net/orders",
        Some(
            "instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice=1.05&durationType=gtc&durationDateTime=1767700000",
        ),
        "duration 'gtc' takes no 'durationDateTime'",
    ),
    (
        "non-integer durationDateTime",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice=1.05&durationType=gtt&durationDateTime=soon"),
        "form field 'durationDateTime' must be an integer, got 'soon'",
    ),
    (
        "gtt in the past",
        Method::POST,
        "/accounts/demo-net/orders",
        Some(
            "instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice=1.05&durationType=gtt&durationDateTime=1767614000",
        ),
        "the expiry time 1767614000 is not in the future",
    ),
    // --- preview / order info validate like placing ---
    (
        "previewOrder with qty off the step",
        Method::POST,
        "/accounts/demo-net/previewOrder",
        Some("instrument=EURUSD&side=buy&type=market&qty=1500"),
        "quantity 1500 is not a multiple of the quantity step 1000 for EURUSD",
    ),
    (
        "orderInfo without side",
        Method::POST,
        "/accounts/demo-net/orderInfo",
        Some("instrument=EURUSD&type=market&qty=1000"),
        "form field 'side' is required",
    ),
    // --- accounts ---
    (
        "unknown account in the path",
        Method::GET,
        "/accounts/nope/orders",
        None,
        "Unknown account 'nope': it is not one of this login's accounts",
    ),
    (
        "place on an unknown account",
        Method::POST,
        "/accounts/nope/orders",
        Some(MARKET),
        "Unknown account 'nope': it is not one of this login's accounts",
    ),
    (
        "another user's account state",
        Method::GET,
        "/accounts/other-net/state",
        None,
        "Unknown account 'other-net': it is not one of this login's accounts",
    ),
    (
        "place on another user's account",
        Method::POST,
        "/accounts/other-hedge/orders",
        Some(MARKET),
        "Unknown account 'other-hedge': it is not one of this login's accounts",
    ),
    // --- orders by id ---
    (
        "modify an unknown order",
        Method::PUT,
        "/accounts/demo-net/orders/999",
        Some("qty=1000"),
        "Unknown order '999' on account demo-net",
    ),
    (
        "cancel an unknown order",
        Method::DELETE,
        "/accounts/demo-net/orders/999",
        None,
        "Unknown order '999' on account demo-net",
    ),
    (
        "modify a limit order with a stopPrice",
        Method::PUT,
        "/accounts/demo-hedge/orders/{hedge_order}",
        Some("stopPrice=1.2"),
        "a limit order takes no 'stopPrice' (got 1.2)",
    ),
    (
        "modify an order with qty=0",
        Method::PUT,
        "/accounts/demo-hedge/orders/{hedge_order}",
        Some("qty=0"),
        "'qty' must be greater than zero, got 0",
    ),
    (
        "modify an order with qty off the step",
        Method::PUT,
        "/accounts/demo-hedge/orders/{hedge_order}",
        Some("qty=2500"),
        "quantity 2500 is not a multiple of the quantity step 1000 for EURUSD",
    ),
    // --- positions ---
    (
        "close an unknown position",
        Method::DELETE,
        "/accounts/demo-net/positions/nope",
        None,
        "Unknown position 'nope' on account demo-net",
    ),
    (
        "modify an unknown position",
        Method::PUT,
        "/accounts/demo-net/positions/nope",
        Some("stopLoss=1.0"),
        "Unknown position 'nope' on account demo-net",
    ),
    (
        "close an unknown individual position",
        Method::DELETE,
        "/accounts/demo-hedge/individualPositions/nope",
        None,
        "Unknown position 'nope' on account demo-hedge",
    ),
    (
        "modify an unknown individual position",
        Method::PUT,
        "/accounts/demo-hedge/individualPositions/nope",
        Some("takeProfit=2.0"),
        "Unknown position 'nope' on account demo-hedge",
    ),
    (
        "close an unknown net position",
        Method::DELETE,
        "/accounts/demo-hedge/netPositions/NOPE",
        None,
        "Unknown net position 'NOPE' on account demo-hedge",
    ),
    (
        "/positions on the hedging account",
        Method::GET,
        "/accounts/demo-hedge/positions",
        None,
        "account demo-hedge keeps individual positions: use /individualPositions and /netPositions",
    ),
    (
        "/individualPositions on the netting account",
        Method::GET,
        "/accounts/demo-net/individualPositions",
        None,
        "account demo-net nets positions per instrument: use /positions",
    ),
    (
        "/netPositions on the netting account",
        Method::GET,
        "/accounts/demo-net/netPositions",
        None,
        "account demo-net nets positions per instrument: use /positions",
    ),
    (
        "partial close with amount=-1",
        Method::DELETE,
        "/accounts/demo-net/positions/nope",
        Some("amount=-1"),
        "'amount' must be greater than zero, got -1",
    ),
    (
        "partial close with amount=abc",
        Method::DELETE,
        "/accounts/demo-net/positions/nope",
        Some("amount=abc"),
        "form field 'amount' must be a plain decimal number, got 'abc'",
    ),
    (
        "reverse an individual position",
        Method::PUT,
        "/accounts/demo-hedge/individualPositions/nope",
        Some("side=sell"),
        "an individual position cannot be reversed; close it and open a new one",
    ),
    (
        "reverse with an unknown side",
        Method::PUT,
        "/accounts/demo-net/positions/nope",
        Some("side=flat"),
        "form field 'side' must be one of buy, sell, got 'flat'",
    ),
    // --- leverage ---
    (
        "setLeverage without instrument",
        Method::POST,
        "/accounts/demo-net/setLeverage",
        Some("side=buy&orderType=market&leverage=10"),
        "form field 'instrument' is required",
    ),
    (
        "getLeverage without instrument",
        Method::POST,
        "/accounts/demo-net/getLeverage",
        Some("side=buy&orderType=market"),
        "form field 'instrument' is required",
    ),
    (
        "setLeverage with a bad side",
        Method::POST,
        "/accounts/demo-net/setLeverage",
        Some("instrument=EURUSD&side=long&orderType=market&leverage=10"),
        "form field 'side' must be one of buy, sell, got 'long'",
    ),
    (
        "setLeverage without leverage",
        Method::POST,
        "/accounts/demo-net/setLeverage",
        Some("instrument=EURUSD&side=buy&orderType=market"),
        "form field 'leverage' is required",
    ),
    (
        "setLeverage with leverage=0",
        Method::POST,
        "/accounts/demo-net/setLeverage",
        Some("instrument=EURUSD&side=buy&orderType=market&leverage=0"),
        "'leverage' must be greater than zero, got 0",
    ),
    (
        "setLeverage with leverage=abc",
        Method::POST,
        "/accounts/demo-net/setLeverage",
        Some("instrument=EURUSD&side=buy&orderType=market&leverage=abc"),
        "form field 'leverage' must be a plain decimal number, got 'abc'",
    ),
    (
        "setLeverage above the maximum",
        Method::POST,
        "/accounts/demo-net/setLeverage",
        Some("instrument=EURUSD&side=buy&orderType=market&leverage=31"),
        "leverage for EURUSD must be a whole number from 1 to 30, got 31",
    ),
    (
        "setLeverage with a fraction",
        Method::POST,
        "/accounts/demo-net/setLeverage",
        Some("instrument=EURUSD&side=buy&orderType=market&leverage=2.5"),
        "leverage for EURUSD must be a whole number from 1 to 30, got 2.5",
    ),
    (
        "setLeverage on an unknown instrument",
        Method::POST,
        "/accounts/demo-net/setLeverage",
        Some("instrument=NOPE&side=buy&orderType=market&leverage=10"),
        "Unknown instrument 'NOPE'",
    ),
    // --- market data ---
    (
        "/quotes without accountId",
        Method::GET,
        "/quotes?symbols=EURUSD",
        None,
        "query parameter 'accountId' is required",
    ),
    (
        "/quotes without symbols",
        Method::GET,
        "/quotes?accountId=demo-net",
        None,
        "query parameter 'symbols' is required",
    ),
    (
        "/quotes with symbols=,,",
        Method::GET,
        "/quotes?accountId=demo-net&symbols=,,",
        None,
        "query parameter 'symbols' names no symbol",
    ),
    (
        "/quotes on another user's account",
        Method::GET,
        "/quotes?accountId=other-net&symbols=EURUSD",
        None,
        "Unknown account 'other-net': it is not one of this login's accounts",
    ),
    (
        "/depth without symbol",
        Method::GET,
        "/depth?accountId=demo-net",
        None,
        "query parameter 'symbol' is required",
    ),
    (
        "/depth of an unknown symbol",
        Method::GET,
        "/depth?accountId=demo-net&symbol=NOPE",
        None,
        "Unknown symbol 'NOPE'",
    ),
    (
        "/executions?maxCount=-5",
        Method::GET,
        "/accounts/demo-net/executions?maxCount=-5",
        None,
        "query parameter 'maxCount' must be positive, got -5",
    ),
    (
        "/executions?maxCount=abc",
        Method::GET,
        "/accounts/demo-net/executions?maxCount=abc",
        None,
        "query parameter 'maxCount' must be an integer, got 'abc'",
    ),
    (
        "/ordersHistory?maxCount=0",
        Method::GET,
        "/accounts/demo-net/ordersHistory?maxCount=0",
        None,
        "query parameter 'maxCount' must be positive, got 0",
    ),
    // --- numbers: plain decimals and integers only, in a meaningful range, each naming its field ---
    (
        "qty with a digit separator",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1_000"),
        "form field 'qty' must be a plain decimal number, got '1_000'",
    ),
    (
        "qty in scientific notation",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1e3"),
        "form field 'qty' must be a plain decimal number, got '1e3'",
    ),
    (
        "qty in hexadecimal",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=0x3E8"),
        "form field 'qty' must be a plain decimal number, got '0x3E8'",
    ),
    (
        "qty with a space inside",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1%20000"),
        "form field 'qty' must be a plain decimal number, got '1 000'",
    ),
    (
        "qty with a trailing point",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1000."),
        "form field 'qty' must be a plain decimal number, got '1000.'",
    ),
    (
        "qty longer than any number",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1000.00000000000000000000000000000000000001"),
        "form field 'qty' is out of range, got '1000.00000000000000000000000000000000000…'",
    ),
    (
        "durationDateTime in scientific notation",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice=1.05&durationType=gtt&durationDateTime=1e16"),
        "form field 'durationDateTime' must be an integer, got '1e16'",
    ),
    (
        "durationDateTime over 10^15",
        Method::POST,
        "/accounts/demo-net/orders",
        Some(
            "instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice=1.05&durationType=gtt&durationDateTime=10000000000000000",
        ),
        "form field 'durationDateTime' is out of range, got '10000000000000000'",
    ),
    (
        "durationDateTime with a fraction",
        Method::POST,
        "/accounts/demo-net/orders",
        Some(
            "instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice=1.05&durationType=gtt&durationDateTime=1767700000.5",
        ),
        "form field 'durationDateTime' must be an integer, got '1767700000.5'",
    ),
    (
        "durationDateTime in milliseconds",
        Method::POST,
        "/accounts/demo-net/orders",
        Some(
            "instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice=1.05&durationType=gtt&durationDateTime=1767700000000",
        ),
        "'durationDateTime' must be a unix time in seconds before the year 10000, got 1767700000000",
    ),
    (
        "negative durationDateTime",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice=1.05&durationType=gtt&durationDateTime=-5"),
        "'durationDateTime' must be a unix time in seconds before the year 10000, got -5",
    ),
    (
        "trailingStopPips in scientific notation",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1000&trailingStopPips=1e-28"),
        "form field 'trailingStopPips' must be a plain decimal number, got '1e-28'",
    ),
    (
        "trailingStopPips far below one pip",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1000&trailingStopPips=0.0000000000000000000000000001"),
        "'trailingStopPips' must be from 1 to 100000 pips, got 0.0000000000000000000000000001",
    ),
    (
        "trailingStopPips below one pip",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1000&trailingStopPips=0.5"),
        "'trailingStopPips' must be from 1 to 100000 pips, got 0.5",
    ),
    (
        "trailingStopPips beyond any price",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1000&trailingStopPips=1000000"),
        "'trailingStopPips' must be from 1 to 100000 pips, got 1000000",
    ),
    (
        "stopLoss below one tick",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1000&stopLoss=0.000001"),
        "'stopLoss' 0.000001 is below the tick size 0.00001 of EURUSD",
    ),
    (
        "limitPrice with absurd precision",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice=1.0500000000000000000000001"),
        "'limitPrice' 1.0500000000000000000000001 has more decimals than a price of EURUSD can have (tick size 0.00001)",
    ),
    (
        "currentAsk in scientific notation",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1000&currentAsk=1.1e0"),
        "form field 'currentAsk' must be a plain decimal number, got '1.1e0'",
    ),
    (
        "negative currentBid",
        Method::POST,
        "/accounts/demo-net/orders",
        Some("instrument=EURUSD&side=buy&type=market&qty=1000&currentBid=-1.1"),
        "form field 'currentBid' must be positive, got -1.1",
    ),
    (
        "previewOrder with takeProfit below one tick",
        Method::POST,
        "/accounts/demo-net/previewOrder",
        Some("instrument=EURUSD&side=buy&type=market&qty=1000&takeProfit=0.000000001"),
        "'takeProfit' 0.000000001 is below the tick size 0.00001 of EURUSD",
    ),
    (
        "modify an order with qty in scientific notation",
        Method::PUT,
        "/accounts/demo-hedge/orders/{hedge_order}",
        Some("qty=2e3"),
        "form field 'qty' must be a plain decimal number, got '2e3'",
    ),
    (
        "modify an order with a limit price below one tick",
        Method::PUT,
        "/accounts/demo-hedge/orders/{hedge_order}",
        Some("limitPrice=0.000001"),
        "'limitPrice' 0.000001 is below the tick size 0.00001 of EURUSD",
    ),
    (
        "modify an order with trailingStopPips below one pip",
        Method::PUT,
        "/accounts/demo-hedge/orders/{hedge_order}",
        Some("trailingStopPips=0.1"),
        "'trailingStopPips' must be from 1 to 100000 pips, got 0.1",
    ),
    (
        "modify an order with durationDateTime=1e16",
        Method::PUT,
        "/accounts/demo-hedge/orders/{hedge_order}",
        Some("durationType=gtt&durationDateTime=1e16"),
        "form field 'durationDateTime' must be an integer, got '1e16'",
    ),
    (
        "modify a position with trailingStopPips=1e-28",
        Method::PUT,
        "/accounts/demo-net/positions/nope",
        Some("trailingStopPips=1e-28"),
        "form field 'trailingStopPips' must be a plain decimal number, got '1e-28'",
    ),
    (
        "partial close with amount=1_000",
        Method::DELETE,
        "/accounts/demo-net/positions/nope",
        Some("amount=1_000"),
        "form field 'amount' must be a plain decimal number, got '1_000'",
    ),
    (
        "partial close of an individual position with amount=1e3",
        Method::DELETE,
        "/accounts/demo-hedge/individualPositions/nope",
        Some("amount=1e3"),
        "form field 'amount' must be a plain decimal number, got '1e3'",
    ),
    (
        "setLeverage in scientific notation",
        Method::POST,
        "/accounts/demo-net/setLeverage",
        Some("instrument=EURUSD&side=buy&orderType=market&leverage=1e1"),
        "form field 'leverage' must be a plain decimal number, got '1e1'",
    ),
    (
        "previewLeverage over 10^15",
        Method::POST,
        "/accounts/demo-net/previewLeverage",
        Some("instrument=EURUSD&side=buy&orderType=market&leverage=10000000000000000"),
        "form field 'leverage' is out of range, got '10000000000000000'",
    ),
    (
        "trackLatency with a negative roundTripDuration",
        Method::POST,
        "/accounts/demo-net/trackLatency",
        Some("transactionId=t1&transactionType=place_order&instrument=EURUSD&roundTripDuration=-5"),
        "'roundTripDuration' must be from 0 to 3600000 milliseconds, got -5",
    ),
    (
        "trackLatency with roundTripDuration=1e3",
        Method::POST,
        "/accounts/demo-net/trackLatency",
        Some("transactionId=t1&transactionType=place_order&instrument=EURUSD&roundTripDuration=1e3"),
        "form field 'roundTripDuration' must be a plain decimal number, got '1e3'",
    ),
    (
        "/executions?maxCount=1e2",
        Method::GET,
        "/accounts/demo-net/executions?maxCount=1e2",
        None,
        "query parameter 'maxCount' must be an integer, got '1e2'",
    ),
    (
        "/ordersHistory?maxCount=10.0",
        Method::GET,
        "/accounts/demo-net/ordersHistory?maxCount=10.0",
        None,
        "query parameter 'maxCount' must be an integer, got '10.0'",
    ),
    (
        "/history with from in scientific notation",
        Method::GET,
        "/history?symbol=EURUSD&resolution=1&from=1.7e9&to=1767614400",
        None,
        "query parameter 'from' must be an integer, got '1.7e9'",
    ),
    (
        "/history with to over 10^15",
        Method::GET,
        "/history?symbol=EURUSD&resolution=1&from=1767610800&to=99999999999999999",
        None,
        "query parameter 'to' is out of range, got '99999999999999999'",
    ),
    (
        "/history with countback=1_000",
        Method::GET,
        "/history?symbol=EURUSD&resolution=1&countback=1_000&to=1767614400",
        None,
        "query parameter 'countback' must be an integer, got '1_000'",
    ),
    // --- requestId ---
    (
        "requestId longer than the limit",
        Method::POST,
        "/accounts/demo-net/orders?requestId=12345678901234567890123456789012345678901234567890123456789012345",
        Some(MARKET),
        "query parameter 'requestId' is too long: at most 64 characters, got 65",
    ),
    (
        "requestId with a space",
        Method::POST,
        "/accounts/demo-net/orders?requestId=a%20b",
        Some(MARKET),
        "query parameter 'requestId' may only contain printable ASCII characters without spaces",
    ),
    // --- account features the paper broker does not offer ---
    (
        "/balances on a paper account",
        Method::GET,
        "/accounts/demo-net/balances",
        None,
        "crypto balances are not supported on this account",
    ),
];

/// A working buy limit on `demo-hedge`, far below the market, for the modify cases.
async fn place_hedge_order(app: &TestApp, token: &str) -> String {
    app.place(
        token,
        HEDGE,
        "instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice=0.9",
    )
    .await
}

/// Current EURUSD ask of `demo-net` from `/quotes`, checked against the paper feed (whose exact decimal the
/// engine prints in its messages).
async fn eurusd_ask(app: &TestApp, token: &str) -> Decimal {
    let quotes = app
        .get(
            token,
            "/quotes?accountId=demo-net&symbols=EURUSD",
            "QuotesResponse",
        )
        .await;
    let quoted = dec(&quotes[0]["v"]["ask"]);
    let tick = app.tick("EURUSD", app.now());
    assert_eq!(
        quoted,
        tick.ask.normalize(),
        "/quotes ask and the paper feed disagree"
    );
    tick.ask
}

#[tokio::test]
async fn every_bad_input_is_refused_by_name_and_nothing_is_applied() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let hedge_order = place_hedge_order(&app, &token).await;
    let hedge_before = app.orders(&token, HEDGE).await;
    let leverage_before = app
        .post(
            &token,
            "/accounts/demo-net/getLeverage",
            "instrument=EURUSD&side=buy&orderType=market",
            "GetLeverageResponse",
        )
        .await;

    let mut failures = Vec::new();
    for (name, method, path, form, expected) in CASES {
        let path = path.replace(HEDGE_ORDER, &hedge_order);
        let r = app.send(method.clone(), &path, Some(&token), *form).await;
        let schema_errors = support::schema::schema_errors("ErrorResponse", &r.body);
        let problem = if r.status != StatusCode::OK {
            Some(format!("HTTP {} (expected 200), body {}", r.status, r.body))
        } else if r.body["s"] != "error" {
            Some(format!("accepted: {}", r.body))
        } else if !schema_errors.is_empty() {
            Some(format!("not an ErrorResponse: {schema_errors:?}"))
        } else if r.body["errmsg"] != *expected {
            Some(format!("errmsg {}, expected {expected:?}", r.body["errmsg"]))
        } else {
            None
        };
        if let Some(problem) = problem {
            failures.push(format!("[{name}] {method} {path} {form:?}: {problem}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );

    // Nothing the user sent was half-applied.
    assert_eq!(
        app.orders(&token, NET).await,
        Vec::<Value>::new(),
        "a refused request left an order on demo-net"
    );
    assert_eq!(app.positions(&token, NET).await, Vec::<Value>::new());
    assert_eq!(
        app.orders(&token, HEDGE).await,
        hedge_before,
        "a refused modify changed the demo-hedge order"
    );
    let leverage_after = app
        .post(
            &token,
            "/accounts/demo-net/getLeverage",
            "instrument=EURUSD&side=buy&orderType=market",
            "GetLeverageResponse",
        )
        .await;
    assert_eq!(
        leverage_after, leverage_before,
        "a refused setLeverage changed the leverage"
    );
    let history = app
        .get(
            &token,
            "/accounts/demo-net/ordersHistory",
            "OrdersHistoryResponse",
        )
        .await;
    assert_eq!(
        history,
        Value::Array(vec![]),
        "a refused order reached the order history"
    );
    let executions = app
        .get(&token, "/accounts/demo-net/executions", "ExecutionsResponse")
        .await;
    assert_eq!(executions, Value::Array(vec![]));
}

#[tokio::test]
async fn prices_on_the_wrong_side_of_the_market_name_the_market() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let ask = eurusd_ask(&app, &token).await;
    let cent = Decimal::new(1, 2);

    let stop = (ask - Decimal::new(1, 3)).normalize();
    let msg = app
        .refused(
            Method::POST,
            &token,
            "/accounts/demo-net/orders",
            Some(&format!(
                "instrument=EURUSD&side=buy&type=stop&qty=1000&stopPrice={stop}"
            )),
        )
        .await;
    assert_eq!(
        msg,
        format!("a buy stop must be above the current ask {ask}, got {stop}")
    );

    // A stop exactly at the ask would trigger at once: also refused.
    let msg = app
        .refused(
            Method::POST,
            &token,
            "/accounts/demo-net/orders",
            Some(&format!(
                "instrument=EURUSD&side=buy&type=stop&qty=1000&stopPrice={}",
                ask.normalize()
            )),
        )
        .await;
    assert_eq!(
        msg,
        format!(
            "a buy stop must be above the current ask {ask}, got {}",
            ask.normalize()
        )
    );

    let limit = (ask - cent).normalize();
    let stop_loss = (limit + Decimal::new(1, 3)).normalize();
    let msg = app
        .refused(
            Method::POST,
            &token,
            "/accounts/demo-net/orders",
            Some(&format!(
                "instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice={limit}&stopLoss={stop_loss}"
            )),
        )
        .await;
    assert_eq!(
        msg,
        format!("the stop loss {stop_loss} must be below the entry price {limit} for a long trade")
    );

    let take_profit = (limit - Decimal::new(1, 3)).normalize();
    let msg = app
        .refused(
            Method::POST,
            &token,
            "/accounts/demo-net/orders",
            Some(&format!(
                "instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice={limit}&takeProfit={take_profit}"
            )),
        )
        .await;
    assert_eq!(
        msg,
        format!("the take profit {take_profit} must be above the entry price {limit} for a long trade")
    );

    let msg = app
        .refused(
            Method::POST,
            &token,
            "/accounts/demo-net/orders",
            Some(&format!(
                "instrument=EURUSD&side=buy&type=limit&qty=1000&limitPrice={limit}&stopLoss=1.000001"
            )),
        )
        .await;
    assert_eq!(
        msg,
        "stop loss 1.000001 is not a multiple of the tick size 0.00001 for EURUSD"
    );

    assert_eq!(
        app.orders(&token, NET).await,
        Vec::<Value>::new(),
        "a refused order was created"
    );
    // A refused placement does not use up its requestId: the corrected resend is placed.
    let path = "/accounts/demo-net/orders?requestId=bad-then-good";
    let bad_stop = format!("instrument=EURUSD&side=buy&type=stop&qty=1000&stopPrice={stop}");
    let msg = app.refused(Method::POST, &token, path, Some(&bad_stop)).await;
    assert!(
        msg.starts_with("a buy stop must be above the current ask"),
        "{msg}"
    );
    let msg = app
        .refused(
            Method::POST,
            &token,
            path,
            Some("instrument=EURUSD&side=buy&type=market&qty=1500"),
        )
        .await;
    assert!(msg.starts_with("quantity 1500"), "{msg}");
    let placed = app.post(&token, path, MARKET, "PostOrderResponse").await;
    let orders = app.orders(&token, NET).await;
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0]["id"], placed["orderId"]);
}

#[tokio::test]
async fn modify_keeps_the_order_when_refused() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let id = place_hedge_order(&app, &token).await;
    let before = app.order(&token, HEDGE, &id).await;
    let ask = eurusd_ask(&app, &token).await;

    let path = format!("/accounts/demo-hedge/orders/{id}");
    let stop_loss = Decimal::new(95, 2);
    let msg = app
        .refused(Method::PUT, &token, &path, Some(&format!("stopLoss={stop_loss}")))
        .await;
    assert_eq!(
        msg,
        "the stop loss 0.95 must be below the entry price 0.9 for a long trade"
    );
    let msg = app
        .refused(Method::PUT, &token, &path, Some("limitPrice=0.9000001"))
        .await;
    assert_eq!(
        msg,
        "limit price 0.9000001 is not a multiple of the tick size 0.00001 for EURUSD"
    );
    let msg = app
        .refused(Method::PUT, &token, &path, Some("qty=1000&qty=3000"))
        .await;
    assert_eq!(msg, "form field 'qty' is given more than once");
    let msg = app
        .refused(
            Method::PUT,
            &token,
            &path,
            Some("durationType=gtc&durationDateTime=1767700000"),
        )
        .await;
    assert_eq!(msg, "duration 'gtc' takes no 'durationDateTime'");
    assert!(
        ask > Decimal::ONE,
        "the EURUSD market is where the test assumes ({ask})"
    );

    assert_eq!(
        app.order(&token, HEDGE, &id).await,
        before,
        "a refused modify changed the order"
    );
}

// ---------------------------------------------------------------------------------------------------------
// HTTP-level refusals: still the envelope, never a 500.
// ---------------------------------------------------------------------------------------------------------

/// A request with exactly these headers (the harness adds a form content type to every body).
async fn raw(
    app: &TestApp,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app
        .router
        .clone()
        .oneshot(req.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("{uri}: body is not JSON: {:?}", String::from_utf8_lossy(&bytes)));
    (status, body)
}

/// Asserts the error envelope with an errmsg containing every one of `needles`.
#[track_caller]
fn assert_envelope(what: &str, body: &Value, needles: &[&str]) {
    assert!(
        body.is_object(),
        "{what}: the body is not the JSON error envelope: {body}"
    );
    support::schema::assert_schema("ErrorResponse", body);
    assert_eq!(body["s"], "error", "{what}: {body}");
    let msg = body["errmsg"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no errmsg in {body}"));
    for n in needles {
        assert!(msg.contains(n), "{what}: errmsg {msg:?} does not name {n:?}");
    }
}

#[tokio::test]
async fn a_json_body_is_refused_naming_the_content_type() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let bearer = format!("Bearer {token}");
    let (status, body) = raw(
        &app,
        Method::POST,
        "/api/accounts/demo-net/orders",
        &[("authorization", &bearer), ("content-type", "application/json")],
        r#"{"instrument":"EURUSD","side":"buy","type":"market","qty":1000}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["errmsg"],
        "the request body must be application/x-www-form-urlencoded, got 'application/json'"
    );
    assert_envelope("json body", &body, &[]);

    let (status, body) = raw(
        &app,
        Method::POST,
        "/api/accounts/demo-net/orders",
        &[("authorization", &bearer), ("content-type", "application/json")],
        "{}",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_envelope(
        "json {}",
        &body,
        &["application/json", "application/x-www-form-urlencoded"],
    );

    // A form with a charset parameter is still a form.
    let (status, body) = raw(
        &app,
        Method::POST,
        "/api/accounts/demo-net/orders",
        &[
            ("authorization", &bearer),
            ("content-type", "application/x-www-form-urlencoded; charset=UTF-8"),
        ],
        "instrument=EURUSD&side=buy&type=market&qty=1000",
    )
    .await;
    assert_eq!(
        (status, &body["s"]),
        (StatusCode::OK, &Value::from("ok")),
        "{body}"
    );
}

#[tokio::test]
async fn an_oversized_body_is_413_with_the_envelope() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let limit = app.config.server.max_body_bytes;
    assert_eq!(limit, 65536);
    let big = format!("{MARKET}&pad={}", "x".repeat(limit + 1));
    let r = app
        .send(
            Method::POST,
            "/accounts/demo-net/orders",
            Some(&token),
            Some(&big),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert_envelope("oversized body", &r.body, &["too large", "65536"]);
    assert_eq!(app.orders(&token, NET).await, Vec::<Value>::new());

    // Also before login, where there is no token to check first.
    let big = format!("login=demo&password=demo&pad={}", "x".repeat(limit));
    let r = app.send(Method::POST, "/authorize", None, Some(&big)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert_envelope("oversized login", &r.body, &["too large"]);

    // Just under the limit is fine.
    let pad = limit - MARKET.len() - "&pad=".len();
    let fits = format!("{MARKET}&pad={}", "x".repeat(pad));
    assert_eq!(fits.len(), limit);
    app.post(&token, "/accounts/demo-net/orders", &fits, "PostOrderResponse")
        .await;
}

#[tokio::test]
async fn unknown_endpoints_are_404_with_the_envelope() {
    let app = TestApp::new().await;
    let token = app.login().await;
    for path in [
        "/api/nope",
        "/api/accounts/demo-net/nope",
        "/api/accounts/demo-net/orders/1/extra",
        "/nope",
    ] {
        for t in [Some(token.as_str()), None] {
            let r = app.send(Method::GET, path, t, None).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.body);
            assert_envelope(path, &r.body, &["unknown endpoint"]);
        }
    }
}

#[tokio::test]

async fn unknown_endpoint_messages_name_the_path_as_sent() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let r = app.send(Method::GET, "/api/nope", Some(&token), None).await;
    assert_eq!(r.body["errmsg"], "unknown endpoint /api/nope");
    let r = app.send(Method::PATCH, "/api/accounts", Some(&token), None).await;
    assert_eq!(r.body["errmsg"], "method PATCH is not allowed on /api/accounts");
}

#[tokio::test]
async fn wrong_methods_are_405_with_the_envelope() {
    let app = TestApp::new().await;
    let token = app.login().await;
    for (method, path) in [
        (Method::PATCH, "/accounts"),
        (Method::DELETE, "/accounts/demo-net/orders"),
        (Method::POST, "/accounts/demo-net/state"),
        (Method::GET, "/authorize"),
        (Method::PUT, "/accounts/demo-net/positions"),
    ] {
        let r = app.send(method.clone(), path, Some(&token), None).await;
        assert_eq!(
            r.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {}",
            r.body
        );
        assert_envelope(path, &r.body, &["not allowed", method.as_str()]);
    }
    // Nothing was deleted by the refused DELETE.
    assert!(app.orders(&token, NET).await.is_empty());
}

#[tokio::test]

async fn a_wrong_method_on_healthz_is_405_with_the_envelope() {
    let app = TestApp::new().await;
    let r = app.send(Method::POST, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_envelope("POST /healthz", &r.body, &["not allowed", "POST", "/healthz"]);
}

#[tokio::test]
async fn a_405_lists_the_allowed_methods() {
    let app = TestApp::new().await;
    let token = app.login().await;
    let r = app
        .send(Method::DELETE, "/accounts/demo-net/orders", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    let allow = r
        .headers
        .get(header::ALLOW)
        .map(|v| v.to_str().unwrap().to_owned());
    let allow = allow.unwrap_or_else(|| {
        panic!(
            "a 405 must carry an Allow header (RFC 9110 15.5.6): {:?}",
            r.headers
        )
    });
    assert!(allow.contains("GET") && allow.contains("POST"), "Allow: {allow}");
}

#[tokio::test]
async fn malformed_form_bodies_and_queries_get_the_envelope() {
    let app = TestApp::new().await;
    let token = app.login().await;
    // Percent-encoding that is not UTF-8.
    let msg = app
        .refused(
            Method::POST,
            &token,
            "/accounts/demo-net/orders",
            Some("instrument=%FF%FE&side=buy&type=market&qty=1000"),
        )
        .await;
    assert_eq!(msg, "Unknown instrument '\u{FFFD}\u{FFFD}' for this account");
    // A body with an empty key and no value.
    let msg = app
        .refused(Method::POST, &token, "/accounts/demo-net/orders", Some("&&=&"))
        .await;
    assert_eq!(msg, "form field 'instrument' is required");
    // A query parameter given twice.
    let msg = app
        .refused(
            Method::GET,
            &token,
            "/quotes?accountId=demo-net&accountId=demo-hedge&symbols=EURUSD",
            None,
        )
        .await;
    assert_eq!(msg, "query parameter 'accountId' is given more than once");
    assert!(app.orders(&token, NET).await.is_empty());
}
