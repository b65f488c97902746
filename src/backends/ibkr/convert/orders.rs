//! Orders both ways: TradingView's place/modify requests as IBKR order tickets (type, side, TIF, prices,
//! bracket children, the `cOID`), and IBKR's live orders and trades as TradingView orders and executions.

use super::super::model::orders::{LiveOrder, OrderStatus, OrderTicket, Trade};
use crate::broker::BrokerError;
use crate::tv;
use crate::upstream::order_ids;
use rust_decimal::Decimal;

/// TradingView duration ids, as IBKR's TIF values.
pub const DAY: &str = "DAY";
pub const GTC: &str = "GTC";
pub const IOC: &str = "IOC";
pub const OPG: &str = "OPG";

/// The longest `cOID` the bridge sends (IBKR documents no limit; see README, Known gaps).
const MAX_COID_LEN: usize = 40;

/// The durations IBKR takes, as `/config` rows (DAY the default).
pub fn durations() -> Vec<tv::DurationConfig> {
    use tv::OrderType::*;
    let all = [Market, Limit, Stop, StopLimit];
    vec![
        tv::DurationConfig::new(DAY, "Day", false, true, &all),
        tv::DurationConfig::new(GTC, "Good till cancelled", false, false, &all),
        tv::DurationConfig::new(IOC, "Immediate or cancel", false, false, &[Market, Limit]),
        tv::DurationConfig::new(OPG, "At the opening", false, false, &[Market, Limit]),
    ]
}

/// IBKR's TIF of a TradingView duration (DAY when none is given).
pub fn tif(duration: Option<&tv::OrderDuration>) -> Result<&'static str, BrokerError> {
    match duration.map(|d| d.kind.as_str()) {
        None | Some(DAY) => Ok(DAY),
        Some(GTC) => Ok(GTC),
        Some(IOC) => Ok(IOC),
        Some(OPG) => Ok(OPG),
        Some(other) => Err(BrokerError::Rejected(format!(
            "IBKR does not offer the duration {:?}; use DAY, GTC, IOC or OPG",
            other.chars().take(16).collect::<String>()
        ))),
    }
}

/// IBKR's order type.
pub fn order_type(kind: tv::OrderType) -> &'static str {
    match kind {
        tv::OrderType::Market => "MKT",
        tv::OrderType::Limit => "LMT",
        tv::OrderType::Stop => "STP",
        tv::OrderType::StopLimit => "STOP_LIMIT",
    }
}

/// IBKR's side.
pub fn side(side: tv::Side) -> &'static str {
    match side {
        tv::Side::Buy => "BUY",
        tv::Side::Sell => "SELL",
    }
}

/// The `cOID` of an order bridge user `owner` placed with `request_id`: the same id for the same user's
/// request, so a resent request is recognised upstream (IBKR refuses a repeated `cOID`) and an order whose
/// answer was lost can be found; different users' requests never share one (bridge users share a gateway
/// login). Without a request id, a fresh one. See [`order_ids`].
pub fn coid(owner: &str, request_id: Option<&str>) -> String {
    order_ids::derived(owner, request_id, MAX_COID_LEN)
}

/// A `cOID` for an order no request id names (a close, a preview).
pub fn fresh_coid() -> String {
    order_ids::fresh()
}

/// Where an order goes and how it is identified.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub account: &'a str,
    pub conid: i64,
    pub coid: &'a str,
    pub outside_rth: bool,
}

