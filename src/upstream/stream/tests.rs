//! The pool against in-process fake links (no network), on tokio's paused clock: reference counting,
//! resubscription after a reconnect, the silence watch, back-off growth and reset, clean shutdown. The
//! fake protocol's frames are plain text: `sub:SEQ:A,B`, `unsub:SEQ:A`, `ping:SEQ`; it reads `data:KEY:V`,
//! `hb`, `ack:SEQ`, `refuse:SEQ:KEY` and `dead`.

use super::*;
use crate::sync::MutexExt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::time::{sleep, Instant};

/// What the test feeds one fake connection: frames, or `None` to end it.
pub(super) type Feed = UnboundedSender<Option<Result<Frame, String>>>;

/// The far end of one fake connection.
pub(super) struct Remote {
    /// The keys the connection was opened for.
    pub keys: Vec<String>,
    /// Frames to hand to the pool; `None` ends the connection.
    pub tx: Feed,
    /// Frames the pool sent.
    pub sent: Arc<Mutex<Vec<String>>>,
}

impl Remote {
    pub fn push(&self, text: &str) {
        let _ = self.tx.send(Some(Ok(Frame::Text(text.as_bytes().to_vec()))));
    }

    pub fn sent(&self) -> Vec<String> {
        self.sent.locked().clone()
    }
}

struct FakeLink {
    rx: UnboundedReceiver<Option<Result<Frame, String>>>,
    sent: Arc<Mutex<Vec<String>>>,
}

#[async_trait::async_trait]
impl Link for FakeLink {
    async fn send(&mut self, text: String) -> Result<(), String> {
        self.sent.locked().push(text);
        Ok(())
    }

    async fn recv(&mut self) -> Option<Result<Frame, String>> {
        self.rx.recv().await.flatten()
    }

    async fn close(&mut self) {
        self.rx.close();
    }
}

/// A protocol whose connections are [`FakeLink`]s, recorded in `remotes`.
#[derive(Default)]
pub(super) struct FakeProtocol {
    pub remotes: Mutex<Vec<Remote>>,
    /// Opens still to fail.
    pub fail_opens: AtomicU32,
    /// Open attempts, failed ones included.
    pub attempts: Mutex<Vec<Instant>>,
    pub invalidations: AtomicU32,
    pub acks: bool,
}

impl FakeProtocol {
    pub fn remote(&self, i: usize) -> Option<(Vec<String>, Feed)> {
        self.remotes
            .locked()
            .get(i)
            .map(|r| (r.keys.clone(), r.tx.clone()))
    }

    pub fn sent(&self, i: usize) -> Vec<String> {
        self.remotes.locked().get(i).map(Remote::sent).unwrap_or_default()
    }

    pub fn push(&self, i: usize, text: &str) {
        if let Some(r) = self.remotes.locked().get(i) {
            r.push(text);
        }
    }

    pub fn opens(&self) -> usize {
        self.remotes.locked().len()
    }
}

#[async_trait::async_trait]
impl Protocol for FakeProtocol {
    type Event = String;
    type Session = ();

    fn name(&self) -> &'static str {
        "fake stream"
    }

    fn check_key(&self, key: &str) -> Result<(), BrokerError> {
        if key.is_empty() {
            return Err(BrokerError::Rejected("The key is missing.".into()));
        }
        Ok(())
    }

    async fn open(&self, keys: &[String], _reopened: bool) -> Result<Opened<()>, OpenError> {
        self.attempts.locked().push(Instant::now());
        if self
            .fail_opens
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(OpenError::retry("refused by the test"));
        }
        let (tx, rx) = unbounded_channel();
        let sent = Arc::new(Mutex::new(Vec::new()));
        self.remotes.locked().push(Remote {
            keys: keys.to_vec(),
            tx,
            sent: sent.clone(),
        });
        Ok(Opened {
            session: (),
            link: Box::new(FakeLink { rx, sent }),
        })
    }

    fn subscribe(&self, _: &(), seq: u64, keys: &[String]) -> Option<String> {
        Some(format!("sub:{seq}:{}", keys.join(",")))
    }

    fn unsubscribe(&self, _: &(), seq: u64, keys: &[String]) -> Option<String> {
        Some(format!("unsub:{seq}:{}", keys.join(",")))
    }

    fn keep_alive(&self, _: &(), seq: u64) -> Option<String> {
        Some(format!("ping:{seq}"))
    }

    fn acks_subscriptions(&self) -> bool {
        self.acks
    }

    fn decode(&self, _: &(), frame: &[u8]) -> Incoming<String> {
        let text = String::from_utf8_lossy(frame);
        let parts: Vec<&str> = text.split(':').collect();
        match parts.as_slice() {
            ["data", key, value] => Incoming::Data {
                key: key.to_string(),
                event: value.to_string(),
            },
            ["hb"] => Incoming::Alive,
            ["ack", seq] => Incoming::Subscribed {
                ack: Some(seq.to_string()),
                refused: Vec::new(),
            },
            ["refuse", seq, key] => Incoming::Subscribed {
                ack: Some(seq.to_string()),
                refused: vec![(key.to_string(), "NOT_FOUND".into())],
            },
            ["dead"] => Incoming::SessionInvalid {
                reason: "test".into(),
            },
            _ => Incoming::Malformed,
        }
    }

    fn invalidate(&self, _: &()) {
        self.invalidations.fetch_add(1, Ordering::SeqCst);
    }
}

