//! Trades and positions, and the P/L computed for trades.

use super::super::model;
use super::fixtures::*;
use super::*;
use crate::tv::Side;
use rust_decimal_macros::dec;

fn trades() -> Vec<model::Trade> {
    serde_json::from_str::<model::Trades>(TRADES).unwrap().trades
}

fn book(entries: &[(&str, rust_decimal::Decimal, rust_decimal::Decimal)]) -> Book {
    entries
        .iter()
        .map(|(i, b, a)| (i.to_string(), (*b, *a)))
        .collect()
}

#[test]
fn trades_as_individual_positions() {
    let t = &trades()[0];
    let p = individual_position(t, "EURUSD", dec!(-1.5)).unwrap();
    assert_eq!((p.id.as_str(), p.instrument.as_str()), ("175427743", "EURUSD"));
    assert_eq!((p.qty, p.side, p.price), (dec!(2), Side::Sell, dec!(1.36687)));
    assert_eq!(p.date, "1392313667000");
    assert_eq!(p.unrealized_pl, dec!(-1.5));
    let mut odd = t.clone();
    odd.side = model::WireSide::Unknown;
    assert!(individual_position(&odd, "EURUSD", dec!(0)).is_none());
}

#[test]
fn positions_as_net_positions() {
    let list: model::Positions = serde_json::from_str(POSITIONS).unwrap();
    let long = net_position(&list.positions[0], "EURUSD").unwrap();
    assert_eq!(
        (long.id.as_str(), long.qty, long.long_qty, long.short_qty),
        ("EURUSD", dec!(4741), dec!(4741), dec!(0))
    );
    assert_eq!(long.avg_price, Some(dec!(1.3626)));
    let short = net_position(&list.positions[1], "USDJPY").unwrap();
    assert_eq!(
        (short.qty, short.long_qty, short.short_qty),
        (dec!(-100), dec!(0), dec!(100))
    );
}

#[test]
fn pl_in_the_account_currency() {
    let t = trades();
    // A sell of 2 EUR_USD at 1.36687 closes at the ask.
    let b = book(&[
        ("EUR_USD", dec!(1.36600), dec!(1.36610)),
        ("USD_JPY", dec!(103.0), dec!(103.02)),
    ]);
    assert_eq!(unrealized_pl(&t[0], &b, "USD"), Some(dec!(0.00)));
    let mut big = t[0].clone();
    big.units = dec!(10000);
    assert_eq!(
        unrealized_pl(&big, &b, "USD"),
        Some(dec!(7.70)),
        "(1.36687 - 1.36610) x 10000"
    );
    // A buy of 100 USD_JPY at 102.1 closes at the bid 103.0: 90 JPY, in USD / 103.0.
    assert_eq!(unrealized_pl(&t[1], &b, "USD"), Some(dec!(0.87)));
    // In a EUR account, the JPY profit converts with EUR_JPY (inverse mid).
    let b = book(&[
        ("USD_JPY", dec!(103.0), dec!(103.02)),
        ("EUR_JPY", dec!(140.0), dec!(140.0)),
    ]);
    assert_eq!(unrealized_pl(&t[1], &b, "EUR"), Some(dec!(0.64)));
    assert_eq!(unrealized_pl(&t[1], &b, "GBP"), None, "no rate to GBP");
    assert_eq!(unrealized_pl(&t[0], &b, "USD"), None, "no EUR_USD price");
}

#[test]
fn valuation_needs_conversion_pairs() {
    let t = trades();
    let all = |_: &str| true;
    assert_eq!(valuation_instruments(&t, "USD", &all), ["EUR_USD", "USD_JPY"]);
    let only = |n: &str| n == "EUR_JPY";
    assert_eq!(
        valuation_instruments(&t, "EUR", &only),
        ["EUR_USD", "USD_JPY", "EUR_JPY"]
    );
    let none = |_: &str| false;
    assert_eq!(valuation_instruments(&t, "GBP", &none), ["EUR_USD", "USD_JPY"]);
}
