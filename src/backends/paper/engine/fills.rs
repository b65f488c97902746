//! Triggering and filling orders against the market, and what a fill does to positions, balance,
//! brackets (activation, one-cancels-other) and executions.

use super::{rejected, to_grid, Engine, EngineResult, PaperPosition, MAX_EXECUTIONS};
use crate::backends::paper::feed::Tick;
use crate::backends::paper::market::PaperInstrument;
use crate::tv::{self, OrderStatus, OrderType, ParentType, Side};
use rust_decimal::Decimal;

impl Engine {
    /// Checks every working order against the market of second `t`.
    pub(super) fn evaluate_second(&mut self, t: i64) {
        let mut work: Vec<(String, String)> = Vec::new();
        for book in self.state.accounts.values() {
            for po in &book.orders {
                if po.order.status == OrderStatus::Working {
                    work.push((book.id.clone(), po.order.id.clone()));
                }
            }
        }
        for (account, order_id) in work {
            let Some(ins) = self
                .book(&account)
                .ok()
                .and_then(|b| b.orders.iter().find(|o| o.order.id == order_id))
                .and_then(|po| self.market.get(&po.order.instrument))
                .cloned()
            else {
                continue;
            };
            let tick = self.market.tick(&ins, t);
            self.try_execute(&account, &order_id, &tick, t * 1000);
        }
    }

    /// Expires, trails, triggers or fills one working order at `tick`.
    pub(super) fn try_execute(&mut self, account: &str, order_id: &str, tick: &Tick, now_ms: i64) {
        let tick_size = self
            .market
            .get(&tick_symbol(self, account, order_id))
            .map(|i| i.cfg.tick_size)
            .unwrap_or_default();
        let Ok(po) = self.order_mut(account, order_id) else {
            return;
        };
        if po.order.status != OrderStatus::Working {
            return;
        }
        if po.expires_at.is_some_and(|at| tick.t >= at) {
            self.finish(
                account,
                order_id,
                OrderStatus::Cancelled,
                Some("expired".into()),
                now_ms,
            );
            self.touch(account);
            return;
        }
        let side = po.order.side;
        // What this order would trade at: a buy lifts the ask, a sell hits the bid.
        let market = if side == Side::Buy { tick.ask } else { tick.bid };
        let crossed = |level: Decimal| {
            if side == Side::Buy {
                market >= level
            } else {
                market <= level
            }
        };
        let better = |limit: Decimal| {
            if side == Side::Buy {
                market <= limit
            } else {
                market >= limit
            }
        };
        if let Some(distance) = po.trailing_distance {
            if let Some(stop) = po.order.stop_price {
                // A sell stop trails below the bid and only ever rises; a buy stop trails above the ask.
                let trailed = to_grid(market - side.opposite().sign() * distance, tick_size);
                let moved = if side == Side::Sell {
                    trailed > stop
                } else {
                    trailed < stop
                };
                if moved {
                    po.order.stop_price = Some(trailed);
                    po.order.last_modified = Some(tick.t);
                    self.touch(account);
                }
            }
        }
        let Ok(po) = self.order_mut(account, order_id) else {
            return;
        };
        let price = match po.order.kind {
            OrderType::Market => Some(market),
            OrderType::Limit => po.order.limit_price.filter(|l| better(*l)).map(|_| market),
            OrderType::Stop => po.order.stop_price.filter(|s| crossed(*s)).map(|s| {
                if po.order.is_guaranteed_stop == Some(true) {
                    s
                } else {
                    market
                }
            }),
            OrderType::StopLimit => {
                if !po.triggered && po.order.stop_price.is_some_and(crossed) {
                    po.triggered = true;
                    po.order.last_modified = Some(tick.t);
                    self.touch(account);
                }
                let Ok(po) = self.order_mut(account, order_id) else {
                    return;
                };
                po.order
                    .limit_price
                    .filter(|l| po.triggered && better(*l))
                    .map(|_| market)
            }
        };
        if let Some(price) = price {
            if let Err(e) = self.fill(account, order_id, price, tick.t, now_ms) {
                self.finish(
                    account,
                    order_id,
                    OrderStatus::Rejected,
                    Some(e.to_string()),
                    now_ms,
                );
            }
            self.touch(account);
        }
    }

