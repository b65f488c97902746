//! Executions and finished orders from the official activity examples and activities shaped like them.

use super::fixtures::*;
use super::history::*;
use super::history_orders::*;
use super::model::Activity;
use crate::tv::{self, MessageType, OrderStatus, Side};
use rust_decimal_macros::dec;
use serde_json::{json, Value};

const DEAL: &str = "00018509-0001-54c4-0000-0000803c0ec6";
/// The close-out's own id: the deal, `.close`, and its time in unix milliseconds.
const CLOSE: &str = "00018509-0001-54c4-0000-0000803c0ec6.close.1641222108420";

fn symbol_of(epic: &str) -> Option<String> {
    match epic {
        "OIL_CRUDE" => Some("USOIL".into()),
        "GOLD" => Some("XAUUSD".into()),
        _ => None,
    }
}

/// An activity shaped like the official detailed ones.
#[allow(clippy::too_many_arguments)]
fn activity(
    time: &str,
    deal: &str,
    source: &str,
    kind: &str,
    status: &str,
    direction: &str,
    size: f64,
    level: f64,
) -> Value {
    json!({
        "date": time, "dateUTC": time, "epic": "OIL_CRUDE", "dealId": deal, "source": source, "type": kind,
        "status": status,
        "details": {"dealReference": format!("p_{deal}"), "marketName": "Crude Oil", "currency": "USD",
                    "size": size, "direction": direction, "level": level, "guaranteedStop": false}
    })
}

fn list(items: Vec<Value>) -> Vec<Activity> {
    activities(json!({ "activities": items }))
}

#[test]
fn official_detailed_activities() {
    let acts = activities(activity_detailed());
    let ex = executions(&acts, &symbol_of);
    assert_eq!(ex.len(), 2, "the system's rejected stop edit is no fill");
    let close = &ex[0];
    assert_eq!(close.id, CLOSE);
    assert_eq!(
        (close.instrument.as_str(), close.price, close.qty, close.side),
        ("USOIL", dec!(75.2), dec!(1), Side::Sell)
    );
    assert_eq!((close.time, close.is_close), (1_641_222_108, true));
    assert_eq!(
        (close.order_id.as_str(), close.position_id.as_deref()),
        (CLOSE, Some(DEAL))
    );
    let open = &ex[1];
    assert_eq!((open.id.as_str(), open.order_id.as_str()), (DEAL, DEAL));
    assert_eq!(
        (open.price, open.side, open.time, open.is_close),
        (dec!(75.31), Side::Buy, 1_641_222_094, false)
    );
    assert_eq!(open.commission, None);

    let orders = orders_history(&acts, &symbol_of);
    assert_eq!(orders.len(), 2);
    for (o, e) in orders.iter().zip(&ex) {
        assert_eq!(
            (o.id.as_str(), o.status, o.kind),
            (e.order_id.as_str(), OrderStatus::Filled, tv::OrderType::Market)
        );
        assert_eq!(
            (o.filled_qty, o.avg_price, o.last_modified),
            (Some(e.qty), Some(e.price), Some(e.time))
        );
        assert_eq!((o.side, o.instrument.as_str()), (e.side, "USOIL"));
    }
}

#[test]
fn activities_without_details_or_symbol_are_skipped() {
    let acts = activities(activity_by_date());
    assert!(executions(&acts, &symbol_of).is_empty());
    assert!(orders_history(&acts, &symbol_of).is_empty());
    let detailed = activities(activity_detailed());
    assert!(executions(&detailed, &|_| None).is_empty());
    assert!(orders_history(&detailed, &|_| None).is_empty());
    let odd = list(vec![
        activity(
            "not a date",
            "d1",
            "USER",
            "POSITION",
            "ACCEPTED",
            "BUY",
            1.0,
            75.0,
        ),
        activity(
            "2022-01-03T15:00:00",
            "d2",
            "USER",
            "POSITION",
            "ACCEPTED",
            "BUY",
            0.0,
            75.0,
        ),
        activity(
            "2022-01-03T15:00:00",
            "d3",
            "USER",
            "POSITION",
            "ACCEPTED",
            "UP",
            1.0,
            75.0,
        ),
        activity(
            "2022-01-03T15:00:00",
            "d4",
            "ROBOT",
            "DIVIDEND",
            "PAID",
            "BUY",
            1.0,
            75.0,
        ),
        activity(
            "2022-01-03T15:00:00",
            "d5",
            "USER",
            "POSITION",
            "CREATED",
            "BUY",
            1.0,
            75.0,
        ),
        activity(
            "2022-01-03T15:00:00",
            "d6",
            "USER",
            "SWAP",
            "ACCEPTED",
            "BUY",
            1.0,
            75.0,
        ),
        activity(
            "2022-01-03T15:00:00",
            "d7",
            "USER",
            "WORKING_ORDER",
            "ACCEPTED",
            "BUY",
            1.0,
            75.0,
        ),
        activity(
            "2022-01-03T15:00:00",
            "d8",
            "USER",
            "WORKING_ORDER",
            "MODIFY_REJECT",
            "BUY",
            1.0,
            75.0,
        ),
    ]);
    assert!(executions(&odd, &symbol_of).is_empty());
    assert!(orders_history(&odd, &symbol_of).is_empty());
}

