//! The dealing engine: market rules that reject a deal, netting versus hedging, opening and closing
//! positions (with realised P/L into cash, the transaction history and the activity history), and what a
//! price move does (working orders fill, trailing stops follow, stops and take profits trigger,
//! expired working orders go).

use super::state::{ActivityRec, Dir, OrderKind, Position, State, Stops, TxRec, WorkingOrder};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// A deal to make at the market.
#[derive(Debug, Clone)]
pub(super) struct DealSpec {
    pub epic: String,
    pub dir: Dir,
    pub size: Decimal,
    pub stops: Stops,
    /// The deal id of the order behind the deal (`dealId` of the confirm, `workingOrderId` of positions).
    pub order_id: String,
    /// `USER` for a request, `SYSTEM` for a working order that filled.
    pub source: &'static str,
}

/// What became of a deal.
#[derive(Debug, Clone)]
pub(super) enum Outcome {
    Accepted {
        level: Decimal,
        /// (deal id, `OPENED` | `PARTIALLY_CLOSED` | `FULLY_CLOSED`).
        affected: Vec<(String, &'static str)>,
        /// Confirm status: `OPEN`, `PARTIALLY_CLOSED` or `CLOSED`.
        status: &'static str,
    },
    Rejected {
        reason: &'static str,
    },
}

impl State {
    /// The rules of the market and account that reject a deal (a `REJECTED` confirm, not an HTTP error).
    pub fn market_rules(
        &self,
        account: usize,
        epic: &str,
        size: Decimal,
        stops: &Stops,
    ) -> Result<(), &'static str> {
        let Some(m) = self.market(epic) else {
            return Err("INSTRUMENT_NOT_VALID");
        };
        let s = &m.spec;
        if size < s.min_deal_size {
            return Err("MINIMUM_ORDER_SIZE_ERROR");
        }
        if size > s.max_deal_size {
            return Err("MAXIMUM_ORDER_SIZE_ERROR");
        }
        // Sizes go in steps of the minimum size's last decimal (0.1 -> one decimal, 100 -> whole units).
        if size.normalize().scale() > s.min_deal_size.normalize().scale() {
            return Err("SIZE_INCREMENT");
        }
        if stops.trailing && !s.trailing_stops {
            return Err("TRAILING_STOP_NOT_ALLOWED");
        }
        if stops.guaranteed && self.accounts[account].hedging {
            return Err("GUARANTEED_STOP_NOT_ALLOWED");
        }
        Ok(())
    }

    /// Makes a deal at the market price: netting accounts first reduce opposite deals of the epic
    /// (oldest first), the rest opens a new position. Everything it records carries one time.
    pub fn execute(&mut self, account: usize, spec: DealSpec) -> Outcome {
        self.at_one_instant(|st| st.execute_now(account, spec))
    }

    fn execute_now(&mut self, account: usize, spec: DealSpec) -> Outcome {
        if let Err(reason) = self.market_rules(account, &spec.epic, spec.size, &spec.stops) {
            return Outcome::Rejected { reason };
        }
        let Some(m) = self.market(&spec.epic) else {
            return Outcome::Rejected {
                reason: "INSTRUMENT_NOT_VALID",
            };
        };
        let level = m.fill_price(spec.dir);
        let mut stops = spec.stops;
        if let (true, Some(d)) = (stops.trailing, stops.stop_distance) {
            stops.stop_level = Some(m.round(match spec.dir {
                Dir::Buy => level - d,
                Dir::Sell => level + d,
            }));
        }

        // What netting would close: (position index, size closed).
        let mut reductions = Vec::new();
        let mut remaining = spec.size;
        if !self.accounts[account].hedging {
            for (i, p) in self.accounts[account].positions.iter().enumerate() {
                if remaining.is_zero() {
                    break;
                }
                if p.epic == spec.epic && p.dir == spec.dir.opposite() {
                    let part = p.size.min(remaining);
                    reductions.push((i, part));
                    remaining -= part;
                }
            }
        }
        if !remaining.is_zero() {
            let released: Decimal = reductions
                .iter()
                .map(|(_, part)| self.margin_for(account, &spec.epic, *part))
                .sum();
            let available = self.balances(account).3 + released;
            if self.margin_for(account, &spec.epic, remaining) > available {
                return Outcome::Rejected {
                    reason: "INSUFFICIENT_FUNDS",
                };
            }
        }

        let mut affected = Vec::new();
        // Highest index first, so removing a fully closed position keeps the other indices valid.
        for (i, part) in reductions.into_iter().rev() {
            affected.push(self.close_part(account, i, part, level, spec.source));
        }
        affected.reverse();
        if !remaining.is_zero() {
            let id = self.open_position(account, &spec, remaining, level, stops);
            affected.push((id, "OPENED"));
        }
        let status = if affected.iter().any(|(_, s)| *s == "OPENED") {
            "OPEN"
        } else if affected.iter().any(|(_, s)| *s == "PARTIALLY_CLOSED") {
            "PARTIALLY_CLOSED"
        } else {
            "CLOSED"
        };
        Outcome::Accepted {
            level,
            affected,
            status,
        }
    }