/// The order ticket of a TradingView order. Prices the type needs must be there (the HTTP layer checks,
/// and this refuses rather than send a ticket IBKR would read differently).
pub fn ticket(t: &Target<'_>, order: &tv::PlaceOrder) -> Result<OrderTicket, BrokerError> {
    if order.qty <= Decimal::ZERO {
        return Err(BrokerError::Rejected("The quantity must be positive".into()));
    }
    let need = |p: Option<Decimal>, what: &str| {
        p.filter(|p| *p > Decimal::ZERO)
            .ok_or_else(|| BrokerError::Rejected(format!("A {} order needs a positive {what}", order.kind)))
    };
    let (price, aux_price) = match order.kind {
        tv::OrderType::Market => (None, None),
        tv::OrderType::Limit => (Some(need(order.limit_price, "limit price")?), None),
        tv::OrderType::Stop => (Some(need(order.stop_price, "stop price")?), None),
        tv::OrderType::StopLimit => (
            Some(need(order.limit_price, "limit price")?),
            Some(need(order.stop_price, "stop price")?),
        ),
    };
    Ok(OrderTicket {
        acct_id: t.account.to_string(),
        conid: t.conid,
        c_oid: Some(t.coid.to_string()),
        parent_id: None,
        order_type: order_type(order.kind),
        side: side(order.side),
        tif: tif(order.duration.as_ref())?,
        quantity: order.qty,
        price,
        aux_price,
        is_single_group: None,
        outside_rth: t.outside_rth,
    })
}

/// One of the two protective orders of a bracket: which order type it is and how its `cOID` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leg {
    TakeProfit,
    StopLoss,
}

impl Leg {
    /// Both legs, take profit first (the order in which tickets are sent).
    pub const BOTH: [Leg; 2] = [Leg::TakeProfit, Leg::StopLoss];

    /// The tag in the leg's `cOID`.
    fn tag(self) -> &'static str {
        match self {
            Leg::TakeProfit => "tp",
            Leg::StopLoss => "sl",
        }
    }

    /// IBKR's order type of the leg: a take profit rests as a limit, a stop loss as a stop.
    pub fn order_type(self) -> &'static str {
        match self {
            Leg::TakeProfit => "LMT",
            Leg::StopLoss => "STP",
        }
    }

    /// The leg a resting order of this TradingView type can be (a stop is a stop loss, a limit a take
    /// profit); `None` for the types the bridge never sends as a leg.
    pub fn of_kind(kind: tv::OrderType) -> Option<Leg> {
        match kind {
            tv::OrderType::Limit => Some(Leg::TakeProfit),
            tv::OrderType::Stop => Some(Leg::StopLoss),
            _ => None,
        }
    }

    /// The level TradingView asked for this leg (`None`: no such leg).
    pub fn wanted(self, brackets: &tv::Brackets) -> Option<Decimal> {
        match self {
            Leg::TakeProfit => brackets.take_profit,
            Leg::StopLoss => brackets.stop_loss,
        }
    }

    /// Reads a tag and its generation (`sl`, `sl2`, `tp3`...), as [`Leg::tag`] and [`child_coid`] write
    /// them.
    fn read(text: &str) -> Option<(Leg, u32)> {
        let leg = Leg::BOTH.into_iter().find(|l| text.starts_with(l.tag()))?;
        let rest = &text[2..];
        if rest.is_empty() {
            return Some((leg, 0));
        }
        let n: u32 = rest.parse().ok().filter(|n| *n >= 2)?;
        Some((leg, n - 1))
    }
}

/// Refuses the bracket kinds the bridge does not offer on IBKR.
pub fn only_stop_loss_and_take_profit(brackets: &tv::Brackets) -> Result<(), BrokerError> {
    if brackets.trailing_stop_pips.is_some() || brackets.guaranteed_stop.is_some() {
        return Err(BrokerError::Rejected(
            "IBKR brackets through the bridge are a stop loss and a take profit; trailing and guaranteed stops are not offered".into(),
        ));
    }
    Ok(())
}

/// The `cOID` of the `generation`th `leg` child of the order placed with `parent_coid`: `<parent>-sl`
/// for the first (as the order was placed), `<parent>-sl2`, `-sl3`... for legs added by later
/// modifications (IBKR refuses a `cOID` used before, also by a cancelled order).
pub fn child_coid(parent_coid: &str, leg: Leg, generation: u32) -> String {
    match generation {
        0 => format!("{parent_coid}-{}", leg.tag()),
        n => format!("{parent_coid}-{}{}", leg.tag(), n + 1),
    }
}

