//! Capital.com deals as TradingView positions: one individual position per deal, and the netting views
//! (`/positions`, `/netPositions`) that sum the deals of each symbol.

use super::model::{Direction, PositionEntry};
use super::unix_ms;
use crate::tv::{self, Side};
use rust_decimal::Decimal;

/// TradingView side of a deal direction; `None` for a direction this bridge does not know.
pub fn side(d: Direction) -> Option<Side> {
    match d {
        Direction::Buy => Some(Side::Buy),
        Direction::Sell => Some(Side::Sell),
        Direction::Unknown => None,
    }
}

/// Capital.com direction of a TradingView side.
pub fn direction(s: Side) -> Direction {
    match s {
        Side::Buy => Direction::Buy,
        Side::Sell => Direction::Sell,
    }
}

/// Side of a deal for the position views. An unknown direction (never documented) is counted as buy: an
/// open deal is always shown, never hidden.
fn deal_side(entry: &PositionEntry) -> Side {
    side(entry.position.direction).unwrap_or(Side::Buy)
}

/// One deal as an individual position: `id` = dealId, `date` = `createdDateUTC` in unix milliseconds (`"0"`
/// when missing or unreadable), price = the deal's level, P/L = its `upl` (0 when absent).
pub fn individual_position(symbol: &str, entry: &PositionEntry) -> tv::IndividualPosition {
    let p = &entry.position;
    tv::IndividualPosition {
        id: p.deal_id.clone(),
        instrument: symbol.to_owned(),
        date: p
            .created_date_utc
            .as_deref()
            .and_then(unix_ms)
            .unwrap_or(0)
            .to_string(),
        qty: p.size,
        side: deal_side(entry),
        price: p.level,
        unrealized_pl: p.upl.unwrap_or_default(),
    }
}

/// Per-symbol sums over deals, in the order symbols first appear.
struct Sums<'a> {
    symbol: &'a str,
    long: Decimal,
    short: Decimal,
    upl: Decimal,
}

fn sums(deals: &[(String, PositionEntry)]) -> Vec<Sums<'_>> {
    let mut out: Vec<Sums<'_>> = Vec::new();
    for (symbol, entry) in deals {
        let i = match out.iter().position(|s| s.symbol == symbol) {
            Some(i) => i,
            None => {
                out.push(Sums {
                    symbol,
                    long: Decimal::ZERO,
                    short: Decimal::ZERO,
                    upl: Decimal::ZERO,
                });
                out.len() - 1
            }
        };
        let s = &mut out[i];
        match deal_side(entry) {
            Side::Buy => s.long += entry.position.size,
            Side::Sell => s.short += entry.position.size,
        }
        s.upl += entry.position.upl.unwrap_or_default();
    }
    out
}

/// Size-weighted average level of the deals of `symbol` on `side`; `None` when there are none.
fn average_level(deals: &[(String, PositionEntry)], symbol: &str, side: Side) -> Option<Decimal> {
    let (value, units) = deals
        .iter()
        .filter(|(s, e)| s == symbol && deal_side(e) == side)
        .fold((Decimal::ZERO, Decimal::ZERO), |(v, u), (_, e)| {
            (v + e.position.level * e.position.size, u + e.position.size)
        });
    (!units.is_zero()).then(|| (value / units).round_dp(10).normalize())
}

/// Netting view: one position per symbol over all its deals (`(symbol, deal)` pairs): the signed sum of
/// sizes, the average level of the deals on the net side weighted by size, the P/L of all deals summed;
/// `id` = the symbol. Symbols whose deals cancel out are left out.
pub fn positions(deals: &[(String, PositionEntry)]) -> Vec<tv::Position> {
    sums(deals)
        .into_iter()
        .filter_map(|s| {
            let net = s.long - s.short;
            let side = if net > Decimal::ZERO {
                Side::Buy
            } else if net < Decimal::ZERO {
                Side::Sell
            } else {
                return None;
            };
            Some(tv::Position {
                id: s.symbol.to_owned(),
                instrument: s.symbol.to_owned(),
                qty: net.abs(),
                side,
                avg_price: average_level(deals, s.symbol, side)?,
                unrealized_pl: s.upl,
            })
        })
        .collect()
}

/// Hedging view: one net position per symbol with its long and short totals, `qty` = long - short, the
/// average level of the net side (none when flat); `id` = the symbol. A symbol hedged to zero is kept
/// (qty 0) because it still holds deals, as in the paper backend.
pub fn net_positions(deals: &[(String, PositionEntry)]) -> Vec<tv::NetPosition> {
    sums(deals)
        .into_iter()
        .map(|s| {
            let net = s.long - s.short;
            let avg_price = if net > Decimal::ZERO {
                average_level(deals, s.symbol, Side::Buy)
            } else if net < Decimal::ZERO {
                average_level(deals, s.symbol, Side::Sell)
            } else {
                None
            };
            tv::NetPosition {
                id: s.symbol.to_owned(),
                instrument: s.symbol.to_owned(),
                qty: net,
                long_qty: s.long,
                short_qty: s.short,
                avg_price,
            }
        })
        .collect()
}
