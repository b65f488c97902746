//! The finished-orders journal: orders the bridge saw reach a final status (filled, cancelled, rejected),
//! kept so that TradingView's `/orders` and `/ordersHistory` still show them after the upstream stops listing
//! them. [`Finished`] is the bounded list (replaced by id, never moved back from a final status),
//! [`WorkingWatch`] notices working orders that vanish from one listing to the next, [`AccountJournal`]
//! joins the two for a backend that learns finished orders only from its own writes and from listings,
//! and [`Journals`] keeps one journal per (upstream login, account), dropping those left idle.

mod table;
#[cfg(test)]
mod tests;

pub use table::Journals;

use crate::tv;
use std::collections::{HashMap, HashSet, VecDeque};

/// Finished orders kept per account unless a backend says otherwise (the oldest are dropped first).
pub const MAX_FINISHED: usize = 500;

struct Entry {
    order: tv::Order,
    /// The round ([`Finished::next_round`]) that recorded it.
    round: u64,
}

/// The finished orders of one account, oldest first: at most a fixed number, one per order id, and only
/// final statuses, so an order once shown filled, cancelled or rejected never shows as working again.
pub struct Finished {
    entries: VecDeque<Entry>,
    max: usize,
    round: u64,
}

impl Default for Finished {
    fn default() -> Self {
        Finished::new(MAX_FINISHED)
    }
}

impl Finished {
    /// A list of at most `max` orders (at least one).
    pub fn new(max: usize) -> Finished {
        Finished {
            entries: VecDeque::new(),
            max: max.max(1),
            round: 0,
        }
    }

    /// Starts a new round (one refresh of a backend that reconciles listings; see
    /// [`Finished::forget_relisted`]).
    pub fn next_round(&mut self) {
        self.round += 1;
    }

    /// Records `order`, replacing an earlier entry with its id (a later final status wins: a deal first
    /// seen rejected and then found filled). An order that is not final is refused (`false`): the journal
    /// holds only what can no longer change back.
    pub fn record(&mut self, order: tv::Order) -> bool {
        if !order.status.is_final() {
            tracing::debug!(id = %order.id, status = ?order.status, "not journalled: the order is not final");
            return false;
        }
        self.entries.retain(|e| e.order.id != order.id);
        self.entries.push_back(Entry {
            order,
            round: self.round,
        });
        while self.entries.len() > self.max {
            self.entries.pop_front();
        }
        true
    }

    /// The finished order `id`, if recorded.
    pub fn get(&self, id: &str) -> Option<&tv::Order> {
        self.entries.iter().find(|e| e.order.id == id).map(|e| &e.order)
    }

    /// Whether `id` is recorded as finished.
    pub fn contains(&self, id: &str) -> bool {
        self.get(id).is_some()
    }

    /// The finished orders, oldest first.
    pub fn orders(&self) -> impl Iterator<Item = &tv::Order> {
        self.entries.iter().map(|e| &e.order)
    }

    /// How many orders are recorded.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets the orders recorded in an earlier round that `listed` holds again and `reused` accepts: an
    /// upstream that reuses ids for a new order (OANDA v1 names a trade's bracket by the trade) set a new
    /// one, which is not the finished one coming back.
    pub fn forget_relisted(&mut self, listed: &HashSet<&str>, reused: impl Fn(&tv::Order) -> bool) {
        let round = self.round;
        self.entries
            .retain(|e| !(e.round < round && listed.contains(e.order.id.as_str()) && reused(&e.order)));
    }

    /// `working` without the orders recorded as finished (a listing that lags still shows them).
    pub fn hide_finished(&self, working: Vec<tv::Order>) -> Vec<tv::Order> {
        let finished: HashSet<&str> = self.entries.iter().map(|e| e.order.id.as_str()).collect();
        working
            .into_iter()
            .filter(|o| !finished.contains(o.id.as_str()))
            .collect()
    }
}

/// The working orders of the last listing, to notice those the next listing no longer has, with whether
/// this bridge was cancelling them (then their disappearance is a cancellation rather than a fill).
#[derive(Default)]
pub struct WorkingWatch {
    seen: HashMap<String, tv::Order>,
    cancelling: HashSet<String>,
}

impl WorkingWatch {
    /// Notes that this bridge is cancelling `id`.
    pub fn cancelling(&mut self, id: &str) {
        self.cancelling.insert(id.to_string());
    }

    /// Stops watching `id` (its end is known otherwise).
    pub fn forget(&mut self, id: &str) {
        self.seen.remove(id);
    }

    /// The watched orders `now` no longer lists, each with whether this bridge was cancelling it.
    pub fn vanished(&self, now: &[tv::Order]) -> Vec<(tv::Order, bool)> {
        let listed: HashSet<&str> = now.iter().map(|o| o.id.as_str()).collect();
        self.seen
            .values()
            .filter(|o| !listed.contains(o.id.as_str()))
            .map(|o| (o.clone(), self.cancelling.contains(&o.id)))
            .collect()
    }

    /// Watches `orders` from now on, instead of what was watched. Cancellation marks of orders no longer
    /// watched are dropped with them, so marks never pile up.
    pub fn watch(&mut self, orders: impl IntoIterator<Item = tv::Order>) {
        self.seen = orders.into_iter().map(|o| (o.id.clone(), o)).collect();
        let seen = &self.seen;
        self.cancelling.retain(|id| seen.contains_key(id));
    }

    /// How many orders are watched.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether no order is watched.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

/// The journal of one account for an upstream that lists only working orders: finished orders are what
/// the bridge's own writes ended, and working orders that vanished between two listings.
#[derive(Default)]
pub struct AccountJournal {
    finished: Finished,
    working: WorkingWatch,
}

impl AccountJournal {
    /// Records a finished order (see [`Finished::record`]); it is no longer watched as working.
    pub fn finish(&mut self, order: tv::Order) -> bool {
        self.working.forget(&order.id);
        self.finished.record(order)
    }

    /// Notes that this bridge is cancelling `id`.
    pub fn cancelling(&mut self, id: &str) {
        self.working.cancelling(id);
    }

    /// Takes the working orders listed now; returns those listed before and gone now, each with whether
    /// this bridge was cancelling it. Each vanished order is reported once.
    pub fn observe_working(&mut self, working: &[tv::Order]) -> Vec<(tv::Order, bool)> {
        let gone = self.working.vanished(working);
        self.working.watch(working.iter().cloned());
        gone
    }

    /// The finished orders, oldest first.
    pub fn finished(&self) -> Vec<tv::Order> {
        self.finished.orders().cloned().collect()
    }
}
