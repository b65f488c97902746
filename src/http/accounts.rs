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

async fn config(State(state): State<AppState>, authed: Authed) -> ApiResult<TvOk<tv::Config>> {
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
        durations: offered_durations(&authed.0.accounts),
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

/// The durations `/config` offers: every duration at least one of the user's accounts accepts, in the order
/// the accounts list them, each with the order types of all accounts that accept it. `/config` is one list
/// per user while accounts may differ (OANDA v1 and v20 in one mapped login), so an order's duration is
/// checked again against its own account when it is placed.
fn offered_durations(accounts: &[BrokerAccount]) -> Vec<tv::DurationConfig> {
    let mut out: Vec<tv::DurationConfig> = Vec::new();
    for d in accounts.iter().flat_map(|a| &a.durations) {
        match out.iter_mut().find(|o| o.id == d.id) {
            Some(known) => {
                for kind in &d.supported_order_types {
                    if !known.supported_order_types.contains(kind) {
                        known.supported_order_types.push(*kind);
                    }
                }
            }
            None => out.push(d.clone()),
        }
    }
    out
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
    let rows = state.hubs().catalogs().rows(&authed.0.ctx, &account_id).await?;
    Ok(TvOk(rows.as_ref().clone()))
}

async fn state(
    State(state): State<AppState>,
    authed: Authed,
    Path(account_id): Path<String>,
) -> ApiResult<SnapshotPart> {
    let account = authed.account(&account_id)?;
    let snapshot = state.hubs().get(&authed.0.ctx, account).snapshot().await?;
    Ok(SnapshotPart(snapshot, StreamKind::State))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::Capabilities;
    use tv::OrderType::{Limit, Market, Stop, StopLimit};

    fn row(id: &str, default: bool, types: &[tv::OrderType]) -> tv::DurationConfig {
        tv::DurationConfig {
            id: id.into(),
            title: id.into(),
            has_date_picker: false,
            has_time_picker: false,
            default,
            supported_order_types: types.to_vec(),
        }
    }

    fn account(id: &str, durations: Vec<tv::DurationConfig>) -> BrokerAccount {
        BrokerAccount {
            id: id.into(),
            name: id.into(),
            kind: tv::AccountType::Demo,
            currency: "USD".into(),
            capabilities: Capabilities::default(),
            durations,
        }
    }

    #[test]
    fn config_offers_what_at_least_one_account_accepts() {
        let legacy = account(
            "1",
            vec![row("GTC", true, &[Limit, Stop]), row("FOK", true, &[Market])],
        );
        let modern = account(
            "2",
            vec![
                row("GTC", true, &[Limit, Stop, StopLimit]),
                row("GFD", false, &[Limit, Stop, StopLimit]),
                row("FOK", true, &[Market]),
                row("IOC", false, &[Market]),
            ],
        );
        let offered = offered_durations(&[legacy.clone(), modern]);
        let ids: Vec<&str> = offered.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["GTC", "FOK", "GFD", "IOC"]);
        assert_eq!(offered[0].supported_order_types, [Limit, Stop, StopLimit]);
        assert!(offered[0].default && offered[1].default && !offered[3].default);
        // One account alone offers exactly its own list.
        assert_eq!(offered_durations(std::slice::from_ref(&legacy)), legacy.durations);
    }
}
