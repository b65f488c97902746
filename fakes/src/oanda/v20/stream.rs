//! The v20 streams (stream listener only): `GET /v3/accounts/{id}/pricing/stream?instruments=..`
//! (`PRICE` lines, a snapshot first unless `snapshot=false`) and `/transactions/stream`.

use super::super::gate::{v20_account, Ctx};
use super::super::state::{Shared, Sub};
use super::super::stream::open;
use super::super::wire::{v20_error, Query};
use super::pricing::client_price;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use std::sync::Arc;

/// `GET /v3/accounts/{id}/pricing/stream`.
pub(super) async fn pricing(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut st = shared.lock();
    let a = match v20_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let q = Query::parse(raw.as_deref());
    let Some(instruments) = q.list("instruments").filter(|l| !l.is_empty()) else {
        return v20_error(400, "Invalid value specified for 'instruments'");
    };
    if instruments.iter().any(|i| st.quote(i).is_none()) {
        return v20_error(400, "Invalid value specified for 'instruments'");
    }
    let snapshot = match q.flag("snapshot") {
        Ok(s) => s.unwrap_or(true),
        Err(()) => return v20_error(400, "Invalid value specified for 'snapshot'"),
    };
    let initial = if snapshot {
        instruments
            .iter()
            .filter_map(|i| client_price(&st, a, i))
            .map(|p| p.to_string())
            .collect()
    } else {
        Vec::new()
    };
    let sub = Sub::Pricing {
        account: id,
        instruments,
    };
    open(&shared, &mut st, &ctx.token, sub, initial)
}

/// `GET /v3/accounts/{id}/transactions/stream`.
pub(super) async fn transactions(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let mut st = shared.lock();
    if let Err(r) = v20_account(&st, &ctx, &id) {
        return r.into_response();
    }
    open(
        &shared,
        &mut st,
        &ctx.token,
        Sub::Transactions { account: id },
        Vec::new(),
    )
}