#[test]
fn closes_by_stop_profit_and_the_user() {
    // Newest first, as the upstream sends them.
    let acts = list(vec![
        activity(
            "2022-01-03T16:00:00",
            "tp1",
            "TP",
            "POSITION",
            "ACCEPTED",
            "BUY",
            2.0,
            70.0,
        ),
        activity(
            "2022-01-03T15:50:00",
            "sl1",
            "SL",
            "POSITION",
            "ACCEPTED",
            "SELL",
            1.0,
            74.0,
        ),
        activity(
            "2022-01-03T15:40:00",
            "u1",
            "USER",
            "POSITION",
            "ACCEPTED",
            "BUY",
            1.0,
            76.0,
        ),
        activity(
            "2022-01-03T15:30:00",
            "old",
            "USER",
            "POSITION",
            "ACCEPTED",
            "SELL",
            3.0,
            75.0,
        ),
        activity(
            "2022-01-03T15:20:00",
            "u1",
            "USER",
            "POSITION",
            "ACCEPTED",
            "SELL",
            1.0,
            75.5,
        ),
        activity(
            "2022-01-03T15:10:00",
            "tp1",
            "USER",
            "POSITION",
            "EXECUTED",
            "SELL",
            2.0,
            75.0,
        ),
    ]);
    let ex = executions(&acts, &symbol_of);
    let summary: Vec<(&str, bool, Side)> = ex.iter().map(|e| (e.id.as_str(), e.is_close, e.side)).collect();
    assert_eq!(
        summary,
        [
            // A triggered take profit or stop is the bracket order `/orders` listed.
            ("tp1.tp", true, Side::Buy),
            ("sl1.sl", true, Side::Sell),
            ("u1.close.1641224400000", true, Side::Buy),
            // Its opening is older than the window: it reads as an opening.
            ("old", false, Side::Sell),
            ("u1", false, Side::Sell),
            ("tp1", false, Side::Sell),
        ]
    );
    let orders = orders_history(&acts, &symbol_of);
    assert_eq!(
        (orders[0].kind, orders[0].limit_price),
        (tv::OrderType::Limit, Some(dec!(70)))
    );
    assert_eq!(
        (orders[1].kind, orders[1].stop_price),
        (tv::OrderType::Stop, Some(dec!(74)))
    );
    assert!(orders[2..]
        .iter()
        .all(|o| o.kind == tv::OrderType::Market && o.status == OrderStatus::Filled));
}

#[test]
fn repeated_ids_are_made_unique_oldest_first() {
    let acts = list(vec![
        activity(
            "2022-01-03T15:20:00",
            "d",
            "USER",
            "POSITION",
            "ACCEPTED",
            "BUY",
            1.0,
            76.0,
        ),
        activity(
            "2022-01-03T15:10:00",
            "d",
            "USER",
            "POSITION",
            "ACCEPTED",
            "BUY",
            2.0,
            75.0,
        ),
    ]);
    let ids: Vec<String> = executions(&acts, &symbol_of).into_iter().map(|e| e.id).collect();
    assert_eq!(ids, ["d-2", "d"]);
}

