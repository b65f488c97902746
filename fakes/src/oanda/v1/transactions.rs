//! `GET /v1/accounts/{id}/transactions[?maxId&minId&count&instrument&ids]` (newest first) and
//! `GET /v1/accounts/{id}/transactions/{transactionId}`.

use super::super::gate::{v1_account, Ctx};
use super::super::state::Shared;
use super::super::wire::{ok, v1_error, Query};
use super::params::List;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Value};
use std::sync::Arc;

/// `GET /v1/accounts/{id}/transactions`.
pub(super) async fn list(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let st = shared.lock();
    let a = match v1_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let filter = match List::parse(&Query::parse(raw.as_deref())) {
        Ok(f) => f,
        Err(r) => return r.into_response(),
    };
    let txs: Vec<Value> = st.accounts[a]
        .txs
        .iter()
        .rev()
        .filter(|t| filter.keeps(t.id, t.json.get("instrument").and_then(Value::as_str)))
        .take(filter.count)
        .map(|t| t.json.clone())
        .collect();
    ok(json!({ "transactions": txs }))
}

/// `GET /v1/accounts/{id}/transactions/{transactionId}`.
pub(super) async fn one(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path((id, tx)): Path<(String, String)>,
) -> Response {
    let st = shared.lock();
    let a = match v1_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    match tx.parse::<u64>().ok().and_then(|t| st.accounts[a].tx_json(t)) {
        Some(json) => ok(json),
        None => v1_error(404, 13, "Transaction not found"),
    }
}
