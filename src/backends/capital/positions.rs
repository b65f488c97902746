//! Positions on Capital.com: netting views (one position per symbol over its deals), hedging views
//! (individual deals and net positions), bracket changes, closes, partial closes and reversal.

use super::convert;
use super::deal::check_confirmed;
use super::model::{self, Direction, PositionEntry};
use super::session::{AccountScope, Kind, Upstream};
use super::Inner;
use crate::broker::{BrokerError, BrokerResult, SessionCtx};
use crate::tv;
use rust_decimal::Decimal;
use std::sync::Arc;

/// The account's deals on offered instruments, each with its TradingView symbol.
async fn symbol_deals(inner: &Inner, scope: &AccountScope<'_>) -> BrokerResult<Vec<(String, PositionEntry)>> {
    let deals = inner.deals(scope).await?;
    Ok(with_symbols(inner, &deals))
}

/// The deals on offered instruments, each with its TradingView symbol.
pub(super) fn with_symbols(inner: &Inner, deals: &[PositionEntry]) -> Vec<(String, PositionEntry)> {
    deals
        .iter()
        .filter_map(|d| inner.catalog.symbol_of(&d.market.epic).map(|s| (s, d.clone())))
        .collect()
}

async fn with_deals<T>(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
    view: impl FnOnce(&[(String, PositionEntry)]) -> T,
) -> BrokerResult<T> {
    let upstream = inner.upstream(session)?;
    let scope = upstream.on_account(account).await?;
    let deals = symbol_deals(inner, &scope).await?;
    Ok(view(&deals))
}

pub(super) async fn positions(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
) -> BrokerResult<Vec<tv::Position>> {
    with_deals(inner, session, account, convert::positions).await
}

pub(super) async fn net_positions(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
) -> BrokerResult<Vec<tv::NetPosition>> {
    with_deals(inner, session, account, convert::net_positions).await
}

pub(super) async fn individual_positions(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
) -> BrokerResult<Vec<tv::IndividualPosition>> {
    with_deals(inner, session, account, individual).await
}

/// Every deal as an individual position.
pub(super) fn individual(deals: &[(String, PositionEntry)]) -> Vec<tv::IndividualPosition> {
    deals
        .iter()
        .map(|(symbol, entry)| convert::individual_position(symbol, entry))
        .collect()
}

/// Deals of the position `position_id` names: a symbol (netting and net positions) or one deal id.
fn deals_of(position_id: &str, deals: &[(String, PositionEntry)]) -> Vec<PositionEntry> {
    let by_symbol: Vec<PositionEntry> = deals
        .iter()
        .filter(|(s, _)| s == position_id)
        .map(|(_, d)| d.clone())
        .collect();
    if !by_symbol.is_empty() {
        return by_symbol;
    }
    deals
        .iter()
        .filter(|(_, d)| d.position.deal_id == position_id)
        .map(|(_, d)| d.clone())
        .collect()
}

fn no_position(position_id: &str) -> BrokerError {
    BrokerError::NotFound(format!("There is no open position '{position_id}'."))
}

/// Signed net size of deals (BUY positive).
fn net(deals: &[PositionEntry]) -> Decimal {
    deals
        .iter()
        .map(|d| match d.position.direction {
            Direction::Buy => d.position.size,
            Direction::Sell => -d.position.size,
            Direction::Unknown => Decimal::ZERO,
        })
        .sum()
}

/// Netting position change: new brackets on every deal of the symbol, or a reversal (`side`).
pub(super) async fn modify(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
    position_id: &str,
    change: tv::ModifyPosition,
) -> BrokerResult<()> {
    let upstream = inner.upstream(session)?;
    let scope = upstream.on_account(account).await?;
    let all = symbol_deals(inner, &scope).await?;
    let deals = deals_of(position_id, &all);
    if deals.is_empty() {
        return Err(no_position(position_id));
    }
    let epic = deals[0].market.epic.clone();
    let result = if let Some(side) = change.side {
        let size = net(&deals);
        let current = if size > Decimal::ZERO {
            tv::Side::Buy
        } else {
            tv::Side::Sell
        };
        if size.is_zero() {
            Err(no_position(position_id))
        } else if side == current {
            Err(BrokerError::Rejected(format!(
                "Position {position_id} is already {side}."
            )))
        } else {
            // On a netting account an opposite deal of twice the size closes the position and opens the
            // reverse one in a single request.
            deal(&scope, &epic, convert::direction(side), size.abs() * Decimal::TWO).await
        }
    } else {
        let pip = inner.pip_size(&upstream, &epic).await?;
        let mut result = Ok(());
        for d in &deals {
            result = set_deal_brackets(&scope, &d.position, &change.brackets, pip).await;
            if result.is_err() {
                break;
            }
        }
        result
    };
    result
}

/// Closes a netting position (all its deals), or part of it with an opposite deal.
pub(super) async fn close(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
    position_id: &str,
    amount: Option<Decimal>,
) -> BrokerResult<()> {
    let upstream = inner.upstream(session)?;
    let scope = upstream.on_account(account).await?;
    let all = symbol_deals(inner, &scope).await?;
    let deals = deals_of(position_id, &all);
    if deals.is_empty() {
        return Err(no_position(position_id));
    }
    let size = net(&deals);
    let result = match amount {
        Some(a) if a <= Decimal::ZERO => Err(BrokerError::Rejected(
            "The amount to close must be positive.".into(),
        )),
        Some(a) if a > size.abs() && !size.is_zero() => Err(BrokerError::Rejected(format!(
            "Cannot close {a} of position {position_id}: it holds {}.",
            size.abs()
        ))),
        Some(a) if a < size.abs() => {
            let direction = if size > Decimal::ZERO {
                Direction::Sell
            } else {
                Direction::Buy
            };
            deal(&scope, &deals[0].market.epic, direction, a).await
        }
        _ => {
            let mut result = Ok(());
            for d in &deals {
                result = close_one(&scope, &d.position.deal_id).await;
                if result.is_err() {
                    break;
                }
            }
            result
        }
    };
    result
}

