//! `/positions`, `/positions/{dealId}` and `/confirms/{dealReference}`: opening, amending and closing
//! positions of the session's current account, and the deal confirmations they leave behind.

use super::engine::{DealSpec, Outcome};
use super::gate::Ctx;
use super::state::{ActivityRec, Confirm, Dir, Position, Shared, State, Stops};
use super::stops::{validate, StopInput};
use super::wire::{body_object, field_dec, field_str, fmt_ms, fmt_ms_local, num, ok, ApiError, ApiResult};
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::Extension;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// What a confirmation says.
#[derive(Clone, Copy)]
pub(super) struct ConfirmArgs<'a> {
    pub reference: &'a str,
    pub epic: &'a str,
    pub deal_id: &'a str,
    pub dir: Dir,
    pub size: Decimal,
    pub level: Option<Decimal>,
    /// `OPEN`, `AMENDED`, `CLOSED`...; left out of rejections.
    pub status: Option<&'a str>,
    pub reason: &'a str,
    pub affected: &'a [(String, &'static str)],
    pub stops: Stops,
}

impl State {
    /// Stores a confirmation (readable by `user`'s sessions) and returns nothing: clients fetch it.
    pub fn store_confirm(&mut self, user: usize, args: ConfirmArgs<'_>) {
        let accepted = args.status.is_some();
        let mut body = json!({
            "date": fmt_ms(self.now()),
            "reason": args.reason,
            "dealStatus": if accepted { "ACCEPTED" } else { "REJECTED" },
            "epic": args.epic,
            "dealReference": args.reference,
            "dealId": args.deal_id,
            "affectedDeals": args.affected.iter()
                .map(|(id, s)| json!({ "dealId": id, "status": s }))
                .collect::<Vec<_>>(),
            "size": num(args.size),
            "direction": args.dir.as_str(),
            "guaranteedStop": args.stops.guaranteed,
            "trailingStop": args.stops.trailing,
        });
        if let Some(obj) = body.as_object_mut() {
            if let Some(status) = args.status {
                obj.insert("status".into(), json!(status));
            }
            if let Some(level) = args.level {
                obj.insert("level".into(), num(level));
            }
            if let Some(s) = args.stops.stop_level {
                obj.insert("stopLevel".into(), num(s));
            }
            if let Some(p) = args.stops.profit_level {
                obj.insert("profitLevel".into(), num(p));
            }
        }
        self.confirms
            .insert(args.reference.to_string(), Confirm { user, body });
    }

    /// The `position` block of `GET /positions`.
    pub fn position_json(&self, account: usize, p: &Position) -> Value {
        let m = self.market(&p.epic);
        let ty = m.map(|m| m.spec.instrument_type.as_str()).unwrap_or("");
        let mut v = json!({
            "contractSize": 1,
            "createdDate": fmt_ms_local(p.created),
            "createdDateUTC": fmt_ms(p.created),
            "dealId": p.deal_id,
            "dealReference": p.deal_reference,
            "workingOrderId": p.working_order_id,
            "size": num(p.size),
            "leverage": self.leverage(account, ty),
            "upl": num(self.upl(p)),
            "direction": p.dir.as_str(),
            "level": num(p.level),
            "currency": m.map(|m| m.spec.currency.as_str()).unwrap_or(""),
            "guaranteedStop": p.stops.guaranteed,
        });
        if let Some(obj) = v.as_object_mut() {
            if let Some(s) = p.stops.stop_level {
                obj.insert("stopLevel".into(), num(s));
            }
            if let Some(l) = p.stops.profit_level {
                obj.insert("profitLevel".into(), num(l));
            }
            if p.stops.trailing {
                obj.insert("trailingStop".into(), json!(true));
                if let Some(d) = p.stops.stop_distance {
                    obj.insert("stopDistance".into(), num(d));
                }
            }
        }
        v
    }

    /// `{position, market}` of one position.
    fn position_entry(&self, account: usize, p: &Position) -> Value {
        json!({
            "position": self.position_json(account, p),
            "market": self.market(&p.epic).map(|m| m.summary(self.moving, self.now())).unwrap_or(Value::Null),
        })
    }

