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

#[test]
fn a_bracket_fill_names_the_trade_leg_as_its_order() {
    // ORDER_FILL of take profit order 6372 of trade 6368: the execution belongs to order `6368.tp`, the id
    // `/orders` shows the filled take profit under.
    let fill = |reason: &str| {
        tx(serde_json::json!({
            "id": "6400", "time": "2016-10-29T12:00:00.000000000Z", "accountID": "101-004-1435156-001",
            "type": "ORDER_FILL", "orderID": "6372", "instrument": "EUR_USD", "units": "-100", "price": "1.11000",
            "reason": reason, "pl": "9.8800", "accountBalance": "100009.8800",
            "tradesClosed": [{"tradeID": "6368", "units": "-100", "price": "1.11000", "realizedPL": "9.8800"}]
        }))
    };
    for (reason, order) in [
        ("TAKE_PROFIT_ORDER", "6368.tp"),
        ("STOP_LOSS_ORDER", "6368.sl"),
        ("GUARANTEED_STOP_LOSS_ORDER", "6368.sl"),
        ("TRAILING_STOP_LOSS_ORDER", "6368.ts"),
        ("MARKET_ORDER_TRADE_CLOSE", "6372"),
    ] {
        let out = executions_of(&fill(reason), &catalog());
        assert_eq!(out.len(), 1);
        assert_eq!(
            (
                out[0].order_id.as_str(),
                out[0].is_close,
                out[0].position_id.as_deref()
            ),
            (order, true, Some("6368")),
            "{reason}"
        );
    }
}
