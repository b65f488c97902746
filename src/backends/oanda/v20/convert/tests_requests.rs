//! Request bodies built from TradingView requests, compared with the OpenAPI request definitions.

use super::fixtures::{account, spec};
use super::*;
use crate::backends::oanda::venue::ClientRef;
use crate::broker::BrokerError;
use crate::tv::{self, Brackets, OrderDuration, OrderType, PlaceOrder, Side};
use rust_decimal_macros::dec;
use serde_json::{json, Value};

fn eur() -> crate::backends::oanda::venue::InstrumentSpec {
    spec("EUR_USD", -4, 5)
}

fn order(kind: OrderType, side: Side, qty: rust_decimal::Decimal) -> PlaceOrder {
    PlaceOrder::new("EURUSD", side, kind, qty)
}

fn body(r: &model::OrderRequest) -> Value {
    serde_json::to_value(model::OrderBody { order: r.clone() }).expect("serialises")
}

fn duration(kind: &str, datetime: Option<i64>) -> Option<OrderDuration> {
    Some(OrderDuration {
        kind: kind.into(),
        datetime,
    })
}

#[test]
fn a_market_order_with_brackets() {
    let mut o = order(OrderType::Market, Side::Buy, dec!(100));
    o.brackets = Brackets {
        take_profit: Some(dec!(1.2)),
        stop_loss: Some(dec!(1.000004)),
        trailing_stop_pips: Some(dec!(10)),
        guaranteed_stop: None,
    };
    assert_eq!(
        body(&place_request(&o, &eur(), ClientRef::of_tests("tv-9")).unwrap()),
        json!({"order": {
            "type": "MARKET", "instrument": "EUR_USD", "units": "100", "timeInForce": "FOK",
            "positionFill": "DEFAULT", "clientExtensions": {"id": "tv-9", "tag": "tvbridge", "comment": "tvbridge user 0a1b2c3d"},
            "takeProfitOnFill": {"price": "1.20000"}, "stopLossOnFill": {"price": "1.00000"},
            "trailingStopLossOnFill": {"distance": "0.00100"}
        }})
    );
    o.duration = duration("IOC", None);
    assert_eq!(
        place_request(&o, &eur(), ClientRef::of_tests("x"))
            .unwrap()
            .time_in_force,
        model::TimeInForce::Ioc
    );
    // Whatever else comes with a market order, OANDA only allows fill-or-kill.
    o.duration = duration("GTC", None);
    assert_eq!(
        place_request(&o, &eur(), ClientRef::of_tests("x"))
            .unwrap()
            .time_in_force,
        model::TimeInForce::Fok
    );
}

#[test]
fn a_limit_sell_good_till_a_date() {
    let mut o = order(OrderType::Limit, Side::Sell, dec!(1000));
    o.limit_price = Some(dec!(1.123456));
    o.duration = duration("GTD", Some(1477958400));
    assert_eq!(
        body(&place_request(&o, &eur(), ClientRef::of_tests("tv-10")).unwrap()),
        json!({"order": {
            "type": "LIMIT", "instrument": "EUR_USD", "units": "-1000", "price": "1.12346", "timeInForce": "GTD",
            "gtdTime": "2016-11-01T00:00:00Z", "positionFill": "DEFAULT",
            "clientExtensions": {"id": "tv-10", "tag": "tvbridge", "comment": "tvbridge user 0a1b2c3d"}
        }})
    );
    o.duration = duration("GTD", None);
    assert!(
        matches!(place_request(&o, &eur(), ClientRef::of_tests("x")), Err(BrokerError::Rejected(m)) if m.contains("expiry"))
    );
    o.duration = duration("DAY", None);
    assert!(
        matches!(place_request(&o, &eur(), ClientRef::of_tests("x")), Err(BrokerError::Rejected(m)) if m.contains("\"DAY\""))
    );
    o.duration = duration("GFD", None);
    assert_eq!(
        place_request(&o, &eur(), ClientRef::of_tests("x"))
            .unwrap()
            .time_in_force,
        model::TimeInForce::Gfd
    );
    o.duration = None;
    assert_eq!(
        place_request(&o, &eur(), ClientRef::of_tests("x"))
            .unwrap()
            .time_in_force,
        model::TimeInForce::Gtc
    );
}

