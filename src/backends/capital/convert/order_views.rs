//! Capital.com working orders and deal stops as TradingView orders: the parent order and its bracket
//! children (`<dealId>.sl`, `<dealId>.tp`), shaped like the paper backend's (stop loss = `stop` order,
//! take profit = `limit` order, opposite side, same quantity, `parentId` + `parentType`).

use super::model::{Direction, OrderType, PositionData, TimeInForce, WorkingOrderData};
use super::positions::side;
use super::unix_secs;
use super::{GTC, GTT};
use crate::tv::{self, InfoMessage, MessageType, OrderStatus, ParentType, Side};
use rust_decimal::Decimal;

/// Suffix of the id of a stop-loss bracket order.
pub const STOP_LOSS_SUFFIX: &str = ".sl";
/// Suffix of the id of a take-profit bracket order.
pub const TAKE_PROFIT_SUFFIX: &str = ".tp";

/// The stop of a deal or working order as TradingView sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct StopShape {
    price: Decimal,
    trailing_pips: Option<Decimal>,
    guaranteed: bool,
}

/// The stop and profit fields a position and a working order share, with the price they are measured from.
struct Stops {
    side: Side,
    reference: Decimal,
    stop_level: Option<Decimal>,
    stop_distance: Option<Decimal>,
    trailing: bool,
    guaranteed: bool,
    profit_level: Option<Decimal>,
    profit_distance: Option<Decimal>,
}

impl Stops {
    fn of_deal(d: &PositionData) -> Stops {
        Stops {
            side: side_or_buy(d.direction),
            reference: d.level,
            stop_level: d.stop_level,
            stop_distance: d.stop_distance,
            trailing: d.trailing_stop == Some(true),
            guaranteed: d.guaranteed_stop,
            profit_level: d.profit_level,
            profit_distance: d.profit_distance,
        }
    }

    fn of_order(o: &WorkingOrderData) -> Stops {
        Stops {
            side: side_or_buy(o.direction),
            reference: o.order_level,
            stop_level: o.stop_level,
            stop_distance: o.stop_distance,
            trailing: o.trailing_stop == Some(true),
            guaranteed: o.guaranteed_stop,
            profit_level: o.profit_level,
            profit_distance: o.profit_distance,
        }
    }

    /// The stop, if any. A level wins over a distance; a distance is measured from the reference on the
    /// losing side whatever its sign (the official example sends `stopDistance: -3` for a buy 3 below).
    /// The trailing distance in pips is `|stopDistance| / pip_size`. A stop flagged both trailing and
    /// guaranteed (which Capital.com does not allow) is shown as trailing.
    fn stop(&self, pip_size: Decimal) -> Option<StopShape> {
        let price = self.stop_level.or_else(|| {
            self.stop_distance
                .map(|d| self.reference - self.side.sign() * d.abs())
        })?;
        let trailing_pips = self.trailing.then(|| {
            let distance = self
                .stop_distance
                .map(|d| d.abs())
                .unwrap_or_else(|| (self.reference - price).abs());
            pips(distance, pip_size)
        });
        Some(StopShape {
            price,
            guaranteed: self.guaranteed && trailing_pips.is_none(),
            trailing_pips,
        })
    }

    /// The take-profit price, if any: the level, or the distance on the winning side of the reference.
    fn profit(&self) -> Option<Decimal> {
        self.profit_level.or_else(|| {
            self.profit_distance
                .map(|d| self.reference + self.side.sign() * d.abs())
        })
    }

    fn brackets(&self, pip_size: Decimal) -> tv::Brackets {
        let mut b = tv::Brackets {
            take_profit: self.profit(),
            ..Default::default()
        };
        if let Some(stop) = self.stop(pip_size) {
            match (stop.trailing_pips, stop.guaranteed) {
                (Some(p), _) => b.trailing_stop_pips = Some(p),
                (None, true) => b.guaranteed_stop = Some(stop.price),
                (None, false) => b.stop_loss = Some(stop.price),
            }
        }
        b
    }
}

/// A distance in pips; 0 when the pip size is not positive (never divides by zero).
fn pips(distance: Decimal, pip_size: Decimal) -> Decimal {
    if pip_size > Decimal::ZERO {
        (distance / pip_size).round_dp(8).normalize()
    } else {
        Decimal::ZERO
    }
}

/// Side of a direction; `Unknown` (never documented: BUY and SELL are the only values) is shown as buy
/// rather than hiding the order or position.
fn side_or_buy(d: Direction) -> Side {
    side(d).unwrap_or(Side::Buy)
}

