//! Final orders: fills with their price, cancellations with their reason, rejections told apart.

use super::fixtures::{all_orders, cancel_json, catalog, market_fill_json, parse, tx};
use super::*;
use crate::tv::{InfoMessage, MessageType, Order, OrderStatus, OrderType, ParentType, Side};
use chrono::{TimeZone, Utc};
use rust_decimal_macros::dec;
use serde_json::json;
use std::collections::HashSet;

fn since() -> Option<chrono::DateTime<Utc>> {
    Utc.with_ymd_and_hms(2016, 10, 28, 0, 0, 0).single()
}

/// The facts of the fixture's filling and cancelling transactions.
fn facts() -> FactsMap {
    let tp_fill = tx(
        json!({"id": "6345", "type": "ORDER_FILL", "orderID": "6340", "instrument": "EUR_USD",
        "units": "-100", "price": "1.20000", "reason": "TAKE_PROFIT_ORDER",
        "tradesClosed": [{"tradeID": "6331", "units": "-100", "price": "1.20000", "realizedPL": "10.0000"}]}),
    );
    [
        ("6381", facts_of(&tx(market_fill_json()))),
        (
            "6363",
            facts_of(&tx(cancel_json("6363", "6362", "INSUFFICIENT_MARGIN"))),
        ),
        (
            "6361",
            facts_of(&tx(cancel_json("6361", "6360", "TIME_IN_FORCE_EXPIRED"))),
        ),
        ("6345", facts_of(&tp_fill)),
    ]
    .into_iter()
    .map(|(id, f)| (id.to_string(), Some(f)))
    .collect()
}

#[test]
fn the_facts_needed_are_those_of_the_orders_shown() {
    assert_eq!(
        needed_facts(&all_orders(), since()),
        ["6381", "6363", "6361", "6345"]
    );
    assert_eq!(needed_facts(&all_orders(), None).len(), 5);
}

#[test]
fn final_orders_since_the_session_began_newest_first() {
    let shown = final_orders(
        &all_orders(),
        &facts(),
        &catalog(),
        since(),
        &HashSet::new(),
        true,
    );
    let ids: Vec<&str> = shown.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["@tv-2", "@tv-3", "6360", "6331.tp"]);

    let mut filled = Order::new(
        "@tv-2".into(),
        "EURUSD".into(),
        dec!(100),
        Side::Buy,
        OrderType::Market,
        OrderStatus::Filled,
        1477670400,
    );
    filled.filled_qty = Some(dec!(100));
    filled.avg_price = Some(dec!(1.10012));
    filled.duration = Some(crate::tv::OrderDuration {
        kind: "FOK".into(),
        datetime: None,
    });
    assert_eq!(shown[0], filled);

    // Killed for lack of margin: it could never execute, so it is rejected, with the reason in words.
    assert_eq!(shown[1].status, OrderStatus::Rejected);
    assert_eq!(
        shown[1].message,
        Some(InfoMessage {
            text: "There was not enough margin available to fill the order.".into(),
            kind: MessageType::Error
        })
    );
    assert_eq!(
        (shown[1].qty, shown[1].side, shown[1].last_modified),
        (dec!(50000000), Side::Sell, Some(1477659600))
    );

    // Expired: an ordinary cancellation.
    assert_eq!(shown[2].status, OrderStatus::Cancelled);
    assert_eq!(
        shown[2].message,
        Some(InfoMessage {
            text: "The order expired.".into(),
            kind: MessageType::Information
        })
    );
    assert_eq!(
        (shown[2].limit_price, shown[2].last_modified),
        (Some(dec!(140.000)), Some(1477656000))
    );

    // A filled take profit of a trade: quantity, side and instrument from its fill.
    let tp = &shown[3];
    assert_eq!(
        (tp.kind, tp.side, tp.qty, tp.limit_price, tp.avg_price, tp.status),
        (
            OrderType::Limit,
            Side::Sell,
            dec!(100),
            Some(dec!(1.20000)),
            Some(dec!(1.2)),
            OrderStatus::Filled
        )
    );
    assert_eq!(
        (tp.parent_id.as_deref(), tp.parent_type),
        (Some("6331"), Some(ParentType::Position))
    );
}

#[test]
fn orders_wait_for_their_facts_unless_they_cannot_be_read() {
    let mut f = facts();
    f.remove("6363");
    let shown = final_orders(&all_orders(), &f, &catalog(), since(), &HashSet::new(), true);
    assert!(
        shown.iter().all(|o| o.id != "@tv-3"),
        "not shown until its reason is known"
    );
    f.insert("6363".into(), None);
    let shown = final_orders(&all_orders(), &f, &catalog(), since(), &HashSet::new(), true);
    let o = shown
        .iter()
        .find(|o| o.id == "@tv-3")
        .expect("shown once given up on");
    assert_eq!((o.status, &o.message), (OrderStatus::Cancelled, &None));
    // The history does not wait.
    let mut f = facts();
    f.remove("6381");
    let shown = final_orders(&all_orders(), &f, &catalog(), None, &HashSet::new(), false);
    let o = shown.iter().find(|o| o.id == "@tv-2").expect("shown");
    assert_eq!((o.filled_qty, o.avg_price), (Some(dec!(100)), None));
    assert_eq!(shown.last().map(|o| o.id.as_str()), Some("6001"));
}

#[test]
fn a_pending_order_hides_a_final_one_of_the_same_id() {
    let hide: HashSet<String> = ["@tv-2".to_string()].into();
    let shown = final_orders(&all_orders(), &facts(), &catalog(), since(), &hide, true);
    assert!(shown.iter().all(|o| o.id != "@tv-2"));
}

#[test]
fn replaced_closing_and_cancelled_bracket_orders_are_not_shown() {
    let ids: Vec<String> = all_orders()
        .iter()
        .filter(|o| is_shown(o, None))
        .filter_map(final_id)
        .collect();
    assert_eq!(ids, ["@tv-2", "@tv-3", "6360", "6331.tp", "6001"]);
}

#[test]
fn a_fill_price_is_the_unit_weighted_price_of_its_trades() {
    let t = tx(
        json!({"id": "1", "type": "ORDER_FILL", "instrument": "EUR_USD", "units": "-150", "price": "9",
        "tradesClosed": [{"tradeID": "2", "units": "-100", "price": "1.10000"}],
        "tradeOpened": {"tradeID": "1", "units": "-50", "price": "1.10300"}}),
    );
    assert_eq!(fill_price(&t), Some(dec!(1.101)));
    let t = tx(json!({"id": "1", "type": "ORDER_FILL", "price": "1.25"}));
    assert_eq!(fill_price(&t), Some(dec!(1.25)));
    let triggered: model::Order = parse(json!({"id": "5", "type": "STOP", "state": "TRIGGERED",
        "instrument": "EUR_USD", "units": "10", "price": "1.1", "filledTime": "2016-10-28T10:00:00Z"}));
    assert_eq!(status_of(triggered.state), OrderStatus::Filled);
}
