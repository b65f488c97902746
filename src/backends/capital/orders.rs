//! Orders on Capital.com: listing (working orders, bracket legs, the session journal), placement with deal
//! confirmation and the no-double-order lookup, modification and cancellation.

use super::client::CallError;
use super::convert::{self, Placement};
use super::deal::{
    base_order, check_confirmed, confirm, market_order_id, now_secs, settle_ambiguous, snapshot,
};
use super::model::{self, DealStatus};
use super::session::{AccountScope, Kind, Upstream, UpstreamError};
use super::{errors, Inner};
use crate::broker::{BrokerError, BrokerResult, SessionCtx};
use crate::sync::MutexExt;
use crate::tv;
use std::collections::HashMap;
use std::sync::Arc;

/// `/orders`: working orders with their bracket legs, the bracket legs of open positions, and the orders of
/// this session that have finished.
pub(super) async fn orders(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
) -> BrokerResult<Vec<tv::Order>> {
    let upstream = inner.upstream(session)?;
    let scope = upstream.on_account(account).await?;
    let (working, deals) = tokio::try_join!(working_orders(&scope), inner.deals(&scope))?;
    listed(inner, session, &upstream, &scope, working, deals).await
}

/// `GET /workingorders` of the scope's account.
pub(super) async fn working_orders(scope: &AccountScope<'_>) -> BrokerResult<model::WorkingOrdersResponse> {
    scope
        .call(Kind::Read, |c, t| async move { c.working_orders(&t).await })
        .await
        .map_err(BrokerError::from)
}

/// `/orders` from a listing of working orders and deals (one account refresh reads both once).
pub(super) async fn listed(
    inner: &Inner,
    session: &SessionCtx,
    upstream: &Upstream,
    scope: &AccountScope<'_>,
    working: model::WorkingOrdersResponse,
    deals: Arc<Vec<model::PositionEntry>>,
) -> BrokerResult<Vec<tv::Order>> {
    let account = scope.account();
    let info = inner.account_info(session, account)?;
    let mut epics: Vec<String> = working
        .working_orders
        .iter()
        .map(|w| w.working_order_data.epic.clone())
        .chain(deals.iter().map(|d| d.market.epic.clone()))
        .filter(|e| inner.catalog.symbol_of(e).is_some())
        .collect();
    epics.sort();
    epics.dedup();
    let details = inner.catalog.details(upstream, &epics).await?;
    let pips: HashMap<&str, rust_decimal::Decimal> = details
        .iter()
        .map(|d| (d.instrument.epic.as_str(), convert::pip_size(d)))
        .collect();

    let mut out = Vec::new();
    for entry in &working.working_orders {
        let data = &entry.working_order_data;
        let (Some(symbol), Some(pip)) = (inner.catalog.symbol_of(&data.epic), pips.get(data.epic.as_str()))
        else {
            continue;
        };
        out.extend(convert::working_order(&symbol, data, *pip));
    }
    for entry in deals.iter() {
        let deal = &entry.position;
        let (Some(symbol), Some(pip)) = (
            inner.catalog.symbol_of(&entry.market.epic),
            pips.get(entry.market.epic.as_str()),
        ) else {
            continue;
        };
        let position_id = if info.hedging {
            deal.deal_id.clone()
        } else {
            symbol.clone()
        };
        out.extend(convert::position_brackets(&symbol, &position_id, deal, *pip));
    }

    // Working orders that vanished since the last listing: filled when a position came from them,
    // otherwise cancelled (by this bridge, by expiry, or elsewhere).
    let parents: Vec<tv::Order> = out
        .iter()
        .filter(|o| o.parent_id.is_none() && o.status == tv::OrderStatus::Working)
        .cloned()
        .collect();
    let gone = inner
        .journal_of(session, account)
        .locked()
        .observe_working(&parents);
    // The deals may be a few hundred milliseconds older than the working orders: look again before calling
    // a vanished order cancelled.
    let deals = if gone.iter().any(|(_, by_us)| !by_us) {
        inner.deals(scope).await?
    } else {
        deals
    };
    for (mut order, by_us) in gone {
        let fill = deals
            .iter()
            .find(|d| !by_us && d.position.working_order_id.as_deref() == Some(order.id.as_str()));
        order.last_modified = Some(now_secs());
        match fill {
            Some(deal) => {
                order.status = tv::OrderStatus::Filled;
                order.filled_qty = Some(order.qty);
                order.avg_price = Some(deal.position.level);
            }
            None => order.status = tv::OrderStatus::Cancelled,
        }
        inner.journal_of(session, account).locked().finish(order);
    }
    out.extend(inner.journal_of(session, account).locked().finished());
    Ok(out)
}

