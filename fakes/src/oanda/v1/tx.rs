//! v1 transactions: integer ids, JSON numbers, RFC 3339 times with microseconds. A market order and its
//! fill are one `MARKET_ORDER_CREATE`; stop loss / take profit / trailing stop are fields of trades,
//! so their own orders are not reported; rejected requests leave no transaction.

use super::super::engine::{Ev, Fill};
use super::super::model::{Account, Kind, Order, Trade};
use super::super::state::State;
use super::super::wire::{num, time1};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

/// `buy` or `sell` for signed units.
pub(in super::super) fn side(units: Decimal) -> &'static str {
    if units >= Decimal::ZERO {
        "buy"
    } else {
        "sell"
    }
}

/// The account id as a number (v1 ids are all digits).
pub(in super::super) fn account_number(acct: &Account) -> Value {
    acct.id()
        .parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(acct.id()))
}

fn base(acct: &Account, id: u64, now: DateTime<Utc>, ty: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), id.into());
    m.insert("accountId".into(), account_number(acct));
    m.insert("time".into(), time1(now).into());
    m.insert("type".into(), ty.into());
    m
}

/// `TRANSFER_FUNDS`.
pub(in super::super) fn funds(acct: &Account, id: u64, now: DateTime<Utc>, amount: Decimal) -> Value {
    let mut m = base(acct, id, now, "TRANSFER_FUNDS");
    m.insert("amount".into(), num(amount));
    m.insert("accountBalance".into(), num(acct.balance));
    Value::Object(m)
}

/// The v1 type name of an entry order (`limit`, `stop`, `marketIfTouched`, `market`).
pub(in super::super) fn order_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Limit => "limit",
        Kind::Stop => "stop",
        Kind::MarketIfTouched => "marketIfTouched",
        _ => "market",
    }
}

/// Stop loss / take profit / trailing stop fields of an order's on-fill settings.
fn order_stops(st: &State, o: &Order, m: &mut Map<String, Value>) {
    if let Some(p) = o.tp.as_ref().and_then(|d| d.price) {
        m.insert("takeProfitPrice".into(), num(p));
    }
    if let Some(p) = o.sl.as_ref().and_then(|d| d.price) {
        m.insert("stopLossPrice".into(), num(p));
    }
    if let Some(d) = o.tsl.as_ref().and_then(|d| d.distance) {
        let pip = st.quote(&o.instrument).map_or(Decimal::ONE, |q| q.spec.pip());
        m.insert("trailingStopLossDistance".into(), num(d / pip));
    }
}

/// Stop loss / take profit / trailing stop fields of a trade, from its dependent orders.
fn trade_stops(st: &State, a: usize, t: &Trade, m: &mut Map<String, Value>) {
    let acct = &st.accounts[a];
    if let Some(p) = t.tp.and_then(|id| acct.order(id)).and_then(|o| o.price) {
        m.insert("takeProfitPrice".into(), num(p));
    }
    if let Some(p) = t.sl.and_then(|id| acct.order(id)).and_then(|o| o.price) {
        m.insert("stopLossPrice".into(), num(p));
    }
    if let Some(d) = t.tsl.and_then(|id| acct.order(id)).and_then(|o| o.distance) {
        let pip = st.quote(&t.instrument).map_or(Decimal::ONE, |q| q.spec.pip());
        m.insert("trailingStopLossDistance".into(), num(d / pip));
    }
}

/// The trade effects of a fill (`tradeOpened`, `tradeReduced`, `tradesClosed`).
fn fill_effects(f: &Fill, m: &mut Map<String, Value>) {
    if let Some(o) = &f.opened {
        m.insert(
            "tradeOpened".into(),
            json!({ "id": o.trade_id, "units": num(o.units.abs()) }),
        );
    }
    if let Some(r) = &f.reduced {
        m.insert(
            "tradeReduced".into(),
            json!({ "id": r.trade_id, "units": num(r.units.abs()), "pl": num(r.pl), "interest": 0 }),
        );
    }
    if !f.closed.is_empty() {
        let closed: Vec<Value> = f
            .closed
            .iter()
            .map(|r| {
                let s = if r.trade_long { "buy" } else { "sell" };
                json!({ "id": r.trade_id, "units": num(r.units.abs()), "side": s })
            })
            .collect();
        m.insert("tradesClosed".into(), closed.into());
    }
}

