//! Finished orders and executions from v1 transactions shaped as the v1 reference documents them.

use super::super::model::Transaction;
use super::fixtures::TRANSACTION;
use super::*;
use crate::tv::{MessageType, OrderStatus, OrderType, ParentType, Side};
use rust_decimal_macros::dec;

fn tx(json: &str) -> Transaction {
    serde_json::from_str(json).unwrap()
}

fn symbol(i: &str) -> String {
    i.replace('_', "")
}

const T: &str = r#""accountId":6765103,"time":"2014-04-07T18:31:05Z""#;

#[test]
fn a_market_order_is_filled_at_once() {
    let t = tx(TRANSACTION);
    let o = final_order(&t, &Known::default(), &symbol).unwrap();
    assert_eq!((o.id.as_str(), o.instrument.as_str()), ("176403879", "EURUSD"));
    assert_eq!(
        (o.kind, o.status, o.side, o.qty),
        (OrderType::Market, OrderStatus::Filled, Side::Buy, dec!(2))
    );
    assert_eq!((o.filled_qty, o.avg_price), (Some(dec!(2)), Some(dec!(1.25325))));
    assert_eq!(o.last_modified, Some(1_396_895_465));
    let e = executions(&t, &Known::default(), &symbol);
    assert_eq!(e.len(), 1);
    assert_eq!(
        (e[0].id.as_str(), e[0].order_id.as_str(), e[0].is_close),
        ("176403879", "176403879", false)
    );
    assert_eq!(
        (e[0].price, e[0].qty, e[0].side, e[0].time),
        (dec!(1.25325), dec!(2), Side::Buy, 1_396_895_465)
    );
    assert_eq!(e[0].position_id.as_deref(), Some("176403879"));
}

#[test]
fn a_pending_order_fills_with_what_its_creation_said() {
    let created = tx(&format!(
        r#"{{"id":100,{T},"type":"LIMIT_ORDER_CREATE","instrument":"EUR_USD","units":10,"side":"sell","price":1.3,"expiry":"2014-05-01T00:00:00Z"}}"#
    ));
    let fill = tx(&format!(
        r#"{{"id":105,{T},"type":"ORDER_FILLED","instrument":"EUR_USD","units":10,"side":"sell","price":1.30004,"orderId":100,"tradeOpened":{{"id":105,"units":10}}}}"#
    ));
    let mut known = Known::default();
    known.learn(&[fill.clone(), created]);
    let o = final_order(&fill, &known, &symbol).unwrap();
    assert_eq!(
        (o.id.as_str(), o.kind, o.status, o.side),
        ("100", OrderType::Limit, OrderStatus::Filled, Side::Sell)
    );
    assert_eq!(
        (o.limit_price, o.avg_price, o.filled_qty),
        (Some(dec!(1.3)), Some(dec!(1.30004)), Some(dec!(10)))
    );
    assert_eq!(o.duration.as_ref().map(|d| d.kind.as_str()), Some("GTD"));
    assert_eq!(known.trades.get(&105), Some(&("EUR_USD".to_string(), Side::Sell)));
    let e = executions(&fill, &known, &symbol);
    assert_eq!(
        (e[0].order_id.as_str(), e[0].is_close, e[0].position_id.as_deref()),
        ("100", false, Some("105"))
    );
    let alone = final_order(&fill, &Known::default(), &symbol).unwrap();
    assert_eq!(
        (alone.kind, alone.limit_price),
        (OrderType::Limit, None),
        "creation unknown: limit, no price"
    );
}

#[test]
fn cancellations_and_rejections() {
    let mut known = Known::default();
    known.learn(&[tx(&format!(
        r#"{{"id":200,{T},"type":"STOP_ORDER_CREATE","instrument":"USD_JPY","units":5,"side":"buy","price":103.5}}"#
    ))]);
    let cancel = |reason: &str| {
        tx(&format!(
            r#"{{"id":201,{T},"type":"ORDER_CANCEL","orderId":200,"reason":"{reason}"}}"#
        ))
    };
    let o = final_order(&cancel("CLIENT_REQUEST"), &known, &symbol).unwrap();
    assert_eq!(
        (o.id.as_str(), o.status, o.kind),
        ("200", OrderStatus::Cancelled, OrderType::Stop)
    );
    assert_eq!(
        (o.instrument.as_str(), o.qty, o.stop_price, o.message.is_none()),
        ("USDJPY", dec!(5), Some(dec!(103.5)), true)
    );
    let o = final_order(&cancel("TIME_IN_FORCE_EXPIRED"), &known, &symbol).unwrap();
    assert_eq!(o.status, OrderStatus::Cancelled);
    assert_eq!(o.message.map(|m| m.text), Some("The order expired.".into()));
    let o = final_order(&cancel("INSUFFICIENT_MARGIN"), &known, &symbol).unwrap();
    assert_eq!(o.status, OrderStatus::Rejected);
    let m = o.message.unwrap();
    assert_eq!(
        (m.kind, m.text.as_str()),
        (
            MessageType::Error,
            "OANDA cancelled the order: there was not enough margin to fill it."
        )
    );
    let o = final_order(&cancel("SOMETHING_NEW"), &known, &symbol).unwrap();
    assert_eq!(o.status, OrderStatus::Cancelled);
    assert_eq!(
        o.message.map(|m| m.text),
        Some("OANDA cancelled the order (something new).".into())
    );
    assert!(
        final_order(&cancel("CLIENT_REQUEST"), &Known::default(), &symbol).is_none(),
        "nothing to show"
    );
    assert!(executions(&cancel("CLIENT_REQUEST"), &known, &symbol).is_empty());
}

