//! Account state (`/state`) from the summary and the ledger, and positions as TradingView's.

use super::super::model::portfolio::{Ledger, Position, Summary};
use crate::tv;
use rust_decimal::Decimal;

/// The state of an account: balance (cash), equity (net liquidation), unrealised P/L and available funds,
/// all in the account's base currency. The summary is preferred, the ledger's `BASE` entry fills gaps.
pub fn state(summary: &Summary, ledger: &Ledger) -> Result<tv::AccountState, String> {
    let base = ledger.get("BASE");
    let from_ledger =
        |f: fn(&super::super::model::portfolio::LedgerEntry) -> Option<crate::backends::ibkr::model::Num>| {
            base.and_then(f).map(|n| n.0)
        };
    let balance = summary
        .amount("totalcashvalue")
        .or_else(|| from_ledger(|l| l.cashbalance))
        .ok_or("the account summary has no cash value and the ledger no BASE cash balance")?;
    let equity = summary
        .amount("netliquidation")
        .or_else(|| from_ledger(|l| l.netliquidationvalue))
        .ok_or("the account summary has no net liquidation value and the ledger none either")?;
    let unrealized_pl = from_ledger(|l| l.unrealizedpnl)
        .or_else(|| summary.amount("unrealizedpnl"))
        .ok_or("the ledger has no BASE unrealised P/L")?;
    Ok(tv::AccountState {
        balance,
        unrealized_pl,
        equity,
        margin_available: summary.amount("availablefunds"),
        am_data: Vec::new(),
    })
}

/// An IBKR position as TradingView's position of `symbol` (its id is the symbol: one net position per
/// contract); `None` for a flat one.
pub fn position(p: &Position, symbol: &str) -> Result<Option<tv::Position>, String> {
    let qty = p.position.0;
    if qty.is_zero() {
        return Ok(None);
    }
    let avg_price = p
        .avg_price
        .or(p.avg_cost)
        .map(|n| n.0)
        .ok_or_else(|| format!("position in {}: no average price", p.conid))?;
    let unrealized_pl = p
        .unrealized_pnl
        .map(|n| n.0)
        .ok_or_else(|| format!("position in {}: no unrealised P/L", p.conid))?;
    Ok(Some(tv::Position {
        id: symbol.to_string(),
        instrument: symbol.to_string(),
        qty: qty.abs(),
        side: if qty > Decimal::ZERO {
            tv::Side::Buy
        } else {
            tv::Side::Sell
        },
        avg_price,
        unrealized_pl,
    }))
}
