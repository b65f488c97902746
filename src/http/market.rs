//! Market data endpoints: `/quotes` and `/depth` (the account comes from the `accountId` query parameter).

use crate::error::{ApiError, ApiResult, TvOk};
use crate::http::extract::{Authed, Fields, TvQuery};
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
    let symbols = symbols_param(&query)?;
    Ok(TvOk(
        quotes_for(&state, &authed.0.ctx, account_id, &symbols).await?,
    ))
}

/// The `symbols` query parameter: a comma-separated list, at least one, at most [`MAX_SYMBOLS`].
pub fn symbols_param(query: &Fields) -> ApiResult<Vec<String>> {
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
    Ok(symbols)
}

/// Quotes from the quote hub's latest ticks (one upstream subscription per symbol, however many tabs
/// poll), with pip values from a per-account cache; the backend is asked only for what neither has yet
/// (a symbol's first poll, an unknown symbol, pip values older than a minute).
async fn quotes_for(
    state: &AppState,
    ctx: &crate::broker::SessionCtx,
    account_id: &str,
    symbols: &[String],
) -> ApiResult<Vec<tv::QuoteEntry>> {
    let hub = state.quotes();
    let mut out: Vec<Option<tv::QuoteEntry>> = Vec::with_capacity(symbols.len());
    let mut ask_backend = Vec::new();
    for (i, symbol) in symbols.iter().enumerate() {
        let tick = hub.latest(symbol).await.ok().flatten();
        let cached = hub.cached_entry(account_id, symbol);
        match (tick, cached) {
            (
                Some(t),
                Some(tv::QuoteEntry {
                    v: tv::QuoteValue::Quote(q),
                    ..
                }),
            ) => {
                let quote = tv::Quote {
                    ask: t.tick.ask,
                    bid: t.tick.bid,
                    ..q
                };
                out.push(Some(tv::QuoteEntry::ok(symbol.clone(), quote)));
            }
            _ => {
                out.push(None);
                ask_backend.push(i);
            }
        }
    }
    if !ask_backend.is_empty() {
        let names: Vec<String> = ask_backend.iter().map(|&i| symbols[i].clone()).collect();
        let fetched = state.broker().quotes(ctx, account_id, &names).await?;
        hub.store_entries(account_id, &fetched);
        for (&i, entry) in ask_backend.iter().zip(fetched) {
            out[i] = Some(entry);
        }
    }
    // A backend that answered fewer entries than asked leaves a named error, never a missing symbol.
    Ok(out
        .into_iter()
        .zip(symbols)
        .map(|(e, s)| e.unwrap_or_else(|| tv::QuoteEntry::error(s.clone(), format!("No quote for '{s}'"))))
        .collect())
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