    /// Opens a position; returns its deal id.
    fn open_position(
        &mut self,
        account: usize,
        spec: &DealSpec,
        size: Decimal,
        level: Decimal,
        stops: Stops,
    ) -> String {
        let deal_id = self.next_deal_id(account);
        let now = self.now();
        let position = Position {
            deal_id: deal_id.clone(),
            deal_reference: format!("p_{deal_id}"),
            working_order_id: spec.order_id.clone(),
            epic: spec.epic.clone(),
            dir: spec.dir,
            size,
            level,
            created: now,
            stops,
        };
        self.record(
            account,
            ActivityRec {
                at: now,
                epic: spec.epic.clone(),
                deal_id: deal_id.clone(),
                source: spec.source,
                kind: "POSITION",
                status: "ACCEPTED",
                deal_reference: position.deal_reference.clone(),
                size,
                dir: spec.dir,
                level,
                stops,
            },
        );
        self.accounts[account].positions.push(position);
        deal_id
    }

    /// Closes `size` of the position at index `i` at `price`: the P/L goes to cash and to the histories.
    /// Returns the deal id and `PARTIALLY_CLOSED` or `FULLY_CLOSED`.
    pub fn close_part(
        &mut self,
        account: usize,
        i: usize,
        size: Decimal,
        price: Decimal,
        source: &'static str,
    ) -> (String, &'static str) {
        let p = self.accounts[account].positions[i].clone();
        let (name, ccy) = self
            .market(&p.epic)
            .map(|m| (m.spec.epic.clone(), m.spec.currency.clone()))
            .unwrap_or_else(|| (p.epic.clone(), self.accounts[account].currency.clone()));
        let pnl = match p.dir {
            Dir::Buy => (price - p.level) * size,
            Dir::Sell => (p.level - price) * size,
        };
        let acc_ccy = self.accounts[account].currency.clone();
        let pnl = self.convert(pnl, &ccy, &acc_ccy).round_dp(2);
        let now = self.now();
        let reference = self.next_reference();
        let a = &mut self.accounts[account];
        a.cash += pnl;
        a.transactions.push(TxRec {
            at: now,
            instrument_name: Some(name),
            kind: "TRADE",
            note: "Trade closed",
            reference,
            amount: pnl,
            currency: acc_ccy,
        });
        let status = if size >= p.size {
            a.positions.remove(i);
            "FULLY_CLOSED"
        } else {
            a.positions[i].size -= size;
            "PARTIALLY_CLOSED"
        };
        self.record(
            account,
            ActivityRec {
                at: now,
                epic: p.epic.clone(),
                deal_id: p.deal_id.clone(),
                source,
                kind: "POSITION",
                status: "ACCEPTED",
                deal_reference: p.deal_reference.clone(),
                size,
                dir: p.dir.opposite(),
                level: price,
                stops: p.stops,
            },
        );
        (p.deal_id, status)
    }

    /// Adds an activity to an account's history.
    pub fn record(&mut self, account: usize, rec: ActivityRec) {
        self.accounts[account].activities.push(rec);
    }

    /// Work that depends on the fake clock: expired working orders go, sockets of dead sessions close.
    pub fn housekeep(&mut self) {
        let now = self.now();
        for account in 0..self.accounts.len() {
            let (expired, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.accounts[account].orders)
                .into_iter()
                .partition(|o| o.good_till.is_some_and(|t| t <= now));
            self.accounts[account].orders = kept;
            for o in expired {
                self.record(
                    account,
                    ActivityRec {
                        at: now,
                        epic: o.epic.clone(),
                        deal_id: o.deal_id.clone(),
                        source: "SYSTEM",
                        kind: "WORKING_ORDER",
                        status: "EXPIRED",
                        deal_reference: o.deal_reference.clone(),
                        size: o.size,
                        dir: o.dir,
                        level: o.level,
                        stops: o.stops,
                    },
                );
            }
        }
        self.sweep_sockets();
    }

