//! Position endpoints: positions (netting accounts), net and individual positions (hedging accounts),
//! with bracket changes, reverse, and (partial) close. Lists come from the account hub; every change
//! refreshes it so the next poll and every stream see the result.

use crate::broker::{BrokerAccount, BrokerResult};
use crate::error::{ApiError, ApiResult, TvDone, TvOk};
use crate::http::extract::{Authed, TvForm};
use crate::http::order_form;
use crate::http::AppState;
use crate::hub::{Snapshot, SnapshotPart, StreamKind};
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
) -> ApiResult<TvDone> {
    state.hubs().get(&authed.0.ctx, account).after_write().await;
    result?;
    Ok(TvDone)
}

async fn positions(
    State(state): State<AppState>,
    authed: Authed,
    Path(account_id): Path<String>,
) -> ApiResult<TvOk<SnapshotPart>> {
    let account = authed.account(&account_id)?;
    require_netting(account)?;
    Ok(TvOk(SnapshotPart(
        snapshot(&state, &authed, account).await?,
        StreamKind::Positions,
    )))
}

async fn modify_position(
    State(state): State<AppState>,
    authed: Authed,
    Path((account_id, position_id)): Path<(String, String)>,
    TvForm(form): TvForm,
) -> ApiResult<TvDone> {
    let account = authed.account(&account_id)?;
    require_netting(account)?;
    let change = order_form::modify_position(&form)?;
    if change.side.is_some() && !account.capabilities.native_reverse {
        return Err(ApiError::bad(
            "reversing a position in one request is not supported on this account",
        ));
    }
    order_form::check_brackets(&change.brackets, &account.capabilities, true)?;
    let result = state
        .broker()
        .modify_position(&authed.0.ctx, &account_id, &position_id, change)
        .await;
    after_write(&state, &authed, account, result).await
}

async fn close_position(
    State(state): State<AppState>,
    authed: Authed,
    Path((account_id, position_id)): Path<(String, String)>,
    TvForm(form): TvForm,
) -> ApiResult<TvDone> {
    let account = authed.account(&account_id)?;
    require_netting(account)?;
    let amount = order_form::close_amount(&form)?;
    require_close(account, amount)?;
    let result = state
        .broker()
        .close_position(&authed.0.ctx, &account_id, &position_id, amount)
        .await;
    after_write(&state, &authed, account, result).await
}

async fn net_positions(
    State(state): State<AppState>,
    authed: Authed,
    Path(account_id): Path<String>,
) -> ApiResult<TvOk<SnapshotPart>> {
    let account = authed.account(&account_id)?;
    require_hedging(account)?;
    Ok(TvOk(SnapshotPart(
        snapshot(&state, &authed, account).await?,
        StreamKind::NetPositions,
    )))
}

async fn close_net_position(
    State(state): State<AppState>,
    authed: Authed,
    Path((account_id, position_id)): Path<(String, String)>,
) -> ApiResult<TvDone> {
    let account = authed.account(&account_id)?;
    require_hedging(account)?;
    require_close(account, None)?;
    let result = state
        .broker()
        .close_net_position(&authed.0.ctx, &account_id, &position_id)
        .await;
    after_write(&state, &authed, account, result).await
}

async fn individual_positions(
    State(state): State<AppState>,
    authed: Authed,
    Path(account_id): Path<String>,
) -> ApiResult<TvOk<SnapshotPart>> {
    let account = authed.account(&account_id)?;
    require_hedging(account)?;
    Ok(TvOk(SnapshotPart(
        snapshot(&state, &authed, account).await?,
        StreamKind::IndividualPositions,
    )))
}

async fn modify_individual_position(
    State(state): State<AppState>,
    authed: Authed,
    Path((account_id, position_id)): Path<(String, String)>,
    TvForm(form): TvForm,
) -> ApiResult<TvDone> {
    let account = authed.account(&account_id)?;
    require_hedging(account)?;
    let change = order_form::modify_position(&form)?;
    if change.side.is_some() {
        return Err(ApiError::bad(
            "an individual position cannot be reversed; close it and open a new one",
        ));
    }
    order_form::check_brackets(&change.brackets, &account.capabilities, true)?;
    let result = state
        .broker()
        .modify_individual_position(&authed.0.ctx, &account_id, &position_id, change.brackets)
        .await;
    after_write(&state, &authed, account, result).await
}

async fn close_individual_position(
    State(state): State<AppState>,
    authed: Authed,
    Path((account_id, position_id)): Path<(String, String)>,
    TvForm(form): TvForm,
) -> ApiResult<TvDone> {
    let account = authed.account(&account_id)?;
    require_hedging(account)?;
    let amount = order_form::close_amount(&form)?;
    require_close(account, amount)?;
    let result = state
        .broker()
        .close_individual_position(&authed.0.ctx, &account_id, &position_id, amount)
        .await;
    after_write(&state, &authed, account, result).await
}