/// The leg and generation of a child whose `cOID` is `order_ref`, when [`child_coid`] made it for
/// `parent_coid`.
pub fn child_leg(order_ref: &str, parent_coid: &str) -> Option<(Leg, u32)> {
    let rest = order_ref.strip_prefix(parent_coid)?.strip_prefix('-')?;
    Leg::read(rest)
}

/// The ticket of a bracket leg protecting an order or a position on side `protects`: opposite side,
/// good till cancelled, at `price` (a stop loss's trigger, a take profit's limit), placed as `t.coid`.
pub fn leg_ticket(t: &Target<'_>, protects: tv::Side, qty: Decimal, leg: Leg, price: Decimal) -> OrderTicket {
    OrderTicket {
        acct_id: t.account.to_string(),
        conid: t.conid,
        c_oid: Some(t.coid.to_string()),
        parent_id: None,
        order_type: leg.order_type(),
        side: side(protects.opposite()),
        tif: GTC,
        quantity: qty,
        price: Some(price),
        aux_price: None,
        is_single_group: None,
        outside_rth: t.outside_rth,
    }
}

/// The bracket children of `parent` (take profit, then stop loss), each on the opposite side, good till
/// cancelled, tied to the parent by its `cOID` (IBKR cancels the other child when one fills).
pub fn bracket_children(
    parent: &OrderTicket,
    brackets: &tv::Brackets,
) -> Result<Vec<OrderTicket>, BrokerError> {
    only_stop_loss_and_take_profit(brackets)?;
    let protects = side_of(parent.side).unwrap_or(tv::Side::Buy);
    Ok(Leg::BOTH
        .into_iter()
        .filter_map(|leg| leg.wanted(brackets).map(|price| (leg, price)))
        .map(|(leg, price)| child_ticket(parent, protects, leg, price, 0))
        .collect())
}

/// The `generation`th `leg` child of `parent` (a ticket whose `cOID` is the parent's), at `price`.
pub fn child_ticket(
    parent: &OrderTicket,
    protects: tv::Side,
    leg: Leg,
    price: Decimal,
    generation: u32,
) -> OrderTicket {
    let parent_coid = parent.c_oid.clone().unwrap_or_default();
    let coid = child_coid(&parent_coid, leg, generation);
    let target = Target {
        account: &parent.acct_id,
        conid: parent.conid,
        coid: &coid,
        outside_rth: parent.outside_rth,
    };
    OrderTicket {
        parent_id: Some(parent_coid.clone()),
        ..leg_ticket(&target, protects, parent.quantity, leg, price)
    }
}

/// What every `cOID` of the brackets of the position of `account` in `conid` starts with: the bridge finds
/// them again by it. A digest of both, so that no other account's or contract's leg shares it (IBKR's
/// `cOID`s are unique per login, and one login may hold several accounts).
pub fn position_leg_prefix(account: &str, conid: i64) -> String {
    let mut whole = account.as_bytes().to_vec();
    whole.push(0);
    whole.extend_from_slice(conid.to_string().as_bytes());
    format!("{POSITION_LEG}{:08x}-", order_ids::fnv1a(&whole) as u32)
}

/// How every position leg's `cOID` begins.
const POSITION_LEG: &str = "tvbp-";

/// What a position leg is placed for: the level and the position it protects. The same request (a
/// resend) gives the same `cOID`, so IBKR refuses the second one rather than doubling the leg.
#[derive(Debug, Clone, Copy)]
pub struct LegSeed {
    pub price: Decimal,
    pub qty: Decimal,
    pub avg_price: Decimal,
}

/// The `cOID` of a position leg: [`position_leg_prefix`], the leg's tag, a digest of its seed and
/// `generation` (one more than the highest the account's orders show for this leg, so that placing the
/// same level again after a cancellation is not refused as a repeated `cOID`).
pub fn position_leg_coid(account: &str, conid: i64, leg: Leg, seed: LegSeed, generation: u32) -> String {
    let seed = format!(
        "{}/{}/{}",
        seed.price.normalize(),
        seed.qty.normalize(),
        seed.avg_price.normalize()
    );
    format!(
        "{}{}-{:08x}-{generation}",
        position_leg_prefix(account, conid),
        leg.tag(),
        order_ids::fnv1a(seed.as_bytes()) as u32
    )
}

