//! Wire types deserialise payloads shaped like the official Postman examples.

use super::*;
use rust_decimal_macros::dec;
use serde_json::json;

fn parse<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).expect("fixture deserialises")
}

fn market_summary_json(epic: &str, status: &str) -> serde_json::Value {
    json!({
        "instrumentName": "Silver", "expiry": "-", "marketStatus": status, "epic": epic,
        "instrumentType": "COMMODITIES", "lotSize": 1, "high": 21.167, "low": 20.823,
        "percentageChange": 1.8478, "netChange": 0.3810, "bid": 21.037, "offer": 21.057,
        "updateTime": "2022-04-06T10:53:35.389", "updateTimeUTC": "2022-04-06T07:53:35.389",
        "delayTime": 0, "streamingPricesAvailable": true, "scalingFactor": 1,
        "somethingNew": {"nested": [1, 2]}
    })
}

#[test]
fn error_body() {
    let e: ErrorBody = parse(json!({"errorCode": "error.invalid.details"}));
    assert_eq!(e.error_code, "error.invalid.details");
    assert_eq!(e.message, None);
    let e: ErrorBody = parse(json!({"errorCode": "x", "message": "m", "extra": 1}));
    assert_eq!(e.message.as_deref(), Some("m"));
}

#[test]
fn session_request_serialises_and_masks() {
    let r = CreateSessionRequest {
        identifier: "me@x.com",
        password: "hunter2",
        encrypted_password: false,
    };
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(
        v,
        json!({"identifier": "me@x.com", "password": "hunter2", "encryptedPassword": false})
    );
    assert!(!format!("{r:?}").contains("hunter2"));
}

#[test]
fn session_created() {
    let s: SessionCreated = parse(json!({
        "accountType": "CFD",
        "accountInfo": {"balance": 124.95, "deposit": 125.18, "profitLoss": -0.23, "available": 116.93},
        "currencyIsoCode": "USD", "currencySymbol": "$",
        "currentAccountId": "12345678901234567",
        "streamingHost": "wss://api-streaming-capital.backend-capital.com/",
        "accounts": [
            {"accountId": "12345678901234567", "accountName": "USD", "preferred": true, "accountType": "CFD"},
            {"accountId": "12345678907654321", "accountName": "Second", "preferred": false,
             "accountType": "SPREADBET_NEW"}
        ],
        "clientId": "12345678", "timezoneOffset": 3,
        "hasActiveDemoAccounts": true, "hasActiveLiveAccounts": true, "trailingStopsEnabled": false,
        "brandNewField": "ignored"
    }));
    assert_eq!(s.current_account_id, "12345678901234567");
    assert_eq!(s.account_type, Some(AccountType::Cfd));
    assert_eq!(s.account_info.as_ref().unwrap().profit_loss, dec!(-0.23));
    assert_eq!(s.accounts.len(), 2);
    assert!(s.accounts[0].preferred);
    assert_eq!(s.accounts[1].account_type, Some(AccountType::Unknown));
    assert_eq!(s.timezone_offset, Some(3));
    assert_eq!(s.trailing_stops_enabled, Some(false));
    // Minimal body.
    let s: SessionCreated = parse(json!({"currentAccountId": "1"}));
    assert!(s.accounts.is_empty());
}

#[test]
fn session_misc() {
    let k: EncryptionKey = parse(json!({"encryptionKey": "MIIB", "timeStamp": 1649058606014_i64}));
    assert_eq!(k.time_stamp, 1649058606014);
    let d: SessionDetails = parse(json!({
        "clientId": "12345678", "accountId": "12345678901234567", "timezoneOffset": 3, "locale": "en",
        "currency": "USD", "streamEndpoint": "wss://api-streaming-capital.backend-capital.com/"
    }));
    assert_eq!(d.account_id, "12345678901234567");
    assert_eq!(d.currency.as_deref(), Some("USD"));
    let sw: SwitchAccountResponse = parse(json!({
        "trailingStopsEnabled": false, "dealingEnabled": true,
        "hasActiveDemoAccounts": false, "hasActiveLiveAccounts": true
    }));
    assert_eq!(sw.dealing_enabled, Some(true));
    assert_eq!(
        serde_json::to_value(SwitchAccountRequest { account_id: "123" }).unwrap(),
        json!({"accountId": "123"})
    );
    let st: StatusResponse = parse(json!({"status": "SUCCESS"}));
    assert_eq!(st.status, "SUCCESS");
}

