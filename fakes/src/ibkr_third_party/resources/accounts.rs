//! `GET /accounts`, `GET /accounts/{acct}/positions`, `GET /accounts/{acct}/summary`.

use super::super::state::Shared;
use super::super::wire::{num, ok};
use crate::ibkr_auth::three_legged::Caller;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Extension;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::sync::Arc;

/// The user's accounts.
pub(in super::super) async fn list(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
) -> Response {
    let st = shared.lock();
    let accounts: Vec<&String> = st
        .accounts
        .iter()
        .filter(|(_, a)| a.user == caller.user)
        .map(|(id, _)| id)
        .collect();
    ok(json!({ "accounts": accounts }))
}

/// The account's positions.
pub(in super::super) async fn positions(
    State(shared): State<Arc<Shared>>,
    Path(acct): Path<String>,
) -> Response {
    let st = shared.lock();
    let rows: Vec<Value> = st
        .accounts
        .get(&acct)
        .map(|a| {
            a.positions
                .iter()
                .map(|(conid, p)| {
                    json!({ "ContractId": conid, "Position": num(p.qty), "AverageCost": num(p.avg_cost.round_dp(6)) })
                })
                .collect()
        })
        .unwrap_or_default();
    ok(Value::Array(rows))
}

/// The account's values. Margin is 25 % of the gross position value for both initial and maintenance
/// (ASSUMED figures: a fake has no risk engine).
pub(in super::super) async fn summary(
    State(shared): State<Arc<Shared>>,
    Path(acct): Path<String>,
) -> Response {
    let st = shared.lock();
    let Some(a) = st.accounts.get(&acct) else {
        return ok(json!({}));
    };
    let (gross, net, unrealized) = st.valuation(&acct);
    let quarter = Decimal::new(25, 2);
    let netliq = a.cash + net;
    let margin = (gross * quarter).round_dp(2);
    let available = netliq - margin;
    ok(json!({
        "Currency": a.currency,
        "NetLiquidation": num(netliq.round_dp(2)),
        "TotalCashValue": num(a.cash.round_dp(2)),
        "EquityWithLoanValue": num(netliq.round_dp(2)),
        "BuyingPower": num((available * Decimal::from(4)).round_dp(2)),
        "AvailableFunds": num(available.round_dp(2)),
        "ExcessLiquidity": num(available.round_dp(2)),
        "InitMarginReq": num(margin),
        "MaintMarginReq": num(margin),
        "GrossPositionValue": num(gross.round_dp(2)),
        "UnrealizedPnL": num(unrealized.round_dp(2)),
        "RealizedPnL": num(a.realized.round_dp(2)),
    }))
}
