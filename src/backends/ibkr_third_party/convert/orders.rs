//! Orders both ways: TradingView's place/modify requests as the API's order body, and the API's orders as
//! TradingView's, statuses through the one FIX table ([`super::fix`]).

use super::fix::{self, Shown};
use crate::backends::ibkr_third_party::model::orders::{Order, OrderRequest};
use crate::backends::ibkr_third_party::model::Coid;
use crate::broker::{BrokerError, BrokerResult};
use crate::tv;
use rust_decimal::Decimal;

/// The durations TradingView's ticket offers.
pub fn durations() -> Vec<tv::DurationConfig> {
    use tv::OrderType::*;
    let all = [Market, Limit, Stop, StopLimit];
    fix::TIFS
        .iter()
        .map(|(_, id, title)| {
            // At the opening and at the close only make sense for orders that execute in that auction.
            let types: &[tv::OrderType] = if *id == fix::OPG || *id == fix::CLS || *id == fix::IOC {
                &[Market, Limit]
            } else {
                &all
            };
            tv::DurationConfig::new(id, title, false, *id == fix::DAY, types)
        })
        .collect()
}

/// The TIF code of a TradingView duration (Day when none is given).
pub fn tif(duration: Option<&tv::OrderDuration>) -> BrokerResult<&'static str> {
    let id = duration.map_or(fix::DAY, |d| d.kind.as_str());
    fix::tif_code(id).ok_or_else(|| {
        BrokerError::Rejected(format!(
            "IBKR does not offer the duration {:?}; use DAY, GTC, OPG, IOC or CLS",
            id.chars().take(16).collect::<String>()
        ))
    })
}

fn positive(what: &str, v: Option<Decimal>) -> BrokerResult<Option<Decimal>> {
    match v {
        Some(p) if p <= Decimal::ZERO => Err(BrokerError::Rejected(format!("The {what} must be positive"))),
        other => Ok(other),
    }
}

/// The order body of `order` on `conid` under `coid`.
pub fn request(
    order: &tv::PlaceOrder,
    conid: i64,
    coid: Option<Coid>,
    outside_rth: bool,
) -> BrokerResult<OrderRequest> {
    if !order.brackets.is_empty() {
        return Err(BrokerError::Rejected(
            "IBKR's third-party API takes no stop loss or take profit with an order; place them as separate orders"
                .into(),
        ));
    }
    body(
        conid,
        coid,
        order.side,
        order.kind,
        order.qty,
        (order.limit_price, order.stop_price),
        tif(order.duration.as_ref())?,
        outside_rth,
    )
}

#[allow(clippy::too_many_arguments)]
fn body(
    conid: i64,
    coid: Option<Coid>,
    side: tv::Side,
    kind: tv::OrderType,
    qty: Decimal,
    (limit, stop): (Option<Decimal>, Option<Decimal>),
    tif: &'static str,
    outside_rth: bool,
) -> BrokerResult<OrderRequest> {
    if qty <= Decimal::ZERO {
        return Err(BrokerError::Rejected("The quantity must be positive".into()));
    }
    let price = if kind.has_limit_price() {
        Some(
            positive("limit price", limit)?
                .ok_or_else(|| BrokerError::Rejected(format!("A {kind} order needs a limit price")))?,
        )
    } else {
        None
    };
    let stop_price = if kind.has_stop_price() {
        Some(
            positive("stop price", stop)?
                .ok_or_else(|| BrokerError::Rejected(format!("A {kind} order needs a stop price")))?,
        )
    } else {
        None
    };
    Ok(OrderRequest {
        customer_order_id: coid,
        contract_id: conid,
        side: fix::side_code(side),
        order_type: fix::order_type_code(kind),
        order_qty: qty,
        price,
        stop_price,
        time_in_force: tif,
        outside_rth: if outside_rth { "Y" } else { "N" },
    })
}

/// The body that replaces `current` (as IBKR lists it) with `change` under the replacement's `new_id`:
/// what the change leaves out keeps the order's current value.
pub fn replacement(
    current: &Order,
    conid: i64,
    change: &tv::ModifyOrder,
    new_id: Coid,
    outside_rth: bool,
) -> BrokerResult<OrderRequest> {
    if !change.brackets.is_empty() {
        return Err(BrokerError::Rejected(
            "IBKR's third-party API has no stop loss or take profit on orders".into(),
        ));
    }
    let kind =
        fix::order_type(&current.order_type).ok_or_else(|| unknown("order type", &current.order_type))?;
    let side = fix::side(&current.side).ok_or_else(|| unknown("side", &current.side))?;
    let qty = match change.qty {
        Some(q) => q,
        None => total_qty(current)
            .ok_or_else(|| BrokerError::Internal("IBKR listed the order without its quantity".into()))?,
    };
    let tif = match &change.duration {
        Some(d) => tif(Some(d))?,
        None => match current.time_in_force.as_deref() {
            Some(code) => fix::duration(code)
                .and_then(fix::tif_code)
                .ok_or_else(|| unknown("time in force", code))?,
            None => fix::tif_code(fix::DAY).unwrap_or("0"),
        },
    };
    let num = |n: &Option<crate::backends::ibkr::model::Num>| n.map(|n| n.0);
    let limit = change.limit_price.or(num(&current.price));
    let stop = change.stop_price.or(num(&current.stop_price));
    let outside = match current.outside_rth.as_deref() {
        Some("Y") => true,
        Some("N") => false,
        _ => outside_rth,
    };
    body(conid, Some(new_id), side, kind, qty, (limit, stop), tif, outside)
}

