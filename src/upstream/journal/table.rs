//! One journal per (upstream login, account): made on first use, dropped with its login, and dropped once
//! left idle, so the table never outgrows the logins in use.

use crate::sync::MutexExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Journals unused this long may be dropped, unless a backend says otherwise.
pub const IDLE_AFTER: Duration = Duration::from_secs(600);

/// An upstream login (a token, a session id) and an account. The login tells two users of one account
/// apart; it may be a secret, so it never prints.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(super) struct Key {
    login: String,
    account: String,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("login", &crate::secret::MASK)
            .field("account", &self.account)
            .finish()
    }
}

pub(super) struct Slot<J> {
    journal: Arc<J>,
    last_used: Instant,
}

/// Per (login, account) journals of type `J` (whatever a backend keeps per account between calls).
pub struct Journals<J> {
    pub(super) slots: Mutex<HashMap<Key, Slot<J>>>,
    idle_after: Duration,
    keep: usize,
}

impl<J> std::fmt::Debug for Journals<J> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.slots.locked().len();
        f.debug_struct("Journals").field("slots", &n).finish()
    }
}

impl<J: Default> Default for Journals<J> {
    fn default() -> Self {
        Journals::new(IDLE_AFTER, 0)
    }
}

impl<J: Default> Journals<J> {
    /// Journals dropped once unused for `idle_after`, when there are more than `keep` of them (a journal
    /// that is rebuilt at a cost, e.g. by reading the upstream's history again, is worth keeping a while).
    pub fn new(idle_after: Duration, keep: usize) -> Journals<J> {
        Journals {
            slots: Mutex::new(HashMap::new()),
            idle_after,
            keep,
        }
    }

    /// The journal of (`login`, `account`), made on first use. Other journals left idle are dropped here;
    /// the one asked for never is.
    pub fn of(&self, login: &str, account: &str) -> Arc<J> {
        let key = Key {
            login: login.to_string(),
            account: account.to_string(),
        };
        let now = Instant::now();
        let mut slots = self.slots.locked();
        if slots.len() > self.keep {
            let idle_after = self.idle_after;
            slots.retain(|k, s| k == &key || now.duration_since(s.last_used) < idle_after);
        }
        let slot = slots.entry(key).or_insert_with(|| Slot {
            journal: Arc::new(J::default()),
            last_used: now,
        });
        slot.last_used = now;
        slot.journal.clone()
    }
}

impl<J> Journals<J> {
    /// The journals of `account` under every login (an upstream event about the account concerns them all).
    pub fn of_account(&self, account: &str) -> Vec<Arc<J>> {
        self.slots
            .locked()
            .iter()
            .filter(|(k, _)| k.account == account)
            .map(|(_, s)| s.journal.clone())
            .collect()
    }

    /// Drops every journal of `login` (logout).
    pub fn end_login(&self, login: &str) {
        self.slots.locked().retain(|k, _| k.login != login);
    }

    /// How many journals are kept.
    pub fn len(&self) -> usize {
        self.slots.locked().len()
    }

    /// Whether no journal is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
