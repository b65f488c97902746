//! Orders that reached a final state, from `GET /orders?state=ALL`, as TradingView orders: filled (with the
//! fill's quantity and average price), cancelled, or rejected when the cancel reason says the order could
//! never have executed (no margin, market halted...), with the reason in words.
//!
//! An order's listing does not say at what price it filled or why it was cancelled: those facts come from
//! the filling or cancelling transaction, read separately and passed in as [`TxFacts`].
//!
//! Left out: orders replaced by a modification (their replacement carries the TradingView id on), market
//! orders OANDA made to close trades or positions (TradingView asked for a close, not for an order), and
//! cancelled brackets of trades (they leave with their trade, as they do while the trade is open).

use super::ids::{leg_id, tv_order_id};
use super::model::{Order, OrderState, OrderType, Transaction, TransactionType};
use super::orders::{entry_order, leg_of};
use super::{side_of, unix_secs};
use crate::backends::oanda::catalog::AccountCatalog;
use crate::backends::oanda::v20::errors;
use crate::tv::{self, InfoMessage, MessageType, OrderStatus, ParentType};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};

/// What the bridge needs from the transaction that filled or cancelled an order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TxFacts {
    pub instrument: Option<String>,
    /// Signed units filled.
    pub units: Option<Decimal>,
    /// Average fill price.
    pub price: Option<Decimal>,
    /// `OrderCancelReason` of a cancellation.
    pub reason: Option<String>,
}

/// The facts of an `ORDER_FILL` or `ORDER_CANCEL` transaction.
pub fn facts_of(tx: &Transaction) -> TxFacts {
    match tx.kind {
        TransactionType::OrderFill => TxFacts {
            instrument: tx.instrument.clone(),
            units: tx.units,
            price: fill_price(tx),
            reason: None,
        },
        _ => TxFacts {
            instrument: tx.instrument.clone(),
            reason: tx.reason.clone(),
            ..Default::default()
        },
    }
}

/// The average price of a fill: the unit-weighted price of the trades it opened, reduced and closed (the
/// official prices), else the deprecated `price` field.
pub fn fill_price(tx: &Transaction) -> Option<Decimal> {
    let parts = tx
        .trade_opened
        .iter()
        .map(|t| (t.units, t.price))
        .chain(tx.trade_reduced.iter().map(|t| (t.units, t.price)))
        .chain(tx.trades_closed.iter().map(|t| (t.units, t.price)));
    let (mut volume, mut value) = (Decimal::ZERO, Decimal::ZERO);
    for (units, price) in parts {
        let (Some(u), Some(p)) = (units, price) else {
            continue;
        };
        volume += u.abs();
        value += u.abs() * p;
    }
    if volume > Decimal::ZERO {
        value
            .checked_div(volume)
            .map(|p| p.round_dp(8).normalize())
            .or(tx.price)
    } else {
        tx.price
    }
}

/// When an order reached its final state.
pub fn final_time(o: &Order) -> Option<DateTime<Utc>> {
    o.filled_time
        .as_deref()
        .or(o.cancelled_time.as_deref())
        .and_then(super::model::parse_time)
}

/// The transaction whose facts a final order needs (filling or cancelling).
pub fn facts_id(o: &Order) -> Option<&str> {
    match o.state {
        OrderState::Filled | OrderState::Triggered => o.filling_transaction_id.as_deref(),
        OrderState::Cancelled => o.cancelling_transaction_id.as_deref(),
        _ => None,
    }
}

/// Whether a final order is shown at all (see the module doc), and reached its state at or after `since`.
pub fn is_shown(o: &Order, since: Option<DateTime<Utc>>) -> bool {
    let state_ok = match o.state {
        OrderState::Filled | OrderState::Triggered => true,
        OrderState::Cancelled => o.replaced_by_order_id.is_none() && !o.kind.is_dependent(),
        _ => false,
    };
    let kind_ok = match o.kind {
        OrderType::Market => !o.is_closing_market_order(),
        OrderType::FixedPrice => false,
        _ => true,
    };
    let time_ok = match since {
        Some(since) => final_time(o).is_some_and(|t| t >= since),
        None => true,
    };
    state_ok && kind_ok && time_ok
}

/// The transactions whose facts the shown final orders need.
pub fn needed_facts(orders: &[Order], since: Option<DateTime<Utc>>) -> Vec<String> {
    orders
        .iter()
        .filter(|o| is_shown(o, since))
        .filter_map(|o| facts_id(o).map(str::to_string))
        .collect()
}

