//! `GET /v3/accounts/{id}/transactions` (the pages form), `/transactions/idrange`,
//! `/transactions/sinceid` and `/transactions/{id}`.

use super::super::gate::{v20_account, Ctx};
use super::super::model::TxRec;
use super::super::state::Shared;
use super::super::wire::{json_response, ok, parse_time, time20, v20_error, v20_error_code, Fail, Query};
use axum::extract::{Path, RawQuery, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Value};
use std::sync::Arc;

/// The `TransactionFilter` values.
const FILTERS: [&str; 39] = [
    "ORDER",
    "FUNDING",
    "ADMIN",
    "CREATE",
    "CLOSE",
    "REOPEN",
    "CLIENT_CONFIGURE",
    "CLIENT_CONFIGURE_REJECT",
    "TRANSFER_FUNDS",
    "TRANSFER_FUNDS_REJECT",
    "MARKET_ORDER",
    "MARKET_ORDER_REJECT",
    "LIMIT_ORDER",
    "LIMIT_ORDER_REJECT",
    "STOP_ORDER",
    "STOP_ORDER_REJECT",
    "MARKET_IF_TOUCHED_ORDER",
    "MARKET_IF_TOUCHED_ORDER_REJECT",
    "TAKE_PROFIT_ORDER",
    "TAKE_PROFIT_ORDER_REJECT",
    "STOP_LOSS_ORDER",
    "STOP_LOSS_ORDER_REJECT",
    "TRAILING_STOP_LOSS_ORDER",
    "TRAILING_STOP_LOSS_ORDER_REJECT",
    "ONE_CANCELS_ALL_ORDER",
    "ONE_CANCELS_ALL_ORDER_REJECT",
    "ONE_CANCELS_ALL_ORDER_TRIGGERED",
    "ORDER_FILL",
    "ORDER_CANCEL",
    "ORDER_CANCEL_REJECT",
    "ORDER_CLIENT_EXTENSIONS_MODIFY",
    "ORDER_CLIENT_EXTENSIONS_MODIFY_REJECT",
    "TRADE_CLIENT_EXTENSIONS_MODIFY",
    "TRADE_CLIENT_EXTENSIONS_MODIFY_REJECT",
    "MARGIN_CALL_ENTER",
    "MARGIN_CALL_EXTEND",
    "MARGIN_CALL_EXIT",
    "DELAYED_TRADE_CLOSURE",
    "DAILY_FINANCING",
];

/// Most transactions one id range may return.
const MAX_RANGE: usize = 1000;

/// The `type` filter of a request: None when absent, Err when it names an unknown filter.
fn type_filter(q: &Query) -> Result<Option<Vec<String>>, Fail> {
    let Some(list) = q.list("type") else {
        return Ok(None);
    };
    if list
        .iter()
        .any(|t| !FILTERS.contains(&t.as_str()) && t != "RESET_RESETTABLE_PL")
    {
        return Err(v20_error(400, "Invalid value specified for 'type'").into());
    }
    Ok(Some(list))
}

/// Whether a transaction passes a `type` filter.
fn passes(tx: &TxRec, filter: &Option<Vec<String>>) -> bool {
    let Some(filter) = filter else { return true };
    let ty = tx.json.get("type").and_then(Value::as_str).unwrap_or("");
    filter.iter().any(|f| match f.as_str() {
        "ORDER" => ty.contains("ORDER"),
        "FUNDING" => ty.starts_with("TRANSFER_FUNDS"),
        "ADMIN" => matches!(
            ty,
            "CREATE" | "CLOSE" | "REOPEN" | "CLIENT_CONFIGURE" | "CLIENT_CONFIGURE_REJECT"
        ),
        other => other == ty,
    })
}

