//! What the v1 venue keeps per (token, account) between calls: the journal of finished orders built from
//! the transaction history, and whether a write (or a change announced upstream) makes the next listing
//! read that history. Account reads are never cached here: the account hub serves the polls, one read of
//! each kind per refresh.

use super::super::venue::Conn;
use super::journal::Journal;
use crate::upstream::journal::Journals;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// An account's books unused this long are dropped (with its journal of finished orders).
const IDLE: Duration = Duration::from_secs(600);

/// The books of one account as seen with one token.
#[derive(Default)]
pub struct AccountBooks {
    /// Set by writes: the next listing of orders reads the transaction history.
    pub transactions_due: AtomicBool,
    /// Orders that reached a final status, built from the transaction history.
    pub journal: tokio::sync::Mutex<Journal>,
}

impl AccountBooks {
    /// Notes a write (or an attempted one) on the account: the next listing reads the history.
    pub fn written(&self) {
        self.transactions_due.store(true, Ordering::SeqCst);
    }
}

/// Every account's books of the venue, per (token, account): the token tells two users of one account apart.
pub struct Books(Journals<AccountBooks>);

impl Default for Books {
    fn default() -> Self {
        // Unused books are dropped (with their journal) as soon as they have been idle for [`IDLE`].
        Books(Journals::new(IDLE, 0))
    }
}

impl Books {
    /// The books of `account` for the connection's token (created on first use; idle ones are dropped).
    pub fn of(&self, conn: &Conn, account: &str) -> Arc<AccountBooks> {
        self.0.of(conn.token.expose(), account)
    }

    /// The account's event stream announced a change made elsewhere (another client, a triggered stop),
    /// which no write of this bridge accounts for: its next listing reads the history, under every token.
    pub fn changed_upstream(&self, account: &str) {
        for books in self.0.of_account(account) {
            books.written();
        }
    }
}

impl std::fmt::Debug for Books {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
