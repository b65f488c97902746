//! Order execution: placing client orders, filling (FIFO reduction on netting accounts, specific trades
//! for closes), the dependent orders a fill creates, cancellation, trade and position closes.

use super::super::model::{FillRef, Kind, OnFill, Order, OrderState, Trade};
use super::super::state::State;
use super::fill::{bounds_ok, fill_plan_inputs, fill_reason, plan, reduce, round4, stops_lose};
use super::{expiry, record, Ev, Fill, Opened};
use rust_decimal::Decimal;

/// Transactions a request created: the order (its create transaction), and its fill or cancel.
#[derive(Clone, Copy, Debug, Default)]
pub(in super::super) struct Placed {
    pub order: u64,
    pub fill: Option<u64>,
    pub cancel: Option<u64>,
}

/// Creates a validated client order: records it, fills a market order at once (or cancels it) and
/// lets a pending order fill at once when the market already crossed it.
pub(in super::super) fn place(st: &mut State, a: usize, mut order: Order) -> Placed {
    let now = st.now();
    order.id = st.accounts[a].alloc();
    order.created = now;
    order.expires = expiry(&order.tif, order.gtd, now);
    if order.kind == Kind::MarketIfTouched {
        order.initial_market_price = st.quote(&order.instrument).map(|q| q.mid());
    }
    let id = order.id;
    let kind = order.kind;
    let tif = order.tif.clone();
    st.accounts[a].orders.push(order.clone());
    record(st, a, id, Ev::OrderCreate(Box::new(order)));
    let mut placed = Placed {
        order: id,
        ..Placed::default()
    };
    if kind == Kind::Market {
        match execute(st, a, id, None) {
            Ok(fill) => placed.fill = Some(fill),
            Err(cancel) => placed.cancel = Some(cancel),
        }
        return placed;
    }
    if super::market::triggered(st, a, id) {
        match execute(st, a, id, None) {
            Ok(fill) => placed.fill = Some(fill),
            Err(cancel) => placed.cancel = Some(cancel),
        }
    } else if tif == "FOK" || tif == "IOC" {
        // Nothing to fill against right now: an immediate-or-cancel order lapses.
        placed.cancel = Some(cancel(st, a, id, "TIME_IN_FORCE_EXPIRED"));
    }
    placed
}

/// Cancels a pending order; returns the cancel transaction id (0 for an unknown order).
pub(in super::super) fn cancel(st: &mut State, a: usize, order_id: u64, reason: &'static str) -> u64 {
    let now = st.now();
    let acct = &mut st.accounts[a];
    if acct.order(order_id).is_none() {
        return 0;
    }
    let tx = acct.alloc();
    let Some(order) = acct.order_mut(order_id) else {
        return tx;
    };
    order.state = OrderState::Cancelled;
    order.cancel = Some((tx, now));
    let snapshot = order.clone();
    if let Some(trade_id) = snapshot.trade_id {
        if let Some(t) = acct.trade_mut(trade_id) {
            for slot in [&mut t.tp, &mut t.sl, &mut t.tsl] {
                if *slot == Some(order_id) {
                    *slot = None;
                }
            }
        }
    }
    record(
        st,
        a,
        tx,
        Ev::OrderCancel {
            order: Box::new(snapshot),
            reason,
        },
    );
    tx
}

/// Closes `units` of a trade (all of it when None) with a trade-close market order.
pub(in super::super) fn close_trade(
    st: &mut State,
    a: usize,
    trade_id: u64,
    units: Option<Decimal>,
    units_text: &str,
) -> Placed {
    let now = st.now();
    let Some(trade) = st.accounts[a].trade(trade_id).cloned() else {
        return Placed::default();
    };
    let size = units.unwrap_or(trade.units.abs()).min(trade.units.abs());
    let mut order = Order::new(0, Kind::Market, &trade.instrument, now);
    order.units = if trade.is_long() { -size } else { size };
    order.trade_close = Some((trade_id, units_text.to_string()));
    order.client_trade_id = trade.client_id().map(str::to_string);
    order.position_fill = "REDUCE_ONLY".to_string();
    order.reason = "TRADE_CLOSE";
    place(st, a, order)
}

