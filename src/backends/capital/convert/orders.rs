//! TradingView order requests as Capital.com requests: new orders (a position or a working order),
//! working-order changes and position bracket changes.

use super::model::{
    self, CreatePositionRequest, CreateWorkingOrderRequest, OrderType, StopsAndLimits, UpdatePositionRequest,
    UpdateWorkingOrderRequest, WorkingOrderData,
};
use super::positions::direction;
use crate::broker::BrokerError;
use crate::tv;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// Duration id of "good till cancelled" (no `goodTillDate` upstream).
pub const GTC: &str = "GTC";
/// Duration id of "good till time" (`goodTillDate` upstream, from the duration's `datetime`).
pub const GTT: &str = "GTT";

/// What a TradingView order becomes upstream: market orders open a position at once, limit and stop orders
/// wait as working orders.
#[derive(Debug, Clone, PartialEq)]
pub enum Placement {
    /// `POST /positions`.
    Position(CreatePositionRequest),
    /// `POST /workingorders`.
    WorkingOrder(CreateWorkingOrderRequest),
}

/// Maps a new order. Market -> position; limit -> LIMIT working order at `limit_price`; stop -> STOP working
/// order at `stop_price`; stop-limit -> `Unsupported`. Durations: none or `GTC` -> no `goodTillDate`, `GTT`
/// with a date -> `goodTillDate` (UTC); anything else, or any expiry on a market order, is rejected.
/// Brackets map as [`stops`] describes; `pip_size` turns trailing pips into a distance.
pub fn placement(epic: &str, order: &tv::PlaceOrder, pip_size: Decimal) -> Result<Placement, BrokerError> {
    let stops = stops(&order.brackets, pip_size)?;
    let good_till_date = good_till_date(order.duration.as_ref())?;
    let dir = direction(order.side);
    let (order_type, level) = match order.kind {
        tv::OrderType::Market => {
            if good_till_date.is_some() {
                return Err(BrokerError::Rejected(
                    "A market order is filled at once: duration GTT cannot be used with it.".into(),
                ));
            }
            return Ok(Placement::Position(CreatePositionRequest {
                epic: epic.to_owned(),
                direction: dir,
                size: order.qty,
                stops,
            }));
        }
        tv::OrderType::Limit => (
            OrderType::Limit,
            required(order.limit_price, "limitPrice", "limit")?,
        ),
        tv::OrderType::Stop => (OrderType::Stop, required(order.stop_price, "stopPrice", "stop")?),
        tv::OrderType::StopLimit => return Err(BrokerError::Unsupported("the stop-limit order type")),
    };
    Ok(Placement::WorkingOrder(CreateWorkingOrderRequest {
        epic: epic.to_owned(),
        direction: dir,
        size: order.qty,
        level,
        order_type,
        good_till_date,
        stops,
    }))
}

/// Maps a change of the working order `current`. Its size cannot change upstream, so a different `qty` is
/// rejected. The level is the new limit price (LIMIT) or stop price (STOP), else the current one; the
/// duration as in [`placement`], and when no duration is sent the current expiry is sent again so that it is
/// kept whatever the upstream does with a missing field. The brackets are the complete new set, sent as
/// [`stops_update`] describes.
pub fn working_order_update(
    current: &WorkingOrderData,
    change: &tv::ModifyOrder,
    pip_size: Decimal,
) -> Result<UpdateWorkingOrderRequest, BrokerError> {
    if let Some(qty) = change.qty {
        if qty != current.order_size {
            return Err(BrokerError::Rejected(format!(
                "Capital.com cannot change the quantity of a working order (qty {qty}, the order is for {}): \
                 cancel it and place a new one.",
                current.order_size
            )));
        }
    }
    let new_level = match current.order_type {
        OrderType::Limit => change.limit_price,
        OrderType::Stop => change.stop_price,
        // A type this bridge does not know: take whichever price was sent.
        OrderType::Unknown => change.limit_price.or(change.stop_price),
    };
    let good_till_date = match &change.duration {
        Some(d) => good_till_date(Some(d))?,
        None => current
            .good_till_date_utc
            .as_deref()
            .and_then(model::parse_time)
            .map(|t| model::format_time(t.and_utc())),
    };
    let now = super::order_views::order_brackets(current, pip_size);
    Ok(UpdateWorkingOrderRequest {
        level: Some(new_level.unwrap_or(current.order_level)),
        good_till_date,
        stops: stops_update(&change.brackets, &now, pip_size)?,
    })
}

/// Maps a change of a position's brackets from `current` to `brackets`, the complete new set (absent =
/// removed), sent as [`stops_update`] describes.
pub fn position_update(
    brackets: &tv::Brackets,
    current: &tv::Brackets,
    pip_size: Decimal,
) -> Result<UpdatePositionRequest, BrokerError> {
    Ok(UpdatePositionRequest {
        stops: stops_update(brackets, current, pip_size)?,
    })
}

