//! The quote pool when things go wrong: dropped connections, expired sessions, a silent upstream, refused
//! epics and consumers that do not read.

use super::fake::FakeStream;
use super::tests::{eventually, next, options, setup};
use super::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::sync::atomic::Ordering;

/// Whether some connection after the first carries all of `epics`.
fn resubscribed(fake: &FakeStream, epics: &[&str]) -> bool {
    fake.subscriptions()
        .iter()
        .any(|(conn, subs)| *conn > 1 && epics.iter().all(|e| subs.contains(*e)))
}

#[tokio::test]
async fn a_dropped_connection_is_replaced_and_every_epic_resubscribed() {
    let (fake, _tokens, streams) = setup(options()).await;
    let mut oil = streams.subscribe("OIL_CRUDE").await.unwrap();
    let mut aapl = streams.subscribe("AAPL").await.unwrap();
    eventually("both subscriptions", || fake.subscribed().len() == 2).await;

    fake.drop_all();
    eventually("a new connection with both epics", || {
        resubscribed(&fake, &["OIL_CRUDE", "AAPL"])
    })
    .await;
    fake.quote("AAPL", 134.88);
    fake.quote("OIL_CRUDE", 93.87);
    assert_eq!(next(&mut aapl).await.bid, dec!(134.88));
    assert_eq!(next(&mut oil).await.bid, dec!(93.87));
    let stats = streams.stats();
    assert!(stats.reconnects >= 1, "{stats:?}");
    assert_eq!((stats.sockets, stats.epics), (1, 2));
    assert_eq!(fake.rejected(), 0);
}

#[tokio::test]
async fn an_invalid_session_is_invalidated_and_the_socket_reconnects_with_new_tokens() {
    let (fake, tokens, streams) = setup(options()).await;
    let mut oil = streams.subscribe("OIL_CRUDE").await.unwrap();
    eventually("the subscription", || fake.subscribed().contains("OIL_CRUDE")).await;

    // The upstream session is renewed: the socket's next message carries dead tokens.
    fake.set_tokens("cst-2", "sec-2");
    let mut gold = streams.subscribe("GOLD").await.unwrap();
    eventually("both epics on a new connection", || {
        resubscribed(&fake, &["OIL_CRUDE", "GOLD"])
    })
    .await;
    assert_eq!(tokens.invalidations.load(Ordering::SeqCst), 1);
    assert_eq!(fake.rejected(), 1);
    for (conn, msg) in fake.received("marketData.subscribe") {
        let expected = if conn == 1 { "cst-1" } else { "cst-2" };
        assert_eq!(msg["cst"], expected, "{msg}");
    }

    fake.quote("GOLD", 2650.127);
    fake.quote("OIL_CRUDE", 93.5);
    assert_eq!(next(&mut gold).await.bid, dec!(2650.127));
    assert_eq!(next(&mut oil).await.bid, dec!(93.5));
}

#[tokio::test]
async fn a_silent_upstream_is_detected_and_replaced() {
    let (fake, _tokens, streams) = setup(StreamOptions {
        ping_every: Duration::from_millis(100),
        ..options()
    })
    .await;
    let mut rx = streams.subscribe("OIL_CRUDE").await.unwrap();
    eventually("the subscription", || fake.subscribed().contains("OIL_CRUDE")).await;

    fake.mute(true);
    eventually("a reconnection", || fake.connections() >= 2).await;
    fake.mute(false);
    eventually("the epic on a later connection", || {
        resubscribed(&fake, &["OIL_CRUDE"])
    })
    .await;
    fake.quote("OIL_CRUDE", 94.0);
    assert_eq!(next(&mut rx).await.bid, dec!(94));
    assert!(streams.stats().reconnects >= 1);
}

#[tokio::test]
async fn a_refused_epic_closes_its_receivers_only() {
    let (fake, _tokens, streams) = setup(options()).await;
    fake.refuse("NOPE");
    let mut good = streams.subscribe("OIL_CRUDE").await.unwrap();
    let mut bad = streams.subscribe("NOPE").await.unwrap();
    let end = tokio::time::timeout(Duration::from_secs(2), bad.recv()).await;
    assert_eq!(end, Ok(None), "the refused epic's receiver is closed");
    eventually("the refused epic to leave the pool", || {
        streams.stats().epics == 1
    })
    .await;

    fake.quote("OIL_CRUDE", 93.0);
    assert_eq!(next(&mut good).await.bid, dec!(93));
    assert_eq!(streams.stats().reconnects, 0);
}

#[tokio::test]
async fn a_full_receiver_misses_quotes_without_holding_up_the_others() {
    let (fake, _tokens, streams) = setup(StreamOptions {
        channel_capacity: 2,
        ..options()
    })
    .await;
    let mut slow = streams.subscribe("OIL_CRUDE").await.unwrap();
    let mut fast = streams.subscribe("OIL_CRUDE").await.unwrap();
    eventually("the subscription", || fake.subscribed().contains("OIL_CRUDE")).await;

    // `fast` reads every quote as it comes while `slow` reads nothing.
    for bid in 1..=5 {
        fake.quote("OIL_CRUDE", f64::from(bid));
        assert_eq!(next(&mut fast).await.bid, Decimal::from(bid));
    }

    // `slow` kept the first two; the later ones were dropped for it alone.
    assert_eq!(next(&mut slow).await.bid, dec!(1));
    assert_eq!(next(&mut slow).await.bid, dec!(2));
    fake.quote("OIL_CRUDE", 6.0);
    assert_eq!(next(&mut slow).await.bid, dec!(6));
}

/// A token source that fails its first `failures` calls, like an upstream refusing logins for a while.
struct FlakyTokens {
    failures: std::sync::atomic::AtomicU64,
}

#[async_trait::async_trait]
impl TokenSource for FlakyTokens {
    async fn tokens(&self) -> Result<StreamTokens, BrokerError> {
        let left = self.failures.load(Ordering::SeqCst);
        if left > 0 {
            self.failures.store(left - 1, Ordering::SeqCst);
            return Err(BrokerError::Unavailable(
                "Capital.com answered HTTP 503".to_string(),
            ));
        }
        Ok(StreamTokens {
            cst: crate::secret::Secret::new("cst-1"),
            security_token: crate::secret::Secret::new("sec-1"),
        })
    }

    fn invalidate(&self) {}
}

#[tokio::test]
async fn failing_logins_are_retried_with_backoff() {
    let fake = FakeStream::start("cst-1", "sec-1").await;
    let tokens = Arc::new(FlakyTokens {
        failures: std::sync::atomic::AtomicU64::new(2),
    });
    let streams = QuoteStreams::new(fake.url.clone(), tokens, options());
    let mut rx = streams.subscribe("OIL_CRUDE").await.unwrap();
    eventually("the subscription", || fake.subscribed().contains("OIL_CRUDE")).await;
    assert_eq!(fake.connections(), 1, "no connection without tokens");
    assert_eq!(streams.stats().reconnects, 2);
    fake.quote("OIL_CRUDE", 93.0);
    assert_eq!(next(&mut rx).await.bid, dec!(93));
}
