//! The trading engine: orders become working orders, fill against the fake's own quotes (market at the
//! touch, limits when the touch crosses, stops once triggered), move positions and cash, leave
//! executions, cancel the rest of their group (`isSingleGroup`, or a parent's children) when they fill
//! and release their bracket children. Every change
//! is pushed to the WebSocket subscribers.

use super::accounts::pays_cash;
use super::state::{Execution, Kind, Order, Side, State, Status, Ticket};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::time::Instant;

impl State {
    fn order_index(&self, id: i64) -> Option<usize> {
        self.orders.iter().position(|o| o.id == id)
    }

    pub(super) fn order(&self, id: i64) -> Option<&Order> {
        self.orders.iter().find(|o| o.id == id)
    }

    /// Whether a cOID was used by an order already.
    pub(super) fn coid_used(&self, account: &str, coid: &str) -> bool {
        self.orders
            .iter()
            .any(|o| o.account == account && o.coid.as_deref() == Some(coid))
    }

    /// Creates the orders of one submission and lets them trade; returns their ids in ticket order.
    ///
    /// `isSingleGroup` "indicates that all orders in the containing array are to be treated as an OCA
    /// group" (IBKR's `SingleOrderSubmissionRequest`): one ticket carrying it puts every order of the array
    /// in one group, a parent included. The group acts when one of its orders fills (see [`State::execute`]),
    /// not when one is cancelled: the document only names the group, and "one-cancels-all" is about an
    /// execution, so cancelling one leg of a pair leaves the other working.
    pub(super) fn place(&mut self, account: &str, tickets: &[Ticket]) -> Vec<i64> {
        let now = self.now();
        let group = tickets.iter().any(|t| t.single_group).then(|| self.new_oca());
        let mut ids = Vec::with_capacity(tickets.len());
        for t in tickets {
            let id = self.next_order_id;
            self.next_order_id += 1;
            let parent = t.parent_coid.as_deref().and_then(|p| {
                self.orders
                    .iter()
                    .rev()
                    .find(|o| o.account == account && o.coid.as_deref() == Some(p))
                    .map(|o| o.id)
            });
            // The children of one parent (take profit and stop loss) cancel each other, as IBKR's
            // brackets do.
            let oca = group.or_else(|| {
                let parent = parent?;
                self.orders
                    .iter()
                    .find(|o| o.parent == Some(parent) && o.oca.is_some())
                    .and_then(|o| o.oca)
                    .or_else(|| Some(self.new_oca()))
            });
            self.orders.push(Order {
                id,
                account: account.to_string(),
                conid: t.conid,
                side: t.side,
                kind: t.kind,
                qty: t.qty,
                limit: t.limit,
                stop: t.stop,
                tif: t.tif.clone(),
                coid: t.coid.clone(),
                parent,
                oca,
                outside_rth: t.outside_rth,
                status: Status::PreSubmitted,
                filled: Decimal::ZERO,
                avg_price: None,
                triggered: false,
                created: now,
                last_exec: None,
                cancel_at: None,
                expires: if matches!(t.tif.as_str(), "DAY" | "OPG") {
                    self.day_end(t.conid, now)
                } else {
                    None
                },
            });
            ids.push(id);
        }
        for id in &ids {
            self.push_pending(*id);
            self.work(*id, true);
            self.push_order(*id);
        }
        ids
    }

    fn new_oca(&mut self) -> u64 {
        self.next_oca += 1;
        self.next_oca
    }

