//! Fills as executions, one per trade they touched.

use super::fixtures::{catalog, market_fill_json, reversing_fill_json, tx};
use super::*;
use crate::tv::{Execution, Side};
use rust_decimal_macros::dec;

#[test]
fn a_fill_that_opened_a_trade_is_one_opening_execution() {
    assert_eq!(
        executions_of(&tx(market_fill_json()), &catalog()),
        vec![Execution {
            id: "6381".into(),
            instrument: "EURUSD".into(),
            price: dec!(1.10012),
            time: 1477670400,
            qty: dec!(100),
            side: Side::Buy,
            order_id: "@tv-2".into(),
            is_close: false,
            position_id: Some("6381".into()),
            commission: None,
        }]
    );
}

#[test]
fn a_fill_that_closed_and_opened_is_split_by_trade() {
    let out = executions_of(&tx(reversing_fill_json()), &catalog());
    let parts: Vec<_> = out
        .iter()
        .map(|e| {
            (
                e.id.as_str(),
                e.qty,
                e.side,
                e.is_close,
                e.position_id.as_deref(),
                e.commission,
            )
        })
        .collect();
    assert_eq!(
        parts,
        [
            (
                "6390.6368",
                dec!(100),
                Side::Sell,
                true,
                Some("6368"),
                Some(dec!(0.15))
            ),
            ("6390.6390", dec!(50), Side::Sell, false, Some("6390"), None),
        ]
    );
    assert!(out
        .iter()
        .all(|e| e.order_id == "6389" && e.price == dec!(1.10100) && e.time == 1477735200));
}

#[test]
fn other_transactions_are_no_executions() {
    let cancel = tx(super::fixtures::cancel_json("7", "6", "CLIENT_REQUEST"));
    assert!(executions_of(&cancel, &catalog()).is_empty());
}
