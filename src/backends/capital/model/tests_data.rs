//! Market, price, history and streaming wire types against payloads shaped like the Postman examples.

use super::test_support::*;
use super::*;
use rust_decimal_macros::dec;
use serde_json::json;

/// The official single market details with a field the bridge does not know (`overnightFee`).
fn market_details_json() -> serde_json::Value {
    let mut v = testdata("market_details");
    v["instrument"]["overnightFee"] = json!({"longRate": -0.01});
    v
}

#[test]
fn market_details() {
    let m: MarketDetails = parse(market_details_json());
    assert_eq!(m.instrument.epic, "SILVER");
    assert_eq!(m.instrument.name, "Silver");
    assert_eq!(m.instrument.instrument_type, InstrumentType::Commodities);
    assert_eq!(m.instrument.currency, "USD");
    assert_eq!(m.instrument.margin_factor, Some(dec!(10)));
    assert_eq!(m.instrument.margin_factor_unit, Some(RuleUnit::Percentage));
    let hours = m.instrument.opening_hours.as_ref().unwrap();
    assert_eq!(hours.mon.len(), 2);
    assert!(hours.sat.is_empty());
    assert_eq!(hours.zone.as_deref(), Some("UTC"));
    let rules = &m.dealing_rules;
    assert_eq!(
        rules.min_deal_size,
        Some(DealingRule {
            unit: RuleUnit::Points,
            value: dec!(0.1)
        })
    );
    assert_eq!(rules.min_step_distance.unwrap().value, dec!(0.001));
    assert_eq!(rules.max_stop_or_limit_distance.unwrap().value, dec!(60));
    assert_eq!(rules.max_deal_size, None);
    assert_eq!(
        rules.market_order_preference,
        Some(MarketOrderPreference::AvailableDefaultOn)
    );
    assert_eq!(
        rules.trailing_stops_preference,
        Some(TrailingStopsPreference::NotAvailable)
    );
    assert_eq!(m.snapshot.market_status, Some(MarketStatus::Tradeable));
    assert_eq!(m.snapshot.bid, Some(dec!(24.203)));
    assert_eq!(m.snapshot.offer, Some(dec!(24.223)));
    assert_eq!(m.snapshot.decimal_places_factor, Some(3));
    assert_eq!(m.snapshot.scaling_factor, Some(dec!(1)));

    // Unknown enum values everywhere.
    let mut v = market_details_json();
    v["instrument"]["type"] = json!("ETF");
    v["instrument"]["marginFactorUnit"] = json!("RATIO");
    v["dealingRules"]["minDealSize"]["unit"] = json!("CONTRACTS");
    v["dealingRules"]["marketOrderPreference"] = json!("MAYBE");
    v["dealingRules"]["trailingStopsPreference"] = json!("SOMETIMES");
    v["snapshot"]["marketStatus"] = json!("AUCTION");
    let m: MarketDetails = parse(v);
    assert_eq!(m.instrument.instrument_type, InstrumentType::Unknown);
    assert_eq!(m.instrument.margin_factor_unit, Some(RuleUnit::Unknown));
    assert_eq!(m.dealing_rules.min_deal_size.unwrap().unit, RuleUnit::Unknown);
    assert_eq!(
        m.dealing_rules.market_order_preference,
        Some(MarketOrderPreference::Unknown)
    );
    assert_eq!(
        m.dealing_rules.trailing_stops_preference,
        Some(TrailingStopsPreference::Unknown)
    );
    assert_eq!(m.snapshot.market_status, Some(MarketStatus::Unknown));
}

#[test]
fn market_lists() {
    let s: MarketsResponse =
        parse(json!({"markets": [market_summary_json("SILVER", "TRADEABLE"), {"epic": "SI"}]}));
    assert_eq!(s.markets.len(), 2);
    assert_eq!(s.markets[1].instrument_name, None);
    let d: MarketDetailsList = parse(json!({"marketDetails": [market_details_json()]}));
    assert_eq!(d.market_details[0].instrument.epic, "SILVER");
}