/// Places an order. A market order opens a deal (`POST /positions`), limit and stop orders become working
/// orders; either way the outcome is read from the deal confirmation. After a failure that may have reached
/// Capital.com, the deal is looked up before anything is answered, so a retry never doubles it.
pub(super) async fn place(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
    order: tv::PlaceOrder,
) -> BrokerResult<String> {
    let info = inner.account_info(session, account)?;
    let epic = inner.catalog.epic_of(&order.instrument)?;
    let upstream = inner.upstream(session)?;
    let details = inner.catalog.detail(&upstream, &epic).await?;
    check_market_rules(&order, &details, info.hedging)?;
    let pip = convert::pip_size(&details);
    let placement = convert::placement(&epic, &order, pip)?;
    let scope = upstream.on_account(account).await?;

    let (before, sent) = match &placement {
        Placement::Position(req) => {
            let before = snapshot(&scope).await?;
            let req = req.clone();
            let sent = scope
                .call(Kind::Write, |c, t| {
                    let req = req.clone();
                    async move { c.create_position(&t, &req).await }
                })
                .await;
            (before, sent)
        }
        Placement::WorkingOrder(req) => {
            let before = snapshot(&scope).await?;
            let req = req.clone();
            let sent = scope
                .call(Kind::Write, |c, t| {
                    let req = req.clone();
                    async move { c.create_working_order(&t, &req).await }
                })
                .await;
            (before, sent)
        }
    };
    let reference = match sent {
        Ok(r) => r.deal_reference,
        Err(e) if e.is_ambiguous() => {
            tracing::warn!(error = ?e, "Capital.com did not confirm a new deal; looking it up before answering");
            return settle_ambiguous(inner, session, &scope, &order, &placement, &before).await;
        }
        Err(e) => return Err(e.into()),
    };
    let confirmation = match confirm(&scope, &reference).await {
        Ok(c) => c,
        Err(e)
            if e.is_ambiguous()
                || matches!(e, UpstreamError::Call(CallError::Status { status: 404, .. })) =>
        {
            tracing::warn!(error = ?e, "no confirmation for a deal reference; looking the deal up");
            return settle_ambiguous(inner, session, &scope, &order, &placement, &before).await;
        }
        Err(e) => return Err(e.into()),
    };
    let now = now_secs();
    match (&placement, confirmation.deal_status) {
        (_, DealStatus::Rejected) => {
            let reason = confirmation.reason.as_deref().unwrap_or("");
            let text = errors::reject_reason(reason);
            tracing::info!(%reason, "Capital.com rejected a deal");
            let mut rejected = base_order(reference.clone(), &order, tv::OrderStatus::Rejected, now);
            rejected.message = Some(tv::InfoMessage {
                text,
                kind: tv::MessageType::Error,
            });
            inner.journal_of(session, account).locked().finish(rejected);
            Ok(reference)
        }
        (Placement::Position(_), DealStatus::Accepted) => {
            let id = market_order_id(inner, &scope, &confirmation)
                .await
                .unwrap_or_else(|| {
                    tracing::warn!(%reference, "no activity names the deal yet; answering with its deal reference");
                    reference.clone()
                });
            let mut filled = base_order(id.clone(), &order, tv::OrderStatus::Filled, now);
            filled.filled_qty = Some(confirmation.size.unwrap_or(order.qty));
            filled.avg_price = confirmation.level;
            inner.journal_of(session, account).locked().finish(filled);
            Ok(id)
        }
        (Placement::WorkingOrder(_), DealStatus::Accepted) => {
            let id = confirmation
                .deal_id
                .clone()
                .or_else(|| confirmation.affected_deals.first().map(|d| d.deal_id.clone()))
                .unwrap_or(reference);
            Ok(id)
        }
        (_, DealStatus::Unknown) => Err(BrokerError::Internal(format!(
            "Capital.com confirmation {reference} has an unknown deal status"
        ))),
    }
}

