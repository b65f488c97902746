//! The stop loss and take profit of positions and of working orders on IBKR: finding them among the live
//! orders, and the steps ([`plan`]) that bring them to what TradingView asked for.
//!
//! A position's brackets are two opposite orders for its size, sent together in one submission with
//! `isSingleGroup` (IBKR's group of orders of which one filling cancels the others), found again by their
//! `cOID` ([`position_leg_coid`]); the working children of the order that opened the position count as
//! its brackets too. A working order's brackets are its children (`parentId` = the parent's `cOID`).
//! The parent is never put in a group with its children: its own fill would cancel its protection.

use super::convert::orders::{
    child_coid, child_leg, kind_of, leg_ticket, position_leg, position_leg_coid, status, Leg, LegSeed, Target,
};
use super::model::orders::{LiveOrder, OrderStatus, OrderTicket};
use super::orders::{place, Write};
use super::trading::Desk;
use crate::broker::{BrokerError, BrokerResult};
use crate::tv;
use rust_decimal::Decimal;

/// A leg resting at IBKR: its order id, level and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub order_id: String,
    pub price: Decimal,
    pub qty: Decimal,
}

/// One value per leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Legs<T> {
    pub take_profit: Option<T>,
    pub stop_loss: Option<T>,
}

impl<T> Default for Legs<T> {
    fn default() -> Self {
        Legs {
            take_profit: None,
            stop_loss: None,
        }
    }
}

impl<T> Legs<T> {
    pub fn get(&self, leg: Leg) -> Option<&T> {
        match leg {
            Leg::TakeProfit => self.take_profit.as_ref(),
            Leg::StopLoss => self.stop_loss.as_ref(),
        }
    }

    fn slot(&mut self, leg: Leg) -> &mut Option<T> {
        match leg {
            Leg::TakeProfit => &mut self.take_profit,
            Leg::StopLoss => &mut self.stop_loss,
        }
    }
}

/// How legs placed at different times are tied together at IBKR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tie {
    /// A position's legs: only orders submitted in one array with `isSingleGroup` cancel each other, so a
    /// leg added beside a resting one is sent again with it as a new pair.
    Group,
    /// An order's children: IBKR ties every child of one parent (see README, Known gaps).
    Parent,
}

/// One change at IBKR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Cancel {
        leg: Leg,
        order_id: String,
    },
    Modify {
        leg: Leg,
        order_id: String,
        price: Decimal,
        qty: Decimal,
    },
    /// New legs, sent in one submission.
    Place(Vec<(Leg, Decimal)>),
}

/// The steps from the `held` legs to the `wanted` ones, each for `qty`: cancellations and changes first,
/// then what is placed. Nothing when they already agree, so a resent request changes nothing.
pub fn plan(held: &Legs<Held>, wanted: &tv::Brackets, qty: Decimal, tie: Tie) -> Vec<Step> {
    let missing: Vec<(Leg, Decimal)> = Leg::BOTH
        .into_iter()
        .filter(|l| held.get(*l).is_none())
        .filter_map(|l| l.wanted(wanted).map(|p| (l, p)))
        .collect();
    // One leg added beside a resting one: both go again as one group, or they would not cancel each other.
    let regroup = tie == Tie::Group
        && missing.len() == 1
        && Leg::BOTH
            .into_iter()
            .any(|l| held.get(l).is_some() && l.wanted(wanted).is_some());
    let mut steps = Vec::new();
    let mut place = missing;
    for leg in Leg::BOTH {
        let Some(h) = held.get(leg) else { continue };
        match leg.wanted(wanted) {
            None => steps.push(Step::Cancel {
                leg,
                order_id: h.order_id.clone(),
            }),
            Some(price) if regroup => {
                steps.push(Step::Cancel {
                    leg,
                    order_id: h.order_id.clone(),
                });
                place.push((leg, price));
            }
            Some(price) if price != h.price || qty != h.qty => steps.push(Step::Modify {
                leg,
                order_id: h.order_id.clone(),
                price,
                qty,
            }),
            Some(_) => {}
        }
    }
    if !place.is_empty() {
        place.sort_by_key(|(l, _)| Leg::BOTH.iter().position(|b| b == l));
        steps.push(Step::Place(place));
    }
    steps
}

