//! The transaction history as TradingView orders that reached a final status and as executions.
//!
//! What finishes an order in v1: `MARKET_ORDER_CREATE` is a market order filled at once (its id is the
//! transaction id, which is also the id of the trade it opened); `ORDER_FILLED` fills a pending order
//! (`orderId`); `ORDER_CANCEL` cancels one (`orderId`, `reason`), which is a rejection when the reason
//! means it could never execute (no margin, price bounds, invalid brackets...); `STOP_LOSS_FILLED`,
//! `TAKE_PROFIT_FILLED`, `TRAILING_STOP_FILLED` fill a trade's bracket (`<tradeId>.sl`, `.tp`, `.ts`);
//! `TRADE_CLOSE` closes a trade at market (a filled market order with the transaction id).
//!
//! The `side` of a transaction that closes a trade is taken as the side of the closing fill (the
//! documented example closes a buy trade with `"side":"sell"`); when the trade itself is known its
//! opposite side is used instead, which is right whichever way OANDA writes it.

use super::super::model::{TradeChange, Transaction, TxType};
use super::orders::order_duration;
use super::{set, side, unix, Leg};
use crate::tv::{self, InfoMessage, MessageType, OrderStatus, ParentType, Side};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::HashMap;

/// What is known of an order besides the transaction that finished it: from its creation transaction
/// or from the last listing of pending orders.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderInfo {
    pub instrument: String,
    pub units: Decimal,
    pub side: Side,
    pub kind: tv::OrderType,
    pub price: Option<Decimal>,
    pub expiry: Option<DateTime<Utc>>,
}

/// Orders and trades known from elsewhere, by id.
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub orders: HashMap<u64, OrderInfo>,
    /// Instrument and side of trades.
    pub trades: HashMap<u64, (String, Side)>,
}

/// Most orders and trades remembered (the oldest ids are forgotten first).
const MAX_KNOWN: usize = 5_000;

fn trim<V>(map: &mut HashMap<u64, V>) {
    if map.len() > MAX_KNOWN {
        let mut ids: Vec<u64> = map.keys().copied().collect();
        ids.sort_unstable();
        for id in ids.iter().take(map.len() - MAX_KNOWN) {
            map.remove(id);
        }
    }
}

impl Known {
    /// Learns the orders created and the trades opened by `txs`.
    pub fn learn(&mut self, txs: &[Transaction]) {
        for tx in txs {
            if let Some(info) = order_info(tx) {
                self.orders.insert(tx.id, info);
            }
            if let (Some(id), Some(instrument), Some(s)) = (
                TradeChange::real_id(&tx.trade_opened),
                tx.instrument.as_ref(),
                tx.side.and_then(side),
            ) {
                if matches!(tx.kind, TxType::MarketOrderCreate | TxType::OrderFilled) {
                    self.trades.insert(id, (instrument.clone(), s));
                }
            }
        }
        trim(&mut self.orders);
        trim(&mut self.trades);
    }

    /// Remembers a pending order as listed.
    pub fn learn_order(&mut self, id: u64, info: OrderInfo) {
        self.orders.insert(id, info);
        trim(&mut self.orders);
    }

    /// Remembers a trade as listed.
    pub fn learn_trade(&mut self, id: u64, instrument: &str, s: Side) {
        self.trades.insert(id, (instrument.to_owned(), s));
        trim(&mut self.trades);
    }
}

/// The order an `*_ORDER_CREATE` transaction created.
pub fn order_info(tx: &Transaction) -> Option<OrderInfo> {
    let kind = match tx.kind {
        TxType::MarketOrderCreate => tv::OrderType::Market,
        TxType::LimitOrderCreate | TxType::MarketIfTouchedOrderCreate => tv::OrderType::Limit,
        TxType::StopOrderCreate => tv::OrderType::Stop,
        _ => return None,
    };
    Some(OrderInfo {
        instrument: tx.instrument.clone()?,
        units: tx.units?,
        side: tx.side.and_then(side)?,
        kind,
        price: set(tx.price),
        expiry: tx.expiry,
    })
}

/// Status and message of an order cancelled for `reason`: a rejection when the order could never
/// execute, a cancellation otherwise (the user's own, an expiry, or a reason this bridge does not know).
pub fn cancel_outcome(reason: Option<&str>) -> (OrderStatus, Option<InfoMessage>) {
    let reason = reason.map(str::trim).unwrap_or_default();
    let why = match reason {
        "" | "CLIENT_REQUEST" => return (OrderStatus::Cancelled, None),
        "TIME_IN_FORCE_EXPIRED" | "EXPIRED" => {
            return (
                OrderStatus::Cancelled,
                Some(InfoMessage {
                    text: "The order expired.".into(),
                    kind: MessageType::Information,
                }),
            )
        }
        "INSUFFICIENT_MARGIN" => "there was not enough margin to fill it",
        "BOUNDS_VIOLATION" => "the market price was outside the order's price bounds",
        "UNITS_VIOLATION" => "its quantity was more than the instrument allows",
        "STOP_LOSS_VIOLATION" => "its stop loss was not valid at the fill price",
        "TAKE_PROFIT_VIOLATION" => "its take profit was not valid at the fill price",
        "TRAILING_STOP_VIOLATION" => "its trailing stop was not valid at the fill price",
        "MARKET_HALTED" => "the market was halted",
        "ACCOUNT_NON_TRADABLE" => "the account cannot trade",
        "NO_NEW_POSITION_ALLOWED" => "the account may not open new positions",
        "INSUFFICIENT_LIQUIDITY" => "there was not enough liquidity",
        other => {
            return (
                OrderStatus::Cancelled,
                Some(InfoMessage {
                    text: format!("OANDA cancelled the order ({}).", words(other)),
                    kind: MessageType::Information,
                }),
            )
        }
    };
    (
        OrderStatus::Rejected,
        Some(InfoMessage {
            text: format!("OANDA cancelled the order: {why}."),
            kind: MessageType::Error,
        }),
    )
}

