//! Orders that reached a final status, for `/orders`: v1 lists only pending orders and open trades, so
//! filled, cancelled and rejected orders come from the transaction history, and brackets that vanish
//! with their trade or order are finished here.
//!
//! The history is read incrementally (transactions after the last one seen), and only when something may
//! have finished: when the listed orders or trades changed since the last refresh, after a write of the
//! bridge, or every [`SYNC_EVERY`] anyway. Each refresh compares what is listed now with what was listed
//! before: an order that is gone has its final status from the history; a bracket that is gone without
//! a transaction of its own is cancelled (its trade closed, its order filled or cancelled, or it was
//! removed).

use super::convert::{final_order, Known, OrderInfo};
use super::model::Transaction;
use crate::tv::{self, InfoMessage, MessageType, OrderStatus, ParentType};
use crate::upstream::journal::{Finished, WorkingWatch};
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

/// The history is read at least this often even when nothing listed changed (an order placed and
/// cancelled elsewhere between two refreshes changes nothing listed).
pub const SYNC_EVERY: Duration = Duration::from_secs(15);
/// What one refresh listed besides the working orders: the ids of pending orders and open trades.
#[derive(Debug, Default)]
pub struct Listed {
    pub orders: HashSet<u64>,
    pub trades: HashSet<u64>,
}

/// The finished orders of one account, and what is needed to recognise orders that finish.
#[derive(Default)]
pub struct Journal {
    /// Orders and trades known from listings and from the history.
    pub known: Known,
    last_tx: Option<u64>,
    synced_at: Option<Instant>,
    fingerprint: Option<u64>,
    /// Working orders (entries and brackets) of the last refresh.
    seen: WorkingWatch,
    /// Orders that reached a final status; a round is one refresh.
    finals: Finished,
}

/// A digest of what is listed: working order ids and prices, trade ids and units.
pub fn fingerprint(working: &[tv::Order], trades: &[(u64, rust_decimal::Decimal)]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut ids: Vec<String> = working
        .iter()
        .map(|o| format!("{}:{}:{:?}:{:?}", o.id, o.qty, o.limit_price, o.stop_price))
        .collect();
    ids.sort();
    ids.hash(&mut h);
    let mut trades = trades.to_vec();
    trades.sort();
    trades.hash(&mut h);
    h.finish()
}

impl Journal {
    /// The id of the newest transaction read, `None` before the first read.
    pub fn last_transaction(&self) -> Option<u64> {
        self.last_tx
    }

    /// Whether this refresh should read the history.
    pub fn needs_sync(&self, fingerprint: u64, due: bool) -> bool {
        due || self.last_tx.is_none()
            || self.fingerprint != Some(fingerprint)
            || self.synced_at.is_none_or(|t| t.elapsed() >= SYNC_EVERY)
    }

    /// Remembers a pending order's details (to describe it once it is filled or cancelled).
    pub fn learn_order(&mut self, id: u64, info: OrderInfo) {
        self.known.learn_order(id, info);
    }

    /// One refresh. `working` is what OANDA lists now (pending orders with their brackets, and trade
    /// brackets); `read` the transactions read this time (newest first) with whether they reach back to
    /// the previous read, or `None` when the history was not read; `fingerprint` of the listing. Returns
    /// the orders to show: working ones that have not finished, then every finished order (the caller
    /// keeps those of its session).
    pub fn refresh(
        &mut self,
        working: Vec<tv::Order>,
        listed: &Listed,
        read: Option<(Vec<Transaction>, bool)>,
        fingerprint: u64,
        now_secs: i64,
        symbol_of: &dyn Fn(&str) -> String,
    ) -> Vec<tv::Order> {
        self.finals.next_round();
        let mut complete = false;
        if let Some((txs, whole)) = read {
            complete = whole;
            self.known.learn(&txs);
            for tx in txs.iter().rev() {
                if let Some(o) = final_order(tx, &self.known, symbol_of) {
                    self.finals.record(o);
                }
            }
            if let Some(newest) = txs.iter().map(|t| t.id).max() {
                self.last_tx = Some(self.last_tx.map_or(newest, |l| l.max(newest)));
            } else if self.last_tx.is_none() {
                self.last_tx = Some(0);
            }
            self.synced_at = Some(Instant::now());
            self.fingerprint = Some(fingerprint);
        }
        let now_ids: HashSet<&str> = working.iter().map(|o| o.id.as_str()).collect();
        let vanished: Vec<tv::Order> = self
            .seen
            .vanished(&working)
            .into_iter()
            .map(|(o, _)| o)
            .filter(|o| !self.finals.contains(&o.id))
            .collect();
        // What cannot be told yet (the history was not read in full) is looked at again next time.
        let mut unresolved = Vec::new();
        for o in vanished {
            match self.vanished_bracket(o.clone(), listed, complete, now_secs) {
                Some(done) => {
                    self.finals.record(done);
                }
                None if !complete => unresolved.push(o),
                None => {}
            }
        }
        // A bracket finished in an earlier refresh and listed again was set anew on its order or trade.
        self.finals.forget_relisted(&now_ids, |o| o.parent_id.is_some());
        let working = self.finals.hide_finished(working);
        self.seen.watch(working.iter().cloned().chain(unresolved));
        let mut out = working;
        out.extend(self.finals.orders().cloned());
        out
    }

    /// The final status of a bracket order that is no longer listed and has no transaction of its own;
    /// `None` for an entry order (its fate is in the history, or unknown) or when the history read was
    /// incomplete (its own fill may be among the unread transactions).
    fn vanished_bracket(
        &self,
        mut o: tv::Order,
        listed: &Listed,
        complete: bool,
        now: i64,
    ) -> Option<tv::Order> {
        let parent: u64 = o.parent_id.as_deref()?.parse().ok()?;
        let parent_final = self.finals.get(&parent.to_string()).map(|p| p.status);
        let text = match (o.parent_type?, parent_final) {
            (ParentType::Order, Some(OrderStatus::Filled)) => Some(format!(
                "Order {parent} filled; its brackets now belong to the trade it opened."
            )),
            (ParentType::Order, Some(_)) => None,
            (ParentType::Order, None) if listed.orders.contains(&parent) => None,
            (ParentType::Position, _) if listed.trades.contains(&parent) => None,
            (ParentType::Position, _) if complete => Some(format!("Trade {parent} was closed.")),
            _ => return None,
        };
        o.status = OrderStatus::Cancelled;
        o.last_modified = Some(now);
        o.message = text.map(|text| InfoMessage {
            text,
            kind: MessageType::Information,
        });
        Some(o)
    }
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;
