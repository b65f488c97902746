//! Turns order and position forms into validated requests, checked against the account's capabilities,
//! its instruments and the account's durations, so every backend receives only well-formed orders.

use crate::broker::Capabilities;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Fields;
use crate::tv::{self, Brackets, DurationConfig, Instrument, OrderDuration, OrderType, PlaceOrder, Side};
use rust_decimal::Decimal;

/// Parses a place-order (or preview / order info) form.
pub fn place_order(f: &Fields) -> ApiResult<PlaceOrder> {
    let instrument = f.str_req("instrument")?.to_owned();
    let side = f.choice_req("side", "buy, sell", Side::parse)?;
    let kind = f.choice_req("type", "market, limit, stop, stoplimit", OrderType::parse)?;
    let qty = positive(f.decimal_req("qty")?, "qty")?;
    let (limit_price, stop_price) = (f.price_opt("limitPrice")?, f.price_opt("stopPrice")?);
    check_prices(kind, limit_price, stop_price)?;
    Ok(PlaceOrder {
        instrument,
        qty,
        side,
        kind,
        limit_price,
        stop_price,
        duration: duration(f)?,
        brackets: brackets(f)?,
        current_ask: f.price_opt("currentAsk")?,
        current_bid: f.price_opt("currentBid")?,
    })
}

/// Parses a modify-order form; prices are checked against the order's type by [`check_modify`].
pub fn modify_order(f: &Fields) -> ApiResult<tv::ModifyOrder> {
    let qty = f.decimal_opt("qty")?.map(|q| positive(q, "qty")).transpose()?;
    Ok(tv::ModifyOrder {
        qty,
        limit_price: f.price_opt("limitPrice")?,
        stop_price: f.price_opt("stopPrice")?,
        duration: duration(f)?,
        brackets: brackets(f)?,
    })
}

/// Parses a modify-position form (brackets, and `side` to reverse).
pub fn modify_position(f: &Fields) -> ApiResult<tv::ModifyPosition> {
    let side = match f.str_opt("side") {
        None => None,
        Some(_) => Some(f.choice_req("side", "buy, sell", Side::parse)?),
    };
    Ok(tv::ModifyPosition {
        brackets: brackets(f)?,
        side,
    })
}

/// The optional `amount` of a close request; must be positive when given.
pub fn close_amount(f: &Fields) -> ApiResult<Option<Decimal>> {
    f.decimal_opt("amount")?
        .map(|a| positive(a, "amount"))
        .transpose()
}

fn positive(value: Decimal, name: &str) -> ApiResult<Decimal> {
    if value <= Decimal::ZERO {
        Err(ApiError::bad(format!(
            "'{name}' must be greater than zero, got {value}"
        )))
    } else {
        Ok(value)
    }
}

fn check_prices(kind: OrderType, limit: Option<Decimal>, stop: Option<Decimal>) -> ApiResult<()> {
    match (kind.has_limit_price(), limit) {
        (true, None) => {
            return Err(ApiError::bad(format!(
                "'limitPrice' is required for a {kind} order"
            )))
        }
        (false, Some(p)) => {
            return Err(ApiError::bad(format!(
                "a {kind} order takes no 'limitPrice' (got {p})"
            )))
        }
        _ => {}
    }
    match (kind.has_stop_price(), stop) {
        (true, None) => Err(ApiError::bad(format!(
            "'stopPrice' is required for a {kind} order"
        ))),
        (false, Some(p)) => Err(ApiError::bad(format!(
            "a {kind} order takes no 'stopPrice' (got {p})"
        ))),
        _ => Ok(()),
    }
}

/// The latest expiry accepted: 9999-12-31T23:59:59Z. A larger number is not a unix time in seconds (a
/// time in milliseconds, most likely), and would overflow date arithmetic downstream.
const MAX_UNIX_SECONDS: i64 = 253_402_300_799;

fn duration(f: &Fields) -> ApiResult<Option<OrderDuration>> {
    let datetime = f.int_opt("durationDateTime")?.filter(|t| *t != 0);
    if let Some(t) = datetime.filter(|t| !(1..=MAX_UNIX_SECONDS).contains(t)) {
        return Err(ApiError::bad(format!(
            "'durationDateTime' must be a unix time in seconds before the year 10000, got {t}"
        )));
    }
    match f.str_opt("durationType") {
        None if datetime.is_some() => Err(ApiError::bad(
            "'durationDateTime' was given without 'durationType'",
        )),
        None => Ok(None),
        Some(kind) => Ok(Some(OrderDuration {
            kind: kind.to_owned(),
            datetime,
        })),
    }
}

/// The widest trailing stop accepted, in pips. Wider is no stop at all (100,000 pips of EURUSD are 10.0,
/// far more than the whole price), so it is a mistake in the ticket, not an intent.
pub const MAX_TRAILING_PIPS: i64 = 100_000;