/// `SOME_REASON` -> `some reason` (printable characters only, bounded).
fn words(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_control())
        .take(80)
        .map(|c| if c == '_' { ' ' } else { c.to_ascii_lowercase() })
        .collect()
}

/// The side that closes trade `trade_id`: the opposite of the trade's when known, else the transaction's.
fn closing_side(tx: &Transaction, known: &Known) -> Option<Side> {
    match tx.trade_id.and_then(|id| known.trades.get(&id)) {
        Some((_, s)) => Some(s.opposite()),
        None => tx.side.and_then(side),
    }
}

/// The instrument of a transaction, or of the trade it closes.
fn instrument_of(tx: &Transaction, known: &Known) -> Option<String> {
    tx.instrument.clone().or_else(|| {
        tx.trade_id
            .and_then(|id| known.trades.get(&id))
            .map(|(i, _)| i.clone())
    })
}

fn leg_of(kind: TxType) -> Option<Leg> {
    match kind {
        TxType::StopLossFilled => Some(Leg::StopLoss),
        TxType::TakeProfitFilled => Some(Leg::TakeProfit),
        TxType::TrailingStopFilled => Some(Leg::TrailingStop),
        _ => None,
    }
}

fn filled(mut o: tv::Order, qty: Decimal, price: Option<Decimal>) -> tv::Order {
    o.filled_qty = Some(qty);
    o.avg_price = price;
    o
}

/// The order one transaction finished, if any. `symbol_of` gives the TradingView symbol of an
/// instrument. A transaction whose order cannot be told (instrument, quantity or side unknown) yields
/// nothing rather than a made-up order.
pub fn final_order(tx: &Transaction, known: &Known, symbol_of: &dyn Fn(&str) -> String) -> Option<tv::Order> {
    let t = unix(tx.time).unwrap_or_default();
    let new = |id: String, instrument: &str, qty, s, kind, status| {
        tv::Order::new(id, symbol_of(instrument), qty, s, kind, status, t)
    };
    match tx.kind {
        TxType::MarketOrderCreate | TxType::TradeClose => {
            let s = match tx.kind {
                TxType::TradeClose => closing_side(tx, known)?,
                _ => tx.side.and_then(side)?,
            };
            let units = tx.units?;
            let o = new(
                tx.id.to_string(),
                &instrument_of(tx, known)?,
                units,
                s,
                tv::OrderType::Market,
                OrderStatus::Filled,
            );
            Some(filled(o, units, tx.price))
        }
        TxType::OrderFilled => {
            let id = tx.order_id?;
            let info = known.orders.get(&id);
            let instrument = tx
                .instrument
                .clone()
                .or_else(|| info.map(|i| i.instrument.clone()))?;
            let s = tx.side.and_then(side).or(info.map(|i| i.side))?;
            let units = info.map(|i| i.units).or(tx.units)?;
            let kind = info.map(|i| i.kind).unwrap_or(tv::OrderType::Limit);
            let mut o = new(id.to_string(), &instrument, units, s, kind, OrderStatus::Filled);
            set_price(&mut o, info);
            Some(filled(o, tx.units.unwrap_or(units), tx.price))
        }
        TxType::OrderCancel => {
            let id = tx.order_id?;
            let info = known.orders.get(&id);
            let instrument = tx
                .instrument
                .clone()
                .or_else(|| info.map(|i| i.instrument.clone()))?;
            let s = tx.side.and_then(side).or(info.map(|i| i.side))?;
            let units = tx.units.or(info.map(|i| i.units))?;
            let kind = info.map(|i| i.kind).unwrap_or(tv::OrderType::Limit);
            let (status, message) = cancel_outcome(tx.reason.as_deref());
            let mut o = new(id.to_string(), &instrument, units, s, kind, status);
            set_price(&mut o, info);
            o.message = message;
            Some(o)
        }
        TxType::StopLossFilled | TxType::TakeProfitFilled | TxType::TrailingStopFilled => {
            let leg = leg_of(tx.kind)?;
            let trade = tx.trade_id?;
            let units = tx.units?;
            let kind = match leg {
                Leg::TakeProfit => tv::OrderType::Limit,
                Leg::StopLoss | Leg::TrailingStop => tv::OrderType::Stop,
            };
            let mut o = new(
                leg.id_of(trade),
                &instrument_of(tx, known)?,
                units,
                closing_side(tx, known)?,
                kind,
                OrderStatus::Filled,
            );
            // The bracket's own price is gone with the trade; the fill price stands for it.
            match kind {
                tv::OrderType::Limit => o.limit_price = tx.price,
                _ => o.stop_price = tx.price,
            }
            if leg == Leg::TrailingStop {
                o.is_trailing_stop = Some(true);
            }
            o.parent_id = Some(trade.to_string());
            o.parent_type = Some(ParentType::Position);
            Some(filled(o, units, tx.price))
        }
        _ => None,
    }
}