    /// Moves a market: working orders whose level is crossed fill, trailing stops follow, stops and
    /// take profits trigger, and WebSocket subscribers get the quote.
    pub fn set_price(&mut self, epic: &str, bid: Decimal, offer: Decimal) {
        let now = self.now();
        self.set_price_at(epic, bid, offer, now);
    }

    /// [`Self::set_price`] with the quote stamped `now` (the moving market sends each tick at its own
    /// second).
    pub fn set_price_at(&mut self, epic: &str, bid: Decimal, offer: Decimal, now: DateTime<Utc>) {
        let Some(m) = self.markets.iter_mut().find(|m| m.spec.epic == epic) else {
            return;
        };
        m.spec.bid = bid;
        m.spec.offer = offer;
        m.high = m.high.max(offer);
        m.low = m.low.min(bid);
        m.updated = now;
        self.housekeep();
        for account in 0..self.accounts.len() {
            self.fill_orders(account, epic, bid, offer);
            self.trigger_stops(account, epic, bid, offer);
        }
        self.push_quote(epic);
    }

    /// Fills the working orders of an account on `epic` that the new price crosses (in creation order).
    fn fill_orders(&mut self, account: usize, epic: &str, bid: Decimal, offer: Decimal) {
        let crossed = |kind: OrderKind, dir: Dir, level: Decimal| match (kind, dir) {
            (OrderKind::Limit, Dir::Buy) => offer <= level,
            (OrderKind::Stop, Dir::Buy) => offer >= level,
            (OrderKind::Limit, Dir::Sell) => bid >= level,
            (OrderKind::Stop, Dir::Sell) => bid <= level,
        };
        let (filled, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.accounts[account].orders)
            .into_iter()
            .partition(|o| o.epic == epic && crossed(o.kind, o.dir, o.level));
        self.accounts[account].orders = kept;
        for o in filled {
            self.at_one_instant(|st| st.fill_order(account, o));
        }
    }

    /// Fills one working order: its execution and the deal it makes share one instant.
    fn fill_order(&mut self, account: usize, o: WorkingOrder) {
        {
            let now = self.now();
            let at = self.accounts[account].activities.len();
            self.record(
                account,
                ActivityRec {
                    at: now,
                    epic: o.epic.clone(),
                    deal_id: o.deal_id.clone(),
                    source: "SYSTEM",
                    kind: "WORKING_ORDER",
                    status: "EXECUTED",
                    deal_reference: o.deal_reference.clone(),
                    size: o.size,
                    dir: o.dir,
                    level: o.level,
                    stops: o.stops,
                },
            );
            let spec = DealSpec {
                epic: o.epic.clone(),
                dir: o.dir,
                size: o.size,
                stops: o.stops,
                order_id: o.deal_id.clone(),
                source: "SYSTEM",
            };
            if let Outcome::Rejected { .. } = self.execute(account, spec) {
                self.accounts[account].activities[at].status = "REJECTED";
            }
        }
    }

    /// Moves trailing stops with the market, then closes positions whose stop or take profit is hit.
    /// A guaranteed stop closes exactly at its level; everything else at the market.
    fn trigger_stops(&mut self, account: usize, epic: &str, bid: Decimal, offer: Decimal) {
        let dp = self.market(epic).map(|m| m.spec.decimal_places).unwrap_or(5);
        let mut hits = Vec::new();
        for (i, p) in self.accounts[account].positions.iter_mut().enumerate() {
            if p.epic != epic {
                continue;
            }
            let close = match p.dir {
                Dir::Buy => bid,
                Dir::Sell => offer,
            };
            if let (true, Some(d), Some(stop)) = (p.stops.trailing, p.stops.stop_distance, p.stops.stop_level)
            {
                let follow = match p.dir {
                    Dir::Buy => (close - d).max(stop),
                    Dir::Sell => (close + d).min(stop),
                };
                p.stops.stop_level = Some(follow.round_dp(dp));
            }
            let stop_hit = p.stops.stop_level.is_some_and(|s| match p.dir {
                Dir::Buy => close <= s,
                Dir::Sell => close >= s,
            });
            let profit_hit = p.stops.profit_level.is_some_and(|l| match p.dir {
                Dir::Buy => close >= l,
                Dir::Sell => close <= l,
            });
            if stop_hit {
                let price = match (p.stops.guaranteed, p.stops.stop_level) {
                    (true, Some(s)) => s,
                    _ => close,
                };
                hits.push((i, price, "SL"));
            } else if profit_hit {
                hits.push((i, close, "TP"));
            }
        }
        for (i, price, source) in hits.into_iter().rev() {
            let size = self.accounts[account].positions[i].size;
            self.close_part(account, i, size, price, source);
        }
    }
}
