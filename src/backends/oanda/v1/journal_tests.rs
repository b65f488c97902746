//! The journal finishes orders from the history and from what stops being listed.

use super::super::convert::{pending_order, trade_brackets};
use super::super::model::{self, Transaction};
use super::*;
use rust_decimal_macros::dec;

const T: &str = r#""accountId":1,"time":"2014-04-07T18:31:05Z""#;

fn symbol(i: &str) -> String {
    i.replace('_', "")
}

fn order(id: u64, stop_loss: f64) -> model::Order {
    serde_json::from_str(&format!(
        r#"{{"id":{id},"instrument":"EUR_USD","units":10,"side":"buy","type":"limit","time":"2014-04-07T18:00:00Z","price":1.2,"stopLoss":{stop_loss},"takeProfit":0,"trailingStop":0,"expiry":"2014-05-01T00:00:00Z"}}"#
    ))
    .unwrap()
}

fn trade(id: u64, stop_loss: f64, take_profit: f64) -> model::Trade {
    serde_json::from_str(&format!(
        r#"{{"id":{id},"units":10,"side":"buy","instrument":"EUR_USD","time":"2014-04-07T18:31:05Z","price":1.2,"takeProfit":{take_profit},"stopLoss":{stop_loss},"trailingStop":0,"trailingAmount":0}}"#
    ))
    .unwrap()
}

fn tx(json: &str) -> Transaction {
    serde_json::from_str(json).unwrap()
}

fn listed(orders: &[u64], trades: &[u64]) -> Listed {
    Listed {
        orders: orders.iter().copied().collect(),
        trades: trades.iter().copied().collect(),
    }
}

fn find<'a>(out: &'a [tv::Order], id: &str) -> &'a tv::Order {
    out.iter()
        .find(|o| o.id == id)
        .unwrap_or_else(|| panic!("{id} missing from {out:#?}"))
}

#[test]
fn an_order_that_fills_moves_its_brackets_to_the_trade() {
    let mut j = Journal::default();
    let created = tx(&format!(
        r#"{{"id":10,{T},"type":"LIMIT_ORDER_CREATE","instrument":"EUR_USD","units":10,"side":"buy","price":1.2}}"#
    ));
    let working = pending_order(&order(10, 1.1), "EURUSD", None);
    let out = j.refresh(
        working,
        &listed(&[10], &[]),
        Some((vec![created], false)),
        1,
        100,
        &symbol,
    );
    assert_eq!(out.len(), 2);
    assert_eq!(find(&out, "10.sl").status, OrderStatus::Inactive);
    assert_eq!(j.last_transaction(), Some(10));

    let fill = tx(&format!(
        r#"{{"id":11,{T},"type":"ORDER_FILLED","instrument":"EUR_USD","units":10,"side":"buy","price":1.19,"orderId":10,"tradeOpened":{{"id":11,"units":10}}}}"#
    ));
    let working = trade_brackets(&trade(11, 1.1, 0.0), "EURUSD", None);
    let out = j.refresh(
        working,
        &listed(&[], &[11]),
        Some((vec![fill], true)),
        2,
        200,
        &symbol,
    );
    assert_eq!(find(&out, "10").status, OrderStatus::Filled);
    assert_eq!(find(&out, "10").avg_price, Some(dec!(1.19)));
    let moved = find(&out, "10.sl");
    assert_eq!(
        (moved.status, moved.last_modified),
        (OrderStatus::Cancelled, Some(200))
    );
    assert!(moved.message.as_ref().unwrap().text.contains("Order 10 filled"));
    assert_eq!(find(&out, "11.sl").status, OrderStatus::Working);
    assert_eq!(j.last_transaction(), Some(11));
}

#[test]
fn a_trade_closed_by_its_stop_cancels_its_other_brackets() {
    let mut j = Journal::default();
    let working = trade_brackets(&trade(20, 1.1, 1.3), "EURUSD", None);
    j.refresh(
        working,
        &listed(&[], &[20]),
        Some((vec![], true)),
        1,
        100,
        &symbol,
    );
    let sl = tx(&format!(
        r#"{{"id":21,{T},"type":"STOP_LOSS_FILLED","instrument":"EUR_USD","units":10,"side":"sell","price":1.1,"tradeId":20}}"#
    ));
    let out = j.refresh(
        Vec::new(),
        &listed(&[], &[]),
        Some((vec![sl], true)),
        2,
        200,
        &symbol,
    );
    assert_eq!(out.len(), 2);
    assert_eq!(find(&out, "20.sl").status, OrderStatus::Filled);
    let tp = find(&out, "20.tp");
    assert_eq!(tp.status, OrderStatus::Cancelled);
    assert_eq!(
        tp.message.as_ref().map(|m| m.text.as_str()),
        Some("Trade 20 was closed.")
    );
}