fn brackets(f: &Fields) -> ApiResult<Brackets> {
    let trailing = f.decimal_opt("trailingStopPips")?.filter(|p| !p.is_zero());
    if let Some(p) = trailing {
        positive(p, "trailingStopPips")?;
        // Less than a pip trails inside the spread: the position would be stopped out at once.
        if p < Decimal::ONE || p > Decimal::from(MAX_TRAILING_PIPS) {
            return Err(ApiError::bad(format!(
                "'trailingStopPips' must be from 1 to {MAX_TRAILING_PIPS} pips, got {p}"
            )));
        }
    }
    let b = Brackets {
        stop_loss: f.price_opt("stopLoss")?,
        take_profit: f.price_opt("takeProfit")?,
        trailing_stop_pips: trailing,
        guaranteed_stop: f.price_opt("guaranteedStop")?,
    };
    if b.guaranteed_stop.is_some() && (b.stop_loss.is_some() || b.trailing_stop_pips.is_some()) {
        return Err(ApiError::bad(
            "a guaranteed stop replaces the stop loss: send 'guaranteedStop' alone",
        ));
    }
    Ok(b)
}

/// Checks brackets against what the account supports.
pub fn check_brackets(b: &Brackets, caps: &Capabilities, on_position: bool) -> ApiResult<()> {
    if b.is_empty() {
        return Ok(());
    }
    let allowed = if on_position {
        caps.position_brackets
    } else {
        caps.order_brackets
    };
    if !allowed {
        let on = if on_position { "positions" } else { "orders" };
        return Err(ApiError::bad(format!(
            "this account does not support stop loss / take profit on {on}"
        )));
    }
    if b.trailing_stop_pips.is_some() && !caps.trailing_stop {
        return Err(ApiError::bad("this account does not support trailing stops"));
    }
    if b.guaranteed_stop.is_some() && !caps.guaranteed_stop {
        return Err(ApiError::bad("this account does not support guaranteed stops"));
    }
    Ok(())
}

/// Checks a new order against the account's capabilities, the instrument and the account's durations.
pub fn check_place(
    order: &PlaceOrder,
    caps: &Capabilities,
    instruments: &[Instrument],
    durations: &[DurationConfig],
) -> ApiResult<()> {
    if !caps.supports_order_type(order.kind) {
        return Err(ApiError::bad(format!(
            "{} orders are not supported on this account",
            order.kind
        )));
    }
    check_brackets(&order.brackets, caps, false)?;
    if order.kind == OrderType::Market && !order.brackets.is_empty() && !caps.market_brackets {
        return Err(ApiError::bad(
            "this account does not support brackets on market orders",
        ));
    }
    let instrument = find_instrument(instruments, &order.instrument)?;
    check_qty(order.qty, instrument)?;
    check_price_values(
        instrument,
        &[
            ("limitPrice", order.limit_price),
            ("stopPrice", order.stop_price),
            ("currentAsk", order.current_ask),
            ("currentBid", order.current_bid),
        ],
    )?;
    check_bracket_prices(&order.brackets, instrument)?;
    check_duration(order.duration.as_ref(), order.kind, durations)
}

/// Checks a modification against the account's capabilities, the instrument and the durations.
pub fn check_modify(
    change: &tv::ModifyOrder,
    current: &tv::Order,
    caps: &Capabilities,
    instruments: &[Instrument],
    durations: &[DurationConfig],
) -> ApiResult<()> {
    if current.status.is_final() {
        return Err(ApiError::bad(format!(
            "order {} is already {} and cannot be changed",
            current.id, current.status
        )));
    }
    if let Some(p) = change.limit_price {
        if !current.kind.has_limit_price() {
            return Err(ApiError::bad(format!(
                "a {} order takes no 'limitPrice' (got {p})",
                current.kind
            )));
        }
    }
    if let Some(p) = change.stop_price {
        if !current.kind.has_stop_price() {
            return Err(ApiError::bad(format!(
                "a {} order takes no 'stopPrice' (got {p})",
                current.kind
            )));
        }
    }
    let price_changed = change.limit_price.is_some_and(|p| Some(p) != current.limit_price)
        || change.stop_price.is_some_and(|p| Some(p) != current.stop_price);
    if price_changed && !caps.modify_order_price {
        return Err(ApiError::bad(
            "this account does not support changing an order's price",
        ));
    }
    if change.qty.is_some_and(|q| q != current.qty) && !caps.modify_order_qty {
        return Err(ApiError::bad(
            "this account does not support changing an order's quantity",
        ));
    }
    if change.duration.is_some() && change.duration != current.duration && !caps.modify_order_duration {
        return Err(ApiError::bad(
            "this account does not support changing an order's duration",
        ));
    }
    if current.parent_id.is_none() {
        check_brackets(&change.brackets, caps, false)?;
    }
    let instrument = find_instrument(instruments, &current.instrument)?;
    if let Some(q) = change.qty {
        check_qty(q, instrument)?;
    }
    check_price_values(
        instrument,
        &[
            ("limitPrice", change.limit_price),
            ("stopPrice", change.stop_price),
        ],
    )?;
    check_bracket_prices(&change.brackets, instrument)?;
    check_duration(change.duration.as_ref(), current.kind, durations)
}

