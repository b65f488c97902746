//! Reading a v20 `OrderRequest` (and the `...Details` of dependent orders) into the account model,
//! refusing what OANDA refuses with the documented `TransactionRejectReason`.

use super::super::model::{Kind, OnFill, Order};
use super::super::state::{Quote, State};
use super::super::wire::{dec_of, decimals, parse_time};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

/// Why an order request is refused.
#[derive(Clone, Debug)]
pub(in super::super) enum Bad {
    /// Unreadable before its type is known: a plain 400 without a transaction.
    Plain(String),
    /// A reject transaction of this kind with this `rejectReason`.
    Reject { kind: Kind, reason: String },
}

/// A human-readable text for a reject reason.
pub(in super::super) fn message(reason: &str) -> String {
    let text = match reason {
        "INSUFFICIENT_MARGIN" => "Insufficient margin to perform request",
        "INSTRUMENT_UNKNOWN" => "The instrument specified is unknown",
        "INSTRUMENT_MISSING" => "Order instrument not specified",
        "UNITS_MISSING" => "Order units not specified",
        "UNITS_INVALID" => "Order units specified are invalid",
        "UNITS_PRECISION_EXCEEDED" => "The Order units specified contain more precision than is allowed",
        "UNITS_MIMIMUM_NOT_MET" => "The Order units specified do not meet the minimum requirement",
        "UNITS_LIMIT_EXCEEDED" => "The Order units specified exceed the maximum allowed",
        "PRICE_MISSING" => "Order price not specified",
        "PRICE_INVALID" => "Order price specified is invalid",
        "PRICE_PRECISION_EXCEEDED" => "The price specified contains more precision than is allowed",
        "TIME_IN_FORCE_INVALID" => "The time-in-force specified is invalid for the Order type",
        "TIME_IN_FORCE_GTD_TIMESTAMP_MISSING" => "A GTD Order requires a gtdTime",
        "TIME_IN_FORCE_GTD_TIMESTAMP_IN_PAST" => "The gtdTime specified is in the past",
        "CLIENT_ORDER_ID_ALREADY_EXISTS" => {
            "The client Order ID specified is already assigned to another Order"
        }
        "STOP_LOSS_ON_FILL_GUARANTEED_NOT_ALLOWED" => {
            "A guaranteed Stop Loss Order is not allowed for this Account"
        }
        "TRADE_DOESNT_EXIST" => "The Trade specified does not exist",
        "ORDER_DOESNT_EXIST" => "The Order specified does not exist",
        _ => "",
    };
    if !text.is_empty() {
        return text.to_string();
    }
    // Fall back on the reason itself, spelled as a sentence.
    let mut s = reason.replace('_', " ").to_lowercase();
    if let Some(first) = s.get(0..1) {
        s = first.to_uppercase() + &s[1..];
    }
    s
}

/// What was wrong with a `...Details` object.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Problem {
    PriceMissing,
    PriceInvalid,
    PricePrecision,
    DistanceMissing,
    DistanceInvalid,
    DistancePrecision,
    DistanceMinimum,
    DistanceMaximum,
    BothSpecified,
    BothMissing,
    GuaranteedNotAllowed,
    TifInvalid,
    GtdMissing,
    GtdPast,
}

