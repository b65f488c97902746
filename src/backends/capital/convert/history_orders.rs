//! Capital.com activity history as TradingView's finished orders (`/ordersHistory`): the fills of
//! [`super::history`] gathered into their orders, cancelled and expired working orders, and rejections.

use super::history::{base_id, fills, role, unique, Fill, Role};
use super::model::{Activity, ActivitySource, ActivityStatus, ActivityType};
use super::positions::side;
use super::unix_secs;
use crate::tv::{self, InfoMessage, MessageType, OrderStatus, Side};
use rust_decimal::Decimal;
use std::collections::HashSet;

/// Finished orders, newest first: every order the fills belong to as a filled order (a market order; for a
/// triggered stop a stop order and for a take profit a limit order, at the fill level; a working order at its
/// level, a limit when it filled at or better than it, else a stop); cancelled and expired working orders
/// (id = dealId); rejected deals and working orders (id = their deal reference, as `placeOrder` answered)
/// and the user's rejected stop/limit edits, with a message saying what was refused (the activity carries
/// no reason). The activities name no working-order type, so cancelled and rejected working orders are
/// shown as limit orders at their level.
pub fn orders_history(activities: &[Activity], symbol_of: &dyn Fn(&str) -> Option<String>) -> Vec<tv::Order> {
    let fills = fills(activities, symbol_of);
    let mut used: HashSet<String> = fills.iter().map(|f| f.order_id.clone()).collect();
    let mut out: Vec<(usize, tv::Order)> = Vec::new();
    let mut done: HashSet<&str> = HashSet::new();
    for f in &fills {
        if !done.insert(f.order_id.as_str()) {
            continue;
        }
        let members: Vec<&Fill<'_>> = fills.iter().filter(|g| g.order_id == f.order_id).collect();
        // Newest first: `f` is the newest member.
        out.push((f.index, filled(&members)));
    }
    for (index, a) in activities.iter().enumerate().rev() {
        let status = match role(a) {
            Role::Cancelled { .. } => OrderStatus::Cancelled,
            Role::Rejected => OrderStatus::Rejected,
            Role::Fill | Role::Ignored => continue,
        };
        if let Some(order) = finished(a, status, symbol_of, &mut used) {
            out.push((index, order));
        }
    }
    out.sort_by_key(|(index, _)| *index);
    out.into_iter().map(|(_, o)| o).collect()
}

/// The filled order of `members` (one or more fills of one order, newest first).
fn filled(members: &[&Fill<'_>]) -> tv::Order {
    let first = members[0];
    let qty: Decimal = members.iter().map(|f| f.qty).sum();
    let value: Decimal = members.iter().map(|f| f.qty * f.price).sum();
    let avg = if qty.is_zero() {
        first.price
    } else {
        (value / qty).round_dp(10).normalize()
    };
    let working = members.iter().find_map(|f| f.working.clone());
    let (kind, limit, stop) = match (&working, first.activity.source) {
        (Some((_, level)), _) => {
            let level = level.unwrap_or(avg);
            // A limit fills at its level or better, a stop at its level or worse.
            let better = match first.side {
                Side::Buy => avg <= level,
                Side::Sell => avg >= level,
            };
            if better {
                (tv::OrderType::Limit, Some(level), None)
            } else {
                (tv::OrderType::Stop, None, Some(level))
            }
        }
        (None, Some(ActivitySource::Sl)) => (tv::OrderType::Stop, None, Some(first.price)),
        (None, Some(ActivitySource::Tp)) => (tv::OrderType::Limit, Some(first.price), None),
        (None, _) => (tv::OrderType::Market, None, None),
    };
    let mut o = tv::Order::new(
        first.order_id.clone(),
        first.symbol.clone(),
        qty,
        first.side,
        kind,
        OrderStatus::Filled,
        first.time,
    );
    o.filled_qty = Some(qty);
    o.avg_price = Some(avg);
    o.limit_price = limit;
    o.stop_price = stop;
    o
}

/// A cancelled, expired or rejected order; `None` without a mapped epic, a direction or a readable time.
fn finished(
    a: &Activity,
    status: OrderStatus,
    symbol_of: &dyn Fn(&str) -> Option<String>,
    used: &mut HashSet<String>,
) -> Option<tv::Order> {
    let d = a.details.as_ref()?;
    let side = d.direction.and_then(side)?;
    let symbol = a.epic.as_deref().and_then(symbol_of)?;
    let time = unix_secs(&a.date_utc)?;
    let qty = d.size.unwrap_or_default();
    let (id, kind, text) = match (status, a.activity_type) {
        (OrderStatus::Cancelled, _) => {
            let id = a.deal_id.clone().unwrap_or_else(|| base_id(a));
            let text = (a.status == ActivityStatus::Expired).then_some("The order expired.");
            (id, tv::OrderType::Limit, text)
        }
        // A rejected placement keeps the id `placeOrder` answered: its deal reference.
        (_, ActivityType::Position) => (
            base_id(a),
            tv::OrderType::Market,
            Some("Capital.com rejected this order."),
        ),
        (_, ActivityType::EditStopAndLimit) => (
            format!("{}.rejected", base_id(a)),
            if d.stop_level.is_some() {
                tv::OrderType::Stop
            } else {
                tv::OrderType::Limit
            },
            Some("Capital.com rejected this change of stop loss or take profit."),
        ),
        (_, _) => (
            base_id(a),
            tv::OrderType::Limit,
            Some("Capital.com rejected this order."),
        ),
    };
    let mut o = tv::Order::new(unique(id, used), symbol, qty, side, kind, status, time);
    match kind {
        tv::OrderType::Stop => o.stop_price = d.stop_level,
        tv::OrderType::Limit if a.activity_type == ActivityType::EditStopAndLimit => {
            o.limit_price = d.profit_level
        }
        tv::OrderType::Limit => o.limit_price = d.level,
        tv::OrderType::Market | tv::OrderType::StopLimit => {}
    }
    o.message = text.map(|text| InfoMessage {
        text: text.to_owned(),
        kind: if status == OrderStatus::Rejected {
            MessageType::Error
        } else {
            MessageType::Information
        },
    });
    Some(o)
}
