//! The trading actions, each leaving one structured log line: place under a `CustomerOrderId` derived from
//! (bridge user, TradingView `requestId`), modify (a `PUT` with a new id, TradingView's id kept through
//! [`Aliases`]), cancel by the current id, close a position with an opposite market order.
//!
//! A write whose outcome is unknown (timeout, lost answer, 5xx, 408, 202, 423) is looked up by its
//! `CustomerOrderId`; it is never sent again under another id. IBKR refuses a used id on the account
//! ("Duplicate CustomerOrderId"), so even a resend under the same id cannot place a second order.

use super::aliases::Aliases;
use super::client::{read_raw, Api, ApiError, Patience};
use super::convert::fix;
use super::convert::orders::{replacement, request};
use super::errors::{is_duplicate_id, to_broker};
use super::model::orders::{Order, OrderRequest};
use super::model::{Coid, COID_LIMIT};
use crate::broker::{BrokerError, BrokerResult};
use crate::tv;
use crate::upstream::order_ids::fnv1a;
use std::time::Duration;

/// Look-ups of an order whose write had an unknown outcome, before the user is told it is unconfirmed.
const LOOKUPS: u32 = 4;

/// The `CustomerOrderId` of the order bridge user `user` sent with `request_id`: 53 bits of a fixed digest
/// of both (the same request of the same user always gets the same id, so a resend finds the order; other
/// users' ids differ, see `upstream::order_ids`). Without a request id, a random one.
pub fn coid(user: &str, request_id: Option<&str>) -> Coid {
    let Some(id) = request_id.map(str::trim).filter(|r| !r.is_empty()) else {
        return fresh();
    };
    let mut whole = b"ibkr-tp\0".to_vec();
    whole.extend_from_slice(user.as_bytes());
    whole.push(0);
    whole.extend_from_slice(id.as_bytes());
    nonzero(fnv1a(&whole) & (COID_LIMIT - 1))
}

/// An id no request names.
pub fn fresh() -> Coid {
    nonzero(rand::random::<u64>() & (COID_LIMIT - 1))
}

fn nonzero(n: u64) -> Coid {
    Coid(n.max(1))
}

/// What every trading action needs.
pub struct Desk<'a> {
    pub api: &'a dyn Api,
    pub aliases: &'a Aliases,
    pub user: &'a str,
    pub account: &'a str,
    pub patience: Patience,
    pub locked_backoff: Duration,
    pub outside_rth: bool,
}

/// Parses TradingView's order id.
pub fn tv_id(order_id: &str) -> BrokerResult<Coid> {
    Coid::parse(order_id).ok_or_else(|| {
        BrokerError::NotFound(format!(
            "Unknown order '{}'",
            order_id.chars().take(24).collect::<String>()
        ))
    })
}

