//! Finding a position's legs and an order's children among IBKR's live orders.

use super::{Held, Legs};
use crate::backends::ibkr::convert::orders::{child_leg, kind_of, position_leg, side, status, Leg};
use crate::backends::ibkr::model::orders::{LiveOrder, OrderStatus};
use crate::broker::{BrokerError, BrokerResult};
use crate::tv;
use rust_decimal::Decimal;

/// Whether an order still rests at IBKR (a cancel requested counts as gone: it is on its way out).
pub(super) fn resting(o: &LiveOrder) -> bool {
    o.status != OrderStatus::PendingCancel && status(o.status).is_some_and(|s| !s.is_final())
}

/// The leg's level as the live order shows it (a stop's trigger may be in `auxPrice`).
fn level(o: &LiveOrder, leg: Leg) -> Option<Decimal> {
    match leg {
        Leg::StopLoss => o.aux_price.or(o.price).map(|n| n.0),
        Leg::TakeProfit => o.price.map(|n| n.0),
    }
}

/// The leg a resting order is, by its `cOID` when it names one, else by its type.
fn leg_by_type(o: &LiveOrder) -> Option<Leg> {
    o.order_type.as_deref().and_then(kind_of).and_then(Leg::of_kind)
}

/// Puts `o` in its slot; a second order for the same leg is refused rather than guessed at.
fn keep(found: &mut Legs<LiveOrder>, leg: Leg, o: &LiveOrder, whose: &str) -> BrokerResult<()> {
    let slot = found.slot(leg);
    if let Some(first) = slot {
        let what = match leg {
            Leg::StopLoss => "stop losses",
            Leg::TakeProfit => "take profits",
        };
        return Err(BrokerError::Rejected(format!(
            "{whose} has two {what} at IBKR (orders {} and {}): cancel one before changing its brackets",
            first.order_id.0, o.order_id.0
        )));
    }
    *slot = Some(o.clone());
    Ok(())
}

/// What [`of_position`] and [`of_order`] found: the resting legs and, per leg, the generation the next
/// `cOID` takes.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub resting: Legs<LiveOrder>,
    pub next: Legs<u32>,
}

impl Found {
    /// The resting legs as levels and sizes.
    pub fn held(&self) -> Legs<Held> {
        let mut out = Legs::default();
        for leg in Leg::BOTH {
            if let Some(o) = self.resting.get(leg) {
                *out.slot(leg) = Some(Held {
                    order_id: o.order_id.0.to_string(),
                    price: level(o, leg).unwrap_or_default(),
                    qty: o.total_size.map(|n| n.0).unwrap_or_default(),
                });
            }
        }
        out
    }

    pub(super) fn next(&self, leg: Leg) -> u32 {
        self.next.get(leg).copied().unwrap_or_default()
    }

    fn saw(&mut self, leg: Leg, generation: u32) {
        let slot = self.next.slot(leg);
        *slot = Some(slot.unwrap_or_default().max(generation + 1));
    }
}

/// The orders of `account` in `conid` among `live` that rest to protect its position, on whichever side:
/// its legs (by `cOID`) and the resting children of filled orders (their parent opened the position),
/// each with the leg it is.
pub fn protecting<'a>(live: &'a [LiveOrder], account: &str, conid: i64) -> Vec<(Leg, &'a LiveOrder)> {
    let mine = |o: &&LiveOrder| o.conid.0 == conid && o.acct.as_deref().is_none_or(|a| a == account);
    let filled: Vec<Decimal> = live
        .iter()
        .filter(mine)
        .filter(|o| o.status == OrderStatus::Filled)
        .map(|o| o.order_id.0)
        .collect();
    live.iter()
        .filter(mine)
        .filter(|o| resting(o))
        .filter_map(|o| {
            let by_coid = o
                .order_ref
                .as_deref()
                .and_then(|r| position_leg(r, account, conid));
            let child_of_filled = o.parent_id.is_some_and(|p| filled.contains(&p.0));
            match by_coid {
                Some((leg, _)) => Some((leg, o)),
                None if child_of_filled => leg_by_type(o).map(|leg| (leg, o)),
                None => None,
            }
        })
        .collect()
}

/// The brackets of the `side` position of `account` in `conid` among `live` (see [`protecting`]; legs on
/// the other side are not this position's).
pub fn of_position(live: &[LiveOrder], account: &str, conid: i64, tv_side: tv::Side) -> BrokerResult<Found> {
    let mut found = Found::default();
    for o in live.iter().filter(|o| o.conid.0 == conid) {
        if let Some((leg, generation)) = o
            .order_ref
            .as_deref()
            .and_then(|r| position_leg(r, account, conid))
        {
            found.saw(leg, generation);
        }
    }
    let closing = side(tv_side.opposite());
    for (leg, o) in protecting(live, account, conid) {
        if o.side.eq_ignore_ascii_case(closing) {
            keep(&mut found.resting, leg, o, "The position")?;
        }
    }
    Ok(found)
}

/// The children of working order `parent` among `live` (by `parentId`, or by a `cOID` made from the
/// parent's).
pub fn of_order(live: &[LiveOrder], parent: &LiveOrder) -> BrokerResult<Found> {
    let parent_coid = parent.order_ref.as_deref().filter(|r| !r.is_empty());
    let mut found = Found::default();
    for o in live.iter().filter(|o| o.order_id.0 != parent.order_id.0) {
        let by_coid = parent_coid.and_then(|p| o.order_ref.as_deref().and_then(|r| child_leg(r, p)));
        if let Some((leg, generation)) = by_coid {
            found.saw(leg, generation);
        }
        let linked = o.parent_id.is_some_and(|p| p.0 == parent.order_id.0);
        if !resting(o) || !(linked || by_coid.is_some()) {
            continue;
        }
        if let Some(leg) = by_coid.map(|(l, _)| l).or_else(|| leg_by_type(o)) {
            keep(&mut found.resting, leg, o, "The order")?;
        }
    }
    Ok(found)
}