#[test]
fn stop_and_stop_limit_orders_and_a_guaranteed_stop() {
    let mut o = order(OrderType::Stop, Side::Buy, dec!(10));
    o.stop_price = Some(dec!(1.2));
    o.brackets.guaranteed_stop = Some(dec!(1.19));
    let b = body(&place_request(&o, &eur(), ClientRef::of_tests("")).unwrap());
    assert_eq!(b["order"]["type"], "STOP");
    assert_eq!(b["order"]["price"], "1.20000");
    assert!(b["order"].get("priceBound").is_none() && b["order"].get("clientExtensions").is_none());
    assert_eq!(
        b["order"]["stopLossOnFill"],
        json!({"price": "1.19000", "guaranteed": true})
    );

    let mut o = order(OrderType::StopLimit, Side::Buy, dec!(10));
    o.stop_price = Some(dec!(1.2));
    o.limit_price = Some(dec!(1.201));
    let r = place_request(&o, &eur(), ClientRef::of_tests("a")).unwrap();
    assert_eq!(
        (r.kind, r.price, r.price_bound),
        (model::OrderType::Stop, Some(dec!(1.20000)), Some(dec!(1.20100)))
    );
    o.limit_price = None;
    assert!(matches!(
        place_request(&o, &eur(), ClientRef::of_tests("a")),
        Err(BrokerError::Rejected(_))
    ));
}

#[test]
fn quantities_are_never_rounded_and_trailing_stops_are_bounded() {
    let o = order(OrderType::Market, Side::Sell, dec!(1.5));
    assert!(
        matches!(place_request(&o, &eur(), ClientRef::of_tests("a")), Err(BrokerError::Rejected(m)) if m.contains("steps of 1"))
    );
    let mut fractional = eur();
    fractional.units_precision = 1;
    assert_eq!(
        place_request(&o, &fractional, ClientRef::of_tests("a"))
            .unwrap()
            .units,
        dec!(-1.5)
    );
    assert_eq!(units(dec!(100.00), Side::Buy, &eur()).unwrap().to_string(), "100");

    let mut o = order(OrderType::Market, Side::Buy, dec!(1));
    o.brackets.trailing_stop_pips = Some(dec!(1));
    assert_eq!(
        place_request(&o, &eur(), ClientRef::of_tests("a")),
        Err(BrokerError::Rejected(
            "The trailing stop must be at least 5 pips on EUR/USD.".into()
        ))
    );
    o.brackets.trailing_stop_pips = Some(dec!(20000));
    assert!(
        matches!(place_request(&o, &eur(), ClientRef::of_tests("a")), Err(BrokerError::Rejected(m)) if m.contains("at most 10000 pips"))
    );
}

fn no_change(brackets: Brackets) -> tv::ModifyOrder {
    tv::ModifyOrder::brackets_only(brackets)
}

#[test]
fn a_replacement_changes_what_was_asked_and_keeps_the_rest() {
    let a = account();
    let current = find_entry(&a, "@tv-1").expect("pending");
    let mut change = no_change(entry_brackets(current, &eur()));
    assert_eq!(
        change.brackets,
        Brackets {
            take_profit: Some(dec!(1.10000)),
            stop_loss: Some(dec!(1.04500)),
            trailing_stop_pips: Some(dec!(10)),
            guaranteed_stop: None,
        }
    );
    change.duration = duration("GFD", None);
    assert_eq!(
        body(&replace_request(current, &change, &eur()).unwrap()),
        json!({"order": {
            "type": "LIMIT", "instrument": "EUR_USD", "units": "1000", "price": "1.05000", "timeInForce": "GFD",
            "positionFill": "DEFAULT", "triggerCondition": "DEFAULT",
            "takeProfitOnFill": {"price": "1.10000", "timeInForce": "GTC"},
            "stopLossOnFill": {"distance": "0.00500", "timeInForce": "GTC"},
            "trailingStopLossOnFill": {"distance": "0.00100", "timeInForce": "GTC"}
        }})
    );
    // A moved entry: the stop loss TradingView shows (1.04500) must stay where it is, so it is sent as a
    // price rather than as the distance that would follow the entry.
    change.duration = None;
    change.limit_price = Some(dec!(1.06));
    let b = body(&replace_request(current, &change, &eur()).unwrap());
    assert_eq!(b["order"]["price"], "1.06000");
    assert_eq!(b["order"]["stopLossOnFill"], json!({"price": "1.04500"}));
    assert_eq!(
        b["order"]["takeProfitOnFill"],
        json!({"price": "1.10000", "timeInForce": "GTC"})
    );
    // A new take profit and quantity; the stop loss removed.
    change.qty = Some(dec!(2000));
    change.brackets.take_profit = Some(dec!(1.11));
    change.brackets.stop_loss = None;
    let b = body(&replace_request(current, &change, &eur()).unwrap());
    assert_eq!(b["order"]["units"], "2000");
    assert_eq!(b["order"]["takeProfitOnFill"], json!({"price": "1.11000"}));
    assert!(b["order"].get("stopLossOnFill").is_none());
    change.duration = duration("GTD", Some(1477958400));
    let b = body(&replace_request(current, &change, &eur()).unwrap());
    assert_eq!(
        (&b["order"]["timeInForce"], &b["order"]["gtdTime"]),
        (&json!("GTD"), &json!("2016-11-01T00:00:00Z"))
    );
}

