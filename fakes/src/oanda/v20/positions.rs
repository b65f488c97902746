//! `GET /v3/accounts/{id}/positions`, `/openPositions`, `/positions/{instrument}` and
//! `PUT /positions/{instrument}/close` (`longUnits` / `shortUnits`: "ALL", "NONE" or an amount).

use super::super::engine;
use super::super::gate::{v20_account, Ctx};
use super::super::model::Kind;
use super::super::state::Shared;
use super::super::wire::{dec_of, ok, v20_error, v20_error_code};
use super::orders::{json_body, reject, tx_body};
use super::views::{position_json, position_open, units};
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::sync::Arc;

/// `GET /v3/accounts/{id}/positions`: every instrument ever traded in the account.
pub(super) async fn positions(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let st = shared.lock();
    let a = match v20_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let list: Vec<Value> = st.accounts[a]
        .positions
        .iter()
        .map(|(n, _)| position_json(&st, a, n))
        .collect();
    let last = st.accounts[a].last_id().to_string();
    ok(json!({ "positions": list, "lastTransactionID": last }))
}

/// `GET /v3/accounts/{id}/openPositions`: positions with open units.
pub(super) async fn open_positions(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let st = shared.lock();
    let a = match v20_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let list: Vec<Value> = st.accounts[a]
        .positions
        .iter()
        .filter(|(n, _)| position_open(&st, a, n))
        .map(|(n, _)| position_json(&st, a, n))
        .collect();
    let last = st.accounts[a].last_id().to_string();
    ok(json!({ "positions": list, "lastTransactionID": last }))
}

/// `GET /v3/accounts/{id}/positions/{instrument}` (zeros for an instrument never traded).
pub(super) async fn position(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path((id, instrument)): Path<(String, String)>,
) -> Response {
    let st = shared.lock();
    let a = match v20_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    if st.quote(&instrument).is_none() {
        return v20_error(400, "Invalid value specified for 'instrument'");
    }
    let last = st.accounts[a].last_id().to_string();
    ok(json!({ "position": position_json(&st, a, &instrument), "lastTransactionID": last }))
}

/// One side of a closeout request: None for "NONE", else (amount or None for ALL, the text).
type Side = Option<(Option<Decimal>, String)>;

/// `PUT /v3/accounts/{id}/positions/{instrument}/close`.
pub(super) async fn close_position(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path((id, instrument)): Path<(String, String)>,
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
    if st.quote(&instrument).is_none() {
        return v20_error(400, "Invalid value specified for 'instrument'");
    }
    st.accounts[a].begin(Some(ctx.request_id));
    let side = |key: &str| -> Result<Side, String> {
        match body.get(key).and_then(Value::as_str) {
            None | Some("NONE") => Ok(None),
            Some("ALL") => Ok(Some((None, "ALL".to_string()))),
            Some(t) => match dec_of(&Value::String(t.to_string())) {
                Some(u) if u > Decimal::ZERO => Ok(Some((Some(u), t.to_string()))),
                _ => Err(t.to_string()),
            },
        }
    };
    let (long, short) = match (side("longUnits"), side("shortUnits")) {
        (Ok(l), Ok(s)) => (l, s),
        _ => {
            return v20_error_code(
                400,
                "CLOSEOUT_POSITION_PARTIAL_UNITS_MISSING",
                "The units specified for the closeout are invalid",
            )
        }
    };
    if long.is_none() && short.is_none() {
        return v20_error_code(
            400,
            "CLOSEOUT_POSITION_INCOMPLETE_SPECIFICATION",
            "Neither longUnits nor shortUnits specify anything to close",
        );
    }
    // Check both sides before closing either.
    for (is_long, wanted) in [(true, &long), (false, &short)] {
        let Some((amount, text)) = wanted else { continue };
        let open: Decimal = st.accounts[a]
            .open_trades()
            .filter(|t| t.instrument == instrument && t.is_long() == is_long)
            .map(|t| t.units.abs())
            .sum();
        let reason = if open.is_zero() {
            Some("CLOSEOUT_POSITION_DOESNT_EXIST")
        } else if amount.is_some_and(|u| u > open) {
            Some("CLOSEOUT_POSITION_UNITS_EXCEED_POSITION_SIZE")
        } else {
            None
        };
        if let Some(reason) = reason {
            let (key, closeout) = if is_long {
                ("longOrderRejectTransaction", "longPositionCloseout")
            } else {
                ("shortOrderRejectTransaction", "shortPositionCloseout")
            };
            let size = amount.unwrap_or(open);
            let signed = if is_long { -size } else { size };
            let request = json!({
                "instrument": instrument,
                "units": units(&st, &instrument, signed),
                "timeInForce": "FOK",
                "positionFill": "REDUCE_ONLY",
                "reason": "POSITION_CLOSEOUT",
                closeout: { "instrument": instrument, "units": text },
            });
            return reject(&mut st, a, key, Kind::Market, &request, reason, None);
        }
    }
    let mut named = Vec::new();
    for (is_long, wanted, prefix) in [(true, long, "long"), (false, short, "short")] {
        let Some((amount, text)) = wanted else { continue };
        let placed = engine::close_position(&mut st, a, &instrument, is_long, amount, &text);
        named.push((format!("{prefix}OrderCreateTransaction"), Some(placed.order)));
        named.push((format!("{prefix}OrderFillTransaction"), placed.fill));
        named.push((format!("{prefix}OrderCancelTransaction"), placed.cancel));
    }
    let refs: Vec<(&str, Option<u64>)> = named.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let body = tx_body(&st, a, &refs);
    st.flush();
    ok(Value::Object(body))
}
