//! Pending orders of the documented account shape as TradingView orders.

use super::fixtures::{account, catalog, parse};
use super::*;
use crate::tv::{InfoMessage, MessageType, Order, OrderDuration, OrderStatus, OrderType, ParentType, Side};
use rust_decimal_macros::dec;
use serde_json::json;

fn by_id<'a>(orders: &'a [Order], id: &str) -> &'a Order {
    orders
        .iter()
        .find(|o| o.id == id)
        .unwrap_or_else(|| panic!("order {id} missing"))
}

fn duration(kind: &str, datetime: Option<i64>) -> Option<OrderDuration> {
    Some(OrderDuration {
        kind: kind.into(),
        datetime,
    })
}

#[test]
fn every_pending_order_and_leg_is_listed_once() {
    let orders = pending_orders(&account(), &catalog());
    let ids: Vec<&str> = orders.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "@tv-1", "@tv-1.tp", "@tv-1.sl", "@tv-1.ts", "6373", "6374", "6374.sl", "6368.tp", "6368.sl",
            "6368.ts", "6375.sl"
        ]
    );
}

#[test]
fn a_limit_order_of_the_bridge_is_known_by_its_client_id_with_inactive_legs() {
    let orders = pending_orders(&account(), &catalog());
    let mut expected = Order::new(
        "@tv-1".into(),
        "EURUSD".into(),
        dec!(1000),
        Side::Buy,
        OrderType::Limit,
        OrderStatus::Working,
        1477665000,
    );
    expected.limit_price = Some(dec!(1.05000));
    expected.duration = duration("GTC", None);
    assert_eq!(by_id(&orders, "@tv-1"), &expected);

    let leg = |id: &str, kind| {
        let mut o = Order::new(
            id.into(),
            "EURUSD".into(),
            dec!(1000),
            Side::Sell,
            kind,
            OrderStatus::Inactive,
            1477665000,
        );
        o.parent_id = Some("@tv-1".into());
        o.parent_type = Some(ParentType::Order);
        o
    };
    let mut tp = leg("@tv-1.tp", OrderType::Limit);
    tp.limit_price = Some(dec!(1.10000));
    assert_eq!(by_id(&orders, "@tv-1.tp"), &tp);
    // The stop loss was given as a distance of 0.00500 from the entry price.
    let mut sl = leg("@tv-1.sl", OrderType::Stop);
    sl.stop_price = Some(dec!(1.04500));
    assert_eq!(by_id(&orders, "@tv-1.sl"), &sl);
    let mut ts = leg("@tv-1.ts", OrderType::Stop);
    ts.stop_price = Some(dec!(1.04900));
    ts.is_trailing_stop = Some(true);
    ts.trailing_stop_pips = Some(dec!(10));
    assert_eq!(by_id(&orders, "@tv-1.ts"), &ts);
}

#[test]
fn a_stop_with_a_price_bound_is_a_stop_limit_and_gtd_carries_its_date() {
    let orders = pending_orders(&account(), &catalog());
    let mut expected = Order::new(
        "6373".into(),
        "EURUSD".into(),
        dec!(500),
        Side::Sell,
        OrderType::StopLimit,
        OrderStatus::Working,
        1477665060,
    );
    expected.stop_price = Some(dec!(1.04000));
    expected.limit_price = Some(dec!(1.03900));
    expected.duration = duration("GTD", Some(1477958400));
    assert_eq!(by_id(&orders, "6373"), &expected);
}