    /// Fills `order_id` completely at `price`: positions, balance, executions and brackets follow.
    fn fill(
        &mut self,
        account: &str,
        order_id: &str,
        price: Decimal,
        t: i64,
        now_ms: i64,
    ) -> EngineResult<()> {
        let po = self.order_mut(account, order_id)?.clone();
        let ins = self.instrument(&po.order.instrument)?.clone();
        let side = po.order.side;
        let book = self.book(account)?;
        let (hedging, account_ccy) = (book.hedging, book.currency.clone());
        // A closing order never opens or grows a position: it closes at most what is there.
        let mut qty = po.order.qty;
        if let Some(target) = &po.close_target {
            let Some(pos) = book.positions.iter().find(|p| &p.id == target) else {
                self.finish(
                    account,
                    order_id,
                    OrderStatus::Cancelled,
                    Some("the position is already closed".into()),
                    now_ms,
                );
                return Ok(());
            };
            if pos.side == side {
                self.finish(
                    account,
                    order_id,
                    OrderStatus::Cancelled,
                    Some("the position changed side".into()),
                    now_ms,
                );
                return Ok(());
            }
            qty = qty.min(pos.qty);
        } else {
            self.check_margin(account, &ins, side, qty, Some(price), t)?;
        }
        let rate = self.to_account(&ins.cfg.currency, &account_ccy, t)?;
        let commission = (commission_in_quote(&ins, qty, price) * rate).round_dp(2);
        let (position_id, realized, is_close) = if hedging {
            self.fill_hedging(account, &ins, &po.close_target, side, qty, price, now_ms)?
        } else {
            self.fill_netting(account, &ins, side, qty, price, now_ms)?
        };
        let realized = (realized * rate).round_dp(2);
        let execution_id = self.next_id("E");
        let book = self.book_mut(account)?;
        book.balance += realized - commission;
        book.realized_pl += realized;
        book.executions.push(tv::Execution {
            id: execution_id,
            instrument: ins.cfg.symbol.clone(),
            price,
            time: t,
            qty,
            side,
            order_id: order_id.to_owned(),
            is_close,
            position_id: position_id.clone(),
            commission: Some(commission),
        });
        if book.executions.len() > MAX_EXECUTIONS {
            book.executions.remove(0);
        }
        let order = self.order_mut(account, order_id)?;
        order.order.filled_qty = Some(qty);
        order.order.avg_price = Some(price);
        self.finish(account, order_id, OrderStatus::Filled, None, now_ms);
        if po.bracket.is_some() {
            self.cancel_siblings(account, &po, now_ms);
        }
        self.activate_children(account, order_id, position_id.as_deref(), t, now_ms);
        self.resize_position_brackets(account, &ins, now_ms);
        Ok(())
    }

    /// Netting: one position per instrument, id = the instrument. Returns (position id, realized P/L in
    /// quote currency, whether the fill reduced a position).
    fn fill_netting(
        &mut self,
        account: &str,
        ins: &PaperInstrument,
        side: Side,
        qty: Decimal,
        price: Decimal,
        now_ms: i64,
    ) -> EngineResult<(Option<String>, Decimal, bool)> {
        let id = ins.cfg.symbol.clone();
        let book = self.book_mut(account)?;
        let Some(i) = book.positions.iter().position(|p| p.id == id) else {
            book.positions.push(PaperPosition {
                id: id.clone(),
                instrument: id.clone(),
                side,
                qty,
                avg_price: price,
                opened_ms: now_ms,
            });
            return Ok((Some(id), Decimal::ZERO, false));
        };
        let pos = &mut book.positions[i];
        if pos.side == side {
            pos.avg_price = ((pos.avg_price * pos.qty + price * qty) / (pos.qty + qty))
                .round_dp(10)
                .normalize();
            pos.qty += qty;
            return Ok((Some(id), Decimal::ZERO, false));
        }
        let closing = qty.min(pos.qty);
        let realized = (price - pos.avg_price) * closing * pos.side.sign();
        pos.qty -= closing;
        let rest = qty - closing;
        if pos.qty.is_zero() {
            book.positions.remove(i);
            if rest > Decimal::ZERO {
                book.positions.push(PaperPosition {
                    id: id.clone(),
                    instrument: id.clone(),
                    side,
                    qty: rest,
                    avg_price: price,
                    opened_ms: now_ms,
                });
            }
        }
        Ok((Some(id), realized, true))
    }

