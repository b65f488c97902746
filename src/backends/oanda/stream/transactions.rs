//! One transaction stream per traded account: every transaction (a fill, a cancel, a stop triggered...) makes
//! the account hub refresh at once instead of at its next poll. After a reconnection a change is announced
//! too, since transactions may have been missed while the stream was down. The shared stream pool
//! ([`crate::upstream::stream`]) keeps the streams; this file says where they come from and what a line means.

use super::{StreamOptions, MAX_LINE};
use crate::backends::oanda::errors::broker_error;
use crate::backends::oanda::venue::{Conn, StreamLine, Venue};
use crate::broker::BrokerError;
use crate::sync::MutexExt;
use crate::upstream::stream::ndjson::NdjsonLink;
use crate::upstream::stream::{Incoming, OpenError, Opened, PoolOptions, Protocol, StreamPool};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, mpsc};

/// Pending change announcements kept for slow hubs (a lagging hub refreshes anyway).
const CHANGES_BUFFER: usize = 256;

/// The token and API version an account streams with.
type AccountSource = (Conn, Arc<dyn Venue>);

/// The transaction streams as the pool speaks them: one account per connection, the key is its id.
struct TransactionProtocol {
    /// The token and API version each watched account streams with.
    accounts: Mutex<HashMap<String, AccountSource>>,
    changes: broadcast::Sender<String>,
}

/// What a transaction stream was opened for.
struct Watched {
    account: String,
    venue: Arc<dyn Venue>,
}

#[async_trait::async_trait]
impl Protocol for TransactionProtocol {
    /// Nothing is handed to receivers: every line is announced on the `changes` channel instead.
    type Event = ();
    type Session = Watched;

    fn name(&self) -> &'static str {
        "OANDA transaction stream"
    }

    async fn open(&self, keys: &[String], reopened: bool) -> Result<Opened<Watched>, OpenError> {
        let Some(account) = keys.first() else {
            return Err(OpenError::fatal("no account to stream"));
        };
        let Some((conn, venue)) = self.accounts.locked().get(account).cloned() else {
            return Err(OpenError::fatal("the account is no longer watched"));
        };
        let request = venue.transaction_stream(account);
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
                    let _ = self.changes.send(account.clone());
                    return Err(OpenError::fatal("OANDA refused the token"));
                }
                return Err(OpenError::retry(error.to_string()));
            }
        };
        if reopened {
            venue.account_changed(account);
            let _ = self.changes.send(account.clone());
        }
        Ok(Opened {
            session: Watched {
                account: account.clone(),
                venue,
            },
            link: Box::new(NdjsonLink::new(response, MAX_LINE)),
        })
    }

    fn decode(&self, watched: &Watched, line: &[u8]) -> Incoming<()> {
        if let StreamLine::Item(id) = watched.venue.parse_transaction_line(line) {
            // Before the hub hears of it, so that its refresh reads the account anew.
            watched.venue.account_changed(&watched.account);
            // v1 lines name the account; v20 lines too. Either way this stream is this account's.
            let _ = self.changes.send(if id.is_empty() {
                watched.account.clone()
            } else {
                id
            });
        }
        Incoming::Alive
    }
}

struct Watch {
    /// Bridge sessions using the account.
    users: usize,
    /// Holds the account's subscription in the pool; closed if OANDA refused the token.
    held: mpsc::Receiver<()>,
}

/// The account watchers, shared by every session trading the same account.
pub struct Watchers {
    pool: StreamPool<TransactionProtocol>,
    watches: Mutex<HashMap<String, Watch>>,
}

impl Watchers {
    pub fn new(options: StreamOptions) -> Watchers {
        let protocol = TransactionProtocol {
            accounts: Mutex::new(HashMap::new()),
            changes: broadcast::channel(CHANGES_BUFFER).0,
        };
        let options = PoolOptions {
            per_connection: 1,
            channel_capacity: 1,
            ..options.pool()
        };
        Watchers {
            pool: StreamPool::new(Arc::new(protocol), options),
            watches: Mutex::new(HashMap::new()),
        }
    }