#[test]
fn accounts() {
    let a: AccountsResponse = parse(json!({"accounts": [
        {"accountId": "12345678901234567", "accountName": "USD", "status": "ENABLED", "accountType": "CFD",
         "preferred": true,
         "balance": {"balance": 124.95, "deposit": 125.18, "profitLoss": -0.23, "available": 116.93},
         "currency": "USD"},
        {"accountId": "12345678907654321", "accountName": "Second account", "status": "FROZEN",
         "accountType": "CFD", "preferred": false,
         "balance": {"balance": 100.0, "deposit": 100.0, "profitLoss": 0.0, "available": 0.0},
         "currency": "EUR", "futureField": true}
    ]}));
    assert_eq!(a.accounts.len(), 2);
    let first = &a.accounts[0];
    assert_eq!(first.status, Some(AccountStatus::Enabled));
    assert_eq!(first.balance.balance, dec!(124.95));
    assert_eq!(first.balance.deposit, dec!(125.18));
    assert_eq!(first.balance.available, dec!(116.93));
    assert_eq!(a.accounts[1].status, Some(AccountStatus::Unknown));
    assert_eq!(a.accounts[1].currency, "EUR");
}

#[test]
fn preferences() {
    let p: AccountPreferences = parse(json!({
        "hedgingMode": false,
        "leverages": {
            "SHARES": {"current": 2, "available": [1, 2, 3, 5]},
            "CURRENCIES": {"current": 1, "available": [1, 10, 20, 30]},
            "INDICES": {"current": 10, "available": [1, 10, 20]},
            "CRYPTOCURRENCIES": {"current": 1, "available": [1, 2]},
            "COMMODITIES": {"current": 5, "available": [1, 5, 10, 20]},
            "BONDS": {"current": 3, "available": [3]}
        }
    }));
    assert!(!p.hedging_mode);
    assert_eq!(p.leverages.get(InstrumentType::Shares).unwrap().current, dec!(2));
    assert_eq!(
        p.leverages
            .get(InstrumentType::Currencies)
            .unwrap()
            .available
            .len(),
        4
    );
    assert_eq!(
        p.leverages.get(InstrumentType::Commodities).unwrap().available[3],
        dec!(20)
    );
    assert!(p.leverages.get(InstrumentType::Unknown).is_none());
    let req = UpdatePreferencesRequest {
        leverages: Some(LeverageSettings {
            indices: Some(20),
            ..Default::default()
        }),
        hedging_mode: Some(true),
    };
    assert_eq!(
        serde_json::to_value(req).unwrap(),
        json!({"leverages": {"INDICES": 20}, "hedgingMode": true})
    );
}

#[test]
fn positions() {
    let mut second = market_summary_json("US500", "SOME_NEW_STATUS");
    second["instrumentType"] = json!("WARRANTS");
    let p: PositionsResponse = parse(json!({"positions": [
        {"position": {
            "contractSize": 1, "createdDate": "2022-04-05T12:46:01.872",
            "createdDateUTC": "2022-04-05T09:46:01.872",
            "dealId": "00018387-0001-54c4-0000-000080560014",
            "dealReference": "p_00018387-0001-54c4-0000-000080560014",
            "workingOrderId": "00018387-0001-54c4-0000-000080560012",
            "size": 10.0, "leverage": 20, "upl": -0.0500, "direction": "BUY", "level": 2.764,
            "currency": "USD", "guaranteedStop": false, "unexpected": "x"
         },
         "market": market_summary_json("NATURALGAS", "TRADEABLE")},
        {"position": {
            "dealId": "d2", "dealReference": "p_d2", "createdDateUTC": "2022-04-05T09:46:10.139",
            "size": 1.0, "upl": -0.80, "direction": "SHORT_SOMETHING", "level": 3985.1, "currency": "USD",
            "guaranteedStop": true, "stopLevel": 3900.5, "profitLevel": 4100, "trailingStop": false
         },
         "market": second}
    ]}));
    assert_eq!(p.positions.len(), 2);
    let a = &p.positions[0];
    assert_eq!(a.position.deal_id, "00018387-0001-54c4-0000-000080560014");
    assert_eq!(a.position.size, dec!(10));
    assert_eq!(a.position.level, dec!(2.764));
    assert_eq!(a.position.upl, Some(dec!(-0.05)));
    assert_eq!(a.position.direction, Direction::Buy);
    assert_eq!(
        a.position.created_date_utc.as_deref(),
        Some("2022-04-05T09:46:01.872")
    );
    assert_eq!(a.market.epic, "NATURALGAS");
    assert_eq!(a.market.market_status, Some(MarketStatus::Tradeable));
    assert_eq!(a.market.instrument_type, Some(InstrumentType::Commodities));
    assert_eq!(a.market.bid, Some(dec!(21.037)));
    assert_eq!(a.market.offer, Some(dec!(21.057)));
    assert_eq!(
        a.market.update_time_utc.as_deref(),
        Some("2022-04-06T07:53:35.389")
    );
    let b = &p.positions[1];
    assert_eq!(b.position.direction, Direction::Unknown);
    assert_eq!(b.position.stop_level, Some(dec!(3900.5)));
    assert_eq!(b.position.profit_level, Some(dec!(4100)));
    assert_eq!(b.position.trailing_stop, Some(false));
    assert!(b.position.guaranteed_stop);
    assert_eq!(b.market.market_status, Some(MarketStatus::Unknown));
    assert_eq!(b.market.instrument_type, Some(InstrumentType::Unknown));
    // Single position answer has the same shape as one entry.
    let single: PositionEntry = parse(json!({
        "position": {"dealId": "x", "size": 1.0, "direction": "SELL", "level": 21.059, "currency": "USD"},
        "market": {"epic": "SILVER"}
    }));
    assert_eq!(single.position.direction, Direction::Sell);
    assert!(!single.position.guaranteed_stop);
    assert_eq!(single.market.bid, None);
}

