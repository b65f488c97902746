//! `POST/GET /v3/accounts/{id}/orders`, `/pendingOrders`, `GET/PUT /orders/{spec}` (replace) and
//! `PUT /orders/{spec}/cancel`. A specifier is an order id or `@` and its client id.

use super::super::engine::{self, Ev};
use super::super::gate::{v20_account, Ctx};
use super::super::model::{Kind, Order, OrderState};
use super::super::state::{Shared, State};
use super::super::wire::{json_response, ok, v20_error, v20_error_code, Fail, Query};
use super::request::{message, parse_order, Bad, Parsed};
use super::views::order_json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// A transaction-answer body: the named transactions that exist, `relatedTransactionIDs` and
/// `lastTransactionID`.
pub(super) fn tx_body(st: &State, a: usize, named: &[(&str, Option<u64>)]) -> Map<String, Value> {
    let acct = &st.accounts[a];
    let mut m = Map::new();
    for (name, id) in named {
        if let Some(json) = id.and_then(|id| acct.tx_json(id)) {
            m.insert((*name).to_string(), json);
        }
    }
    m.insert("relatedTransactionIDs".into(), acct.related().into());
    m.insert("lastTransactionID".into(), acct.last_id().to_string().into());
    m
}

/// Reads a JSON request body (400 in OANDA's words when it is not JSON).
pub(super) fn json_body(body: &Bytes) -> Result<Value, Fail> {
    serde_json::from_slice(body).map_err(|_| v20_error(400, "Invalid JSON in request body").into())
}

/// Records a reject transaction and answers 400 with it, `errorCode` and `errorMessage`.
pub(super) fn reject(
    st: &mut State,
    a: usize,
    key: &str,
    kind: Kind,
    request: &Value,
    reason: &str,
    replaces: Option<u64>,
) -> Response {
    let id = st.accounts[a].alloc();
    let ev = Ev::OrderReject {
        kind,
        request: request.clone(),
        reason: reason.to_string(),
        replaces,
    };
    engine::record(st, a, id, ev);
    let mut body = tx_body(st, a, &[(key, Some(id))]);
    body.insert("errorCode".into(), reason.into());
    body.insert("errorMessage".into(), message(reason).into());
    st.flush();
    json_response(400, Value::Object(body))
}

/// `POST /v3/accounts/{id}/orders` with `{"order": OrderRequest}`.
pub(super) async fn create(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
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
    let req = body.get("order").cloned().unwrap_or(Value::Null);
    st.accounts[a].begin(Some(ctx.request_id));
    let parsed = parse_order(&st, a, &req, None);
    let resp = match parsed {
        Err(Bad::Plain(m)) => return v20_error(400, &m),
        Err(Bad::Reject { kind, reason }) => {
            return reject(&mut st, a, "orderRejectTransaction", kind, &req, &reason, None)
        }
        Ok(Parsed::Entry(order)) => {
            let placed = engine::place(&mut st, a, *order);
            tx_body(
                &st,
                a,
                &[
                    ("orderCreateTransaction", Some(placed.order)),
                    ("orderFillTransaction", placed.fill),
                    ("orderCancelTransaction", placed.cancel),
                ],
            )
        }
        Ok(Parsed::Dependent {
            trade_id,
            kind,
            details,
        }) => {
            let id = engine::add_dependent(&mut st, a, trade_id, kind, &details, "CLIENT_ORDER", None, None);
            tx_body(&st, a, &[("orderCreateTransaction", Some(id))])
        }
    };
    st.flush();
    json_response(201, Value::Object(resp))
}

/// The 404 of an unknown order specifier.
fn no_order() -> Response {
    v20_error_code(404, "ORDER_DOESNT_EXIST", "The Order specified does not exist")
}

/// `GET /v3/accounts/{id}/orders[?state&count&instrument&ids&beforeID]`, newest first.
pub(super) async fn list(
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
    let state = q.get("state").unwrap_or("PENDING");
    if !matches!(state, "PENDING" | "FILLED" | "TRIGGERED" | "CANCELLED" | "ALL") {
        return v20_error(400, "Invalid value specified for 'state'");
    }
    let count = match list_count(&q) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let before = match q.get("beforeID").map(str::parse::<u64>) {
        None => None,
        Some(Ok(b)) => Some(b),
        Some(Err(_)) => return v20_error(400, "Invalid value specified for 'beforeID'"),
    };
    let ids = q.list("ids");
    let instrument = q.get("instrument");
    let orders: Vec<Value> = st.accounts[a]
        .orders
        .iter()
        .rev()
        .filter(|o| state == "ALL" || o.state.wire() == state)
        .filter(|o| instrument.is_none_or(|i| o.instrument == i))
        .filter(|o| ids.as_ref().is_none_or(|ids| ids.contains(&o.id.to_string())))
        .filter(|o| before.is_none_or(|b| o.id <= b))
        .take(count)
        .map(|o| order_json(&st, o))
        .collect();
    let last = st.accounts[a].last_id().to_string();
    ok(json!({ "orders": orders, "lastTransactionID": last }))
}

/// `count` of a list request: default 50, at most 500.
pub(super) fn list_count(q: &Query) -> Result<usize, Fail> {
    match q.get("count").map(str::parse::<usize>) {
        None => Ok(50),
        Some(Ok(c)) if (1..=500).contains(&c) => Ok(c),
        _ => Err(v20_error(400, "Invalid value specified for 'count'").into()),
    }
}

