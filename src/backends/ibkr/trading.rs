//! The trading actions on top of the reply loop: place (with bracket children), modify (with the
//! children's levels), cancel, the brackets of a position, and closing a position with an opposite market
//! order (its brackets following). Each logs one structured line upstream-side (the HTTP
//! layer writes the audit line).

use super::catalog::Table;
use super::convert::orders::{
    bracket_children, fresh_coid, is_position_leg, kind_of, only_stop_loss_and_take_profit, side_of, ticket,
    tif, Target,
};
use super::errors::to_broker;
use super::legs;
use super::model::orders::{LiveOrder, OrderStatus, OrderTicket};
use super::orders::{place, reply_loop, Write};
use super::session::Gateway;
use crate::broker::{BrokerError, BrokerResult};
use crate::tv;
use rust_decimal::Decimal;
use std::collections::HashSet;

/// What every trading action needs.
pub struct Desk<'a> {
    pub gateway: &'a Gateway,
    pub table: &'a Table,
    pub allow: &'a HashSet<String>,
    pub outside_rth: bool,
}

impl Desk<'_> {
    /// Places `order` (and its brackets) under `coid` (see [`super::convert::orders::coid`]); answers the
    /// parent's order id.
    pub async fn place(&self, account: &str, order: &tv::PlaceOrder, coid: &str) -> BrokerResult<String> {
        let conid = self.table.conid(&order.instrument)?;
        let coid = coid.to_string();
        let target = Target {
            account,
            conid,
            coid: &coid,
            outside_rth: self.outside_rth,
        };
        let parent = ticket(&target, order)?;
        let mut tickets = vec![parent.clone()];
        tickets.extend(bracket_children(&parent, &order.brackets)?);
        let write = Write {
            account,
            coid: Some(&coid),
            what: "placing the order",
        };
        let ids = place(self.gateway, write, self.allow, tickets).await?;
        tracing::info!(account, symbol = %order.instrument, coid = %coid, order_id = %ids[0], "IBKR order placed");
        Ok(ids[0].clone())
    }

    /// The account's orders as IBKR lists them now (read afresh: what a write acts on).
    pub async fn live_orders(&self, account: &str) -> BrokerResult<Vec<LiveOrder>> {
        let acct = account.to_string();
        let live = self
            .gateway
            .on_account(account, "reading orders", |api| {
                let acct = acct.clone();
                async move { api.live_orders(&acct).await }
            })
            .await?;
        Ok(live.orders)
    }

    /// Changes a working order: a bracket leg on its own (its level, from the price fields or from the
    /// bracket field of its kind); any other order's quantity, prices or duration, and then its children to
    /// the brackets TradingView sent (the complete set: one left out is cancelled).
    ///
    /// The orders are those of `recent` when given: a read that started less than 5 s ago and after the
    /// bridge's last write on the account (IBKR allows one read per 5 s, so a read of its own would wait
    /// for the one TradingView's last poll made). The order is changed by its id, and IBKR refuses to
    /// change one that stopped working; anything new (a bracket leg) is placed only on a read of its own,
    /// and an order `recent` does not hold is looked for in one.
    pub async fn modify_listed(
        &self,
        account: &str,
        order_id: &str,
        change: &tv::ModifyOrder,
        recent: Option<Vec<LiveOrder>>,
    ) -> BrokerResult<()> {
        let (mut live, mut fresh) = match recent {
            Some(listed) => (listed, false),
            None => (self.live_orders(account).await?, true),
        };
        loop {
            let found = live.iter().any(|o| o.order_id.0.to_string() == order_id);
            if fresh || found && !self.places_legs(&live, order_id, change)? {
                break;
            }
            live = self.live_orders(account).await?;
            fresh = true;
        }
        let o = live
            .iter()
            .find(|o| o.order_id.0.to_string() == order_id)
            .ok_or_else(|| BrokerError::NotFound(format!("Unknown order '{order_id}'")))?;
        let is_leg = o.parent_id.is_some_and(|p| !p.0.is_zero())
            || o.order_ref.as_deref().is_some_and(is_position_leg);
        if is_leg {
            let mut own = change.clone();
            own.limit_price = own.limit_price.or(change.brackets.take_profit);
            own.stop_price = own.stop_price.or(change.brackets.stop_loss);
            own.brackets = tv::Brackets::default();
            return self.modify_live(account, o, &own).await;
        }
        only_stop_loss_and_take_profit(&change.brackets)?;
        let found = legs::of_order(&live, o)?;
        let qty = qty_after(change, o)?;
        let steps = legs::plan(&found.held(), &change.brackets, qty, legs::Tie::Parent);
        let parent_coid = o.order_ref.as_deref().filter(|r| !r.is_empty());
        if steps.iter().any(|s| matches!(s, legs::Step::Place(_))) && parent_coid.is_none() {
            return Err(BrokerError::Rejected(
                "This order has no client order id at IBKR (it was not placed through the bridge), so brackets cannot be attached to it".into(),
            ));
        }
        if changes_order(o, change) {
            self.modify_live(account, o, change).await?;
        }
        if steps.is_empty() {
            return Ok(());
        }
        let side =
            side_of(&o.side).ok_or_else(|| BrokerError::Internal("the order's side is unknown".into()))?;
        let scope = legs::Scope {
            account,
            conid: o.conid.0,
            side,
            qty,
            protects: legs::Protects::Order {
                parent_coid: parent_coid.unwrap_or_default(),
            },
        };
        self.apply(&scope, &found, &steps).await?;
        tracing::info!(
            account,
            order_id,
            steps = steps.len(),
            "IBKR order brackets changed"
        );
        Ok(())
    }

    /// Whether modifying `order_id` (listed in `live`) as `change` asks would place a bracket leg.
    fn places_legs(
        &self,
        live: &[LiveOrder],
        order_id: &str,
        change: &tv::ModifyOrder,
    ) -> BrokerResult<bool> {
        let Some(o) = live.iter().find(|o| o.order_id.0.to_string() == order_id) else {
            return Ok(false);
        };
        let is_leg = o.parent_id.is_some_and(|p| !p.0.is_zero())
            || o.order_ref.as_deref().is_some_and(is_position_leg);
        if is_leg {
            return Ok(false);
        }
        let found = legs::of_order(live, o)?;
        let qty = qty_after(change, o)?;
        let steps = legs::plan(&found.held(), &change.brackets, qty, legs::Tie::Parent);
        Ok(steps.iter().any(|s| matches!(s, legs::Step::Place(_))))
    }

    /// Sets the stop loss and take profit of `position` (in `conid`) to `wanted`, the complete set: legs
    /// are changed, cancelled or placed (a new pair in one group) until IBKR holds exactly that.
    pub async fn set_position_brackets(
        &self,
        account: &str,
        conid: i64,
        position: &tv::Position,
        wanted: &tv::Brackets,
    ) -> BrokerResult<()> {
        only_stop_loss_and_take_profit(wanted)?;
        let live = self.live_orders(account).await?;
        let found = legs::of_position(&live, account, conid, position.side)?;
        let steps = legs::plan(&found.held(), wanted, position.qty, legs::Tie::Group);
        let scope = legs::Scope {
            account,
            conid,
            side: position.side,
            qty: position.qty,
            protects: legs::Protects::Position {
                avg_price: position.avg_price,
            },
        };
        self.apply(&scope, &found, &steps).await?;
        tracing::info!(account, position = %position.id, steps = steps.len(), stop_loss = ?wanted.stop_loss, take_profit = ?wanted.take_profit, "IBKR position brackets set");
        Ok(())
    }

    /// Changes the quantity, prices or duration of the working order `o` (its brackets are left alone).
    pub async fn modify_live(
        &self,
        account: &str,
        o: &LiveOrder,
        change: &tv::ModifyOrder,
    ) -> BrokerResult<()> {
        let order_id = o.order_id.0.to_string();
        let kind = o
            .order_type
            .as_deref()
            .and_then(kind_of)
            .ok_or_else(|| BrokerError::Internal("the order's type is unknown".into()))?;
        let side =
            side_of(&o.side).ok_or_else(|| BrokerError::Internal("the order's side is unknown".into()))?;
        let qty = qty_after(change, o)?;
        let current = |n: Option<super::model::Num>| n.map(|n| n.0);
        let mut place = tv::PlaceOrder::new("", side, kind, qty);
        place.limit_price = change.limit_price.or(match kind {
            tv::OrderType::Limit | tv::OrderType::StopLimit => current(o.price),
            _ => None,
        });
        place.stop_price = change.stop_price.or(match kind {
            tv::OrderType::Stop => current(o.aux_price).or(current(o.price)),
            tv::OrderType::StopLimit => current(o.aux_price),
            _ => None,
        });
        place.duration = change.duration.clone().or_else(|| {
            o.time_in_force.as_ref().map(|t| tv::OrderDuration {
                kind: t.to_ascii_uppercase(),
                datetime: None,
            })
        });
        let target = Target {
            account,
            conid: o.conid.0,
            coid: "",
            outside_rth: self.outside_rth,
        };
        let mut t: OrderTicket = ticket(&target, &place)?;
        // A modification names the order by its id in the path; no new client id.
        t.c_oid = None;
        t.tif = tif(place.duration.as_ref())?;
        let (acct, id) = (account.to_string(), order_id.clone());
        let first = self
            .gateway
            .raw(|api| {
                let (acct, id, t) = (acct.clone(), id.clone(), t.clone());
                async move { api.modify(&acct, &id, &t).await }
            })
            .await?;
        let write = Write {
            account,
            coid: None,
            what: "modifying the order",
        };
        reply_loop(self.gateway, write, self.allow, first).await?;
        tracing::info!(account, order_id = %order_id, "IBKR order modified");
        Ok(())
    }

    /// Cancels a working order.
    pub async fn cancel(&self, account: &str, order_id: &str) -> BrokerResult<()> {
        let (acct, id) = (account.to_string(), order_id.to_string());
        let answer = self
            .gateway
            .raw(|api| {
                let (acct, id) = (acct.clone(), id.clone());
                async move { api.cancel(&acct, &id).await }
            })
            .await?;
        match answer {
            Ok(a) => match a.error.filter(|e| !e.trim().is_empty()) {
                Some(e) => Err(BrokerError::Rejected(
                    super::errors::printable(&e).unwrap_or_default(),
                )),
                None => {
                    tracing::info!(account, order_id, "IBKR order cancel requested");
                    Ok(())
                }
            },
            Err(e) if e.is_ambiguous() => Err(BrokerError::Rejected(
                "IBKR did not confirm the cancellation: check the order before trying again".into(),
            )),
            Err(e) => Err(to_broker("cancelling the order", &e)),
        }
    }

    /// Closes `amount` (all when `None`) of `position` (in `conid`) with an opposite market order; once it
    /// filled, the position's brackets are cancelled (a whole close) or cut to what remains (a partial
    /// one), so that no leg outlives or outsizes the position it protected (a close that has not filled
    /// yet leaves them to the orphan sweep, see `orphans`).
    pub async fn close(
        &self,
        account: &str,
        conid: i64,
        position: &tv::Position,
        amount: Option<Decimal>,
    ) -> BrokerResult<String> {
        let qty = amount.unwrap_or(position.qty);
        if qty <= Decimal::ZERO || qty > position.qty {
            return Err(BrokerError::Rejected(format!(
                "The amount to close must be between 0 and {}",
                position.qty
            )));
        }
        let order = tv::PlaceOrder::new(
            &position.instrument,
            position.side.opposite(),
            tv::OrderType::Market,
            qty,
        );
        let id = self.place(account, &order, &fresh_coid()).await?;
        let live = self.live_orders(account).await?;
        let filled = live
            .iter()
            .any(|o| o.order_id.0.to_string() == id && o.status == OrderStatus::Filled);
        if !filled {
            // Not filled yet (a closed market): the legs still protect the position meanwhile. Once the
            // close fills they are left for the user (IBKR shows them as working orders), unless the
            // operator turned the orphan sweep on, which cuts or cancels them.
            tracing::info!(account, position = %position.id, order_id = %id, "IBKR close not filled yet; its brackets are left until it is");
            return Ok(id);
        }
        let found = legs::of_position(&live, account, conid, position.side)?;
        let held = found.held();
        let left = position.qty - qty;
        // The levels stay; only the size follows the position (none left: every leg goes).
        let wanted = if left.is_zero() {
            tv::Brackets::default()
        } else {
            tv::Brackets {
                take_profit: held.take_profit.as_ref().map(|h| h.price),
                stop_loss: held.stop_loss.as_ref().map(|h| h.price),
                ..tv::Brackets::default()
            }
        };
        let steps = legs::plan(&held, &wanted, left, legs::Tie::Group);
        let scope = legs::Scope {
            account,
            conid,
            side: position.side,
            qty: left,
            protects: legs::Protects::Position {
                avg_price: position.avg_price,
            },
        };
        self.apply(&scope, &found, &steps).await.map_err(|e| {
            BrokerError::Rejected(format!(
                "The position was closed (order {id}), but its brackets could not be brought along: {e}. Check its stop loss and take profit orders"
            ))
        })?;
        if !steps.is_empty() {
            tracing::info!(account, position = %position.id, left = %left, steps = steps.len(), "IBKR position brackets follow the close");
        }
        Ok(id)
    }
}

/// Whether `change` asks anything of the order itself (not of its brackets).
fn changes_order(o: &LiveOrder, change: &tv::ModifyOrder) -> bool {
    let differs = |new: Option<Decimal>, now: Option<Decimal>| new.is_some_and(|n| Some(n) != now);
    let price = o.price.map(|n| n.0);
    let stop = o.aux_price.or(o.price).map(|n| n.0);
    let tif_now = o.time_in_force.as_deref().map(str::to_ascii_uppercase);
    differs(change.qty, o.total_size.map(|n| n.0))
        || differs(change.limit_price, price)
        || differs(change.stop_price, stop)
        || change
            .duration
            .as_ref()
            .is_some_and(|d| Some(d.kind.to_ascii_uppercase()) != tif_now)
}

/// The order's size after `change`: the new one, or the size IBKR holds.
fn qty_after(change: &tv::ModifyOrder, o: &LiveOrder) -> BrokerResult<Decimal> {
    match change.qty {
        Some(q) => Ok(q),
        None => o
            .total_size
            .map(|n| n.0)
            .ok_or_else(|| BrokerError::Internal("the order's size is unknown".into())),
    }
}
