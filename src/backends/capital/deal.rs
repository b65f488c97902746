//! Deals on Capital.com: the account's state before a deal, the deal confirmation (asked again while it
//! lags), and the lookup that settles a write whose outcome is unknown without ever sending it twice.

use super::client::{ActivityQuery, CallError};
use super::convert::{self, Placement};
use super::model::{self, DealStatus};
use super::session::{AccountScope, Kind, UpstreamError};
use super::{errors, Inner};
use crate::broker::{BrokerError, BrokerResult, SessionCtx};
use crate::sync::MutexExt;
use crate::tv;
use std::collections::HashMap;
use std::time::Duration;

/// How often a missing confirmation is asked for again (it can lag the deal reference by a moment).
const CONFIRM_ATTEMPTS: u32 = 6;
const CONFIRM_SPACING: Duration = Duration::from_millis(250);
/// How long the deal is looked for after an ambiguous failure.
const LOOKUP_ATTEMPTS: u32 = 4;
const LOOKUP_SPACING: Duration = Duration::from_millis(500);

pub(super) fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The id of an accepted market order, as the activity history will give it back (see
/// [`convert::history`]): the deal it opened, or, when it only reduced deals, the order its fills form in
/// the activities, read just after the deal.
pub(super) async fn market_order_id(
    inner: &Inner,
    scope: &AccountScope<'_>,
    confirmation: &model::Confirmation,
) -> Option<String> {
    let affected = &confirmation.affected_deals;
    if let Some(opened) = affected
        .iter()
        .find(|d| d.status == Some(model::AffectedDealStatus::Opened))
    {
        return Some(opened.deal_id.clone());
    }
    reducing_order_id(inner, scope, &affected.first()?.deal_id).await
}

/// How often, and how far apart, the activities are read for the order a reducing deal became.
const ACTIVITY_ATTEMPTS: u32 = 4;
const ACTIVITY_SPACING: Duration = Duration::from_millis(250);
/// The activity window read for it (seconds, on Capital.com's clock): the one `/executions` and
/// `/ordersHistory` read, since whether a fill reads as a close depends on seeing the deal's opening.
const ACTIVITY_WINDOW_SECS: u64 = super::account::ACTIVITY_PERIOD_SECS;

/// The order id the activity history gives the newest reduction of `deal_id` by the user.
async fn reducing_order_id(inner: &Inner, scope: &AccountScope<'_>, deal_id: &str) -> Option<String> {
    let query = ActivityQuery {
        last_period: Some(ACTIVITY_WINDOW_SECS),
        detailed: true,
        ..Default::default()
    };
    for attempt in 0..ACTIVITY_ATTEMPTS {
        if attempt > 0 {
            scope.pause(ACTIVITY_SPACING).await;
        }
        let answer = scope
            .call(Kind::Read, |c, t| {
                let query = query.clone();
                async move { c.activity(&t, &query).await }
            })
            .await;
        match answer {
            Ok(a) => {
                let symbol_of = |epic: &str| inner.catalog.symbol_of(epic);
                if let Some(id) = convert::reducing_order_id(&a.activities, &symbol_of, deal_id) {
                    return Some(id);
                }
            }
            Err(e) => tracing::info!(error = %e, "could not read the activity of a reducing deal"),
        }
    }
    None
}

/// The account's deals and working orders before a placement: (deal id -> epic and size) and working
/// order ids.
#[derive(Debug, Default)]
pub(super) struct Before {
    deals: HashMap<String, (String, rust_decimal::Decimal)>,
    working: Vec<String>,
}

pub(super) async fn snapshot(scope: &AccountScope<'_>) -> BrokerResult<Before> {
    let (deals, working) = tokio::try_join!(
        scope.call(Kind::Read, |c, t| async move { c.positions(&t).await }),
        scope.call(Kind::Read, |c, t| async move { c.working_orders(&t).await }),
    )?;
    Ok(Before {
        deals: deals
            .positions
            .into_iter()
            .map(|p| (p.position.deal_id, (p.market.epic, p.position.size)))
            .collect(),
        working: working
            .working_orders
            .into_iter()
            .map(|w| w.working_order_data.deal_id)
            .collect(),
    })
}

/// The confirmation of a deal reference, asked again while it is not there yet.
pub(super) async fn confirm(
    scope: &AccountScope<'_>,
    reference: &str,
) -> Result<model::Confirmation, UpstreamError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let reference = reference.to_string();
        match scope
            .call(Kind::Read, |c, t| {
                let reference = reference.clone();
                async move { c.confirm(&t, &reference).await }
            })
            .await
        {
            Err(UpstreamError::Call(CallError::Status { status: 404, .. })) if attempt < CONFIRM_ATTEMPTS => {
                scope.pause(CONFIRM_SPACING).await;
            }
            other => return other,
        }
    }
}

