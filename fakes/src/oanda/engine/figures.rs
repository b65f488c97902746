//! Figures derived from open trades at the current quotes: unrealized P/L, margin used, position value,
//! NAV and margin available. Financing and commissions are not modelled (always zero).

use super::super::model::Trade;
use super::super::state::State;
use super::fill::round4;
use rust_decimal::Decimal;

/// An account's live figures, in its home currency.
#[derive(Clone, Debug, Default)]
pub(in super::super) struct Figures {
    pub unrealized: Decimal,
    pub margin_used: Decimal,
    pub position_value: Decimal,
    pub nav: Decimal,
    pub margin_available: Decimal,
}

/// Unrealized P/L and margin of one open trade: it would close at the bid (long) or ask (short).
pub(in super::super) fn trade_figures(st: &State, a: usize, t: &Trade) -> (Decimal, Decimal, Decimal) {
    let Some(q) = st.quote(&t.instrument) else {
        return (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    };
    let conversion = st.quote_home(a, &t.instrument);
    let close = if t.is_long() { q.spec.bid } else { q.spec.ask };
    let unrealized = round4((close - t.price) * t.units * conversion);
    let value = round4(t.units.abs() * q.mid() * conversion);
    let margin = round4(value * q.spec.margin_rate);
    (unrealized, margin, value)
}

/// The live figures of account `a`.
pub(in super::super) fn figures(st: &State, a: usize) -> Figures {
    let acct = &st.accounts[a];
    let mut f = Figures::default();
    for t in acct.open_trades() {
        let (u, m, v) = trade_figures(st, a, t);
        f.unrealized += u;
        f.margin_used += m;
        f.position_value += v;
    }
    f.nav = acct.balance + f.unrealized;
    f.margin_available = (f.nav - f.margin_used).max(Decimal::ZERO);
    f
}
