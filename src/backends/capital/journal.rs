//! Orders of the current session that Capital.com no longer lists: filled market deals, rejected deals,
//! cancelled and filled working orders. TradingView expects them in `/orders` until the session ends.

use crate::sync::MutexExt;
use crate::tv;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// Most finished orders kept per account (the oldest are dropped first).
const MAX_FINISHED: usize = 500;

#[derive(Default)]
struct AccountJournal {
    finished: Vec<tv::Order>,
    /// Working orders seen at the last listing, to notice the ones that disappear.
    working: HashMap<String, tv::Order>,
    /// Working orders this bridge cancelled (their disappearance is a cancellation, not a fill).
    cancelled_here: HashSet<String>,
}

/// Per (bridge session, account) journals.
#[derive(Default)]
pub struct Journal {
    accounts: Mutex<HashMap<(String, String), AccountJournal>>,
}

impl Journal {
    /// Records a finished order (replacing an earlier entry with the same id).
    pub fn finish(&self, session: &str, account: &str, order: tv::Order) {
        let mut all = self.lock();
        let j = all.entry((session.to_string(), account.to_string())).or_default();
        j.working.remove(&order.id);
        j.finished.retain(|o| o.id != order.id);
        j.finished.push(order);
        if j.finished.len() > MAX_FINISHED {
            let excess = j.finished.len() - MAX_FINISHED;
            j.finished.drain(..excess);
        }
    }

    /// Notes that this bridge is cancelling `order_id`.
    pub fn cancelling(&self, session: &str, account: &str, order_id: &str) {
        let mut all = self.lock();
        let j = all.entry((session.to_string(), account.to_string())).or_default();
        j.cancelled_here.insert(order_id.to_string());
    }

    /// Takes the current working orders; returns those that were listed before and are gone now, each with
    /// whether this bridge cancelled it.
    pub fn observe_working(
        &self,
        session: &str,
        account: &str,
        working: &[tv::Order],
    ) -> Vec<(tv::Order, bool)> {
        let mut all = self.lock();
        let j = all.entry((session.to_string(), account.to_string())).or_default();
        let now: HashMap<String, tv::Order> = working
            .iter()
            .filter(|o| o.parent_id.is_none())
            .map(|o| (o.id.clone(), o.clone()))
            .collect();
        let gone: Vec<(tv::Order, bool)> = j
            .working
            .iter()
            .filter(|(id, _)| !now.contains_key(*id))
            .map(|(id, o)| (o.clone(), j.cancelled_here.contains(id)))
            .collect();
        for (o, _) in &gone {
            j.cancelled_here.remove(&o.id);
        }
        j.working = now;
        gone
    }

    /// The finished orders of an account, oldest first.
    pub fn finished(&self, session: &str, account: &str) -> Vec<tv::Order> {
        self.lock()
            .get(&(session.to_string(), account.to_string()))
            .map(|j| j.finished.clone())
            .unwrap_or_default()
    }

    /// Forgets a session (logout).
    pub fn end_session(&self, session: &str) {
        self.lock().retain(|(s, _), _| s != session);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), AccountJournal>> {
        self.accounts.locked()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn order(id: &str, status: tv::OrderStatus) -> tv::Order {
        tv::Order::new(
            id.into(),
            "EURUSD".into(),
            Decimal::ONE,
            tv::Side::Buy,
            tv::OrderType::Limit,
            status,
            0,
        )
    }

    #[test]
    fn disappearing_orders_are_reported_once_with_their_cause() {
        let j = Journal::default();
        let w = [
            order("A", tv::OrderStatus::Working),
            order("B", tv::OrderStatus::Working),
        ];
        assert!(j.observe_working("s", "acc", &w).is_empty());
        j.cancelling("s", "acc", "A");
        let gone = j.observe_working("s", "acc", &[]);
        assert_eq!(gone.len(), 2);
        assert!(gone.iter().any(|(o, by_us)| o.id == "A" && *by_us));
        assert!(gone.iter().any(|(o, by_us)| o.id == "B" && !*by_us));
        assert!(j.observe_working("s", "acc", &[]).is_empty());
    }

    #[test]
    fn finished_orders_replace_by_id_and_end_with_the_session() {
        let j = Journal::default();
        j.finish("s", "acc", order("A", tv::OrderStatus::Rejected));
        j.finish("s", "acc", order("A", tv::OrderStatus::Filled));
        j.finish("s", "other", order("B", tv::OrderStatus::Filled));
        let f = j.finished("s", "acc");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].status, tv::OrderStatus::Filled);
        j.end_session("s");
        assert!(j.finished("s", "acc").is_empty());
    }
}
