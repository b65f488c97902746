//! Placing orders on OANDA v20, and the rule that matters most: an order whose outcome is unknown is never
//! sent again. After an ambiguous failure it is looked up by its client id (`GET /orders/@{clientID}`) and
//! the answer says what really happened, provided the order found is the placing user's (bridge users may
//! share an account, and TradingView's request ids are only unique per user).

use super::client::{Client, OrderSpecifier};
use super::convert;
use super::errors;
use super::model::{Order, OrderBody, OrderState, OrderType, OrderWriteResponse};
use crate::backends::oanda::venue::{ClientRef, Ctx, InstrumentSpec};
use crate::broker::{BrokerError, BrokerResult};
use crate::tv;
use crate::upstream::call::CallError;
use std::time::Duration;

/// Looks after an ambiguous placement: how many, how far apart (OANDA may still be processing it).
const LOOKUP_ATTEMPTS: u32 = 3;
const LOOKUP_SPACING: Duration = Duration::from_millis(500);

/// The v20 client of the call's token.
pub(super) fn client<'a>(cx: &Ctx<'a>) -> Client<'a> {
    Client::new(&cx.conn.http, &cx.conn.token)
}

/// Places an order (see [`convert::place_request`]) and returns its TradingView id.
pub async fn place(
    cx: Ctx<'_>,
    spec: &InstrumentSpec,
    order: &tv::PlaceOrder,
    mine: ClientRef<'_>,
) -> BrokerResult<String> {
    let client_id = mine.id;
    let request = convert::place_request(order, spec, mine)?;
    let sent = client(&cx)
        .create_order(cx.account, &OrderBody { order: request })
        .await;
    match sent {
        Ok(answer) => placed(&answer, client_id),
        Err(e)
            if !client_id.is_empty()
                && errors::rejected_reason(&e).as_deref() == Some("CLIENT_ORDER_ID_ALREADY_EXISTS") =>
        {
            // The same order was sent before (a retried request, a restarted bridge): it is that order.
            tracing::info!("OANDA already has an order with this client id; answering with it");
            match client(&cx)
                .order(cx.account, OrderSpecifier::ClientId(client_id))
                .await
            {
                Ok(found) if convert::placed_by(&found.order, mine.owner) => {
                    outcome_of(&cx, &found.order).await
                }
                Ok(_) => Err(not_yours(client_id)),
                Err(_) => Err(errors::write_error(&e, "the order")),
            }
        }
        Err(e) if e.is_ambiguous() => {
            tracing::warn!(error = %e, "OANDA did not confirm a new order; looking it up instead of resending");
            settle(&cx, mine).await
        }
        Err(e) => Err(errors::write_error(&e, "the order")),
    }
}

/// The order an earlier placement created under `mine.id`, looked up by client id (`GET
/// /orders/@{clientID}`; a 404 is OANDA saying it has none), with the outcome it met. Answers only with the
/// placing user's order.
pub async fn find(cx: Ctx<'_>, mine: ClientRef<'_>) -> BrokerResult<Option<String>> {
    match client(&cx)
        .order(cx.account, OrderSpecifier::ClientId(mine.id))
        .await
    {
        Ok(found) if convert::placed_by(&found.order, mine.owner) => {
            outcome_of(&cx, &found.order).await.map(Some)
        }
        Ok(_) => Err(not_yours(mine.id)),
        Err(e) if e.status() == Some(404) => Ok(None),
        Err(e) => Err(errors::write_error(&e, "the order")),
    }
}

