//! `ORDER_FILL` transactions as TradingView executions.
//!
//! A fill can close trades, reduce one and open one at once; each part becomes its own execution so that
//! `positionId` (the trade) and `isClose` are exact. A fill with one part keeps the transaction id as the
//! execution id; the parts of a fill with several are `<transactionID>.<tradeID>`.

use super::ids::tv_order_id_of;
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
    let order_id = tv_order_id_of(tx).unwrap_or_default();
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