impl Desk<'_> {
    /// The order listed under `id`, `None` when IBKR's answer holds none. 202 and 423 are waited out a
    /// few times; then the look-up fails (the order's state is unknown, not absent).
    pub async fn find(&self, id: Coid) -> BrokerResult<Option<Order>> {
        let mut wait = self.locked_backoff;
        for attempt in 1..=LOOKUPS {
            let found = read_raw(self.patience, &mut || self.api.order(self.user, self.account, id)).await;
            match found {
                Ok(list) => return Ok(list.into_iter().find(|o| o.customer_order_id == id)),
                Err(e @ (ApiError::Locked | ApiError::Accepted)) if attempt < LOOKUPS => {
                    tracing::debug!(order_id = %id, error = %e, "IBKR order look-up deferred");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(super::account::MAX_LOCKED_BACKOFF);
                }
                Err(e) => return Err(to_broker("looking the order up", &e)),
            }
        }
        Err(BrokerError::Unavailable(
            "IBKR did not answer the order look-up".into(),
        ))
    }

    /// Looks up an order whose write ended with `e` (ambiguous): found, or still unknown after a few
    /// look-ups `patience.wait` apart (an order IBKR accepted may take a moment to be listed).
    async fn settle_ambiguous(&self, id: Coid, e: &ApiError, what: &str) -> BrokerResult<Option<Order>> {
        tracing::warn!(user = self.user, account = self.account, customer_order_id = %id, error = %e, "IBKR {what}: outcome unknown; looking the order up");
        for attempt in 1..=LOOKUPS {
            if let Some(o) = self.find(id).await? {
                return Ok(Some(o));
            }
            if attempt < LOOKUPS {
                tokio::time::sleep(self.patience.wait).await;
            }
        }
        Ok(None)
    }

    /// Places `order` under `id` (conid already resolved); answers TradingView's order id (`id` itself).
    /// `action` names it in the log line (`place`, `close position`).
    pub async fn place(
        &self,
        action: &'static str,
        order: &tv::PlaceOrder,
        conid: i64,
        id: Coid,
    ) -> BrokerResult<String> {
        let body = request(order, conid, Some(id), self.outside_rth)?;
        let outcome = self.send_place(&body, id).await;
        match &outcome {
            Ok(status) => tracing::info!(
                action,
                user = self.user,
                account = self.account,
                symbol = %order.instrument,
                side = %order.side,
                kind = %order.kind,
                qty = %order.qty,
                customer_order_id = %id,
                status = %status,
                "IBKR order placed"
            ),
            Err(e) => tracing::info!(
                action,
                user = self.user,
                account = self.account,
                symbol = %order.instrument,
                customer_order_id = %id,
                error = %e,
                "IBKR order not placed"
            ),
        }
        outcome.map(|_| id.to_string())
    }

    /// Sends a placement and settles every outcome; `Ok` with IBKR's status code of the order. An order
    /// IBKR took but rejected (status `8` or `-1`) is an error with IBKR's warning text.
    async fn send_place(&self, body: &OrderRequest, id: Coid) -> BrokerResult<String> {
        let order = match self.api.place(self.user, self.account, body).await {
            Ok(list) => list.into_iter().find(|o| o.customer_order_id == id),
            Err(e) if is_duplicate_id(&e) => match self.find(id).await? {
                // The first attempt of this request placed it.
                Some(o) => Some(o),
                None => {
                    return Err(BrokerError::Rejected(
                        "IBKR refused the order: its id was used before on this account".into(),
                    ))
                }
            },
            Err(e) if e.is_ambiguous() => match self.settle_ambiguous(id, &e, "placing").await {
                Ok(Some(o)) => Some(o),
                Ok(None) => {
                    return Err(BrokerError::OutcomeUnknown(format!(
                        "IBKR did not confirm order {id} ({e}); it may still appear in the orders list: check it before placing the order again"
                    )))
                }
                // A failed look-up settles nothing: the order may exist. Said as such (not as the look-up's
                // own "try again"), so that the requestId stays taken and its resend looks first.
                Err(lookup) => {
                    tracing::warn!(user = self.user, account = self.account, customer_order_id = %id, error = %lookup, "looking up an unconfirmed IBKR order failed");
                    return Err(BrokerError::OutcomeUnknown(format!(
                        "IBKR did not confirm order {id} ({e}) and the bridge could not look it up; it may be in the orders list: check it before placing the order again"
                    )));
                }
            },
            Err(e) => return Err(to_broker("placing the order", &e)),
        };
        let Some(order) = order else {
            return Ok("?".into());
        };
        if matches!(
            fix::order_status(&order.status),
            Some((_, fix::Shown::As(tv::OrderStatus::Rejected, _)))
        ) {
            let why = order
                .warning
                .as_deref()
                .and_then(crate::backends::ibkr::errors::printable)
                .unwrap_or_else(|| "IBKR rejected the order".into());
            return Err(BrokerError::Rejected(why));
        }
        Ok(order.status)
    }

    /// The id TradingView's order `tv` goes by now, a pending modification settled first.
    pub async fn current_id(&self, tv: Coid) -> BrokerResult<Coid> {
        let Some(current) = self.aliases.current(self.account, tv).await? else {
            return Ok(tv);
        };
        if !current.pending {
            return Ok(Coid(current.current));
        }
        let new = Coid(current.current);
        let previous = current.previous.map(Coid);
        match (self.find(new).await?, previous) {
            (Some(_), _) => {
                self.aliases.settle(self.account, tv, new, previous).await?;
                Ok(new)
            }
            (None, Some(old)) => {
                // The modification never reached IBKR: the order still goes by its old id.
                self.aliases.settle(self.account, tv, old, None).await?;
                Ok(old)
            }
            (None, None) => Ok(tv),
        }
    }

    /// Modifies TradingView's order `order_id`: a `PUT` on its current id with a new id, recorded first.
    pub async fn modify(
        &self,
        order_id: &str,
        conid_of: impl Fn(&Order) -> Option<i64>,
        change: &tv::ModifyOrder,
    ) -> BrokerResult<()> {
        let tv = tv_id(order_id)?;
        let old = self.current_id(tv).await?;
        let current = self
            .find(old)
            .await?
            .ok_or_else(|| BrokerError::NotFound(format!("Unknown order '{tv}'")))?;
        let conid = conid_of(&current)
            .ok_or_else(|| BrokerError::Internal("IBKR listed the order without its contract".into()))?;
        let new = fresh();
        let body = replacement(&current, conid, change, new, self.outside_rth)?;
        self.aliases.record(self.account, tv, old, new).await?;
        let outcome = match self.api.modify(self.user, self.account, old, &body).await {
            Ok(_) => {
                self.aliases.settle(self.account, tv, new, Some(old)).await?;
                Ok(())
            }
            Err(e) if e.is_ambiguous() => match self.settle_ambiguous(new, &e, "modifying").await? {
                Some(_) => {
                    self.aliases.settle(self.account, tv, new, Some(old)).await?;
                    Ok(())
                }
                // Left pending: the next action on the order settles it by looking `new` up again.
                None => Err(BrokerError::Unavailable(format!(
                    "IBKR did not confirm the modification of order {tv} ({e}); check the order before changing it again"
                ))),
            },
            Err(e) => {
                self.aliases.settle(self.account, tv, old, None).await?;
                Err(to_broker("modifying the order", &e))
            }
        };
        match &outcome {
            Ok(()) => {
                tracing::info!(user = self.user, account = self.account, order_id = %tv, from = %old, to = %new, qty = ?change.qty, limit_price = ?change.limit_price, stop_price = ?change.stop_price, "IBKR order modified")
            }
            Err(e) => {
                tracing::info!(user = self.user, account = self.account, order_id = %tv, from = %old, to = %new, error = %e, "IBKR order not modified")
            }
        }
        outcome
    }

    /// Cancels TradingView's order `order_id` by its current id.
    pub async fn cancel(&self, order_id: &str) -> BrokerResult<()> {
        let tv = tv_id(order_id)?;
        let id = self.current_id(tv).await?;
        let outcome = match self.api.cancel(self.user, self.account, id).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_ambiguous() => match self.settle_ambiguous(id, &e, "cancelling").await? {
                Some(o) if matches!(o.status.as_str(), "4" | "6" | "C") => Ok(()),
                _ => Err(BrokerError::Unavailable(format!(
                    "IBKR did not confirm the cancellation of order {tv} ({e}); check the order"
                ))),
            },
            Err(e) => Err(to_broker("cancelling the order", &e)),
        };
        match &outcome {
            Ok(()) => {
                tracing::info!(user = self.user, account = self.account, order_id = %tv, customer_order_id = %id, "IBKR order cancel requested")
            }
            Err(e) => {
                tracing::info!(user = self.user, account = self.account, order_id = %tv, customer_order_id = %id, error = %e, "IBKR order not cancelled")
            }
        }
        outcome
    }
}
