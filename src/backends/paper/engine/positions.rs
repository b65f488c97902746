//! Position changes: brackets on positions, reverse, and (partial) close, each done the way a broker
//! does it, with a market order that shows up in orders, executions and history.

use super::orders::BracketParent;
use super::{rejected, Engine, EngineResult, PaperOrder};
use crate::broker::BrokerError;
use crate::tv::{self, Brackets, OrderStatus, OrderType, ParentType, Side};
use rust_decimal::Decimal;

impl Engine {
    fn position(&self, account: &str, position_id: &str) -> EngineResult<super::PaperPosition> {
        self.book(account)?
            .positions
            .iter()
            .find(|p| p.id == position_id)
            .cloned()
            .ok_or_else(|| {
                BrokerError::NotFound(format!("Unknown position '{position_id}' on account {account}"))
            })
    }

    /// Sets the full bracket set of a position (netting or individual); `side` reverses a netting position.
    pub fn modify_position(
        &mut self,
        account: &str,
        position_id: &str,
        change: tv::ModifyPosition,
        now_ms: i64,
    ) -> EngineResult<()> {
        let pos = self.position(account, position_id)?;
        if let Some(side) = change.side {
            if side == pos.side {
                return Err(rejected(format!("position {position_id} is already {side}")));
            }
            // Reverse: one market order of twice the size closes the position and opens the opposite one.
            self.market_order(
                account,
                &pos.instrument,
                side,
                pos.qty * Decimal::TWO,
                None,
                now_ms,
            )?;
            return Ok(());
        }
        self.set_position_brackets(account, &pos, &change.brackets, now_ms)
    }

    fn set_position_brackets(
        &mut self,
        account: &str,
        pos: &super::PaperPosition,
        wanted: &Brackets,
        now_ms: i64,
    ) -> EngineResult<()> {
        let t = now_ms.div_euclid(1000);
        let ins = self.instrument(&pos.instrument)?.clone();
        let tick = self.market.tick(&ins, t);
        // A long position closes at the bid, a short one at the ask.
        let reference = if pos.side == Side::Buy { tick.bid } else { tick.ask };
        super::orders::check_bracket_prices(&ins, wanted, pos.side, reference, "the current price")?;
        let parent = BracketParent {
            id: pos.id.clone(),
            kind: ParentType::Position,
            side: pos.side,
            qty: pos.qty,
            reference,
            status: OrderStatus::Working,
            close_target: Some(pos.id.clone()),
        };
        self.sync_brackets(account, &ins, &parent, wanted, t)?;
        self.touch(account);
        Ok(())
    }

    /// Closes `amount` (default: all) of a position with a market order.
    pub fn close_position(
        &mut self,
        account: &str,
        position_id: &str,
        amount: Option<Decimal>,
        now_ms: i64,
    ) -> EngineResult<()> {
        let pos = self.position(account, position_id)?;
        let qty = amount.unwrap_or(pos.qty);
        if qty > pos.qty {
            return Err(rejected(format!(
                "cannot close {qty} of position {position_id}: it holds {}",
                pos.qty
            )));
        }
        let step = self.instrument(&pos.instrument)?.cfg.qty_step;
        if !step.is_zero() && !(qty % step).is_zero() {
            return Err(rejected(format!(
                "amount {qty} is not a multiple of the quantity step {step}"
            )));
        }
        self.market_order(
            account,
            &pos.instrument,
            pos.side.opposite(),
            qty,
            Some(pos.id.clone()),
            now_ms,
        )?;
        Ok(())
    }

    /// Closes every individual position of a net position (id = the instrument).
    pub fn close_net_position(&mut self, account: &str, net_id: &str, now_ms: i64) -> EngineResult<()> {
        let ids: Vec<String> = self
            .book(account)?
            .positions
            .iter()
            .filter(|p| p.instrument == net_id)
            .map(|p| p.id.clone())
            .collect();
        if ids.is_empty() {
            return Err(BrokerError::NotFound(format!(
                "Unknown net position '{net_id}' on account {account}"
            )));
        }
        for id in ids {
            self.close_position(account, &id, None, now_ms)?;
        }
        Ok(())
    }

    /// Sets the brackets of an individual position.
    pub fn modify_individual_position(
        &mut self,
        account: &str,
        position_id: &str,
        brackets: Brackets,
        now_ms: i64,
    ) -> EngineResult<()> {
        let pos = self.position(account, position_id)?;
        self.set_position_brackets(account, &pos, &brackets, now_ms)
    }

    /// Sends a market order on the user's behalf and reports its outcome.
    fn market_order(
        &mut self,
        account: &str,
        instrument: &str,
        side: Side,
        qty: Decimal,
        close_target: Option<String>,
        now_ms: i64,
    ) -> EngineResult<String> {
        let t = now_ms.div_euclid(1000);
        let ins = self.instrument(instrument)?.clone();
        if close_target.is_none() {
            self.check_margin(account, &ins, side, qty, None, t)?;
        }
        let id = self.next_id("");
        let order = tv::Order::new(
            id.clone(),
            instrument.to_owned(),
            qty,
            side,
            OrderType::Market,
            OrderStatus::Working,
            t,
        );
        self.book_mut(account)?.orders.push(PaperOrder {
            close_target,
            ..PaperOrder::new(order)
        });
        let tick = self.market.tick(&ins, t);
        self.try_execute(account, &id, &tick, now_ms);
        self.touch(account);
        let po = self.order_mut(account, &id)?;
        match po.order.status {
            OrderStatus::Filled => Ok(id),
            _ => Err(rejected(
                po.order
                    .message
                    .as_ref()
                    .map(|m| m.text.clone())
                    .unwrap_or_else(|| "the order could not be filled".into()),
            )),
        }
    }
}