#[test]
fn brackets_and_closes_of_trades() {
    let mut known = Known::default();
    known.learn_trade(300, "EUR_USD", Side::Buy);
    let sl = tx(&format!(
        r#"{{"id":310,{T},"type":"STOP_LOSS_FILLED","instrument":"EUR_USD","units":4,"side":"sell","price":1.25,"pl":-2,"tradeId":300}}"#
    ));
    let o = final_order(&sl, &known, &symbol).unwrap();
    assert_eq!(
        (o.id.as_str(), o.kind, o.status, o.side),
        ("300.sl", OrderType::Stop, OrderStatus::Filled, Side::Sell)
    );
    assert_eq!(
        (o.parent_id.as_deref(), o.parent_type),
        (Some("300"), Some(ParentType::Position))
    );
    assert_eq!((o.stop_price, o.avg_price), (Some(dec!(1.25)), Some(dec!(1.25))));
    let e = executions(&sl, &known, &symbol);
    assert_eq!(
        (e[0].id.as_str(), e[0].order_id.as_str(), e[0].is_close, e[0].side),
        ("310", "300.sl", true, Side::Sell)
    );
    let tp = tx(&format!(
        r#"{{"id":311,{T},"type":"TAKE_PROFIT_FILLED","instrument":"EUR_USD","units":4,"side":"sell","price":1.3,"tradeId":300}}"#
    ));
    let o = final_order(&tp, &known, &symbol).unwrap();
    assert_eq!(
        (o.id.as_str(), o.kind, o.limit_price),
        ("300.tp", OrderType::Limit, Some(dec!(1.3)))
    );
    let ts = tx(&format!(
        r#"{{"id":312,{T},"type":"TRAILING_STOP_FILLED","instrument":"EUR_USD","units":4,"side":"buy","price":1.26,"tradeId":300}}"#
    ));
    let o = final_order(&ts, &known, &symbol).unwrap();
    assert_eq!(
        (o.id.as_str(), o.is_trailing_stop, o.side),
        ("300.ts", Some(true), Side::Sell),
        "the known trade decides the side"
    );
    let close = tx(&format!(
        r#"{{"id":313,{T},"type":"TRADE_CLOSE","instrument":"EUR_USD","units":4,"side":"sell","price":1.27,"profit":1,"tradeId":301}}"#
    ));
    let o = final_order(&close, &Known::default(), &symbol).unwrap();
    assert_eq!(
        (o.id.as_str(), o.kind, o.side),
        ("313", OrderType::Market, Side::Sell)
    );
    let e = executions(&close, &Known::default(), &symbol);
    assert_eq!(
        (e[0].order_id.as_str(), e[0].is_close, e[0].position_id.as_deref()),
        ("313", true, Some("301"))
    );
}

#[test]
fn a_reversal_is_a_close_and_an_open() {
    let t = tx(&format!(
        r#"{{"id":400,{T},"type":"MARKET_ORDER_CREATE","instrument":"EUR_USD","units":10,"side":"sell","price":1.2,"tradeOpened":{{"id":400,"units":4}},"tradesClosed":[{{"id":390,"units":5,"side":"buy"}}],"tradeReduced":{{"id":391,"units":1,"pl":0.1,"interest":0}}}}"#
    ));
    let e = executions(&t, &Known::default(), &symbol);
    assert_eq!(e.len(), 2);
    assert_eq!(
        (
            e[0].id.as_str(),
            e[0].qty,
            e[0].is_close,
            e[0].position_id.as_deref()
        ),
        ("400.close", dec!(6), true, Some("391"))
    );
    assert_eq!(
        (
            e[1].id.as_str(),
            e[1].qty,
            e[1].is_close,
            e[1].position_id.as_deref()
        ),
        ("400", dec!(4), false, Some("400"))
    );
    assert!(e.iter().all(|x| x.order_id == "400" && x.side == Side::Sell));
    let closing_only = tx(&format!(
        r#"{{"id":401,{T},"type":"MARKET_ORDER_CREATE","instrument":"EUR_USD","units":2,"side":"buy","price":1.2,"tradeOpened":{{}},"tradesClosed":[],"tradeReduced":{{"id":400,"units":2}}}}"#
    ));
    let e = executions(&closing_only, &Known::default(), &symbol);
    assert_eq!((e.len(), e[0].id.as_str(), e[0].is_close), (1, "401", true));
}

#[test]
fn history_is_one_order_per_id_newest_first() {
    let txs = [
        tx(&format!(
            r#"{{"id":3,{T},"type":"DAILY_INTEREST","instrument":"EUR_USD","interest":0.1}}"#
        )),
        tx(&format!(
            r#"{{"id":2,{T},"type":"ORDER_CANCEL","orderId":1,"reason":"CLIENT_REQUEST"}}"#
        )),
        tx(&format!(
            r#"{{"id":1,{T},"type":"LIMIT_ORDER_CREATE","instrument":"EUR_USD","units":1,"side":"buy","price":1.1}}"#
        )),
        tx(TRANSACTION),
    ];
    let mut known = Known::default();
    known.learn(&txs);
    let h = orders_history(&txs, &known, &symbol);
    let ids: Vec<&str> = h.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["1", "176403879"]);
    assert_eq!(h[0].status, OrderStatus::Cancelled);
}
