//! Capital.com activity history (`/history/activity?detailed=true`) as TradingView executions, with the
//! order each fill belongs to; [`super::history_orders`] turns the same fills into finished orders.
//!
//! What the activities mean, as far as the official examples show: a deal that opens, adds to, reduces or
//! closes a position is a `POSITION` activity with status `ACCEPTED` and `details` (level, size, direction);
//! this is also how a working order's fill and a triggered stop (`source` `SL`/`TP`/`CLOSE_OUT`) appear. The
//! `WORKING_ORDER` activities are the order's own lifecycle (created, accepted, cancelled, expired), so they
//! are never counted as fills, which would double them. Activities carry no description, so a fill is a
//! close when a stop, a take profit or a close-out caused it, or when an older fill of the same deal went the
//! other way; the opening fill of a deal older than the window cannot be seen, so such a close by the user
//! reads as an opening.
//!
//! One order keeps one id everywhere (`placeOrder`, `/orders`, `/executions`, `/ordersHistory`), and the id
//! is one the activity history alone gives back, so it survives a restart of the bridge:
//! - a market order is the deal it opened: its `dealId`; one that only reduced deals (netting) is its first
//!   closing fill (`<dealId>.close.<unix ms>`); the fills of one request (same time, epic, direction and
//!   source) are one order, so a reversal is one order under the id of the deal it opened;
//! - a working order keeps its own `dealId`: the fill it caused (source `SYSTEM`) is linked to the
//!   `WORKING_ORDER` activity at the same instant (`EXECUTED`, or `ACCEPTED` by the system);
//! - a triggered stop or take profit is the bracket order `/orders` listed: `<dealId>.sl` / `<dealId>.tp`.

use super::model::{Activity, ActivitySource, ActivityStatus, ActivityType};
use super::positions::side;
use super::{unix_ms, unix_secs};
use crate::tv::{self, Side};
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};

/// What one activity is for TradingView.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Fill,
    Cancelled { expired: bool },
    Rejected,
    Ignored,
}

pub(super) fn role(a: &Activity) -> Role {
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

/// One fill, with its own id and the order it belongs to.
pub(super) struct Fill<'a> {
    /// Index of the activity in the input.
    pub index: usize,
    pub activity: &'a Activity,
    pub symbol: String,
    pub time: i64,
    pub price: Decimal,
    pub qty: Decimal,
    pub side: Side,
    pub is_close: bool,
    /// The execution's id (see [`own_id`]).
    pub id: String,
    /// The id of the order the fill belongs to (see the module notes).
    pub order_id: String,
    /// The working order it filled, with that order's level, when linked.
    pub working: Option<(String, Option<Decimal>)>,
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

/// Fills of one request share an order: the user's deals and a working order's fill (a request can reduce
/// several deals and open one). Stops, take profits and close-outs are orders of their own.
fn groupable(source: Option<ActivitySource>) -> bool {
    matches!(source, Some(ActivitySource::User | ActivitySource::System))
}

/// The id of what an activity is about: its dealReference, else its dealId, else its time.
pub(super) fn base_id(a: &Activity) -> String {
    a.details
        .as_ref()
        .and_then(|d| d.deal_reference.clone())
        .or_else(|| a.deal_id.clone())
        .unwrap_or_else(|| format!("activity.{}", a.date_utc))
}

/// A fill's own id: the deal id of an opening fill; `<dealId>.sl` / `<dealId>.tp` for a triggered stop loss
/// or take profit (the bracket orders `/orders` listed); `<dealId>.close.<unix ms>` for another close, which
/// the same deal may see several times.
fn own_id(a: &Activity, is_close: bool) -> String {
    let deal = a
        .deal_id
        .clone()
        .unwrap_or_else(|| format!("activity.{}", a.date_utc));
    if !is_close {
        return deal;
    }
    match a.source {
        Some(ActivitySource::Sl) => format!("{deal}{}", super::STOP_LOSS_SUFFIX),
        Some(ActivitySource::Tp) => format!("{deal}{}", super::TAKE_PROFIT_SUFFIX),
        _ => format!("{deal}.close.{}", unix_ms(&a.date_utc).unwrap_or_default()),
    }
}

/// `id`, or `id-2`, `id-3`... when already used.
pub(super) fn unique(id: String, used: &mut HashSet<String>) -> String {
    let mut candidate = id.clone();
    let mut n = 2;
    while used.contains(&candidate) {
        candidate = format!("{id}-{n}");
        n += 1;
    }
    used.insert(candidate.clone());
    candidate
}

/// The working order a fill executed: a `WORKING_ORDER` activity of the same epic at the same instant that
/// is its execution (`EXECUTED`, or `ACCEPTED` by the system). Only fills the system made are linked: the
/// user's own deals are market orders.
fn working_order_of<'a>(activities: &'a [Activity], fill: &Activity) -> Option<&'a Activity> {
    if fill.source != Some(ActivitySource::System) {
        return None;
    }
    activities.iter().find(|w| {
        w.activity_type == ActivityType::WorkingOrder
            && w.epic == fill.epic
            && w.date_utc == fill.date_utc
            && w.deal_id.is_some()
            && (w.status == ActivityStatus::Executed
                || (w.status == ActivityStatus::Accepted && w.source == Some(ActivitySource::System)))
    })
}