/// A working order as TradingView orders: the parent (working, `id` = dealId, GTC or GTT with the
/// `goodTillDateUTC` in unix seconds, limit/stop with its price) and its bracket children (inactive, parent
/// type order). An unknown order type is shown as a limit order with a warning; an unknown direction as buy
/// with a warning.
pub fn working_order(symbol: &str, data: &WorkingOrderData, pip_size: Decimal) -> Vec<tv::Order> {
    let stops = Stops::of_order(data);
    let t = data.created_date_utc.as_deref().and_then(unix_secs);
    let kind = match data.order_type {
        OrderType::Limit | OrderType::Unknown => tv::OrderType::Limit,
        OrderType::Stop => tv::OrderType::Stop,
    };
    let (id, price) = (data.deal_id.clone(), Some(data.order_level));
    let mut parent = tv::Order::working(id, symbol.to_owned(), data.order_size, stops.side, kind, price, t);
    parent.duration = Some(duration(data));
    let mut warnings = Vec::new();
    if data.order_type == OrderType::Unknown {
        warnings.push("Capital.com reported an order type this bridge does not know; shown as limit.");
    }
    if side(data.direction).is_none() {
        warnings.push("Capital.com reported a direction this bridge does not know; shown as buy.");
    }
    if !warnings.is_empty() {
        parent.message = Some(InfoMessage {
            text: warnings.join(" "),
            kind: MessageType::Warning,
        });
    }
    let mut out = vec![parent];
    out.extend(children(
        symbol,
        &data.deal_id,
        &data.deal_id,
        ParentType::Order,
        OrderStatus::Inactive,
        data.order_size,
        &stops,
        pip_size,
        t,
    ));
    out
}

/// GTT with the expiry in unix seconds when the order has a readable `goodTillDateUTC`, else GTC.
fn duration(data: &WorkingOrderData) -> tv::OrderDuration {
    let expiry = data.good_till_date_utc.as_deref().and_then(unix_secs);
    match (data.time_in_force, expiry) {
        (Some(TimeInForce::GoodTillDate) | Some(TimeInForce::Unknown) | None, Some(t)) => tv::OrderDuration {
            kind: GTT.to_owned(),
            datetime: Some(t),
        },
        (Some(TimeInForce::GoodTillCancelled), _) | (_, None) => tv::OrderDuration {
            kind: GTC.to_owned(),
            datetime: None,
        },
    }
}

/// The bracket orders of an open deal: working, parent type position, `parent_id` = `position_id` (the
/// symbol for a netting view, the dealId for individual positions), quantity = the deal's size.
pub fn position_brackets(
    symbol: &str,
    position_id: &str,
    deal: &PositionData,
    pip_size: Decimal,
) -> Vec<tv::Order> {
    children(
        symbol,
        &deal.deal_id,
        position_id,
        ParentType::Position,
        OrderStatus::Working,
        deal.size,
        &Stops::of_deal(deal),
        pip_size,
        deal.created_date_utc.as_deref().and_then(unix_secs),
    )
}

/// The bracket fields of a deal as TradingView brackets (to merge a partial change into the full set).
pub fn deal_brackets(deal: &PositionData, pip_size: Decimal) -> tv::Brackets {
    Stops::of_deal(deal).brackets(pip_size)
}

/// The bracket fields of a working order as TradingView brackets.
pub fn order_brackets(data: &WorkingOrderData, pip_size: Decimal) -> tv::Brackets {
    Stops::of_order(data).brackets(pip_size)
}

/// Stop-loss and take-profit children of `deal_id`, on the side opposite to the parent.
#[allow(clippy::too_many_arguments)]
fn children(
    symbol: &str,
    deal_id: &str,
    parent_id: &str,
    parent_type: ParentType,
    status: OrderStatus,
    qty: Decimal,
    stops: &Stops,
    pip_size: Decimal,
    t: Option<i64>,
) -> Vec<tv::Order> {
    let parent = tv::BracketParent::new(parent_id, parent_type, symbol, stops.side, qty, status, t);
    let child = |suffix: &str, kind| parent.leg(format!("{deal_id}{suffix}"), kind);
    let mut out = Vec::new();
    if let Some(stop) = stops.stop(pip_size) {
        let mut o = child(STOP_LOSS_SUFFIX, tv::OrderType::Stop);
        o.stop_price = Some(stop.price);
        if let Some(p) = stop.trailing_pips {
            o.is_trailing_stop = Some(true);
            o.trailing_stop_pips = Some(p);
        }
        o.is_guaranteed_stop = stop.guaranteed.then_some(true);
        out.push(o);
    }
    if let Some(price) = stops.profit() {
        let mut o = child(TAKE_PROFIT_SUFFIX, tv::OrderType::Limit);
        o.limit_price = Some(price);
        out.push(o);
    }
    out
}
