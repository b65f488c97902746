//! Account summaries as the venue's [`AccountHead`] and as TradingView's account state.

use super::model::{AccountSummary, GuaranteedStopLossOrderMode};
use crate::backends::oanda::venue::AccountHead;
use crate::tv;

/// The account as the broker lists it: alias (or id), home currency, hedging, guaranteed stops.
pub fn account_head(s: &AccountSummary) -> AccountHead {
    AccountHead {
        id: s.id.clone(),
        name: s
            .alias
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .unwrap_or(&s.id)
            .to_string(),
        currency: s.currency.clone(),
        hedging: s.hedging_enabled,
        // An unknown mode is taken as not allowing them: offering what OANDA then refuses is worse.
        guaranteed_stops: matches!(
            s.guaranteed_stop_loss_order_mode,
            Some(GuaranteedStopLossOrderMode::Allowed | GuaranteedStopLossOrderMode::Required)
        ),
    }
}

/// `/state`: balance, NAV as equity, unrealized P/L and available margin, and the account manager row.
/// A figure OANDA leaves out counts as zero (equity as the balance plus the unrealized P/L).
pub fn account_state(s: &AccountSummary) -> tv::AccountState {
    let unrealized_pl = s.unrealized_pl.unwrap_or_default();
    let equity = s.nav.unwrap_or(s.balance + unrealized_pl);
    let summary = tv::AccountSummary {
        balance: s.balance,
        equity,
        unrealized_pl,
        realized_pl: s.pl.unwrap_or_default(),
        margin_used: s.margin_used.unwrap_or_default(),
        margin_available: s.margin_available.unwrap_or_default(),
    };
    tv::AccountState {
        balance: s.balance,
        unrealized_pl,
        equity,
        margin_available: s.margin_available,
        am_data: summary.am_data(&s.currency),
    }
}