/// Whether an order still rests at IBKR (a cancel requested counts as gone: it is on its way out).
fn resting(o: &LiveOrder) -> bool {
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

    fn next(&self, leg: Leg) -> u32 {
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
pub fn of_position(live: &[LiveOrder], account: &str, conid: i64, side: tv::Side) -> BrokerResult<Found> {
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
    let closing = super::convert::orders::side(side.opposite());
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

/// What the placed legs protect and how they are tied.
pub enum Protects<'a> {
    /// A position: its size and average price (the `cOID`s' seed).
    Position { avg_price: Decimal },
    /// A working order, by its `cOID`.
    Order { parent_coid: &'a str },
}

/// Where the legs go: the account, the contract and the side they protect.
pub struct Scope<'a> {
    pub account: &'a str,
    pub conid: i64,
    pub side: tv::Side,
    pub qty: Decimal,
    pub protects: Protects<'a>,
}

impl Desk<'_> {
    /// Carries out `steps` in order; the first failure stops them and is told with what it was doing.
    pub async fn apply(&self, scope: &Scope<'_>, found: &Found, steps: &[Step]) -> BrokerResult<()> {
        for (i, step) in steps.iter().enumerate() {
            let done = match step {
                Step::Cancel { order_id, .. } => self.cancel(scope.account, order_id).await,
                Step::Modify {
                    leg,
                    order_id,
                    price,
                    qty,
                } => {
                    let o = found
                        .resting
                        .get(*leg)
                        .ok_or_else(|| BrokerError::Internal(format!("leg {order_id} vanished")))?;
                    let mut change = tv::ModifyOrder {
                        qty: Some(*qty),
                        limit_price: None,
                        stop_price: None,
                        duration: None,
                        brackets: tv::Brackets::default(),
                    };
                    match leg {
                        Leg::StopLoss => change.stop_price = Some(*price),
                        Leg::TakeProfit => change.limit_price = Some(*price),
                    }
                    self.modify_live(scope.account, o, &change).await
                }
                Step::Place(legs) => self.place_legs(scope, found, legs).await,
            };
            done.map_err(|e| in_step(e, step, &steps[..i]))?;
        }
        Ok(())
    }

    /// Sends new legs in one submission: a position's pair as one group, an order's as its children.
    async fn place_legs(
        &self,
        scope: &Scope<'_>,
        found: &Found,
        legs: &[(Leg, Decimal)],
    ) -> BrokerResult<()> {
        let mut tickets: Vec<OrderTicket> = Vec::new();
        for (leg, price) in legs {
            let coid = match scope.protects {
                Protects::Position { avg_price } => {
                    let seed = LegSeed {
                        price: *price,
                        qty: scope.qty,
                        avg_price,
                    };
                    position_leg_coid(scope.account, scope.conid, *leg, seed, found.next(*leg))
                }
                Protects::Order { parent_coid } => child_coid(parent_coid, *leg, found.next(*leg)),
            };
            let target = Target {
                account: scope.account,
                conid: scope.conid,
                coid: &coid,
                outside_rth: self.outside_rth,
            };
            let mut t = leg_ticket(&target, scope.side, scope.qty, *leg, *price);
            match scope.protects {
                Protects::Position { .. } if legs.len() > 1 => t.is_single_group = Some(true),
                Protects::Position { .. } => {}
                Protects::Order { parent_coid } => t.parent_id = Some(parent_coid.to_string()),
            }
            tickets.push(t);
        }
        let first = tickets.first().and_then(|t| t.c_oid.clone()).unwrap_or_default();
        let write = Write {
            account: scope.account,
            coid: Some(&first),
            what: "placing the brackets",
        };
        let coids: Vec<String> = tickets.iter().filter_map(|t| t.c_oid.clone()).collect();
        let ids = match place(self.gateway, write, self.allow, tickets).await {
            Ok(ids) => ids,
            Err(BrokerError::Rejected(text)) => {
                // A resend whose first placement IBKR did not list yet gets its `cOID`s refused as used:
                // legs resting under them are that placement, and nothing is missing.
                let live = self.live_orders(scope.account).await.unwrap_or_default();
                let rest = |c: &String| live.iter().any(|o| resting(o) && o.order_ref.as_ref() == Some(c));
                if !coids.iter().all(rest) {
                    return Err(BrokerError::Rejected(text));
                }
                tracing::info!(account = scope.account, coid = %first, "IBKR bracket legs already resting under their cOIDs");
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        tracing::info!(account = scope.account, conid = scope.conid, coid = %first, order_ids = ?ids, "IBKR bracket legs placed");
        Ok(())
    }
}

/// The leg's name in a message.
fn name(leg: Leg) -> &'static str {
    match leg {
        Leg::StopLoss => "stop loss",
        Leg::TakeProfit => "take profit",
    }
}

/// A step in words: what it does (`"Cancelling"`) or did (`"cancelled"`).
fn describe(step: &Step, done: bool) -> String {
    let (verb, legs): (&str, Vec<Leg>) = match step {
        Step::Cancel { leg, .. } => (if done { "cancelled" } else { "Cancelling" }, vec![*leg]),
        Step::Modify { leg, .. } => (if done { "changed" } else { "Changing" }, vec![*leg]),
        Step::Place(legs) => (
            if done { "placed" } else { "Placing" },
            legs.iter().map(|(l, _)| *l).collect(),
        ),
    };
    let legs: Vec<&str> = legs.into_iter().map(name).collect();
    format!("{verb} the {}", legs.join(" and "))
}

/// A step's failure, saying which step it was and what was done before it (the brackets are then half
/// changed: the user must know, e.g. that a stop loss was cancelled and its replacement not placed).
fn in_step(e: BrokerError, step: &Step, before: &[Step]) -> BrokerError {
    let what = describe(step, false);
    let done = if before.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = before.iter().map(|s| describe(s, true)).collect();
        format!(
            " (already done: {}; check the brackets before trying again)",
            list.join(", ")
        )
    };
    match e {
        BrokerError::Rejected(text) => BrokerError::Rejected(format!("{what} failed: {text}{done}")),
        BrokerError::Unauthorized(_) | BrokerError::LogInAgain(_) => e,
        other if !before.is_empty() => BrokerError::Rejected(format!("{what} failed: {other}{done}")),
        other => other,
    }
}

#[cfg(test)]
#[path = "legs_tests.rs"]
mod tests;