/// The fills among `activities` (newest first, as given), walked oldest first so that a deal's opening
/// is seen before its close, each with the order it belongs to.
pub(super) fn fills<'a>(
    activities: &'a [Activity],
    symbol_of: &dyn Fn(&str) -> Option<String>,
) -> Vec<Fill<'a>> {
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
        let id = unique(own_id(a, is_close), &mut used);
        let working = working_order_of(activities, a).and_then(|w| {
            let level = w.details.as_ref().and_then(|d| d.level);
            w.deal_id.clone().map(|id| (id, level))
        });
        out.push(Fill {
            index,
            activity: a,
            symbol,
            time,
            price,
            qty,
            side,
            is_close,
            order_id: id.clone(),
            id,
            working,
        });
    }
    assign_orders(&mut out);
    out.reverse();
    out
}

/// Gives the fills of one request their order's id: the working order they executed, else the deal the
/// request opened, else its first close (the fills are in walk order, oldest first).
fn assign_orders(fills: &mut [Fill<'_>]) {
    let key = |f: &Fill<'_>| {
        groupable(f.activity.source).then(|| {
            (
                f.activity.epic.clone(),
                f.activity.date_utc.clone(),
                f.side,
                f.activity.source,
            )
        })
    };
    // The best id seen per request: a working order (3) over an opened deal (2) over a close (1); the
    // first of equal rank wins.
    let mut orders: HashMap<_, (u8, String)> = HashMap::new();
    for f in fills.iter() {
        let Some(k) = key(f) else { continue };
        let candidate = match &f.working {
            Some((w, _)) => (3, w.clone()),
            None if !f.is_close => (2, f.id.clone()),
            None => (1, f.id.clone()),
        };
        if orders.get(&k).is_none_or(|(rank, _)| *rank < candidate.0) {
            orders.insert(k, candidate);
        }
    }
    for f in fills.iter_mut() {
        if let Some((_, order)) = key(f).and_then(|k| orders.get(&k)) {
            f.order_id = order.clone();
        }
    }
}

/// Executions, newest first: one per fill (see the module notes), price = `details.level`, qty =
/// `details.size`, id = the fill's own id, order id = the order it belongs to, position id = dealId, time in
/// unix seconds. Activities of epics `symbol_of` does not map, and fills without level, size or direction,
/// are skipped.
pub fn executions(activities: &[Activity], symbol_of: &dyn Fn(&str) -> Option<String>) -> Vec<tv::Execution> {
    fills(activities, symbol_of)
        .into_iter()
        .map(|f| tv::Execution {
            id: f.id,
            instrument: f.symbol,
            price: f.price,
            time: f.time,
            qty: f.qty,
            side: f.side,
            order_id: f.order_id,
            is_close: f.is_close,
            position_id: f.activity.deal_id.clone(),
            commission: None,
        })
        .collect()
}

/// The id of the newest order of the user's that reduced deal `deal_id`: what `placeOrder` answers for a
/// market order that opened no deal, found in the activities that followed it.
pub fn reducing_order_id(
    activities: &[Activity],
    symbol_of: &dyn Fn(&str) -> Option<String>,
    deal_id: &str,
) -> Option<String> {
    fills(activities, symbol_of)
        .into_iter()
        .find(|f| {
            f.is_close
                && f.activity.deal_id.as_deref() == Some(deal_id)
                && f.activity.source == Some(ActivitySource::User)
        })
        .map(|f| f.order_id)
}