/// The leg and generation of a position leg of `account` in `conid` whose `cOID` is `order_ref`.
pub fn position_leg(order_ref: &str, account: &str, conid: i64) -> Option<(Leg, u32)> {
    let rest = order_ref.strip_prefix(&position_leg_prefix(account, conid))?;
    let (leg, rest) = rest.split_once('-')?;
    let (leg, _) = Leg::read(leg).filter(|(_, g)| *g == 0)?;
    let (_, generation) = rest.split_once('-')?;
    Some((leg, generation.parse().ok()?))
}

/// Whether `order_ref` is the `cOID` of some position leg (of whichever account and contract): such an
/// order is shown as its position's bracket.
pub fn is_position_leg(order_ref: &str) -> bool {
    order_ref.starts_with(POSITION_LEG)
}

/// The TradingView status of an IBKR status; `None` for one IBKR did not document.
pub fn status(s: OrderStatus) -> Option<tv::OrderStatus> {
    Some(match s {
        OrderStatus::PendingSubmit => tv::OrderStatus::Placing,
        // Accepted but not active (outside its hours, or held by IBKR's checks): not yet working.
        OrderStatus::Inactive => tv::OrderStatus::Inactive,
        // A cancel requested but not yet confirmed: the order can still fill.
        OrderStatus::PreSubmitted
        | OrderStatus::Submitted
        | OrderStatus::WarnState
        | OrderStatus::PendingCancel => tv::OrderStatus::Working,
        OrderStatus::Filled => tv::OrderStatus::Filled,
        OrderStatus::Cancelled => tv::OrderStatus::Cancelled,
        OrderStatus::Unknown => return None,
    })
}

/// The status to show after `previous` (what the bridge last showed): an order that reached a final status
/// never goes back to a transitional one, whatever a later (stale) answer says; an undocumented status
/// keeps the previous one, or shows the order as inactive.
pub fn settle(previous: Option<tv::OrderStatus>, now: Option<tv::OrderStatus>) -> tv::OrderStatus {
    match (previous, now) {
        (Some(p), Some(n)) if p.is_final() && !n.is_final() => p,
        (_, Some(n)) => n,
        (Some(p), None) => p,
        (None, None) => tv::OrderStatus::Inactive,
    }
}

/// The TradingView type of an IBKR order type as live orders spell it (`Limit`, `LMT`, `Stop Limit`...).
pub fn kind_of(text: &str) -> Option<tv::OrderType> {
    let t: String = text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_uppercase();
    Some(match t.as_str() {
        "MKT" | "MARKET" => tv::OrderType::Market,
        "LMT" | "LIMIT" => tv::OrderType::Limit,
        "STP" | "STOP" => tv::OrderType::Stop,
        "STPLMT" | "STOPLIMIT" => tv::OrderType::StopLimit,
        _ => return None,
    })
}

/// The TradingView side of `BUY`/`SELL` (or `B`/`S`).
pub fn side_of(text: &str) -> Option<tv::Side> {
    match text.trim().to_ascii_uppercase().as_str() {
        "BUY" | "B" => Some(tv::Side::Buy),
        "SELL" | "S" => Some(tv::Side::Sell),
        _ => None,
    }
}