/// Facts per transaction id: `Some` when read, `None` when they cannot be read (the order is then shown
/// without them); an id that is absent has not been read yet.
pub type FactsMap = HashMap<String, Option<TxFacts>>;

/// The final orders TradingView sees, newest first. `hide` holds ids already shown as pending (a pending
/// order wins over a final one of the same id). With `wait_for_facts`, an order whose facts have not been
/// read yet is left out (it appears once they are) rather than shown with a status that could still
/// change from cancelled to rejected.
pub fn final_orders(
    orders: &[Order],
    facts: &FactsMap,
    catalog: &AccountCatalog,
    since: Option<DateTime<Utc>>,
    hide: &HashSet<String>,
    wait_for_facts: bool,
) -> Vec<tv::Order> {
    let mut shown: Vec<(Option<DateTime<Utc>>, tv::Order)> = Vec::new();
    let mut seen = hide.clone();
    let mut ordered: Vec<&Order> = orders.iter().filter(|o| is_shown(o, since)).collect();
    // Newest first, so that of two orders with one TradingView id the newer one is kept.
    ordered.sort_by_key(|o| std::cmp::Reverse((final_time(o), o.id.parse::<u64>().unwrap_or(0))));
    for o in ordered {
        let fact = match facts_id(o).map(|id| facts.get(id)) {
            // Read, or given up on (`None`): shown with what is known.
            Some(Some(known)) => known.as_ref(),
            // Not read yet.
            Some(None) if wait_for_facts => continue,
            Some(None) | None => None,
        };
        let Some(order) = final_order(o, fact, catalog) else {
            continue;
        };
        if seen.insert(order.id.clone()) {
            shown.push((final_time(o), order));
        }
    }
    shown.into_iter().map(|(_, o)| o).collect()
}

/// One final order.
fn final_order(o: &Order, fact: Option<&TxFacts>, catalog: &AccountCatalog) -> Option<tv::Order> {
    let t = final_time(o).map(|t| t.timestamp());
    let mut out = if o.kind.is_dependent() {
        filled_leg(o, fact?, catalog)?
    } else {
        entry_order(o, catalog, OrderStatus::Filled)?
    };
    out.last_modified = t.or(out.last_modified);
    match o.state {
        OrderState::Filled | OrderState::Triggered => {
            out.status = OrderStatus::Filled;
            out.filled_qty = Some(fact.and_then(|f| f.units).map(|u| u.abs()).unwrap_or(out.qty));
            out.avg_price = fact.and_then(|f| f.price);
        }
        _ => {
            let reason = fact.and_then(|f| f.reason.as_deref());
            out.status = match reason {
                Some(r) if errors::is_rejection(r) => OrderStatus::Rejected,
                _ => OrderStatus::Cancelled,
            };
            out.message = reason.map(|r| InfoMessage {
                text: errors::cancel_reason(r),
                kind: if out.status == OrderStatus::Rejected {
                    MessageType::Error
                } else {
                    MessageType::Information
                },
            });
        }
    }
    Some(out)
}

/// A filled bracket of a trade: its fill says the instrument and the quantity the order itself lacks.
fn filled_leg(o: &Order, fact: &TxFacts, catalog: &AccountCatalog) -> Option<tv::Order> {
    let leg = leg_of(o.kind)?;
    let trade = o.trade_id.as_deref()?;
    let units = fact.units?;
    let instrument = fact.instrument.as_deref()?;
    let t = o.create_time.as_deref().and_then(unix_secs);
    let kind = match leg {
        super::ids::Leg::TakeProfit => tv::OrderType::Limit,
        _ => tv::OrderType::Stop,
    };
    let mut out = tv::Order::new(
        leg_id(trade, leg),
        catalog.symbol(instrument),
        units.abs(),
        side_of(units),
        kind,
        OrderStatus::Filled,
        t.unwrap_or_default(),
    );
    match kind {
        tv::OrderType::Limit => out.limit_price = o.price,
        _ => out.stop_price = o.price.or(o.trailing_stop_value),
    }
    out.is_trailing_stop = (o.kind == OrderType::TrailingStopLoss).then_some(true);
    out.is_guaranteed_stop =
        (o.kind == OrderType::GuaranteedStopLoss || o.guaranteed == Some(true)).then_some(true);
    out.parent_id = Some(trade.to_string());
    out.parent_type = Some(ParentType::Position);
    Some(out)
}

/// The TradingView id a final order is shown under (for tests and lookups).
pub fn final_id(o: &Order) -> Option<String> {
    match leg_of(o.kind) {
        Some(leg) => o.trade_id.as_deref().map(|t| leg_id(t, leg)),
        None => Some(tv_order_id(o)),
    }
}