    /// Hedging: an opening fill creates an individual position; a closing fill reduces its target.
    #[allow(clippy::too_many_arguments)]
    fn fill_hedging(
        &mut self,
        account: &str,
        ins: &PaperInstrument,
        target: &Option<String>,
        side: Side,
        qty: Decimal,
        price: Decimal,
        now_ms: i64,
    ) -> EngineResult<(Option<String>, Decimal, bool)> {
        match target {
            None => {
                let id = self.next_id("P");
                self.book_mut(account)?.positions.push(PaperPosition {
                    id: id.clone(),
                    instrument: ins.cfg.symbol.clone(),
                    side,
                    qty,
                    avg_price: price,
                    opened_ms: now_ms,
                });
                Ok((Some(id), Decimal::ZERO, false))
            }
            Some(id) => {
                let book = self.book_mut(account)?;
                let i = book
                    .positions
                    .iter()
                    .position(|p| &p.id == id)
                    .ok_or_else(|| rejected(format!("position {id} is already closed")))?;
                let pos = &mut book.positions[i];
                let realized = (price - pos.avg_price) * qty * pos.side.sign();
                pos.qty -= qty;
                if pos.qty <= Decimal::ZERO {
                    book.positions.remove(i);
                }
                Ok((Some(id.clone()), realized, true))
            }
        }
    }

    /// One-cancels-other: a filled bracket cancels the other brackets of the same parent.
    fn cancel_siblings(&mut self, account: &str, filled: &super::PaperOrder, now_ms: i64) {
        let Ok(book) = self.book(account) else { return };
        let siblings: Vec<String> = book
            .orders
            .iter()
            .filter(|o| {
                o.is_active()
                    && o.bracket.is_some()
                    && o.order.id != filled.order.id
                    && o.order.parent_id == filled.order.parent_id
                    && o.order.parent_type == filled.order.parent_type
            })
            .map(|o| o.order.id.clone())
            .collect();
        for id in siblings {
            self.finish(
                account,
                &id,
                OrderStatus::Cancelled,
                Some("one-cancels-other".into()),
                now_ms,
            );
        }
    }

    /// A filled parent's brackets start working on the position it opened; on a netting account they
    /// replace the position's earlier brackets.
    fn activate_children(
        &mut self,
        account: &str,
        parent_id: &str,
        position_id: Option<&str>,
        t: i64,
        now_ms: i64,
    ) {
        let Ok(book) = self.book(account) else { return };
        let children: Vec<String> = book
            .orders
            .iter()
            .filter(|o| {
                o.is_active()
                    && o.order.parent_type == Some(ParentType::Order)
                    && o.order.parent_id.as_deref() == Some(parent_id)
            })
            .map(|o| o.order.id.clone())
            .collect();
        if children.is_empty() {
            return;
        }
        let Some(position_id) = position_id.filter(|id| book.positions.iter().any(|p| p.id == *id)) else {
            for id in children {
                self.finish(
                    account,
                    &id,
                    OrderStatus::Cancelled,
                    Some("the position is already closed".into()),
                    now_ms,
                );
            }
            return;
        };
        let position_id = position_id.to_owned();
        if !book.hedging {
            let older: Vec<String> = book
                .orders
                .iter()
                .filter(|o| {
                    o.is_active()
                        && o.order.parent_type == Some(ParentType::Position)
                        && o.order.parent_id.as_deref() == Some(&position_id)
                })
                .map(|o| o.order.id.clone())
                .collect();
            for id in older {
                self.finish(
                    account,
                    &id,
                    OrderStatus::Cancelled,
                    Some("replaced by new brackets".into()),
                    now_ms,
                );
            }
        }
        for id in children {
            if let Ok(po) = self.order_mut(account, &id) {
                po.order.status = OrderStatus::Working;
                po.order.parent_type = Some(ParentType::Position);
                po.order.parent_id = Some(position_id.clone());
                po.close_target = Some(position_id.clone());
                po.order.last_modified = Some(t);
            }
        }
    }