/// An event of account `a` as v1 transactions (the first takes `id`; the caller numbers the others).
pub(in super::super) fn render(st: &State, a: usize, id: u64, now: DateTime<Utc>, ev: &Ev) -> Vec<Value> {
    let acct = &st.accounts[a];
    let b = |ty: &str| base(acct, id, now, ty);
    match ev {
        Ev::Funds { amount, balance } => {
            let mut m = b("TRANSFER_FUNDS");
            m.insert("amount".into(), num(*amount));
            m.insert("accountBalance".into(), num(*balance));
            vec![Value::Object(m)]
        }
        Ev::OrderCreate(o) if o.kind.is_entry() => {
            let mut m = b(&format!("{}_ORDER_CREATE", o.kind.wire()));
            m.extend(order_body(st, o));
            m.insert("reason".into(), "CLIENT_REQUEST".into());
            vec![Value::Object(m)]
        }
        Ev::OrderUpdate(o) => {
            let mut m = b("ORDER_UPDATE");
            m.insert("orderId".into(), o.id.into());
            m.extend(order_body(st, o));
            m.insert("reason".into(), "CLIENT_REQUEST".into());
            vec![Value::Object(m)]
        }
        Ev::TradeUpdate(t) => {
            let mut m = b("TRADE_UPDATE");
            m.insert("tradeId".into(), t.id.into());
            m.insert("instrument".into(), t.instrument.clone().into());
            m.insert("units".into(), num(t.units.abs()));
            m.insert("side".into(), side(t.units).into());
            trade_stops(st, a, t, &mut m);
            vec![Value::Object(m)]
        }
        Ev::OrderCancel { order, reason } if order.kind.is_entry() => {
            let mut m = b("ORDER_CANCEL");
            m.insert("orderId".into(), order.id.into());
            m.insert("instrument".into(), order.instrument.clone().into());
            m.insert("units".into(), num(order.units.abs()));
            m.insert("side".into(), side(order.units).into());
            m.insert("reason".into(), (*reason).into());
            vec![Value::Object(m)]
        }
        Ev::OrderFill { order, fill } => render_fill(st, a, id, now, order, fill),
        _ => Vec::new(),
    }
}

/// The fields an order-creating or -updating transaction carries.
fn order_body(st: &State, o: &Order) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("instrument".into(), o.instrument.clone().into());
    m.insert("units".into(), num(o.units.abs()));
    m.insert("side".into(), side(o.units).into());
    if let Some(p) = o.price {
        m.insert("price".into(), num(p));
    }
    if let Some(e) = o.gtd {
        m.insert("expiry".into(), time1(e).into());
    }
    if let Some(u) = o.upper_bound {
        m.insert("upperBound".into(), num(u));
    }
    if let Some(l) = o.lower_bound {
        m.insert("lowerBound".into(), num(l));
    }
    order_stops(st, o, &mut m);
    m
}

/// A fill: `MARKET_ORDER_CREATE`, `ORDER_FILLED`, `TRADE_CLOSE` (one per trade) or `..._FILLED`.
fn render_fill(st: &State, a: usize, id: u64, now: DateTime<Utc>, o: &Order, f: &Fill) -> Vec<Value> {
    let acct = &st.accounts[a];
    let common = |m: &mut Map<String, Value>, units: Decimal, pl: Decimal, balance: Decimal| {
        m.insert("instrument".into(), f.instrument.clone().into());
        m.insert("units".into(), num(units.abs()));
        m.insert("side".into(), side(units).into());
        m.insert("price".into(), num(f.price));
        m.insert("pl".into(), num(pl));
        m.insert("interest".into(), 0.into());
        m.insert("accountBalance".into(), num(balance));
    };
    let ty = match (o.kind, o.reason) {
        (Kind::Market, "TRADE_CLOSE") | (Kind::Market, "POSITION_CLOSEOUT") => {
            // One TRADE_CLOSE per trade, each with its own P/L and the balance after it.
            let mut balance = f.balance - f.pl;
            return f
                .closed
                .iter()
                .chain(f.reduced.iter())
                .map(|r| {
                    balance += r.pl;
                    let mut m = base(acct, id, now, "TRADE_CLOSE");
                    common(&mut m, r.units, r.pl, balance);
                    // v1 reports the side of the trade that was closed.
                    m.insert("side".into(), if r.trade_long { "buy" } else { "sell" }.into());
                    m.insert("tradeId".into(), r.trade_id.into());
                    Value::Object(m)
                })
                .collect();
        }
        (Kind::Market, _) => "MARKET_ORDER_CREATE",
        (Kind::TakeProfit, _) => "TAKE_PROFIT_FILLED",
        (Kind::StopLoss, _) => "STOP_LOSS_FILLED",
        (Kind::TrailingStopLoss, _) => "TRAILING_STOP_FILLED",
        _ => "ORDER_FILLED",
    };
    let mut m = base(acct, id, now, ty);
    common(&mut m, f.units, f.pl, f.balance);
    match o.kind {
        Kind::Market => {
            fill_effects(f, &mut m);
            order_stops(st, o, &mut m);
        }
        k if k.is_dependent() => {
            m.insert("side".into(), side(-f.units).into());
            if let Some(t) = o.trade_id {
                m.insert("tradeId".into(), t.into());
            }
        }
        _ => {
            m.insert("orderId".into(), o.id.into());
            fill_effects(f, &mut m);
        }
    }
    vec![Value::Object(m)]
}
