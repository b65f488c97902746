//! The trading engine: places, modifies and cancels orders keyed by (account, CustomerOrderId), fills
//! them against the quotes (market orders at once at the bid/ask, limit orders when the price reaches
//! the limit, stop orders when it reaches the stop), and books fills as trades, positions and cash.
//!
//! Simplifications (ASSUMED, stated in the report): an order fills whole, never partially; the market is
//! always open; Day/Open/Close orders stay working until cancelled; an IOC order that cannot fill at
//! once is cancelled.

use super::state::{Order, Position, State, Trade};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// A place (or modify, or impact) request, checked.
#[derive(Clone, Debug)]
pub(super) struct OrderRequest {
    pub coid: Option<i64>,
    pub conid: i64,
    pub side: String,
    pub order_type: String,
    pub qty: Decimal,
    pub price: Option<Decimal>,
    pub stop: Option<Decimal>,
    pub tif: String,
    pub outside_rth: String,
}

/// Why the engine refused: a 400 with this text.
pub(super) type Refusal = String;

impl State {
    /// The index of an order.
    pub fn order_index(&self, account: &str, coid: i64) -> Option<usize> {
        self.orders
            .iter()
            .position(|o| o.account == account && o.coid == coid)
    }

    /// Places a checked request; a used CustomerOrderId is refused and nothing is placed.
    pub fn place(&mut self, account: &str, req: &OrderRequest, now: DateTime<Utc>) -> Result<usize, Refusal> {
        let coid = req.coid.ok_or("CustomerOrderId missing")?;
        if self.order_index(account, coid).is_some() {
            return Err("Duplicate CustomerOrderId".into());
        }
        let id = self.fresh_id();
        self.orders.push(Order {
            account: account.to_string(),
            coid,
            order_id: id.to_string(),
            conid: req.conid,
            side: req.side.clone(),
            order_type: req.order_type.clone(),
            tif: req.tif.clone(),
            outside_rth: req.outside_rth.clone(),
            qty: req.qty,
            filled: Decimal::ZERO,
            price: req.price,
            stop: req.stop,
            avg_price: Decimal::ZERO,
            status: "0".into(),
            triggered: false,
            updated: now,
            ended: None,
            replaces: None,
        });
        let i = self.orders.len() - 1;
        self.try_fill(i, now);
        if self.orders[i].working() && self.orders[i].tif == "3" {
            // IOC: what cannot fill at once is cancelled.
            self.end(i, "4", now);
        }
        Ok(i)
    }

    /// Cancels a working order.
    pub fn cancel(&mut self, i: usize, now: DateTime<Utc>) -> Result<(), Refusal> {
        if !self.orders[i].working() {
            return Err("Order is not working".into());
        }
        self.end(i, "4", now);
        Ok(())
    }

    /// Replaces working order `i` by a new order under the request's (new) CustomerOrderId; the old one
    /// becomes Replaced. The contract and side stay the old order's.
    pub fn modify(&mut self, i: usize, req: &OrderRequest, now: DateTime<Utc>) -> Result<usize, Refusal> {
        if !self.orders[i].working() {
            return Err("Order is not working".into());
        }
        let old = self.orders[i].clone();
        let new_coid = req.coid.ok_or("CustomerOrderId missing")?;
        if new_coid == old.coid {
            return Err("A modification needs a new CustomerOrderId".into());
        }
        if self.order_index(&old.account, new_coid).is_some() {
            return Err("Duplicate CustomerOrderId".into());
        }
        if req.conid != old.conid || req.side != old.side {
            return Err("Contract and side cannot be modified".into());
        }
        self.end(i, "5", now);
        let replacement = OrderRequest {
            coid: Some(new_coid),
            ..req.clone()
        };
        let j = self.place(&old.account, &replacement, now)?;
        self.orders[j].replaces = Some(old.coid);
        Ok(j)
    }

    /// Ends order `i` with a final status.
    fn end(&mut self, i: usize, status: &str, now: DateTime<Utc>) {
        let o = &mut self.orders[i];
        o.status = status.into();
        o.ended = Some(now);
        o.updated = now;
    }

    /// A contract's quote moved: working orders on it that cross fill.
    pub fn set_quote(&mut self, conid: i64, bid: Decimal, ask: Decimal, now: DateTime<Utc>) {
        let Some(m) = self.markets.get_mut(&conid) else {
            return;
        };
        m.contract.bid = bid;
        m.contract.ask = ask;
        m.contract.last = (bid + ask) / Decimal::TWO;
        m.updated = now;
        let working: Vec<usize> = (0..self.orders.len())
            .filter(|&i| self.orders[i].working() && self.orders[i].conid == conid)
            .collect();
        for i in working {
            self.try_fill(i, now);
        }
    }

    /// Fills order `i` when its conditions hold at the current quote.
    fn try_fill(&mut self, i: usize, now: DateTime<Utc>) {
        let Some(m) = self.markets.get(&self.orders[i].conid) else {
            return;
        };
        let (bid, ask) = (m.contract.bid, m.contract.ask);
        let o = &mut self.orders[i];
        let buy = o.side == "1";
        let at = if buy { ask } else { bid };
        if at <= Decimal::ZERO {
            return;
        }
        // Buy: a stop triggers at or above it, a limit fills at or below it; a sell the other way.
        let reached_stop = |stop: Decimal| if buy { at >= stop } else { at <= stop };
        let within_limit = |limit: Decimal| if buy { at <= limit } else { at >= limit };
        if matches!(o.order_type.as_str(), "3" | "4") && !o.triggered {
            if !o.stop.is_some_and(reached_stop) {
                return;
            }
            o.triggered = true;
        }
        let fills = match o.order_type.as_str() {
            "1" | "3" => true,
            _ => o.price.is_some_and(within_limit),
        };
        if fills {
            self.fill(i, at, now);
        }
    }