#[test]
fn market_if_touched_is_shown_as_what_it_does() {
    let orders = pending_orders(&account(), &catalog());
    // A buy below the market it was placed at waits for the price to come down: a limit order.
    let mit = by_id(&orders, "6374");
    assert_eq!(
        (mit.kind, mit.limit_price, mit.stop_price, mit.side),
        (OrderType::Limit, Some(dec!(149.000)), None, Side::Buy)
    );
    assert_eq!(mit.duration, duration("GFD", None));
    let sl = by_id(&orders, "6374.sl");
    assert_eq!(
        (sl.kind, sl.stop_price, sl.is_guaranteed_stop, sl.side, sl.status),
        (
            OrderType::Stop,
            Some(dec!(148.000)),
            Some(true),
            Side::Sell,
            OrderStatus::Inactive
        )
    );
    // The same order above the market (or a sell below it) acts as a stop.
    let mut above: model::Order = parse(json!({"id": "1", "type": "MARKET_IF_TOUCHED", "state": "PENDING",
        "instrument": "USD_JPY", "units": "300", "price": "151.000", "initialMarketPrice": "150.010"}));
    assert_eq!(entry_shape(&above).map(|s| s.kind), Some(OrderType::Stop));
    above.units = Some(dec!(-300));
    assert_eq!(entry_shape(&above).map(|s| s.kind), Some(OrderType::Limit));
    above.initial_market_price = None;
    assert_eq!(entry_shape(&above).map(|s| s.kind), Some(OrderType::Limit));
}

#[test]
fn dependent_orders_of_trades_are_working_brackets_of_the_position() {
    let orders = pending_orders(&account(), &catalog());
    let leg = |id: &str, kind| {
        let mut o = Order::new(
            id.into(),
            "EURUSD".into(),
            dec!(100),
            Side::Sell,
            kind,
            OrderStatus::Working,
            1477664885,
        );
        o.parent_id = Some("6368".into());
        o.parent_type = Some(ParentType::Position);
        o.duration = duration("GTC", None);
        o
    };
    let mut tp = leg("6368.tp", OrderType::Limit);
    tp.limit_price = Some(dec!(1.12000));
    assert_eq!(by_id(&orders, "6368.tp"), &tp);
    let mut sl = leg("6368.sl", OrderType::Stop);
    sl.stop_price = Some(dec!(1.09000));
    assert_eq!(by_id(&orders, "6368.sl"), &sl);
    let mut ts = leg("6368.ts", OrderType::Stop);
    ts.stop_price = Some(dec!(1.09750));
    ts.is_trailing_stop = Some(true);
    ts.trailing_stop_pips = Some(dec!(25));
    assert_eq!(by_id(&orders, "6368.ts"), &ts);
    // A short trade's guaranteed stop buys.
    let g = by_id(&orders, "6375.sl");
    assert_eq!(
        (
            g.side,
            g.qty,
            g.stop_price,
            g.is_guaranteed_stop,
            g.parent_id.as_deref()
        ),
        (
            Side::Buy,
            dec!(200),
            Some(dec!(151.000)),
            Some(true),
            Some("6375")
        )
    );
}

#[test]
fn a_replaced_order_of_another_app_keeps_its_original_id() {
    let o: model::Order = parse(json!({"id": "2307", "type": "LIMIT", "state": "PENDING",
        "instrument": "EUR_USD", "units": "-500000", "price": "1.25000", "timeInForce": "GTC",
        "clientExtensions": {"id": "tvbridge:2304", "tag": "tvbridge"}, "replacesOrderID": "2304"}));
    assert_eq!(tv_order_id(&o), "2304");
}

#[test]
fn unknown_types_and_states_are_shown_not_dropped() {
    let o: model::Order = parse(
        json!({"id": "9", "type": "SOME_NEW_TYPE", "state": "SOME_NEW_STATE",
        "instrument": "EUR_USD", "units": "10", "price": "1.10000"}),
    );
    let shown = pending_entry(&o, &catalog());
    assert_eq!(shown.len(), 1);
    assert_eq!(
        (shown[0].kind, shown[0].status),
        (OrderType::Limit, OrderStatus::Working)
    );
    assert_eq!(
        shown[0].message,
        Some(InfoMessage {
            text: "OANDA reported an order type this bridge does not know; shown as a limit order.".into(),
            kind: MessageType::Warning
        })
    );
    // Without a price or units there is nothing sensible to show.
    let o: model::Order =
        parse(json!({"id": "9", "type": "LIMIT", "state": "PENDING", "instrument": "EUR_USD"}));
    assert!(pending_entry(&o, &catalog()).is_empty());
}

#[test]
fn a_dependent_order_without_its_trade_is_left_out() {
    let mut a = account();
    a.trades.retain(|t| t.id != "6375");
    let orders = pending_orders(&a, &catalog());
    assert!(orders.iter().all(|o| o.id != "6375.sl"));
}
