//! The requests and stream lines of market data: candle query parameters, path segments, times, and the
//! pricing and transaction stream lines.

use super::*;
use crate::backends::oanda::model::parse_time;
use crate::backends::oanda::venue::Granularity;
use crate::upstream::days::DayCut;
use chrono::{DateTime, TimeZone, Utc};
use rust_decimal_macros::dec;

fn time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
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