    /// Tries to fill a working order at the current quote and sets its resting status; `fresh` marks
    /// the moment of submission (an IOC order that does not fill then is cancelled).
    pub(super) fn work(&mut self, id: i64, fresh: bool) {
        let Some(i) = self.order_index(id) else { return };
        let o = self.orders[i].clone();
        if !o.status.is_working() {
            return;
        }
        if let Some(parent) = o.parent {
            if self.order(parent).is_none_or(|p| p.status != Status::Filled) {
                self.set_status(i, Status::PreSubmitted);
                return;
            }
        }
        let halted = self.markets.get(&o.conid).is_none_or(|m| m.quote.halted);
        if halted && fresh {
            self.set_status(i, Status::Inactive);
            return;
        }
        let open = self.is_open(o.conid);
        let Some(q) = self.markets.get(&o.conid).map(|m| m.quote.clone()) else {
            return;
        };
        let touch = match o.side {
            Side::Buy => q.ask,
            Side::Sell => q.bid,
        };
        let crosses = |limit: Decimal| match o.side {
            Side::Buy => touch <= limit,
            Side::Sell => touch >= limit,
        };
        let mut triggered = o.triggered;
        if matches!(o.kind, Kind::Stop | Kind::StopLimit) && !triggered && open {
            triggered = o.stop.is_some_and(|s| match o.side {
                Side::Buy => touch >= s,
                Side::Sell => touch <= s,
            });
            self.orders[i].triggered = triggered;
        }
        let fills = open
            && match o.kind {
                Kind::Market => true,
                Kind::Limit => o.limit.is_some_and(crosses),
                Kind::Stop => triggered,
                Kind::StopLimit => triggered && o.limit.is_some_and(crosses),
            };
        if fills {
            self.execute(i, touch);
            return;
        }
        if fresh && o.tif == "IOC" {
            self.set_status(i, Status::Cancelled);
            return;
        }
        let resting = match o.kind {
            Kind::Limit if open => Status::Submitted,
            Kind::StopLimit if triggered => Status::Submitted,
            _ => Status::PreSubmitted,
        };
        self.set_status(i, resting);
    }

    fn set_status(&mut self, i: usize, status: Status) {
        if self.orders[i].status != status {
            self.orders[i].status = status;
            let id = self.orders[i].id;
            self.push_order(id);
        }
    }

    /// Fills the rest of order `i` at `price`.
    fn execute(&mut self, i: usize, price: Decimal) {
        let now = self.now();
        let o = self.orders[i].clone();
        let qty = o.qty - o.filled;
        let Some(contract) = self.contract(o.conid).cloned() else {
            return;
        };
        let commission = self.commission;
        if let Some(a) = self.account_index(&o.account) {
            let account = &mut self.accounts[a];
            let pos = account.positions.entry(o.conid).or_default();
            let signed = qty * o.side.sign();
            let cash_move = if pays_cash(&contract.sec_type) {
                -signed * price * contract.multiplier
            } else {
                Decimal::ZERO
            };
            let realized = apply_fill(pos, signed, price, contract.multiplier);
            account.cash += cash_move - commission;
            if !pays_cash(&contract.sec_type) {
                account.cash += realized;
            }
        }
        {
            let order = &mut self.orders[i];
            order.filled = o.qty;
            order.avg_price = Some(price);
            order.status = Status::Filled;
            order.last_exec = Some(now);
        }
        let exec_id = format!("0000fa{:04x}.{:08x}.01.01", self.next_exec, now.timestamp());
        self.next_exec += 1;
        self.executions.push(Execution {
            id: exec_id,
            account: o.account.clone(),
            conid: o.conid,
            side: o.side,
            size: qty,
            price,
            commission,
            at: now,
            coid: o.coid.clone(),
        });
        if let Some(m) = self.markets.get_mut(&o.conid) {
            m.quote.last = price;
            m.quote.last_size = qty;
            m.quote.volume += qty;
        }
        self.push_order(o.id);
        self.push_pnl();
        // One-cancels-all: the rest of the group still working is cancelled (a fill, never a cancel, does
        // this).
        if let Some(group) = o.oca {
            let siblings: Vec<usize> = (0..self.orders.len())
                .filter(|&j| {
                    j != i && self.orders[j].oca == Some(group) && self.orders[j].status.is_working()
                })
                .collect();
            for j in siblings {
                self.set_status(j, Status::Cancelled);
            }
        }
        // Bracket children start working once their parent filled.
        let children: Vec<i64> = self
            .orders
            .iter()
            .filter(|c| c.parent == Some(o.id) && c.status.is_working())
            .map(|c| c.id)
            .collect();
        for c in children {
            self.work(c, false);
        }
    }

