//! The plan from the legs IBKR holds to the ones TradingView asked for, finding the legs of a position
//! and of an order among the live orders, and carrying the steps out against the scripted API.

use super::apply::in_step;
use super::*;
use crate::backends::ibkr::convert::orders::{position_leg_coid, LegSeed};
use crate::backends::ibkr::model::orders::{LiveOrder, LiveOrders};
use crate::backends::ibkr::trading::Desk;
use crate::broker::{BrokerError, BrokerResult};
use crate::tv;
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
    let steps = plan(
        &Legs::default(),
        &wanted(Some(dec!(200)), Some(dec!(170))),
        dec!(2),
        Tie::Group,
    );
    assert_eq!(
        steps,
        [Step::Place(vec![
            (Leg::TakeProfit, dec!(200)),
            (Leg::StopLoss, dec!(170))
        ])]
    );
    assert!(plan(&Legs::default(), &wanted(None, None), dec!(2), Tie::Group).is_empty());
}

#[test]
fn what_already_rests_is_left_alone_so_a_resend_changes_nothing() {
    let now = held(Some(("1", dec!(200))), Some(("2", dec!(170))), dec!(2));
    assert!(plan(
        &now,
        &wanted(Some(dec!(200)), Some(dec!(170.0))),
        dec!(2),
        Tie::Group
    )
    .is_empty());
}