/// A live order as TradingView's order of `symbol`, its status settled against `previous`.
pub fn order(o: &LiveOrder, symbol: &str, previous: Option<tv::OrderStatus>) -> Result<tv::Order, String> {
    let id = o.order_id.0.to_string();
    let kind = o
        .order_type
        .as_deref()
        .and_then(kind_of)
        .or_else(|| o.orig_order_type.as_deref().and_then(kind_of))
        .ok_or_else(|| format!("order {id}: unknown order type {:?}", o.order_type))?;
    let side = side_of(&o.side).ok_or_else(|| format!("order {id}: unknown side {:?}", o.side))?;
    let filled = o.filled_quantity.map(|n| n.0);
    let qty = match (o.total_size, filled, o.remaining_quantity) {
        (Some(t), _, _) => t.0,
        (None, Some(f), Some(r)) => f + r.0,
        _ => return Err(format!("order {id}: no quantity")),
    };
    let status = settle(previous, status(o.status));
    let t = match o.last_execution_time_r {
        Some(ms) => Some(secs_of_ms(ms.0).ok_or_else(|| format!("order {id}: bad time"))?),
        None => None,
    };
    let mut out = tv::Order::new(
        id,
        symbol.to_string(),
        qty,
        side,
        kind,
        status,
        t.unwrap_or_default(),
    );
    out.last_modified = t;
    out.filled_qty = filled;
    out.avg_price = o.avg_price.map(|n| n.0).filter(|p| !p.is_zero());
    let price = o.price.map(|n| n.0);
    match kind {
        tv::OrderType::Market => {}
        tv::OrderType::Limit => out.limit_price = price,
        tv::OrderType::Stop => out.stop_price = o.aux_price.map(|n| n.0).or(price),
        tv::OrderType::StopLimit => {
            out.limit_price = price;
            out.stop_price = o.aux_price.map(|n| n.0);
        }
    }
    out.duration = o
        .time_in_force
        .as_deref()
        .and_then(|t| {
            tif(Some(&tv::OrderDuration {
                kind: t.to_ascii_uppercase(),
                datetime: None,
            }))
            .ok()
        })
        .map(|k| tv::OrderDuration {
            kind: k.to_string(),
            datetime: None,
        });
    if let Some(parent) = o.parent_id.filter(|p| !p.0.is_zero()) {
        out.parent_id = Some(parent.0.to_string());
        out.parent_type = Some(tv::ParentType::Order);
    }
    Ok(out)
}

/// Shows a leg protecting a position as that position's bracket (parent: the position, whose id is the
/// symbol): a position leg (by its `cOID`), or a child of an order that filled (`filled` holds the ids of
/// the filled orders), whose protection passed to the position the fill opened.
pub fn attach_to_position(order: &mut tv::Order, o: &LiveOrder, filled: &std::collections::HashSet<String>) {
    let by_coid = o.order_ref.as_deref().is_some_and(is_position_leg);
    let parent_filled = order.parent_id.as_ref().is_some_and(|p| filled.contains(p));
    if by_coid || parent_filled {
        order.parent_id = Some(order.instrument.clone());
        order.parent_type = Some(tv::ParentType::Position);
    }
}

/// Unix seconds of unix milliseconds (`None` when out of range).
pub fn secs_of_ms(ms: Decimal) -> Option<i64> {
    rust_decimal::prelude::ToPrimitive::to_i64(&(ms / Decimal::from(1000)).floor())
}

/// A trade as TradingView's execution of `symbol`.
pub fn execution(t: &Trade, symbol: &str) -> Result<tv::Execution, String> {
    let side =
        side_of(&t.side).ok_or_else(|| format!("trade {}: unknown side {:?}", t.execution_id, t.side))?;
    let time_ms = t
        .trade_time_r
        .ok_or_else(|| format!("trade {}: no time", t.execution_id))?
        .0;
    let order_id = t
        .order_id
        .map(|n| n.0.to_string())
        .or_else(|| t.order_ref.clone())
        .ok_or_else(|| format!("trade {}: no order id", t.execution_id))?;
    Ok(tv::Execution {
        id: t.execution_id.clone(),
        instrument: symbol.to_string(),
        price: t.price.0,
        time: secs_of_ms(time_ms).ok_or_else(|| format!("trade {}: bad time", t.execution_id))?,
        qty: t.size.0.abs(),
        side,
        order_id,
        is_close: false,
        position_id: None,
        commission: t.commission.map(|n| n.0),
    })
}