    /// Requests the cancellation of a working order (and of its bracket children); the order shows
    /// `PendingCancel` until the cancel latency passed. `Err` when it cannot be cancelled.
    pub(super) fn cancel(&mut self, id: i64, latency: std::time::Duration) -> Result<(), String> {
        let Some(i) = self.order_index(id) else {
            return Err(format!("OrderID {id} doesn't exist"));
        };
        if !self.orders[i].status.is_working() {
            return Err(format!(
                "OrderID {id} cannot be cancelled: it is {}",
                self.orders[i].status.as_str()
            ));
        }
        let children: Vec<usize> = (0..self.orders.len())
            .filter(|&j| self.orders[j].parent == Some(id) && self.orders[j].status.is_working())
            .collect();
        for j in std::iter::once(i).chain(children) {
            self.orders[j].cancel_at = Some(Instant::now() + latency);
            self.set_status(j, Status::PendingCancel);
        }
        self.settle_cancels();
        Ok(())
    }

    /// When the trading day of `conid` that is open at `at` (or opens next) ends: the end of its session,
    /// or for a session longer than a day (FX all week) the next 21:00 UTC, when US markets close. A
    /// contract open at all hours (the default test universe) has no end of day: `None`.
    pub(super) fn day_end(&self, conid: i64, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let hours = &self.contract(conid)?.hours;
        if matches!(hours, super::price_path::Hours::Always) {
            return None;
        }
        let t = at.timestamp();
        let evening = t.div_euclid(86_400) * 86_400 + 21 * 3_600;
        let next_close = if evening > t { evening } else { evening + 86_400 };
        let end = hours
            .open_intervals(t, t + 8 * 86_400)
            .into_iter()
            .find(|(_, end)| *end > t)
            .map_or(next_close, |(start, end)| {
                if end - start.max(t) > 86_400 {
                    next_close
                } else {
                    end
                }
            });
        DateTime::from_timestamp(end, 0)
    }

    /// Cancels working `DAY` orders whose trading day ended.
    pub(super) fn expire_day_orders(&mut self) {
        let now = self.now();
        let due: Vec<usize> = (0..self.orders.len())
            .filter(|&i| {
                self.orders[i].status.is_working() && self.orders[i].expires.is_some_and(|e| e <= now)
            })
            .collect();
        for i in due {
            self.set_status(i, Status::Cancelled);
        }
    }

    /// Moves due `PendingCancel` orders to `Cancelled`.
    pub(super) fn settle_cancels(&mut self) {
        let now = Instant::now();
        let due: Vec<usize> = (0..self.orders.len())
            .filter(|&i| {
                self.orders[i].status == Status::PendingCancel
                    && self.orders[i].cancel_at.is_some_and(|t| t <= now)
            })
            .collect();
        for i in due {
            self.set_status(i, Status::Cancelled);
        }
    }

    /// Applies a modification to a working order and lets it trade.
    pub(super) fn modify(&mut self, id: i64, t: &Ticket) -> Result<(), String> {
        let Some(i) = self.order_index(id) else {
            return Err(format!("OrderID {id} doesn't exist"));
        };
        let o = &mut self.orders[i];
        if !o.status.is_working() {
            return Err(format!(
                "OrderID {id} cannot be modified: it is {}",
                o.status.as_str()
            ));
        }
        if o.conid != t.conid || o.side != t.side {
            return Err("conid and side of an order cannot be modified".to_string());
        }
        o.kind = t.kind;
        o.qty = t.qty;
        o.limit = t.limit;
        o.stop = t.stop;
        o.tif = t.tif.clone();
        o.outside_rth = t.outside_rth;
        o.triggered = false;
        self.push_order(id);
        self.work(id, false);
        Ok(())
    }

    /// Moves a contract's quote, then lets its working orders trade and streams the change.
    pub(super) fn set_quote(&mut self, conid: i64, bid: Decimal, ask: Decimal) {
        let now = self.now();
        self.set_quote_at(conid, bid, ask, now);
    }

    /// [`Self::set_quote`] as of `at` (a moving market's tick second, which may be just behind now).
    pub(super) fn set_quote_at(&mut self, conid: i64, bid: Decimal, ask: Decimal, at: DateTime<Utc>) {
        let Some(m) = self.markets.get_mut(&conid) else {
            return;
        };
        m.quote.updated = at;
        m.quote.bid = bid;
        m.quote.ask = ask.max(bid);
        // The fake's market trades at the middle between fills of its own orders.
        m.quote.last = m.contract.tick_round((bid + m.quote.ask) / Decimal::TWO);
        m.quote.high = m.quote.high.max(m.quote.ask);
        m.quote.low = m.quote.low.min(bid);
        let working: Vec<i64> = self
            .orders
            .iter()
            .filter(|o| o.conid == conid && o.status.is_working())
            .map(|o| o.id)
            .collect();
        for id in working {
            self.work(id, false);
        }
        self.push_quote(conid);
        self.push_pnl();
    }