fn set_price(o: &mut tv::Order, info: Option<&OrderInfo>) {
    let Some(info) = info else { return };
    match o.kind {
        tv::OrderType::Stop => o.stop_price = info.price,
        tv::OrderType::Limit => o.limit_price = info.price,
        _ => {}
    }
    if info.kind != tv::OrderType::Market {
        o.duration = Some(order_duration(info.expiry));
    }
}

/// Orders that reached a final status, newest first, one per order id (the newest word on it), from
/// transactions given newest first.
pub fn orders_history(
    txs: &[Transaction],
    known: &Known,
    symbol_of: &dyn Fn(&str) -> String,
) -> Vec<tv::Order> {
    let mut seen = std::collections::HashSet::new();
    txs.iter()
        .filter_map(|tx| final_order(tx, known, symbol_of))
        .filter(|o| seen.insert(o.id.clone()))
        .collect()
}

/// The fills of one transaction. An order that both closed trades and opened one (a reversal) is two
/// executions: the closing part `<txId>.close` and the opening part `<txId>`.
pub fn executions(tx: &Transaction, known: &Known, symbol_of: &dyn Fn(&str) -> String) -> Vec<tv::Execution> {
    let (Some(price), Some(time)) = (tx.price, unix(tx.time)) else {
        return Vec::new();
    };
    let exec = |id: String, instrument: &str, qty, s, order_id: String, is_close, position: Option<u64>| {
        tv::Execution {
            id,
            instrument: symbol_of(instrument),
            price,
            time,
            qty,
            side: s,
            order_id,
            is_close,
            position_id: position.map(|p| p.to_string()),
            commission: None,
        }
    };
    match tx.kind {
        TxType::MarketOrderCreate | TxType::OrderFilled => {
            let order_id = match tx.kind {
                TxType::OrderFilled => match tx.order_id {
                    Some(id) => id.to_string(),
                    None => return Vec::new(),
                },
                _ => tx.id.to_string(),
            };
            let (Some(instrument), Some(s)) = (tx.instrument.as_deref(), tx.side.and_then(side)) else {
                return Vec::new();
            };
            let opened = TradeChange::real_id(&tx.trade_opened)
                .map(|id| (id, tx.trade_opened.as_ref().and_then(|c| c.units)));
            let mut closed_units = Decimal::ZERO;
            let mut closed_trade = None;
            let reduced = tx.trade_reduced.iter().filter(|c| c.id.is_some_and(|id| id > 0));
            for c in reduced.chain(tx.trades_closed.iter()) {
                closed_units += c.units.unwrap_or_default();
                closed_trade = closed_trade.or(c.id);
            }
            let mut out = Vec::new();
            let open_units = match opened {
                Some((_, Some(u))) => u,
                Some((_, None)) => tx.units.unwrap_or_default() - closed_units,
                None => Decimal::ZERO,
            };
            let both = open_units > Decimal::ZERO && closed_units > Decimal::ZERO;
            if closed_units > Decimal::ZERO {
                let id = if both {
                    format!("{}.close", tx.id)
                } else {
                    tx.id.to_string()
                };
                out.push(exec(
                    id,
                    instrument,
                    closed_units,
                    s,
                    order_id.clone(),
                    true,
                    closed_trade,
                ));
            }
            if open_units > Decimal::ZERO {
                let position = opened.map(|(id, _)| id);
                out.push(exec(
                    tx.id.to_string(),
                    instrument,
                    open_units,
                    s,
                    order_id,
                    false,
                    position,
                ));
            }
            out
        }
        TxType::StopLossFilled
        | TxType::TakeProfitFilled
        | TxType::TrailingStopFilled
        | TxType::TradeClose => {
            let (Some(instrument), Some(s), Some(units)) =
                (instrument_of(tx, known), closing_side(tx, known), tx.units)
            else {
                return Vec::new();
            };
            let order_id = match (leg_of(tx.kind), tx.trade_id) {
                (Some(leg), Some(trade)) => leg.id_of(trade),
                _ => tx.id.to_string(),
            };
            vec![exec(
                tx.id.to_string(),
                &instrument,
                units,
                s,
                order_id,
                true,
                tx.trade_id,
            )]
        }
        _ => Vec::new(),
    }
}
