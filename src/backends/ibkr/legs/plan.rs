//! The steps from the legs IBKR holds to the ones TradingView asked for.

use super::{Held, Legs};
use crate::backends::ibkr::convert::orders::Leg;
use crate::tv;
use rust_decimal::Decimal;

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