#[test]
fn prices() {
    let p: PricesResponse = parse(json!({
        "prices": [
            {"snapshotTime": "2022-04-06T15:18:00", "snapshotTimeUTC": "2022-04-06T13:18:00",
             "openPrice": {"bid": 24.356, "ask": 24.376}, "closePrice": {"bid": 24.378, "ask": 24.398},
             "highPrice": {"bid": 24.378, "ask": 24.398}, "lowPrice": {"bid": 24.355, "ask": 24.375},
             "lastTradedVolume": 187, "extra": 0},
            {"snapshotTime": "2022-04-06T15:19:00", "snapshotTimeUTC": "2022-04-06T13:19:00",
             "openPrice": {"bid": 24.379, "ask": 24.399}, "closePrice": {"bid": 24.379, "ask": 24.399},
             "highPrice": {"bid": 24.389, "ask": 24.409}, "lowPrice": {"bid": 24.510, "ask": 24.530}}
        ],
        "instrumentType": "COMMODITIES"
    }));
    assert_eq!(p.prices.len(), 2);
    let bar = &p.prices[0];
    assert_eq!(bar.snapshot_time_utc, "2022-04-06T13:18:00");
    assert_eq!(bar.open_price.bid, Some(dec!(24.356)));
    assert_eq!(bar.open_price.ask, Some(dec!(24.376)));
    assert_eq!(bar.high_price.ask, Some(dec!(24.398)));
    assert_eq!(bar.low_price.bid, Some(dec!(24.355)));
    assert_eq!(bar.close_price.bid, Some(dec!(24.378)));
    assert_eq!(bar.last_traded_volume, Some(dec!(187)));
    assert_eq!(p.prices[1].last_traded_volume, None);
    assert_eq!(p.prices[1].low_price.bid, Some(dec!(24.51)));
    assert_eq!(p.instrument_type, Some(InstrumentType::Commodities));
}

#[test]
fn resolutions() {
    let all = [
        ("MINUTE", Resolution::Minute),
        ("MINUTE_5", Resolution::Minute5),
        ("MINUTE_15", Resolution::Minute15),
        ("MINUTE_30", Resolution::Minute30),
        ("HOUR", Resolution::Hour),
        ("HOUR_4", Resolution::Hour4),
        ("DAY", Resolution::Day),
        ("WEEK", Resolution::Week),
    ];
    for (s, r) in all {
        assert_eq!(serde_json::from_value::<Resolution>(json!(s)).unwrap(), r);
        assert_eq!(serde_json::to_value(r).unwrap(), json!(s));
        assert_eq!(r.as_str(), Some(s));
    }
    assert_eq!(
        serde_json::from_value::<Resolution>(json!("MONTH")).unwrap(),
        Resolution::Unknown
    );
    assert_eq!(Resolution::Unknown.as_str(), None);
}

#[test]
fn activity_history() {
    let a: ActivityResponse = parse(json!({"activities": [
        {"date": "2022-01-03T18:01:48.536", "dateUTC": "2022-01-03T15:01:48.536", "epic": "OIL_CRUDE",
         "dealId": "00018509-0001-54c4-0000-0000803c0ec6", "source": "SYSTEM", "type": "EDIT_STOP_AND_LIMIT",
         "status": "REJECTED",
         "details": {"dealReference": "p_00018509-0001-54c4-0000-0000803c0ec6", "marketName": "Crude Oil",
                     "currency": "USD", "size": 0, "direction": "SELL", "level": 75.31,
                     "guaranteedStop": false, "more": []}},
        {"date": "2022-01-03T18:01:48.420", "dateUTC": "2022-01-03T15:01:48.420", "epic": "OIL_CRUDE",
         "dealId": "d", "source": "CLOSE_OUT", "type": "POSITION", "status": "ACCEPTED",
         "details": {"size": "1", "direction": "SELL", "level": 75.2}},
        {"dateUTC": "2022-01-17T15:09:47.344", "source": "ROBOT", "type": "DIVIDEND", "status": "UNKNOWN"},
        {"dateUTC": "2022-01-17T15:09:47.344", "source": "USER", "type": "WORKING_ORDER",
         "status": "MODIFY_REJECT"}
    ]}));
    assert_eq!(a.activities.len(), 4);
    let first = &a.activities[0];
    assert_eq!(first.source, Some(ActivitySource::System));
    assert_eq!(first.activity_type, ActivityType::EditStopAndLimit);
    assert_eq!(first.status, ActivityStatus::Rejected);
    let det = first.details.as_ref().unwrap();
    assert_eq!(det.size, Some(dec!(0)));
    assert_eq!(det.direction, Some(Direction::Sell));
    assert_eq!(det.level, Some(dec!(75.31)));
    let second = &a.activities[1];
    assert_eq!(second.source, Some(ActivitySource::CloseOut));
    assert_eq!(second.activity_type, ActivityType::Position);
    assert_eq!(second.details.as_ref().unwrap().size, Some(dec!(1)));
    let third = &a.activities[2];
    assert_eq!(third.source, Some(ActivitySource::Unknown));
    assert_eq!(third.activity_type, ActivityType::Unknown);
    assert_eq!(third.status, ActivityStatus::Unknown);
    assert!(third.details.is_none());
    assert_eq!(a.activities[3].status, ActivityStatus::ModifyReject);
    assert_eq!(a.activities[3].activity_type, ActivityType::WorkingOrder);
}

