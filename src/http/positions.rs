//! Position endpoints: positions (netting accounts), net and individual positions (hedging accounts),
//! with bracket changes, reverse, and (partial) close.

use crate::broker::BrokerAccount;
use crate::error::{ApiError, ApiResult, TvDone, TvOk};
use crate::http::extract::{Authed, TvForm};
use crate::http::order_form;
use crate::http::AppState;
use crate::tv;
use axum::extract::{Path, State};
use axum::routing::{delete, get, put};
use axum::Router;

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

fn require_netting(account: &BrokerAccount) -> ApiResult<()> {
    if account.capabilities.hedging {
        return Err(ApiError::bad(format!(
            "account {} keeps individual positions: use /individualPositions and /netPositions",
            account.id
        )));
    }
    Ok(())
}

fn require_hedging(account: &BrokerAccount) -> ApiResult<()> {
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

async fn positions(
    State(state): State<AppState>,
    authed: Authed,
    Path(account_id): Path<String>,
) -> ApiResult<TvOk<Vec<tv::Position>>> {
    require_netting(authed.account(&account_id)?)?;
    Ok(TvOk(state.broker().positions(&authed.0.ctx, &account_id).await?))
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
    state
        .broker()
        .modify_position(&authed.0.ctx, &account_id, &position_id, change)
        .await?;
    Ok(TvDone)
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
    state
        .broker()
        .close_position(&authed.0.ctx, &account_id, &position_id, amount)
        .await?;
    Ok(TvDone)
}

async fn net_positions(
    State(state): State<AppState>,
    authed: Authed,
    Path(account_id): Path<String>,
) -> ApiResult<TvOk<Vec<tv::NetPosition>>> {
    require_hedging(authed.account(&account_id)?)?;
    Ok(TvOk(
        state.broker().net_positions(&authed.0.ctx, &account_id).await?,
    ))
}

async fn close_net_position(
    State(state): State<AppState>,
    authed: Authed,
    Path((account_id, position_id)): Path<(String, String)>,
) -> ApiResult<TvDone> {
    let account = authed.account(&account_id)?;
    require_hedging(account)?;
    require_close(account, None)?;
    state
        .broker()
        .close_net_position(&authed.0.ctx, &account_id, &position_id)
        .await?;
    Ok(TvDone)
}

async fn individual_positions(
    State(state): State<AppState>,
    authed: Authed,
    Path(account_id): Path<String>,
) -> ApiResult<TvOk<Vec<tv::IndividualPosition>>> {
    require_hedging(authed.account(&account_id)?)?;
    Ok(TvOk(
        state
            .broker()
            .individual_positions(&authed.0.ctx, &account_id)
            .await?,
    ))
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
    state
        .broker()
        .modify_individual_position(&authed.0.ctx, &account_id, &position_id, change.brackets)
        .await?;
    Ok(TvDone)
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
    state
        .broker()
        .close_individual_position(&authed.0.ctx, &account_id, &position_id, amount)
        .await?;
    Ok(TvDone)
}
