//! TradingView requests as OANDA v20 request bodies: a new order, the replacement of a pending order, and
//! the dependent orders of a trade. Quantities keep the instrument's precision (a quantity that would have
//! to be rounded is refused, never silently changed); prices are rounded to the instrument's display
//! precision; a trailing distance in pips becomes a price distance.

use super::ids::{extensions_keeping, owner_comment, tv_order_id, BRIDGE_TAG};
use super::model::{
    ClientExtensions, Dependent, DependentOrdersBody, Order, OrderRequest, OrderType, StopLossDetails,
    TakeProfitDetails, TimeInForce, TrailingStopLossDetails,
};
use super::orders::entry_shape;
use super::side_of;
use crate::backends::oanda::venue::{durations, ClientRef, InstrumentSpec};
use crate::broker::{BrokerError, BrokerResult};
use crate::tv::{self, Side};
use rust_decimal::{Decimal, RoundingStrategy};

/// `positionFill` of every order the bridge places: OANDA's default (reduce an opposite position first on
/// a netting account, open a new trade on a hedging one).
pub const POSITION_FILL: &str = "DEFAULT";

/// A price rounded to the instrument's display precision, written with exactly that many decimals.
pub fn price(p: Decimal, spec: &InstrumentSpec) -> Decimal {
    let dp = spec.display_precision.min(20);
    let mut p = p.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    p.rescale(dp);
    p
}

/// A positive quantity as OANDA units of `side` (negative sells). Refused when it has more decimals than
/// the instrument allows.
pub fn units(qty: Decimal, side: Side, spec: &InstrumentSpec) -> BrokerResult<Decimal> {
    let precision = spec.units_precision.min(20);
    if qty <= Decimal::ZERO {
        return Err(BrokerError::Rejected(format!(
            "The quantity must be positive, got {qty}."
        )));
    }
    if qty.round_dp(precision) != qty {
        return Err(BrokerError::Rejected(format!(
            "{} trades in steps of {}: {qty} cannot be sent as it is.",
            spec.display_name,
            Decimal::new(1, precision)
        )));
    }
    Ok((side.sign() * qty).normalize())
}

/// A trailing stop distance in pips as a price distance, checked against the instrument's limits.
pub fn trailing_distance(pips: Decimal, spec: &InstrumentSpec) -> BrokerResult<Decimal> {
    let distance = price(pips * spec.pip(), spec);
    if distance <= Decimal::ZERO {
        return Err(BrokerError::Rejected(format!(
            "A trailing stop of {pips} pips is too small for {}.",
            spec.display_name
        )));
    }
    let in_pips = |d: Decimal| super::pips(d, spec.pip()).unwrap_or(d);
    if let Some(min) = spec.min_trailing_distance.filter(|m| distance < *m) {
        return Err(BrokerError::Rejected(format!(
            "The trailing stop must be at least {} pips on {}.",
            in_pips(min),
            spec.display_name
        )));
    }
    if let Some(max) = spec.max_trailing_distance.filter(|m| distance > *m) {
        return Err(BrokerError::Rejected(format!(
            "The trailing stop can be at most {} pips on {}.",
            in_pips(max),
            spec.display_name
        )));
    }
    Ok(distance)
}

