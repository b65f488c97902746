//! Position endpoints: positions (netting accounts), net and individual positions (hedging accounts),
//! with bracket changes, reverse, and (partial) close. Lists come from the account hub; every change
//! refreshes it so the next poll and every stream see the result, and leaves one audit line.

use crate::broker::{BrokerAccount, BrokerResult};
use crate::error::{ApiError, ApiResult, TvDone};
use crate::http::audit::{self, Action, Actor, RequestId, Subject};
use crate::http::extract::{Authed, Fields, TvForm};
use crate::http::order_form;
use crate::http::AppState;
use crate::hub::{Snapshot, SnapshotPart, StreamKind};
use crate::tv;
use axum::extract::{Path, State};
use axum::routing::{delete, get, put};
use axum::Router;
use std::sync::Arc;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/accounts/{account_id}/positions", get(positions))
        .route(
            "/accounts/{account_id}/positions/{position_id}",
            put(modify_position).delete(close_position),
        )
        .route("/accounts/{account_id}/netPositions", get(net_positions))
        .route(
            "/accounts/{account_id}/netPositions/{position_id}",
            delete(close_net_position),
        )
        .route(
            "/accounts/{account_id}/individualPositions",
            get(individual_positions),
        )
        .route(
            "/accounts/{account_id}/individualPositions/{position_id}",
            put(modify_individual_position).delete(close_individual_position),
        )
}

/// Refused on hedging accounts, which TradingView reads through net and individual positions.
pub fn require_netting(account: &BrokerAccount) -> ApiResult<()> {
    if account.capabilities.hedging {
        return Err(ApiError::bad(format!(
            "account {} keeps individual positions: use /individualPositions and /netPositions",
            account.id
        )));
    }
    Ok(())
}

/// Refused on netting accounts, which have one position per instrument.
pub fn require_hedging(account: &BrokerAccount) -> ApiResult<()> {
    if !account.capabilities.hedging {
        return Err(ApiError::bad(format!(
            "account {} nets positions per instrument: use /positions",
            account.id
        )));
    }
    Ok(())
}

fn require_close(account: &BrokerAccount, amount: Option<rust_decimal::Decimal>) -> ApiResult<()> {
    if !account.capabilities.close_position {
        return Err(ApiError::bad(
            "closing positions is not supported on this account",
        ));
    }
    if amount.is_some() && !account.capabilities.partial_close {
        return Err(ApiError::bad("partial close is not supported on this account"));
    }
    Ok(())
}

async fn snapshot(state: &AppState, authed: &Authed, account: &BrokerAccount) -> ApiResult<Arc<Snapshot>> {
    Ok(state.hubs().get(&authed.0.ctx, account).snapshot().await?)
}

/// Refreshes the account hub after a write, whatever its outcome, then answers.
async fn after_write(
    state: &AppState,
    authed: &Authed,
    account: &BrokerAccount,
    result: BrokerResult<()>,
) -> ApiResult<()> {
    state.hubs().get(&authed.0.ctx, account).after_write().await;
    Ok(result?)
}

/// Which list a position id belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Position,
    Net,
    Individual,
}

/// Instrument, side and quantity of position `id` in `snapshot`.
fn find_position(
    snapshot: &Snapshot,
    kind: Kind,
    id: &str,
) -> Option<(String, tv::Side, rust_decimal::Decimal)> {
    match kind {
        Kind::Position => snapshot
            .positions
            .iter()
            .find(|p| p.id == id)
            .map(|p| (p.instrument.clone(), p.side, p.qty)),
        Kind::Net => snapshot.net_positions.iter().find(|p| p.id == id).map(|p| {
            let side = if p.qty.is_sign_negative() {
                tv::Side::Sell
            } else {
                tv::Side::Buy
            };
            (p.instrument.clone(), side, p.qty.abs())
        }),
        Kind::Individual => snapshot
            .individual_positions
            .iter()
            .find(|p| p.id == id)
            .map(|p| (p.instrument.clone(), p.side, p.qty)),
    }
}