/// Market rules the HTTP layer cannot know: trailing stops per market.
fn check_market_rules(
    order: &tv::PlaceOrder,
    details: &model::MarketDetails,
    hedging: bool,
) -> BrokerResult<()> {
    if order.brackets.trailing_stop_pips.is_some()
        && details.dealing_rules.trailing_stops_preference
            == Some(model::TrailingStopsPreference::NotAvailable)
    {
        return Err(BrokerError::Rejected(format!(
            "Trailing stops are not available on {}.",
            order.instrument
        )));
    }
    if order.brackets.guaranteed_stop.is_some() && hedging {
        return Err(BrokerError::Rejected(
            "Capital.com does not allow guaranteed stops while hedging mode is on.".into(),
        ));
    }
    Ok(())
}

/// Which upstream object an order id of ours names.
enum Target {
    WorkingOrder(String),
    /// A bracket leg: the parent deal id and whether it is the stop (else the profit) leg.
    Leg {
        parent: String,
        stop: bool,
    },
}

fn target(order_id: &str) -> Target {
    if let Some(parent) = order_id.strip_suffix(".sl") {
        return Target::Leg {
            parent: parent.to_string(),
            stop: true,
        };
    }
    if let Some(parent) = order_id.strip_suffix(".tp") {
        return Target::Leg {
            parent: parent.to_string(),
            stop: false,
        };
    }
    Target::WorkingOrder(order_id.to_string())
}

/// Modifies a working order (price, duration, brackets) or one bracket leg.
pub(super) async fn modify(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
    order_id: &str,
    change: tv::ModifyOrder,
) -> BrokerResult<()> {
    let upstream = inner.upstream(session)?;
    let scope = upstream.on_account(account).await?;
    let result = match target(order_id) {
        Target::WorkingOrder(id) => {
            let current = find_working(&scope, &id).await?;
            let pip = inner.pip_size(&upstream, &current.epic).await?;
            let body = convert::working_order_update(&current, &change, pip)?;
            update_working(&scope, &current, body, &change.brackets, pip).await
        }
        Target::Leg { parent, stop } => {
            let price = if stop {
                change.stop_price
            } else {
                change.limit_price
            };
            let Some(price) = price else {
                return Err(BrokerError::Rejected(format!(
                    "Give the new {} price of order {order_id}.",
                    if stop { "stop" } else { "limit" }
                )));
            };
            set_leg(inner, &upstream, &scope, &parent, stop, Some(price)).await
        }
    };
    result
}

/// Cancels a working order, or removes one bracket leg from its order or position.
pub(super) async fn cancel(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
    order_id: &str,
) -> BrokerResult<()> {
    let upstream = inner.upstream(session)?;
    let scope = upstream.on_account(account).await?;
    let result = match target(order_id) {
        Target::WorkingOrder(id) => {
            let current = find_working(&scope, &id).await?;
            inner.journal_of(session, account).locked().cancelling(&id);
            let deleted = scope
                .call(Kind::Write, |c, t| {
                    let id = id.clone();
                    async move { c.delete_working_order(&t, &id).await }
                })
                .await;
            match deleted {
                Ok(_) => {
                    if let Some(symbol) = inner.catalog.symbol_of(&current.epic) {
                        let pip = inner.pip_size(&upstream, &current.epic).await?;
                        if let Some(mut parent) =
                            convert::working_order(&symbol, &current, pip).into_iter().next()
                        {
                            parent.status = tv::OrderStatus::Cancelled;
                            parent.last_modified = Some(now_secs());
                            inner.journal_of(session, account).locked().finish(parent);
                        }
                    }
                    Ok(())
                }
                Err(UpstreamError::Call(CallError::Status { status: 404, .. })) => {
                    Err(BrokerError::NotFound(format!(
                        "Order {order_id} is no longer working (filled or cancelled)."
                    )))
                }
                Err(e) => Err(e.into()),
            }
        }
        Target::Leg { parent, stop } => set_leg(inner, &upstream, &scope, &parent, stop, None).await,
    };
    result
}

