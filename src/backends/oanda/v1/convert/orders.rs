//! Pending orders and the brackets of orders and trades as TradingView orders.
//!
//! A pending order is one working order; its stop loss, take profit and trailing stop (v1 writes `0`
//! for "none") are inactive bracket orders `<orderId>.sl`, `.tp`, `.ts` waiting on it (parent type
//! order). The brackets of an open trade are working orders `<tradeId>.sl`, `.tp`, `.ts` with parent type
//! position and the trade id as parent. Brackets are on the opposite side, for the whole quantity: a
//! stop loss is a `stop` order, a take profit a `limit` order, a trailing stop a `stop` order flagged
//! trailing with its distance in pips.

use super::super::super::venue::durations;
use super::super::model::{self, WireOrderType};
use super::{set, side, unix, Leg};
use crate::tv::{self, InfoMessage, MessageType, OrderStatus, ParentType, Side};
use rust_decimal::Decimal;

/// The TradingView type of a pending order type, with a note when the mapping is not exact.
///
/// A market-if-touched order is shown as a limit order at its price: like a limit it waits for the
/// market to come to a price (and unlike a stop it may wait on either side), but it then fills at market.
/// The bridge never places one; it shows those placed elsewhere.
fn order_kind(kind: WireOrderType, price: Option<Decimal>) -> (tv::OrderType, Option<InfoMessage>) {
    match kind {
        WireOrderType::Limit => (tv::OrderType::Limit, None),
        WireOrderType::Stop => (tv::OrderType::Stop, None),
        WireOrderType::MarketIfTouched => (
            tv::OrderType::Limit,
            Some(InfoMessage {
                text: format!(
                    "OANDA market-if-touched order: it fills at market once the price touches {}.",
                    price
                        .map(|p| p.normalize().to_string())
                        .unwrap_or_else(|| "its price".into())
                ),
                kind: MessageType::Information,
            }),
        ),
        WireOrderType::Market | WireOrderType::Unknown => (
            tv::OrderType::Limit,
            Some(InfoMessage {
                text: "OANDA reported an order type this bridge does not know; shown as limit.".into(),
                kind: MessageType::Warning,
            }),
        ),
    }
}

/// The duration of a pending order: GTD at its expiry (v1 pending orders always expire; the bridge
/// places GTC orders with the furthest expiry OANDA accepts, and shows that date honestly).
pub fn order_duration(expiry: Option<chrono::DateTime<chrono::Utc>>) -> tv::OrderDuration {
    match expiry {
        Some(t) => tv::OrderDuration {
            kind: durations::GTD.to_owned(),
            datetime: Some(t.timestamp()),
        },
        None => tv::OrderDuration {
            kind: durations::GTC.to_owned(),
            datetime: None,
        },
    }
}

/// The brackets a pending order or a trade carries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BracketSet {
    pub stop_loss: Option<Decimal>,
    pub take_profit: Option<Decimal>,
    /// Distance in pips.
    pub trailing_pips: Option<Decimal>,
    /// Where the trailing stop stands now, when known.
    pub trailing_price: Option<Decimal>,
}

impl BracketSet {
    /// The brackets of a pending order; the trailing stop's price is estimated from the order's price
    /// (it will trail from the fill).
    pub fn of_order(o: &model::Order, pip: Option<Decimal>) -> BracketSet {
        let trailing_pips = set(o.trailing_stop);
        BracketSet {
            stop_loss: set(o.stop_loss),
            take_profit: set(o.take_profit),
            trailing_pips,
            trailing_price: estimate(side(o.side), set(o.price), trailing_pips, pip),
        }
    }

    /// The brackets of a trade; the trailing stop's price is `trailingAmount`, else estimated from the
    /// trade's price.
    pub fn of_trade(t: &model::Trade, pip: Option<Decimal>) -> BracketSet {
        let trailing_pips = set(t.trailing_stop);
        BracketSet {
            stop_loss: set(t.stop_loss),
            take_profit: set(t.take_profit),
            trailing_pips,
            trailing_price: trailing_pips.and_then(|_| {
                set(t.trailing_amount).or_else(|| estimate(side(t.side), Some(t.price), trailing_pips, pip))
            }),
        }
    }