#[test]
fn a_replacement_of_an_order_without_client_id_is_given_one_that_keeps_its_id() {
    let a = account();
    let current = find_entry(&a, "6373").expect("pending");
    let mut change = no_change(Brackets::default());
    change.stop_price = Some(dec!(1.041));
    let r = replace_request(current, &change, &eur()).unwrap();
    assert_eq!(
        (
            r.kind,
            r.units,
            r.price,
            r.price_bound,
            r.time_in_force,
            r.gtd_time.as_deref()
        ),
        (
            model::OrderType::Stop,
            dec!(-500),
            Some(dec!(1.04100)),
            Some(dec!(1.03900)),
            model::TimeInForce::Gtd,
            Some("2016-11-01T00:00:00.000000000Z")
        )
    );
    let ext = r.client_extensions.expect("given");
    assert_eq!(
        (ext.id.as_deref(), ext.tag.as_deref()),
        (Some("tvbridge:6373"), Some("tvbridge"))
    );
}

#[test]
fn market_if_touched_is_replaced_with_the_price_of_the_field_it_is_shown_in() {
    let a = account();
    let current = find_entry(&a, "6374").expect("pending");
    let jpy = spec("USD_JPY", -2, 3);
    let mut change = no_change(entry_brackets(current, &jpy));
    assert_eq!(change.brackets.guaranteed_stop, Some(dec!(148.000)));
    change.limit_price = Some(dec!(149.5));
    let r = replace_request(current, &change, &jpy).unwrap();
    assert_eq!(
        (r.kind, r.price),
        (model::OrderType::MarketIfTouched, Some(dec!(149.500)))
    );
    assert_eq!(
        serde_json::to_value(&r.stop_loss_on_fill).unwrap(),
        json!({"price": "148.000", "guaranteed": true})
    );
}

#[test]
fn trade_brackets_send_only_what_changes() {
    let a = account();
    let current = TradeLegs::of(trade_orders(&a, "6368"));
    assert_eq!(
        current,
        TradeLegs {
            take_profit: Some(dec!(1.12000)),
            stop_loss: Some((Some(dec!(1.09000)), false)),
            trailing_distance: Some(dec!(0.00250)),
        }
    );
    let wanted = Brackets {
        take_profit: Some(dec!(1.12)),
        stop_loss: Some(dec!(1.08)),
        trailing_stop_pips: Some(dec!(25)),
        guaranteed_stop: None,
    };
    let b = dependent_body(&current, &wanted, &eur()).unwrap();
    assert_eq!(
        serde_json::to_value(&b).unwrap(),
        json!({"stopLoss": {"price": "1.08000"}})
    );
    // Nothing asked: every existing bracket is cancelled with null.
    let b = dependent_body(&current, &Brackets::default(), &eur()).unwrap();
    assert_eq!(
        serde_json::to_value(&b).unwrap(),
        json!({"takeProfit": null, "stopLoss": null, "trailingStopLoss": null})
    );
    // The same price as a guaranteed stop is a change.
    let wanted = Brackets {
        take_profit: Some(dec!(1.12)),
        guaranteed_stop: Some(dec!(1.09)),
        trailing_stop_pips: Some(dec!(25)),
        stop_loss: None,
    };
    let b = dependent_body(&current, &wanted, &eur()).unwrap();
    assert_eq!(
        serde_json::to_value(&b).unwrap(),
        json!({"stopLoss": {"price": "1.09000", "guaranteed": true}})
    );
    // A trade without brackets given none: nothing to send.
    assert!(
        dependent_body(&TradeLegs::default(), &Brackets::default(), &eur())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn trade_closes_are_all_or_the_amount() {
    assert_eq!(close_units(None, dec!(100), &eur()).unwrap(), "ALL");
    assert_eq!(close_units(Some(dec!(100)), dec!(-100), &eur()).unwrap(), "ALL");
    assert_eq!(close_units(Some(dec!(40)), dec!(-100), &eur()).unwrap(), "40");
    assert!(close_units(Some(dec!(40.5)), dec!(100), &eur()).is_err());
}
