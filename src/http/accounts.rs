//! Configuration and account endpoints: `/config`, `/accounts`, `/userInfo`, `/mapping`, and per account
//! `instruments`, `state` and `balances`.

use crate::broker::BrokerAccount;
use crate::error::{ApiError, ApiResult, TvOk};
use crate::http::extract::Authed;
use crate::http::AppState;
use crate::hub::{SnapshotPart, StreamKind};
use crate::tv;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/config", get(config))
        .route("/accounts", get(accounts))
        .route("/userInfo", get(user_info))
        .route("/mapping", get(mapping))
        .route("/accounts/{account_id}/instruments", get(instruments))
        .route("/accounts/{account_id}/state", get(state))
        .route("/accounts/{account_id}/balances", get(balances))
}

async fn config(State(state): State<AppState>, _authed: Authed) -> ApiResult<TvOk<tv::Config>> {
    let p = state.config().tradingview.pulling_interval;
    let columns = tv::ACCOUNT_SUMMARY_COLUMNS
        .iter()
        .map(|(id, title)| tv::AccountManagerColumn {
            id: (*id).into(),
            title: (*title).into(),
            tooltip: None,
            alignment: Some("right".into()),
        })
        .collect();
    Ok(TvOk(tv::Config {
        account_manager: vec![tv::AccountManagerTable {
            id: "accountSummary".into(),
            title: Some("Account summary".into()),
            columns,
        }],
        durations: state.broker().durations(),
        pulling_interval: tv::PullingInterval {
            quotes: p.quotes,
            orders: p.orders,
            positions: p.positions,
            account_manager: p.account_manager,
            balances: p.balances,
        },
        order_info_config: Some(tv::OrderInfoConfig {
            dependencies: [
                "instrument",
                "side",
                "type",
                "qty",
                "limitPrice",
                "stopPrice",
                "stopLoss",
                "takeProfit",
            ]
            .map(String::from)
            .to_vec(),
        }),
    }))
}

fn to_tv_account(a: &BrokerAccount) -> tv::Account {
    tv::Account {
        id: a.id.clone(),
        name: a.name.clone(),
        kind: a.kind,
        currency: Some(a.currency.clone()),
        currency_sign: tv::currency_sign(&a.currency).map(String::from),
        config: a.capabilities.account_flags(),
    }
}

async fn accounts(State(state): State<AppState>, authed: Authed) -> ApiResult<TvOk<Vec<tv::Account>>> {
    let session = authed.0;
    let accounts = state.broker().accounts(&session.ctx).await?;
    if accounts.is_empty() {
        return Err(ApiError::bad("this login has no trading account"));
    }
    let out = accounts.iter().map(to_tv_account).collect();
    state.sessions().set_accounts(&session.ctx.session_id, accounts);
    Ok(TvOk(out))
}

async fn user_info(State(state): State<AppState>, authed: Authed) -> ApiResult<TvOk<tv::UserInfo>> {
    let session = authed.0;
    let email = state
        .config()
        .auth
        .users
        .iter()
        .find(|u| u.login == session.ctx.user)
        .and_then(|u| u.email.clone());
    Ok(TvOk(tv::UserInfo {
        id: session.ctx.user.clone(),
        name: session.display_name.clone(),
        email,
    }))
}

/// `/mapping` is unauthenticated by the spec and answers without the envelope.
async fn mapping(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    let symbols = state.broker().symbol_mapping().await?;
    Ok(Json(tv::MappingResponse {
        symbols,
        fields: ["brokerSymbol"],
    }))
}

async fn instruments(
    State(state): State<AppState>,
    authed: Authed,
    Path(account_id): Path<String>,
) -> ApiResult<TvOk<Vec<tv::Instrument>>> {
    authed.account(&account_id)?;
    Ok(TvOk(
        state.broker().instruments(&authed.0.ctx, &account_id).await?,
    ))
}

async fn state(
    State(state): State<AppState>,
    authed: Authed,
    Path(account_id): Path<String>,
) -> ApiResult<TvOk<SnapshotPart>> {
    let account = authed.account(&account_id)?;
    let snapshot = state.hubs().get(&authed.0.ctx, account).snapshot().await?;
    Ok(TvOk(SnapshotPart(snapshot, StreamKind::State)))
}

async fn balances(
    State(state): State<AppState>,
    authed: Authed,
    Path(account_id): Path<String>,
) -> ApiResult<TvOk<Vec<tv::CryptoBalance>>> {
    let account = authed.account(&account_id)?;
    if !account.capabilities.crypto_balances {
        return Err(ApiError::bad("crypto balances are not supported on this account"));
    }
    Ok(TvOk(state.broker().balances(&authed.0.ctx, &account_id).await?))
}
