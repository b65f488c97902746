//! The plan from the legs IBKR holds to the ones TradingView asked for, and finding the legs of a position
//! and of an order among the live orders.

use super::*;
use crate::backends::ibkr::model::orders::LiveOrders;
use rust_decimal_macros::dec;

fn held(tp: Option<(&str, Decimal)>, sl: Option<(&str, Decimal)>, qty: Decimal) -> Legs<Held> {
    let h = |(id, price): (&str, Decimal)| Held {
        order_id: id.into(),
        price,
        qty,
    };
    Legs {
        take_profit: tp.map(h),
        stop_loss: sl.map(h),
    }
}

fn wanted(tp: Option<Decimal>, sl: Option<Decimal>) -> tv::Brackets {
    tv::Brackets {
        take_profit: tp,
        stop_loss: sl,
        ..tv::Brackets::default()
    }
}

#[test]
fn a_new_pair_is_placed_in_one_submission() {
    let steps = plan(&Legs::default(), &wanted(Some(dec!(200)), Some(dec!(170))), dec!(2), Tie::Group);
    assert_eq!(
        steps,
        [Step::Place(vec![(Leg::TakeProfit, dec!(200)), (Leg::StopLoss, dec!(170))])]
    );
    assert!(plan(&Legs::default(), &wanted(None, None), dec!(2), Tie::Group).is_empty());
}

#[test]
fn what_already_rests_is_left_alone_so_a_resend_changes_nothing() {
    let now = held(Some(("1", dec!(200))), Some(("2", dec!(170))), dec!(2));
    assert!(plan(&now, &wanted(Some(dec!(200)), Some(dec!(170.0))), dec!(2), Tie::Group).is_empty());
}

#[test]
fn a_changed_level_or_size_modifies_that_leg_and_a_removed_one_is_cancelled() {
    let now = held(Some(("1", dec!(200))), Some(("2", dec!(170))), dec!(2));
    assert_eq!(
        plan(&now, &wanted(Some(dec!(200)), Some(dec!(172))), dec!(2), Tie::Group),
        [Step::Modify {
            leg: Leg::StopLoss,
            order_id: "2".into(),
            price: dec!(172),
            qty: dec!(2)
        }]
    );
    assert_eq!(
        plan(&now, &wanted(Some(dec!(200)), Some(dec!(170))), dec!(1), Tie::Group).len(),
        2,
        "both follow a new size"
    );
    assert_eq!(
        plan(&now, &wanted(None, Some(dec!(170))), dec!(2), Tie::Group),
        [Step::Cancel {
            leg: Leg::TakeProfit,
            order_id: "1".into()
        }]
    );
}

#[test]
fn a_leg_added_beside_a_resting_one_goes_again_with_it_as_a_new_group_on_a_position() {
    let now = held(None, Some(("2", dec!(170))), dec!(2));
    assert_eq!(
        plan(&now, &wanted(Some(dec!(200)), Some(dec!(171))), dec!(2), Tie::Group),
        [
            Step::Cancel {
                leg: Leg::StopLoss,
                order_id: "2".into()
            },
            Step::Place(vec![(Leg::TakeProfit, dec!(200)), (Leg::StopLoss, dec!(171))])
        ]
    );
    // An order's children are tied by their parent: the new one is simply added.
    assert_eq!(
        plan(&now, &wanted(Some(dec!(200)), Some(dec!(170))), dec!(2), Tie::Parent),
        [Step::Place(vec![(Leg::TakeProfit, dec!(200))])]
    );
    // The resting one removed at the same time: nothing to group with.
    assert_eq!(
        plan(&now, &wanted(Some(dec!(200)), None), dec!(2), Tie::Group),
        [
            Step::Cancel {
                leg: Leg::StopLoss,
                order_id: "2".into()
            },
            Step::Place(vec![(Leg::TakeProfit, dec!(200))])
        ]
    );
}

