//! What the v1 venue keeps per (token, account) between calls: the journal of finished orders built from
//! the transaction history, and whether a write (or a change announced upstream) makes the next listing
//! read that history. Account reads are never cached here: the account hub serves the polls, one read of
//! each kind per refresh.

use super::super::venue::Conn;
use super::journal::Journal;
use crate::sync::MutexExt;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An account's books unused this long are dropped (with its journal of finished orders).
const IDLE: Duration = Duration::from_secs(600);

/// The books of one account as seen with one token.
#[derive(Default)]
pub struct AccountBooks {
    /// Set by writes: the next listing of orders reads the transaction history.
    pub transactions_due: AtomicBool,
    /// Orders that reached a final status, built from the transaction history.
    pub journal: tokio::sync::Mutex<Journal>,
    last_used: Mutex<Option<Instant>>,
}

impl AccountBooks {
    /// Notes a write (or an attempted one) on the account: the next listing reads the history.
    pub fn written(&self) {
        self.transactions_due.store(true, Ordering::SeqCst);
    }

    fn touch(&self) {
        *self.last_used.locked() = Some(Instant::now());
    }

    fn idle(&self) -> bool {
        self.last_used.locked().is_some_and(|t| t.elapsed() > IDLE)
    }
}

/// A key. The token is kept only to tell users apart; it never prints.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    token: String,
    account: String,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("token", &crate::secret::MASK)
            .field("account", &self.account)
            .finish()
    }
}

/// Every account's books of the venue.
#[derive(Default)]
pub struct Books {
    map: Mutex<HashMap<Key, Arc<AccountBooks>>>,
}

impl Books {
    /// The books of `account` for the connection's token (created on first use; idle ones are dropped).
    pub fn of(&self, conn: &Conn, account: &str) -> Arc<AccountBooks> {
        let key = Key {
            token: conn.token.expose().to_owned(),
            account: account.to_owned(),
        };
        let mut map = self.map.locked();
        map.retain(|k, c| k == &key || !c.idle());
        let books = map.entry(key).or_default().clone();
        books.touch();
        books
    }

    /// The account's event stream announced a change made elsewhere (another client, a triggered stop),
    /// which no write of this bridge accounts for: its next listing reads the history, under every token.
    pub fn changed_upstream(&self, account: &str) {
        let map = self.map.locked();
        for (key, books) in map.iter() {
            if key.account == account {
                books.written();
            }
        }
    }
}

impl std::fmt::Debug for Books {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.map.lock().map(|m| m.len()).unwrap_or_default();
        f.debug_struct("Books").field("accounts", &n).finish()
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