/// Test timings: 10 s silence, no keep-alive, back-off 100 ms doubling to 1 s, healthy after 1 s, empty
/// connections close at the next upkeep.
pub(super) fn options() -> PoolOptions {
    PoolOptions {
        per_connection: 2,
        per_frame: usize::MAX,
        keep_alive: None,
        silence: Duration::from_secs(10),
        ack_within: Duration::from_secs(10),
        reconnect_min: Duration::from_millis(100),
        reconnect_max: Duration::from_secs(1),
        jitter: false,
        healthy_after: Duration::from_secs(1),
        linger: Duration::ZERO,
        debounce: Duration::from_millis(150),
        channel_capacity: 8,
        replay_last: false,
    }
}

pub(super) fn pool(options: PoolOptions) -> (Arc<FakeProtocol>, StreamPool<FakeProtocol>) {
    let protocol = Arc::new(FakeProtocol::default());
    (protocol.clone(), StreamPool::new(protocol, options))
}

/// Lets the pool's tasks run (the paused clock moves on only when every task waits).
pub(super) async fn settle() {
    sleep(Duration::from_millis(1)).await;
}

#[tokio::test(start_paused = true)]
async fn one_upstream_subscription_per_key_and_unsubscribe_after_the_last_receiver() {
    let (fake, pool) = pool(options());
    let mut a1 = pool.subscribe("A").unwrap();
    let mut a2 = pool.subscribe("A").unwrap();
    settle().await;
    assert_eq!(fake.opens(), 1);
    assert_eq!(fake.sent(0), ["sub:1:A"], "one subscribe frame for two receivers");
    fake.push(0, "data:A:1");
    assert_eq!(
        (a1.recv().await.unwrap(), a2.recv().await.unwrap()),
        ("1".into(), "1".into())
    );

    drop(a1);
    sleep(Duration::from_secs(1)).await;
    assert_eq!(fake.sent(0), ["sub:1:A"], "a receiver is left: no unsubscribe");
    drop(a2);
    sleep(Duration::from_secs(1)).await;
    assert_eq!(fake.sent(0), ["sub:1:A", "unsub:2:A"]);
    assert_eq!(pool.stats().keys, 0);
    assert_eq!(
        pool.stats().connections,
        0,
        "an empty connection closes when the linger is over"
    );
    assert!(fake.remote(0).unwrap().1.is_closed(), "the link was closed");
    assert_eq!(
        pool.subscribe("").unwrap_err(),
        BrokerError::Rejected("The key is missing.".into())
    );
}

#[tokio::test(start_paused = true)]
async fn keys_past_the_cap_open_another_connection_and_a_late_receiver_gets_the_last_event_if_asked() {
    let (fake, pool) = pool(PoolOptions {
        replay_last: true,
        ..options()
    });
    let _rx: Vec<_> = ["A", "B", "C"]
        .iter()
        .map(|k| pool.subscribe(k).unwrap())
        .collect();
    settle().await;
    assert_eq!(fake.opens(), 2);
    assert_eq!(
        (fake.sent(0), fake.sent(1)),
        (vec!["sub:1:A,B".to_string()], vec!["sub:1:C".to_string()])
    );
    fake.push(1, "data:C:7");
    fake.push(0, "data:C:8"); // not this connection's key: ignored
    settle().await;
    let mut late = pool.subscribe("C").unwrap();
    assert_eq!(late.recv().await.unwrap(), "7");
    assert!(late.try_recv().is_err());
}

#[tokio::test(start_paused = true)]
async fn a_frame_names_at_most_per_frame_keys_while_the_connection_carries_more() {
    let (fake, pool) = pool(PoolOptions {
        per_frame: 1,
        ..options()
    });
    let a = pool.subscribe("A").unwrap();
    let b = pool.subscribe("B").unwrap();
    settle().await;
    assert_eq!(fake.opens(), 1, "both keys share one connection");
    assert_eq!(fake.sent(0), ["sub:1:A", "sub:2:B"]);
    drop((a, b));
    sleep(Duration::from_secs(1)).await;
    assert_eq!(fake.sent(0)[2..], ["unsub:3:A", "unsub:4:B"]);
}