async fn find_working(scope: &AccountScope<'_>, id: &str) -> BrokerResult<model::WorkingOrderData> {
    let all = scope
        .call(Kind::Read, |c, t| async move { c.working_orders(&t).await })
        .await?;
    all.working_orders
        .into_iter()
        .map(|w| w.working_order_data)
        .find(|d| d.deal_id == id)
        .ok_or_else(|| {
            BrokerError::NotFound(format!(
                "Order {id} is not a working order (filled, cancelled or unknown)."
            ))
        })
}

/// Sends a working order's update (its brackets going to `intended`) and, when a bracket was to go, checks
/// that Capital.com removed it (only a field left out can say so).
async fn update_working(
    scope: &AccountScope<'_>,
    current: &model::WorkingOrderData,
    body: model::UpdateWorkingOrderRequest,
    intended: &tv::Brackets,
    pip: rust_decimal::Decimal,
) -> BrokerResult<()> {
    let id = current.deal_id.as_str();
    let reference = scope
        .call(Kind::Write, |c, t| {
            let (id, body) = (id.to_string(), body.clone());
            async move { c.update_working_order(&t, &id, &body).await }
        })
        .await?
        .deal_reference;
    check_confirmed(scope, &reference).await?;
    let before = convert::order_brackets(current, pip);
    // Nothing to remove (every bracket still there afterwards would be one meant to stay): nothing to check.
    if convert::kept_despite_removal(&before, intended, &before).is_empty() {
        return Ok(());
    }
    let Ok(now) = find_working(scope, id).await else {
        return Ok(());
    };
    let kept = convert::kept_despite_removal(&before, intended, &convert::order_brackets(&now, pip));
    if kept.is_empty() {
        Ok(())
    } else {
        tracing::warn!(
            ?kept,
            "Capital.com kept a bracket whose fields were left out of PUT /workingorders"
        );
        Err(convert::removal_refused(&format!("order {id}"), &kept))
    }
}

/// Sets (or with `None` removes) one bracket leg of a working order or of a deal.
async fn set_leg(
    inner: &Inner,
    upstream: &super::session::Upstream,
    scope: &AccountScope<'_>,
    parent: &str,
    stop: bool,
    price: Option<rust_decimal::Decimal>,
) -> BrokerResult<()> {
    let change = |mut b: tv::Brackets| {
        if stop {
            b.stop_loss = price;
            b.trailing_stop_pips = None;
            b.guaranteed_stop = None;
        } else {
            b.take_profit = price;
        }
        b
    };
    if let Ok(current) = find_working(scope, parent).await {
        let pip = inner.pip_size(upstream, &current.epic).await?;
        let brackets = change(convert::order_brackets(&current, pip));
        let modify = tv::ModifyOrder {
            qty: Some(current.order_size),
            limit_price: Some(current.order_level),
            stop_price: Some(current.order_level),
            duration: None,
            brackets,
        };
        let body = convert::working_order_update(&current, &modify, pip)?;
        return update_working(scope, &current, body, &modify.brackets, pip).await;
    }
    super::positions::update_deal_brackets(inner, upstream, scope, parent, change)
        .await
        .map_err(|e| match e {
            BrokerError::NotFound(_) => BrokerError::NotFound(format!(
                "Order {parent}.{} is unknown: no working order or open position has deal id {parent}.",
                if stop { "sl" } else { "tp" }
            )),
            other => other,
        })
}
