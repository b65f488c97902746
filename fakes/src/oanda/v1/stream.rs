//! The v1 streams (stream listener only): `GET /v1/prices?accountId&instruments` (`{"tick":..}`
//! lines, the current price of each instrument first) and `GET /v1/events[?accountIds]`
//! (`{"transaction":..}` lines).

use super::super::gate::{v1_account, Ctx};
use super::super::state::{Shared, Sub};
use super::super::stream::open;
use super::super::wire::{v1_bad, v1_error, Query};
use super::rates::tick_line;
use axum::extract::{RawQuery, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use std::sync::Arc;

/// `GET /v1/prices?accountId=..&instruments=A%2CB` on the stream host.
pub(super) async fn prices(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut st = shared.lock();
    let q = Query::parse(raw.as_deref());
    let Some(account) = q.get("accountId") else {
        return v1_bad("accountId");
    };
    if let Err(r) = v1_account(&st, &ctx, account) {
        return r.into_response();
    }
    let Some(instruments) = q.list("instruments").filter(|l| !l.is_empty()) else {
        return v1_bad("instruments");
    };
    if instruments.iter().any(|i| st.quote(i).is_none()) {
        return v1_error(400, 2, "Invalid instrument");
    }
    let initial = instruments.iter().filter_map(|i| tick_line(&st, i)).collect();
    open(
        &shared,
        &mut st,
        &ctx.token,
        Sub::V1Prices { instruments },
        initial,
    )
}

/// `GET /v1/events[?accountIds=1,2]` (default: every v1 account the token reaches).
pub(super) async fn events(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut st = shared.lock();
    let q = Query::parse(raw.as_deref());
    let accounts = match q.list("accountIds") {
        Some(list) => {
            for id in &list {
                if let Err(r) = v1_account(&st, &ctx, id) {
                    return r.into_response();
                }
            }
            list
        }
        None => st
            .accounts
            .iter()
            .filter(|a| a.legacy() && st.reaches(&ctx.token, a.id()))
            .map(|a| a.id().to_string())
            .collect(),
    };
    open(
        &shared,
        &mut st,
        &ctx.token,
        Sub::V1Events { accounts },
        Vec::new(),
    )
}