    /// Keeps position brackets covering exactly their position: same quantity, opposite side; brackets of
    /// a closed or reversed position are cancelled.
    fn resize_position_brackets(&mut self, account: &str, ins: &PaperInstrument, now_ms: i64) {
        let Ok(book) = self.book_mut(account) else { return };
        let mut cancel = Vec::new();
        let positions = book.positions.clone();
        for po in book.orders.iter_mut().filter(|o| {
            o.is_active()
                && o.order.parent_type == Some(ParentType::Position)
                && o.order.instrument == ins.cfg.symbol
        }) {
            match positions
                .iter()
                .find(|p| Some(p.id.as_str()) == po.order.parent_id.as_deref())
            {
                Some(p) if p.side != po.order.side => po.order.qty = p.qty,
                _ => cancel.push(po.order.id.clone()),
            }
        }
        for id in cancel {
            self.finish(
                account,
                &id,
                OrderStatus::Cancelled,
                Some("the position is closed".into()),
                now_ms,
            );
        }
    }

    /// Refuses a fill that would leave less than zero free margin. Reducing trades always pass.
    pub(super) fn check_margin(
        &self,
        account: &str,
        ins: &PaperInstrument,
        side: Side,
        qty: Decimal,
        price: Option<Decimal>,
        t: i64,
    ) -> EngineResult<()> {
        let book = self.book(account)?;
        let added_units = if book.hedging {
            qty
        } else {
            let current: Decimal = book
                .positions
                .iter()
                .filter(|p| p.instrument == ins.cfg.symbol)
                .map(|p| p.qty * p.side.sign())
                .sum();
            (current + qty * side.sign()).abs() - current.abs()
        };
        if added_units <= Decimal::ZERO {
            return Ok(());
        }
        let rate = self.to_account(&ins.cfg.currency, &book.currency, t)?;
        let price = price.unwrap_or_else(|| self.market.mid(ins, t));
        let leverage = self.leverage_of(book, ins);
        let needed = (added_units * price * rate / leverage).round_dp(2);
        let commission = (commission_in_quote(ins, qty, price) * rate).round_dp(2);
        let summary = self.summary(book, t)?;
        let free = summary.margin_available - commission;
        if needed > free {
            return Err(rejected(format!(
                "insufficient margin: this order needs {needed} {ccy} of margin, {free} {ccy} is available",
                free = free.round_dp(2),
                ccy = book.currency
            )));
        }
        Ok(())
    }
}

fn tick_symbol(engine: &Engine, account: &str, order_id: &str) -> String {
    engine
        .book(account)
        .ok()
        .and_then(|b| b.orders.iter().find(|o| o.order.id == order_id))
        .map(|o| o.order.instrument.clone())
        .unwrap_or_default()
}

/// Commission of a fill, in the instrument's quote currency.
pub(super) fn commission_in_quote(ins: &PaperInstrument, qty: Decimal, price: Decimal) -> Decimal {
    let c = &ins.cfg;
    let raw = c.commission_rate * qty * price + c.commission_per_unit * qty;
    if raw.is_zero() {
        raw
    } else {
        raw.max(c.commission_min)
    }
}