#[test]
fn a_changed_level_or_size_modifies_that_leg_and_a_removed_one_is_cancelled() {
    let now = held(Some(("1", dec!(200))), Some(("2", dec!(170))), dec!(2));
    assert_eq!(
        plan(
            &now,
            &wanted(Some(dec!(200)), Some(dec!(172))),
            dec!(2),
            Tie::Group
        ),
        [Step::Modify {
            leg: Leg::StopLoss,
            order_id: "2".into(),
            price: dec!(172),
            qty: dec!(2)
        }]
    );
    assert_eq!(
        plan(
            &now,
            &wanted(Some(dec!(200)), Some(dec!(170))),
            dec!(1),
            Tie::Group
        )
        .len(),
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
        plan(
            &now,
            &wanted(Some(dec!(200)), Some(dec!(171))),
            dec!(2),
            Tie::Group
        ),
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
        plan(
            &now,
            &wanted(Some(dec!(200)), Some(dec!(170))),
            dec!(2),
            Tie::Parent
        ),
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
    assert_eq!(
        found.next(Leg::TakeProfit),
        4,
        "past every generation seen, cancelled ones too"
    );
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

mod at_ibkr {
    //! The steps carried out against the scripted API: what the submissions hold.

    use super::*;
    use crate::backends::ibkr::session::Gateway;
    use crate::backends::ibkr::testing::{symbols, ScriptedApi};
    use crate::sync::MutexExt;
    use crate::upstream::call::CallError;
    use std::collections::HashSet;
    use std::sync::Arc;

    const EMPTY: &str = r#"{"orders":[],"snapshot":true}"#;

    fn long_two() -> tv::Position {
        tv::Position {
            id: "AAPL".into(),
            instrument: "AAPL".into(),
            qty: dec!(2),
            side: tv::Side::Buy,
            avg_price: dec!(180),
            unrealized_pl: dec!(0),
        }
    }

    async fn set(api: &Arc<ScriptedApi>, brackets: tv::Brackets) -> BrokerResult<()> {
        let g = Gateway::new(api.clone());
        let (table, allow) = (symbols(&[("AAPL", 265598)]), HashSet::new());
        let desk = Desk {
            gateway: &g,
            table: &table,
            allow: &allow,
            outside_rth: false,
        };
        desk.set_position_brackets("DU1234567", 265598, &long_two(), &brackets)
            .await
    }

    #[tokio::test]
    async fn a_positions_pair_is_one_group_of_two_opposite_legs_with_no_parent() {
        let api = Arc::new(ScriptedApi::default());
        api.open_session()
            .ok("live_orders", EMPTY)
            .ok("place", r#"[{"order_id":"11"},{"order_id":"12"}]"#);
        set(&api, wanted(Some(dec!(200)), Some(dec!(170)))).await.unwrap();
        let bodies = api.bodies.locked().clone();
        let tickets = bodies[0]["orders"].as_array().unwrap().clone();
        assert_eq!(tickets.len(), 2, "one submission: {bodies:?}");
        for t in &tickets {
            assert_eq!(t["isSingleGroup"], true, "{t}");
            assert!(t.get("parentId").is_none(), "{t}");
            assert_eq!(
                (t["side"].as_str(), t["quantity"].as_f64(), t["tif"].as_str()),
                (Some("SELL"), Some(2.0), Some("GTC"))
            );
            assert!(t["cOID"].as_str().unwrap().starts_with("tvbp-"), "{t}");
        }
        assert_eq!(
            (tickets[0]["orderType"].as_str(), tickets[0]["price"].as_f64()),
            (Some("LMT"), Some(200.0))
        );
        assert_eq!(
            (tickets[1]["orderType"].as_str(), tickets[1]["price"].as_f64()),
            (Some("STP"), Some(170.0))
        );
    }

    #[tokio::test]
    async fn a_lone_leg_is_sent_without_a_group() {
        let api = Arc::new(ScriptedApi::default());
        api.open_session()
            .ok("live_orders", EMPTY)
            .ok("place", r#"[{"order_id":"12"}]"#);
        set(&api, wanted(None, Some(dec!(170)))).await.unwrap();
        let t = api.bodies.locked()[0]["orders"][0].clone();
        assert!(t.get("isSingleGroup").is_none(), "{t}");
    }

    #[tokio::test]
    async fn a_pair_whose_answer_was_lost_is_looked_up_by_coid_never_sent_again() {
        let api = Arc::new(ScriptedApi::default());
        api.open_session()
            .ok("live_orders", EMPTY)
            .fail("place", CallError::NoAnswer("timed out".into()));
        // The look-up: found among the live orders by the first leg's cOID.
        let seed = LegSeed {
            price: dec!(200),
            qty: dec!(2),
            avg_price: dec!(180),
        };
        let coid = position_leg_coid("DU1234567", 265598, Leg::TakeProfit, seed, 0);
        api.ok(
            "live_orders",
            &format!(
                r#"{{"orders":[{{"acct":"DU1234567","conid":265598,"orderId":11,"status":"Submitted","orderType":"Limit","side":"SELL","totalSize":"2","price":"200","order_ref":"{coid}"}}],"snapshot":true}}"#
            ),
        );
        set(&api, wanted(Some(dec!(200)), Some(dec!(170)))).await.unwrap();
        assert_eq!(api.count("place"), 1, "{:?}", api.calls());
    }

    #[tokio::test]
    async fn a_failed_step_says_which_and_stops_the_rest() {
        let api = Arc::new(ScriptedApi::default());
        api.open_session()
            .ok("live_orders", EMPTY)
            .ok("place", r#"{"error":"Not enough margin"}"#);
        let err = set(&api, wanted(Some(dec!(200)), Some(dec!(170))))
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Placing the take profit and stop loss failed: Not enough margin"),
            "{err}"
        );
    }
}

#[test]
fn a_failure_after_earlier_steps_says_what_was_already_done() {
    let cancel = Step::Cancel {
        leg: Leg::StopLoss,
        order_id: "2".into(),
    };
    let place = Step::Place(vec![(Leg::TakeProfit, dec!(200)), (Leg::StopLoss, dec!(171))]);
    let e = in_step(
        BrokerError::Unavailable("timeout".into()),
        &place,
        std::slice::from_ref(&cancel),
    );
    assert_eq!(
        e.to_string(),
        "Placing the take profit and stop loss failed: broker unavailable: timeout (already done: cancelled the stop loss; check the brackets before trying again)"
    );
    assert!(matches!(
        in_step(BrokerError::Unavailable("x".into()), &place, &[]),
        BrokerError::Unavailable(_)
    ));
}

mod resent {
    //! A resend racing IBKR's order list.

    use super::*;
    use crate::backends::ibkr::session::Gateway;
    use crate::backends::ibkr::testing::{symbols, ScriptedApi};
    use std::collections::HashSet;
    use std::sync::Arc;

    #[tokio::test]
    async fn legs_refused_as_used_but_resting_under_their_coids_are_the_earlier_placement() {
        let api = Arc::new(ScriptedApi::default());
        let seed = |price| LegSeed {
            price,
            qty: dec!(2),
            avg_price: dec!(180),
        };
        let tp = position_leg_coid("DU1234567", 265598, Leg::TakeProfit, seed(dec!(200)), 0);
        let sl = position_leg_coid("DU1234567", 265598, Leg::StopLoss, seed(dec!(170)), 0);
        let row = |id: u32, kind: &str, price: u32, coid: &str| {
            format!(
                r#"{{"acct":"DU1234567","conid":265598,"orderId":{id},"status":"Submitted","orderType":"{kind}","side":"SELL","totalSize":"2","price":"{price}","order_ref":"{coid}"}}"#
            )
        };
        api.open_session()
            .ok("live_orders", r#"{"orders":[],"snapshot":true}"#)
            .ok(
                "place",
                &format!(r#"{{"error":"Local order ID={tp} is already registered."}}"#),
            )
            .ok(
                "live_orders",
                &format!(
                    r#"{{"orders":[{},{}],"snapshot":true}}"#,
                    row(11, "Limit", 200, &tp),
                    row(12, "Stop", 170, &sl)
                ),
            );
        let g = Gateway::new(api.clone());
        let (table, allow) = (symbols(&[("AAPL", 265598)]), HashSet::new());
        let desk = Desk {
            gateway: &g,
            table: &table,
            allow: &allow,
            outside_rth: false,
        };
        let position = tv::Position {
            id: "AAPL".into(),
            instrument: "AAPL".into(),
            qty: dec!(2),
            side: tv::Side::Buy,
            avg_price: dec!(180),
            unrealized_pl: dec!(0),
        };
        desk.set_position_brackets(
            "DU1234567",
            265598,
            &position,
            &wanted(Some(dec!(200)), Some(dec!(170))),
        )
        .await
        .unwrap();
        assert_eq!(api.count("place"), 1);
        // Not resting under them: the refusal stands.
        api.ok("live_orders", r#"{"orders":[],"snapshot":true}"#)
            .ok("place", r#"{"error":"Not enough margin"}"#)
            .ok("live_orders", r#"{"orders":[],"snapshot":true}"#);
        let err = desk
            .set_position_brackets(
                "DU1234567",
                265598,
                &position,
                &wanted(Some(dec!(200)), Some(dec!(170))),
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("Not enough margin"), "{err}");
    }
}