/// `GET /v3/accounts/{id}/pendingOrders`, newest first.
pub(super) async fn pending(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let st = shared.lock();
    let a = match v20_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let orders: Vec<Value> = st.accounts[a]
        .orders
        .iter()
        .rev()
        .filter(|o| o.is_pending())
        .map(|o| order_json(&st, o))
        .collect();
    let last = st.accounts[a].last_id().to_string();
    ok(json!({ "orders": orders, "lastTransactionID": last }))
}

/// `GET /v3/accounts/{id}/orders/{spec}`.
pub(super) async fn get_one(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path((id, spec)): Path<(String, String)>,
) -> Response {
    let st = shared.lock();
    let a = match v20_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let acct = &st.accounts[a];
    let Some(order) = acct.find_order(&spec).and_then(|o| acct.order(o)) else {
        return no_order();
    };
    ok(json!({ "order": order_json(&st, order), "lastTransactionID": acct.last_id().to_string() }))
}

/// A pending, cancellable order by specifier.
fn cancellable(st: &State, a: usize, spec: &str) -> Option<Order> {
    let acct = &st.accounts[a];
    let id = acct.find_order(spec)?;
    acct.order(id)
        .filter(|o| o.state == OrderState::Pending && o.kind != Kind::Market)
        .cloned()
}

/// Records an `ORDER_CANCEL_REJECT` and answers 404 with it.
fn cancel_reject(st: &mut State, a: usize, spec: &str) -> Response {
    let id = st.accounts[a].alloc();
    let ev = Ev::CancelReject {
        order_spec: spec.to_string(),
        reason: "ORDER_DOESNT_EXIST",
    };
    engine::record(st, a, id, ev);
    let mut body = tx_body(st, a, &[("orderCancelRejectTransaction", Some(id))]);
    body.insert("errorCode".into(), "ORDER_DOESNT_EXIST".into());
    body.insert("errorMessage".into(), "The Order specified does not exist".into());
    st.flush();
    json_response(404, Value::Object(body))
}

/// `PUT /v3/accounts/{id}/orders/{spec}/cancel`.
pub(super) async fn cancel(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path((id, spec)): Path<(String, String)>,
) -> Response {
    let mut st = shared.lock();
    let a = match v20_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    st.accounts[a].begin(Some(ctx.request_id));
    let Some(order) = cancellable(&st, a, &spec) else {
        return cancel_reject(&mut st, a, &spec);
    };
    let tx = engine::cancel(&mut st, a, order.id, "CLIENT_REQUEST");
    let body = tx_body(&st, a, &[("orderCancelTransaction", Some(tx))]);
    st.flush();
    ok(Value::Object(body))
}

/// `PUT /v3/accounts/{id}/orders/{spec}` with `{"order": OrderRequest}`: cancels the order and
/// creates its replacement.
pub(super) async fn replace(
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
    let Some(old) = cancellable(&st, a, &spec) else {
        return cancel_reject(&mut st, a, &spec);
    };
    let req = body.get("order").cloned().unwrap_or(Value::Null);
    let parsed = match parse_order(&st, a, &req, Some(&old)) {
        Err(Bad::Plain(m)) => return v20_error(400, &m),
        Err(Bad::Reject { kind, reason }) => {
            return reject(
                &mut st,
                a,
                "orderRejectTransaction",
                kind,
                &req,
                &reason,
                Some(old.id),
            )
        }
        Ok(Parsed::Entry(_)) if old.kind.is_dependent() => {
            let kind = Kind::parse(req["type"].as_str().unwrap_or("")).unwrap_or(old.kind);
            return reject(
                &mut st,
                a,
                "orderRejectTransaction",
                kind,
                &req,
                "REPLACING_ORDER_INVALID",
                Some(old.id),
            );
        }
        Ok(p) => p,
    };
    // The replacement's create transaction directly follows the cancel.
    let new_id = st.accounts[a].next_id + 1;
    if let Some(o) = st.accounts[a].order_mut(old.id) {
        o.replaced_by = Some(new_id);
    }
    let cancel_tx = engine::cancel(&mut st, a, old.id, "CLIENT_REQUEST_REPLACED");
    let (created, fill) = match parsed {
        Parsed::Entry(mut order) => {
            order.reason = "REPLACEMENT";
            order.replaces = Some(old.id);
            order.replace_cancel_tx = Some(cancel_tx);
            if order.ext.is_none() && !st.replacements_drop_client_extensions {
                order.ext = old.ext.clone();
            }
            let placed = engine::place(&mut st, a, *order);
            (placed.order, placed.fill)
        }
        Parsed::Dependent {
            trade_id,
            kind,
            details,
        } => {
            let replaces = Some((old.id, cancel_tx));
            let id = engine::add_dependent(
                &mut st,
                a,
                trade_id,
                kind,
                &details,
                "REPLACEMENT",
                None,
                replaces,
            );
            (id, None)
        }
    };
    let body = tx_body(
        &st,
        a,
        &[
            ("orderCancelTransaction", Some(cancel_tx)),
            ("orderCreateTransaction", Some(created)),
            ("orderFillTransaction", fill),
        ],
    );
    st.flush();
    json_response(201, Value::Object(body))
}