    /// Ids of accounts whose transactions streamed in.
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.pool.protocol().changes.subscribe()
    }

    /// Starts watching `account` for one more session (the first one opens the stream).
    pub fn watch(&self, conn: &Conn, account: &str, venue: Arc<dyn Venue>) {
        let mut watches = self.watches.locked();
        if let Some(w) = watches.get_mut(account) {
            if !w.held.is_closed() {
                w.users += 1;
                return;
            }
        }
        let users = watches.get(account).map_or(1, |w| w.users + 1);
        let protocol = self.pool.protocol();
        protocol
            .accounts
            .locked()
            .insert(account.to_string(), (conn.clone(), venue));
        match self.pool.subscribe(account) {
            Ok(held) => {
                watches.insert(account.to_string(), Watch { users, held });
            }
            Err(e) => tracing::warn!(%account, error = %e, "the transaction stream could not be started"),
        }
    }

    /// One session stopped using `account`; the last one closes the stream.
    pub fn unwatch(&self, account: &str) {
        let mut watches = self.watches.locked();
        if let Some(w) = watches.get_mut(account) {
            w.users = w.users.saturating_sub(1);
            if w.users == 0 {
                // Dropping the receiver releases the subscription; the pool closes the stream.
                watches.remove(account);
                self.pool.protocol().accounts.locked().remove(account);
            }
        }
    }

    /// Transaction stream connections opened so far.
    pub fn connections(&self) -> u64 {
        self.pool.stats().opened
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::oanda::client::Http;
    use crate::backends::oanda::v20::V20Venue;
    use crate::secret::Secret;
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::Duration;

    const FILL: &str = r#"{"id":"6410","accountID":"A","type":"ORDER_FILL","orderID":"6409","instrument":"EUR_USD","units":"100","price":"1.13015"}"#;

    /// Counts of a transaction stream fake: requests, and streams whose body was dropped by the client.
    #[derive(Default)]
    struct Upstream {
        refuse: AtomicBool,
        requests: AtomicUsize,
        open: Arc<AtomicUsize>,
    }

    /// Decrements the count of open streams when the body is dropped (the client went away).
    struct OpenGuard(Arc<AtomicUsize>);

    impl Drop for OpenGuard {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }

    async fn upstream(state: Arc<Upstream>) -> String {
        let app = axum::Router::new().route(
            "/v3/accounts/A/transactions/stream",
            get(move || {
                let state = state.clone();
                async move {
                    state.requests.fetch_add(1, Ordering::SeqCst);
                    if state.refuse.load(Ordering::SeqCst) {
                        let body = r#"{"errorMessage":"Insufficient authorization to perform request."}"#;
                        return (StatusCode::UNAUTHORIZED, body).into_response();
                    }
                    state.open.fetch_add(1, Ordering::SeqCst);
                    let guard = OpenGuard(state.open.clone());
                    let first = futures_util::stream::once(async {
                        Ok::<_, std::io::Error>(bytes::Bytes::from(format!("{FILL}\n")))
                    });
                    let rest = futures_util::stream::unfold(guard, |guard| async move {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        let hb = bytes::Bytes::from_static(b"{\"type\":\"HEARTBEAT\"}\n");
                        Some((Ok(hb), guard))
                    });
                    Response::new(Body::from_stream(futures_util::StreamExt::chain(first, rest)))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    async fn eventually(what: &str, cond: impl Fn() -> bool) {
        for _ in 0..300 {
            if cond() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("timed out waiting for {what}");
    }

    #[tokio::test]
    async fn a_refused_token_stops_the_stream_until_watched_again_and_the_last_unwatch_closes_it() {
        let state = Arc::new(Upstream::default());
        state.refuse.store(true, Ordering::SeqCst);
        let url = upstream(state.clone()).await;
        let conn = Conn {
            http: Arc::new(Http::new(&url, &url, 50, Duration::from_secs(2)).unwrap()),
            token: Secret::new("t"),
        };
        let mut options = StreamOptions::new(Duration::from_secs(5));
        options.min_backoff = Duration::from_millis(20);
        let watchers = Watchers::new(options);
        let mut changes = watchers.subscribe();
        let venue: Arc<dyn Venue> = Arc::new(V20Venue::new());

        watchers.watch(&conn, "A", venue.clone());
        let refused = tokio::time::timeout(Duration::from_secs(3), changes.recv()).await;
        assert_eq!(refused.unwrap().unwrap(), "A", "the refusal is announced");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            state.requests.load(Ordering::SeqCst),
            1,
            "a refused token is not retried"
        );

        state.refuse.store(false, Ordering::SeqCst);
        watchers.watch(&conn, "A", venue.clone());
        watchers.watch(&conn, "A", venue);
        let fill = tokio::time::timeout(Duration::from_secs(3), changes.recv()).await;
        assert_eq!(fill.unwrap().unwrap(), "A", "a transaction is announced");
        assert_eq!(watchers.connections(), 1, "two watches, one stream");

        // Three sessions watch the account (the refused one has not logged out): the third unwatch closes.
        watchers.unwatch("A");
        watchers.unwatch("A");
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(
            state.open.load(Ordering::SeqCst),
            1,
            "a session still uses the account"
        );
        watchers.unwatch("A");
        eventually("the pool to let the account go", || {
            watchers.pool.stats().connections == 0
        })
        .await;
        eventually("the stream to close", || state.open.load(Ordering::SeqCst) == 0).await;
        assert_eq!(
            watchers.pool.stats(),
            crate::upstream::stream::PoolStats {
                connections: 0,
                keys: 0,
                reconnects: 0,
                opened: 1
            }
        );
    }
}
