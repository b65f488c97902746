//! Order conversions on the payloads of `testdata/ibkr/`.

use super::orders::*;
use crate::backends::ibkr::model::orders::{LiveOrders, OrderStatus, Trade};
use crate::backends::ibkr::model::tests::fixture;
use crate::tv;
use rust_decimal_macros::dec;

fn target() -> Target<'static> {
    Target {
        account: "DU1234567",
        conid: 265598,
        coid: "tvb-r1",
        outside_rth: false,
    }
}

#[test]
fn every_order_type_becomes_its_ticket() {
    let mut o = tv::PlaceOrder::new("AAPL", tv::Side::Buy, tv::OrderType::Market, dec!(5));
    let t = ticket(&target(), &o).unwrap();
    assert_eq!(
        (t.order_type, t.side, t.tif, t.price, t.aux_price),
        ("MKT", "BUY", "DAY", None, None)
    );
    o.kind = tv::OrderType::Limit;
    o.limit_price = Some(dec!(150));
    assert_eq!(
        (
            ticket(&target(), &o).unwrap().order_type,
            ticket(&target(), &o).unwrap().price
        ),
        ("LMT", Some(dec!(150)))
    );
    o.kind = tv::OrderType::Stop;
    o.stop_price = Some(dec!(140));
    o.side = tv::Side::Sell;
    let t = ticket(&target(), &o).unwrap();
    assert_eq!((t.order_type, t.side, t.price), ("STP", "SELL", Some(dec!(140))));
    o.kind = tv::OrderType::StopLimit;
    let t = ticket(&target(), &o).unwrap();
    assert_eq!(
        (t.order_type, t.price, t.aux_price),
        ("STOP_LIMIT", Some(dec!(150)), Some(dec!(140)))
    );
    // A missing price is refused, not sent.
    o.limit_price = None;
    assert!(ticket(&target(), &o).is_err());
    let json = serde_json::to_value(
        ticket(
            &target(),
            &tv::PlaceOrder::new("AAPL", tv::Side::Buy, tv::OrderType::Market, dec!(2.5)),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(json["cOID"], "tvb-r1");
    assert_eq!(json["quantity"], 2.5);
    assert!(json.get("price").is_none() && json.get("parentId").is_none());
}

#[test]
fn durations_map_to_tifs_and_others_are_refused() {
    let d = |k: &str| {
        Some(tv::OrderDuration {
            kind: k.into(),
            datetime: None,
        })
    };
    assert_eq!(tif(None).unwrap(), "DAY");
    for k in ["DAY", "GTC", "IOC", "OPG"] {
        assert_eq!(tif(d(k).as_ref()).unwrap(), k);
    }
    assert!(tif(d("GTD").as_ref()).is_err());
    assert_eq!(durations().iter().filter(|d| d.default).count(), 1);
}

#[test]
fn brackets_are_opposite_gtc_children_tied_by_the_parents_coid() {
    let mut o = tv::PlaceOrder::new("AAPL", tv::Side::Buy, tv::OrderType::Limit, dec!(5));
    o.limit_price = Some(dec!(150));
    let parent = ticket(&target(), &o).unwrap();
    let brackets = tv::Brackets {
        stop_loss: Some(dec!(140)),
        take_profit: Some(dec!(160)),
        ..Default::default()
    };
    let kids = bracket_children(&parent, &brackets).unwrap();
    assert_eq!(kids.len(), 2);
    assert_eq!(
        (kids[0].order_type, kids[0].side, kids[0].price),
        ("LMT", "SELL", Some(dec!(160)))
    );
    assert_eq!(
        (kids[1].order_type, kids[1].side, kids[1].price),
        ("STP", "SELL", Some(dec!(140)))
    );
    for k in &kids {
        assert_eq!(k.parent_id.as_deref(), Some("tvb-r1"));
        assert_eq!(k.tif, "GTC");
        assert_ne!(k.c_oid, parent.c_oid);
    }
    let trailing = tv::Brackets {
        trailing_stop_pips: Some(dec!(5)),
        ..Default::default()
    };
    assert!(bracket_children(&parent, &trailing).is_err());
}

#[test]
fn coids_follow_the_request_id_and_stay_apart() {
    let alice = coid("alice", Some("abc-123"));
    assert!(alice.starts_with("tvb-abc-123-") && alice.len() <= 40, "{alice}");
    assert_eq!(
        alice,
        coid("alice", Some("abc-123")),
        "the same request, the same id"
    );
    assert_ne!(
        alice,
        coid("bob", Some("abc-123")),
        "two users' requests never share a cOID"
    );
    let odd = coid("alice", Some("a b/c"));
    assert!(odd.starts_with("tvb-abc-") && odd.len() <= 40, "{odd}");
    assert_ne!(
        coid("alice", Some("a b/c")),
        coid("alice", Some("a/b c")),
        "different ids differ after cleaning"
    );
    assert_ne!(coid("alice", Some("a b/c")), coid("bob", Some("a b/c")));
    let long = "x".repeat(100);
    assert!(coid("alice", Some(&long)).len() <= 40);
    assert_ne!(coid("alice", None), coid("alice", None));
    assert_ne!(fresh_coid(), fresh_coid());
}

#[test]
fn statuses_map_and_never_go_back_from_final() {
    use tv::OrderStatus as T;
    let cases = [
        (OrderStatus::PendingSubmit, Some(T::Placing)),
        (OrderStatus::Inactive, Some(T::Inactive)),
        (OrderStatus::PreSubmitted, Some(T::Working)),
        (OrderStatus::Submitted, Some(T::Working)),
        (OrderStatus::PendingCancel, Some(T::Working)),
        (OrderStatus::WarnState, Some(T::Working)),
        (OrderStatus::Filled, Some(T::Filled)),
        (OrderStatus::Cancelled, Some(T::Cancelled)),
        (OrderStatus::Unknown, None),
    ];
    for (s, t) in cases {
        assert_eq!(status(s), t, "{s:?}");
    }
    assert_eq!(settle(Some(T::Filled), Some(T::Working)), T::Filled);
    assert_eq!(settle(Some(T::Cancelled), Some(T::Placing)), T::Cancelled);
    assert_eq!(settle(Some(T::Working), Some(T::Filled)), T::Filled);
    assert_eq!(settle(Some(T::Working), None), T::Working);
    assert_eq!(settle(None, None), T::Inactive);
}

#[test]
fn live_orders_become_tradingview_orders() {
    let live: LiveOrders = serde_json::from_str(&fixture("live_orders.json")).unwrap();
    let all: Vec<tv::Order> = live
        .orders
        .iter()
        .map(|o| order(o, "SYM", None).unwrap())
        .collect();
    let limit = &all[0];
    assert_eq!(
        (limit.id.as_str(), limit.kind, limit.status),
        ("1234567890", tv::OrderType::Limit, tv::OrderStatus::Working)
    );
    assert_eq!(
        (limit.qty, limit.limit_price, limit.last_modified),
        (dec!(5), Some(dec!(150)), Some(1702317649))
    );
    assert_eq!(limit.duration.as_ref().unwrap().kind, "GTC");
    let filled = &all[1];
    assert_eq!(
        (filled.status, filled.filled_qty, filled.avg_price, filled.side),
        (
            tv::OrderStatus::Filled,
            Some(dec!(1000)),
            Some(dec!(151.25)),
            tv::Side::Sell
        )
    );
    assert_eq!(
        (all[2].kind, all[2].stop_price),
        (tv::OrderType::Stop, Some(dec!(1.0750)))
    );
    let stop_limit = &all[3];
    assert_eq!(
        (stop_limit.kind, stop_limit.status),
        (tv::OrderType::StopLimit, tv::OrderStatus::Placing)
    );
    assert_eq!(
        (stop_limit.limit_price, stop_limit.stop_price),
        (Some(dec!(1.0800)), Some(dec!(1.0790)))
    );
    assert_eq!(all[4].status, tv::OrderStatus::Cancelled);
    assert_eq!(all[5].status, tv::OrderStatus::Working);
    assert_eq!(all[6].status, tv::OrderStatus::Inactive);
    // An undocumented status keeps what was shown before.
    assert_eq!(
        order(&live.orders[7], "SYM", Some(tv::OrderStatus::Filled))
            .unwrap()
            .status,
        tv::OrderStatus::Filled
    );
}

#[test]
fn trades_become_executions() {
    let trades: Vec<Trade> = serde_json::from_str(&fixture("trades.json")).unwrap();
    let e = execution(&trades[0], "AAPL").unwrap();
    assert_eq!(
        (e.id.as_str(), e.order_id.as_str(), e.side),
        ("0000e0d5.6576fd38.01.01", "1234567891", tv::Side::Sell)
    );
    assert_eq!(
        (e.qty, e.price, e.time, e.commission),
        (dec!(1000), dec!(151.25), 1702317650, Some(dec!(1)))
    );
}

#[test]
fn a_child_coid_counts_its_generation_and_reads_back() {
    assert_eq!(child_coid("tvb-r1", Leg::StopLoss, 0), "tvb-r1-sl");
    assert_eq!(child_coid("tvb-r1", Leg::TakeProfit, 2), "tvb-r1-tp3");
    for (leg, generation) in [(Leg::StopLoss, 0), (Leg::TakeProfit, 0), (Leg::StopLoss, 4)] {
        let c = child_coid("tvb-r1", leg, generation);
        assert_eq!(child_leg(&c, "tvb-r1"), Some((leg, generation)), "{c}");
    }
    assert_eq!(child_leg("tvb-r1-sl", "tvb-r"), None, "another parent's child");
    assert_eq!(child_leg("tvb-r1-slx", "tvb-r1"), None);
    assert_eq!(
        child_leg("tvb-r1-sl1", "tvb-r1"),
        None,
        "generations are written from 2"
    );
}

#[test]
fn a_position_legs_coid_is_stable_per_request_and_apart_per_account_contract_leg_and_level() {
    let seed = LegSeed {
        price: dec!(170),
        qty: dec!(2),
        avg_price: dec!(180.01),
    };
    let c = position_leg_coid("DU1234567", 265598, Leg::StopLoss, seed, 0);
    assert!(c.starts_with("tvbp-") && c.len() <= 40, "{c}");
    assert_eq!(
        c,
        position_leg_coid("DU1234567", 265598, Leg::StopLoss, seed, 0),
        "a resend"
    );
    let trailing_zero = LegSeed {
        price: dec!(170.00),
        ..seed
    };
    assert_eq!(
        c,
        position_leg_coid("DU1234567", 265598, Leg::StopLoss, trailing_zero, 0)
    );
    for other in [
        position_leg_coid("DU7654321", 265598, Leg::StopLoss, seed, 0),
        position_leg_coid("DU1234567", 272093, Leg::StopLoss, seed, 0),
        position_leg_coid("DU1234567", 265598, Leg::TakeProfit, seed, 0),
        position_leg_coid(
            "DU1234567",
            265598,
            Leg::StopLoss,
            LegSeed {
                price: dec!(171),
                ..seed
            },
            0,
        ),
        position_leg_coid(
            "DU1234567",
            265598,
            Leg::StopLoss,
            LegSeed { qty: dec!(3), ..seed },
            0,
        ),
        position_leg_coid("DU1234567", 265598, Leg::StopLoss, seed, 1),
    ] {
        assert_ne!(c, other);
    }
    assert_eq!(position_leg(&c, "DU1234567", 265598), Some((Leg::StopLoss, 0)));
    let later = position_leg_coid("DU1234567", 265598, Leg::TakeProfit, seed, 7);
    assert_eq!(
        position_leg(&later, "DU1234567", 265598),
        Some((Leg::TakeProfit, 7))
    );
    assert_eq!(position_leg(&c, "DU7654321", 265598), None, "another account's");
    assert_eq!(position_leg(&c, "DU1234567", 272093), None, "another contract's");
    assert_eq!(position_leg("tvb-r1-sl", "DU1234567", 265598), None);
    assert!(is_position_leg(&c) && !is_position_leg("tvb-r1-sl"));
}

#[test]
fn a_leg_ticket_is_the_opposite_gtc_order_of_its_kind() {
    let t = leg_ticket(&target(), tv::Side::Sell, dec!(3), Leg::StopLoss, dec!(190));
    assert_eq!(
        (t.order_type, t.side, t.tif, t.quantity, t.price, t.aux_price),
        ("STP", "BUY", "GTC", dec!(3), Some(dec!(190)), None)
    );
    assert_eq!(
        (t.c_oid.as_deref(), t.parent_id.as_deref(), t.is_single_group),
        (Some("tvb-r1"), None, None)
    );
    let tp = leg_ticket(&target(), tv::Side::Buy, dec!(3), Leg::TakeProfit, dec!(200));
    assert_eq!((tp.order_type, tp.side), ("LMT", "SELL"));
    let json = serde_json::to_value(&t).unwrap();
    assert!(json.get("isSingleGroup").is_none(), "sent only when set: {json}");
}

#[test]
fn legs_of_filled_orders_and_position_legs_are_shown_on_the_position() {
    let live: LiveOrders = serde_json::from_str(
        r#"{"orders":[
        {"acct":"DU1","conid":265598,"orderId":1,"status":"Filled","orderType":"Market","side":"BUY","totalSize":"2"},
        {"acct":"DU1","conid":265598,"orderId":2,"status":"PreSubmitted","orderType":"Stop","side":"SELL","totalSize":"2","price":"170","parentId":1},
        {"acct":"DU1","conid":265598,"orderId":3,"status":"Submitted","orderType":"Limit","side":"BUY","totalSize":"2","price":"150"},
        {"acct":"DU1","conid":265598,"orderId":4,"status":"PreSubmitted","orderType":"Stop","side":"SELL","totalSize":"2","price":"140","parentId":3},
        {"acct":"DU1","conid":265598,"orderId":5,"status":"Submitted","orderType":"Limit","side":"SELL","totalSize":"2","price":"199","order_ref":"tvbp-0a0b0c0d-tp-1a2b3c4d-0"}
        ],"snapshot":true}"#,
    )
    .unwrap();
    let filled: std::collections::HashSet<String> = ["1".to_string()].into();
    let shown: Vec<tv::Order> = live
        .orders
        .iter()
        .map(|o| {
            let mut out = order(o, "AAPL", None).unwrap();
            attach_to_position(&mut out, o, &filled);
            out
        })
        .collect();
    let parent = |o: &tv::Order| (o.parent_id.clone(), o.parent_type);
    assert_eq!(
        parent(&shown[1]),
        (Some("AAPL".into()), Some(tv::ParentType::Position))
    );
    assert_eq!(
        parent(&shown[3]),
        (Some("3".into()), Some(tv::ParentType::Order)),
        "its parent works"
    );
    assert_eq!(
        parent(&shown[4]),
        (Some("AAPL".into()), Some(tv::ParentType::Position))
    );
    assert_eq!(parent(&shown[2]), (None, None));
}
