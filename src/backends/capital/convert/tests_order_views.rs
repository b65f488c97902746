//! Working orders and deal stops as TradingView orders, against the official working-order and position
//! examples.

use super::fixtures::*;
use super::model::{PositionData, WorkingOrderData, WorkingOrdersResponse};
use super::order_views::*;
use super::orders::position_update;
use crate::tv::{self, Brackets, MessageType, OrderStatus, ParentType, Side};
use rust_decimal_macros::dec;
use serde_json::json;

/// 2022-06-09T01:01:00 UTC and 2022-04-06T09:48:28.114 UTC, from the first official working order.
const JUNE_9: i64 = 1_654_736_460;
const CREATED: i64 = 1_649_238_508;

fn order_with(edit: impl FnOnce(&mut serde_json::Value)) -> WorkingOrderData {
    let mut v = all_working_orders();
    edit(&mut v["workingOrders"][0]["workingOrderData"]);
    parse::<WorkingOrdersResponse>(v)
        .working_orders
        .remove(0)
        .working_order_data
}

fn deal_with(edit: impl FnOnce(&mut serde_json::Value)) -> PositionData {
    let mut v = single_position();
    edit(&mut v["position"]);
    parse::<super::model::PositionEntry>(v).position
}

#[test]
fn official_working_order_with_its_brackets() {
    let data = &working_orders()[0].working_order_data;
    let orders = working_order("SILVER", data, dec!(0.001));
    assert_eq!(orders.len(), 3);
    let id = "006011e7-0001-54c4-0000-000080560078";
    let p = &orders[0];
    assert_eq!(p.id, id);
    assert_eq!(
        (p.instrument.as_str(), p.qty, p.side),
        ("SILVER", dec!(1), Side::Buy)
    );
    assert_eq!((p.kind, p.status), (tv::OrderType::Limit, OrderStatus::Working));
    assert_eq!((p.limit_price, p.stop_price), (Some(dec!(20)), None));
    assert_eq!(
        p.duration,
        Some(tv::OrderDuration {
            kind: "GTT".into(),
            datetime: Some(JUNE_9)
        })
    );
    assert_eq!(p.last_modified, Some(CREATED));
    assert_eq!((p.parent_id.as_deref(), p.message.as_ref()), (None, None));
    // stopDistance -3 and profitDistance 3 around the level 20: the 17 / 23 of the order's creation.
    let sl = &orders[1];
    assert_eq!(sl.id, format!("{id}.sl"));
    assert_eq!(
        (sl.kind, sl.status, sl.side),
        (tv::OrderType::Stop, OrderStatus::Inactive, Side::Sell)
    );
    assert_eq!(
        (sl.stop_price, sl.is_guaranteed_stop, sl.is_trailing_stop),
        (Some(dec!(17)), Some(true), None)
    );
    assert_eq!(
        (sl.parent_id.as_deref(), sl.parent_type),
        (Some(id), Some(ParentType::Order))
    );
    assert_eq!(sl.qty, dec!(1));
    let tp = &orders[2];
    assert_eq!(tp.id, format!("{id}.tp"));
    assert_eq!(
        (tp.kind, tp.limit_price, tp.side),
        (tv::OrderType::Limit, Some(dec!(23)), Side::Sell)
    );
    assert_eq!(
        (tp.parent_type, tp.status),
        (Some(ParentType::Order), OrderStatus::Inactive)
    );
    assert_eq!(
        order_brackets(data, dec!(0.001)),
        Brackets {
            guaranteed_stop: Some(dec!(17)),
            take_profit: Some(dec!(23)),
            ..Default::default()
        }
    );
}

#[test]
fn plain_gtc_working_order() {
    let data = &working_orders()[1].working_order_data;
    let orders = working_order("NATGAS", data, dec!(0.001));
    assert_eq!(orders.len(), 1);
    assert_eq!(
        orders[0].duration.as_ref().map(|d| (d.kind.as_str(), d.datetime)),
        Some(("GTC", None))
    );
    assert_eq!(orders[0].instrument, "NATGAS");
    assert_eq!(order_brackets(data, dec!(0.001)), Brackets::default());
}

#[test]
fn sell_stop_order_with_a_trailing_stop() {
    let data = order_with(|o| {
        o["direction"] = json!("SELL");
        o["orderType"] = json!("STOP");
        o["timeInForce"] = json!("GOOD_TILL_CANCELLED");
        o["guaranteedStop"] = json!(false);
        o["trailingStop"] = json!(true);
        o["stopDistance"] = json!(0.5);
        o["profitDistance"] = json!(-2);
    });
    let orders = working_order("SILVER", &data, dec!(0.001));
    let (p, sl, tp) = (&orders[0], &orders[1], &orders[2]);
    assert_eq!(
        (p.kind, p.stop_price, p.limit_price),
        (tv::OrderType::Stop, Some(dec!(20)), None)
    );
    assert_eq!(p.duration.as_ref().map(|d| d.kind.as_str()), Some("GTC"));
    // A sell's stop sits above its level, its profit below, whatever the sign of the distance.
    assert_eq!((sl.side, sl.stop_price), (Side::Buy, Some(dec!(20.5))));
    assert_eq!(
        (sl.is_trailing_stop, sl.trailing_stop_pips, sl.is_guaranteed_stop),
        (Some(true), Some(dec!(500)), None)
    );
    assert_eq!(tp.limit_price, Some(dec!(18)));
    assert_eq!(
        order_brackets(&data, dec!(0.001)),
        Brackets {
            trailing_stop_pips: Some(dec!(500)),
            take_profit: Some(dec!(18)),
            ..Default::default()
        }
    );
}