/// After a placement whose outcome is unknown: finds the deal it made, or says clearly that none appeared.
pub(super) async fn settle_ambiguous(
    inner: &Inner,
    session: &SessionCtx,
    scope: &AccountScope<'_>,
    order: &tv::PlaceOrder,
    placement: &Placement,
    before: &Before,
) -> BrokerResult<String> {
    // Whether any look-up answered: "not found" means something only then.
    let mut looked = false;
    for attempt in 0..LOOKUP_ATTEMPTS {
        if attempt > 0 {
            scope.pause(LOOKUP_SPACING).await;
        }
        let now = match snapshot_full(scope).await {
            Ok(n) => n,
            Err(e) => {
                tracing::info!(error = %e, "deal lookup failed; trying again");
                continue;
            }
        };
        looked = true;
        let account = scope.account();
        match placement {
            Placement::Position(req) => {
                let new_deal = now.0.iter().find(|p| {
                    p.market.epic == req.epic
                        && !before.deals.contains_key(&p.position.deal_id)
                        && p.position.direction == req.direction
                        && p.position.size == req.size
                });
                // On a netting account an opposite deal reduces or closes deals of the same epic instead.
                let reduced = before.deals.iter().any(|(id, (epic, size))| {
                    epic == &req.epic
                        && now
                            .0
                            .iter()
                            .find(|p| p.position.deal_id == *id)
                            .is_none_or(|p| p.position.size != *size)
                });
                if new_deal.is_some() || reduced {
                    // The same id a confirmed deal gets: the deal it opened, else its reducing order.
                    let reduced_id = match new_deal {
                        Some(_) => None,
                        None => match before.deals.iter().find(|(id, (epic, size))| {
                            epic == &req.epic
                                && now
                                    .0
                                    .iter()
                                    .find(|p| p.position.deal_id == **id)
                                    .is_none_or(|p| p.position.size != *size)
                        }) {
                            Some((id, _)) => reducing_order_id(inner, scope, id).await,
                            None => None,
                        },
                    };
                    let id = new_deal
                        .map(|p| p.position.deal_id.clone())
                        .or(reduced_id)
                        .unwrap_or_else(|| format!("lookup-{}", uuid::Uuid::new_v4().simple()));
                    let mut filled = base_order(id.clone(), order, tv::OrderStatus::Filled, now_secs());
                    filled.filled_qty = Some(order.qty);
                    filled.avg_price = new_deal.map(|p| p.position.level);
                    inner.journal_of(session, account).locked().finish(filled);
                    tracing::info!("the deal was made despite the failure; answering with it (no retry)");
                    return Ok(id);
                }
            }
            Placement::WorkingOrder(req) => {
                let found = now.1.iter().find(|w| {
                    let d = &w.working_order_data;
                    d.epic == req.epic
                        && !before.working.contains(&d.deal_id)
                        && d.direction == req.direction
                        && d.order_size == req.size
                        && d.order_level == req.level
                });
                if let Some(w) = found {
                    tracing::info!(
                        "the working order was made despite the failure; answering with it (no retry)"
                    );
                    return Ok(w.working_order_data.deal_id.clone());
                }
            }
        }
    }
    // Capital.com cannot look a deal up by the request that made it, so "most likely" is all the bridge can
    // say: the requestId stays taken (a resend is told the outcome is unknown, never placed again).
    if !looked {
        tracing::warn!("every deal lookup failed; the outcome is unknown");
        return Err(BrokerError::OutcomeUnknown(
            "Capital.com did not confirm the order and the bridge could not read your positions and orders, \
             so its outcome is unknown. Check your positions and orders before placing it again."
                .into(),
        ));
    }
    Err(BrokerError::OutcomeUnknown(
        "Capital.com did not confirm the order and it does not appear in your positions or orders, so it was \
         most likely not placed. Check your positions and orders before placing it again."
            .into(),
    ))
}

async fn snapshot_full(
    scope: &AccountScope<'_>,
) -> Result<(Vec<model::PositionEntry>, Vec<model::WorkingOrderEntry>), UpstreamError> {
    let (deals, working) = tokio::try_join!(
        scope.call(Kind::Read, |c, t| async move { c.positions(&t).await }),
        scope.call(Kind::Read, |c, t| async move { c.working_orders(&t).await }),
    )?;
    Ok((deals.positions, working.working_orders))
}

pub(super) fn base_order(id: String, order: &tv::PlaceOrder, status: tv::OrderStatus, now: i64) -> tv::Order {
    let mut o = tv::Order::new(
        id,
        order.instrument.clone(),
        order.qty,
        order.side,
        order.kind,
        status,
        now,
    );
    o.limit_price = order.limit_price;
    o.stop_price = order.stop_price;
    o
}

/// Reads a write's confirmation: a rejection becomes an error naming the reason.
pub(super) async fn check_confirmed(scope: &AccountScope<'_>, reference: &str) -> BrokerResult<()> {
    match confirm(scope, reference).await {
        Ok(c) if c.deal_status == DealStatus::Rejected => Err(BrokerError::Rejected(errors::reject_reason(
            c.reason.as_deref().unwrap_or(""),
        ))),
        Ok(_) => Ok(()),
        // The write itself was accepted; a confirmation we cannot read does not undo it.
        Err(e) => {
            tracing::warn!(error = ?e, "could not read a confirmation of an accepted change");
            Ok(())
        }
    }
}
