//! Accounts on Capital.com: the account list with each account's hedging mode, account state, executions
//! and order history from `/history/activity`, and leverage from `/accounts/preferences`.

use super::client::ActivityQuery;
use super::session::Kind;
use super::{capabilities, convert, durations, model, AccountInfo, Inner};
use crate::broker::{BrokerAccount, BrokerError, BrokerResult, SessionCtx};
use crate::tv;
use rust_decimal::Decimal;

/// Activity looked at for executions and order history: the last day (the API's `lastPeriod` is in seconds
/// and is measured on Capital.com's clock, so no clock skew can hide a deal).
pub(super) const ACTIVITY_PERIOD_SECS: u64 = 86_400;

/// The login's accounts. The hedging mode is per account (`/accounts/preferences` answers for the current
/// one), so each account is visited once per login.
pub(super) async fn accounts(inner: &Inner, session: &SessionCtx) -> BrokerResult<Vec<BrokerAccount>> {
    let upstream = inner.upstream(session)?;
    let list = upstream
        .call(Kind::Read, |c, t| async move { c.accounts(&t).await })
        .await?;
    let mut out = Vec::new();
    for account in &list.accounts {
        let scope = upstream.on_account(&account.account_id).await?;
        let prefs = scope
            .call(Kind::Read, |c, t| async move { c.preferences(&t).await })
            .await?;
        upstream.remember_account(
            &account.account_id,
            AccountInfo {
                hedging: prefs.hedging_mode,
                currency: account.currency.clone(),
            },
        );
        out.push(BrokerAccount {
            id: account.account_id.clone(),
            name: account
                .account_name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| account.account_id.clone()),
            kind: if inner.demo {
                tv::AccountType::Demo
            } else {
                convert::account_type(account)
            },
            currency: account.currency.clone(),
            capabilities: capabilities(prefs.hedging_mode),
            durations: durations(),
        });
    }
    // The preferred account first: TradingView selects the first one.
    out.sort_by_key(|a| !list.accounts.iter().any(|x| x.account_id == a.id && x.preferred));
    Ok(out)
}

/// Balance, P/L and margin of `account` from `/accounts`.
pub(super) async fn state(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
) -> BrokerResult<tv::AccountState> {
    let upstream = inner.upstream(session)?;
    let list = upstream
        .call(Kind::Read, |c, t| async move { c.accounts(&t).await })
        .await?;
    let found = list
        .accounts
        .iter()
        .find(|a| a.account_id == account)
        .ok_or_else(|| BrokerError::NotFound(format!("Unknown account '{account}'")))?;
    Ok(convert::account_state(found))
}

async fn activity(inner: &Inner, session: &SessionCtx, account: &str) -> BrokerResult<Vec<model::Activity>> {
    let upstream = inner.upstream(session)?;
    let scope = upstream.on_account(account).await?;
    let query = ActivityQuery {
        last_period: Some(ACTIVITY_PERIOD_SECS),
        detailed: true,
        ..Default::default()
    };
    let answer = scope
        .call(Kind::Read, |c, t| {
            let query = query.clone();
            async move { c.activity(&t, &query).await }
        })
        .await?;
    Ok(answer.activities)
}

pub(super) async fn executions(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
    instrument: Option<&str>,
    max_count: Option<usize>,
) -> BrokerResult<Vec<tv::Execution>> {
    let activities = activity(inner, session, account).await?;
    let symbol_of = |epic: &str| inner.catalog.symbol_of(epic);
    let mut out = convert::executions(&activities, &symbol_of);
    if let Some(symbol) = instrument {
        out.retain(|e| e.instrument == symbol);
    }
    if let Some(max) = max_count {
        out.truncate(max);
    }
    Ok(out)
}

pub(super) async fn orders_history(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
    max_count: Option<usize>,
) -> BrokerResult<Vec<tv::Order>> {
    let activities = activity(inner, session, account).await?;
    let symbol_of = |epic: &str| inner.catalog.symbol_of(epic);
    let mut out = convert::orders_history(&activities, &symbol_of);
    if let Some(max) = max_count {
        out.truncate(max);
    }
    Ok(out)
}

/// The instrument type that leverage is set for (Capital.com sets leverage per type, not per instrument).
async fn instrument_type(
    inner: &Inner,
    session: &SessionCtx,
    symbol: &str,
) -> BrokerResult<model::InstrumentType> {
    let epic = inner.catalog.epic_of(symbol)?;
    let upstream = inner.upstream(session)?;
    let details = inner.catalog.detail(&upstream, &epic).await?;
    Ok(details.instrument.instrument_type)
}

async fn preferences(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
) -> BrokerResult<model::AccountPreferences> {
    let upstream = inner.upstream(session)?;
    let scope = upstream.on_account(account).await?;
    Ok(scope
        .call(Kind::Read, |c, t| async move { c.preferences(&t).await })
        .await?)
}

pub(super) async fn get_leverage(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
    query: &tv::LeverageQuery,
) -> BrokerResult<tv::LeverageInfo> {
    let kind = instrument_type(inner, session, &query.instrument).await?;
    let prefs = preferences(inner, session, account).await?;
    convert::leverage_info(&prefs, kind).ok_or_else(|| {
        BrokerError::Rejected(format!(
            "Capital.com offers no leverage setting for {}.",
            query.instrument
        ))
    })
}

pub(super) async fn set_leverage(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
    query: &tv::LeverageQuery,
    leverage: Decimal,
) -> BrokerResult<tv::LeverageSet> {
    let info = get_leverage(inner, session, account, query).await?;
    check_leverage(&info, leverage)?;
    let kind = instrument_type(inner, session, &query.instrument).await?;
    let body = convert::leverage_setting(kind, leverage)?;
    let upstream = inner.upstream(session)?;
    let scope = upstream.on_account(account).await?;
    scope
        .call(Kind::Write, |c, t| {
            let body = body.clone();
            async move { c.set_preferences(&t, &body).await }
        })
        .await?;
    Ok(tv::LeverageSet { leverage })
}

pub(super) async fn preview_leverage(
    inner: &Inner,
    session: &SessionCtx,
    account: &str,
    query: &tv::LeverageQuery,
    leverage: Decimal,
) -> BrokerResult<tv::LeveragePreview> {
    let info = get_leverage(inner, session, account, query).await?;
    let mut preview = tv::LeveragePreview::default();
    match check_leverage(&info, leverage) {
        Ok(()) => preview.infos.push(format!(
            "Leverage {leverage}:1 will apply to every instrument of this type on the account ({}).",
            info.title
        )),
        Err(BrokerError::Rejected(m)) => preview.errors.push(m),
        Err(e) => return Err(e),
    }
    Ok(preview)
}

fn check_leverage(info: &tv::LeverageInfo, leverage: Decimal) -> BrokerResult<()> {
    if leverage < info.min || leverage > info.max {
        return Err(BrokerError::Rejected(format!(
            "Leverage {leverage} is outside the allowed range {} to {}.",
            info.min, info.max
        )));
    }
    Ok(())
}