/// RFC 3339 (UTC, seconds) of unix seconds.
pub fn gtd_time(unix: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(unix, 0).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// The time in force (and GTD date) of a TradingView duration on an order of type `kind`. Market orders
/// are fill-or-kill unless immediate-or-cancel is asked for (OANDA allows nothing else for them); other
/// orders are good till cancelled unless told otherwise.
pub fn time_in_force(
    kind: tv::OrderType,
    duration: Option<&tv::OrderDuration>,
) -> BrokerResult<(TimeInForce, Option<String>)> {
    if kind == tv::OrderType::Market {
        let ioc = duration.is_some_and(|d| d.kind.eq_ignore_ascii_case(durations::IOC));
        return Ok((if ioc { TimeInForce::Ioc } else { TimeInForce::Fok }, None));
    }
    let Some(d) = duration else {
        return Ok((TimeInForce::Gtc, None));
    };
    let kind = d.kind.to_ascii_uppercase();
    match kind.as_str() {
        durations::GTC => Ok((TimeInForce::Gtc, None)),
        durations::GFD => Ok((TimeInForce::Gfd, None)),
        durations::FOK => Ok((TimeInForce::Fok, None)),
        durations::IOC => Ok((TimeInForce::Ioc, None)),
        durations::GTD => match d.datetime.and_then(gtd_time) {
            Some(t) => Ok((TimeInForce::Gtd, Some(t))),
            None => Err(BrokerError::Rejected(
                "A good-till-date order needs its expiry date and time.".into(),
            )),
        },
        _ => Err(BrokerError::Rejected(format!(
            "OANDA has no order duration {:?}; use GTC, GTD or GFD.",
            d.kind
        ))),
    }
}

/// The on-fill details of TradingView brackets: take profit, stop loss (guaranteed when the guaranteed
/// stop is given, which OANDA's `StopLossDetails.guaranteed` asks for), trailing stop.
pub fn on_fill(
    brackets: &tv::Brackets,
    spec: &InstrumentSpec,
) -> BrokerResult<(
    Option<TakeProfitDetails>,
    Option<StopLossDetails>,
    Option<TrailingStopLossDetails>,
)> {
    let tp = brackets.take_profit.map(|p| TakeProfitDetails {
        price: Some(price(p, spec)),
        ..Default::default()
    });
    let sl = match (brackets.guaranteed_stop, brackets.stop_loss) {
        (Some(g), _) => Some(StopLossDetails {
            price: Some(price(g, spec)),
            guaranteed: Some(true),
            ..Default::default()
        }),
        (None, Some(p)) => Some(StopLossDetails {
            price: Some(price(p, spec)),
            ..Default::default()
        }),
        (None, None) => None,
    };
    let ts = brackets
        .trailing_stop_pips
        .map(|p| trailing_distance(p, spec))
        .transpose()?
        .map(|d| TrailingStopLossDetails {
            distance: Some(d),
            ..Default::default()
        });
    Ok((tp, sl, ts))
}

/// The order request of a new TradingView order: MARKET, LIMIT, STOP, or STOP with a `priceBound` for a
/// stop-limit; client id `client_id` tagged `tvbridge` (none when `client_id` is empty).
pub fn place_request(
    order: &tv::PlaceOrder,
    spec: &InstrumentSpec,
    client: ClientRef<'_>,
) -> BrokerResult<OrderRequest> {
    let missing = |what: &str| BrokerError::Rejected(format!("A {} order needs a {what} price.", order.kind));
    let (kind, px, bound) = match order.kind {
        tv::OrderType::Market => (OrderType::Market, None, None),
        tv::OrderType::Limit => (
            OrderType::Limit,
            Some(order.limit_price.ok_or_else(|| missing("limit"))?),
            None,
        ),
        tv::OrderType::Stop => (
            OrderType::Stop,
            Some(order.stop_price.ok_or_else(|| missing("stop"))?),
            None,
        ),
        tv::OrderType::StopLimit => (
            OrderType::Stop,
            Some(order.stop_price.ok_or_else(|| missing("stop"))?),
            Some(order.limit_price.ok_or_else(|| missing("limit"))?),
        ),
    };
    let (tif, gtd) = time_in_force(order.kind, order.duration.as_ref())?;
    let (tp, sl, ts) = on_fill(&order.brackets, spec)?;
    Ok(OrderRequest {
        kind,
        instrument: spec.name.clone(),
        units: units(order.qty, order.side, spec)?,
        price: px.map(|p| price(p, spec)),
        price_bound: bound.map(|p| price(p, spec)),
        time_in_force: tif,
        gtd_time: gtd,
        position_fill: POSITION_FILL.to_string(),
        trigger_condition: None,
        client_extensions: (!client.id.is_empty()).then(|| ClientExtensions {
            id: Some(client.id.to_string()),
            tag: Some(BRIDGE_TAG.to_string()),
            comment: Some(owner_comment(client.owner)),
        }),
        take_profit_on_fill: tp,
        stop_loss_on_fill: sl,
        trailing_stop_loss_on_fill: ts,
        trade_client_extensions: None,
    })
}

/// The brackets a pending entry order will create on fill, in TradingView terms (a stop given as a
/// distance is turned into the price it stands for from the order's price).
pub fn entry_brackets(o: &Order, spec: &InstrumentSpec) -> tv::Brackets {
    let reference = o.price;
    let side = o.units.map(side_of).unwrap_or(Side::Buy);
    let mut b = tv::Brackets {
        take_profit: o.take_profit_on_fill.as_ref().and_then(|d| d.price),
        ..Default::default()
    };
    let stop = o
        .stop_loss_on_fill
        .as_ref()
        .map(|d| (d, d.guaranteed == Some(true)))
        .or_else(|| o.guaranteed_stop_loss_on_fill.as_ref().map(|d| (d, true)));
    if let Some((d, guaranteed)) = stop {
        let p = d
            .price
            .or_else(|| Some(reference? - side.sign() * d.distance?.abs()));
        if guaranteed {
            b.guaranteed_stop = p;
        } else {
            b.stop_loss = p;
        }
    }
    b.trailing_stop_pips = o
        .trailing_stop_loss_on_fill
        .as_ref()
        .and_then(|d| d.distance)
        .and_then(|d| super::pips(d, spec.pip()));
    b
}

/// The replacement of pending entry order `current` with `change` applied. The type cannot change
/// (OANDA requires the same type); `None` fields keep their value; the brackets are the complete new set.
/// Legs that stay as they were keep their own details (time in force, distance, client extensions).
/// The client id is carried over by OANDA; an order without one is given the id that keeps its
/// TradingView id (see [`super::ids`]).
pub fn replace_request(
    current: &Order,
    change: &tv::ModifyOrder,
    spec: &InstrumentSpec,
) -> BrokerResult<OrderRequest> {
    let shape = entry_shape(current).ok_or_else(|| {
        BrokerError::Rejected(format!(
            "OANDA order {} cannot be changed from TradingView.",
            current.id
        ))
    })?;
    let current_units = current
        .units
        .ok_or_else(|| BrokerError::Internal(format!("OANDA order {} has no units", current.id)))?;
    let side = side_of(current_units);
    let units = match change.qty {
        Some(q) => units(q, side, spec)?,
        None => current_units,
    };
    let (px, bound) = match current.kind {
        OrderType::Market => {
            return Err(BrokerError::Rejected("A market order cannot be changed.".into()));
        }
        OrderType::Limit => (change.limit_price.or(current.price), None),
        OrderType::Stop => (
            change.stop_price.or(current.price),
            change
                .limit_price
                .or(current.price_bound)
                .filter(|_| current.price_bound.is_some()),
        ),
        // Shown as a limit or a stop order (see `entry_shape`): the new price comes in that field.
        OrderType::MarketIfTouched => (
            match shape.kind {
                tv::OrderType::Stop => change.stop_price.or(change.limit_price),
                _ => change.limit_price.or(change.stop_price),
            }
            .or(current.price),
            current.price_bound,
        ),
        _ => {
            return Err(BrokerError::Rejected(format!(
                "OANDA order {} is of a type TradingView cannot change.",
                current.id
            )));
        }
    };
    let (tif, gtd) = match &change.duration {
        Some(d) => time_in_force(shape.kind, Some(d))?,
        None => (
            current.time_in_force.unwrap_or(TimeInForce::Gtc),
            current.gtd_time.clone(),
        ),
    };
    let (tp, sl, ts) = on_fill(&change.brackets, spec)?;
    let was = entry_brackets(current, spec);
    let tp = keep_if_same(
        tp,
        &current.take_profit_on_fill,
        was.take_profit == change.brackets.take_profit,
    );
    // A stop given as a distance follows the entry price: kept only while the entry price stays put, since
    // TradingView's stop price is absolute.
    let entry_moved = px != current.price;
    let by_distance = current
        .stop_loss_on_fill
        .as_ref()
        .is_some_and(|d| d.price.is_none())
        || current
            .guaranteed_stop_loss_on_fill
            .as_ref()
            .is_some_and(|d| d.price.is_none());
    let same_stop = was.stop_loss == change.brackets.stop_loss
        && was.guaranteed_stop == change.brackets.guaranteed_stop
        && !(entry_moved && by_distance);
    let current_stop = current.stop_loss_on_fill.clone().or_else(|| {
        current
            .guaranteed_stop_loss_on_fill
            .clone()
            .map(|d| StopLossDetails {
                guaranteed: Some(true),
                ..d
            })
    });
    let sl = keep_if_same(sl, &current_stop, same_stop);
    let ts = keep_if_same(
        ts,
        &current.trailing_stop_loss_on_fill,
        was.trailing_stop_pips == change.brackets.trailing_stop_pips,
    );
    Ok(OrderRequest {
        kind: current.kind,
        instrument: spec.name.clone(),
        units,
        price: px.map(|p| price(p, spec)),
        price_bound: bound.map(|p| price(p, spec)),
        time_in_force: if tif == TimeInForce::Unknown {
            TimeInForce::Gtc
        } else {
            tif
        },
        gtd_time: if tif == TimeInForce::Gtd { gtd } else { None },
        position_fill: current
            .position_fill
            .clone()
            .unwrap_or_else(|| POSITION_FILL.to_string()),
        trigger_condition: current.trigger_condition.clone(),
        client_extensions: current
            .client_id()
            .is_none()
            .then(|| extensions_keeping(&tv_order_id(current))),
        take_profit_on_fill: tp,
        stop_loss_on_fill: sl,
        trailing_stop_loss_on_fill: ts,
        trade_client_extensions: current.trade_client_extensions.clone(),
    })
}

/// The new leg, or the current one unchanged when the leg did not change.
fn keep_if_same<T: Clone>(new: Option<T>, current: &Option<T>, same: bool) -> Option<T> {
    match (same, current) {
        (true, Some(c)) if new.is_some() => Some(c.clone()),
        _ => new,
    }
}

/// A trade's current legs, as compared with what TradingView asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TradeLegs {
    pub take_profit: Option<Decimal>,
    /// Price and whether it is guaranteed.
    pub stop_loss: Option<(Option<Decimal>, bool)>,
    pub trailing_distance: Option<Decimal>,
}

