//! Deals as individual, netted and net positions, from the official "All positions" example and deals
//! derived from it.

use super::fixtures::*;
use super::model::{Direction, PositionEntry};
use super::positions::*;
use crate::tv::Side;
use rust_decimal_macros::dec;
use serde_json::json;

/// The official NATURALGAS deal with another direction, size, level and P/L.
fn deal(id: &str, direction: &str, size: f64, level: f64, upl: f64) -> PositionEntry {
    let mut v = all_positions()["positions"][0].clone();
    v["position"]["dealId"] = json!(id);
    v["position"]["direction"] = json!(direction);
    v["position"]["size"] = json!(size);
    v["position"]["level"] = json!(level);
    v["position"]["upl"] = json!(upl);
    parse(v)
}

#[test]
fn sides_and_directions() {
    assert_eq!(side(Direction::Buy), Some(Side::Buy));
    assert_eq!(side(Direction::Sell), Some(Side::Sell));
    assert_eq!(side(Direction::Unknown), None);
    for s in [Side::Buy, Side::Sell] {
        assert_eq!(side(direction(s)), Some(s));
    }
}

#[test]
fn official_deals_as_individual_positions() {
    let deals = official_deals();
    let p = individual_position("NATGAS", &deals[0]);
    assert_eq!(p.id, "00018387-0001-54c4-0000-000080560014");
    assert_eq!(p.instrument, "NATGAS");
    assert_eq!(p.date, "1649151961872");
    assert_eq!(
        (p.qty, p.side, p.price, p.unrealized_pl),
        (dec!(10), Side::Buy, dec!(2.764), dec!(-0.05))
    );
    let q = individual_position("US500", &deals[1]);
    assert_eq!(
        (q.id.as_str(), q.date.as_str()),
        ("004d0627-0001-54c4-0000-000080560017", "1649151970139")
    );
    assert_eq!(
        (q.qty, q.price, q.unrealized_pl),
        (dec!(1), dec!(3985.1), dec!(-0.8))
    );
    let bare: PositionEntry = parse(json!({
        "position": {"dealId": "x", "size": 2, "direction": "SELL", "level": 21.059, "currency": "USD"},
        "market": {"epic": "SILVER"}
    }));
    let b = individual_position("SILVER", &bare);
    assert_eq!(
        (b.date.as_str(), b.unrealized_pl, b.side),
        ("0", dec!(0), Side::Sell)
    );
}

#[test]
fn official_deals_net_one_per_symbol() {
    let deals: Vec<(String, PositionEntry)> = official_deals()
        .into_iter()
        .map(|e| (e.market.epic.clone(), e))
        .collect();
    let p = super::positions::positions(&deals);
    assert_eq!(p.len(), 2);
    assert_eq!(
        (p[0].id.as_str(), p[0].instrument.as_str()),
        ("NATURALGAS", "NATURALGAS")
    );
    assert_eq!(
        (p[0].qty, p[0].side, p[0].avg_price, p[0].unrealized_pl),
        (dec!(10), Side::Buy, dec!(2.764), dec!(-0.05))
    );
    assert_eq!(
        (p[1].id.as_str(), p[1].qty, p[1].avg_price),
        ("US500", dec!(1), dec!(3985.1))
    );
    let n = net_positions(&deals);
    assert_eq!(
        (n[1].id.as_str(), n[1].qty, n[1].long_qty, n[1].short_qty),
        ("US500", dec!(1), dec!(1), dec!(0))
    );
}

#[test]
fn netting_with_deals_on_both_sides() {
    let deals = vec![
        ("GAS".to_string(), deal("a", "BUY", 3.0, 10.0, 1.5)),
        ("OIL".to_string(), deal("b", "SELL", 5.0, 20.0, -2.0)),
        ("GAS".to_string(), deal("c", "BUY", 1.0, 14.0, -0.5)),
        ("FLAT".to_string(), deal("d", "BUY", 2.0, 7.0, 0.25)),
        ("GAS".to_string(), deal("e", "SELL", 2.0, 12.0, 0.75)),
        ("OIL".to_string(), deal("f", "BUY", 2.0, 19.0, 1.0)),
        ("FLAT".to_string(), deal("g", "SELL", 2.0, 7.5, 0.5)),
    ];
    let p = super::positions::positions(&deals);
    assert_eq!(p.len(), 2, "the flat symbol is left out");
    // GAS: +3 +1 -2 = long 2, averaged over the buys only: (3x10 + 1x14) / 4 = 11.
    assert_eq!(
        (p[0].id.as_str(), p[0].side, p[0].qty),
        ("GAS", Side::Buy, dec!(2))
    );
    assert_eq!((p[0].avg_price, p[0].unrealized_pl), (dec!(11), dec!(1.75)));
    // OIL: -5 +2 = short 3 at the sell's level.
    assert_eq!(
        (p[1].id.as_str(), p[1].side, p[1].qty),
        ("OIL", Side::Sell, dec!(3))
    );
    assert_eq!((p[1].avg_price, p[1].unrealized_pl), (dec!(20), dec!(-1)));

    let n = net_positions(&deals);
    assert_eq!(n.len(), 3, "a hedged-out symbol still holds deals");
    assert_eq!(
        (n[0].qty, n[0].long_qty, n[0].short_qty, n[0].avg_price),
        (dec!(2), dec!(4), dec!(2), Some(dec!(11)))
    );
    assert_eq!(
        (n[1].qty, n[1].long_qty, n[1].short_qty, n[1].avg_price),
        (dec!(-3), dec!(2), dec!(5), Some(dec!(20)))
    );
    assert_eq!(
        (n[2].id.as_str(), n[2].qty, n[2].avg_price),
        ("FLAT", dec!(0), None)
    );
    assert_eq!((n[2].long_qty, n[2].short_qty), (dec!(2), dec!(2)));
    assert!(super::positions::positions(&[]).is_empty() && net_positions(&[]).is_empty());
}

#[test]
fn weighted_average_keeps_precision() {
    let deals = vec![
        ("X".to_string(), deal("a", "BUY", 1.0, 1.0, 0.0)),
        ("X".to_string(), deal("b", "BUY", 2.0, 2.0, 0.0)),
    ];
    // (1 + 4) / 3 = 1.666..., rounded to ten places.
    assert_eq!(
        super::positions::positions(&deals)[0].avg_price,
        dec!(1.6666666667)
    );
}

#[test]
fn unknown_direction_counts_as_buy() {
    let deals = vec![("X".to_string(), deal("a", "SIDEWAYS", 1.0, 5.0, 0.0))];
    assert_eq!(deals[0].1.position.direction, Direction::Unknown);
    assert_eq!(individual_position("X", &deals[0].1).side, Side::Buy);
    assert_eq!(super::positions::positions(&deals)[0].side, Side::Buy);
    assert_eq!(net_positions(&deals)[0].long_qty, dec!(1));
}