/// Fills the audit subject from the hub's last snapshot (no backend call).
fn describe(
    state: &AppState,
    authed: &Authed,
    account: &BrokerAccount,
    kind: Kind,
    id: &str,
    subject: &mut Subject,
) {
    let latest = state.hubs().get(&authed.0.ctx, account).latest();
    if let Some((instrument, side, qty)) = latest.and_then(|s| find_position(&s, kind, id)) {
        subject.instrument = Some(instrument);
        subject.side = Some(side.to_string());
        subject.qty = Some(qty.to_string());
    }
}

/// Refuses bracket prices that cannot be prices of the position's instrument. A position the hub does not
/// know is left to the backend, which answers that it does not exist.
async fn check_position_brackets(
    state: &AppState,
    authed: &Authed,
    account: &BrokerAccount,
    kind: Kind,
    id: &str,
    brackets: &tv::Brackets,
) -> ApiResult<()> {
    if brackets.is_empty() {
        return Ok(());
    }
    let snapshot = snapshot(state, authed, account).await?;
    let Some((instrument, _, _)) = find_position(&snapshot, kind, id) else {
        return Ok(());
    };
    let instruments = state
        .hubs()
        .catalogs()
        .rows_with(&authed.0.ctx, &account.id, &instrument)
        .await?;
    let instrument = order_form::find_instrument(&instruments, &instrument)?;
    order_form::check_bracket_prices(brackets, instrument)
}

/// The audit subject of a write on position `id`: the id and the form's details.
fn subject(id: &str, form: Option<&Fields>) -> Subject {
    let subject = Subject {
        upstream_id: Some(audit::clean(id)),
        ..Subject::default()
    };
    match form {
        Some(f) => subject.with_fields(
            f,
            &[
                "amount",
                "side",
                "stopLoss",
                "takeProfit",
                "trailingStopPips",
                "guaranteedStop",
            ],
        ),
        None => subject,
    }
}

/// Writes the audit line of a position write and answers.
fn audit(
    action: Action,
    request_id: &str,
    authed: &Authed,
    account_id: &str,
    subject: &Subject,
    result: ApiResult<()>,
) -> ApiResult<TvDone> {
    let actor = Actor {
        request_id,
        user: &authed.0.ctx.user,
        account: account_id,
    };
    audit::trade(action, &actor, subject, &result);
    result.map(|()| TvDone)
}

/// Reverse when the form names a side, otherwise a change of brackets.
fn modify_action(form: &Fields) -> Action {
    if form.str_opt("side").is_some() {
        Action::Reverse
    } else {
        Action::Brackets
    }
}

async fn positions(
    State(state): State<AppState>,
    authed: Authed,
    Path(account_id): Path<String>,
) -> ApiResult<SnapshotPart> {
    let account = authed.account(&account_id)?;
    require_netting(account)?;
    Ok(SnapshotPart(
        snapshot(&state, &authed, account).await?,
        StreamKind::Positions,
    ))
}

async fn modify_position(
    State(state): State<AppState>,
    RequestId(rid): RequestId,
    authed: Authed,
    Path((account_id, position_id)): Path<(String, String)>,
    TvForm(form): TvForm,
) -> ApiResult<TvDone> {
    let mut subject = subject(&position_id, Some(&form));
    let result = async {
        let account = authed.account(&account_id)?;
        describe(
            &state,
            &authed,
            account,
            Kind::Position,
            &position_id,
            &mut subject,
        );
        require_netting(account)?;
        let change = order_form::modify_position(&form)?;
        if change.side.is_some() && !account.capabilities.native_reverse {
            return Err(ApiError::bad(
                "reversing a position in one request is not supported on this account",
            ));
        }
        order_form::check_brackets(&change.brackets, &account.capabilities, true)?;
        check_position_brackets(
            &state,
            &authed,
            account,
            Kind::Position,
            &position_id,
            &change.brackets,
        )
        .await?;
        let result = state
            .broker()
            .modify_position(&authed.0.ctx, &account_id, &position_id, change)
            .await;
        after_write(&state, &authed, account, result).await
    }
    .await;
    audit(modify_action(&form), &rid, &authed, &account_id, &subject, result)
}

