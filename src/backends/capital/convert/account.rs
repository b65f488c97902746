//! Capital.com accounts and preferences as TradingView account state, account type and leverage.

use super::model::{
    Account, AccountPreferences, AccountType, InstrumentType, LeverageSettings, UpdatePreferencesRequest,
};
use crate::broker::BrokerError;
use crate::tv::{self, AccountSummary};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// `/state` of an account: balance, `profitLoss` as unrealized P/L, equity = balance + P/L, `available` as
/// margin available, and the account summary table. Margin used is what equity holds beyond the available
/// funds (never below 0); realized P/L is not in the account answer, so it shows 0.
pub fn account_state(account: &Account) -> tv::AccountState {
    let b = &account.balance;
    let equity = b.balance + b.profit_loss;
    let summary = AccountSummary {
        balance: b.balance,
        equity,
        unrealized_pl: b.profit_loss,
        realized_pl: Decimal::ZERO,
        margin_used: (equity - b.available).max(Decimal::ZERO),
        margin_available: b.available,
    };
    tv::AccountState {
        balance: b.balance,
        unrealized_pl: b.profit_loss,
        equity,
        margin_available: Some(b.available),
        am_data: summary.am_data(&account.currency),
    }
}

/// Live or demo. Capital.com's `accountType` (`CFD`, or a value this bridge does not know) says nothing
/// about demo money: demo accounts live on the demo host. So this answers live, the cautious label for
/// what may be real money, and a backend connected to the demo host must say demo itself.
pub fn account_type(a: &Account) -> tv::AccountType {
    match a.account_type {
        Some(AccountType::Cfd) | Some(AccountType::Unknown) | None => tv::AccountType::Live,
    }
}

/// Human name of an instrument group, for titles and messages.
fn group_name(t: InstrumentType) -> &'static str {
    match t {
        InstrumentType::Shares => "shares",
        InstrumentType::Currencies => "currencies",
        InstrumentType::Indices => "indices",
        InstrumentType::Cryptocurrencies => "cryptocurrencies",
        InstrumentType::Commodities => "commodities",
        InstrumentType::Unknown => "instruments of an unknown type",
    }
}

/// The leverage of an instrument group: current value, min and max of the choices (the current value
/// alone when there are none), step = the greatest common divisor of the choices when they are whole
/// numbers (5, 10, 20 -> 5), else 1. `None` when the preferences carry no such group.
pub fn leverage_info(prefs: &AccountPreferences, t: InstrumentType) -> Option<tv::LeverageInfo> {
    let lev = prefs.leverages.get(t)?;
    let choices: Vec<Decimal> = if lev.available.is_empty() {
        vec![lev.current]
    } else {
        lev.available.clone()
    };
    let min = choices.iter().copied().min()?;
    let max = choices.iter().copied().max()?;
    let step = choices
        .iter()
        .map(|v| v.normalize().to_u64().filter(|_| v.fract().is_zero()))
        .try_fold(0u64, |g, v| v.map(|v| gcd(g, v)))
        .filter(|g| *g > 0)
        .map_or(Decimal::ONE, Decimal::from);
    Some(tv::LeverageInfo {
        title: format!("Leverage for all {}", group_name(t)),
        leverage: lev.current,
        min,
        max,
        step,
    })
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// `PUT /accounts/preferences` body setting the leverage of one instrument group. Capital.com leverages are
/// whole numbers: anything else, and a group this bridge does not know, is rejected.
pub fn leverage_setting(
    t: InstrumentType,
    leverage: Decimal,
) -> Result<UpdatePreferencesRequest, BrokerError> {
    let value = leverage
        .fract()
        .is_zero()
        .then(|| leverage.to_u32())
        .flatten()
        .filter(|v| *v >= 1)
        .ok_or_else(|| {
            BrokerError::Rejected(format!(
                "Leverage must be a whole number of at least 1, got {leverage}."
            ))
        })?;
    let mut settings = LeverageSettings::default();
    let slot =
        match t {
            InstrumentType::Shares => &mut settings.shares,
            InstrumentType::Currencies => &mut settings.currencies,
            InstrumentType::Indices => &mut settings.indices,
            InstrumentType::Cryptocurrencies => &mut settings.cryptocurrencies,
            InstrumentType::Commodities => &mut settings.commodities,
            InstrumentType::Unknown => return Err(BrokerError::Rejected(
                "Leverage cannot be set for this instrument: its Capital.com type is unknown to this bridge."
                    .into(),
            )),
        };
    *slot = Some(value);
    Ok(UpdatePreferencesRequest {
        leverages: Some(settings),
        hedging_mode: None,
    })
}
