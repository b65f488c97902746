//! `/workingorders` and `/workingorders/{dealId}`: limit and stop orders of the session's current account.
//! They fill when `FakeCapital::set_price` crosses their level and expire at `goodTillDate` (fake clock).

use super::gate::Ctx;
use super::state::{ActivityRec, OrderKind, Shared, State, Stops, WorkingOrder};
use super::stops::{validate, StopInput};
use super::trading::{direction, order_reference, size, ConfirmArgs};
use super::wire::{
    body_object, field_dec, field_str, fmt_ms, fmt_ms_local, num, ok, parse_date, ApiError, ApiResult,
};
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::Extension;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Reads an optional `goodTillDate` (`YYYY-MM-DDTHH:MM:SS`, UTC) that must lie in the future.
fn good_till(body: &Map<String, Value>, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(text) = field_str(body, "goodTillDate")? else {
        return Ok(None);
    };
    let t = parse_date(&text).ok_or_else(|| ApiError::bad("error.invalid.goodTillDate"))?;
    if t <= now {
        return Err(ApiError::bad("error.not-in-future.goodTillDate"));
    }
    Ok(Some(t))
}

/// Reads an order `level` (`error.invalid.level` unless positive).
fn level(body: &Map<String, Value>) -> Result<Option<Decimal>, ApiError> {
    match field_dec(body, "level")? {
        Some(l) if l <= Decimal::ZERO => Err(ApiError::bad("error.invalid.level")),
        other => Ok(other),
    }
}

impl State {
    /// One entry of `GET /workingorders`. Stops are shown as distances from the order level, signed
    /// (a buy's stop below the level is negative), as in the official example.
    fn order_entry(&self, o: &WorkingOrder) -> Value {
        let m = self.market(&o.epic);
        let mut data = json!({
            "dealId": o.deal_id,
            "direction": o.dir.as_str(),
            "epic": o.epic,
            "orderSize": num(o.size),
            "orderLevel": num(o.level),
            "timeInForce": if o.good_till.is_some() { "GOOD_TILL_DATE" } else { "GOOD_TILL_CANCELLED" },
            "createdDate": fmt_ms_local(o.created),
            "createdDateUTC": fmt_ms(o.created),
            "guaranteedStop": o.stops.guaranteed,
            "orderType": o.kind.as_str(),
            "currencyCode": m.map(|m| m.spec.currency.as_str()).unwrap_or(""),
        });
        if let Some(obj) = data.as_object_mut() {
            if let Some(t) = o.good_till {
                obj.insert("goodTillDate".into(), json!(fmt_ms_local(t)));
                obj.insert("goodTillDateUTC".into(), json!(fmt_ms(t)));
            }
            if let Some(s) = o.stops.stop_level {
                obj.insert("stopDistance".into(), num(s - o.level));
            }
            if let Some(p) = o.stops.profit_level {
                obj.insert("profitDistance".into(), num(p - o.level));
            }
            if o.stops.trailing {
                obj.insert("trailingStop".into(), json!(true));
            }
        }
        json!({
            "workingOrderData": data,
            "marketData": m.map(|m| m.summary(self.moving, self.now())).unwrap_or(Value::Null),
        })
    }

    fn find_order(&self, account: usize, deal_id: &str) -> Result<usize, ApiError> {
        self.accounts[account]
            .orders
            .iter()
            .position(|o| o.deal_id == deal_id)
            .ok_or_else(|| ApiError::not_found("dealId"))
    }

    /// Records a working-order event in the activity history.
    fn order_activity(&mut self, account: usize, o: &WorkingOrder, status: &'static str, reference: &str) {
        let now = self.now();
        self.record(
            account,
            ActivityRec {
                at: now,
                epic: o.epic.clone(),
                deal_id: o.deal_id.clone(),
                source: "USER",
                kind: "WORKING_ORDER",
                status,
                deal_reference: reference.to_string(),
                size: o.size,
                dir: o.dir,
                level: o.level,
                stops: o.stops,
            },
        );
    }

    /// Stores the confirmation of a working-order request.
    fn order_confirm(
        &mut self,
        user: usize,
        reference: &str,
        o: &WorkingOrder,
        outcome: Result<&'static str, &'static str>,
    ) {
        let affected = match outcome {
            Ok(status) => {
                let s = match status {
                    "OPEN" => "OPENED",
                    "DELETED" => "DELETED",
                    _ => "AMENDED",
                };
                vec![(o.deal_id.clone(), s)]
            }
            Err(_) => Vec::new(),
        };
        self.store_confirm(
            user,
            ConfirmArgs {
                reference,
                epic: &o.epic,
                deal_id: &o.deal_id,
                dir: o.dir,
                size: o.size,
                level: Some(o.level),
                status: outcome.ok(),
                reason: outcome.err().unwrap_or("SUCCESS"),
                affected: &affected,
                stops: o.stops,
            },
        );
    }
}

