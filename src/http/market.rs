//! Market data endpoints: `/quotes` and `/depth` (the account comes from the `accountId` query parameter).

use crate::error::{ApiError, ApiResult, TvOk};
use crate::http::extract::{Authed, TvQuery};
use crate::http::AppState;
use crate::tv;
use axum::extract::State;
use axum::routing::get;
use axum::Router;

/// More symbols than this in one `/quotes` call is refused rather than served slowly.
const MAX_SYMBOLS: usize = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/quotes", get(quotes))
        .route("/depth", get(depth))
}

async fn quotes(
    State(state): State<AppState>,
    authed: Authed,
    TvQuery(query): TvQuery,
) -> ApiResult<TvOk<Vec<tv::QuoteEntry>>> {
    let account_id = query.str_req("accountId")?;
    authed.account(account_id)?;
    let symbols: Vec<String> = query
        .str_req("symbols")?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if symbols.is_empty() {
        return Err(ApiError::bad("query parameter 'symbols' names no symbol"));
    }
    if symbols.len() > MAX_SYMBOLS {
        return Err(ApiError::bad(format!(
            "at most {MAX_SYMBOLS} symbols per request, got {}",
            symbols.len()
        )));
    }
    Ok(TvOk(
        state.broker().quotes(&authed.0.ctx, account_id, &symbols).await?,
    ))
}

async fn depth(
    State(state): State<AppState>,
    authed: Authed,
    TvQuery(query): TvQuery,
) -> ApiResult<TvOk<tv::Depth>> {
    let account_id = query.str_req("accountId")?;
    let account = authed.account(account_id)?;
    if !account.capabilities.level2 {
        return Err(ApiError::bad("market depth is not supported on this account"));
    }
    let symbol = query.str_req("symbol")?;
    Ok(TvOk(
        state.broker().depth(&authed.0.ctx, account_id, symbol).await?,
    ))
}
