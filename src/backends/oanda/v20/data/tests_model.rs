//! Conversion of documented v20 payloads (OpenAPI `Instrument`, `ClientPrice`, `HomeConversions`,
//! `Candlestick`, `PricingHeartbeat`, `TransactionHeartbeat`, a transaction) and of stream lines.

use super::model::*;
use super::*;
use crate::backends::oanda::venue::{Granularity, InstrumentKind};
use crate::upstream::days::DayCut;
use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;

fn time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn specs(body: serde_json::Value) -> Vec<InstrumentSpec> {
    let body: InstrumentsBody = serde_json::from_value(body).unwrap();
    body.instruments.iter().filter_map(instrument_spec).collect()
}

/// `GET /v3/accounts/{id}/instruments` as documented: decimals are strings, precision as sent.
pub(super) fn instruments_body() -> serde_json::Value {
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

#[test]
fn instruments_keep_the_documented_values_and_precision() {
    let specs = specs(instruments_body());
    assert_eq!(
        specs.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["EUR_USD", "USD_JPY", "XAU_USD", "DE30_EUR", "XYZ_USD"],
        "entries without trading rules or a name are left out"
    );
    let eur = &specs[0];
    assert_eq!(
        *eur,
        InstrumentSpec {
            name: "EUR_USD".into(),
            display_name: "EUR/USD".into(),
            kind: InstrumentKind::Currency,
            pip_location: -4,
            display_precision: 5,
            units_precision: 0,
            min_units: dec!(1),
            max_units: dec!(100000000),
            margin_rate: dec!(0.0333),
            min_trailing_distance: Some(dec!(0.00050)),
            max_trailing_distance: Some(dec!(1.00000)),
        }
    );
    // The strings' scale survives: "0.00050" is not "0.0005".
    assert_eq!(eur.min_trailing_distance.unwrap().to_string(), "0.00050");
    assert_eq!(eur.max_trailing_distance.unwrap().to_string(), "1.00000");
    assert_eq!(eur.pip(), dec!(0.0001));
    let jpy = &specs[1];
    assert_eq!((jpy.pip_location, jpy.display_precision), (-2, 3));
    assert_eq!(jpy.min_trailing_distance.unwrap().to_string(), "0.050");
    let gold = &specs[2];
    assert_eq!(gold.kind, InstrumentKind::Metal);
    assert_eq!(gold.display_name, "Gold");
    assert_eq!(
        (gold.min_trailing_distance, gold.max_trailing_distance),
        (None, None)
    );
    assert_eq!(gold.max_units, dec!(5000));
    let dax = &specs[3];
    assert_eq!(dax.kind, InstrumentKind::Cfd);
    assert_eq!((dax.pip_location, dax.units_precision), (0, 1));
    assert_eq!(dax.min_units.to_string(), "0.1");
    assert_eq!(dax.pip(), Decimal::ONE);
    let new = &specs[4];
    assert_eq!(new.kind, InstrumentKind::Cfd, "an unknown class is tolerated");
    assert_eq!(
        new.display_name, "XYZ/USD",
        "a missing display name is made from the name"
    );
}

/// `GET /v3/accounts/{id}/pricing?includeHomeConversions=true` as documented.
fn pricing_body() -> serde_json::Value {
    json!({
        "prices": [
            {"type": "PRICE", "instrument": "EUR_USD", "time": "2016-06-22T18:41:36.201836422Z",
             "status": "tradeable", "tradeable": true,
             "bids": [{"price": "1.13015", "liquidity": 10000000}, {"price": "1.13013", "liquidity": 50000000}],
             "asks": [{"price": "1.13028", "liquidity": 10000000}, {"price": "1.13030", "liquidity": 50000000}],
             "closeoutBid": "1.13015", "closeoutAsk": "1.13028",
             "quoteHomeConversionFactors": {"positiveUnits": "1.00000000", "negativeUnits": "1.00000000"},
             "unitsAvailable": {"default": {"long": "2013434", "short": "2013434"}}},
            {"type": "PRICE", "instrument": "USD_JPY", "time": "2016-06-22T18:41:32.000000000Z",
             "status": "non-tradeable", "tradeable": false, "bids": [], "asks": [],
             "closeoutBid": "104.346", "closeoutAsk": "104.380"},
            {"type": "PRICE", "instrument": "GBP_CHF", "time": "2016-06-22T18:41:30.5Z",
             "status": "tradeable", "bids": [{"price": "1.41170", "liquidity": 1000000}],
             "asks": [{"price": "1.41220", "liquidity": 1000000}],
             "quoteHomeConversionFactors": {"positiveUnits": "1.04132000", "negativeUnits": "1.04190000"}},
            {"type": "PRICE", "instrument": "EUR_GBP", "time": "2016-06-22T18:41:30Z", "bids": [], "asks": []}
        ],
        "homeConversions": [
            {"currency": "USD", "accountGain": "1", "accountLoss": "1", "positionValue": "1"},
            {"currency": "JPY", "accountGain": "0.00958372", "accountLoss": "0.00958525",
             "positionValue": "0.00958449"},
            {"currency": "EUR", "accountGain": "1.12972", "accountLoss": "1.13060", "positionValue": "1.13016"}
        ],
        "time": "2016-06-22T18:41:48.258142231Z"
    })
}

fn convert_pricing(body: serde_json::Value) -> Vec<Price> {
    let body: PricingBody = serde_json::from_value(body).unwrap();
    let conversions = home_conversions(&body.home_conversions);
    body.prices
        .iter()
        .filter_map(|p| client_price(p, &conversions))
        .collect()
}

#[test]
fn prices_take_the_best_bucket_and_the_quote_currency_conversion() {
    let prices = convert_pricing(pricing_body());
    assert_eq!(prices.len(), 3, "a price with no side at all is left out");
    assert_eq!(
        prices[0],
        Price {
            instrument: "EUR_USD".into(),
            time: time("2016-06-22T18:41:36.201836422Z"),
            bid: dec!(1.13015),
            ask: dec!(1.13028),
            bid_size: Some(dec!(10000000)),
            ask_size: Some(dec!(10000000)),
            tradeable: true,
            // homeConversions win over the deprecated factors.
            quote_to_home: Some((dec!(1), dec!(1))),
        }
    );
    assert_eq!(prices[0].time.timestamp_subsec_nanos(), 201_836_422);
    let jpy = &prices[1];
    assert_eq!(
        (jpy.bid, jpy.ask),
        (dec!(104.346), dec!(104.380)),
        "closeout prices when no liquidity"
    );
    assert_eq!(jpy.ask.to_string(), "104.380");
    assert_eq!((jpy.bid_size, jpy.ask_size), (None, None));
    assert!(!jpy.tradeable);
    assert_eq!(jpy.quote_to_home, Some((dec!(0.00958372), dec!(0.00958525))));
    let chf = &prices[2];
    assert!(
        chf.tradeable,
        "the deprecated status serves when tradeable is absent"
    );
    assert_eq!(chf.quote_to_home, Some((dec!(1.04132000), dec!(1.04190000))));
    assert_eq!(chf.quote_to_home.unwrap().0.to_string(), "1.04132000");
    assert_eq!(
        chf.time,
        Utc.with_ymd_and_hms(2016, 6, 22, 18, 41, 30).unwrap() + chrono::Duration::milliseconds(500)
    );
}

#[test]
fn prices_without_conversions_or_status_are_still_read() {
    let prices = convert_pricing(json!({"prices": [
        {"instrument": "EUR_USD", "time": "2016-06-22T18:41:36Z", "status": "non-tradeable",
         "bids": [{"price": "1.1", "liquidity": "500000"}], "asks": [{"price": 1.2}]}
    ]}));
    assert_eq!(prices.len(), 1);
    let p = &prices[0];
    assert_eq!(
        (p.bid, p.ask),
        (dec!(1.1), dec!(1.2)),
        "numbers are tolerated where strings are documented"
    );
    assert_eq!((p.bid_size, p.ask_size), (Some(dec!(500000)), None));
    assert!(!p.tradeable);
    assert_eq!(p.quote_to_home, None);
}

/// `GET /v3/instruments/EUR_USD/candles?price=MBA` as documented.
pub(super) fn candles_body() -> serde_json::Value {
    json!({"instrument": "EUR_USD", "granularity": "S5", "candles": [
        {"complete": true, "volume": 12, "time": "2016-10-17T15:16:40.000000000Z",
         "bid": {"o": "1.09880", "h": "1.09890", "l": "1.09875", "c": "1.09885"},
         "mid": {"o": "1.09887", "h": "1.09896", "l": "1.09882", "c": "1.09890"},
         "ask": {"o": "1.09894", "h": "1.09902", "l": "1.09889", "c": "1.09895"}},
        {"complete": false, "volume": 3, "time": "2016-10-17T15:16:45.000000000Z",
         "mid": {"o": "1.09890", "h": "1.09900", "l": "1.09890", "c": "1.09900"}}
    ]})
}

fn convert_candles(side: CandleSide) -> Vec<Candle> {
    let body: CandlesBody = serde_json::from_value(candles_body()).unwrap();
    body.candles.iter().filter_map(|c| candle(c, side)).collect()
}

#[test]
fn candles_use_the_requested_side() {
    let mid = convert_candles(CandleSide::Mid);
    assert_eq!(
        mid,
        vec![
            Candle {
                time: time("2016-10-17T15:16:40Z"),
                open: dec!(1.09887),
                high: dec!(1.09896),
                low: dec!(1.09882),
                close: dec!(1.09890),
                volume: 12,
                complete: true,
            },
            Candle {
                time: time("2016-10-17T15:16:45Z"),
                open: dec!(1.09890),
                high: dec!(1.09900),
                low: dec!(1.09890),
                close: dec!(1.09900),
                volume: 3,
                complete: false,
            },
        ]
    );
    assert_eq!(mid[1].close.to_string(), "1.09900");
    let bid = convert_candles(CandleSide::Bid);
    assert_eq!(bid.len(), 1, "a candle without the requested side is left out");
    assert_eq!((bid[0].open, bid[0].close), (dec!(1.09880), dec!(1.09885)));
    let ask = convert_candles(CandleSide::Ask);
    assert_eq!((ask[0].high, ask[0].low), (dec!(1.09902), dec!(1.09889)));
}

#[test]
fn candle_queries_page_backward_with_to_and_count() {
    let query = CandleQuery {
        instrument: "EUR_USD".into(),
        granularity: Granularity::H4,
        side: CandleSide::Ask,
        before: Some(Utc.with_ymd_and_hms(2024, 3, 4, 0, 0, 0).unwrap()),
        count: 0,
        day_cut: DayCut::NewYork17,
    };
    let params = candle_params(&query);
    let get = |k: &str| params.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("price"), Some("A"));
    assert_eq!(get("granularity"), Some("H4"));
    // One second before: the candle starting at `before` stays out however OANDA reads `to`.
    assert_eq!(get("to"), Some("2024-03-03T23:59:59Z"));
    assert_eq!(get("count"), Some("1"), "count is kept within 1..=5000");
    assert_eq!(get("from"), None, "never a from");
    assert_eq!(get("includeFirst"), None);
    assert_eq!(get("dailyAlignment"), Some("0"), "intraday candles on UTC");
    assert_eq!(get("alignmentTimezone"), Some("UTC"));
    assert_eq!(get("weeklyAlignment"), Some("Monday"));
    // Daily candles of the FX day: OANDA's own 17:00 New York; the newest ones without a `to`.
    let daily = CandleQuery {
        granularity: Granularity::D,
        before: None,
        count: 9000,
        ..query.clone()
    };
    let params = candle_params(&daily);
    assert!(params.contains(&("count", "5000".to_string())));
    assert!(params.contains(&("dailyAlignment", "17".to_string())));
    assert!(params.contains(&("alignmentTimezone", "America/New_York".to_string())));
    assert!(!params.iter().any(|(k, _)| *k == "to"));
    let utc_days = CandleQuery {
        day_cut: DayCut::Utc,
        ..daily
    };
    assert!(candle_params(&utc_days).contains(&("dailyAlignment", "0".to_string())));
}

