//! One transaction stream per traded account: every transaction (a fill, a cancel, a stop triggered...) makes
//! the account hub refresh at once instead of at its next poll. After a reconnection a change is announced
//! too, since transactions may have been missed while the stream was down.

use super::lines::LineReader;
use super::StreamOptions;
use crate::backends::oanda::errors::broker_error;
use crate::backends::oanda::venue::{Conn, StreamLine, Venue};
use crate::broker::BrokerError;
use crate::sync::MutexExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Pending change announcements kept for slow hubs (a lagging hub refreshes anyway).
const CHANGES_BUFFER: usize = 256;

struct Watch {
    /// Bridge sessions using the account.
    users: usize,
    task: JoinHandle<()>,
}

/// The account watchers, shared by every session trading the same account.
pub struct Watchers {
    changes: broadcast::Sender<String>,
    watches: Mutex<HashMap<String, Watch>>,
    options: StreamOptions,
    connections: Arc<std::sync::atomic::AtomicU64>,
}

impl Watchers {
    pub fn new(options: StreamOptions) -> Watchers {
        Watchers {
            changes: broadcast::channel(CHANGES_BUFFER).0,
            watches: Mutex::new(HashMap::new()),
            options,
            connections: Arc::default(),
        }
    }

    /// Ids of accounts whose transactions streamed in.
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.changes.subscribe()
    }

    /// Starts watching `account` for one more session (the first one opens the stream).
    pub fn watch(&self, conn: &Conn, account: &str, venue: Arc<dyn Venue>) {
        let mut watches = self.watches.locked();
        if let Some(w) = watches.get_mut(account) {
            if !w.task.is_finished() {
                w.users += 1;
                return;
            }
        }
        let users = watches.get(account).map_or(1, |w| w.users + 1);
        let task = tokio::spawn(watch_account(
            conn.clone(),
            account.to_string(),
            venue,
            self.changes.clone(),
            self.options,
            self.connections.clone(),
        ));
        watches.insert(account.to_string(), Watch { users, task });
    }

    /// One session stopped using `account`; the last one closes the stream.
    pub fn unwatch(&self, account: &str) {
        let mut watches = self.watches.locked();
        if let Some(w) = watches.get_mut(account) {
            w.users = w.users.saturating_sub(1);
            if w.users == 0 {
                w.task.abort();
                watches.remove(account);
            }
        }
    }

    /// Transaction stream connections opened so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for Watchers {
    fn drop(&mut self) {
        for (_, w) in self.watches.locked().drain() {
            w.task.abort();
        }
    }
}

async fn watch_account(
    conn: Conn,
    account: String,
    venue: Arc<dyn Venue>,
    changes: broadcast::Sender<String>,
    options: StreamOptions,
    connections: Arc<std::sync::atomic::AtomicU64>,
) {
    let mut backoff = options.backoff();
    let mut reconnecting = false;
    loop {
        let request = venue.transaction_stream(&account);
        let response = match conn
            .http
            .open_stream(&conn.token, &request.path, &request.query)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                let error = broker_error(&e, "the transaction stream");
                if matches!(error, BrokerError::Unauthorized(_)) {
                    // The token is gone; the next poll tells TradingView, which asks the user to log in.
                    tracing::info!(%account, "OANDA refused the token of a transaction stream; stopping it");
                    let _ = changes.send(account.clone());
                    return;
                }
                let wait = backoff.after_failure(false);
                tracing::warn!(%account, error = %error, ?wait, "an OANDA transaction stream could not be opened");
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        connections.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if reconnecting {
            venue.account_changed(&account);
            let _ = changes.send(account.clone());
        }
        reconnecting = true;
        let since = Instant::now();
        let mut reader = LineReader::new(response);
        let ended = loop {
            match tokio::time::timeout(options.silence, reader.next_line()).await {
                Err(_) => break format!("silent for {:?}", options.silence),
                Ok(Err(e)) => break e,
                Ok(Ok(None)) => break "closed by OANDA".to_string(),
                Ok(Ok(Some(line))) => {
                    if let StreamLine::Item(id) = venue.parse_transaction_line(&line) {
                        // Before the hub hears of it, so that its refresh reads the account anew.
                        venue.account_changed(&account);
                        // v1 lines name the account; v20 lines too. Either way this stream is this account's.
                        let _ = changes.send(if id.is_empty() { account.clone() } else { id });
                    }
                }
            }
        };
        let wait = backoff.after_failure(options.healthy(since.elapsed()));
        tracing::info!(%account, reason = %ended, ?wait, "an OANDA transaction stream ended; reopening");
        tokio::time::sleep(wait).await;
    }
}