/// The documented reject reason of a details problem, on fill or on a trade directly.
fn details_reason(kind: Kind, on_fill: bool, p: Problem) -> String {
    use Problem::*;
    if on_fill {
        let prefix = match kind {
            Kind::TakeProfit => "TAKE_PROFIT_ON_FILL_",
            Kind::StopLoss => "STOP_LOSS_ON_FILL_",
            _ => "TRAILING_STOP_LOSS_ON_FILL_",
        };
        let suffix = match (kind, p) {
            (Kind::TrailingStopLoss, DistanceMissing) => "PRICE_DISTANCE_MISSING",
            (Kind::TrailingStopLoss, DistanceInvalid) => "PRICE_DISTANCE_INVALID",
            (Kind::TrailingStopLoss, DistancePrecision) => "PRICE_DISTANCE_PRECISION_EXCEEDED",
            (_, DistanceMinimum) => "PRICE_DISTANCE_MINIMUM_NOT_MET",
            (_, DistanceMaximum) => "PRICE_DISTANCE_MAXIMUM_EXCEEDED",
            (_, PriceMissing) => "PRICE_MISSING",
            (_, PriceInvalid) => "PRICE_INVALID",
            (_, PricePrecision) => "PRICE_PRECISION_EXCEEDED",
            (_, DistanceMissing) | (_, BothMissing) => "PRICE_AND_DISTANCE_BOTH_MISSING",
            (_, DistanceInvalid) => "DISTANCE_INVALID",
            (_, DistancePrecision) => "DISTANCE_PRECISION_EXCEEDED",
            (_, BothSpecified) => "PRICE_AND_DISTANCE_BOTH_SPECIFIED",
            (_, GuaranteedNotAllowed) => "GUARANTEED_NOT_ALLOWED",
            (_, TifInvalid) => "TIME_IN_FORCE_INVALID",
            (_, GtdMissing) => "GTD_TIMESTAMP_MISSING",
            (_, GtdPast) => "GTD_TIMESTAMP_IN_PAST",
        };
        return format!("{prefix}{suffix}");
    }
    match p {
        PriceMissing => "PRICE_MISSING",
        PriceInvalid => "PRICE_INVALID",
        PricePrecision => "PRICE_PRECISION_EXCEEDED",
        DistanceMissing => "PRICE_DISTANCE_MISSING",
        DistanceInvalid => "PRICE_DISTANCE_INVALID",
        DistancePrecision => "PRICE_DISTANCE_PRECISION_EXCEEDED",
        DistanceMinimum => "PRICE_DISTANCE_MINIMUM_NOT_MET",
        DistanceMaximum => "PRICE_DISTANCE_MAXIMUM_EXCEEDED",
        BothSpecified => "STOP_LOSS_ORDER_PRICE_AND_DISTANCE_BOTH_SPECIFIED",
        BothMissing => "STOP_LOSS_ORDER_PRICE_AND_DISTANCE_BOTH_MISSING",
        GuaranteedNotAllowed => "STOP_LOSS_ORDER_GUARANTEED_NOT_ALLOWED",
        TifInvalid => "TIME_IN_FORCE_INVALID",
        GtdMissing => "TIME_IN_FORCE_GTD_TIMESTAMP_MISSING",
        GtdPast => "TIME_IN_FORCE_GTD_TIMESTAMP_IN_PAST",
    }
    .to_string()
}

/// A price field: `Ok(None)` when absent.
fn price_field(q: &Quote, v: Option<&Value>) -> Result<Option<Decimal>, Problem> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let p = dec_of(v)
        .filter(|p| *p > Decimal::ZERO)
        .ok_or(Problem::PriceInvalid)?;
    if decimals(p) > q.spec.display_precision {
        return Err(Problem::PricePrecision);
    }
    Ok(Some(p))
}

/// A distance field: `Ok(None)` when absent.
fn distance_field(q: &Quote, v: Option<&Value>) -> Result<Option<Decimal>, Problem> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let d = dec_of(v)
        .filter(|d| *d > Decimal::ZERO)
        .ok_or(Problem::DistanceInvalid)?;
    if decimals(d) > q.spec.display_precision {
        return Err(Problem::DistancePrecision);
    }
    Ok(Some(d))
}

/// Time in force and GTD time of a dependent order (GTC, GFD or GTD only).
fn dependent_tif(v: &Value, now: DateTime<Utc>) -> Result<(String, Option<DateTime<Utc>>), Problem> {
    let tif = v.get("timeInForce").and_then(Value::as_str).unwrap_or("GTC");
    if !matches!(tif, "GTC" | "GFD" | "GTD") {
        return Err(Problem::TifInvalid);
    }
    let gtd = gtd_field(v, tif, now).map_err(|missing| {
        if missing {
            Problem::GtdMissing
        } else {
            Problem::GtdPast
        }
    })?;
    Ok((tif.to_string(), gtd))
}