#[test]
fn times_in_rfc3339_or_unix_form() {
    assert_eq!(
        parse_time("2016-06-22T18:41:36.201836422Z"),
        Some(time("2016-06-22T18:41:36.201836422Z"))
    );
    assert_eq!(
        parse_time("1466620896.201836422"),
        Some(time("2016-06-22T18:41:36.201836422Z"))
    );
    assert_eq!(parse_time("1466620896"), Some(time("2016-06-22T18:41:36Z")));
    for bad in ["", "yesterday", "1466620896.x", "99999999999999999999"] {
        assert_eq!(parse_time(bad), None, "{bad}");
    }
}

#[test]
fn path_segments_cannot_escape() {
    assert_eq!(segment("101-004-1234567-001"), "101-004-1234567-001");
    assert_eq!(segment("EUR_USD"), "EUR_USD");
    assert_eq!(segment("../x?y=1"), "..%2Fx%3Fy%3D1");
    assert_eq!(segment("é"), "%C3%A9");
}

#[test]
fn stream_requests() {
    let req = price_stream(
        "101-004-1234567-001",
        &["EUR_USD".into(), " USD_JPY".into(), String::new()],
    );
    assert_eq!(req.path, "/v3/accounts/101-004-1234567-001/pricing/stream");
    assert_eq!(
        req.query,
        vec![
            ("instruments", "EUR_USD,USD_JPY".to_string()),
            ("snapshot", "true".to_string())
        ]
    );
    let req = transaction_stream("101-004-1234567-001");
    assert_eq!(req.path, "/v3/accounts/101-004-1234567-001/transactions/stream");
    assert!(req.query.is_empty());
}

