//! Placing, modifying and cancelling on IBKR without losing or doubling an order. A submission may be
//! answered with questions (`[{id, message[], messageIds[]}]`): those whose every message id is on the
//! operator's allow-list are confirmed (`POST /iserver/reply/{id}`), any other refuses the order with the
//! question's text. A failure that may have reached IBKR (timeout, 5xx) is never answered by sending again:
//! the order is looked up by its `cOID` among the live orders and the executions, and the answer is what
//! was found, or a plain statement that the order was most likely not placed.

use super::errors::{message, to_broker};
use super::model::orders::{OrderTicket, OrdersBody, SubmitItem};
use super::session::Gateway;
use crate::broker::{BrokerError, BrokerResult};
use crate::upstream::call::CallError;
use std::collections::HashSet;

/// Most questions one order may raise before the bridge gives up (IBKR chains a few at most).
pub const MAX_QUESTIONS: usize = 8;

/// Told when IBKR did not confirm an order and it is not among the account's orders.
pub const NOT_CONFIRMED: &str = "IBKR did not confirm the order and it is not among the account's orders: it was most likely not placed. Check the order list before placing it again";
/// Told when IBKR did not confirm an order and the bridge could not check.
pub const UNKNOWN: &str = "IBKR did not confirm the order and the bridge could not check whether it was placed: check the order list before placing it again";

/// What to do with a submission's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Placed: the order ids, parent first.
    Placed(Vec<String>),
    /// Confirm the question with this reply id.
    Confirm(String),
    /// Refused by IBKR, or by the bridge because the question is not on the allow-list: the text.
    Refuse(String),
}

/// Reads one answer of a submission or a reply.
pub fn next(items: &[SubmitItem], allow: &HashSet<String>) -> Next {
    if let Some(text) = items.iter().find_map(|i| match i {
        SubmitItem::Refused(t) => Some(t.clone()),
        _ => None,
    }) {
        return Next::Refuse(text);
    }
    if let Some(q) = items.iter().find_map(|i| match i {
        SubmitItem::Question(q) => Some(q),
        _ => None,
    }) {
        let allowed = !q.message_ids.is_empty() && q.message_ids.iter().all(|id| allow.contains(id));
        if allowed {
            return Next::Confirm(q.id.clone());
        }
        let text = q
            .message
            .iter()
            .map(|m| m.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join(" ");
        let text = super::errors::printable(&text)
            .unwrap_or_else(|| "IBKR asked a question about this order".into());
        return Next::Refuse(text);
    }
    Next::Placed(
        items
            .iter()
            .filter_map(|i| match i {
                SubmitItem::Placed { order_id, .. } => Some(order_id.clone()),
                _ => None,
            })
            .collect(),
    )
}

/// What a write is, for messages and logs.
#[derive(Debug, Clone, Copy)]
pub struct Write<'a> {
    pub account: &'a str,
    /// The client order id looked up after an ambiguous failure (`None`: a change that cannot be looked
    /// up this way; the user is told the outcome is unknown).
    pub coid: Option<&'a str>,
    pub what: &'static str,
}

/// Runs the reply loop from a first answer (`first`, the result of the submission itself).
pub async fn reply_loop(
    gateway: &Gateway,
    write: Write<'_>,
    allow: &HashSet<String>,
    first: Result<Vec<SubmitItem>, CallError>,
) -> BrokerResult<Vec<String>> {
    let mut answer = first;
    let mut asked = 0;
    loop {
        let items = match answer {
            Ok(items) => items,
            Err(e) => return resolve(gateway, write, e).await,
        };
        match next(&items, allow) {
            Next::Placed(ids) if ids.is_empty() => {
                return Err(BrokerError::Internal("IBKR's answer named no order".into()));
            }
            Next::Placed(ids) => return Ok(ids),
            Next::Refuse(text) => {
                tracing::info!(account = %write.account, what = write.what, reason = %text, "IBKR order refused");
                return Err(BrokerError::Rejected(text));
            }
            Next::Confirm(id) => {
                asked += 1;
                if asked > MAX_QUESTIONS {
                    return Err(BrokerError::Rejected(format!(
                        "IBKR asked more than {MAX_QUESTIONS} questions about this order; it was not placed"
                    )));
                }
                tracing::info!(account = %write.account, what = write.what, "confirming an allow-listed IBKR order question");
                answer = gateway
                    .raw(|api| {
                        let id = id.clone();
                        async move { api.reply(&id, true).await }
                    })
                    .await?;
            }
        }
    }
}

