//! The bounded table behind the idempotency cache: entries by key, by age and by user, so that expiry,
//! eviction and the caps cost a lookup at the oldest entry, never a scan of the whole table.

use super::{Fingerprint, IdempotencyKey};
use crate::tv::PlacedOrder;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// The outcome of one placement, shared by the request that runs it and every resend waiting for it.
pub type Outcome = Arc<OnceCell<PlacedOrder>>;

/// Caps and ages of the table.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_entries: usize,
    pub max_per_user: usize,
    /// An entry younger than this is never evicted: a resend could still come and must not place again.
    pub retry_window: Duration,
    /// An entry older than this is forgotten.
    pub ttl: Duration,
}

/// Why a placement cannot take an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The request id was used for a different order.
    Conflict,
    /// The user's cap is reached and their oldest entry is still inside the retry window.
    UserFull { retry_in: Duration },
    /// The global cap is reached and the oldest entry is still inside the retry window.
    TableFull { retry_in: Duration },
}

struct Entry {
    fingerprint: Fingerprint,
    seq: u64,
    created: Instant,
    outcome: Outcome,
}

/// Entries by key, with the same keys ordered by age (a sequence number: entries are created in time
/// order) globally and per user.
pub struct Table {
    limits: Limits,
    entries: HashMap<Arc<IdempotencyKey>, Entry>,
    by_age: BTreeMap<u64, Arc<IdempotencyKey>>,
    by_user: HashMap<String, BTreeMap<u64, Arc<IdempotencyKey>>>,
    next_seq: u64,
}

impl Table {
    pub fn new(limits: Limits) -> Table {
        Table {
            limits,
            entries: HashMap::new(),
            by_age: BTreeMap::new(),
            by_user: HashMap::new(),
            next_seq: 0,
        }
    }

    /// Number of remembered request ids.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The outcome cell of `key`: the existing one when the same order was sent under it before, a new one
    /// otherwise (making room by evicting entries older than the retry window), or a refusal.
    pub fn admit(
        &mut self,
        key: IdempotencyKey,
        fingerprint: Fingerprint,
        now: Instant,
    ) -> Result<Outcome, Refusal> {
        self.expire(now);
        if let Some(entry) = self.entries.get(&key) {
            return if entry.fingerprint == fingerprint {
                Ok(entry.outcome.clone())
            } else {
                Err(Refusal::Conflict)
            };
        }
        self.make_room(&key.user, now)?;
        let key = Arc::new(key);
        let seq = self.next_seq;
        self.next_seq += 1;
        let outcome = Outcome::default();
        self.by_age.insert(seq, key.clone());
        self.by_user
            .entry(key.user.clone())
            .or_default()
            .insert(seq, key.clone());
        self.entries.insert(
            key,
            Entry {
                fingerprint,
                seq,
                created: now,
                outcome: outcome.clone(),
            },
        );
        Ok(outcome)
    }

    /// Drops the entry of a placement that failed, so that a refused order occupies nothing and its resend
    /// is evaluated afresh. Kept while another request still holds the cell: that resend is about to try
    /// the placement itself, and its order must be remembered under this key.
    pub fn forget_failed(&mut self, key: &IdempotencyKey, outcome: &Outcome) {
        let ours = self
            .entries
            .get(key)
            .is_some_and(|e| Arc::ptr_eq(&e.outcome, outcome));
        // The table's reference and the caller's: nobody else can reach the cell without this lock.
        if ours && !outcome.initialized() && Arc::strong_count(outcome) == 2 {
            self.remove(key);
        }
    }

    fn expire(&mut self, now: Instant) {
        while let Some((&seq, key)) = self.by_age.first_key_value() {
            let fresh = self
                .entries
                .get(&**key)
                .is_some_and(|e| now.saturating_duration_since(e.created) < self.limits.ttl);
            if fresh {
                break;
            }
            let key = key.clone();
            // Removed from the age index first, so the loop advances whatever `remove` finds.
            self.by_age.remove(&seq);
            self.remove(&key);
        }
    }

    fn make_room(&mut self, user: &str, now: Instant) -> Result<(), Refusal> {
        let user_oldest = self
            .by_user
            .get(user)
            .filter(|m| m.len() >= self.limits.max_per_user)
            .and_then(|m| m.first_key_value().map(|(_, k)| k.clone()));
        if let Some(key) = user_oldest {
            self.evict(&key, now)
                .map_err(|retry_in| Refusal::UserFull { retry_in })?;
        }
        if self.entries.len() >= self.limits.max_entries {
            if let Some(key) = self.by_age.first_key_value().map(|(_, k)| k.clone()) {
                self.evict(&key, now)
                    .map_err(|retry_in| Refusal::TableFull { retry_in })?;
            }
        }
        Ok(())
    }

    /// Removes `key` when it is past the retry window and its placement has finished; otherwise says how
    /// long until it will be.
    fn evict(&mut self, key: &IdempotencyKey, now: Instant) -> Result<(), Duration> {
        let Some(entry) = self.entries.get(key) else {
            return Ok(());
        };
        let age = now.saturating_duration_since(entry.created);
        if age < self.limits.retry_window || !entry.outcome.initialized() {
            let left = self.limits.retry_window.saturating_sub(age);
            return Err(left.max(Duration::from_secs(1)));
        }
        self.remove(key);
        Ok(())
    }

    fn remove(&mut self, key: &IdempotencyKey) {
        let Some(entry) = self.entries.remove(key) else {
            return;
        };
        self.by_age.remove(&entry.seq);
        if let Some(mine) = self.by_user.get_mut(&key.user) {
            mine.remove(&entry.seq);
            if mine.is_empty() {
                self.by_user.remove(&key.user);
            }
        }
    }
}
