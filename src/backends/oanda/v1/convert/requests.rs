//! TradingView requests as v1 form bodies, checked against what v1 can do: market, limit and stop orders
//! (no stop-limit), pending orders that expire (GTC is sent as the furthest expiry OANDA takes), whole
//! units, brackets as prices and the trailing stop in pips, no guaranteed stops.

use super::super::super::venue::{durations, InstrumentSpec};
use super::super::model::{self, TxType, WireOrderType, WireSide};
use super::orders::BracketSet;
use super::{form_decimal, side, Leg};
use crate::broker::{BrokerError, BrokerResult};
use crate::tv::{self, Side};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use rust_decimal::Decimal;

/// How far ahead a GTC pending order expires. OANDA's v1 platform keeps an entry order at most 90 days,
/// so a "good till cancelled" order is sent with an expiry one day short of that.
pub const GTC_EXPIRY_DAYS: i64 = 89;

/// A form body.
pub type Form = Vec<(&'static str, String)>;

/// What the `*_ORDER_CREATE` transaction of an order placed by the bridge looks like, to find it in the
/// history after a failure that may have reached OANDA (v1 has no client order id).
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub instrument: String,
    pub units: Decimal,
    pub side: Side,
    pub kind: TxType,
    /// The price of a pending order (a market order's fill price is not known in advance).
    pub price: Option<Decimal>,
    /// The instrument's price step: OANDA may keep a price rounded to it.
    pub tick: Decimal,
}

impl Probe {
    /// Whether `tx` is the creation of this order (its price within half a price step of ours).
    pub fn matches(&self, tx: &model::Transaction) -> bool {
        let price_matches = match (self.price, tx.price) {
            (None, _) => true,
            (Some(ours), Some(theirs)) => (ours - theirs).abs() * Decimal::TWO <= self.tick,
            (Some(_), None) => false,
        };
        tx.kind == self.kind
            && tx.instrument.as_deref() == Some(self.instrument.as_str())
            && tx.units == Some(self.units)
            && tx.side.and_then(side) == Some(self.side)
            && price_matches
    }

    /// Whether `tx` created some order on the same instrument: one that does not match may still be ours
    /// recorded differently, so its presence makes "not placed" uncertain.
    pub fn resembles(&self, tx: &model::Transaction) -> bool {
        tx.creates_order() && tx.instrument.as_deref() == Some(self.instrument.as_str())
    }
}

/// A place-order request ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderForm {
    pub form: Form,
    pub probe: Probe,
}

fn rejected<T>(text: impl Into<String>) -> BrokerResult<T> {
    Err(BrokerError::Rejected(text.into()))
}