#[test]
fn price_stream_lines() {
    let line = br#"{"type":"PRICE","time":"2016-09-20T15:05:47.960449532Z","bids":[{"price":"1.11704","liquidity":10000000}],"asks":[{"price":"1.11718","liquidity":10000000}],"closeoutBid":"1.11704","closeoutAsk":"1.11718","status":"tradeable","tradeable":true,"instrument":"EUR_USD","quoteHomeConversionFactors":{"positiveUnits":"0.89520000","negativeUnits":"0.89540000"}}"#;
    let StreamLine::Item(p) = parse_price_line(line) else {
        panic!("a price line is an item");
    };
    assert_eq!(p.instrument, "EUR_USD");
    assert_eq!(p.time, time("2016-09-20T15:05:47.960449532Z"));
    assert_eq!((p.bid, p.ask), (dec!(1.11704), dec!(1.11718)));
    assert_eq!(
        (p.bid_size, p.ask_size),
        (Some(dec!(10000000)), Some(dec!(10000000)))
    );
    assert!(p.tradeable);
    assert_eq!(p.quote_to_home, Some((dec!(0.89520000), dec!(0.89540000))));

    let heartbeat = br#"{"type":"HEARTBEAT","time":"2016-09-20T15:05:50.163791738Z"}"#;
    assert_eq!(parse_price_line(heartbeat), StreamLine::Heartbeat);
    assert_eq!(
        parse_price_line(b"{\"type\":\"HEARTBEAT\"}\r\n"),
        StreamLine::Heartbeat
    );
    // The OpenAPI file's wrapped form.
    let wrapped = br#"{"price":{"type":"PRICE","instrument":"EUR_USD","time":"2016-09-20T15:05:47Z","bids":[{"price":"1.1","liquidity":1}],"asks":[{"price":"1.2","liquidity":1}]}}"#;
    assert!(matches!(parse_price_line(wrapped), StreamLine::Item(p) if p.ask == dec!(1.2)));
    assert_eq!(
        parse_price_line(br#"{"heartbeat":{"type":"HEARTBEAT","time":"2016-09-20T15:05:50Z"}}"#),
        StreamLine::Heartbeat
    );
    for other in [
        &b""[..],
        b"   \n",
        b"garbage",
        b"{\"type\":",
        b"[1,2]",
        b"\"PRICE\"",
        br#"{"type":"PRICE"}"#,
        br#"{"type":"PRICE","instrument":"EUR_USD","time":"x","bids":[],"asks":[],"closeoutBid":"1","closeoutAsk":"2"}"#,
        br#"{"type":"NEW_THING","time":"2016-09-20T15:05:50Z"}"#,
        br#"{"time":"2016-09-20T15:05:50Z"}"#,
        &[0xff, 0xfe, 0x00],
    ] {
        assert_eq!(parse_price_line(other), StreamLine::Other, "{}", String::from_utf8_lossy(other));
    }
}

#[test]
fn transaction_stream_lines() {
    let fill = br#"{"id":"6410","time":"2016-06-22T18:41:29.285982286Z","userID":1234567,"accountID":"101-004-1234567-001","batchID":"6409","requestID":"24149521463262118","type":"ORDER_FILL","orderID":"6409","instrument":"EUR_USD","units":"100","price":"1.13015","fullVWAP":"1.13015","reason":"MARKET_ORDER","pl":"0.0000","financing":"0.0000","commission":"0.0000","accountBalance":"100000.0000","tradeOpened":{"tradeID":"6410","units":"100","price":"1.13015","halfSpreadCost":"0.0065"},"halfSpreadCost":"0.0065"}"#;
    assert_eq!(
        parse_transaction_line(fill),
        StreamLine::Item("101-004-1234567-001".to_string())
    );
    // A type this code has never heard of is still a transaction of the account.
    let unknown = br#"{"id":"7","accountID":"101-004-1234567-002","type":"BRAND_NEW_TRANSACTION"}"#;
    assert_eq!(
        parse_transaction_line(unknown),
        StreamLine::Item("101-004-1234567-002".to_string())
    );
    let wrapped = br#"{"transaction":{"id":"8","accountID":"101-004-1234567-001","type":"ORDER_CANCEL"}}"#;
    assert_eq!(
        parse_transaction_line(wrapped),
        StreamLine::Item("101-004-1234567-001".to_string())
    );
    let heartbeat =
        br#"{"type":"HEARTBEAT","lastTransactionID":"6410","time":"2016-06-22T18:41:31.000000000Z"}"#;
    assert_eq!(parse_transaction_line(heartbeat), StreamLine::Heartbeat);
    for other in [
        &b""[..],
        b"not json",
        br#"{"id":"9","type":"ORDER_FILL"}"#,
        br#"{"id":"9","accountID":"","type":"ORDER_FILL"}"#,
        br#"{"id":"9","accountID":42,"type":"ORDER_FILL"}"#,
        br#"{"id":"9","accountID":"101-004-1234567-001"}"#,
    ] {
        assert_eq!(
            parse_transaction_line(other),
            StreamLine::Other,
            "{}",
            String::from_utf8_lossy(other)
        );
    }
}
