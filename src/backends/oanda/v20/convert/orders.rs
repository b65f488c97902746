//! Pending OANDA orders as TradingView orders: entry orders (working) with the legs they will create on
//! fill (inactive, parent type order), and the dependent orders of open trades (working, parent type
//! position, parent id the trade id).
//!
//! Shapes: LIMIT is a limit order; STOP a stop order, or a stop-limit one when it has a `priceBound` (the
//! worst fill price, which is what a stop-limit's limit is); MARKET_IF_TOUCHED, which TradingView lacks,
//! is shown as what it does: a limit order when its price is on the favourable side of the market it
//! was placed at (buy below, sell above), else a stop order. Take profits are limit orders, stop losses,
//! guaranteed stops and trailing stops are stop orders, all on the side opposite to their parent.

use super::ids::{leg_id, tv_order_id, Leg};
use super::model::{Account, Order, OrderState, OrderType, TradeSummary};
use super::{duration_of, pips, side_of, unix_secs};
use crate::backends::oanda::catalog::AccountCatalog;
use crate::tv::{self, InfoMessage, MessageType, OrderStatus, ParentType, Side};
use rust_decimal::Decimal;

/// How an entry order is shown: type, limit price, stop price.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EntryShape {
    pub kind: tv::OrderType,
    pub limit: Option<Decimal>,
    pub stop: Option<Decimal>,
}

/// The TradingView shape of an entry order; `None` for a dependent, fixed-price or price-less order.
pub fn entry_shape(o: &Order) -> Option<EntryShape> {
    let shape = |kind, limit, stop| Some(EntryShape { kind, limit, stop });
    match o.kind {
        OrderType::Market => shape(tv::OrderType::Market, None, None),
        OrderType::Limit => shape(tv::OrderType::Limit, Some(o.price?), None),
        OrderType::Stop => match o.price_bound {
            Some(bound) => shape(tv::OrderType::StopLimit, Some(bound), Some(o.price?)),
            None => shape(tv::OrderType::Stop, None, Some(o.price?)),
        },
        OrderType::MarketIfTouched => {
            let price = o.price?;
            let buy = side_of(o.units?) == Side::Buy;
            let stop_like = match o.initial_market_price {
                Some(market) if buy => price > market,
                Some(market) => price < market,
                None => false,
            };
            if stop_like {
                shape(tv::OrderType::Stop, None, Some(price))
            } else {
                shape(tv::OrderType::Limit, Some(price), None)
            }
        }
        // Shown as a limit order with a warning rather than hidden: the user must see what is working.
        OrderType::Unknown => shape(tv::OrderType::Limit, Some(o.price?), None),
        OrderType::TakeProfit
        | OrderType::StopLoss
        | OrderType::GuaranteedStopLoss
        | OrderType::TrailingStopLoss
        | OrderType::FixedPrice => None,
    }
}

/// The TradingView status of an order state.
pub fn status_of(state: OrderState) -> OrderStatus {
    match state {
        OrderState::Pending => OrderStatus::Working,
        OrderState::Filled | OrderState::Triggered => OrderStatus::Filled,
        OrderState::Cancelled => OrderStatus::Cancelled,
        // Never documented; working is the state that keeps the order visible and cancellable.
        OrderState::Unknown => OrderStatus::Working,
    }
}

/// An entry order alone (no legs), with `status`; `None` when it is not an entry order or lacks its
/// instrument or units.
pub fn entry_order(o: &Order, catalog: &AccountCatalog, status: OrderStatus) -> Option<tv::Order> {
    let shape = entry_shape(o)?;
    let instrument = o.instrument.as_deref()?;
    let units = o.units?;
    let t = o.create_time.as_deref().and_then(unix_secs);
    let mut out = tv::Order::new(
        tv_order_id(o),
        catalog.symbol(instrument),
        units.abs(),
        side_of(units),
        shape.kind,
        status,
        t.unwrap_or_default(),
    );
    out.last_modified = t;
    out.limit_price = shape.limit;
    out.stop_price = shape.stop;
    out.duration = duration_of(o.time_in_force, o.gtd_time.as_deref());
    if o.kind == OrderType::Unknown {
        out.message = Some(InfoMessage {
            text: "OANDA reported an order type this bridge does not know; shown as a limit order.".into(),
            kind: MessageType::Warning,
        });
    }
    Some(out)
}

