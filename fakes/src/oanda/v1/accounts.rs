//! `GET /v1/accounts` and `GET /v1/accounts/{id}`.

use super::super::engine::figures;
use super::super::gate::{v1_account, Ctx};
use super::super::state::Shared;
use super::super::wire::{num, ok};
use super::tx::account_number;
use axum::extract::{Path, State as AxState};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::sync::Arc;

/// The account-wide margin rate v1 reports (20:1).
fn margin_rate() -> Value {
    num(Decimal::new(5, 2))
}

/// `GET /v1/accounts`: the legacy accounts the token reaches.
pub(super) async fn list(AxState(shared): AxState<Arc<Shared>>, Extension(ctx): Extension<Ctx>) -> Response {
    let st = shared.lock();
    let accounts: Vec<Value> = st
        .accounts
        .iter()
        .filter(|a| a.legacy() && st.reaches(&ctx.token, a.id()))
        .map(|a| {
            json!({
                "accountId": account_number(a),
                "accountName": a.spec.alias,
                "accountCurrency": a.spec.currency,
                "marginRate": margin_rate(),
            })
        })
        .collect();
    ok(json!({ "accounts": accounts }))
}

/// `GET /v1/accounts/{id}`.
pub(super) async fn details(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Response {
    let st = shared.lock();
    let a = match v1_account(&st, &ctx, &id) {
        Ok(a) => a,
        Err(r) => return r.into_response(),
    };
    let acct = &st.accounts[a];
    let f = figures(&st, a);
    ok(json!({
        "accountId": account_number(acct),
        "accountName": acct.spec.alias,
        "balance": num(acct.balance),
        "unrealizedPl": num(f.unrealized),
        "realizedPl": num(acct.pl),
        "marginUsed": num(f.margin_used),
        "marginAvail": num(f.margin_available),
        "openTrades": acct.open_trades().count(),
        "openOrders": acct.pending_orders().filter(|o| o.kind.is_entry()).count(),
        "marginRate": margin_rate(),
        "accountCurrency": acct.spec.currency,
    }))
}
