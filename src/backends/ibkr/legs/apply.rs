//! Carrying the steps out at IBKR: cancels, changes, and new legs in one submission (a position's pair as
//! one group, an order's as its children); a failure names its step and what was done before it.

use super::find::{resting, Found};
use super::plan::Step;
use crate::backends::ibkr::convert::orders::{
    child_coid, leg_ticket, position_leg_coid, Leg, LegSeed, Target,
};
use crate::backends::ibkr::model::orders::OrderTicket;
use crate::backends::ibkr::orders::{place, Write};
use crate::backends::ibkr::trading::Desk;
use crate::broker::{BrokerError, BrokerResult};
use crate::tv;
use rust_decimal::Decimal;

/// What the placed legs protect and how they are tied.
pub enum Protects<'a> {
    /// A position, by its average price (with the size and the level, what a leg's `cOID` is made of).
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
pub(super) fn in_step(e: BrokerError, step: &Step, before: &[Step]) -> BrokerError {
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