/// Bracket prices that cannot be prices of `instrument` (see [`check_price_values`]).
pub fn check_bracket_prices(b: &Brackets, instrument: &Instrument) -> ApiResult<()> {
    check_price_values(
        instrument,
        &[
            ("stopLoss", b.stop_loss),
            ("takeProfit", b.take_profit),
            ("guaranteedStop", b.guaranteed_stop),
        ],
    )
}

/// Decimals beyond the tick size a price may carry before it means nothing for the instrument.
const MAX_DECIMALS_BEYOND_TICK: u32 = 10;

/// Significant digits a double-precision number can print. TradingView computes in JavaScript doubles,
/// so a price it derived (`ask + 20 pips`) may carry float noise such as `1.0869999999999999`; such a
/// number is a price the backend rounds to its tick, not a mistake.
const DOUBLE_DIGITS: u32 = 17;

/// Refuses a price that cannot be a price of `instrument`: below one tick (a positive number the market
/// cannot quote, such as `1e-28`), or with far more decimals than the tick has and more digits than any
/// client's double could print. Backends round an off-grid price or refuse it themselves.
pub fn check_price_values(instrument: &Instrument, prices: &[(&str, Option<Decimal>)]) -> ApiResult<()> {
    let tick = instrument.min_tick.normalize();
    for (name, price) in prices {
        let Some(p) = price.map(|p| p.normalize()) else {
            continue;
        };
        if tick > Decimal::ZERO && p < tick {
            return Err(ApiError::bad(format!(
                "'{name}' {p} is below the tick size {tick} of {}",
                instrument.name
            )));
        }
        let significant = p.mantissa().unsigned_abs().checked_ilog10().map_or(1, |d| d + 1);
        if p.scale() > tick.scale() + MAX_DECIMALS_BEYOND_TICK && significant > DOUBLE_DIGITS {
            return Err(ApiError::bad(format!(
                "'{name}' {p} has more decimals than a price of {} can have (tick size {tick})",
                instrument.name
            )));
        }
    }
    Ok(())
}

/// The instrument named `name`, or an error naming it.
pub fn find_instrument<'a>(instruments: &'a [Instrument], name: &str) -> ApiResult<&'a Instrument> {
    instruments
        .iter()
        .find(|i| i.name == name)
        .ok_or_else(|| ApiError::bad(format!("Unknown instrument '{name}' for this account")))
}

/// Quantity within the instrument's bounds and on its step.
pub fn check_qty(qty: Decimal, instrument: &Instrument) -> ApiResult<()> {
    if qty < instrument.min_qty {
        return Err(ApiError::bad(format!(
            "quantity {qty} is below the minimum {} for {}",
            instrument.min_qty, instrument.name
        )));
    }
    if qty > instrument.max_qty {
        return Err(ApiError::bad(format!(
            "quantity {qty} is above the maximum {} for {}",
            instrument.max_qty, instrument.name
        )));
    }
    if !instrument.qty_step.is_zero() && !(qty % instrument.qty_step).is_zero() {
        return Err(ApiError::bad(format!(
            "quantity {qty} is not a multiple of the quantity step {} for {}",
            instrument.qty_step, instrument.name
        )));
    }
    Ok(())
}

fn check_duration(
    duration: Option<&OrderDuration>,
    kind: OrderType,
    durations: &[DurationConfig],
) -> ApiResult<()> {
    let Some(d) = duration else { return Ok(()) };
    let offered = durations.iter().find(|c| c.id == d.kind).ok_or_else(|| {
        let ids: Vec<&str> = durations.iter().map(|c| c.id.as_str()).collect();
        // The list is the order's own account's: an id another account offers in `/config` is refused here,
        // and the message lists what this account accepts.
        ApiError::bad(format!(
            "unknown durationType '{}': expected one of {}",
            d.kind,
            ids.join(", ")
        ))
    })?;
    if !offered.supported_order_types.contains(&kind) {
        return Err(ApiError::bad(format!(
            "duration '{}' does not apply to {kind} orders",
            d.kind
        )));
    }
    if offered.has_date_picker && d.datetime.is_none() {
        return Err(ApiError::bad(format!(
            "duration '{}' needs 'durationDateTime'",
            d.kind
        )));
    }
    // Whether the date lies in the future is the backend's call: it owns the clock.
    if d.datetime.is_some() && !offered.has_date_picker {
        return Err(ApiError::bad(format!(
            "duration '{}' takes no 'durationDateTime'",
            d.kind
        )));
    }
    Ok(())
}
