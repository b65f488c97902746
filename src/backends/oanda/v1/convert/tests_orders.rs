//! Pending orders and the brackets of orders and trades, from the documented v1 listings.

use super::super::model;
use super::fixtures::*;
use super::*;
use crate::tv::{MessageType, OrderStatus, OrderType, ParentType, Side};
use rust_decimal_macros::dec;

fn orders() -> Vec<model::Order> {
    serde_json::from_str::<model::Orders>(ORDERS).unwrap().orders
}

fn trades() -> Vec<model::Trade> {
    serde_json::from_str::<model::Trades>(TRADES).unwrap().trades
}

#[test]
fn market_if_touched_order_shows_as_limit_with_a_note() {
    let o = pending_order(&orders()[0], "EURUSD", Some(dec!(0.0001)));
    assert_eq!(o.len(), 1, "no brackets: all zero");
    let p = &o[0];
    assert_eq!((p.id.as_str(), p.instrument.as_str()), ("175427639", "EURUSD"));
    assert_eq!(
        (p.qty, p.side, p.kind, p.status),
        (dec!(20), Side::Buy, OrderType::Limit, OrderStatus::Working)
    );
    assert_eq!((p.limit_price, p.stop_price), (Some(dec!(1)), None));
    let d = p.duration.as_ref().unwrap();
    assert_eq!((d.kind.as_str(), d.datetime), ("GTD", Some(1_392_481_327)));
    assert_eq!(p.last_modified, Some(1_392_135_727));
    let note = p.message.as_ref().unwrap();
    assert_eq!(note.kind, MessageType::Information);
    assert!(
        note.text.contains("market-if-touched") && note.text.contains(" 1."),
        "{}",
        note.text
    );
}

#[test]
fn limit_order_with_every_bracket() {
    let o = pending_order(&orders()[1], "USDJPY", Some(dec!(0.01)));
    assert_eq!(o.len(), 4);
    let p = &o[0];
    assert_eq!(
        (p.kind, p.side, p.limit_price, p.message.is_none()),
        (OrderType::Limit, Side::Sell, Some(dec!(102.5)), true)
    );
    let ids: Vec<&str> = o.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(ids, ["175427700", "175427700.sl", "175427700.tp", "175427700.ts"]);
    for child in &o[1..] {
        assert_eq!(child.status, OrderStatus::Inactive);
        assert_eq!(child.side, Side::Buy, "brackets close a sell");
        assert_eq!(child.qty, dec!(1000));
        assert_eq!(child.parent_id.as_deref(), Some("175427700"));
        assert_eq!(child.parent_type, Some(ParentType::Order));
    }
    assert_eq!((o[1].kind, o[1].stop_price), (OrderType::Stop, Some(dec!(103.1))));
    assert_eq!(
        (o[2].kind, o[2].limit_price),
        (OrderType::Limit, Some(dec!(101.25)))
    );
    let ts = &o[3];
    assert_eq!(
        (ts.kind, ts.is_trailing_stop, ts.trailing_stop_pips),
        (OrderType::Stop, Some(true), Some(dec!(15.5)))
    );
    assert_eq!(
        ts.stop_price,
        Some(dec!(102.655)),
        "15.5 pips above a sell entry of 102.5"
    );
    let unknown_pip = pending_order(&orders()[1], "USDJPY", None);
    assert_eq!(
        unknown_pip[3].stop_price, None,
        "no made-up price without the pip size"
    );
}

#[test]
fn stop_order() {
    let o = pending_order(&orders()[2], "EURUSD", Some(dec!(0.0001)));
    assert_eq!(
        (o[0].kind, o[0].stop_price, o[0].limit_price),
        (OrderType::Stop, Some(dec!(1.4)), None)
    );
    assert_eq!(o.len(), 2);
    assert_eq!(
        (o[1].id.as_str(), o[1].stop_price),
        ("175427701.sl", Some(dec!(1.38)))
    );
}

#[test]
fn unknown_type_and_side_are_shown_with_a_warning() {
    let o: model::Order = serde_json::from_str(
        r#"{"id":9,"instrument":"EUR_USD","units":1,"side":"flat","type":"iceberg","price":1.1,"expiry":"2014-03-01T00:00:00Z"}"#,
    )
    .unwrap();
    let p = &pending_order(&o, "EURUSD", None)[0];
    assert_eq!((p.kind, p.side), (OrderType::Limit, Side::Buy));
    assert_eq!(p.message.as_ref().map(|m| m.kind), Some(MessageType::Warning));
}

#[test]
fn trade_brackets_are_working_orders_on_the_position() {
    assert!(trade_brackets(&trades()[0], "EURUSD", Some(dec!(0.0001))).is_empty());
    let b = trade_brackets(&trades()[1], "USDJPY", Some(dec!(0.01)));
    let ids: Vec<&str> = b.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(ids, ["175427800.sl", "175427800.tp", "175427800.ts"]);
    for o in &b {
        assert_eq!(
            (o.status, o.side, o.qty),
            (OrderStatus::Working, Side::Sell, dec!(100))
        );
        assert_eq!(o.parent_id.as_deref(), Some("175427800"));
        assert_eq!(o.parent_type, Some(ParentType::Position));
    }
    assert_eq!(b[0].stop_price, Some(dec!(101.2)));
    assert_eq!(b[1].limit_price, Some(dec!(103.5)));
    assert_eq!(
        (b[2].stop_price, b[2].trailing_stop_pips),
        (Some(dec!(101.95)), Some(dec!(20))),
        "trailingAmount"
    );
    let mut t = trades()[1].clone();
    t.trailing_amount = Some(dec!(0));
    let b = trade_brackets(&t, "USDJPY", Some(dec!(0.01)));
    assert_eq!(b[2].stop_price, Some(dec!(101.9)), "20 pips below a buy at 102.1");
}

#[test]
fn bracket_ids_are_read_back() {
    assert_eq!(target("175427700"), Some(Target::Entry(175427700)));
    assert_eq!(
        target("175427700.sl"),
        Some(Target::Bracket(175427700, Leg::StopLoss))
    );
    assert_eq!(
        target("175427700.tp"),
        Some(Target::Bracket(175427700, Leg::TakeProfit))
    );
    assert_eq!(
        target("175427700.ts"),
        Some(Target::Bracket(175427700, Leg::TrailingStop))
    );
    assert_eq!(target("abc"), None);
    assert_eq!(target("1.xx"), None);
    assert_eq!(target("../1"), None);
}
