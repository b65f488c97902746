//! `ORDER_FILL` transactions as TradingView executions.
//!
//! A fill can close trades, reduce one and open one at once; each part becomes its own execution so that
//! `positionId` (the trade) and `isClose` are exact. A fill with one part keeps the transaction id as the
//! execution id; the parts of a fill with several are `<transactionID>.<tradeID>`.
//!
//! The order id of an execution is the order as `/orders` lists it: a take profit, stop loss or trailing
//! stop that closed a trade is that trade's leg (`<tradeID>.tp`...), never the OANDA id of the bracket order
//! (which TradingView never sees), so the execution and the filled order it belongs to name the same id.

use super::ids::{leg_id, tv_order_id_of, Leg};
use super::model::{Transaction, TransactionType};
use super::{side_of, unix_secs};
use crate::backends::oanda::catalog::AccountCatalog;
use crate::tv;
use rust_decimal::Decimal;

/// The executions of one fill (none for another transaction type or a fill without instrument or units).
pub fn executions_of(tx: &Transaction, catalog: &AccountCatalog) -> Vec<tv::Execution> {
    if tx.kind != TransactionType::OrderFill {
        return Vec::new();
    }
    let (Some(instrument), Some(units)) = (tx.instrument.as_deref(), tx.units) else {
        return Vec::new();
    };
    let side = side_of(units);
    let order_id = filled_order_id(tx);
    let time = tx.time.as_deref().and_then(unix_secs).unwrap_or_default();
    // (trade, units, price, closes)
    let mut parts: Vec<(String, Option<Decimal>, Option<Decimal>, bool)> = tx
        .trades_closed
        .iter()
        .map(|t| (t.trade_id.clone(), t.units, t.price, true))
        .collect();
    if let Some(t) = &tx.trade_reduced {
        parts.push((t.trade_id.clone(), t.units, t.price, true));
    }
    if let Some(t) = &tx.trade_opened {
        parts.push((t.trade_id.clone(), t.units, t.price, false));
    }
    let execution =
        |id: String, qty: Decimal, price: Decimal, position: Option<String>, is_close: bool| tv::Execution {
            id,
            instrument: catalog.symbol(instrument),
            price,
            time,
            qty,
            side,
            order_id: order_id.clone(),
            is_close,
            position_id: position,
            commission: None,
        };
    let whole_price = super::fill_price(tx);
    let mut out: Vec<tv::Execution> = match parts.as_slice() {
        [] => whole_price
            .map(|p| execution(tx.id.clone(), units.abs(), p, None, false))
            .into_iter()
            .collect(),
        [(trade, _, price, closes)] => price
            .or(whole_price)
            .map(|p| execution(tx.id.clone(), units.abs(), p, Some(trade.clone()), *closes))
            .into_iter()
            .collect(),
        many => many
            .iter()
            .filter_map(|(trade, u, price, closes)| {
                let qty = u.map(|u| u.abs())?;
                let price = price.or(whole_price)?;
                Some(execution(
                    format!("{}.{trade}", tx.id),
                    qty,
                    price,
                    Some(trade.clone()),
                    *closes,
                ))
            })
            .collect(),
    };
    // The commission is the fill's; it goes on its first execution only so it is counted once.
    if let (Some(first), Some(c)) = (out.first_mut(), tx.commission.filter(|c| !c.is_zero())) {
        first.commission = Some(c.abs());
    }
    out
}

/// The TradingView id of the order a fill executed (see the module doc). OANDA says which kind of bracket
/// filled in the fill's `reason`; the trade is the one the fill closed (or, for a bracket of a trade that
/// shrank meanwhile, reduced).
fn filled_order_id(tx: &Transaction) -> String {
    let leg = match tx.reason.as_deref() {
        Some("TAKE_PROFIT_ORDER") => Some(Leg::TakeProfit),
        // Newer API versions fill a guaranteed stop loss under its own reason.
        Some("STOP_LOSS_ORDER" | "GUARANTEED_STOP_LOSS_ORDER") => Some(Leg::StopLoss),
        Some("TRAILING_STOP_LOSS_ORDER") => Some(Leg::TrailingStop),
        _ => None,
    };
    let trade = tx
        .trades_closed
        .first()
        .or(tx.trade_reduced.as_ref())
        .map(|t| t.trade_id.as_str());
    match (leg, trade) {
        (Some(leg), Some(trade)) => leg_id(trade, leg),
        _ => tv_order_id_of(tx).unwrap_or_default(),
    }
}