    /// One second `t` of the moving market: every contract open then takes its path's tick, and its
    /// subscribers hear it (a trade moves the volume even when bid and ask stay, as IBKR pushes it).
    pub(super) fn step_market(&mut self, t: i64) {
        let at = DateTime::from_timestamp(t, 0).unwrap_or_else(|| self.now());
        let moves: Vec<(i64, Decimal, Decimal)> = self
            .markets
            .iter()
            .filter(|(_, m)| !m.quote.halted)
            .filter_map(|(id, m)| {
                let tick = m.path.tick(t)?;
                Some((*id, m.price(tick.close), m.price(tick.close + m.spread_steps)))
            })
            .collect();
        for (id, bid, ask) in moves {
            self.set_quote_at(id, bid, ask, at);
        }
    }
}

/// Applies a signed fill to a net position; returns the P/L it realised (in the contract currency).
pub(super) fn apply_fill(
    pos: &mut super::state::Position,
    signed: Decimal,
    price: Decimal,
    multiplier: Decimal,
) -> Decimal {
    let same_way = pos.qty.is_zero() || pos.qty.is_sign_positive() == signed.is_sign_positive();
    if same_way {
        let total = pos.qty.abs() + signed.abs();
        if !total.is_zero() {
            pos.avg = (pos.avg * pos.qty.abs() + price * signed.abs()) / total;
        }
        pos.qty += signed;
        return Decimal::ZERO;
    }
    let closing = signed.abs().min(pos.qty.abs());
    let direction = if pos.qty.is_sign_positive() {
        Decimal::ONE
    } else {
        Decimal::NEGATIVE_ONE
    };
    let realized = (price - pos.avg) * closing * direction * multiplier;
    pos.realized += realized;
    pos.qty += signed;
    if pos.qty.is_zero() {
        pos.avg = Decimal::ZERO;
    } else if signed.abs() > closing {
        // Reversed: the new position opened at the fill price.
        pos.avg = price;
    }
    realized
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ibkr::state::Position;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn a_trading_day_ends_with_its_session_or_at_21_utc() {
        use crate::ibkr::contracts::FakeContract;
        use crate::ibkr::options::FakeIbkrOptions;
        let mut options = FakeIbkrOptions::default();
        options.contracts[0].hours = FakeContract::usual_hours("STK");
        options.contracts[2].hours = FakeContract::usual_hours("CASH");
        let shared = crate::ibkr::state::Shared::new(&options);
        let st = shared.lock();
        // Monday 2026-12-07 10:00 UTC: AAPL's day ends at 21:00 that day, EUR.USD's too.
        let monday = DateTime::from_timestamp(1_796_601_600 + 10 * 3_600, 0).unwrap();
        let fmt = |t: Option<DateTime<Utc>>| t.map(|t| t.format("%a %H:%M").to_string());
        assert_eq!(fmt(st.day_end(265_598, monday)).as_deref(), Some("Mon 21:00"));
        assert_eq!(fmt(st.day_end(12_087_792, monday)).as_deref(), Some("Mon 21:00"));
        // Saturday: the next session is Monday's.
        let saturday = monday - chrono::TimeDelta::days(2);
        assert_eq!(fmt(st.day_end(265_598, saturday)).as_deref(), Some("Mon 21:00"));
        // After the evening the FX day ends the next evening.
        let late = monday + chrono::TimeDelta::hours(12);
        assert_eq!(fmt(st.day_end(12_087_792, late)).as_deref(), Some("Tue 21:00"));
        // MSFT trades at all hours in this set-up: no end of day.
        assert_eq!(st.day_end(272_093, monday), None);
    }

    /// A fake with AAPL quoted 180.00 / 180.02, and the ids of the orders `orders` (one submission) made.
    fn placed(orders: serde_json::Value) -> (crate::ibkr::state::Shared, Vec<i64>) {
        let shared = crate::ibkr::state::Shared::new(&crate::ibkr::options::FakeIbkrOptions::default());
        let ids = {
            let mut st = shared.lock();
            st.set_quote(265_598, d("180"), d("180.02"));
            let tickets = st
                .tickets("DU1234567", &serde_json::json!({ "orders": orders }))
                .unwrap();
            st.place("DU1234567", &tickets)
        };
        (shared, ids)
    }

    fn leg(kind: &str, price: u32, coid: &str, group: bool) -> serde_json::Value {
        serde_json::json!({ "conid": 265598, "orderType": kind, "side": "SELL", "quantity": 2, "price": price,
                            "tif": "GTC", "cOID": coid, "isSingleGroup": group })
    }

    #[test]
    fn a_single_group_is_one_cancels_all_on_a_fill() {
        let (shared, ids) = placed(serde_json::json!([
            leg("LMT", 190, "tp", true),
            leg("STP", 170, "sl", true)
        ]));
        let mut st = shared.lock();
        assert!(ids.iter().all(|id| st.order(*id).unwrap().status.is_working()));
        st.set_quote(265_598, d("190.5"), d("190.52"));
        assert_eq!(st.order(ids[0]).unwrap().status, Status::Filled);
        assert_eq!(st.order(ids[1]).unwrap().status, Status::Cancelled);
    }

    #[test]
    fn cancelling_one_of_a_group_leaves_the_others_working() {
        let (shared, ids) = placed(serde_json::json!([
            leg("LMT", 190, "tp", true),
            leg("STP", 170, "sl", true)
        ]));
        let mut st = shared.lock();
        st.cancel(ids[0], std::time::Duration::ZERO).unwrap();
        assert_eq!(st.order(ids[0]).unwrap().status, Status::Cancelled);
        assert!(st.order(ids[1]).unwrap().status.is_working());
        st.set_quote(265_598, d("169"), d("169.02"));
        assert_eq!(st.order(ids[1]).unwrap().status, Status::Filled);
    }

    #[test]
    fn orders_sent_apart_without_a_group_do_not_cancel_each_other() {
        let (shared, ids) = placed(serde_json::json!([
            leg("LMT", 190, "tp", false),
            leg("STP", 170, "sl", false)
        ]));
        let mut st = shared.lock();
        st.set_quote(265_598, d("190.5"), d("190.52"));
        assert_eq!(st.order(ids[0]).unwrap().status, Status::Filled);
        assert!(st.order(ids[1]).unwrap().status.is_working());
    }

    #[test]
    fn a_single_group_holding_a_parent_lets_its_fill_cancel_its_children() {
        // What the document's reading means, and why the bridge never sends it: the parent is in the group.
        let parent = serde_json::json!({ "conid": 265598, "orderType": "MKT", "side": "BUY", "quantity": 2,
                                         "tif": "DAY", "cOID": "p", "isSingleGroup": true });
        let mut tp = leg("LMT", 190, "p-tp", true);
        tp["parentId"] = "p".into();
        let (shared, ids) = placed(serde_json::json!([parent, tp]));
        let st = shared.lock();
        assert_eq!(st.order(ids[0]).unwrap().status, Status::Filled);
        assert_eq!(st.order(ids[1]).unwrap().status, Status::Cancelled);
    }

    #[test]
    fn adding_to_a_position_averages_its_price() {
        let mut p = Position::default();
        assert_eq!(apply_fill(&mut p, d("10"), d("100"), Decimal::ONE), Decimal::ZERO);
        apply_fill(&mut p, d("30"), d("104"), Decimal::ONE);
        assert_eq!(p.qty, d("40"));
        assert_eq!(p.avg, d("103"));
    }

    #[test]
    fn reducing_realises_and_reversing_reopens_at_the_fill() {
        let mut p = Position::default();
        apply_fill(&mut p, d("-2"), d("5000"), d("50"));
        // Buying 3 closes the short 2 at a loss of 10 points x 50 and opens 1 long at 5010.
        let realized = apply_fill(&mut p, d("3"), d("5010"), d("50"));
        assert_eq!(realized, d("-1000"));
        assert_eq!(p.qty, d("1"));
        assert_eq!(p.avg, d("5010"));
        let realized = apply_fill(&mut p, d("-1"), d("5020"), d("50"));
        assert_eq!(realized, d("500"));
        assert_eq!(p.qty, Decimal::ZERO);
        assert_eq!(p.avg, Decimal::ZERO);
        assert_eq!(p.realized, d("-500"));
    }
}