fn wire_side(s: Side) -> &'static str {
    match s {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

/// `units`: a positive whole number (v1 trades whole units).
pub fn units(qty: Decimal) -> BrokerResult<String> {
    if qty <= Decimal::ZERO {
        return rejected("The quantity must be positive.");
    }
    if !qty.fract().is_zero() {
        return rejected(format!(
            "OANDA v1 accounts trade whole units; {} is not a whole number.",
            qty.normalize()
        ));
    }
    Ok(form_decimal(qty))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The `expiry` of a pending order for a TradingView duration (`None`: GTC).
pub fn expiry(duration: Option<&tv::OrderDuration>, now: DateTime<Utc>) -> BrokerResult<String> {
    let Some(d) = duration else {
        return Ok(rfc3339(now + Duration::days(GTC_EXPIRY_DAYS)));
    };
    match d.kind.as_str() {
        durations::GTC => Ok(rfc3339(now + Duration::days(GTC_EXPIRY_DAYS))),
        durations::GTD => {
            let Some(t) = d.datetime.and_then(|s| DateTime::from_timestamp(s, 0)) else {
                return rejected("Good till date needs an expiry date and time.");
            };
            if t <= now {
                return rejected("The expiry date and time is in the past.");
            }
            Ok(rfc3339(t))
        }
        other => rejected(format!(
            "OANDA v1 pending orders are good till cancelled or good till a date; '{other}' is not available."
        )),
    }
}

/// The bracket fields of an order or trade request (absent ones are left out, or sent as `0` with
/// `clear_absent` so that OANDA removes them).
pub fn bracket_fields(b: &tv::Brackets, clear_absent: bool) -> BrokerResult<Form> {
    if b.guaranteed_stop.is_some() {
        return rejected("Guaranteed stop losses are not available on OANDA v1 accounts.");
    }
    let mut form = Form::new();
    for (leg, value) in [
        (Leg::StopLoss, b.stop_loss),
        (Leg::TakeProfit, b.take_profit),
        (Leg::TrailingStop, b.trailing_stop_pips),
    ] {
        match value {
            Some(v) if v <= Decimal::ZERO => {
                return rejected(format!("The {} must be positive.", leg.words()));
            }
            Some(v) => form.push((leg.field(), form_decimal(v))),
            None if clear_absent => form.push((leg.field(), "0".to_owned())),
            None => {}
        }
    }
    Ok(form)
}

/// The body of `POST /orders` for `order` on `spec`'s instrument.
pub fn place_form(
    spec: &InstrumentSpec,
    order: &tv::PlaceOrder,
    now: DateTime<Utc>,
) -> BrokerResult<OrderForm> {
    let (wire_type, kind, price) = match order.kind {
        tv::OrderType::Market => ("market", TxType::MarketOrderCreate, None),
        tv::OrderType::Limit => match order.limit_price {
            Some(p) if p > Decimal::ZERO => ("limit", TxType::LimitOrderCreate, Some(p)),
            _ => return rejected("A limit order needs a positive limit price."),
        },
        tv::OrderType::Stop => match order.stop_price {
            Some(p) if p > Decimal::ZERO => ("stop", TxType::StopOrderCreate, Some(p)),
            _ => return rejected("A stop order needs a positive stop price."),
        },
        tv::OrderType::StopLimit => {
            return rejected(
                "Stop-limit orders are not available on OANDA v1 accounts; use a stop or a limit order.",
            )
        }
    };
    let mut form: Form = vec![
        ("instrument", spec.name.clone()),
        ("units", units(order.qty)?),
        ("side", wire_side(order.side).to_owned()),
        ("type", wire_type.to_owned()),
    ];
    // A market order fills at once or is rejected, which is fill or kill: any other duration (IOC) would be
    // a promise v1 cannot keep, so it is refused rather than ignored.
    if let Some(d) = order.duration.as_ref().filter(|_| price.is_none()) {
        if d.kind != durations::FOK {
            return rejected(format!(
                "OANDA v1 market orders are fill or kill; duration '{}' is not available.",
                d.kind
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(40)
                    .collect::<String>()
            ));
        }
    }
    if let Some(p) = price {
        form.push(("price", form_decimal(p)));
        form.push(("expiry", expiry(order.duration.as_ref(), now)?));
    }
    form.extend(bracket_fields(&order.brackets, false)?);
    Ok(OrderForm {
        form,
        probe: Probe {
            instrument: spec.name.clone(),
            units: order.qty,
            side: order.side,
            kind,
            price,
            tick: spec.tick(),
        },
    })
}

/// The body of `PATCH /orders/{id}`: quantity, price and expiry when given, and the complete bracket
/// set (a bracket left out is removed).
pub fn modify_order_form(
    current: &model::Order,
    change: &tv::ModifyOrder,
    now: DateTime<Utc>,
) -> BrokerResult<Form> {
    let mut form = Form::new();
    if let Some(qty) = change.qty {
        form.push(("units", units(qty)?));
    }
    let price = match current.kind {
        WireOrderType::Stop => change.stop_price.or(change.limit_price),
        _ => change.limit_price.or(change.stop_price),
    };
    if let Some(p) = price {
        if p <= Decimal::ZERO {
            return rejected("The order price must be positive.");
        }
        form.push(("price", form_decimal(p)));
    }
    if let Some(d) = &change.duration {
        form.push(("expiry", expiry(Some(d), now)?));
    }
    form.extend(bracket_fields(&change.brackets, true)?);
    Ok(form)
}

/// The new value of one bracket of an order or trade from a modify request on the bracket order itself:
/// the stop or limit price it was moved to, or for a trailing stop its new distance in pips (given, or
/// from the stop price it was dragged to, to a tenth of a pip as v1 takes it).
pub fn leg_value(
    leg: Leg,
    change: &tv::ModifyOrder,
    current: &BracketSet,
    parent_side: WireSide,
    parent_units: Decimal,
    pip: Option<Decimal>,
) -> BrokerResult<Decimal> {
    if change.qty.is_some_and(|q| q != parent_units) {
        return rejected(format!(
            "On OANDA v1 a {} always covers the whole order or trade ({} units).",
            leg.words(),
            parent_units.normalize()
        ));
    }
    let value = match leg {
        Leg::StopLoss => change.stop_price.or(change.limit_price),
        Leg::TakeProfit => change.limit_price.or(change.stop_price),
        Leg::TrailingStop => match change.brackets.trailing_stop_pips {
            Some(pips) => Some(pips),
            None => match (
                change.stop_price,
                current.trailing_price,
                current.trailing_pips,
                pip,
                side(parent_side),
            ) {
                (Some(to), Some(from), Some(pips), Some(pip), Some(s)) if !pip.is_zero() => {
                    Some((pips - s.sign() * (to - from) / pip).round_dp(1))
                }
                _ => None,
            },
        },
    };
    match value {
        Some(v) if v > Decimal::ZERO => Ok(v),
        Some(_) => rejected(format!("The {} must be positive.", leg.words())),
        None => rejected(match leg {
            Leg::TrailingStop => {
                "Give the new trailing stop distance in pips, or the price to move it to.".to_owned()
            }
            _ => format!("Give the new {} price.", leg.words()),
        }),
    }
}
