//! What the history module keeps per (token, account) between calls: the last listing of final orders
//! (reused while the account's last transaction id stays put) and the fills read so far. Slots unused for
//! ten minutes are dropped once there are many.

use super::model::{Order, Transaction};
use crate::backends::oanda::venue::Conn;
use crate::sync::MutexExt;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Slots unused this long are dropped once there are more than [`MAX_IDLE_SLOTS`].
const IDLE_AFTER: Duration = Duration::from_secs(600);
const MAX_IDLE_SLOTS: usize = 256;

/// A token and an account. The token is part of the key (two users of one account must each be allowed
/// to read it) but never printed.
#[derive(Clone, PartialEq, Eq)]
struct Key {
    token: String,
    account: String,
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.token.hash(state);
        self.account.hash(state);
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key(********, {})", self.account)
    }
}

/// Final orders as last listed, with the last transaction id of the account answer they were listed for.
pub(super) type FinalsCache = Option<(String, Arc<Vec<Order>>)>;

/// The fills of the account (newest first) and the last transaction id up to which they are complete.
#[derive(Debug, Default)]
pub(super) struct FillLog {
    pub fills: Vec<Transaction>,
    /// 0: never scanned.
    pub scanned_to: u64,
}

/// The journal of one (token, account).
#[derive(Default)]
pub(super) struct Slot {
    last_used: Mutex<Option<Instant>>,
    pub finals: tokio::sync::Mutex<FinalsCache>,
    pub fills: tokio::sync::Mutex<FillLog>,
}

/// Every journal of the v20 venue.
#[derive(Default)]
pub struct Journals {
    slots: Mutex<HashMap<Key, Arc<Slot>>>,
}

impl std::fmt::Debug for Journals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.slots.lock().map(|s| s.len()).unwrap_or_default();
        f.debug_struct("Journals").field("slots", &n).finish()
    }
}

impl Journals {
    /// The slot of (token, account), made on first use; idle slots are dropped once there are many.
    pub(super) fn slot(&self, conn: &Conn, account: &str) -> Arc<Slot> {
        let key = Key {
            token: conn.token.expose().to_string(),
            account: account.to_string(),
        };
        let now = Instant::now();
        // A poisoned lock only means another thread panicked while holding it; the map is still sound.
        let mut slots = self.slots.locked();
        if slots.len() > MAX_IDLE_SLOTS && !slots.contains_key(&key) {
            slots.retain(|_, s| {
                s.last_used
                    .lock()
                    .map(|t| t.is_some_and(|t| now.duration_since(t) < IDLE_AFTER))
                    .unwrap_or(false)
            });
        }
        let slot = slots.entry(key).or_default().clone();
        if let Ok(mut t) = slot.last_used.lock() {
            *t = Some(now);
        }
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_print_the_token() {
        let key = Key {
            token: "secret-token".into(),
            account: "123".into(),
        };
        let printed = format!("{key:?}");
        assert!(!printed.contains("secret-token") && printed.contains("123"));
    }
}