    /// The value of one leg (pips for the trailing stop).
    pub fn leg(&self, leg: Leg) -> Option<Decimal> {
        match leg {
            Leg::StopLoss => self.stop_loss,
            Leg::TakeProfit => self.take_profit,
            Leg::TrailingStop => self.trailing_pips,
        }
    }
}

/// A trailing stop `pips` away from `price` on the losing side of a `side` entry.
fn estimate(
    side: Option<Side>,
    price: Option<Decimal>,
    pips: Option<Decimal>,
    pip: Option<Decimal>,
) -> Option<Decimal> {
    Some(price? - side?.sign() * pips? * pip?)
}

/// A pending order as TradingView orders: the order (working) and its bracket orders (inactive).
pub fn pending_order(o: &model::Order, symbol: &str, pip: Option<Decimal>) -> Vec<tv::Order> {
    let (kind, mut message) = order_kind(o.kind, set(o.price));
    let order_side = side(o.side).unwrap_or_else(|| {
        message = Some(InfoMessage {
            text: "OANDA reported a side this bridge does not know; shown as buy.".into(),
            kind: MessageType::Warning,
        });
        Side::Buy
    });
    let t = unix(o.time);
    let (id, price) = (o.id.to_string(), set(o.price));
    let mut parent = tv::Order::working(id, symbol.to_owned(), o.units, order_side, kind, price, t);
    parent.duration = Some(order_duration(o.expiry));
    parent.message = message;
    let mut out = vec![parent];
    out.extend(brackets(
        o.id,
        symbol,
        order_side,
        o.units,
        &BracketSet::of_order(o, pip),
        ParentType::Order,
        t,
    ));
    out
}

/// The brackets of an open trade as working orders (parent type position, parent id the trade id).
pub fn trade_brackets(t: &model::Trade, symbol: &str, pip: Option<Decimal>) -> Vec<tv::Order> {
    let Some(trade_side) = side(t.side) else {
        // Which side a bracket closes cannot be told; showing it on a guessed side could mislead.
        return Vec::new();
    };
    brackets(
        t.id,
        symbol,
        trade_side,
        t.units,
        &BracketSet::of_trade(t, pip),
        ParentType::Position,
        unix(t.time),
    )
}

/// The bracket orders of `parent` (an order or a trade on `parent_side`).
pub fn brackets(
    parent: u64,
    symbol: &str,
    parent_side: Side,
    qty: Decimal,
    set: &BracketSet,
    parent_type: ParentType,
    t: Option<i64>,
) -> Vec<tv::Order> {
    let status = match parent_type {
        ParentType::Order => OrderStatus::Inactive,
        ParentType::Position => OrderStatus::Working,
    };
    let parent_id = parent.to_string();
    let of = tv::BracketParent::new(&parent_id, parent_type, symbol, parent_side, qty, status, t);
    let child = |leg: Leg, kind| of.leg(leg.id_of(parent), kind);
    let mut out = Vec::new();
    if let Some(price) = set.stop_loss {
        let mut o = child(Leg::StopLoss, tv::OrderType::Stop);
        o.stop_price = Some(price);
        out.push(o);
    }
    if let Some(price) = set.take_profit {
        let mut o = child(Leg::TakeProfit, tv::OrderType::Limit);
        o.limit_price = Some(price);
        out.push(o);
    }
    if let Some(pips) = set.trailing_pips {
        let mut o = child(Leg::TrailingStop, tv::OrderType::Stop);
        o.stop_price = set.trailing_price;
        o.is_trailing_stop = Some(true);
        o.trailing_stop_pips = Some(pips);
        out.push(o);
    }
    out
}