/// A pending entry order and the legs it will create when filled (inactive, parent type order).
pub fn pending_entry(o: &Order, catalog: &AccountCatalog) -> Vec<tv::Order> {
    let Some(parent) = entry_order(o, catalog, status_of(o.state)) else {
        return Vec::new();
    };
    let pip = o
        .instrument
        .as_deref()
        .and_then(|i| catalog.spec(i))
        .map(|s| s.pip());
    let reference = parent.stop_price.or(parent.limit_price);
    let child = |leg: Leg, kind: tv::OrderType| {
        let mut c = tv::Order::new(
            leg_id(&parent.id, leg),
            parent.instrument.clone(),
            parent.qty,
            parent.side.opposite(),
            kind,
            OrderStatus::Inactive,
            parent.last_modified.unwrap_or_default(),
        );
        c.last_modified = parent.last_modified;
        c.parent_id = Some(parent.id.clone());
        c.parent_type = Some(ParentType::Order);
        c
    };
    let mut legs = Vec::new();
    if let Some(price) = o.take_profit_on_fill.as_ref().and_then(|d| d.price) {
        let mut c = child(Leg::TakeProfit, tv::OrderType::Limit);
        c.limit_price = Some(price);
        legs.push(c);
    }
    let stop = o
        .stop_loss_on_fill
        .as_ref()
        .map(|d| (d, d.guaranteed == Some(true)))
        .or_else(|| o.guaranteed_stop_loss_on_fill.as_ref().map(|d| (d, true)));
    if let Some((d, guaranteed)) = stop {
        // A distance is measured from the entry price, on the losing side.
        let price = d
            .price
            .or_else(|| Some(reference? - parent.side.sign() * d.distance?.abs()));
        if let Some(price) = price {
            let mut c = child(Leg::StopLoss, tv::OrderType::Stop);
            c.stop_price = Some(price);
            c.is_guaranteed_stop = guaranteed.then_some(true);
            legs.push(c);
        }
    }
    if let Some(distance) = o.trailing_stop_loss_on_fill.as_ref().and_then(|d| d.distance) {
        let mut c = child(Leg::TrailingStop, tv::OrderType::Stop);
        c.stop_price = reference.map(|r| r - parent.side.sign() * distance.abs());
        c.is_trailing_stop = Some(true);
        c.trailing_stop_pips = pip.and_then(|p| pips(distance, p));
        legs.push(c);
    }
    let mut out = vec![parent];
    out.extend(legs);
    out
}

/// The leg a dependent order type stands for.
pub fn leg_of(kind: OrderType) -> Option<Leg> {
    match kind {
        OrderType::TakeProfit => Some(Leg::TakeProfit),
        OrderType::StopLoss | OrderType::GuaranteedStopLoss => Some(Leg::StopLoss),
        OrderType::TrailingStopLoss => Some(Leg::TrailingStop),
        _ => None,
    }
}

/// A dependent order of an open trade as a working bracket of the position: id `<tradeID>.<leg>`,
/// opposite side, quantity the trade's current units.
pub fn trade_leg(o: &Order, trade: &TradeSummary, catalog: &AccountCatalog) -> Option<tv::Order> {
    let leg = leg_of(o.kind)?;
    let t = o.create_time.as_deref().and_then(unix_secs);
    let trade_side = side_of(trade.current_units);
    let kind = match leg {
        Leg::TakeProfit => tv::OrderType::Limit,
        Leg::StopLoss | Leg::TrailingStop => tv::OrderType::Stop,
    };
    let mut out = tv::Order::new(
        leg_id(&trade.id, leg),
        catalog.symbol(&trade.instrument),
        trade.current_units.abs(),
        trade_side.opposite(),
        kind,
        status_of(o.state),
        t.unwrap_or_default(),
    );
    out.last_modified = t;
    out.parent_id = Some(trade.id.clone());
    out.parent_type = Some(ParentType::Position);
    out.duration = duration_of(o.time_in_force, o.gtd_time.as_deref());
    match leg {
        Leg::TakeProfit => out.limit_price = o.price,
        Leg::StopLoss => {
            out.stop_price = o
                .price
                .or_else(|| Some(trade.price - trade_side.sign() * o.distance?.abs()));
            let guaranteed = o.kind == OrderType::GuaranteedStopLoss || o.guaranteed == Some(true);
            out.is_guaranteed_stop = guaranteed.then_some(true);
        }
        Leg::TrailingStop => {
            out.stop_price = o.trailing_stop_value;
            out.is_trailing_stop = Some(true);
            let pip = catalog.spec(&trade.instrument).map(|s| s.pip());
            out.trailing_stop_pips = o.distance.zip(pip).and_then(|(d, p)| pips(d, p));
        }
    }
    Some(out)
}

/// Every pending order of the account as TradingView sees it: entry orders with their legs, then the
/// brackets of open trades. A dependent order whose trade is not in the same answer is left out (it can
/// only be a moment away from disappearing with its trade).
pub fn pending_orders(account: &Account, catalog: &AccountCatalog) -> Vec<tv::Order> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for o in account.orders.iter().filter(|o| o.state == OrderState::Pending) {
        let orders = if o.kind.is_dependent() {
            let trade = o
                .trade_id
                .as_deref()
                .and_then(|id| account.trades.iter().find(|t| t.id == id));
            trade.and_then(|t| trade_leg(o, t, catalog)).into_iter().collect()
        } else {
            pending_entry(o, catalog)
        };
        // Ids are unique by construction; a duplicate (a trade with both a stop loss and a guaranteed stop
        // loss) keeps the first so TradingView never sees one id twice.
        out.extend(orders.into_iter().filter(|o| seen.insert(o.id.clone())));
    }
    out
}

/// The pending entry order TradingView knows as `tv_id`.
pub fn find_entry<'a>(account: &'a Account, tv_id: &str) -> Option<&'a Order> {
    account
        .orders
        .iter()
        .find(|o| o.state == OrderState::Pending && !o.kind.is_dependent() && tv_order_id(o) == tv_id)
}

/// The open trade with OANDA id `trade_id`.
pub fn find_trade<'a>(account: &'a Account, trade_id: &str) -> Option<&'a TradeSummary> {
    account.trades.iter().find(|t| t.id == trade_id)
}

/// The pending dependent orders of a trade.
pub fn trade_orders<'a>(account: &'a Account, trade_id: &str) -> impl Iterator<Item = &'a Order> + 'a {
    let trade_id = trade_id.to_string();
    account.orders.iter().filter(move |o| {
        o.state == OrderState::Pending
            && o.kind.is_dependent()
            && o.trade_id.as_deref() == Some(trade_id.as_str())
    })
}