#[test]
fn transaction_history() {
    let t: TransactionsResponse = parse(json!({"transactions": [
        {"date": "2022-04-04T19:51:05.648", "dateUtc": "2022-04-04T16:51:05.648",
         "instrumentName": "NATURALGAS", "transactionType": "TRADE", "note": "Trade closed",
         "reference": "12345678", "size": "1.05", "currency": "USD"},
        {"date": "2022-04-04T19:54:27.568", "dateUtc": "2022-04-04T16:54:27.568",
         "transactionType": "DEPOSIT", "note": "Deposit", "reference": "12345678", "size": "20.0",
         "currency": "USD", "newField": 1},
        {"dateUTC": "2022-04-04T16:54:27.568", "transactionType": "LOTTERY_WIN", "size": -3.5,
         "currency": "USD"}
    ]}));
    assert_eq!(t.transactions.len(), 3);
    assert_eq!(t.transactions[0].size, dec!(1.05));
    assert_eq!(t.transactions[0].transaction_type, TransactionType::Trade);
    assert_eq!(t.transactions[0].date_utc, "2022-04-04T16:51:05.648");
    assert_eq!(t.transactions[1].size, dec!(20));
    assert_eq!(t.transactions[1].transaction_type, TransactionType::Deposit);
    assert_eq!(t.transactions[1].instrument_name, None);
    assert_eq!(t.transactions[2].size, dec!(-3.5));
    assert_eq!(t.transactions[2].transaction_type, TransactionType::Unknown);
    assert_eq!(
        serde_json::from_value::<TransactionType>(json!("TRADE_SLIPPAGE_PROTECTION")).unwrap(),
        TransactionType::TradeSlippageProtection
    );
    let bad = serde_json::from_value::<Transaction>(json!({
        "dateUtc": "x", "transactionType": "TRADE", "size": "abc", "currency": "USD"
    }));
    assert!(bad.is_err());
}

#[test]
fn stream_quote() {
    let m: StreamMessage = parse(json!({
        "status": "OK", "destination": "quote",
        "payload": {"epic": "OIL_CRUDE", "product": "CFD", "bid": 93.87, "bidQty": 4976.0, "ofr": 93.9,
                    "ofrQty": 5000.0, "timestamp": 1660297190627_i64, "extra": "x"}
    }));
    assert_eq!(m.destination, StreamDestination::Quote);
    let q = m.quote().unwrap();
    assert_eq!(q.epic, "OIL_CRUDE");
    assert_eq!(q.bid, dec!(93.87));
    assert_eq!(q.ofr, dec!(93.9));
    assert_eq!(q.bid_qty, Some(dec!(4976)));
    assert_eq!(q.ofr_qty, Some(dec!(5000)));
    assert_eq!(q.timestamp, 1660297190627);
    assert!(m.ohlc().is_none());
}

