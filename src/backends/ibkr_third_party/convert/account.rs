//! Positions and the account summary as TradingView's positions and account state.

use crate::backends::ibkr_third_party::model::account::{Position, Summary};
use crate::backends::ibkr_third_party::model::trades::Trade;
use crate::tv;
use rust_decimal::Decimal;

/// A position as TradingView shows it (id: the symbol; one position per contract). `None` when flat.
/// IBKR's rows carry no P&L per position: `unrealizedPl` is 0 there, and the account's is in the state.
pub fn position(p: &Position, symbol: &str) -> Option<tv::Position> {
    let size = p.position.0;
    if size.is_zero() {
        return None;
    }
    Some(tv::Position {
        id: symbol.to_string(),
        instrument: symbol.to_string(),
        qty: size.abs(),
        side: if size > Decimal::ZERO {
            tv::Side::Buy
        } else {
            tv::Side::Sell
        },
        avg_price: p.average_cost.map(|n| n.0).unwrap_or_default(),
        unrealized_pl: Decimal::ZERO,
    })
}

/// The account state: balance is the cash, equity the net liquidation value.
pub fn state(s: &Summary) -> Result<tv::AccountState, String> {
    let get = |v: &Option<crate::backends::ibkr::model::Num>| v.map(|n| n.0);
    let equity = get(&s.net_liquidation).ok_or("IBKR's summary has no NetLiquidation")?;
    let balance = get(&s.total_cash_value).unwrap_or(equity);
    let unrealized = get(&s.unrealized_pnl).unwrap_or_default();
    let available = get(&s.available_funds);
    let summary = tv::AccountSummary {
        balance,
        equity,
        unrealized_pl: unrealized,
        realized_pl: get(&s.realized_pnl).unwrap_or_default(),
        margin_used: get(&s.init_margin_req).unwrap_or_default(),
        margin_available: available.unwrap_or_default(),
    };
    let currency = s.currency.clone().unwrap_or_default();
    Ok(tv::AccountState {
        balance,
        unrealized_pl: unrealized,
        equity,
        margin_available: available,
        am_data: summary.am_data(&currency),
    })
}

/// A fill as TradingView's execution (`symbol` resolved by the caller, `order_id` its TradingView id).
pub fn execution(t: &Trade, symbol: String, order_id: String) -> Result<tv::Execution, String> {
    let side = super::fix::side(&t.side).ok_or_else(|| {
        format!(
            "fill {}: unknown side code {:?}",
            t.exec_id,
            super::fix::quoted(&t.side)
        )
    })?;
    let time = super::fix_time(&t.execution_time)
        .ok_or_else(|| format!("fill {}: execution time not a FIX timestamp", t.exec_id))?;
    Ok(tv::Execution {
        id: t.exec_id.clone(),
        instrument: symbol,
        price: t.trade_price.0,
        time,
        qty: t.trade_size.0.abs(),
        side,
        order_id,
        // IBKR's fill does not say whether it closed a position.
        is_close: false,
        position_id: None,
        commission: t.commission.map(|n| n.0),
    })
}