/// The `gtdTime` of a GTD order: `Err(true)` missing or unreadable, `Err(false)` in the past.
fn gtd_field(v: &Value, tif: &str, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, bool> {
    if tif != "GTD" {
        return Ok(None);
    }
    let t = v
        .get("gtdTime")
        .and_then(Value::as_str)
        .and_then(parse_time)
        .ok_or(true)?;
    if t <= now {
        return Err(false);
    }
    Ok(Some(t))
}

/// Smallest and largest trailing stop distance of an instrument (5 and 10 000 pips).
pub(in super::super) fn trailing_bounds(q: &Quote) -> (Decimal, Decimal) {
    let pip = q.spec.pip();
    (pip * Decimal::from(5), pip * Decimal::from(10_000))
}

/// Reads `TakeProfitDetails` / `StopLossDetails` / `TrailingStopLossDetails` for `kind`.
pub(in super::super) fn details(
    st: &State,
    a: usize,
    q: &Quote,
    v: &Value,
    kind: Kind,
    on_fill: bool,
) -> Result<OnFill, String> {
    let now = st.now();
    let fail = |p: Problem| details_reason(kind, on_fill, p);
    let (tif, gtd) = dependent_tif(v, now).map_err(fail)?;
    let ext = v.get("clientExtensions").filter(|e| e.is_object()).cloned();
    let mut out = OnFill {
        tif,
        gtd,
        ext,
        ..OnFill::default()
    };
    match kind {
        Kind::TakeProfit => {
            out.price = Some(
                price_field(q, v.get("price"))
                    .map_err(fail)?
                    .ok_or_else(|| fail(Problem::PriceMissing))?,
            );
        }
        Kind::StopLoss => {
            let price = price_field(q, v.get("price")).map_err(fail)?;
            let distance = distance_field(q, v.get("distance")).map_err(fail)?;
            match (price, distance) {
                (Some(_), Some(_)) => return Err(fail(Problem::BothSpecified)),
                (None, None) => return Err(fail(Problem::BothMissing)),
                _ => {}
            }
            out.price = price;
            out.distance = distance;
            let guaranteed = v.get("guaranteed").and_then(Value::as_bool);
            if guaranteed == Some(true) && !st.accounts[a].spec.guaranteed_stops {
                return Err(fail(Problem::GuaranteedNotAllowed));
            }
            out.guaranteed = guaranteed;
        }
        _ => {
            let d = distance_field(q, v.get("distance"))
                .map_err(fail)?
                .ok_or_else(|| fail(Problem::DistanceMissing))?;
            let (min, max) = trailing_bounds(q);
            if d < min {
                return Err(fail(Problem::DistanceMinimum));
            }
            if d > max {
                return Err(fail(Problem::DistanceMaximum));
            }
            out.distance = Some(d);
        }
    }
    Ok(out)
}

/// A readable order request.
#[derive(Clone, Debug)]
pub(in super::super) enum Parsed {
    /// A market or entry order to place.
    Entry(Box<Order>),
    /// A take profit / stop loss / trailing stop for an open trade.
    Dependent {
        trade_id: u64,
        kind: Kind,
        details: OnFill,
    },
}

/// Reads an `OrderRequest` for account `a` (replacing `old`, when given).
pub(in super::super) fn parse_order(
    st: &State,
    a: usize,
    req: &Value,
    old: Option<&Order>,
) -> Result<Parsed, Bad> {
    let now = st.now();
    let Some(obj) = req.as_object() else {
        return Err(Bad::Plain("Invalid value specified for 'order'".into()));
    };
    let kind = obj
        .get("type")
        .and_then(Value::as_str)
        .and_then(Kind::parse)
        .ok_or_else(|| Bad::Plain("Invalid value specified for 'type'".into()))?;
    let reject = |reason: &str| Bad::Reject {
        kind,
        reason: reason.to_string(),
    };
    let acct = &st.accounts[a];
    if kind.is_dependent() {
        return parse_dependent(st, a, req, kind, old);
    }
    let instrument = obj
        .get("instrument")
        .and_then(Value::as_str)
        .ok_or_else(|| reject("INSTRUMENT_MISSING"))?;
    let q = st.quote(instrument).ok_or_else(|| reject("INSTRUMENT_UNKNOWN"))?;
    let mut order = Order::new(0, kind, instrument, now);
    let units = obj.get("units").ok_or_else(|| reject("UNITS_MISSING"))?;
    let units = dec_of(units)
        .filter(|u| !u.is_zero())
        .ok_or_else(|| reject("UNITS_INVALID"))?;
    if decimals(units) > q.spec.trade_units_precision {
        return Err(reject("UNITS_PRECISION_EXCEEDED"));
    }
    if units.abs() < q.spec.minimum_trade_size {
        // The documented enum spells it this way.
        return Err(reject("UNITS_MIMIMUM_NOT_MET"));
    }
    if units.abs() > q.spec.maximum_order_units {
        return Err(reject("UNITS_LIMIT_EXCEEDED"));
    }
    order.units = units;
    if kind != Kind::Market {
        order.price = Some(
            price_field(q, obj.get("price"))
                .map_err(|p| {
                    reject(if p == Problem::PricePrecision {
                        "PRICE_PRECISION_EXCEEDED"
                    } else {
                        "PRICE_INVALID"
                    })
                })?
                .ok_or_else(|| reject("PRICE_MISSING"))?,
        );
    }
    if kind != Kind::Limit {
        order.price_bound = price_field(q, obj.get("priceBound")).map_err(|p| {
            reject(if p == Problem::PricePrecision {
                "PRICE_BOUND_PRECISION_EXCEEDED"
            } else {
                "PRICE_BOUND_INVALID"
            })
        })?;
    }
    let tif = obj
        .get("timeInForce")
        .and_then(Value::as_str)
        .unwrap_or(if kind == Kind::Market { "FOK" } else { "GTC" });
    let allowed: &[&str] = match kind {
        Kind::Market => &["FOK", "IOC"],
        Kind::MarketIfTouched => &["GTC", "GFD", "GTD"],
        _ => &["GTC", "GTD", "GFD", "FOK", "IOC"],
    };
    if !allowed.contains(&tif) {
        return Err(reject("TIME_IN_FORCE_INVALID"));
    }
    order.tif = tif.to_string();
    order.gtd = gtd_field(req, tif, now).map_err(|missing| {
        reject(if missing {
            "TIME_IN_FORCE_GTD_TIMESTAMP_MISSING"
        } else {
            "TIME_IN_FORCE_GTD_TIMESTAMP_IN_PAST"
        })
    })?;
    let fill = obj
        .get("positionFill")
        .and_then(Value::as_str)
        .unwrap_or("DEFAULT");
    if !matches!(fill, "DEFAULT" | "OPEN_ONLY" | "REDUCE_FIRST" | "REDUCE_ONLY") {
        return Err(reject("ORDER_FILL_POSITION_ACTION_INVALID"));
    }
    order.position_fill = fill.to_string();
    let trigger = obj
        .get("triggerCondition")
        .and_then(Value::as_str)
        .unwrap_or("DEFAULT");
    if !matches!(trigger, "DEFAULT" | "INVERSE" | "BID" | "ASK" | "MID") {
        return Err(reject("TRIGGER_CONDITION_INVALID"));
    }
    order.trigger = trigger.to_string();
    order.ext = client_ext(obj.get("clientExtensions"), "CLIENT_ORDER").map_err(|r| reject(&r))?;
    if let Some(id) = order.client_id() {
        let own = old.and_then(|o| o.client_id()) == Some(id);
        if !own && acct.orders.iter().any(|o| o.client_id() == Some(id)) {
            return Err(reject("CLIENT_ORDER_ID_ALREADY_EXISTS"));
        }
    }
    order.trade_ext = client_ext(obj.get("tradeClientExtensions"), "CLIENT_TRADE").map_err(|r| reject(&r))?;
    if let Some(id) = order
        .trade_ext
        .as_ref()
        .and_then(|e| e.get("id"))
        .and_then(Value::as_str)
    {
        if acct.trades.iter().any(|t| t.client_id() == Some(id)) {
            return Err(reject("CLIENT_TRADE_ID_ALREADY_EXISTS"));
        }
    }
    let on_fill = |key: &str, kind: Kind| -> Result<Option<OnFill>, Bad> {
        match obj.get(key).filter(|v| !v.is_null()) {
            Some(v) => details(st, a, q, v, kind, true).map(Some).map_err(|r| reject(&r)),
            None => Ok(None),
        }
    };
    order.tp = on_fill("takeProfitOnFill", Kind::TakeProfit)?;
    order.sl = on_fill("stopLossOnFill", Kind::StopLoss)?;
    if order.sl.is_none() {
        // Newer API versions name a guaranteed stop separately; it is a guaranteed stop loss here.
        if let Some(v) = obj.get("guaranteedStopLossOnFill").filter(|v| v.is_object()) {
            let mut v = v.clone();
            v["guaranteed"] = Value::Bool(true);
            order.sl = Some(details(st, a, q, &v, Kind::StopLoss, true).map_err(|r| reject(&r))?);
        }
    }
    order.tsl = on_fill("trailingStopLossOnFill", Kind::TrailingStopLoss)?;
    Ok(Parsed::Entry(Box::new(order)))
}

/// A take profit / stop loss / trailing stop requested through the orders endpoint.
fn parse_dependent(
    st: &State,
    a: usize,
    req: &Value,
    kind: Kind,
    old: Option<&Order>,
) -> Result<Parsed, Bad> {
    let reject = |reason: &str| Bad::Reject {
        kind,
        reason: reason.to_string(),
    };
    let acct = &st.accounts[a];
    let trade_id = match req.get("tradeID") {
        Some(v) => v
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .or_else(|| v.as_u64()),
        None => req
            .get("clientTradeID")
            .and_then(Value::as_str)
            .and_then(|c| acct.find_trade(&format!("@{c}"))),
    }
    .ok_or_else(|| reject("TRADE_ID_UNSPECIFIED"))?;
    let trade = acct
        .trade(trade_id)
        .filter(|t| t.is_open())
        .ok_or_else(|| reject("TRADE_DOESNT_EXIST"))?;
    if let Some(old) = old {
        if old.kind != kind || old.trade_id != Some(trade_id) {
            return Err(reject("REPLACING_ORDER_INVALID"));
        }
    } else {
        let existing = match kind {
            Kind::TakeProfit => trade.tp.map(|_| "TAKE_PROFIT_ORDER_ALREADY_EXISTS"),
            Kind::StopLoss => trade.sl.map(|_| "STOP_LOSS_ORDER_ALREADY_EXISTS"),
            _ => trade.tsl.map(|_| "TRAILING_STOP_LOSS_ORDER_ALREADY_EXISTS"),
        };
        if let Some(reason) = existing {
            return Err(reject(reason));
        }
    }
    let q = st
        .quote(&trade.instrument)
        .ok_or_else(|| reject("INSTRUMENT_UNKNOWN"))?;
    let details = details(st, a, q, req, kind, false).map_err(|r| reject(&r))?;
    Ok(Parsed::Dependent {
        trade_id,
        kind,
        details,
    })
}

/// Reads `clientExtensions`: an object whose `id`, `tag` and `comment` are strings of at most 128
/// characters. `prefix` names the reject reasons (`CLIENT_ORDER_ID_INVALID`...).
pub(super) fn client_ext(v: Option<&Value>, prefix: &str) -> Result<Option<Value>, String> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let Some(obj) = v.as_object() else {
        return Err(format!("{prefix}_ID_INVALID"));
    };
    for (field, name) in [("id", "ID"), ("tag", "TAG"), ("comment", "COMMENT")] {
        if let Some(x) = obj.get(field) {
            if x.as_str().is_none_or(|s| s.is_empty() || s.chars().count() > 128) {
                return Err(format!("{prefix}_{name}_INVALID"));
            }
        }
    }
    Ok(Some(v.clone()))
}
