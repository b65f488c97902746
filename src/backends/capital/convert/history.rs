//! Capital.com activity history (`/history/activity?detailed=true`) as TradingView executions and
//! finished orders.
//!
//! What the activities mean, as far as the official examples show: a deal that opens, adds to, reduces or
//! closes a position is a `POSITION` activity with status `ACCEPTED` and `details` (level, size, direction);
//! this is also how a working order's fill and a triggered stop (`source` `SL`/`TP`/`CLOSE_OUT`) appear. The
//! `WORKING_ORDER` activities are the order's own lifecycle (created, accepted, cancelled, expired), so they
//! are never counted as fills, which would double them. Activities carry no description, so a fill is a
//! close when a stop, a take profit or a close-out caused it, or when an older fill of the same deal went the
//! other way; the opening fill of a deal older than the window cannot be seen, so such a close by the user
//! reads as an opening.

use super::model::{Activity, ActivitySource, ActivityStatus, ActivityType};
use super::positions::side;
use super::unix_secs;
use crate::tv::{self, InfoMessage, MessageType, OrderStatus, Side};
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};

/// What one activity is for TradingView.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Fill,
    Cancelled { expired: bool },
    Rejected,
    Ignored,
}

fn role(a: &Activity) -> Role {
    match (a.activity_type, a.status) {
        (ActivityType::Position, ActivityStatus::Accepted | ActivityStatus::Executed) => Role::Fill,
        (ActivityType::WorkingOrder, ActivityStatus::Cancelled) => Role::Cancelled { expired: false },
        (ActivityType::WorkingOrder, ActivityStatus::Expired) => Role::Cancelled { expired: true },
        (ActivityType::Position | ActivityType::WorkingOrder, ActivityStatus::Rejected) => Role::Rejected,
        // Stop/limit edits the system makes by itself (and rejects, as the official examples show many
        // times) are not the user's orders; only the user's own rejected edits are reported.
        (ActivityType::EditStopAndLimit, ActivityStatus::Rejected) => match a.source {
            Some(ActivitySource::User) => Role::Rejected,
            Some(
                ActivitySource::CloseOut
                | ActivitySource::Dealer
                | ActivitySource::Sl
                | ActivitySource::System
                | ActivitySource::Tp
                | ActivitySource::Unknown,
            )
            | None => Role::Ignored,
        },
        // Creations, amendments and rejected amendments of orders that stay alive, swaps, system
        // entries and anything this bridge does not know are not finished orders nor fills.
        (
            ActivityType::Position
            | ActivityType::WorkingOrder
            | ActivityType::EditStopAndLimit
            | ActivityType::Swap
            | ActivityType::System
            | ActivityType::Unknown,
            _,
        ) => Role::Ignored,
    }
}

/// One fill, with the ids both views use.
struct Fill<'a> {
    /// Index of the activity in the input.
    index: usize,
    activity: &'a Activity,
    symbol: String,
    time: i64,
    price: Decimal,
    qty: Decimal,
    side: Side,
    is_close: bool,
    /// The fill's order id: dealReference (else dealId), `.close` added for a closing fill, made unique.
    id: String,
}

/// Whether the source alone makes a fill a close.
fn closing_source(source: Option<ActivitySource>) -> bool {
    match source {
        Some(ActivitySource::Sl | ActivitySource::Tp | ActivitySource::CloseOut) => true,
        Some(
            ActivitySource::User | ActivitySource::Dealer | ActivitySource::System | ActivitySource::Unknown,
        )
        | None => false,
    }
}

/// The id of what an activity is about: its dealReference, else its dealId, else its time.
fn base_id(a: &Activity) -> String {
    a.details
        .as_ref()
        .and_then(|d| d.deal_reference.clone())
        .or_else(|| a.deal_id.clone())
        .unwrap_or_else(|| format!("activity.{}", a.date_utc))
}

/// `id`, or `id-2`, `id-3`... when already used.
fn unique(id: String, used: &mut HashSet<String>) -> String {
    let mut candidate = id.clone();
    let mut n = 2;
    while used.contains(&candidate) {
        candidate = format!("{id}-{n}");
        n += 1;
    }
    used.insert(candidate.clone());
    candidate
}

