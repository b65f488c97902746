//! `PUT /v3/accounts/{id}/orders/{spec}/clientExtensions` after the official OpenAPI file
//! (`setOrderClientExtensions`): the body holds `clientExtensions` and/or `tradeClientExtensions`; the
//! answer is 200 with an `orderClientExtensionsModifyTransaction`, `relatedTransactionIDs` and
//! `lastTransactionID`, or 400 (invalid) / 404 (no such order) with an
//! `orderClientExtensionsModifyRejectTransaction`, `errorCode` and `errorMessage`. Both transactions are
//! recorded and streamed like every other.
//!
//! Not stated by the documents, so read the way a transaction named *Modify* suggests: a field left out of
//! the sent extensions keeps its value. A client id already used by another order is refused
//! (`CLIENT_ORDER_ID_ALREADY_EXISTS`), except by the orders this one replaced, whose id it carries on.

use super::super::engine::{self, Ev};
use super::super::gate::{v20_account, Ctx};
use super::super::state::{Shared, State};
use super::super::wire::{json_response, ok};
use super::orders::{json_body, tx_body};
use super::request::{client_ext, message};
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::Value;
use std::sync::Arc;

/// `current` with the fields of `change` set over it.
fn merged(current: Option<&Value>, change: Option<&Value>) -> Option<Value> {
    let Some(Value::Object(change)) = change else {
        return current.cloned();
    };
    let mut out = match current {
        Some(Value::Object(m)) => m.clone(),
        _ => serde_json::Map::new(),
    };
    for (k, v) in change {
        out.insert(k.clone(), v.clone());
    }
    Some(Value::Object(out))
}

/// Records the reject transaction and answers `status` with it.
fn reject(
    st: &mut State,
    a: usize,
    status: u16,
    spec: &str,
    (ext, trade_ext): (Option<Value>, Option<Value>),
    reason: &str,
) -> Response {
    let id = st.accounts[a].alloc();
    let ev = Ev::ExtensionsReject {
        order_spec: spec.to_string(),
        ext,
        trade_ext,
        reason: reason.to_string(),
    };
    engine::record(st, a, id, ev);
    let mut body = tx_body(
        st,
        a,
        &[("orderClientExtensionsModifyRejectTransaction", Some(id))],
    );
    body.insert("errorCode".into(), reason.into());
    body.insert("errorMessage".into(), message(reason).into());
    st.flush();
    json_response(status, Value::Object(body))
}

/// Whether client id `client` belongs to an order other than `order_id` and the orders it replaced.
fn taken_elsewhere(st: &State, a: usize, order_id: u64, client: &str) -> bool {
    let acct = &st.accounts[a];
    let mut chain = vec![order_id];
    let mut at = acct.order(order_id).and_then(|o| o.replaces);
    while let Some(id) = at.filter(|id| !chain.contains(id)) {
        chain.push(id);
        at = acct.order(id).and_then(|o| o.replaces);
    }
    acct.orders
        .iter()
        .any(|o| !chain.contains(&o.id) && o.client_id() == Some(client))
}

/// `PUT /v3/accounts/{id}/orders/{spec}/clientExtensions`.
pub(super) async fn set_order(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path((id, spec)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let mut st = shared.lock();
    let a = match v20_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let body = match json_body(&body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    st.accounts[a].begin(Some(ctx.request_id));
    let sent = |key: &str| body.get(key).filter(|v| !v.is_null()).cloned();
    let echo = (sent("clientExtensions"), sent("tradeClientExtensions"));
    let Some(order_id) = st.accounts[a].find_order(&spec) else {
        return reject(&mut st, a, 404, &spec, echo, "ORDER_DOESNT_EXIST");
    };
    if echo.0.is_none() && echo.1.is_none() {
        return reject(&mut st, a, 400, &spec, echo, "CLIENT_EXTENSIONS_DATA_MISSING");
    }
    let ext = match client_ext(echo.0.as_ref(), "CLIENT_ORDER") {
        Ok(e) => e,
        Err(reason) => return reject(&mut st, a, 400, &spec, echo, &reason),
    };
    let trade_ext = match client_ext(echo.1.as_ref(), "CLIENT_TRADE") {
        Ok(e) => e,
        Err(reason) => return reject(&mut st, a, 400, &spec, echo, &reason),
    };
    let new_id = ext.as_ref().and_then(|e| e.get("id")).and_then(Value::as_str);
    if new_id.is_some_and(|c| taken_elsewhere(&st, a, order_id, c)) {
        return reject(&mut st, a, 400, &spec, echo, "CLIENT_ORDER_ID_ALREADY_EXISTS");
    }
    let Some(order) = st.accounts[a].order(order_id).cloned() else {
        return reject(&mut st, a, 404, &spec, echo, "ORDER_DOESNT_EXIST");
    };
    let tx = st.accounts[a].alloc();
    let ev = Ev::ExtensionsModify {
        order_id,
        client_order_id: order.client_id().map(str::to_owned),
        ext: ext.clone(),
        trade_ext: trade_ext.clone(),
    };
    if let Some(o) = st.accounts[a].order_mut(order_id) {
        o.ext = merged(o.ext.as_ref(), ext.as_ref());
        o.trade_ext = merged(o.trade_ext.as_ref(), trade_ext.as_ref());
    }
    engine::record(&mut st, a, tx, ev);
    let body = tx_body(&st, a, &[("orderClientExtensionsModifyTransaction", Some(tx))]);
    st.flush();
    ok(Value::Object(body))
}