/// `GET /v3/accounts/{id}/transactions[?from&to&pageSize&type]`: idrange page URLs.
pub(super) async fn pages(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let st = shared.lock();
    let a = match v20_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let q = Query::parse(raw.as_deref());
    let acct = &st.accounts[a];
    let time = |name: &'static str, default| match q.get(name) {
        None => Ok(default),
        Some(s) => parse_time(s)
            .ok_or_else(|| Fail::from(v20_error(400, &format!("Invalid value specified for '{name}'")))),
    };
    let (from, to) = match (time("from", acct.created), time("to", st.now())) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(r), _) | (_, Err(r)) => return r.into_response(),
    };
    let page_size = match q.get("pageSize").map(str::parse::<usize>) {
        None => 100,
        Some(Ok(p)) if (1..=1000).contains(&p) => p,
        _ => return v20_error(400, "Invalid value specified for 'pageSize'"),
    };
    let filter = match type_filter(&q) {
        Ok(f) => f,
        Err(r) => return r.into_response(),
    };
    let ids: Vec<u64> = acct
        .txs
        .iter()
        .filter(|t| t.time >= from && t.time <= to && passes(t, &filter))
        .map(|t| t.id)
        .collect();
    let type_param = filter
        .as_ref()
        .map(|f| format!("&type={}", f.join("%2C")))
        .unwrap_or_default();
    let pages: Vec<String> = ids
        .chunks(page_size)
        .filter_map(|c| Some((c.first()?, c.last()?)))
        .map(|(f, l)| {
            format!(
                "{}/v3/accounts/{}/transactions/idrange?from={f}&to={l}{type_param}",
                shared.rest_url,
                acct.id()
            )
        })
        .collect();
    let mut body = json!({
        "from": time20(from),
        "to": time20(to),
        "pageSize": page_size,
        "count": ids.len(),
        "pages": pages,
        "lastTransactionID": acct.last_id().to_string(),
    });
    if let Some(f) = filter {
        body["type"] = f.into();
    }
    ok(body)
}

/// `GET /v3/accounts/{id}/transactions/idrange?from&to[&type]`.
pub(super) async fn id_range(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let st = shared.lock();
    let a = match v20_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let q = Query::parse(raw.as_deref());
    let id_param = |name: &'static str| {
        q.get(name)
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| Fail::from(v20_error(400, &format!("Invalid value specified for '{name}'"))))
    };
    let (from, to) = match (id_param("from"), id_param("to")) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(r), _) | (_, Err(r)) => return r.into_response(),
    };
    let filter = match type_filter(&q) {
        Ok(f) => f,
        Err(r) => return r.into_response(),
    };
    let acct = &st.accounts[a];
    let txs: Vec<Value> = acct
        .txs
        .iter()
        .filter(|t| t.id >= from && t.id <= to && passes(t, &filter))
        .map(|t| t.json.clone())
        .collect();
    if txs.len() > MAX_RANGE {
        return json_response(
            416,
            json!({ "errorMessage": "The requested range contains too many Transactions" }),
        );
    }
    ok(json!({ "transactions": txs, "lastTransactionID": acct.last_id().to_string() }))
}

/// `GET /v3/accounts/{id}/transactions/sinceid?id=N`: every transaction after N.
pub(super) async fn since_id(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let st = shared.lock();
    let a = match v20_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let q = Query::parse(raw.as_deref());
    let Some(since) = q.get("id").and_then(|v| v.parse::<u64>().ok()) else {
        return v20_error(400, "Invalid value specified for 'id'");
    };
    let acct = &st.accounts[a];
    let txs: Vec<Value> = acct
        .txs
        .iter()
        .filter(|t| t.id > since)
        .map(|t| t.json.clone())
        .collect();
    ok(json!({ "transactions": txs, "lastTransactionID": acct.last_id().to_string() }))
}

/// `GET /v3/accounts/{id}/transactions/{tx}`.
pub(super) async fn one(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path((id, tx)): Path<(String, String)>,
) -> Response {
    let st = shared.lock();
    let a = match v20_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let acct = &st.accounts[a];
    let found = tx.parse::<u64>().ok().and_then(|t| acct.tx_json(t));
    match found {
        Some(json) => ok(json!({ "transaction": json, "lastTransactionID": acct.last_id().to_string() })),
        None => v20_error_code(
            404,
            "NO_SUCH_TRANSACTION",
            "The Transaction specified does not exist",
        ),
    }
}