#[test]
fn a_removed_bracket_set_again_works_again() {
    let mut j = Journal::default();
    j.refresh(
        trade_brackets(&trade(30, 1.1, 1.3), "EURUSD", None),
        &listed(&[], &[30]),
        Some((vec![], true)),
        1,
        100,
        &symbol,
    );
    let out = j.refresh(
        trade_brackets(&trade(30, 1.1, 0.0), "EURUSD", None),
        &listed(&[], &[30]),
        Some((vec![], true)),
        2,
        110,
        &symbol,
    );
    let tp = find(&out, "30.tp");
    assert_eq!((tp.status, tp.message.is_none()), (OrderStatus::Cancelled, true));
    let out = j.refresh(
        trade_brackets(&trade(30, 1.1, 1.35), "EURUSD", None),
        &listed(&[], &[30]),
        Some((vec![], true)),
        3,
        120,
        &symbol,
    );
    let tp = find(&out, "30.tp");
    assert_eq!(
        (tp.status, tp.limit_price),
        (OrderStatus::Working, Some(dec!(1.35)))
    );
    assert_eq!(out.iter().filter(|o| o.id == "30.tp").count(), 1);
}

#[test]
fn a_final_status_wins_over_a_listing_taken_just_before() {
    let mut j = Journal::default();
    let working = pending_order(&order(40, 0.0), "EURUSD", None);
    j.refresh(
        working.clone(),
        &listed(&[40], &[]),
        Some((vec![], true)),
        1,
        100,
        &symbol,
    );
    let cancel = tx(&format!(
        r#"{{"id":41,{T},"type":"ORDER_CANCEL","orderId":40,"reason":"CLIENT_REQUEST"}}"#
    ));
    j.learn_order(
        40,
        super::super::convert::OrderInfo {
            instrument: "EUR_USD".into(),
            units: dec!(10),
            side: tv::Side::Buy,
            kind: tv::OrderType::Limit,
            price: Some(dec!(1.2)),
            expiry: None,
        },
    );
    let out = j.refresh(
        working,
        &listed(&[40], &[]),
        Some((vec![cancel], true)),
        2,
        200,
        &symbol,
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].status, OrderStatus::Cancelled);
}

#[test]
fn an_entry_order_gone_without_a_trace_is_not_invented() {
    let mut j = Journal::default();
    j.refresh(
        pending_order(&order(50, 0.0), "EURUSD", None),
        &listed(&[50], &[]),
        Some((vec![], true)),
        1,
        100,
        &symbol,
    );
    let out = j.refresh(
        Vec::new(),
        &listed(&[], &[]),
        Some((vec![], true)),
        2,
        200,
        &symbol,
    );
    assert!(out.is_empty());
}

#[test]
fn the_history_is_read_when_something_may_have_finished() {
    let mut j = Journal::default();
    assert!(j.needs_sync(1, false), "never read");
    j.refresh(
        Vec::new(),
        &listed(&[], &[]),
        Some((vec![], false)),
        1,
        100,
        &symbol,
    );
    assert_eq!(j.last_transaction(), Some(0));
    assert!(!j.needs_sync(1, false));
    assert!(j.needs_sync(2, false), "the listing changed");
    assert!(j.needs_sync(1, true), "the bridge wrote");
    let a = fingerprint(&pending_order(&order(1, 0.0), "EURUSD", None), &[(5, dec!(1))]);
    let b = fingerprint(&pending_order(&order(1, 0.0), "EURUSD", None), &[(5, dec!(2))]);
    assert_ne!(a, b, "a reduced trade changes the fingerprint");
}

#[test]
fn what_an_unread_history_cannot_tell_is_looked_at_again() {
    let mut j = Journal::default();
    j.refresh(
        trade_brackets(&trade(60, 1.1, 1.3), "EURUSD", None),
        &listed(&[], &[60]),
        Some((vec![], true)),
        1,
        100,
        &symbol,
    );
    // The trade is gone but the history could not be read: nothing is invented.
    let out = j.refresh(Vec::new(), &listed(&[], &[]), None, 2, 200, &symbol);
    assert!(out.is_empty());
    // Read later: the stop loss filled, the take profit is cancelled with its trade.
    let sl = tx(&format!(
        r#"{{"id":61,{T},"type":"STOP_LOSS_FILLED","instrument":"EUR_USD","units":10,"side":"sell","price":1.1,"tradeId":60}}"#
    ));
    let out = j.refresh(
        Vec::new(),
        &listed(&[], &[]),
        Some((vec![sl], true)),
        2,
        300,
        &symbol,
    );
    assert_eq!(find(&out, "60.sl").status, OrderStatus::Filled);
    assert_eq!(find(&out, "60.tp").status, OrderStatus::Cancelled);
}