async fn close_position(
    State(state): State<AppState>,
    RequestId(rid): RequestId,
    authed: Authed,
    Path((account_id, position_id)): Path<(String, String)>,
    TvForm(form): TvForm,
) -> ApiResult<TvDone> {
    let mut subject = subject(&position_id, Some(&form));
    let result = async {
        let account = authed.account(&account_id)?;
        describe(
            &state,
            &authed,
            account,
            Kind::Position,
            &position_id,
            &mut subject,
        );
        require_netting(account)?;
        let amount = order_form::close_amount(&form)?;
        require_close(account, amount)?;
        let result = state
            .broker()
            .close_position(&authed.0.ctx, &account_id, &position_id, amount)
            .await;
        after_write(&state, &authed, account, result).await
    }
    .await;
    audit(Action::Close, &rid, &authed, &account_id, &subject, result)
}

async fn net_positions(
    State(state): State<AppState>,
    authed: Authed,
    Path(account_id): Path<String>,
) -> ApiResult<SnapshotPart> {
    let account = authed.account(&account_id)?;
    require_hedging(account)?;
    Ok(SnapshotPart(
        snapshot(&state, &authed, account).await?,
        StreamKind::NetPositions,
    ))
}

async fn close_net_position(
    State(state): State<AppState>,
    RequestId(rid): RequestId,
    authed: Authed,
    Path((account_id, position_id)): Path<(String, String)>,
) -> ApiResult<TvDone> {
    let mut subject = subject(&position_id, None);
    let result = async {
        let account = authed.account(&account_id)?;
        describe(&state, &authed, account, Kind::Net, &position_id, &mut subject);
        require_hedging(account)?;
        require_close(account, None)?;
        let result = state
            .broker()
            .close_net_position(&authed.0.ctx, &account_id, &position_id)
            .await;
        after_write(&state, &authed, account, result).await
    }
    .await;
    audit(Action::Close, &rid, &authed, &account_id, &subject, result)
}

async fn individual_positions(
    State(state): State<AppState>,
    authed: Authed,
    Path(account_id): Path<String>,
) -> ApiResult<SnapshotPart> {
    let account = authed.account(&account_id)?;
    require_hedging(account)?;
    Ok(SnapshotPart(
        snapshot(&state, &authed, account).await?,
        StreamKind::IndividualPositions,
    ))
}

async fn modify_individual_position(
    State(state): State<AppState>,
    RequestId(rid): RequestId,
    authed: Authed,
    Path((account_id, position_id)): Path<(String, String)>,
    TvForm(form): TvForm,
) -> ApiResult<TvDone> {
    let mut subject = subject(&position_id, Some(&form));
    let result = async {
        let account = authed.account(&account_id)?;
        describe(
            &state,
            &authed,
            account,
            Kind::Individual,
            &position_id,
            &mut subject,
        );
        require_hedging(account)?;
        let change = order_form::modify_position(&form)?;
        if change.side.is_some() {
            return Err(ApiError::bad(
                "an individual position cannot be reversed; close it and open a new one",
            ));
        }
        order_form::check_brackets(&change.brackets, &account.capabilities, true)?;
        check_position_brackets(
            &state,
            &authed,
            account,
            Kind::Individual,
            &position_id,
            &change.brackets,
        )
        .await?;
        let result = state
            .broker()
            .modify_individual_position(&authed.0.ctx, &account_id, &position_id, change.brackets)
            .await;
        after_write(&state, &authed, account, result).await
    }
    .await;
    audit(modify_action(&form), &rid, &authed, &account_id, &subject, result)
}

async fn close_individual_position(
    State(state): State<AppState>,
    RequestId(rid): RequestId,
    authed: Authed,
    Path((account_id, position_id)): Path<(String, String)>,
    TvForm(form): TvForm,
) -> ApiResult<TvDone> {
    let mut subject = subject(&position_id, Some(&form));
    let result = async {
        let account = authed.account(&account_id)?;
        describe(
            &state,
            &authed,
            account,
            Kind::Individual,
            &position_id,
            &mut subject,
        );
        require_hedging(account)?;
        let amount = order_form::close_amount(&form)?;
        require_close(account, amount)?;
        let result = state
            .broker()
            .close_individual_position(&authed.0.ctx, &account_id, &position_id, amount)
            .await;
        after_write(&state, &authed, account, result).await
    }
    .await;
    audit(Action::Close, &rid, &authed, &account_id, &subject, result)
}