fn live(rows: &str) -> Vec<LiveOrder> {
    serde_json::from_str::<LiveOrders>(&format!(r#"{{"orders":[{rows}],"snapshot":true}}"#))
        .unwrap()
        .orders
}

#[test]
fn a_positions_legs_are_found_by_coid_and_as_children_of_filled_orders() {
    let seed = LegSeed {
        price: dec!(200),
        qty: dec!(2),
        avg_price: dec!(180),
    };
    let tp = position_leg_coid("DU1", 265598, Leg::TakeProfit, seed, 0);
    let old_tp = position_leg_coid("DU1", 265598, Leg::TakeProfit, seed, 3);
    let other = position_leg_coid("DU2", 265598, Leg::TakeProfit, seed, 0);
    let rows = format!(
        r#"{{"acct":"DU1","conid":265598,"orderId":10,"status":"Submitted","orderType":"Limit","side":"SELL","totalSize":"2","price":"200","order_ref":"{tp}"}},
        {{"acct":"DU1","conid":265598,"orderId":9,"status":"Cancelled","orderType":"Limit","side":"SELL","totalSize":"2","price":"201","order_ref":"{old_tp}"}},
        {{"acct":"DU2","conid":265598,"orderId":8,"status":"Submitted","orderType":"Limit","side":"SELL","totalSize":"2","price":"200","order_ref":"{other}"}},
        {{"acct":"DU1","conid":265598,"orderId":1,"status":"Filled","orderType":"Market","side":"BUY","totalSize":"2"}},
        {{"acct":"DU1","conid":265598,"orderId":2,"status":"PreSubmitted","orderType":"Stop","side":"SELL","totalSize":"2","price":"170","parentId":1}},
        {{"acct":"DU1","conid":265598,"orderId":3,"status":"Submitted","orderType":"Limit","side":"BUY","totalSize":"2","price":"150"}},
        {{"acct":"DU1","conid":265598,"orderId":4,"status":"PreSubmitted","orderType":"Stop","side":"SELL","totalSize":"2","price":"140","parentId":3}}"#
    );
    let found = of_position(&live(&rows), "DU1", 265598, tv::Side::Buy).unwrap();
    assert_eq!(
        found.held(),
        held(Some(("10", dec!(200))), Some(("2", dec!(170))), dec!(2))
    );
    assert_eq!(found.next(Leg::TakeProfit), 4, "past every generation seen, cancelled ones too");
    assert_eq!(found.next(Leg::StopLoss), 0);
    // A short position's legs buy: these sell, so they are not its legs.
    let short = of_position(&live(&rows), "DU1", 265598, tv::Side::Sell).unwrap();
    assert_eq!(short.held(), Legs::default());
}

#[test]
fn two_orders_for_one_leg_are_refused_rather_than_guessed_at() {
    let rows = r#"{"acct":"DU1","conid":265598,"orderId":1,"status":"Filled","orderType":"Market","side":"BUY","totalSize":"2"},
        {"acct":"DU1","conid":265598,"orderId":2,"status":"PreSubmitted","orderType":"Stop","side":"SELL","totalSize":"2","price":"170","parentId":1},
        {"acct":"DU1","conid":265598,"orderId":3,"status":"PreSubmitted","orderType":"Stop","side":"SELL","totalSize":"2","price":"160","parentId":1}"#;
    let err = of_position(&live(rows), "DU1", 265598, tv::Side::Buy).unwrap_err();
    assert!(err.to_string().contains("two stop losses"), "{err}");
}

#[test]
fn an_orders_children_are_found_by_parent_id_and_coid() {
    let rows = r#"{"acct":"DU1","conid":265598,"orderId":3,"status":"Submitted","orderType":"Limit","side":"BUY","totalSize":"2","price":"150","order_ref":"tvb-r1"},
        {"acct":"DU1","conid":265598,"orderId":4,"status":"PreSubmitted","orderType":"Stop","side":"SELL","totalSize":"2","price":"140","parentId":3,"order_ref":"tvb-r1-sl"},
        {"acct":"DU1","conid":265598,"orderId":5,"status":"Cancelled","orderType":"Limit","side":"SELL","totalSize":"2","price":"160","parentId":3,"order_ref":"tvb-r1-tp"},
        {"acct":"DU1","conid":265598,"orderId":6,"status":"PreSubmitted","orderType":"Limit","side":"SELL","totalSize":"2","price":"161","order_ref":"tvb-r1-tp2"}"#;
    let all = live(rows);
    let found = of_order(&all, &all[0]).unwrap();
    assert_eq!(
        found.held(),
        held(Some(("6", dec!(161))), Some(("4", dec!(140))), dec!(2))
    );
    assert_eq!((found.next(Leg::TakeProfit), found.next(Leg::StopLoss)), (2, 1));
}