/// Closes `units` of one side of a position (all of it when None) with a closeout market order.
pub(in super::super) fn close_position(
    st: &mut State,
    a: usize,
    instrument: &str,
    long: bool,
    units: Option<Decimal>,
    units_text: &str,
) -> Placed {
    let now = st.now();
    let open: Decimal = st.accounts[a]
        .open_trades()
        .filter(|t| t.instrument == instrument && t.is_long() == long)
        .map(|t| t.units.abs())
        .sum();
    let size = units.unwrap_or(open).min(open);
    let mut order = Order::new(0, Kind::Market, instrument, now);
    order.units = if long { -size } else { size };
    order.closeout = Some((long, units_text.to_string()));
    order.position_fill = "REDUCE_ONLY".to_string();
    order.reason = "POSITION_CLOSEOUT";
    place(st, a, order)
}

/// Fills order `id` at the market (or at `at`, for guaranteed stops); cancels it instead when the
/// market is halted, its bounds are violated, margin is short or its stops would lose at once.
/// `Ok(fill tx)` or `Err(cancel tx)`.
pub(super) fn execute(st: &mut State, a: usize, id: u64, at: Option<Decimal>) -> Result<u64, u64> {
    let now = st.now();
    let Some(order) = st.accounts[a].order(id).cloned() else {
        return Err(0);
    };
    let Some(quote) = st.quote(&order.instrument) else {
        return Err(cancel(st, a, id, "INTERNAL_SERVER_ERROR"));
    };
    let (bid, ask, quote_time) = (quote.spec.bid, quote.spec.ask, quote.time);
    let spec = quote.spec.clone();
    if !quote.tradeable() {
        return Err(cancel(st, a, id, "MARKET_HALTED"));
    }
    let (units, mode) = match fill_plan_inputs(st, a, &order) {
        Some(x) => x,
        None => return Err(cancel(st, a, id, "INTERNAL_SERVER_ERROR")),
    };
    let buy = units > Decimal::ZERO;
    let price = at.unwrap_or(if buy { ask } else { bid });
    if !bounds_ok(&order, buy, price) {
        return Err(cancel(st, a, id, "BOUNDS_VIOLATION"));
    }
    let (reductions, open) = plan(&st.accounts[a], &order.instrument, units, mode);
    if reductions.is_empty() && open.is_zero() {
        // A reduce-only order with nothing to reduce.
        return Err(cancel(st, a, id, "INSUFFICIENT_LIQUIDITY"));
    }
    let conversion = st.quote_home(a, &order.instrument);
    if !open.is_zero() {
        let required = open.abs() * price * spec.margin_rate * conversion;
        if required > super::figures(st, a).margin_available {
            return Err(cancel(st, a, id, "INSUFFICIENT_MARGIN"));
        }
        if let Some(reason) = stops_lose(&order, open > Decimal::ZERO, price) {
            return Err(cancel(st, a, id, reason));
        }
    }
    let half_spread = (ask - bid) / Decimal::TWO * conversion;
    let fill_id = st.accounts[a].alloc();
    let acct = &mut st.accounts[a];
    let mut fill = Fill {
        instrument: order.instrument.clone(),
        units: Decimal::ZERO,
        price,
        bid,
        ask,
        quote_time,
        opened: None,
        reduced: None,
        closed: Vec::new(),
        pl: Decimal::ZERO,
        balance: acct.balance,
        conversion,
        reason: fill_reason(&order),
    };
    let mut closed_ids = Vec::new();
    for (trade_id, take) in reductions {
        let r = reduce(acct, trade_id, take, price, conversion, fill_id, now, half_spread);
        fill.units += r.units;
        fill.pl += r.pl;
        let closed = acct.trade(trade_id).is_some_and(|t| !t.is_open());
        if closed {
            closed_ids.push(trade_id);
            fill.closed.push(r);
        } else {
            fill.reduced = Some(r);
        }
    }
    if !open.is_zero() {
        let margin = round4(open.abs() * price * spec.margin_rate * conversion);
        acct.trades.push(Trade {
            id: fill_id,
            instrument: order.instrument.clone(),
            price,
            open_time: now,
            initial_units: open,
            units: open,
            realized_pl: Decimal::ZERO,
            close_value: Decimal::ZERO,
            closed_units: Decimal::ZERO,
            closing_tx: Vec::new(),
            close_time: None,
            ext: order.trade_ext.clone(),
            tp: None,
            sl: None,
            tsl: None,
            initial_margin: margin,
        });
        acct.position_pl(&order.instrument);
        fill.units += open;
        fill.opened = Some(Opened {
            trade_id: fill_id,
            units: open,
            price,
            margin,
            ext: order.trade_ext.clone(),
            half_spread_cost: round4(open.abs() * half_spread),
        });
    }
    fill.balance = acct.balance;
    acct.last_fill = Some(now);
    let filled = {
        let Some(o) = acct.order_mut(id) else {
            return Err(0);
        };
        o.state = OrderState::Filled;
        o.fill = Some(FillRef {
            tx: fill_id,
            time: Some(now),
            opened: fill.opened.as_ref().map(|t| t.trade_id),
            reduced: fill.reduced.as_ref().map(|r| r.trade_id),
            closed: fill.closed.iter().map(|r| r.trade_id).collect(),
        });
        o.clone()
    };
    record(
        st,
        a,
        fill_id,
        Ev::OrderFill {
            order: Box::new(filled),
            fill: Box::new(fill),
        },
    );
    // The dependents of closed trades die with them.
    for trade_id in closed_ids {
        let deps: Vec<u64> = st.accounts[a]
            .orders
            .iter()
            .filter(|o| o.is_pending() && o.trade_id == Some(trade_id))
            .map(|o| o.id)
            .collect();
        for dep in deps {
            cancel(st, a, dep, "LINKED_TRADE_CLOSED");
        }
    }
    if !open.is_zero() {
        for (kind, details) in [
            (Kind::TakeProfit, &order.tp),
            (Kind::StopLoss, &order.sl),
            (Kind::TrailingStopLoss, &order.tsl),
        ] {
            if let Some(details) = details {
                add_dependent(st, a, fill_id, kind, details, "ON_FILL", Some(fill_id), None);
            }
        }
    }
    Ok(fill_id)
}