#[test]
fn create_position_request() {
    let r = CreatePositionRequest {
        epic: "SILVER".into(),
        direction: Direction::Buy,
        size: dec!(1),
        stops: StopsAndLimits {
            guaranteed_stop: Some(true),
            stop_level: Some(dec!(20)),
            profit_level: Some(dec!(27)),
            ..Default::default()
        },
    };
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"epic": "SILVER", "direction": "BUY", "size": 1.0, "guaranteedStop": true,
               "stopLevel": 20.0, "profitLevel": 27.0})
    );
    let u = UpdatePositionRequest {
        stops: StopsAndLimits {
            guaranteed_stop: Some(true),
            stop_distance: Some(dec!(3)),
            profit_amount: Some(dec!(2)),
            ..Default::default()
        },
    };
    assert_eq!(
        serde_json::to_value(&u).unwrap(),
        json!({"guaranteedStop": true, "stopDistance": 3.0, "profitAmount": 2.0})
    );
    let d: DealReference = parse(json!({"dealReference": "o_98c0de50-9cd5-4481-8d81-890c525eeb49"}));
    assert_eq!(d.deal_reference, "o_98c0de50-9cd5-4481-8d81-890c525eeb49");
}

#[test]
fn confirmation() {
    let c: Confirmation = parse(json!({
        "date": "2022-04-06T07:32:19.193", "status": "OPEN", "reason": "SUCCESS", "dealStatus": "ACCEPTED",
        "epic": "SILVER", "dealReference": "o_fcc7e6c0-c150-48aa-bf66-d6c6da071f1a",
        "dealId": "006011e7-0001-54c4-0000-000080560043",
        "affectedDeals": [{"dealId": "006011e7-0001-54c4-0000-000080560045", "status": "OPENED"}],
        "level": 24.285, "size": 1, "direction": "BUY", "guaranteedStop": false, "trailingStop": false,
        "newThing": null
    }));
    assert_eq!(c.deal_status, DealStatus::Accepted);
    assert_eq!(c.status, Some(ConfirmStatus::Open));
    assert_eq!(c.reason.as_deref(), Some("SUCCESS"));
    assert_eq!(c.affected_deals.len(), 1);
    assert_eq!(
        c.affected_deals[0].deal_id,
        "006011e7-0001-54c4-0000-000080560045"
    );
    assert_eq!(c.affected_deals[0].status, Some(AffectedDealStatus::Opened));
    assert_eq!(c.level, Some(dec!(24.285)));
    assert_eq!(c.size, Some(dec!(1)));
    assert_eq!(c.direction, Some(Direction::Buy));
    // A rejection with few fields and unknown values.
    let r: Confirmation = parse(json!({
        "dealStatus": "REJECTED", "reason": "RISK_CHECK", "status": "WHATEVER",
        "affectedDeals": [{"dealId": "a", "status": "MERGED"}]
    }));
    assert_eq!(r.deal_status, DealStatus::Rejected);
    assert_eq!(r.status, Some(ConfirmStatus::Unknown));
    assert_eq!(r.affected_deals[0].status, Some(AffectedDealStatus::Unknown));
    let u: Confirmation = parse(json!({"dealStatus": "PENDING"}));
    assert_eq!(u.deal_status, DealStatus::Unknown);
    assert!(u.affected_deals.is_empty());
}