/// Hedging: new brackets of one deal.
pub(super) async fn modify_deal(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
    deal_id: &str,
    brackets: tv::Brackets,
) -> BrokerResult<()> {
    let upstream = inner.upstream(session)?;
    let scope = upstream.on_account(account).await?;
    let result = update_deal_brackets(inner, &upstream, &scope, deal_id, |_| brackets.clone()).await;
    result
}

/// Hedging: closes one deal. Capital.com closes a deal only whole, and on a hedging account an opposite deal
/// opens a new position instead of reducing this one, so a partial amount is refused.
pub(super) async fn close_deal(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
    deal_id: &str,
    amount: Option<Decimal>,
) -> BrokerResult<()> {
    let upstream = inner.upstream(session)?;
    let scope = upstream.on_account(account).await?;
    let all = symbol_deals(inner, &scope).await?;
    let Some((_, d)) = all.iter().find(|(_, d)| d.position.deal_id == deal_id) else {
        return Err(no_position(deal_id));
    };
    if amount.is_some_and(|a| a != d.position.size) {
        return Err(BrokerError::Rejected(
            "Capital.com closes a hedged position only in full.".into(),
        ));
    }
    let result = close_one(&scope, deal_id).await;
    result
}

/// Replaces the brackets of one deal with `change(current brackets)`.
pub(super) async fn update_deal_brackets(
    inner: &Inner,
    upstream: &Upstream,
    scope: &AccountScope<'_>,
    deal_id: &str,
    change: impl FnOnce(tv::Brackets) -> tv::Brackets,
) -> BrokerResult<()> {
    let all = scope
        .call(Kind::Read, |c, t| async move { c.positions(&t).await })
        .await?;
    let Some(entry) = all.positions.into_iter().find(|p| p.position.deal_id == deal_id) else {
        return Err(no_position(deal_id));
    };
    let pip = inner.pip_size(upstream, &entry.market.epic).await?;
    let brackets = change(convert::deal_brackets(&entry.position, pip));
    set_deal_brackets(scope, &entry.position, &brackets, pip).await
}

/// Sets the brackets of `deal` to `intended` (the complete set) and, when a bracket was to go, checks that
/// Capital.com removed it: only a field left out can say so, and whether that removes or keeps a bracket
/// is not documented.
async fn set_deal_brackets(
    scope: &AccountScope<'_>,
    deal: &model::PositionData,
    intended: &tv::Brackets,
    pip: Decimal,
) -> BrokerResult<()> {
    let current = convert::deal_brackets(deal, pip);
    let body = convert::position_update(intended, &current, pip)?;
    update_deal(scope, &deal.deal_id, body).await?;
    // Nothing to remove (every bracket still there afterwards would be one meant to stay): nothing to check.
    if convert::kept_despite_removal(&current, intended, &current).is_empty() {
        return Ok(());
    }
    let after = scope
        .call(Kind::Read, |c, t| async move { c.positions(&t).await })
        .await?;
    let Some(now) = after
        .positions
        .iter()
        .find(|p| p.position.deal_id == deal.deal_id)
    else {
        return Ok(());
    };
    let kept = convert::kept_despite_removal(&current, intended, &convert::deal_brackets(&now.position, pip));
    if kept.is_empty() {
        Ok(())
    } else {
        tracing::warn!(
            ?kept,
            "Capital.com kept a bracket whose fields were left out of PUT /positions"
        );
        Err(convert::removal_refused(&format!("deal {}", deal.deal_id), &kept))
    }
}

async fn update_deal(
    scope: &AccountScope<'_>,
    deal_id: &str,
    body: model::UpdatePositionRequest,
) -> BrokerResult<()> {
    let reference = scope
        .call(Kind::Write, |c, t| {
            let (id, body) = (deal_id.to_string(), body.clone());
            async move { c.update_position(&t, &id, &body).await }
        })
        .await?
        .deal_reference;
    check_confirmed(scope, &reference).await
}

async fn close_one(scope: &AccountScope<'_>, deal_id: &str) -> BrokerResult<()> {
    let reference = scope
        .call(Kind::Write, |c, t| {
            let id = deal_id.to_string();
            async move { c.close_position(&t, &id).await }
        })
        .await?
        .deal_reference;
    check_confirmed(scope, &reference).await
}

/// An opposite (or reversing) market deal on a netting account.
async fn deal(scope: &AccountScope<'_>, epic: &str, direction: Direction, size: Decimal) -> BrokerResult<()> {
    let body = model::CreatePositionRequest {
        epic: epic.to_string(),
        direction,
        size,
        stops: Default::default(),
    };
    let body = Arc::new(body);
    let reference = scope
        .call(Kind::Write, |c, t| {
            let body = body.clone();
            async move { c.create_position(&t, &body).await }
        })
        .await?
        .deal_reference;
    check_confirmed(scope, &reference).await
}