/// The fills among `activities` (newest first, as given), walked oldest first so that a deal's opening
/// is seen before its close and ids stay stable as newer activities arrive.
fn fills<'a>(activities: &'a [Activity], symbol_of: &dyn Fn(&str) -> Option<String>) -> Vec<Fill<'a>> {
    let mut opened: HashMap<&str, Side> = HashMap::new();
    let mut used = HashSet::new();
    let mut out = Vec::new();
    for (index, a) in activities.iter().enumerate().rev() {
        if role(a) != Role::Fill {
            continue;
        }
        let Some(d) = &a.details else { continue };
        let (Some(side), Some(price), Some(qty)) = (d.direction.and_then(side), d.level, d.size) else {
            continue;
        };
        let (Some(symbol), Some(time)) = (a.epic.as_deref().and_then(symbol_of), unix_secs(&a.date_utc))
        else {
            continue;
        };
        if qty <= Decimal::ZERO {
            continue;
        }
        let opening_side = a.deal_id.as_deref().and_then(|id| opened.get(id).copied());
        let is_close = closing_source(a.source) || opening_side == Some(side.opposite());
        if let Some(id) = a.deal_id.as_deref() {
            opened
                .entry(id)
                .or_insert(if is_close { side.opposite() } else { side });
        }
        let base = base_id(a);
        let id = unique(if is_close { format!("{base}.close") } else { base }, &mut used);
        out.push(Fill {
            index,
            activity: a,
            symbol,
            time,
            price,
            qty,
            side,
            is_close,
            id,
        });
    }
    out.reverse();
    out
}

/// Executions, newest first: one per fill (see the module notes), price = `details.level`, qty =
/// `details.size`, order id = the fill's order id (dealReference, else dealId; `.close` added for closing
/// fills so that they stay distinct from the opening one in `/ordersHistory`), position id = dealId, time in
/// unix seconds. Activities of epics `symbol_of` does not map, and fills without level, size or direction,
/// are skipped.
pub fn executions(activities: &[Activity], symbol_of: &dyn Fn(&str) -> Option<String>) -> Vec<tv::Execution> {
    fills(activities, symbol_of)
        .into_iter()
        .map(|f| tv::Execution {
            id: f.id.clone(),
            instrument: f.symbol,
            price: f.price,
            time: f.time,
            qty: f.qty,
            side: f.side,
            order_id: f.id,
            is_close: f.is_close,
            position_id: f.activity.deal_id.clone(),
            commission: None,
        })
        .collect()
}

/// Finished orders, newest first: every fill as a filled order (a market order, or for a triggered stop a
/// stop order and for a take profit a limit order, at the fill level); cancelled and expired working orders
/// (id = dealId); rejected deals, working orders and the user's rejected stop/limit edits, with a message
/// saying what was refused (the activity carries no reason). The activities name no working-order type, so
/// cancelled and rejected working orders are shown as limit orders at their level.
pub fn orders_history(activities: &[Activity], symbol_of: &dyn Fn(&str) -> Option<String>) -> Vec<tv::Order> {
    let fills = fills(activities, symbol_of);
    let mut used: HashSet<String> = fills.iter().map(|f| f.id.clone()).collect();
    let mut out: Vec<(usize, tv::Order)> = fills.into_iter().map(|f| (f.index, filled(f))).collect();
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

fn filled(f: Fill<'_>) -> tv::Order {
    let kind = match f.activity.source {
        Some(ActivitySource::Sl) => tv::OrderType::Stop,
        Some(ActivitySource::Tp) => tv::OrderType::Limit,
        Some(
            ActivitySource::CloseOut
            | ActivitySource::Dealer
            | ActivitySource::System
            | ActivitySource::User
            | ActivitySource::Unknown,
        )
        | None => tv::OrderType::Market,
    };
    let mut o = tv::Order::new(f.id, f.symbol, f.qty, f.side, kind, OrderStatus::Filled, f.time);
    o.filled_qty = Some(f.qty);
    o.avg_price = Some(f.price);
    match kind {
        tv::OrderType::Stop => o.stop_price = Some(f.price),
        tv::OrderType::Limit => o.limit_price = Some(f.price),
        tv::OrderType::Market | tv::OrderType::StopLimit => {}
    }
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
        (_, ActivityType::Position) => (
            format!("{}.rejected", base_id(a)),
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
            format!("{}.rejected", base_id(a)),
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