#[test]
fn unknown_type_and_direction_are_shown_with_a_warning() {
    let data = order_with(|o| {
        o["orderType"] = json!("STOP_LIMIT");
        o["direction"] = json!("HOLD");
        o["timeInForce"] = json!("FILL_OR_KILL");
        o["stopLevel"] = json!(18.5);
    });
    let orders = working_order("SILVER", &data, dec!(0.001));
    let p = &orders[0];
    assert_eq!(
        (p.kind, p.limit_price, p.side),
        (tv::OrderType::Limit, Some(dec!(20)), Side::Buy)
    );
    let m = p.message.as_ref().unwrap();
    assert_eq!(m.kind, MessageType::Warning);
    assert!(
        m.text.contains("order type") && m.text.contains("direction"),
        "{}",
        m.text
    );
    // An unknown time in force with an expiry date is still a GTT order; a stop level wins over a distance.
    assert_eq!(p.duration.as_ref().and_then(|d| d.datetime), Some(JUNE_9));
    assert_eq!(orders[1].stop_price, Some(dec!(18.5)));
    // No creation date: no last-modified time rather than 1970.
    let undated = order_with(|o| drop(o.as_object_mut().unwrap().remove("createdDateUTC")));
    assert!(working_order("S", &undated, dec!(0.001))
        .iter()
        .all(|o| o.last_modified.is_none()));
}

#[test]
fn position_brackets_hang_on_the_position() {
    // The official single position, given a stop and a take profit.
    let deal = deal_with(|p| {
        p["stopLevel"] = json!(20.5);
        p["profitLevel"] = json!(22);
    });
    let orders = position_brackets("SILVER", "SILVER", &deal, dec!(0.001));
    assert_eq!(orders.len(), 2);
    let id = "006011e7-0001-54c4-0000-00008056005e";
    for o in &orders {
        assert_eq!(o.status, OrderStatus::Working);
        assert_eq!(
            (o.parent_id.as_deref(), o.parent_type),
            (Some("SILVER"), Some(ParentType::Position))
        );
        assert_eq!((o.side, o.qty), (Side::Sell, dec!(1)));
        assert_eq!(o.last_modified, Some(1_649_231_392));
    }
    assert_eq!(
        (orders[0].id.clone(), orders[0].stop_price),
        (format!("{id}.sl"), Some(dec!(20.5)))
    );
    assert_eq!(orders[0].is_guaranteed_stop, None);
    assert_eq!(
        (orders[1].id.clone(), orders[1].limit_price),
        (format!("{id}.tp"), Some(dec!(22)))
    );
    // Individual positions use the dealId as the parent.
    let individual = position_brackets("SILVER", id, &deal, dec!(0.001));
    assert_eq!(individual[0].parent_id.as_deref(), Some(id));
    let b = deal_brackets(&deal, dec!(0.001));
    assert_eq!((b.stop_loss, b.take_profit), (Some(dec!(20.5)), Some(dec!(22))));
    // The mapping goes both ways.
    let back = position_update(&b, &b, dec!(0.001)).unwrap();
    assert_eq!(
        (back.stops.stop_level, back.stops.profit_level),
        (Some(dec!(20.5)), Some(dec!(22)))
    );
    // The official deal has no brackets at all.
    assert!(position_brackets("SILVER", "SILVER", &official_deals()[0].position, dec!(0.001)).is_empty());
    assert_eq!(
        deal_brackets(&official_deals()[0].position, dec!(0.001)),
        Brackets::default()
    );
}

#[test]
fn trailing_and_guaranteed_deal_stops() {
    let short = deal_with(|p| {
        p["direction"] = json!("SELL");
        p["trailingStop"] = json!(true);
        p["stopDistance"] = json!(0.25);
        p["stopLevel"] = json!(21.2);
        p["profitDistance"] = json!(1);
    });
    let orders = position_brackets("SILVER", "SILVER", &short, dec!(0.001));
    assert_eq!(
        (orders[0].side, orders[0].stop_price),
        (Side::Buy, Some(dec!(21.2)))
    );
    assert_eq!(
        (orders[0].is_trailing_stop, orders[0].trailing_stop_pips),
        (Some(true), Some(dec!(250)))
    );
    assert_eq!(orders[1].limit_price, Some(dec!(20.059)));
    assert_eq!(
        deal_brackets(&short, dec!(0.001)).trailing_stop_pips,
        Some(dec!(250))
    );
    // A trailing stop known by its level only: the distance from the entry.
    let by_level = deal_with(|p| {
        p["trailingStop"] = json!(true);
        p["stopLevel"] = json!(21.009);
    });
    assert_eq!(
        deal_brackets(&by_level, dec!(0.001)).trailing_stop_pips,
        Some(dec!(50))
    );
    // A zero pip size cannot divide by zero.
    assert_eq!(
        deal_brackets(&by_level, dec!(0)).trailing_stop_pips,
        Some(dec!(0))
    );
    let guaranteed = deal_with(|p| {
        p["guaranteedStop"] = json!(true);
        p["stopDistance"] = json!(2);
    });
    let b = deal_brackets(&guaranteed, dec!(0.001));
    assert_eq!((b.guaranteed_stop, b.stop_loss), (Some(dec!(19.059)), None));
    assert_eq!(
        position_brackets("S", "S", &guaranteed, dec!(0.001))[0].is_guaranteed_stop,
        Some(true)
    );
}