impl TradeLegs {
    /// The legs of a trade from its pending dependent orders.
    pub fn of<'a>(orders: impl Iterator<Item = &'a Order>) -> TradeLegs {
        let mut legs = TradeLegs::default();
        for o in orders {
            match o.kind {
                OrderType::TakeProfit => legs.take_profit = o.price.or(legs.take_profit),
                OrderType::StopLoss | OrderType::GuaranteedStopLoss if legs.stop_loss.is_none() => {
                    let guaranteed = o.kind == OrderType::GuaranteedStopLoss || o.guaranteed == Some(true);
                    legs.stop_loss = Some((o.price, guaranteed));
                }
                OrderType::TrailingStopLoss => legs.trailing_distance = o.distance.or(legs.trailing_distance),
                _ => {}
            }
        }
        legs
    }
}

/// The dependent-orders body that gives a trade exactly the brackets `wanted`: a leg that is asked for and
/// differs is set, a leg that exists and is not asked for is cancelled (`null`), a leg that is already as
/// asked is left out. Leaving unchanged legs alone matters: re-sending a trailing stop would restart it
/// from the current price and so loosen it.
pub fn dependent_body(
    current: &TradeLegs,
    wanted: &tv::Brackets,
    spec: &InstrumentSpec,
) -> BrokerResult<DependentOrdersBody> {
    let (tp, sl, ts) = on_fill(wanted, spec)?;
    let take_profit = match tp {
        Some(d) if current.take_profit == d.price => Dependent::Keep,
        Some(d) => Dependent::Set(d),
        None if current.take_profit.is_some() => Dependent::Cancel,
        None => Dependent::Keep,
    };
    let stop_loss = match sl {
        Some(d) if current.stop_loss == Some((d.price, d.guaranteed == Some(true))) => Dependent::Keep,
        Some(d) => Dependent::Set(d),
        None if current.stop_loss.is_some() => Dependent::Cancel,
        None => Dependent::Keep,
    };
    let trailing_stop_loss = match ts {
        Some(d) if current.trailing_distance == d.distance => Dependent::Keep,
        Some(d) => Dependent::Set(d),
        None if current.trailing_distance.is_some() => Dependent::Cancel,
        None => Dependent::Keep,
    };
    Ok(DependentOrdersBody {
        take_profit,
        stop_loss,
        trailing_stop_loss,
    })
}

/// The units of a trade close: `ALL`, or the amount at the instrument's precision (an amount at or above
/// the trade's size closes all of it).
pub fn close_units(amount: Option<Decimal>, open: Decimal, spec: &InstrumentSpec) -> BrokerResult<String> {
    match amount {
        Some(a) if a < open.abs() => Ok(units(a, Side::Buy, spec)?.to_string()),
        _ => Ok("ALL".to_string()),
    }
}