/// Places `tickets` (a parent and its bracket children, or one order) and answers the order ids.
pub async fn place(
    gateway: &Gateway,
    write: Write<'_>,
    allow: &HashSet<String>,
    tickets: Vec<OrderTicket>,
) -> BrokerResult<Vec<String>> {
    let body = OrdersBody { orders: tickets };
    let account = write.account.to_string();
    tracing::info!(account = %write.account, coid = write.coid.unwrap_or_default(), legs = body.orders.len(), "placing an IBKR order");
    let first = gateway
        .raw(|api| {
            let (account, body) = (account.clone(), body.clone());
            async move { api.place(&account, &body).await }
        })
        .await?;
    reply_loop(gateway, write, allow, first).await
}

/// After a failed write: a refusal is told as it is; a failure that may have reached IBKR is looked up by
/// `cOID` (never sent again).
async fn resolve(gateway: &Gateway, write: Write<'_>, e: CallError) -> BrokerResult<Vec<String>> {
    if !e.is_ambiguous() {
        return Err(to_broker(write.what, &e));
    }
    tracing::warn!(account = %write.account, what = write.what, error = %e, "IBKR did not confirm a write; looking it up");
    let Some(coid) = write.coid else {
        return Err(BrokerError::Rejected(format!(
            "IBKR did not confirm {}: check the order before trying again",
            write.what
        )));
    };
    let upstream = message(&e)
        .map(|m| format!(" (IBKR said: {m})"))
        .unwrap_or_default();
    match find_by_coid(gateway, write.account, coid).await {
        Ok(Some(id)) => {
            tracing::info!(account = %write.account, coid, order_id = %id, "found the unconfirmed IBKR order");
            Ok(vec![id])
        }
        Ok(None) => Err(BrokerError::Rejected(format!("{NOT_CONFIRMED}{upstream}"))),
        Err(lookup) => {
            tracing::warn!(error = %lookup, "looking up an unconfirmed IBKR order failed");
            Err(BrokerError::OutcomeUnknown(format!("{UNKNOWN}{upstream}")))
        }
    }
}

/// The IBKR order id of the order placed with `coid`: among the live orders, then among the executions.
/// `Ok(None)` only when both answers are complete and neither holds it.
pub async fn find_by_coid(gateway: &Gateway, account: &str, coid: &str) -> BrokerResult<Option<String>> {
    let acct = account.to_string();
    let live = gateway
        .call("looking up the order", |api| {
            let acct = acct.clone();
            async move { api.live_orders(&acct).await }
        })
        .await?;
    if let Some(o) = live.orders.iter().find(|o| o.order_ref.as_deref() == Some(coid)) {
        return Ok(Some(o.order_id.0.to_string()));
    }
    let trades = gateway
        .call("looking up the order", |api| {
            let acct = acct.clone();
            async move { api.trades(&acct).await }
        })
        .await?;
    if let Some(t) = trades.iter().find(|t| t.order_ref.as_deref() == Some(coid)) {
        return match t.order_id {
            Some(id) => Ok(Some(id.0.to_string())),
            None => Err(BrokerError::Internal(
                "an execution of the order carries no order id".into(),
            )),
        };
    }
    if live.snapshot == Some(false) {
        // IBKR was still loading the orders: their absence proves nothing.
        return Err(BrokerError::Unavailable(
            "IBKR's order list was not complete".into(),
        ));
    }
    Ok(None)
}

#[cfg(test)]
#[path = "orders_tests.rs"]
mod tests;