    /// Index of a position of the account by deal id (`error.not-found.dealId` otherwise).
    fn find_position(&self, account: usize, deal_id: &str) -> Result<usize, ApiError> {
        self.accounts[account]
            .positions
            .iter()
            .position(|p| p.deal_id == deal_id)
            .ok_or_else(|| ApiError::not_found("dealId"))
    }
}

/// Reads `direction` (`error.null.direction` / `error.invalid.direction`).
pub(super) fn direction(body: &Map<String, Value>) -> Result<Dir, ApiError> {
    let d = field_str(body, "direction")?.ok_or_else(|| ApiError::bad("error.null.direction"))?;
    Dir::parse(&d).ok_or_else(|| ApiError::bad("error.invalid.direction"))
}

/// Reads a required positive `size`.
pub(super) fn size(body: &Map<String, Value>) -> Result<Decimal, ApiError> {
    let s = field_dec(body, "size")?.ok_or_else(|| ApiError::bad("error.null.size"))?;
    if s <= Decimal::ZERO {
        return Err(ApiError::bad("error.invalid.size"));
    }
    Ok(s)
}

/// A new `o_<uuid>` deal reference.
pub(super) fn order_reference() -> String {
    format!("o_{}", uuid::Uuid::new_v4())
}

/// `GET /positions`.
pub(super) async fn list(AxState(shared): AxState<Arc<Shared>>, Extension(ctx): Extension<Ctx>) -> ApiResult {
    let st = shared.lock();
    let account = st.ctx_account(&ctx)?;
    let positions: Vec<Value> = st.accounts[account]
        .positions
        .iter()
        .map(|p| st.position_entry(account, p))
        .collect();
    ok(json!({ "positions": positions }))
}

/// `GET /positions/{dealId}`.
pub(super) async fn get(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(deal_id): Path<String>,
) -> ApiResult {
    let st = shared.lock();
    let account = st.ctx_account(&ctx)?;
    let i = st.find_position(account, &deal_id)?;
    ok(st.position_entry(account, &st.accounts[account].positions[i]))
}