#[tokio::test(start_paused = true)]
async fn every_reconnection_resubscribes_the_whole_wanted_set() {
    let (fake, pool) = pool(options());
    let _a = pool.subscribe("A").unwrap();
    settle().await;
    let _b = pool.subscribe("B").unwrap();
    settle().await;
    assert_eq!(fake.sent(0), ["sub:1:A", "sub:2:B"]);
    let (_, tx) = fake.remote(0).unwrap();
    tx.send(None).unwrap();
    sleep(Duration::from_millis(150)).await;
    assert_eq!(fake.opens(), 2);
    assert_eq!(
        fake.sent(1),
        ["sub:3:A,B"],
        "both keys in one frame, numbers keep growing"
    );
    assert_eq!(pool.stats().reconnects, 1);
}

#[tokio::test(start_paused = true)]
async fn a_silent_connection_is_replaced_and_a_heartbeat_counts_as_life() {
    let (fake, pool) = pool(options());
    let _a = pool.subscribe("A").unwrap();
    settle().await;
    for _ in 0..4 {
        sleep(Duration::from_secs(6)).await;
        fake.push(0, "hb");
    }
    assert_eq!(
        fake.opens(),
        1,
        "heartbeats every 6 s keep a 10 s silence watch happy"
    );
    sleep(Duration::from_secs(11)).await;
    assert_eq!(fake.opens(), 2, "10 s without a frame replaced the connection");
    assert_eq!(fake.sent(1), ["sub:2:A"]);
}

#[tokio::test(start_paused = true)]
async fn keep_alive_frames_follow_the_schedule() {
    let (fake, pool) = pool(PoolOptions {
        keep_alive: Some(Duration::from_secs(3)),
        ..options()
    });
    let _a = pool.subscribe("A").unwrap();
    settle().await;
    sleep(Duration::from_millis(6500)).await;
    assert_eq!(fake.sent(0), ["sub:1:A", "ping:2", "ping:3"]);
}

#[tokio::test(start_paused = true)]
async fn back_off_doubles_to_its_limit_and_a_healthy_connection_resets_it() {
    let (fake, pool) = pool(options());
    fake.fail_opens.store(5, Ordering::SeqCst);
    let _a = pool.subscribe("A").unwrap();
    sleep(Duration::from_secs(5)).await;
    let gaps = |attempts: &[Instant]| -> Vec<u128> {
        attempts.windows(2).map(|w| (w[1] - w[0]).as_millis()).collect()
    };
    assert_eq!(gaps(&fake.attempts.locked()), [100, 200, 400, 800, 1000]);
    assert_eq!(fake.opens(), 1);

    // A connection that heard the upstream and lived past `healthy_after` starts the count again.
    fake.push(0, "hb");
    sleep(Duration::from_secs(2)).await;
    fake.fail_opens.store(1, Ordering::SeqCst);
    let (_, tx) = fake.remote(0).unwrap();
    tx.send(None).unwrap();
    sleep(Duration::from_secs(2)).await;
    let attempts = fake.attempts.locked().clone();
    assert_eq!(
        gaps(&attempts[6..]),
        [200],
        "retries 100 ms then 200 ms after the healthy one"
    );
    assert_eq!(fake.opens(), 2);
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_subscription_and_a_dead_session_replace_the_connection() {
    let protocol = Arc::new(FakeProtocol {
        acks: true,
        ..FakeProtocol::default()
    });
    // Silence is watched for a minute here: only the answers count.
    let options = PoolOptions {
        silence: Duration::from_secs(60),
        ..options()
    };
    let pool = StreamPool::new(protocol.clone(), options);
    let mut a = pool.subscribe("A").unwrap();
    let mut b = pool.subscribe("B").unwrap();
    settle().await;
    protocol.push(0, "refuse:1:B");
    assert_eq!(b.recv().await, None, "a refused key closes its receivers");
    sleep(Duration::from_secs(11)).await;
    assert_eq!(protocol.opens(), 1, "the subscription was answered");
    protocol.push(0, "dead");
    sleep(Duration::from_millis(150)).await;
    assert_eq!(protocol.opens(), 2);
    assert_eq!(protocol.invalidations.load(Ordering::SeqCst), 1);
    assert_eq!(protocol.sent(1), ["sub:2:A"]);
    // Never answered: replaced after `ack_within`.
    sleep(Duration::from_secs(11)).await;
    assert_eq!(protocol.opens(), 3);
    protocol.push(2, "data:A:x");
    assert_eq!(a.recv().await.unwrap(), "x");
}

#[tokio::test(start_paused = true)]
async fn dropping_the_pool_ends_receivers_closes_links_and_leaves_no_task() {
    let (fake, pool) = pool(options());
    let mut a = pool.subscribe("A").unwrap();
    let clone = pool.clone();
    drop(pool);
    settle().await;
    assert_eq!(clone.stats().connections, 1, "a clone keeps the pool alive");
    drop(clone);
    assert_eq!(a.recv().await, None);
    settle().await;
    assert!(fake.remote(0).unwrap().1.is_closed(), "the link was closed");
    assert_eq!(
        Arc::strong_count(&fake),
        1,
        "no connection task holds the pool any more"
    );
}
