//! v1 representations: orders, trades and positions with JSON numbers and 0 for "not set".

use super::super::model::{Order, Trade};
use super::super::state::State;
use super::super::wire::{num, time1};
use super::tx::{order_type, side};
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// Pips of a price distance on `instrument`.
pub(in super::super) fn pips(st: &State, instrument: &str, distance: Decimal) -> Decimal {
    let pip = st.quote(instrument).map_or(Decimal::ONE, |q| q.spec.pip());
    (distance / pip).normalize()
}

fn or_zero(d: Option<Decimal>) -> Value {
    num(d.unwrap_or(Decimal::ZERO))
}

/// A v1 order (`limit`, `stop` or `marketIfTouched`).
pub(in super::super) fn order_json(st: &State, o: &Order) -> Value {
    json!({
        "id": o.id,
        "instrument": o.instrument,
        "units": num(o.units.abs()),
        "side": side(o.units),
        "type": order_type(o.kind),
        "time": time1(o.created),
        "price": or_zero(o.price),
        "takeProfit": or_zero(o.tp.as_ref().and_then(|d| d.price)),
        "stopLoss": or_zero(o.sl.as_ref().and_then(|d| d.price)),
        "expiry": o.gtd.map(time1).unwrap_or_default(),
        "upperBound": or_zero(o.upper_bound),
        "lowerBound": or_zero(o.lower_bound),
        "trailingStop": or_zero(o.tsl.as_ref().and_then(|d| d.distance).map(|d| pips(st, &o.instrument, d))),
    })
}

/// A v1 trade, its stops read from its dependent orders.
pub(in super::super) fn trade_json(st: &State, a: usize, t: &Trade) -> Value {
    let acct = &st.accounts[a];
    let tp = t.tp.and_then(|id| acct.order(id)).and_then(|o| o.price);
    let sl = t.sl.and_then(|id| acct.order(id)).and_then(|o| o.price);
    let tsl = t.tsl.and_then(|id| acct.order(id));
    json!({
        "id": t.id,
        "units": num(t.units.abs()),
        "side": side(t.units),
        "instrument": t.instrument,
        "time": time1(t.open_time),
        "price": num(t.price),
        "takeProfit": or_zero(tp),
        "stopLoss": or_zero(sl),
        "trailingStop": or_zero(tsl.and_then(|o| o.distance).map(|d| pips(st, &t.instrument, d))),
        "trailingAmount": or_zero(tsl.and_then(|o| o.trailing_value)),
    })
}

/// The net position of `instrument` (None when flat): units, side, average price.
pub(in super::super) fn position_json(st: &State, a: usize, instrument: &str) -> Option<Value> {
    let trades: Vec<&Trade> = st.accounts[a]
        .open_trades()
        .filter(|t| t.instrument == instrument)
        .collect();
    let total: Decimal = trades.iter().map(|t| t.units).sum();
    if total.is_zero() {
        return None;
    }
    let avg = trades.iter().map(|t| t.price * t.units).sum::<Decimal>() / total;
    let dp = st.quote(instrument).map_or(5, |q| q.spec.display_precision);
    Some(json!({
        "instrument": instrument,
        "units": num(total.abs()),
        "side": side(total),
        "avgPrice": num(avg.round_dp(dp)),
    }))
}
