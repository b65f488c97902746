//! `/accounts` and `/accounts/preferences`, and the money arithmetic behind them: unrealised profit and
//! loss, margin (notional / leverage of the instrument type) and the balance block.

use super::gate::Ctx;
use super::state::{Dir, Position, Shared, State, LEVERAGES};
use super::wire::{body_object, field_bool, num, ok, ApiError, ApiResult};
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::Extension;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use std::sync::Arc;

impl State {
    /// Unrealised profit or loss of a position in the market's currency, at the price it would close at.
    pub fn upl(&self, p: &Position) -> Decimal {
        let Some(m) = self.market(&p.epic) else {
            return Decimal::ZERO;
        };
        let close = m.close_price(p.dir);
        match p.dir {
            Dir::Buy => (close - p.level) * p.size,
            Dir::Sell => (p.level - close) * p.size,
        }
    }

    /// Margin a deal of `size` on `epic` needs, in the account's currency.
    pub fn margin_for(&self, account: usize, epic: &str, size: Decimal) -> Decimal {
        let Some(m) = self.market(epic) else {
            return Decimal::ZERO;
        };
        let leverage = Decimal::from(self.leverage(account, &m.spec.instrument_type).max(1));
        let notional = size * m.mid() * m.spec.lot_size;
        self.convert(
            notional / leverage,
            &m.spec.currency,
            &self.accounts[account].currency,
        )
    }

    /// (balance, deposit, profitLoss, available) of an account, rounded to cents.
    pub fn balances(&self, account: usize) -> (Decimal, Decimal, Decimal, Decimal) {
        let a = &self.accounts[account];
        let mut pnl = Decimal::ZERO;
        let mut margin = Decimal::ZERO;
        for p in &a.positions {
            let ccy = self
                .market(&p.epic)
                .map(|m| m.spec.currency.clone())
                .unwrap_or_default();
            pnl += self.convert(self.upl(p), &ccy, &a.currency);
            margin += self.margin_for(account, &p.epic, p.size);
        }
        let balance = a.cash + pnl;
        let r = |d: Decimal| d.round_dp(2);
        (r(balance), r(a.cash), r(pnl), r(balance - margin))
    }

    /// The `{balance, deposit, profitLoss, available}` block.
    pub fn balance_json(&self, account: usize) -> Value {
        let (balance, deposit, pnl, available) = self.balances(account);
        json!({
            "balance": num(balance),
            "deposit": num(deposit),
            "profitLoss": num(pnl),
            "available": num(available),
        })
    }
}

/// `GET /accounts`: every account of the logged-in user.
pub(super) async fn list(AxState(shared): AxState<Arc<Shared>>, Extension(ctx): Extension<Ctx>) -> ApiResult {
    let st = shared.lock();
    let accounts: Vec<Value> = (0..st.accounts.len())
        .filter(|i| st.accounts[*i].user == ctx.user)
        .map(|i| {
            let a = &st.accounts[i];
            json!({
                "accountId": a.id,
                "accountName": a.name,
                "status": "ENABLED",
                "accountType": "CFD",
                "preferred": a.preferred,
                "balance": st.balance_json(i),
                "currency": a.currency,
            })
        })
        .collect();
    ok(json!({ "accounts": accounts }))
}

/// `GET /accounts/preferences` of the current account.
pub(super) async fn preferences(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
) -> ApiResult {
    let st = shared.lock();
    let account = st.ctx_account(&ctx)?;
    let a = &st.accounts[account];
    let mut leverages = Map::new();
    for (ty, default, available) in LEVERAGES {
        leverages.insert(
            ty.to_string(),
            json!({
                "current": a.leverages.get(ty).copied().unwrap_or(default),
                "available": available,
            }),
        );
    }
    ok(json!({ "hedgingMode": a.hedging, "leverages": leverages }))
}

/// `PUT /accounts/preferences {leverages?, hedgingMode?}` on the current account. Every value is
/// checked before anything changes.
pub(super) async fn update_preferences(
    AxState(shared): AxState<Arc<Shared>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> ApiResult {
    let body = body_object(&body)?;
    let hedging = field_bool(&body, "hedgingMode")?;
    let mut changes = Vec::new();
    match body.get("leverages") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (ty, value) in m {
                let bad = || ApiError::bad("error.invalid.leverage.value");
                let (_, _, available) = LEVERAGES.iter().find(|(t, _, _)| t == ty).ok_or_else(bad)?;
                let v = value
                    .as_u64()
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(bad)?;
                if !available.contains(&v) {
                    return Err(bad());
                }
                changes.push((ty.clone(), v));
            }
        }
        Some(_) => return Err(ApiError::bad("error.invalid.leverages")),
    }
    let mut st = shared.lock();
    let account = st.ctx_account(&ctx)?;
    let a = &mut st.accounts[account];
    if let Some(h) = hedging {
        // Switching the trading mode with deals open would leave them in an impossible state.
        if h != a.hedging && (!a.positions.is_empty() || !a.orders.is_empty()) {
            return Err(ApiError::bad("error.invalid.hedgingMode"));
        }
        a.hedging = h;
    }
    for (ty, v) in changes {
        a.leverages.insert(ty, v);
    }
    ok(json!({ "status": "SUCCESS" }))
}