/// `GET /workingorders`.
pub(super) async fn list(AxState(shared): AxState<Arc<Shared>>, Extension(ctx): Extension<Ctx>) -> ApiResult {
    let st = shared.lock();
    let account = st.ctx_account(&ctx)?;
    let orders: Vec<Value> = st.accounts[account]
        .orders
        .iter()
        .map(|o| st.order_entry(o))
        .collect();
    ok(json!({ "workingOrders": orders }))
}

/// `POST /workingorders`.
pub(super) async fn create(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> ApiResult {
    let body = body_object(&body)?;
    let epic = field_str(&body, "epic")?.ok_or_else(|| ApiError::bad("error.null.epic"))?;
    let dir = direction(&body)?;
    let size = size(&body)?;
    let level = level(&body)?.ok_or_else(|| ApiError::bad("error.null.level"))?;
    let kind = field_str(&body, "type")?.ok_or_else(|| ApiError::bad("error.null.type"))?;
    let kind = OrderKind::parse(&kind).ok_or_else(|| ApiError::bad("error.invalid.type"))?;
    let input = StopInput::parse(&body)?;
    let mut st = shared.lock();
    let now = st.now();
    let good_till = good_till(&body, now)?;
    let account = st.ctx_account(&ctx)?;
    let m = st.market(&epic).ok_or_else(|| ApiError::not_found("epic"))?;
    let level = m.round(level);
    let stops = input.resolve(dir, level, size, m);
    validate(&stops, dir, level, m)?;
    let reference = order_reference();
    let order = WorkingOrder {
        deal_id: st.next_deal_id(account),
        deal_reference: reference.clone(),
        epic,
        dir,
        size,
        level,
        kind,
        good_till,
        created: now,
        stops,
    };
    match st.market_rules(account, &order.epic, size, &stops) {
        Ok(()) => {
            st.order_activity(account, &order, "ACCEPTED", &reference);
            st.order_confirm(ctx.user, &reference, &order, Ok("OPEN"));
            st.accounts[account].orders.push(order);
        }
        Err(reason) => {
            st.order_activity(account, &order, "REJECTED", &reference);
            st.order_confirm(ctx.user, &reference, &order, Err(reason));
        }
    }
    ok(json!({ "dealReference": reference }))
}

/// `PUT /workingorders/{dealId}`: a new level and/or `goodTillDate` (left out: unchanged); the stop
/// and profit fields replace the old ones (left out: removed, or kept under
/// [`super::FakeOptions::omitted_stops_kept`]).
pub(super) async fn update(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(deal_id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = body_object(&body)?;
    let new_level = level(&body)?;
    let input = StopInput::parse(&body)?;
    let mut st = shared.lock();
    let now = st.now();
    let good_till = good_till(&body, now)?;
    let account = st.ctx_account(&ctx)?;
    let i = st.find_order(account, &deal_id)?;
    let mut order = st.accounts[account].orders[i].clone();
    let m = st
        .market(&order.epic)
        .ok_or_else(|| ApiError::not_found("epic"))?;
    if let Some(l) = new_level {
        order.level = m.round(l);
    }
    if good_till.is_some() {
        order.good_till = good_till;
    }
    let resolved: Stops = input.resolve(order.dir, order.level, order.size, m);
    let stops = input.update(resolved, &order.stops, st.omitted_stops_kept);
    validate(&stops, order.dir, order.level, m)?;
    order.stops = stops;
    let reference = order_reference();
    match st.market_rules(account, &order.epic, order.size, &stops) {
        Ok(()) => {
            st.order_activity(account, &order, "MODIFIED", &reference);
            st.order_confirm(ctx.user, &reference, &order, Ok("AMENDED"));
            st.accounts[account].orders[i] = order;
        }
        Err(reason) => {
            st.order_activity(account, &order, "MODIFY_REJECT", &reference);
            st.order_confirm(ctx.user, &reference, &order, Err(reason));
        }
    }
    ok(json!({ "dealReference": reference }))
}

/// `DELETE /workingorders/{dealId}`.
pub(super) async fn delete(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(deal_id): Path<String>,
) -> ApiResult {
    let mut st = shared.lock();
    let account = st.ctx_account(&ctx)?;
    let i = st.find_order(account, &deal_id)?;
    let order = st.accounts[account].orders.remove(i);
    let reference = order_reference();
    st.order_activity(account, &order, "CANCELLED", &reference);
    st.order_confirm(ctx.user, &reference, &order, Ok("DELETED"));
    ok(json!({ "dealReference": reference }))
}