#[test]
fn working_orders() {
    let w: WorkingOrdersResponse = parse(json!({"workingOrders": [
        {"workingOrderData": {
            "dealId": "006011e7-0001-54c4-0000-000080560078", "direction": "BUY", "epic": "SILVER",
            "orderSize": 1, "orderLevel": 20, "timeInForce": "GOOD_TILL_DATE",
            "goodTillDate": "2022-06-09T04:01:00.000", "goodTillDateUTC": "2022-06-09T01:01:00.000",
            "createdDate": "2022-04-06T12:48:28.114", "createdDateUTC": "2022-04-06T09:48:28.114",
            "guaranteedStop": true, "orderType": "LIMIT", "stopDistance": -3, "profitDistance": 3,
            "currencyCode": "USD", "someExtra": 5
         },
         "marketData": market_summary_json("SILVER", "TRADEABLE")},
        {"workingOrderData": {
            "dealId": "00018387-0001-54c4-0000-000080560019", "direction": "SELL", "epic": "NATURALGAS",
            "orderSize": 1, "orderLevel": 6, "timeInForce": "IMMEDIATE_OR_WHAT",
            "createdDateUTC": "2022-04-06T09:13:46.571", "guaranteedStop": false, "orderType": "STOP_LIMIT",
            "currencyCode": "USD"
         },
         "marketData": market_summary_json("NATURALGAS", "CLOSED")}
    ]}));
    assert_eq!(w.working_orders.len(), 2);
    let a = &w.working_orders[0].working_order_data;
    assert_eq!(a.order_type, OrderType::Limit);
    assert_eq!(a.time_in_force, Some(TimeInForce::GoodTillDate));
    assert_eq!(a.good_till_date_utc.as_deref(), Some("2022-06-09T01:01:00.000"));
    assert_eq!(a.order_size, dec!(1));
    assert_eq!(a.order_level, dec!(20));
    assert_eq!(a.stop_distance, Some(dec!(-3)));
    assert!(a.guaranteed_stop);
    let b = &w.working_orders[1];
    assert_eq!(b.working_order_data.order_type, OrderType::Unknown);
    assert_eq!(b.working_order_data.time_in_force, Some(TimeInForce::Unknown));
    assert_eq!(b.working_order_data.direction, Direction::Sell);
    assert_eq!(b.market_data.market_status, Some(MarketStatus::Closed));
    assert_eq!(
        serde_json::from_value::<TimeInForce>(json!("GOOD_TILL_CANCELLED")).unwrap(),
        TimeInForce::GoodTillCancelled
    );
}

#[test]
fn working_order_requests() {
    let r = CreateWorkingOrderRequest {
        epic: "SILVER".into(),
        direction: Direction::Buy,
        size: dec!(1),
        level: dec!(20),
        order_type: OrderType::Limit,
        good_till_date: Some("2022-06-09T01:01:00".into()),
        stops: StopsAndLimits {
            guaranteed_stop: Some(true),
            stop_level: Some(dec!(17)),
            profit_level: Some(dec!(23)),
            ..Default::default()
        },
    };
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"epic": "SILVER", "direction": "BUY", "size": 1.0, "level": 20.0, "type": "LIMIT",
               "goodTillDate": "2022-06-09T01:01:00", "guaranteedStop": true,
               "stopLevel": 17.0, "profitLevel": 23.0})
    );
    let stop = CreateWorkingOrderRequest {
        order_type: OrderType::Stop,
        good_till_date: None,
        ..r
    };
    let v = serde_json::to_value(&stop).unwrap();
    assert_eq!(v["type"], "STOP");
    assert!(v.get("goodTillDate").is_none());
    let u = UpdateWorkingOrderRequest {
        level: None,
        good_till_date: Some("2022-06-09T01:01:00".into()),
        stops: StopsAndLimits {
            guaranteed_stop: Some(true),
            stop_distance: Some(dec!(4)),
            profit_distance: Some(dec!(4)),
            ..Default::default()
        },
    };
    assert_eq!(
        serde_json::to_value(&u).unwrap(),
        json!({"goodTillDate": "2022-06-09T01:01:00", "guaranteedStop": true,
               "stopDistance": 4.0, "profitDistance": 4.0})
    );
}

fn market_details_json() -> serde_json::Value {
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
            "country": "", "overnightFee": {"longRate": -0.01}
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
            "marketStatus": "TRADEABLE", "netChange": -0.313, "percentageChange": -1.2762,
            "updateTime": "2022-04-06T13:17:42.113", "delayTime": 0, "bid": 24.203, "offer": 24.223,
            "high": 24.405, "low": 24.193, "decimalPlacesFactor": 3, "scalingFactor": 1
        }
    })
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
