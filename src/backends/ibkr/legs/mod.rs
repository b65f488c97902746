//! The stop loss and take profit of positions and of working orders on IBKR: finding them among the live
//! orders, and the steps ([`plan`]) that bring them to what TradingView asked for.
//!
//! A position's brackets are two opposite orders for its size, sent together in one submission with
//! `isSingleGroup` (IBKR's group of orders of which one filling cancels the others), found again by their
//! `cOID` (`convert::orders::position_leg_coid`); the working children of the order that opened the
//! position count as its brackets too. A working order's brackets are its children (`parentId` = the parent's `cOID`).
//! The parent is never put in a group with its children: its own fill would cancel its protection.
//!
//! `find` reads the legs out of IBKR's live orders, `plan` turns them and TradingView's request into
//! steps, `apply` carries the steps out on the trading desk.

mod apply;
mod find;
mod plan;

pub use apply::{Protects, Scope};
pub use find::{of_order, of_position, protecting};
pub use plan::{plan, Step, Tie};

use super::convert::orders::Leg;
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

    pub(super) fn slot(&mut self, leg: Leg) -> &mut Option<T> {
        match leg {
            Leg::TakeProfit => &mut self.take_profit,
            Leg::StopLoss => &mut self.stop_loss,
        }
    }
}

#[cfg(test)]
mod tests;