/// The outcome of a 201 answer to `POST /orders`.
fn placed(answer: &OrderWriteResponse, client_id: &str) -> BrokerResult<String> {
    let created = answer.order_create_transaction.as_ref();
    let id = match (client_id.is_empty(), created) {
        (false, _) => convert::tv_id("", Some(client_id)),
        (true, Some(tx)) => convert::tv_id(&tx.id, tx.client_id()),
        (true, None) => {
            return Err(BrokerError::Internal(
                "OANDA accepted an order without saying which".into(),
            ))
        }
    };
    if answer.order_fill_transaction.is_some() {
        return Ok(id);
    }
    if let Some(cancel) = &answer.order_cancel_transaction {
        let reason = cancel.reason.as_deref().unwrap_or("");
        tracing::info!(reason, "OANDA cancelled a new order at once");
        return Err(BrokerError::Rejected(format!(
            "OANDA did not execute the order: {}",
            errors::cancel_reason(reason)
        )));
    }
    Ok(id)
}

/// The outcome of an order that exists at OANDA: its TradingView id, or the rejection it met (an order
/// cancelled at once because it could never execute).
async fn outcome_of(cx: &Ctx<'_>, order: &Order) -> BrokerResult<String> {
    let id = convert::tv_order_id(order);
    if order.state != OrderState::Cancelled || order.replaced_by_order_id.is_some() {
        return Ok(id);
    }
    let reason = match order.cancelling_transaction_id.as_deref() {
        Some(tx) => client(cx)
            .transaction(cx.account, tx)
            .await
            .ok()
            .and_then(|r| r.transaction.reason),
        None => None,
    };
    match reason.as_deref() {
        Some(r) if errors::is_rejection(r) => Err(BrokerError::Rejected(format!(
            "OANDA did not execute the order: {}",
            errors::cancel_reason(r)
        ))),
        // A market order that was cancelled without a known reason never executed either.
        None if order.kind == OrderType::Market => Err(BrokerError::Rejected(
            "OANDA did not execute the order (it was cancelled).".into(),
        )),
        _ => Ok(id),
    }
}

/// After a placement whose outcome is unknown: the order found by its client id, or a clear statement.
async fn settle(cx: &Ctx<'_>, mine: ClientRef<'_>) -> BrokerResult<String> {
    let client_id = mine.id;
    if client_id.is_empty() {
        return Err(unknown_outcome());
    }
    let mut all_missing = true;
    for attempt in 0..LOOKUP_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(LOOKUP_SPACING).await;
        }
        match client(cx)
            .order(cx.account, OrderSpecifier::ClientId(client_id))
            .await
        {
            Ok(found) if convert::placed_by(&found.order, mine.owner) => {
                tracing::info!(
                    "the order was placed despite the failure; answering with it (nothing resent)"
                );
                return outcome_of(cx, &found.order).await;
            }
            // Another user's order holds the id: OANDA refused ours as a duplicate (nothing was placed).
            Ok(_) => return Err(not_yours(client_id)),
            Err(CallError::Status { status: 404, .. }) => {}
            Err(e) => {
                tracing::info!(error = %e, "looking up an unconfirmed order failed");
                all_missing = false;
            }
        }
    }
    if all_missing {
        // Settled: not placed, so the requestId may be used again.
        Err(BrokerError::Rejected(
            "OANDA did not confirm the order and does not have it: it was not placed, and nothing was sent \
             twice. Place it again if you still want it."
                .into(),
        ))
    } else {
        Err(unknown_outcome())
    }
}

/// An order found under the client id that is not the placing user's: another user of the account sent
/// the same request id, or the order predates the owner marks. Answering with it would report an order
/// as placed that this user never got; OANDA refuses a second order with the id, so nothing was placed.
fn not_yours(client_id: &str) -> BrokerError {
    tracing::warn!(
        client_id,
        "an order under this client id belongs to another user; refusing instead of answering with it"
    );
    BrokerError::Rejected(format!(
        "OANDA already has an order with client id {client_id} that was not placed by you (another user \
         of this account sent the same request id): your order was not placed. Place it again."
    ))
}

fn unknown_outcome() -> BrokerError {
    errors::unconfirmed(
        "OANDA did not confirm the order and it could not be looked up: its outcome is unknown. Check the \
         Orders and Positions tabs before placing it again.",
    )
}
