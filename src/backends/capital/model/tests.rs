//! Session, account and trading wire types deserialise payloads shaped like the official Postman examples.

use super::test_support::*;
use super::*;
use rust_decimal_macros::dec;
use serde_json::json;

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
    // The official example, its second account given an unknown status, another currency and a new field.
    let mut v = testdata("accounts");
    v["accounts"][1]["status"] = json!("FROZEN");
    v["accounts"][1]["currency"] = json!("EUR");
    v["accounts"][1]["futureField"] = json!(true);
    let a: AccountsResponse = parse(v);
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
    // The official example with an instrument type the bridge does not know.
    let mut v = testdata("account_preferences");
    v["leverages"]["BONDS"] = json!({"current": 3, "available": [3]});
    let p: AccountPreferences = parse(v);
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