#[test]
fn stream_other_messages() {
    let m: StreamMessage = parse(json!({
        "status": "OK", "destination": "marketData.subscribe", "correlationId": "1",
        "payload": {"subscriptions": {"OIL_CRUDE": "PROCESSED"}}
    }));
    assert_eq!(m.destination, StreamDestination::MarketDataSubscribe);
    assert_eq!(m.correlation_id.as_deref(), Some("1"));
    assert!(m.quote().is_none());
    let o: StreamMessage = parse(json!({
        "status": "OK", "destination": "ohlc.event",
        "payload": {"resolution": "MINUTE_5", "epic": "AAPL", "type": "classic", "priceType": "bid",
                    "t": 1671714000000_i64, "h": 134.95, "l": 134.85, "o": 134.86, "c": 134.88}
    }));
    let bar = o.ohlc().unwrap();
    assert_eq!(bar.resolution, Resolution::Minute5);
    assert_eq!(bar.o, dec!(134.86));
    assert_eq!(bar.c, dec!(134.88));
    assert_eq!(bar.t, 1671714000000);
    let u: StreamMessage = parse(json!({"destination": "account.update", "payload": {}}));
    assert_eq!(u.destination, StreamDestination::Unknown);
    // A quote without a payload is not a quote.
    let q: StreamMessage = parse(json!({"destination": "quote"}));
    assert!(q.quote().is_none());
}

#[test]
fn stream_requests_serialise_and_mask() {
    let r = StreamRequest {
        destination: StreamDestination::MarketDataSubscribe,
        correlation_id: "1".into(),
        cst: "cst-secret",
        security_token: "xst-secret",
        payload: EpicsPayload {
            epics: vec!["OIL_CRUDE".into()],
        },
    };
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"destination": "marketData.subscribe", "correlationId": "1", "cst": "cst-secret",
               "securityToken": "xst-secret", "payload": {"epics": ["OIL_CRUDE"]}})
    );
    let dbg = format!("{r:?}");
    assert!(!dbg.contains("cst-secret") && !dbg.contains("xst-secret"));
    let o = OhlcSubscribePayload {
        epics: vec!["AAPL".into()],
        resolutions: vec![Resolution::Minute5],
        bar_type: Some("classic".into()),
    };
    assert_eq!(
        serde_json::to_value(&o).unwrap(),
        json!({"epics": ["AAPL"], "resolutions": ["MINUTE_5"], "type": "classic"})
    );
    assert_eq!(
        serde_json::to_value(StreamDestination::Ping).unwrap(),
        json!("ping")
    );
    assert_eq!(
        serde_json::to_value(StreamDestination::OhlcSubscribe).unwrap(),
        json!("OHLCMarketData.subscribe")
    );
}

#[test]
fn times() {
    let t = parse_time("2022-04-05T09:46:01.872").unwrap();
    assert_eq!(t.format("%H:%M:%S%.3f").to_string(), "09:46:01.872");
    assert!(parse_time("2022-04-06T13:18:00").is_some());
    assert!(parse_time("-").is_none());
    let when = DateTime::parse_from_rfc3339("2022-06-09T01:01:00.5Z")
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(format_time(when), "2022-06-09T01:01:00");
}

#[test]
fn direction_and_deal_status_values() {
    assert_eq!(serde_json::to_value(Direction::Sell).unwrap(), json!("SELL"));
    assert_eq!(
        serde_json::from_value::<Direction>(json!("BUY")).unwrap(),
        Direction::Buy
    );
    assert_eq!(
        serde_json::from_value::<DealStatus>(json!("REJECTED")).unwrap(),
        DealStatus::Rejected
    );
    assert_eq!(
        serde_json::from_value::<OrderType>(json!("STOP")).unwrap(),
        OrderType::Stop
    );
    for (s, t) in [
        ("SHARES", InstrumentType::Shares),
        ("CURRENCIES", InstrumentType::Currencies),
        ("INDICES", InstrumentType::Indices),
        ("CRYPTOCURRENCIES", InstrumentType::Cryptocurrencies),
        ("COMMODITIES", InstrumentType::Commodities),
    ] {
        assert_eq!(serde_json::from_value::<InstrumentType>(json!(s)).unwrap(), t);
    }
}