/// The stop and profit fields of an update from `current` to `intended`, stated so that both readings of
/// a field left out (removed, or kept) give the same result wherever the API allows it: every intended stop
/// or take profit is sent whole, `trailingStop` is always sent, and `guaranteedStop` whenever the deal has
/// or gets a guaranteed stop (it is left out otherwise, where both readings agree, because the
/// documentation forbids setting it on hedging accounts). A bracket that is removed can only be left out:
/// the API documents no field that removes one, so callers check afterwards ([`kept_despite_removal`]).
pub fn stops_update(
    intended: &tv::Brackets,
    current: &tv::Brackets,
    pip_size: Decimal,
) -> Result<StopsAndLimits, BrokerError> {
    let mut s = stops(intended, pip_size)?;
    s.trailing_stop = Some(intended.trailing_stop_pips.is_some());
    s.guaranteed_stop = match (intended.guaranteed_stop, current.guaranteed_stop) {
        (Some(_), _) => Some(true),
        (None, Some(_)) => Some(false),
        (None, None) => None,
    };
    Ok(s)
}

/// The brackets an update meant to remove (present in `before`, absent from `intended`) that are still
/// there `after` it, in words ("stop loss", "take profit"). Capital.com documents no way to remove a stop
/// or a take profit except leaving its fields out, which an upstream reading "left out = kept" ignores.
pub fn kept_despite_removal(
    before: &tv::Brackets,
    intended: &tv::Brackets,
    after: &tv::Brackets,
) -> Vec<&'static str> {
    let has_stop = |b: &tv::Brackets| {
        b.stop_loss.is_some() || b.trailing_stop_pips.is_some() || b.guaranteed_stop.is_some()
    };
    let mut kept = Vec::new();
    if has_stop(before) && !has_stop(intended) && has_stop(after) {
        kept.push("stop loss");
    }
    if before.take_profit.is_some() && intended.take_profit.is_none() && after.take_profit.is_some() {
        kept.push("take profit");
    }
    kept
}

/// The refusal when [`kept_despite_removal`] found brackets still in place on `what` ("position X").
pub fn removal_refused(what: &str, kept: &[&str]) -> BrokerError {
    BrokerError::Rejected(format!(
        "Capital.com kept the {} of {what}: its API documents no way to remove one. Move it instead, or close \
         the position.",
        kept.join(" and ")
    ))
}

/// Brackets as Capital.com stop and profit fields: `stop_loss` -> `stopLevel`; `guaranteed_stop` ->
/// `stopLevel` + `guaranteedStop`; `trailing_stop_pips` -> `trailingStop` + `stopDistance` (pips x pip size);
/// `take_profit` -> `profitLevel`. Capital.com takes one stop per deal, so two kinds of stop are rejected.
pub fn stops(b: &tv::Brackets, pip_size: Decimal) -> Result<StopsAndLimits, BrokerError> {
    let mut s = StopsAndLimits {
        profit_level: b.take_profit,
        ..Default::default()
    };
    match (b.stop_loss, b.guaranteed_stop, b.trailing_stop_pips) {
        (Some(sl), Some(g), _) => {
            return Err(BrokerError::Rejected(format!(
            "Stop loss {sl} and guaranteed stop {g} were both given, but a Capital.com deal has one stop: \
                 send the guaranteed stop alone."
        )))
        }
        (Some(sl), None, Some(pips)) => {
            return Err(BrokerError::Rejected(format!(
            "Stop loss {sl} and a trailing stop of {pips} pips were both given, but a Capital.com trailing \
                 stop is set by its distance only: send the trailing stop alone."
        )))
        }
        (None, Some(g), Some(pips)) => {
            return Err(BrokerError::Rejected(format!(
                "Guaranteed stop {g} and a trailing stop of {pips} pips were both given, but Capital.com \
                 cannot guarantee a trailing stop: choose one."
            )))
        }
        (Some(sl), None, None) => s.stop_level = Some(sl),
        (None, Some(g), None) => {
            s.stop_level = Some(g);
            s.guaranteed_stop = Some(true);
        }
        (None, None, Some(pips)) => {
            let distance = pips * pip_size;
            if distance <= Decimal::ZERO {
                return Err(BrokerError::Rejected(format!(
                    "The trailing stop distance must be positive, got {pips} pips."
                )));
            }
            s.trailing_stop = Some(true);
            s.stop_distance = Some(distance.normalize());
        }
        (None, None, None) => {}
    }
    Ok(s)
}

/// `goodTillDate` of a duration: `None` for no duration or GTC, the UTC date of a GTT; other ids rejected.
fn good_till_date(duration: Option<&tv::OrderDuration>) -> Result<Option<String>, BrokerError> {
    let Some(d) = duration else {
        return Ok(None);
    };
    if d.kind.eq_ignore_ascii_case(GTC) {
        return Ok(None);
    }
    if !d.kind.eq_ignore_ascii_case(GTT) {
        let shown: String = d.kind.chars().filter(|c| !c.is_control()).take(40).collect();
        return Err(BrokerError::Rejected(format!(
            "Duration '{shown}' is not offered by Capital.com: use GTC or GTT."
        )));
    }
    let secs = d
        .datetime
        .ok_or_else(|| BrokerError::Rejected("Duration GTT needs an expiration date and time.".into()))?;
    let when = DateTime::<Utc>::from_timestamp(secs, 0).ok_or_else(|| {
        BrokerError::Rejected(format!(
            "The expiration time {secs} of duration GTT is out of range."
        ))
    })?;
    Ok(Some(model::format_time(when)))
}

/// A price the order type needs, or a rejection naming the field.
fn required(price: Option<Decimal>, field: &str, kind: &str) -> Result<Decimal, BrokerError> {
    price.ok_or_else(|| BrokerError::Rejected(format!("A {kind} order needs '{field}'.")))
}
