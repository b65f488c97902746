//! Accounts and account state.

use super::super::super::venue::AccountHead;
use super::super::model;
use crate::tv;
use rust_decimal::Decimal;

/// An account of `GET /v1/accounts`. v1 accounts never hedge (an opposite order closes trades first in,
/// first out) and have no guaranteed stop losses. `currency` is empty when the list does not say; the
/// caller then reads it from the account itself ([`account_currency`]).
pub fn account_head(a: &model::AccountRef) -> AccountHead {
    let id = a.account_id.to_string();
    AccountHead {
        name: a
            .account_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| id.clone()),
        id,
        currency: a
            .account_currency
            .as_deref()
            .map(str::trim)
            .unwrap_or_default()
            .to_owned(),
        hedging: false,
        guaranteed_stops: false,
    }
}

/// The account currency of `GET /v1/accounts/{id}`, empty when absent.
pub fn account_currency(a: &model::Account) -> String {
    a.account_currency
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .to_owned()
}

/// Balance, P/L and margin: equity is balance plus unrealized P/L (v1 has no NAV field).
pub fn account_state(a: &model::Account) -> tv::AccountState {
    let unrealized = a.unrealized_pl.unwrap_or_default();
    let summary = tv::AccountSummary {
        balance: a.balance,
        equity: a.balance + unrealized,
        unrealized_pl: unrealized,
        realized_pl: a.realized_pl.unwrap_or_default(),
        margin_used: a.margin_used.unwrap_or_default(),
        margin_available: a.margin_avail.unwrap_or(Decimal::ZERO),
    };
    tv::AccountState {
        balance: summary.balance,
        unrealized_pl: summary.unrealized_pl,
        equity: summary.equity,
        margin_available: a.margin_avail,
        am_data: summary.am_data(&account_currency(a)),
    }
}
