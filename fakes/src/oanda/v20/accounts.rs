//! `GET /v3/accounts`, `/accounts/{id}`, `/accounts/{id}/summary` and `/accounts/{id}/instruments`.

use super::super::engine::figures;
use super::super::gate::{v20_account, Ctx};
use super::super::state::{Quote, Shared, State};
use super::super::wire::{fixed, money, ok, plain, time20, v20_error, Query};
use super::request::trailing_bounds;
use super::views::{order_json, position_json, trade_json};
use axum::extract::{Path, RawQuery, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// `GET /v3/accounts`: the v20 accounts the token reaches.
pub(super) async fn list(AxState(shared): AxState<Arc<Shared>>, Extension(ctx): Extension<Ctx>) -> Response {
    let st = shared.lock();
    let accounts: Vec<Value> = st
        .accounts
        .iter()
        .filter(|a| !a.legacy() && st.reaches(&ctx.token, a.id()))
        .map(|a| json!({ "id": a.id(), "tags": [] }))
        .collect();
    ok(json!({ "accounts": accounts }))
}

/// The `AccountSummary` fields of account `a`.
pub(super) fn summary_fields(st: &State, a: usize) -> Map<String, Value> {
    let acct = &st.accounts[a];
    let f = figures(st, a);
    let open_positions = {
        let mut names: Vec<&str> = acct.open_trades().map(|t| t.instrument.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names.len()
    };
    let ratio = |num: Decimal, den: Decimal| {
        if den <= Decimal::ZERO {
            "0.00000".to_string()
        } else {
            fixed(num / den, 5)
        }
    };
    let zero = money(Decimal::ZERO);
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("id", acct.id().into());
    put("alias", acct.spec.alias.clone().into());
    put("currency", acct.spec.currency.clone().into());
    put("balance", money(acct.balance).into());
    put("createdByUserID", 1_234_567.into());
    put("createdTime", time20(acct.created).into());
    let mode = if acct.spec.guaranteed_stops {
        "ALLOWED"
    } else {
        "DISABLED"
    };
    put("guaranteedStopLossOrderMode", mode.into());
    put("pl", money(acct.pl).into());
    put("resettablePL", money(acct.pl).into());
    put("resettablePLTime", "0".into());
    put("financing", zero.clone().into());
    put("commission", zero.clone().into());
    put("guaranteedExecutionFees", zero.clone().into());
    put("openTradeCount", acct.open_trades().count().into());
    put("openPositionCount", open_positions.into());
    put("pendingOrderCount", acct.pending_orders().count().into());
    put("hedgingEnabled", acct.spec.hedging.into());
    if let Some(t) = acct.last_fill {
        put("lastOrderFillTimestamp", time20(t).into());
    }
    put("unrealizedPL", money(f.unrealized).into());
    put("NAV", money(f.nav).into());
    put("marginUsed", money(f.margin_used).into());
    put("marginAvailable", money(f.margin_available).into());
    put("positionValue", money(f.position_value).into());
    put("marginCloseoutUnrealizedPL", money(f.unrealized).into());
    put("marginCloseoutNAV", money(f.nav).into());
    put("marginCloseoutMarginUsed", money(f.margin_used).into());
    put(
        "marginCloseoutPercent",
        ratio(f.margin_used, f.nav * Decimal::TWO).into(),
    );
    put("marginCloseoutPositionValue", money(f.position_value).into());
    put(
        "withdrawalLimit",
        money(f.margin_available.min(acct.balance)).into(),
    );
    put("marginCallMarginUsed", money(f.margin_used).into());
    put("marginCallPercent", ratio(f.margin_used, f.nav).into());
    put("lastTransactionID", acct.last_id().to_string().into());
    m
}

/// `GET /v3/accounts/{id}`: the full account with its open trades, positions and pending orders.
pub(super) async fn details(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let st = shared.lock();
    let a = match v20_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let acct = &st.accounts[a];
    let mut m = summary_fields(&st, a);
    let trades: Vec<Value> = acct.open_trades().map(|t| trade_json(&st, a, t, false)).collect();
    let positions: Vec<Value> = acct
        .positions
        .iter()
        .map(|(name, _)| position_json(&st, a, name))
        .collect();
    let orders: Vec<Value> = acct.pending_orders().map(|o| order_json(&st, o)).collect();
    m.insert("trades".into(), trades.into());
    m.insert("positions".into(), positions.into());
    m.insert("orders".into(), orders.into());
    ok(json!({ "account": m, "lastTransactionID": acct.last_id().to_string() }))
}

/// `GET /v3/accounts/{id}/summary`.
pub(super) async fn summary(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let st = shared.lock();
    let a = match v20_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let last = st.accounts[a].last_id().to_string();
    ok(json!({ "account": summary_fields(&st, a), "lastTransactionID": last }))
}

/// An `Instrument`.
pub(super) fn instrument_json(q: &Quote) -> Value {
    let s = &q.spec;
    let (min, max) = trailing_bounds(q);
    json!({
        "name": s.name,
        "type": s.kind,
        "displayName": s.display_name,
        "pipLocation": s.pip_location,
        "displayPrecision": s.display_precision,
        "tradeUnitsPrecision": s.trade_units_precision,
        "minimumTradeSize": plain(s.minimum_trade_size),
        "maximumTrailingStopDistance": fixed(max, s.display_precision),
        "minimumTrailingStopDistance": fixed(min, s.display_precision),
        "maximumPositionSize": "0",
        "maximumOrderUnits": plain(s.maximum_order_units),
        "marginRate": plain(s.margin_rate),
    })
}

/// `GET /v3/accounts/{id}/instruments[?instruments=A,B]`.
pub(super) async fn instruments(
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
    let query = Query::parse(raw.as_deref());
    let wanted = query.list("instruments");
    if let Some(w) = &wanted {
        if w.iter().any(|n| st.quote(n).is_none()) {
            return v20_error(400, "Invalid value specified for 'instruments'");
        }
    }
    let list: Vec<Value> = st
        .quotes
        .iter()
        .filter(|q| wanted.as_ref().is_none_or(|w| w.contains(&q.spec.name)))
        .map(instrument_json)
        .collect();
    let last = st.accounts[a].last_id().to_string();
    ok(json!({ "instruments": list, "lastTransactionID": last }))
}
