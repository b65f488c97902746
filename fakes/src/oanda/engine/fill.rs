//! The arithmetic of a fill: which trades it reduces (FIFO, one trade, one side) and what it opens,
//! the P/L it books, and the checks that cancel an order instead (bounds, margin, losing stops).

use super::super::model::{Account, Kind, Order};
use super::super::state::State;
use super::Reduce;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// How a fill may change the account's trades.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Mode {
    /// Reduce opposite trades oldest first, open a trade with the rest.
    Fifo,
    /// Always open a new trade (hedging).
    Open,
    /// Reduce opposite trades only.
    ReduceOnly,
    /// Reduce this trade only.
    Trade(u64),
    /// Reduce trades of this side only (true: long).
    Side(bool),
}

/// Whether account `a` has the margin to fill `units` of `instrument` at `price` now (the part that
/// reduces opposite trades needs none on a netting account).
pub(in super::super) fn has_margin(
    st: &State,
    a: usize,
    instrument: &str,
    units: Decimal,
    price: Decimal,
) -> bool {
    let acct = &st.accounts[a];
    let Some(q) = st.quote(instrument) else {
        return false;
    };
    let mode = if acct.spec.hedging { Mode::Open } else { Mode::Fifo };
    let (_, open) = plan(acct, instrument, units, mode);
    let required = open.abs() * price * q.spec.margin_rate * st.quote_home(a, instrument);
    required <= super::figures(st, a).margin_available
}

/// The signed units to fill and how, for an order about to fill.
pub(super) fn fill_plan_inputs(st: &State, a: usize, order: &Order) -> Option<(Decimal, Mode)> {
    let acct = &st.accounts[a];
    if order.kind.is_dependent() {
        let trade = acct.trade(order.trade_id?)?;
        return Some((-trade.units, Mode::Trade(trade.id)));
    }
    if let Some((trade_id, _)) = &order.trade_close {
        return Some((order.units, Mode::Trade(*trade_id)));
    }
    if let Some((long, _)) = &order.closeout {
        return Some((order.units, Mode::Side(*long)));
    }
    let mode = match (acct.spec.hedging, order.position_fill.as_str()) {
        (_, "REDUCE_ONLY") => Mode::ReduceOnly,
        (false, _) | (true, "REDUCE_FIRST") => Mode::Fifo,
        (true, _) => Mode::Open,
    };
    Some((order.units, mode))
}

/// Which trades a fill of `units` reduces (oldest first) and what it opens.
pub(super) fn plan(
    acct: &Account,
    instrument: &str,
    units: Decimal,
    mode: Mode,
) -> (Vec<(u64, Decimal)>, Decimal) {
    let mut remaining = units.abs();
    let buy = units > Decimal::ZERO;
    let mut reductions = Vec::new();
    if mode != Mode::Open {
        for t in acct.open_trades() {
            if remaining.is_zero() {
                break;
            }
            // Only trades on the other side can be reduced by this fill.
            if t.instrument != instrument || t.is_long() == buy {
                continue;
            }
            let eligible = match mode {
                Mode::Trade(id) => t.id == id,
                Mode::Side(long) => t.is_long() == long,
                _ => true,
            };
            if !eligible {
                continue;
            }
            let take = remaining.min(t.units.abs());
            reductions.push((t.id, take));
            remaining -= take;
        }
    }
    let open = match mode {
        Mode::Fifo | Mode::Open => remaining,
        _ => Decimal::ZERO,
    };
    (reductions, if buy { open } else { -open })
}

/// Reduces trade `trade_id` by `take` units at `price`, books the P/L.
#[allow(clippy::too_many_arguments)]
pub(super) fn reduce(
    acct: &mut Account,
    trade_id: u64,
    take: Decimal,
    price: Decimal,
    conversion: Decimal,
    fill_id: u64,
    now: DateTime<Utc>,
    half_spread: Decimal,
) -> Reduce {
    let (instrument, long, pl) = {
        let Some(t) = acct.trade_mut(trade_id) else {
            return Reduce {
                trade_id,
                units: Decimal::ZERO,
                price,
                pl: Decimal::ZERO,
                trade_long: true,
                half_spread_cost: Decimal::ZERO,
            };
        };
        let long = t.is_long();
        let sign = if long { Decimal::ONE } else { -Decimal::ONE };
        let pl = round4((price - t.price) * take * sign * conversion);
        t.units -= sign * take;
        t.realized_pl += pl;
        t.close_value += price * take;
        t.closed_units += take;
        t.closing_tx.push(fill_id);
        if t.units.is_zero() {
            t.close_time = Some(now);
        }
        (t.instrument.clone(), long, pl)
    };
    acct.balance += pl;
    acct.pl += pl;
    let p = acct.position_pl(&instrument);
    if long {
        p.long += pl;
    } else {
        p.short += pl;
    }
    Reduce {
        trade_id,
        units: if long { -take } else { take },
        price,
        pl,
        trade_long: long,
        half_spread_cost: round4(take * half_spread),
    }
}

/// Whether a fill at `price` respects the order's price bound (v20) or bounds (v1).
pub(super) fn bounds_ok(order: &Order, buy: bool, price: Decimal) -> bool {
    let bound = order
        .price_bound
        .is_none_or(|b| if buy { price <= b } else { price >= b });
    bound && order.upper_bound.is_none_or(|u| price <= u) && order.lower_bound.is_none_or(|l| price >= l)
}

/// The cancel reason when the order's stop loss or take profit sits on the wrong side of the fill.
pub(super) fn stops_lose(order: &Order, long: bool, price: Decimal) -> Option<&'static str> {
    let sl = order.sl.as_ref().and_then(|s| {
        s.price
            .or_else(|| s.distance.map(|d| if long { price - d } else { price + d }))
    });
    if sl.is_some_and(|p| if long { p >= price } else { p <= price }) {
        return Some("STOP_LOSS_ON_FILL_LOSS");
    }
    let tp = order.tp.as_ref().and_then(|t| t.price);
    if tp.is_some_and(|p| if long { p <= price } else { p >= price }) {
        return Some("TAKE_PROFIT_ON_FILL_LOSS");
    }
    None
}

/// `OrderFillReason` of an order.
pub(super) fn fill_reason(order: &Order) -> &'static str {
    match (order.kind, order.reason) {
        (Kind::Market, "TRADE_CLOSE") => "MARKET_ORDER_TRADE_CLOSE",
        (Kind::Market, "POSITION_CLOSEOUT") => "MARKET_ORDER_POSITION_CLOSEOUT",
        (kind, _) => kind.fill_reason(),
    }
}

/// Money rounded to four decimals.
pub(in super::super) fn round4(d: Decimal) -> Decimal {
    d.round_dp(4)
}