    /// Books the whole remaining quantity of order `i` at `price`.
    fn fill(&mut self, i: usize, price: Decimal, now: DateTime<Utc>) {
        let exec = self.fresh_id();
        let o = &mut self.orders[i];
        let size = o.qty - o.filled;
        o.filled = o.qty;
        o.avg_price = price;
        o.status = "2".into();
        o.ended = Some(now);
        o.updated = now;
        let o = o.clone();
        let sec_type = self
            .markets
            .get(&o.conid)
            .map(|m| m.contract.sec_type.clone())
            .unwrap_or_default();
        let commission = self.commission(&sec_type, size, price);
        let signed = if o.side == "1" { size } else { -size };
        if let Some(acct) = self.accounts.get_mut(&o.account) {
            acct.cash -= signed * price + commission;
            let pos = acct.positions.entry(o.conid).or_default();
            acct.realized += book(pos, signed, price);
            if pos.qty.is_zero() {
                acct.positions.remove(&o.conid);
            }
        }
        self.trades.push(Trade {
            account: o.account.clone(),
            coid: o.coid,
            order_id: o.order_id.clone(),
            conid: o.conid,
            side: o.side.clone(),
            order_type: o.order_type.clone(),
            quantity: o.qty,
            filled_after: o.filled,
            price,
            size,
            avg_price: price,
            time: now,
            exec_id: format!("0000e0d5.{exec:08x}.01.01"),
            commission,
        });
    }

    /// IBKR-like tiered commission: per share with a minimum for stocks, 0.2 bp with a 2.00 minimum for
    /// FX (ASSUMED figures).
    pub fn commission(&self, sec_type: &str, qty: Decimal, price: Decimal) -> Decimal {
        if sec_type == "CASH" {
            (qty * price * Decimal::new(2, 5)).max(Decimal::TWO).round_dp(2)
        } else {
            (qty * self.commission_per_share)
                .max(self.min_commission)
                .round_dp(2)
        }
    }

    /// The mark price of a contract: the mid.
    pub fn mark(&self, conid: i64) -> Decimal {
        self.markets
            .get(&conid)
            .map(|m| (m.contract.bid + m.contract.ask) / Decimal::TWO)
            .unwrap_or_default()
    }

    /// (gross position value, net position value, unrealized P&L) of an account.
    pub fn valuation(&self, account: &str) -> (Decimal, Decimal, Decimal) {
        let Some(acct) = self.accounts.get(account) else {
            return Default::default();
        };
        let mut gross = Decimal::ZERO;
        let mut net = Decimal::ZERO;
        let mut unrealized = Decimal::ZERO;
        for (conid, p) in &acct.positions {
            let value = p.qty * self.mark(*conid);
            gross += value.abs();
            net += value;
            unrealized += value - p.qty * p.avg_cost;
        }
        (gross, net, unrealized)
    }
}

/// Adds a fill of `signed` quantity at `price` to a position; returns the realized P&L.
fn book(pos: &mut Position, signed: Decimal, price: Decimal) -> Decimal {
    let same_way = pos.qty.is_zero() || (pos.qty > Decimal::ZERO) == (signed > Decimal::ZERO);
    if same_way {
        let total = pos.qty + signed;
        pos.avg_cost = (pos.avg_cost * pos.qty.abs() + price * signed.abs()) / total.abs();
        pos.qty = total;
        return Decimal::ZERO;
    }
    let closed = signed.abs().min(pos.qty.abs());
    let direction = if pos.qty > Decimal::ZERO {
        Decimal::ONE
    } else {
        -Decimal::ONE
    };
    let realized = (price - pos.avg_cost) * closed * direction;
    pos.qty += signed;
    if pos.qty.is_zero() {
        pos.avg_cost = Decimal::ZERO;
    } else if (pos.qty > Decimal::ZERO) != (direction > Decimal::ZERO) {
        // Flipped: the rest opens at the fill price.
        pos.avg_cost = price;
    }
    realized
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn positions_average_up_realize_on_reduce_and_flip_at_the_fill_price() {
        let mut p = Position::default();
        assert_eq!(book(&mut p, d("10"), d("100")), Decimal::ZERO);
        assert_eq!(book(&mut p, d("10"), d("110")), Decimal::ZERO);
        assert_eq!((p.qty, p.avg_cost), (d("20"), d("105")));
        assert_eq!(book(&mut p, d("-5"), d("115")), d("50"));
        assert_eq!((p.qty, p.avg_cost), (d("15"), d("105")));
        assert_eq!(book(&mut p, d("-20"), d("100")), d("-75"));
        assert_eq!((p.qty, p.avg_cost), (d("-5"), d("100")));
        assert_eq!(book(&mut p, d("5"), d("90")), d("50"));
        assert!(p.qty.is_zero());
    }
}