/// Creates a take profit, stop loss or trailing stop on a trade; returns its id. `replaces` is the
/// (order, cancel transaction) it replaces.
#[allow(clippy::too_many_arguments)]
pub(in super::super) fn add_dependent(
    st: &mut State,
    a: usize,
    trade_id: u64,
    kind: Kind,
    details: &OnFill,
    reason: &'static str,
    fill_tx: Option<u64>,
    replaces: Option<(u64, u64)>,
) -> u64 {
    let now = st.now();
    let Some(trade) = st.accounts[a].trade(trade_id).cloned() else {
        return 0;
    };
    let precision = st
        .quote(&trade.instrument)
        .map_or(5, |q| q.spec.display_precision);
    let mut order = Order::new(0, kind, &trade.instrument, now);
    order.trade_id = Some(trade_id);
    order.client_trade_id = trade.client_id().map(str::to_string);
    order.tif = if details.tif.is_empty() {
        "GTC".to_string()
    } else {
        details.tif.clone()
    };
    order.gtd = details.gtd;
    order.ext = details.ext.clone();
    order.reason = reason;
    order.fill_tx = fill_tx;
    order.replaces = replaces.map(|r| r.0);
    order.replace_cancel_tx = replaces.map(|r| r.1);
    let long = trade.is_long();
    match kind {
        Kind::StopLoss => {
            order.guaranteed = details.guaranteed.unwrap_or(false);
            order.distance = details.distance;
            order.price = details.price.or_else(|| {
                details.distance.map(|d| {
                    let p = if long { trade.price - d } else { trade.price + d };
                    p.round_dp(precision)
                })
            });
        }
        Kind::TrailingStopLoss => {
            order.distance = details.distance;
            order.trailing_value = details
                .distance
                .map(|d| super::trailing_start(trade.price, long, d, precision));
        }
        _ => order.price = details.price,
    }
    order.id = st.accounts[a].alloc();
    order.expires = expiry(&order.tif, order.gtd, now);
    let id = order.id;
    if let Some(t) = st.accounts[a].trade_mut(trade_id) {
        match kind {
            Kind::TakeProfit => t.tp = Some(id),
            Kind::StopLoss => t.sl = Some(id),
            _ => t.tsl = Some(id),
        }
    }
    st.accounts[a].orders.push(order.clone());
    record(st, a, id, Ev::OrderCreate(Box::new(order)));
    id
}
