//! The trading actions on top of the reply loop: place (with bracket children), modify, cancel, and
//! closing a position with an opposite market order. Each logs one structured line upstream-side (the HTTP
//! layer writes the audit line).

use super::catalog::Table;
use super::convert::orders::{bracket_children, fresh_coid, kind_of, side_of, ticket, tif, Target};
use super::errors::to_broker;
use super::model::orders::OrderTicket;
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

    /// The working order `order_id` as IBKR lists it.
    async fn live(&self, account: &str, order_id: &str) -> BrokerResult<super::model::orders::LiveOrder> {
        let acct = account.to_string();
        let live = self
            .gateway
            .on_account(account, "reading orders", |api| {
                let acct = acct.clone();
                async move { api.live_orders(&acct).await }
            })
            .await?;
        live.orders
            .into_iter()
            .find(|o| o.order_id.0.to_string() == order_id)
            .ok_or_else(|| BrokerError::NotFound(format!("Unknown order '{order_id}'")))
    }

    /// Changes the quantity, prices or duration of a working order (brackets cannot be changed here).
    pub async fn modify(&self, account: &str, order_id: &str, change: &tv::ModifyOrder) -> BrokerResult<()> {
        if !change.brackets.is_empty() {
            return Err(BrokerError::Rejected(
                "Brackets of an IBKR order cannot be changed through the bridge; cancel and place it again"
                    .into(),
            ));
        }
        let o = self.live(account, order_id).await?;
        let kind = o
            .order_type
            .as_deref()
            .and_then(kind_of)
            .ok_or_else(|| BrokerError::Internal("the order's type is unknown".into()))?;
        let side =
            side_of(&o.side).ok_or_else(|| BrokerError::Internal("the order's side is unknown".into()))?;
        let qty = match change.qty {
            Some(q) => q,
            None => o
                .total_size
                .map(|n| n.0)
                .ok_or_else(|| BrokerError::Internal("the order's size is unknown".into()))?,
        };
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
        let (acct, id) = (account.to_string(), order_id.to_string());
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
        tracing::info!(account, order_id, "IBKR order modified");
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

    /// Closes `amount` (all when `None`) of `position` with an opposite market order.
    pub async fn close(
        &self,
        account: &str,
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
        self.place(account, &order, &fresh_coid()).await
    }
}