#[test]
fn cancelled_expired_and_rejected_orders() {
    let mut edit = activity(
        "2022-01-03T15:50:00",
        "e1",
        "USER",
        "EDIT_STOP_AND_LIMIT",
        "REJECTED",
        "BUY",
        1.0,
        75.0,
    );
    edit["details"]["stopLevel"] = json!(70.5);
    let mut profit_edit = edit.clone();
    profit_edit["details"]
        .as_object_mut()
        .unwrap()
        .remove("stopLevel");
    profit_edit["details"]["profitLevel"] = json!(80);
    profit_edit["dealId"] = json!("e2");
    profit_edit["details"]["dealReference"] = json!("p_e2");
    let acts = list(vec![
        activity(
            "2022-01-03T16:00:00",
            "w1",
            "USER",
            "WORKING_ORDER",
            "CANCELLED",
            "BUY",
            1.0,
            60.0,
        ),
        activity(
            "2022-01-03T15:55:00",
            "w2",
            "SYSTEM",
            "WORKING_ORDER",
            "EXPIRED",
            "SELL",
            2.0,
            90.0,
        ),
        edit,
        profit_edit,
        activity(
            "2022-01-03T15:45:00",
            "e3",
            "SYSTEM",
            "EDIT_STOP_AND_LIMIT",
            "REJECTED",
            "BUY",
            0.0,
            75.0,
        ),
        activity(
            "2022-01-03T15:40:00",
            "r1",
            "USER",
            "POSITION",
            "REJECTED",
            "SELL",
            5.0,
            75.0,
        ),
        activity(
            "2022-01-03T15:35:00",
            "w3",
            "USER",
            "WORKING_ORDER",
            "REJECTED",
            "BUY",
            1.0,
            50.0,
        ),
    ]);
    assert!(executions(&acts, &symbol_of).is_empty());
    let o = orders_history(&acts, &symbol_of);
    let ids: Vec<&str> = o.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "w1",
            "w2",
            "p_e1.rejected",
            "p_e2.rejected",
            // A rejected placement keeps the id `placeOrder` answered: its deal reference.
            "p_r1",
            "p_w3"
        ]
    );
    assert_eq!(
        (o[0].status, o[0].kind, o[0].limit_price, o[0].message.as_ref()),
        (OrderStatus::Cancelled, tv::OrderType::Limit, Some(dec!(60)), None)
    );
    assert_eq!(
        (o[1].status, o[1].side, o[1].qty),
        (OrderStatus::Cancelled, Side::Sell, dec!(2))
    );
    assert_eq!(
        o[1].message.as_ref().map(|m| (m.kind, m.text.as_str())),
        Some((MessageType::Information, "The order expired."))
    );
    assert_eq!(
        (o[2].status, o[2].kind, o[2].stop_price),
        (OrderStatus::Rejected, tv::OrderType::Stop, Some(dec!(70.5)))
    );
    assert!(o[2]
        .message
        .as_ref()
        .unwrap()
        .text
        .contains("stop loss or take profit"));
    assert_eq!(
        (o[3].kind, o[3].limit_price),
        (tv::OrderType::Limit, Some(dec!(80)))
    );
    assert_eq!(
        (o[4].kind, o[4].qty, o[4].last_modified),
        (tv::OrderType::Market, dec!(5), Some(1_641_224_400))
    );
    let m = o[4].message.as_ref().unwrap();
    assert_eq!(
        (m.kind, m.text.as_str()),
        (MessageType::Error, "Capital.com rejected this order.")
    );
    assert_eq!(
        (o[5].kind, o[5].limit_price),
        (tv::OrderType::Limit, Some(dec!(50)))
    );
}

#[test]
fn finished_ids_never_clash_with_fills() {
    // A cancelled working order whose dealId equals a fill's order id.
    let mut cancelled = activity(
        "2022-01-03T16:00:00",
        "x",
        "USER",
        "WORKING_ORDER",
        "CANCELLED",
        "BUY",
        1.0,
        60.0,
    );
    cancelled["dealId"] = json!("f");
    let acts = list(vec![
        cancelled,
        activity(
            "2022-01-03T15:00:00",
            "f",
            "USER",
            "POSITION",
            "ACCEPTED",
            "BUY",
            1.0,
            75.0,
        ),
    ]);
    let o = orders_history(&acts, &symbol_of);
    assert_eq!((o[0].id.as_str(), o[1].id.as_str()), ("f-2", "f"));
    assert_eq!(executions(&acts, &symbol_of)[0].order_id, "f");
}

#[test]
fn the_fills_of_one_request_are_one_order() {
    // A netting reversal: one request closed deal x (bought earlier) and opened deal y, at one instant.
    let acts = list(vec![
        activity(
            "2022-01-03T16:00:00.250",
            "y",
            "USER",
            "POSITION",
            "ACCEPTED",
            "SELL",
            1.0,
            74.0,
        ),
        activity(
            "2022-01-03T16:00:00.250",
            "x",
            "USER",
            "POSITION",
            "ACCEPTED",
            "SELL",
            2.0,
            74.5,
        ),
        activity(
            "2022-01-03T15:00:00",
            "x",
            "USER",
            "POSITION",
            "ACCEPTED",
            "BUY",
            2.0,
            75.0,
        ),
    ]);
    let ex = executions(&acts, &symbol_of);
    let summary: Vec<(&str, &str, bool)> = ex
        .iter()
        .map(|e| (e.id.as_str(), e.order_id.as_str(), e.is_close))
        .collect();
    assert_eq!(
        summary,
        [
            ("y", "y", false),
            ("x.close.1641225600250", "y", true),
            ("x", "x", false),
        ],
        "the reversing request is the order of the deal it opened"
    );
    let o = orders_history(&acts, &symbol_of);
    assert_eq!(o.len(), 2);
    assert_eq!(
        (o[0].id.as_str(), o[0].qty, o[0].avg_price, o[0].side),
        ("y", dec!(3), Some(dec!(74.3333333333)), Side::Sell)
    );
    assert_eq!((o[1].id.as_str(), o[1].qty), ("x", dec!(2)));
}