/// `POST /positions`: a market deal. Request errors are HTTP errors; market rules give a `REJECTED`
/// confirm.
pub(super) async fn create(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> ApiResult {
    let body = body_object(&body)?;
    let epic = field_str(&body, "epic")?.ok_or_else(|| ApiError::bad("error.null.epic"))?;
    let dir = direction(&body)?;
    let size = size(&body)?;
    let input = StopInput::parse(&body)?;
    let mut st = shared.lock();
    let account = st.ctx_account(&ctx)?;
    let m = st.market(&epic).ok_or_else(|| ApiError::not_found("epic"))?;
    let stops = input.resolve(dir, m.fill_price(dir), size, m);
    validate(&stops, dir, m.close_price(dir), m)?;

    let order_id = st.next_deal_id(account);
    let reference = order_reference();
    let spec = DealSpec {
        epic: epic.clone(),
        dir,
        size,
        stops,
        order_id: order_id.clone(),
        source: "USER",
    };
    match st.execute(account, spec) {
        Outcome::Accepted {
            level,
            affected,
            status,
        } => {
            let opened: Vec<String> = affected
                .iter()
                .filter(|(_, s)| *s == "OPENED")
                .map(|(id, _)| id.clone())
                .collect();
            let args = ConfirmArgs {
                reference: &reference,
                epic: &epic,
                deal_id: &order_id,
                dir,
                size,
                level: Some(level),
                status: Some(status),
                reason: "SUCCESS",
                affected: &affected,
                stops,
            };
            st.store_confirm(ctx.user, args);
            // The position's own reference (`p_<dealId>`) confirms its opening too.
            for id in &opened {
                let p_ref = format!("p_{id}");
                st.store_confirm(
                    ctx.user,
                    ConfirmArgs {
                        reference: &p_ref,
                        deal_id: id,
                        ..args
                    },
                );
            }
        }
        Outcome::Rejected { reason } => {
            let now = st.now();
            let level = st.market(&epic).map(|m| m.fill_price(dir)).unwrap_or_default();
            st.record(
                account,
                ActivityRec {
                    at: now,
                    epic: epic.clone(),
                    deal_id: order_id.clone(),
                    source: "USER",
                    kind: "POSITION",
                    status: "REJECTED",
                    deal_reference: reference.clone(),
                    size,
                    dir,
                    level,
                    stops,
                },
            );
            st.store_confirm(
                ctx.user,
                ConfirmArgs {
                    reference: &reference,
                    epic: &epic,
                    deal_id: &order_id,
                    dir,
                    size,
                    level: None,
                    status: None,
                    reason,
                    affected: &[],
                    stops,
                },
            );
        }
    }
    ok(json!({ "dealReference": reference }))
}

/// `PUT /positions/{dealId}`: replaces the stop, take profit, trailing and guaranteed settings (a field
/// left out removes that setting, or keeps it under [`super::FakeOptions::omitted_stops_kept`]).
pub(super) async fn update(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(deal_id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = body_object(&body)?;
    let input = StopInput::parse(&body)?;
    let mut st = shared.lock();
    let account = st.ctx_account(&ctx)?;
    let i = st.find_position(account, &deal_id)?;
    let p = st.accounts[account].positions[i].clone();
    let m = st.market(&p.epic).ok_or_else(|| ApiError::not_found("epic"))?;
    let close = m.close_price(p.dir);
    let stops = input.update(
        input.resolve(p.dir, close, p.size, m),
        &p.stops,
        st.omitted_stops_kept,
    );
    validate(&stops, p.dir, close, m)?;
    let reference = p.deal_reference.clone();
    let rules = st.market_rules(account, &p.epic, p.size, &stops);
    let status = if rules.is_ok() { "ACCEPTED" } else { "REJECTED" };
    if rules.is_ok() {
        st.accounts[account].positions[i].stops = stops;
    }
    let now = st.now();
    st.record(
        account,
        ActivityRec {
            at: now,
            epic: p.epic.clone(),
            deal_id: p.deal_id.clone(),
            source: "USER",
            kind: "EDIT_STOP_AND_LIMIT",
            status,
            deal_reference: reference.clone(),
            size: p.size,
            dir: p.dir,
            level: p.level,
            stops,
        },
    );
    let affected = [(p.deal_id.clone(), "AMENDED")];
    st.store_confirm(
        ctx.user,
        ConfirmArgs {
            reference: &reference,
            epic: &p.epic,
            deal_id: &p.deal_id,
            dir: p.dir,
            size: p.size,
            level: rules.is_ok().then_some(p.level),
            status: rules.is_ok().then_some("AMENDED"),
            reason: rules.err().unwrap_or("SUCCESS"),
            affected: if status == "ACCEPTED" { &affected } else { &[] },
            stops,
        },
    );
    ok(json!({ "dealReference": reference }))
}

/// `DELETE /positions/{dealId}`: closes the whole deal at the market.
pub(super) async fn close(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(deal_id): Path<String>,
) -> ApiResult {
    let mut st = shared.lock();
    let account = st.ctx_account(&ctx)?;
    let i = st.find_position(account, &deal_id)?;
    let p = st.accounts[account].positions[i].clone();
    let price = st
        .market(&p.epic)
        .map(|m| m.close_price(p.dir))
        .unwrap_or(p.level);
    let affected = [st.close_part(account, i, p.size, price, "USER")];
    st.store_confirm(
        ctx.user,
        ConfirmArgs {
            reference: &p.deal_reference,
            epic: &p.epic,
            deal_id: &p.deal_id,
            dir: p.dir.opposite(),
            size: p.size,
            level: Some(price),
            status: Some("CLOSED"),
            reason: "SUCCESS",
            affected: &affected,
            stops: p.stops,
        },
    );
    ok(json!({ "dealReference": p.deal_reference }))
}

/// `GET /confirms/{dealReference}`.
pub(super) async fn confirm(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(reference): Path<String>,
) -> ApiResult {
    let st = shared.lock();
    match st.confirms.get(&reference) {
        Some(c) if c.user == ctx.user => ok(c.body.clone()),
        _ => Err(ApiError::not_found("dealReference")),
    }
}
