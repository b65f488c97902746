//! Trades and positions of the documented account shape.

use super::fixtures::{account, catalog, parse};
use super::*;
use crate::tv::{IndividualPosition, NetPosition, Side};
use rust_decimal_macros::dec;
use serde_json::json;

#[test]
fn open_trades_are_individual_positions() {
    assert_eq!(
        individual_positions(&account(), &catalog()),
        vec![
            IndividualPosition {
                id: "6368".into(),
                instrument: "EURUSD".into(),
                date: "1477664885231".into(),
                qty: dec!(100),
                side: Side::Buy,
                price: dec!(1.10000),
                unrealized_pl: dec!(1.5),
            },
            IndividualPosition {
                id: "6375".into(),
                instrument: "USDJPY".into(),
                date: "1477666800000".into(),
                qty: dec!(200),
                side: Side::Sell,
                price: dec!(150.000),
                unrealized_pl: dec!(1),
            },
        ]
    );
}

#[test]
fn positions_with_units_are_net_positions() {
    assert_eq!(
        net_positions(&account(), &catalog()),
        vec![
            NetPosition {
                id: "EURUSD".into(),
                instrument: "EURUSD".into(),
                qty: dec!(100),
                long_qty: dec!(100),
                short_qty: dec!(0),
                avg_price: Some(dec!(1.10000)),
            },
            NetPosition {
                id: "USDJPY".into(),
                instrument: "USDJPY".into(),
                qty: dec!(-200),
                long_qty: dec!(0),
                short_qty: dec!(200),
                avg_price: Some(dec!(150.000)),
            },
        ]
    );
    assert_eq!(position_units(&account(), "USD_JPY"), (dec!(0), dec!(200)));
    assert_eq!(position_units(&account(), "GBP_USD"), (dec!(0), dec!(0)));
    assert_eq!(position_units(&account(), "AUD_USD"), (dec!(0), dec!(0)));
}

#[test]
fn a_hedged_position_has_both_sides_and_their_average() {
    let p: model::Position = parse(json!({"instrument": "EUR_USD",
        "long": {"units": "300", "averagePrice": "1.10000"},
        "short": {"units": "-100", "averagePrice": "1.20000"}}));
    let n = net_position(&p, &catalog()).expect("open");
    assert_eq!(
        (n.qty, n.long_qty, n.short_qty, n.avg_price),
        (dec!(200), dec!(300), dec!(100), Some(dec!(1.125)))
    );
}