#[test]
fn an_order_that_only_reduced_deals_is_its_first_close() {
    // One request reduced two deals (netting, oldest first) and opened none.
    let acts = list(vec![
        activity(
            "2022-01-03T16:00:00",
            "b",
            "USER",
            "POSITION",
            "ACCEPTED",
            "SELL",
            1.0,
            74.0,
        ),
        activity(
            "2022-01-03T16:00:00",
            "a",
            "USER",
            "POSITION",
            "ACCEPTED",
            "SELL",
            2.0,
            74.0,
        ),
        activity(
            "2022-01-03T15:01:00",
            "b",
            "USER",
            "POSITION",
            "ACCEPTED",
            "BUY",
            2.0,
            75.0,
        ),
        activity(
            "2022-01-03T15:00:00",
            "a",
            "USER",
            "POSITION",
            "ACCEPTED",
            "BUY",
            2.0,
            75.0,
        ),
    ]);
    let ex = executions(&acts, &symbol_of);
    let order = "a.close.1641225600000";
    assert_eq!((ex[0].order_id.as_str(), ex[1].order_id.as_str()), (order, order));
    // What `placeOrder` answered is found again from either deal.
    for deal in ["a", "b"] {
        assert_eq!(reducing_order_id(&acts, &symbol_of, deal).as_deref(), Some(order));
    }
    // A window without the deals' openings reads the reductions as openings: the lookup must read the
    // window `/executions` reads.
    assert_eq!(reducing_order_id(&acts[..2], &symbol_of, "a"), None);
    assert_eq!(reducing_order_id(&acts, &symbol_of, "nope"), None);
    let o = orders_history(&acts, &symbol_of);
    assert_eq!((o[0].id.as_str(), o[0].qty), (order, dec!(3)));
}

#[test]
fn a_working_orders_fill_keeps_the_working_orders_id() {
    let mut executed = activity(
        "2022-01-03T16:00:00",
        "w1",
        "SYSTEM",
        "WORKING_ORDER",
        "EXECUTED",
        "BUY",
        1.0,
        75.0,
    );
    executed["details"]["dealReference"] = json!("o_w1");
    // The official examples show the system's `ACCEPTED` at the fill's instant: read the same way.
    let mut accepted = activity(
        "2022-01-03T17:00:00",
        "w2",
        "SYSTEM",
        "WORKING_ORDER",
        "ACCEPTED",
        "SELL",
        1.0,
        70.0,
    );
    accepted["details"]["dealReference"] = json!("o_w2");
    let acts = list(vec![
        // A deal of the user's at the instant a working order is accepted stays a market order.
        activity(
            "2022-01-03T18:00:00",
            "m",
            "USER",
            "POSITION",
            "ACCEPTED",
            "BUY",
            1.0,
            71.0,
        ),
        activity(
            "2022-01-03T18:00:00",
            "w3",
            "USER",
            "WORKING_ORDER",
            "ACCEPTED",
            "BUY",
            1.0,
            60.0,
        ),
        activity(
            "2022-01-03T17:00:00",
            "y2",
            "SYSTEM",
            "POSITION",
            "ACCEPTED",
            "SELL",
            1.0,
            70.5,
        ),
        accepted,
        activity(
            "2022-01-03T16:00:00",
            "y1",
            "SYSTEM",
            "POSITION",
            "ACCEPTED",
            "BUY",
            1.0,
            74.9,
        ),
        executed,
    ]);
    let ex = executions(&acts, &symbol_of);
    let summary: Vec<(&str, &str)> = ex.iter().map(|e| (e.id.as_str(), e.order_id.as_str())).collect();
    assert_eq!(summary, [("m", "m"), ("y2", "w2"), ("y1", "w1")]);
    assert_eq!(ex[2].position_id.as_deref(), Some("y1"));
    let o = orders_history(&acts, &symbol_of);
    let ids: Vec<&str> = o.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["m", "w2", "w1"]);
    // A buy filled below its level was a limit, a sell filled above its level too.
    assert_eq!(
        (o[2].kind, o[2].limit_price, o[2].avg_price),
        (tv::OrderType::Limit, Some(dec!(75)), Some(dec!(74.9)))
    );
    assert_eq!(
        (o[1].kind, o[1].limit_price),
        (tv::OrderType::Limit, Some(dec!(70)))
    );
    assert_eq!(o[0].kind, tv::OrderType::Market);
}
