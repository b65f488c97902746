//! Order requests (placement, working-order and position changes) against the official request examples.

use super::fixtures::*;
use super::orders::*;
use crate::broker::BrokerError;
use crate::tv::{self, Brackets, OrderDuration, Side};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;

/// 2022-06-09T01:01:00 UTC, the `goodTillDate` of the official examples.
const JUNE_9: i64 = 1_654_736_460;

fn order(kind: tv::OrderType) -> tv::PlaceOrder {
    tv::PlaceOrder::new("SILVER", Side::Buy, kind, dec!(1))
}

fn gtt(t: Option<i64>) -> Option<OrderDuration> {
    Some(OrderDuration {
        kind: "GTT".into(),
        datetime: t,
    })
}

fn duration(kind: &str) -> Option<OrderDuration> {
    Some(OrderDuration {
        kind: kind.into(),
        datetime: None,
    })
}

fn rejected(r: Result<impl std::fmt::Debug, BrokerError>) -> String {
    match r {
        Err(BrokerError::Rejected(m)) => m,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn body(p: &Placement) -> serde_json::Value {
    match p {
        Placement::Position(r) => serde_json::to_value(r).unwrap(),
        Placement::WorkingOrder(r) => serde_json::to_value(r).unwrap(),
    }
}

#[test]
fn market_orders_open_positions() {
    let simple = placement("SILVER", &order(tv::OrderType::Market), dec!(0.001)).unwrap();
    assert!(matches!(simple, Placement::Position(_)));
    assert_eq!(
        body(&simple),
        json!({"epic": "SILVER", "direction": "BUY", "size": 1.0})
    );
    // The official "stop loss, take profit and guaranteed stop" position.
    let mut o = order(tv::OrderType::Market);
    o.brackets.guaranteed_stop = Some(dec!(20));
    o.brackets.take_profit = Some(dec!(27));
    o.duration = duration("GTC");
    let p = placement("SILVER", &o, dec!(0.001)).unwrap();
    assert_eq!(
        body(&p),
        json!({"epic": "SILVER", "direction": "BUY", "size": 1.0, "guaranteedStop": true,
               "stopLevel": 20.0, "profitLevel": 27.0})
    );
    let mut sell = order(tv::OrderType::Market);
    sell.side = Side::Sell;
    sell.qty = dec!(2.5);
    sell.brackets.stop_loss = Some(dec!(26));
    assert_eq!(
        body(&placement("SILVER", &sell, dec!(0.001)).unwrap()),
        json!({"epic": "SILVER", "direction": "SELL", "size": 2.5, "stopLevel": 26.0})
    );
}

#[test]
fn trailing_stops_become_distances_in_price() {
    let mut o = order(tv::OrderType::Market);
    o.brackets.trailing_stop_pips = Some(dec!(15));
    let p = placement("EURUSD", &o, dec!(0.0001)).unwrap();
    assert_eq!(
        body(&p),
        json!({"epic": "EURUSD", "direction": "BUY", "size": 1.0, "trailingStop": true,
               "stopDistance": 0.0015})
    );
    // JPY pairs: a pip is 0.01.
    o.brackets.trailing_stop_pips = Some(dec!(20.5));
    let Placement::Position(r) = placement("USDJPY", &o, dec!(0.01)).unwrap() else {
        panic!("a position")
    };
    assert_eq!(r.stops.stop_distance, Some(dec!(0.205)));
    assert_eq!(r.stops.trailing_stop, Some(true));
    assert_eq!(r.stops.stop_level, None);
    o.brackets.trailing_stop_pips = Some(dec!(0));
    assert!(rejected(placement("USDJPY", &o, dec!(0.01))).contains("0 pips"));
}

#[test]
fn limit_and_stop_orders_wait_as_working_orders() {
    // The official "stop loss, take profit, guaranteed stop and cancellation date" working order.
    let mut o = order(tv::OrderType::Limit);
    o.limit_price = Some(dec!(20));
    o.duration = gtt(Some(JUNE_9));
    o.brackets.guaranteed_stop = Some(dec!(17));
    o.brackets.take_profit = Some(dec!(23));
    let p = placement("SILVER", &o, dec!(0.001)).unwrap();
    assert_eq!(
        body(&p),
        json!({"epic": "SILVER", "direction": "BUY", "size": 1.0, "level": 20.0, "type": "LIMIT",
               "goodTillDate": "2022-06-09T01:01:00", "guaranteedStop": true,
               "stopLevel": 17.0, "profitLevel": 23.0})
    );
    let mut s = order(tv::OrderType::Stop);
    s.side = Side::Sell;
    s.stop_price = Some(dec!(19.5));
    s.limit_price = Some(dec!(1)); // not used by a stop order
    s.duration = duration("gtc");
    assert_eq!(
        body(&placement("SILVER", &s, dec!(0.001)).unwrap()),
        json!({"epic": "SILVER", "direction": "SELL", "size": 1.0, "level": 19.5, "type": "STOP"})
    );
}

#[test]
fn missing_prices_unsupported_types_and_durations_are_refused() {
    assert!(rejected(placement("S", &order(tv::OrderType::Limit), dec!(1))).contains("'limitPrice'"));
    assert!(rejected(placement("S", &order(tv::OrderType::Stop), dec!(1))).contains("'stopPrice'"));
    assert!(matches!(
        placement("S", &order(tv::OrderType::StopLimit), dec!(1)),
        Err(BrokerError::Unsupported(_))
    ));
    let mut o = order(tv::OrderType::Limit);
    o.limit_price = Some(dec!(20));
    o.duration = duration("DAY");
    assert!(rejected(placement("S", &o, dec!(1))).contains("'DAY'"));
    o.duration = gtt(None);
    assert!(rejected(placement("S", &o, dec!(1))).contains("GTT needs an expiration"));
    o.duration = gtt(Some(i64::MAX));
    assert!(rejected(placement("S", &o, dec!(1))).contains("out of range"));
    let mut m = order(tv::OrderType::Market);
    m.duration = gtt(Some(JUNE_9));
    assert!(rejected(placement("S", &m, dec!(1))).contains("market order"));
    m.duration = duration("IOC");
    assert!(rejected(placement("S", &m, dec!(1))).contains("'IOC'"));
}

#[test]
fn two_kinds_of_stop_are_refused() {
    let both = |b: Brackets| {
        let mut o = order(tv::OrderType::Market);
        o.brackets = b;
        rejected(placement("S", &o, dec!(0.01)))
    };
    let m = both(Brackets {
        stop_loss: Some(dec!(17)),
        guaranteed_stop: Some(dec!(18)),
        ..Default::default()
    });
    assert!(
        m.contains("Stop loss 17") && m.contains("guaranteed stop 18"),
        "{m}"
    );
    let m = both(Brackets {
        stop_loss: Some(dec!(17)),
        trailing_stop_pips: Some(dec!(30)),
        ..Default::default()
    });
    assert!(m.contains("Stop loss 17") && m.contains("30 pips"), "{m}");
    let m = both(Brackets {
        guaranteed_stop: Some(dec!(18)),
        trailing_stop_pips: Some(dec!(30)),
        ..Default::default()
    });
    assert!(m.contains("Guaranteed stop 18") && m.contains("30 pips"), "{m}");
    // The same applies to changes.
    let b = Brackets {
        stop_loss: Some(dec!(1)),
        guaranteed_stop: Some(dec!(2)),
        ..Default::default()
    };
    assert!(matches!(
        position_update(&b, &Brackets::default(), dec!(1)),
        Err(BrokerError::Rejected(_))
    ));
}

fn change() -> tv::ModifyOrder {
    tv::ModifyOrder::brackets_only(Brackets::default())
}

#[test]
fn working_order_changes() {
    // SILVER BUY LIMIT 1 @ 20, GTT 2022-06-09T01:01:00 UTC, guaranteed stop 3 below, profit 3 above.
    let current = &working_orders()[0].working_order_data;
    let mut c = change();
    c.qty = Some(dec!(1));
    c.limit_price = Some(dec!(21));
    c.stop_price = Some(dec!(5)); // not the price of a limit order
    c.brackets.guaranteed_stop = Some(dec!(17));
    c.brackets.take_profit = Some(dec!(23));
    let u = working_order_update(current, &c, dec!(0.001)).unwrap();
    assert_eq!(
        serde_json::to_value(&u).unwrap(),
        json!({"level": 21.0, "goodTillDate": "2022-06-09T01:01:00", "guaranteedStop": true,
               "trailingStop": false, "stopLevel": 17.0, "profitLevel": 23.0})
    );
    // No price, no duration, no brackets: level and expiry kept, brackets removed. The guaranteed flag the
    // order had is cleared explicitly; the stop and profit levels can only be left out.
    let u = working_order_update(current, &change(), dec!(0.001)).unwrap();
    assert_eq!(
        serde_json::to_value(&u).unwrap(),
        json!({"level": 20.0, "goodTillDate": "2022-06-09T01:01:00", "guaranteedStop": false,
               "trailingStop": false})
    );
    let mut gtc = change();
    gtc.duration = duration("GTC");
    gtc.brackets.trailing_stop_pips = Some(dec!(100));
    let u = working_order_update(current, &gtc, dec!(0.001)).unwrap();
    assert_eq!(u.good_till_date, None);
    assert_eq!(u.stops.stop_distance, Some(dec!(0.1)));
    let mut later = change();
    later.duration = gtt(Some(JUNE_9 + 86_400));
    let u = working_order_update(current, &later, dec!(0.001)).unwrap();
    assert_eq!(u.good_till_date.as_deref(), Some("2022-06-10T01:01:00"));
}

#[test]
fn working_order_quantity_cannot_change() {
    let current = &working_orders()[0].working_order_data;
    let mut c = change();
    c.qty = Some(dec!(2));
    let m = rejected(working_order_update(current, &c, dec!(0.001)));
    assert!(m.contains("cannot change the quantity of a working order"), "{m}");
    assert!(m.contains("qty 2"), "{m}");
    let mut bad = change();
    bad.duration = duration("FOK");
    assert!(rejected(working_order_update(current, &bad, dec!(0.001))).contains("'FOK'"));
}

#[test]
fn stop_and_unknown_working_orders_take_their_price() {
    let mut v = all_working_orders();
    v["workingOrders"][1]["workingOrderData"]["orderType"] = json!("STOP");
    let orders: super::model::WorkingOrdersResponse = parse(v.clone());
    let stop = &orders.working_orders[1].working_order_data;
    let mut c = change();
    c.limit_price = Some(dec!(1));
    c.stop_price = Some(dec!(6.5));
    let u = working_order_update(stop, &c, dec!(0.001)).unwrap();
    // A GTC order has no expiry to send again; it never had a guaranteed stop, so that flag is left out.
    assert_eq!(
        serde_json::to_value(&u).unwrap(),
        json!({"level": 6.5, "trailingStop": false})
    );
    v["workingOrders"][1]["workingOrderData"]["orderType"] = json!("STOP_LIMIT");
    let orders: super::model::WorkingOrdersResponse = parse(v);
    let unknown = &orders.working_orders[1].working_order_data;
    let mut c = change();
    c.stop_price = Some(dec!(6.4));
    assert_eq!(
        working_order_update(unknown, &c, dec!(0.001)).unwrap().level,
        Some(dec!(6.4))
    );
}

#[test]
fn position_bracket_changes() {
    // The official update sets stops by distance; TradingView sends levels.
    let b = Brackets {
        guaranteed_stop: Some(dec!(21)),
        take_profit: Some(dec!(27)),
        ..Default::default()
    };
    let none = Brackets::default();
    assert_eq!(
        serde_json::to_value(position_update(&b, &none, dec!(0.001)).unwrap()).unwrap(),
        json!({"guaranteedStop": true, "trailingStop": false, "stopLevel": 21.0, "profitLevel": 27.0})
    );
    let trailing = Brackets {
        trailing_stop_pips: Some(dec!(250)),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(position_update(&trailing, &b, dec!(0.001)).unwrap()).unwrap(),
        json!({"guaranteedStop": false, "trailingStop": true, "stopDistance": 0.25}),
        "a guaranteed stop becoming a trailing one is said explicitly"
    );
    assert_eq!(
        serde_json::to_value(position_update(&none, &trailing, dec!(0.001)).unwrap()).unwrap(),
        json!({"trailingStop": false})
    );
    assert_eq!(
        stops(&Brackets::default(), Decimal::ZERO).unwrap(),
        Default::default()
    );
}

#[test]
fn removals_the_upstream_ignored_are_found() {
    let before = Brackets {
        stop_loss: Some(dec!(1.05)),
        take_profit: Some(dec!(1.2)),
        ..Default::default()
    };
    let only_tp = Brackets {
        take_profit: Some(dec!(1.2)),
        ..Default::default()
    };
    // Nothing removed: nothing to check.
    assert!(kept_despite_removal(&before, &before, &before).is_empty());
    // The stop loss was to go: gone is fine, still there (or turned into another kind of stop) is not.
    assert!(kept_despite_removal(&before, &only_tp, &only_tp).is_empty());
    assert_eq!(kept_despite_removal(&before, &only_tp, &before), ["stop loss"]);
    let trailing_left = Brackets {
        trailing_stop_pips: Some(dec!(10)),
        take_profit: Some(dec!(1.2)),
        ..Default::default()
    };
    assert_eq!(
        kept_despite_removal(&before, &only_tp, &trailing_left),
        ["stop loss"]
    );
    assert_eq!(
        kept_despite_removal(&before, &Brackets::default(), &before),
        ["stop loss", "take profit"]
    );
    let m = match removal_refused("deal D1", &["stop loss", "take profit"]) {
        BrokerError::Rejected(m) => m,
        other => panic!("{other:?}"),
    };
    assert!(m.contains("stop loss and take profit of deal D1"), "{m}");
}