fn unknown(what: &str, code: &str) -> BrokerError {
    BrokerError::Internal(format!(
        "IBKR sent the {what} code {:?}, which the bridge does not know",
        fix::quoted(code)
    ))
}

/// Filled plus remaining: the order's whole quantity.
pub fn total_qty(o: &Order) -> Option<Decimal> {
    let filled = o.filled_quantity.map(|n| n.0).unwrap_or_default();
    o.remaining_quantity.map(|r| r.0 + filled)
}

/// `o` as TradingView shows it under `id` (its TradingView order id) and `symbol`; `Ok(None)` for an
/// order replaced by a modification (its replacement stands for it). An order whose side or type is not
/// in the table cannot be shown truthfully: an error naming the code.
pub fn order(o: &Order, id: String, symbol: String) -> Result<Option<tv::Order>, String> {
    let (status, note) = match fix::order_status(&o.status) {
        Some((_, Shown::Superseded)) => return Ok(None),
        Some((_, Shown::As(status, note))) => (status, note.map(str::to_string)),
        None => {
            tracing::warn!(order_id = %id, status = %fix::quoted(&o.status), "IBKR order status unknown to the bridge; shown as working");
            (
                fix::UNKNOWN_STATUS,
                Some(format!(
                    "unknown status {:?} from IBKR: check the order at IBKR",
                    fix::quoted(&o.status)
                )),
            )
        }
    };
    let side = fix::side(&o.side)
        .ok_or_else(|| format!("order {id}: unknown side code {:?}", fix::quoted(&o.side)))?;
    let kind = fix::order_type(&o.order_type).ok_or_else(|| {
        format!(
            "order {id}: unknown order type code {:?}",
            fix::quoted(&o.order_type)
        )
    })?;
    let qty = total_qty(o).ok_or_else(|| format!("order {id}: no quantity"))?;
    let t = o.transaction_time.as_deref().and_then(super::fix_time);
    let mut out = tv::Order::new(id, symbol, qty, side, kind, status, t.unwrap_or_default());
    out.last_modified = t;
    let filled = o.filled_quantity.map(|n| n.0).filter(|f| *f > Decimal::ZERO);
    out.filled_qty = filled;
    out.avg_price = o
        .avg_price
        .map(|n| n.0)
        .filter(|p| *p > Decimal::ZERO && filled.is_some());
    if kind.has_limit_price() {
        out.limit_price = o.price.map(|n| n.0);
    }
    if kind.has_stop_price() {
        // Stop orders may carry their trigger in `Price` when no `StopPrice` is sent (ASSUMED field).
        out.stop_price = o
            .stop_price
            .or(if kind == tv::OrderType::Stop {
                o.price
            } else {
                None
            })
            .map(|n| n.0);
    }
    out.duration = o
        .time_in_force
        .as_deref()
        .and_then(fix::duration)
        .map(|d| tv::OrderDuration {
            kind: d.to_string(),
            datetime: None,
        });
    let warning = o.warning.as_deref().map(str::trim).filter(|w| !w.is_empty());
    let text = match (note, warning) {
        (Some(n), Some(w)) => Some(format!("{n}; {w}")),
        (Some(n), None) => Some(n),
        (None, Some(w)) => Some(w.to_string()),
        (None, None) => None,
    };
    out.message = text.map(|text| tv::InfoMessage {
        kind: if status == tv::OrderStatus::Rejected {
            tv::MessageType::Error
        } else {
            tv::MessageType::Warning
        },
        text: text.chars().take(240).collect(),
    });
    Ok(Some(out))
}

/// The filled order a fill belongs to, for the orders history: `None` while the order still works (it is
/// in the orders list) or when its side or type is not in the table.
pub fn from_fill(
    t: &crate::backends::ibkr_third_party::model::trades::Trade,
    id: String,
    symbol: String,
) -> Option<tv::Order> {
    if t.remaining_quantity.is_some_and(|r| r.0 > Decimal::ZERO) {
        return None;
    }
    let side = fix::side(&t.side)?;
    let kind = fix::order_type(t.order_type.as_deref()?)?;
    let filled = t.filled_quantity.map(|n| n.0).unwrap_or(t.trade_size.0);
    let qty = t.quantity.map(|n| n.0).unwrap_or(filled);
    let time = super::fix_time(&t.execution_time);
    let mut o = tv::Order::new(
        id,
        symbol,
        qty,
        side,
        kind,
        tv::OrderStatus::Filled,
        time.unwrap_or_default(),
    );
    o.last_modified = time;
    o.filled_qty = Some(filled);
    o.avg_price = Some(t.avg_price.map_or(t.trade_price.0, |n| n.0));
    Some(o)
}
