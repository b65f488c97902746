//! The quote pool against the fake streaming endpoint: fan-out, socket sizing, unsubscription, pings,
//! shutdown; plus the helpers the fault tests share.

use super::fake::FakeStream;
use super::*;
use crate::secret::Secret;
use rust_decimal_macros::dec;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// A token source whose generation `n` hands out `cst-n` / `sec-n`; `invalidate` moves to the next one.
pub(super) struct TestTokens {
    generation: AtomicU64,
    pub invalidations: AtomicU64,
}

impl TestTokens {
    pub fn new() -> Arc<TestTokens> {
        Arc::new(TestTokens {
            generation: AtomicU64::new(1),
            invalidations: AtomicU64::new(0),
        })
    }
}

#[async_trait::async_trait]
impl TokenSource for TestTokens {
    async fn tokens(&self) -> Result<StreamTokens, BrokerError> {
        let n = self.generation.load(Ordering::SeqCst);
        Ok(StreamTokens {
            cst: Secret::new(format!("cst-{n}")),
            security_token: Secret::new(format!("sec-{n}")),
        })
    }

    fn invalidate(&self) {
        self.invalidations.fetch_add(1, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

/// Fast timings: 20 ms first retry, pings every second unless a test says otherwise.
pub(super) fn options() -> StreamOptions {
    StreamOptions {
        max_epics_per_socket: 40,
        ping_every: Duration::from_secs(1),
        reconnect_min: Duration::from_millis(20),
        reconnect_max: Duration::from_millis(200),
        connect_timeout: Duration::from_secs(2),
        channel_capacity: 16,
    }
}

/// A pool on `fake` whose empty sockets close after 100 ms.
pub(super) fn pool(fake: &FakeStream, tokens: Arc<TestTokens>, options: StreamOptions) -> QuoteStreams {
    QuoteStreams::with_idle_grace(fake.url.clone(), tokens, options, Duration::from_millis(100))
}

/// A fake accepting generation 1 of [`TestTokens`], and a pool on it.
pub(super) async fn setup(options: StreamOptions) -> (FakeStream, Arc<TestTokens>, QuoteStreams) {
    let fake = FakeStream::start("cst-1", "sec-1").await;
    let tokens = TestTokens::new();
    let streams = pool(&fake, tokens.clone(), options);
    (fake, tokens, streams)
}

/// Waits up to 3 s for `cond`.
pub(super) async fn eventually(what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The next quote, within 2 s.
pub(super) async fn next(rx: &mut mpsc::Receiver<model::StreamQuote>) -> model::StreamQuote {
    tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .expect("a quote within 2 s")
        .expect("an open receiver")
}

#[tokio::test]
async fn quotes_fan_out_to_every_receiver_of_one_upstream_subscription() {
    let (fake, _tokens, streams) = setup(options()).await;
    let mut a = streams.subscribe("OIL_CRUDE").await.unwrap();
    let mut b = streams.subscribe("OIL_CRUDE").await.unwrap();
    eventually("the subscription", || fake.subscribed().contains("OIL_CRUDE")).await;

    fake.quote("OIL_CRUDE", 93.87);
    for rx in [&mut a, &mut b] {
        let q = next(rx).await;
        assert_eq!(
            (q.epic.as_str(), q.bid, q.ofr),
            ("OIL_CRUDE", dec!(93.87), dec!(93.9))
        );
        assert_eq!((q.bid_qty, q.timestamp), (Some(dec!(4976)), 1660297190627));
    }
    // A late receiver starts with the latest quote instead of waiting for the next one.
    let mut c = streams.subscribe("OIL_CRUDE").await.unwrap();
    assert_eq!(next(&mut c).await.bid, dec!(93.87));

    let subs = fake.received("marketData.subscribe");
    assert_eq!(subs.len(), 1, "one upstream subscription: {subs:?}");
    let msg = &subs[0].1;
    assert_eq!(msg["payload"], serde_json::json!({"epics": ["OIL_CRUDE"]}));
    assert_eq!(
        (msg["cst"].as_str(), msg["securityToken"].as_str()),
        (Some("cst-1"), Some("sec-1"))
    );
    assert_eq!(msg["correlationId"], "1");
    assert_eq!(fake.rejected(), 0);
    let stats = streams.stats();
    assert_eq!((stats.sockets, stats.epics, stats.reconnects), (1, 1, 0));
}

#[tokio::test]
async fn forty_one_epics_take_two_sockets() {
    let (fake, _tokens, streams) = setup(options()).await;
    let mut receivers = Vec::new();
    for i in 0..41 {
        receivers.push(streams.subscribe(&format!("EPIC{i:02}")).await.unwrap());
    }
    eventually("41 subscribed epics", || fake.subscribed().len() == 41).await;
    let mut sizes: Vec<usize> = fake.subscriptions().values().map(|s| s.len()).collect();
    sizes.sort();
    assert_eq!(sizes, [1, 40]);
    assert_eq!(fake.connections(), 2);
    for (_, msg) in fake.received("marketData.subscribe") {
        assert!(msg["payload"]["epics"].as_array().unwrap().len() <= 40);
    }
    assert_eq!(
        streams.stats(),
        StreamStats {
            sockets: 2,
            epics: 41,
            reconnects: 0
        }
    );

    fake.quote("EPIC40", 1.5);
    fake.quote("EPIC00", 2.5);
    assert_eq!(next(&mut receivers[40]).await.bid, dec!(1.5));
    assert_eq!(next(&mut receivers[0]).await.bid, dec!(2.5));
}

#[tokio::test]
async fn dropping_the_last_receiver_unsubscribes_and_an_empty_socket_closes() {
    let (fake, _tokens, streams) = setup(options()).await;
    let a = streams.subscribe("GOLD").await.unwrap();
    let b = streams.subscribe("GOLD").await.unwrap();
    let other = streams.subscribe("EURUSD").await.unwrap();
    eventually("both subscriptions", || fake.subscribed().len() == 2).await;

    drop(a);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        fake.received("marketData.unsubscribe").is_empty(),
        "GOLD still has a receiver"
    );

    let dropped = Instant::now();
    drop(b);
    eventually("the unsubscription", || {
        !fake.received("marketData.unsubscribe").is_empty()
    })
    .await;
    assert!(dropped.elapsed() < Duration::from_millis(1500));
    let unsubs = fake.received("marketData.unsubscribe");
    assert_eq!(unsubs[0].1["payload"], serde_json::json!({"epics": ["GOLD"]}));
    assert_eq!(fake.subscribed().into_iter().collect::<Vec<_>>(), ["EURUSD"]);
    assert_eq!(streams.stats().epics, 1);

    drop(other);
    eventually("the socket to close", || streams.stats().sockets == 0).await;
    eventually("the fake to see the close", || fake.subscriptions().is_empty()).await;
    assert_eq!(streams.stats(), StreamStats::default());
}

#[tokio::test]
async fn a_freed_slot_is_reused_and_a_new_epic_reopens_a_socket() {
    let (fake, _tokens, streams) = setup(options()).await;
    let a = streams.subscribe("A").await.unwrap();
    eventually("A", || fake.subscribed().contains("A")).await;
    drop(a);
    eventually("the socket to close", || streams.stats().sockets == 0).await;

    let mut b = streams.subscribe("B").await.unwrap();
    eventually("B on a new socket", || fake.subscribed().contains("B")).await;
    assert_eq!(fake.connections(), 2);
    fake.quote("B", 7.0);
    assert_eq!(next(&mut b).await.bid, dec!(7));
    assert_eq!(
        streams.stats().reconnects,
        0,
        "closing an idle socket is not a reconnection"
    );
}

#[tokio::test]
async fn pings_are_sent_with_the_tokens() {
    let (fake, _tokens, streams) = setup(StreamOptions {
        ping_every: Duration::from_millis(50),
        ..options()
    })
    .await;
    let _rx = streams.subscribe("OIL_CRUDE").await.unwrap();
    eventually("three pings", || fake.received("ping").len() >= 3).await;
    let pings = fake.received("ping");
    let mut last = 0;
    for (_, ping) in &pings {
        assert_eq!(
            ping.get("payload"),
            None,
            "ping has no payload in the official example"
        );
        assert_eq!(ping["cst"], "cst-1");
        assert_eq!(ping["securityToken"], "sec-1");
        let cid: u64 = ping["correlationId"].as_str().unwrap().parse().unwrap();
        assert!(cid > last, "correlation ids increase");
        last = cid;
    }
    assert_eq!(fake.rejected(), 0);
}

#[tokio::test]
async fn dropping_the_pool_ends_every_receiver_and_closes_the_sockets() {
    let (fake, _tokens, streams) = setup(options()).await;
    let mut rx = streams.subscribe("OIL_CRUDE").await.unwrap();
    let clone = streams.clone();
    eventually("the subscription", || fake.subscribed().contains("OIL_CRUDE")).await;
    drop(streams);
    assert_eq!(clone.stats().sockets, 1, "a clone keeps the pool alive");
    drop(clone);
    let end = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await;
    assert_eq!(end, Ok(None));
    eventually("the fake to see the close", || fake.subscriptions().is_empty()).await;
}

#[tokio::test]
async fn malformed_epics_are_rejected_up_front() {
    let (_fake, _tokens, streams) = setup(options()).await;
    for bad in ["", "  ", "OIL CRUDE", "A\nB"] {
        assert!(
            matches!(streams.subscribe(bad).await, Err(BrokerError::Rejected(_))),
            "{bad:?}"
        );
    }
    assert_eq!(streams.stats(), StreamStats::default());
}

#[test]
fn tokens_and_pool_never_print_secrets() {
    let tokens = StreamTokens {
        cst: Secret::new("very-secret-cst"),
        security_token: Secret::new("very-secret-token"),
    };
    let shown = format!("{tokens:?}");
    assert!(!shown.contains("very-secret"), "{shown}");
    let streams = QuoteStreams::new("ws://127.0.0.1:9/connect".into(), TestTokens::new(), options());
    let shown = format!("{streams:?}");
    assert!(
        shown.contains("ws://127.0.0.1:9/connect") && !shown.contains("cst-1"),
        "{shown}"
    );
}

#[test]
fn options_are_clamped_into_a_workable_range() {
    let o = StreamOptions {
        max_epics_per_socket: 500,
        ping_every: Duration::ZERO,
        reconnect_min: Duration::from_secs(5),
        reconnect_max: Duration::from_secs(1),
        connect_timeout: Duration::MAX,
        channel_capacity: 0,
    }
    .sanitized();
    assert_eq!(o.max_epics_per_socket, 40);
    assert!(o.ping_every > Duration::ZERO);
    assert_eq!(o.reconnect_max, Duration::from_secs(5));
    assert!(o.connect_timeout <= Duration::from_secs(24 * 3600));
    assert_eq!(o.channel_capacity, 1);
    let d = StreamOptions::default();
    assert_eq!(
        (
            d.max_epics_per_socket,
            d.ping_every,
            d.reconnect_min,
            d.reconnect_max
        ),
        (
            40,
            Duration::from_secs(300),
            Duration::from_millis(200),
            Duration::from_secs(30)
        )
    );
    assert_eq!(
        (d.connect_timeout, d.channel_capacity),
        (Duration::from_secs(10), 256)
    );
}
