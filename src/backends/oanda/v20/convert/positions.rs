//! Open trades as TradingView individual positions and OANDA positions as net positions.

use super::model::{Account, Position, TradeSummary};
use super::{side_of, unix_ms};
use crate::backends::oanda::catalog::AccountCatalog;
use crate::tv;
use rust_decimal::Decimal;

/// An open trade: id, symbol, opening time (unix milliseconds as a string, as TradingView's
/// `IndividualPosition.date` wants), side and size from the signed current units, open price, unrealized
/// P/L. `None` for a trade with no units left.
pub fn individual_position(t: &TradeSummary, catalog: &AccountCatalog) -> Option<tv::IndividualPosition> {
    if t.current_units.is_zero() {
        return None;
    }
    Some(tv::IndividualPosition {
        id: t.id.clone(),
        instrument: catalog.symbol(&t.instrument),
        date: unix_ms(&t.open_time).unwrap_or_default().to_string(),
        qty: t.current_units.abs(),
        side: side_of(t.current_units),
        price: t.price,
        unrealized_pl: t.unrealized_pl.unwrap_or_default(),
    })
}

/// Every open trade of the account.
pub fn individual_positions(account: &Account, catalog: &AccountCatalog) -> Vec<tv::IndividualPosition> {
    account
        .trades
        .iter()
        .filter_map(|t| individual_position(t, catalog))
        .collect()
}

/// A position with units on either side: id and instrument the symbol, long and short sizes, signed net
/// quantity, and the average price of the side that is open (both open, on a hedging account: the
/// unit-weighted average of both sides). `None` when both sides are flat (OANDA lists every instrument
/// ever traded).
pub fn net_position(p: &Position, catalog: &AccountCatalog) -> Option<tv::NetPosition> {
    let long = p.long.units().abs();
    let short = p.short.units().abs();
    if long.is_zero() && short.is_zero() {
        return None;
    }
    let avg_price = match (long.is_zero(), short.is_zero()) {
        (false, true) => p.long.average_price,
        (true, false) => p.short.average_price,
        _ => match (p.long.average_price, p.short.average_price) {
            (Some(l), Some(s)) => (long * l + short * s)
                .checked_div(long + short)
                .map(|a| a.round_dp(8).normalize()),
            _ => None,
        },
    };
    let symbol = catalog.symbol(&p.instrument);
    Some(tv::NetPosition {
        id: symbol.clone(),
        instrument: symbol,
        qty: long - short,
        long_qty: long,
        short_qty: short,
        avg_price,
    })
}

/// Every open position of the account.
pub fn net_positions(account: &Account, catalog: &AccountCatalog) -> Vec<tv::NetPosition> {
    account
        .positions
        .iter()
        .filter_map(|p| net_position(p, catalog))
        .collect()
}

/// The long and short units (both non-negative) of `instrument`'s position.
pub fn position_units(account: &Account, instrument: &str) -> (Decimal, Decimal) {
    account
        .positions
        .iter()
        .find(|p| p.instrument == instrument)
        .map(|p| (p.long.units().abs(), p.short.units().abs()))
        .unwrap_or_default()
}
