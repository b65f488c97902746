//! What a market move does: trailing stops follow the price, crossed pending orders fill and stop
//! loss / take profit / trailing stop orders close their trades; GTD and GFD orders lapse.

use super::super::candles::tz::Tz;
use super::super::model::{Kind, OrderState};
use super::super::state::State;
use super::exec::{cancel, execute};
use chrono::{DateTime, Datelike, Duration as TimeDelta, NaiveTime, Utc, Weekday};
use rust_decimal::Decimal;

/// Moves `instrument` to `bid`/`ask` (an unknown instrument is ignored): pushes the price to the
/// pricing streams, then lets every account react, then feeds the transaction streams.
pub(in super::super) fn set_price(st: &mut State, instrument: &str, bid: Decimal, ask: Decimal) {
    let now = st.now();
    set_price_at(st, instrument, bid, ask, now);
}

/// [`set_price`] with the quote stamped `at` (the moving market sends each tick at its own second).
pub(in super::super) fn set_price_at(
    st: &mut State,
    instrument: &str,
    bid: Decimal,
    ask: Decimal,
    now: DateTime<Utc>,
) {
    let Some(q) = st.quotes.iter_mut().find(|q| q.spec.name == instrument) else {
        return;
    };
    q.spec.bid = bid;
    q.spec.ask = ask;
    q.time = now;
    st.push_price(instrument);
    for a in 0..st.accounts.len() {
        st.accounts[a].begin(None);
        expire(st, a);
        trail(st, a, instrument);
        // Each fill may create orders that are crossed too; the bound only guards against a loop.
        for _ in 0..1000 {
            let next = st.accounts[a]
                .orders
                .iter()
                .filter(|o| o.is_pending() && o.instrument == instrument)
                .map(|o| o.id)
                .find(|id| triggered(st, a, *id));
            let Some(id) = next else { break };
            let at = guaranteed_price(st, a, id);
            let _ = execute(st, a, id, at);
        }
    }
    st.flush();
}

/// Cancels lapsed GTD/GFD orders in every account and feeds the streams.
pub(in super::super) fn expire_all(st: &mut State) {
    for a in 0..st.accounts.len() {
        let now = st.now();
        let due = st.accounts[a]
            .orders
            .iter()
            .any(|o| o.is_pending() && o.expires.is_some_and(|e| e <= now));
        if due {
            st.accounts[a].begin(None);
            expire(st, a);
        }
    }
    st.flush();
}

fn expire(st: &mut State, a: usize) {
    let now = st.now();
    let due: Vec<u64> = st.accounts[a]
        .orders
        .iter()
        .filter(|o| o.is_pending() && o.expires.is_some_and(|e| e <= now))
        .map(|o| o.id)
        .collect();
    for id in due {
        cancel(st, a, id, "TIME_IN_FORCE_EXPIRED");
    }
}

/// Moves trailing stops of `instrument` in the trade's favour (never back).
fn trail(st: &mut State, a: usize, instrument: &str) {
    let Some(q) = st.quote(instrument) else { return };
    let (bid, ask, precision) = (q.spec.bid, q.spec.ask, q.spec.display_precision);
    let acct = &mut st.accounts[a];
    let longs: Vec<(u64, bool)> = acct
        .orders
        .iter()
        .filter(|o| o.is_pending() && o.kind == Kind::TrailingStopLoss && o.instrument == instrument)
        .filter_map(|o| {
            let t = acct.trades.iter().find(|t| Some(t.id) == o.trade_id)?;
            Some((o.id, t.is_long()))
        })
        .collect();
    for (id, long) in longs {
        let Some(o) = acct.order_mut(id) else { continue };
        let (Some(d), Some(v)) = (o.distance, o.trailing_value) else {
            continue;
        };
        let candidate = if long { bid - d } else { ask + d }.round_dp(precision);
        if (long && candidate > v) || (!long && candidate < v) {
            o.trailing_value = Some(candidate);
        }
    }
}

/// Where a trailing stop starts: `distance` from the trade's price on the losing side.
pub(in super::super) fn trailing_start(
    price: Decimal,
    long: bool,
    distance: Decimal,
    precision: u32,
) -> Decimal {
    if long { price - distance } else { price + distance }.round_dp(precision)
}

/// Whether pending order `id` is crossed by the current quote (never while the market is halted).
pub(in super::super) fn triggered(st: &State, a: usize, id: u64) -> bool {
    let acct = &st.accounts[a];
    let Some(o) = acct.order(id) else { return false };
    if o.state != OrderState::Pending {
        return false;
    }
    let Some(q) = st.quote(&o.instrument) else {
        return false;
    };
    if !q.tradeable() {
        return false;
    }
    let (bid, ask, mid) = (q.spec.bid, q.spec.ask, q.mid());
    // The side that fills: entry orders by their units, dependents close their trade.
    let (buy, long_trade) = if o.kind.is_dependent() {
        let Some(t) = o.trade_id.and_then(|t| acct.trade(t)) else {
            return false;
        };
        if !t.is_open() {
            return false;
        }
        (!t.is_long(), t.is_long())
    } else {
        (o.is_buy(), o.is_buy())
    };
    let p = match o.trigger.as_str() {
        "INVERSE" => {
            if buy {
                bid
            } else {
                ask
            }
        }
        "BID" => bid,
        "ASK" => ask,
        "MID" => mid,
        _ => {
            if buy {
                ask
            } else {
                bid
            }
        }
    };
    let level = match o.kind {
        Kind::TrailingStopLoss => o.trailing_value,
        _ => o.price,
    };
    let Some(level) = level else { return false };
    match o.kind {
        Kind::Limit => (buy && p <= level) || (!buy && p >= level),
        Kind::Stop => (buy && p >= level) || (!buy && p <= level),
        Kind::MarketIfTouched => match o.initial_market_price {
            Some(initial) if level >= initial => p >= level,
            _ => p <= level,
        },
        Kind::TakeProfit => (long_trade && p >= level) || (!long_trade && p <= level),
        Kind::StopLoss | Kind::TrailingStopLoss => (long_trade && p <= level) || (!long_trade && p >= level),
        Kind::Market => false,
    }
}

/// Fills pending order `id` now (a guaranteed stop at its own price): `Ok(fill)` or `Err(cancel)`.
pub(in super::super) fn fill_now(st: &mut State, a: usize, id: u64) -> Result<u64, u64> {
    let at = guaranteed_price(st, a, id);
    execute(st, a, id, at)
}

/// A guaranteed stop loss fills exactly at its price.
fn guaranteed_price(st: &State, a: usize, id: u64) -> Option<Decimal> {
    let o = st.accounts[a].order(id)?;
    (o.kind == Kind::StopLoss && o.guaranteed)
        .then_some(o.price)
        .flatten()
}

/// When a GFD order created at `now` lapses: the next 17:00 New York (the end of OANDA's trading day).
pub(in super::super) fn gfd_expiry(now: DateTime<Utc>) -> DateTime<Utc> {
    let tz = Tz::NewYork;
    let local = tz.to_local(now);
    let five = NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default();
    let mut day = local.date();
    if local.time() >= five {
        day += TimeDelta::days(1);
    }
    // No trading day ends on a weekend: after Friday 17:00 the next end is Monday's.
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day += TimeDelta::days(1);
    }
    tz.to_utc(day.and_time(five))
}
