//! Several hub sets on one shared store, standing in for replicas behind a load balancer: backend calls per
//! refresh window stay those of one process, a lost holder is replaced, streams everywhere get the same
//! lines, writes on any replica are seen everywhere, and a store that is not shared changes nothing.

use super::shared::Wall;
use super::tests::{account, assert_spaced, ctx, Scripted};
use super::{AccountHubs, HubConfig, SnapshotPart, StreamKind};
use crate::broker::{Broker, RefreshMode, RefreshPolicy};
use crate::store::{Entry, Expect, MemoryStore, Notice, Store, StoreError, StoreResult};
use async_trait::async_trait;
use rust_decimal::Decimal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::time::Instant;

/// A memory store that counts its operations and can be cut off (a replica that lost its Redis).
struct TestStore {
    inner: Arc<MemoryStore>,
    down: AtomicBool,
    gets: AtomicU64,
    swaps: AtomicU64,
    publishes: AtomicU64,
}

impl TestStore {
    fn on(inner: Arc<MemoryStore>) -> Arc<TestStore> {
        Arc::new(TestStore {
            inner,
            down: AtomicBool::new(false),
            gets: AtomicU64::new(0),
            swaps: AtomicU64::new(0),
            publishes: AtomicU64::new(0),
        })
    }

    fn ops(&self) -> (u64, u64, u64) {
        (
            self.gets.load(Ordering::Relaxed),
            self.swaps.load(Ordering::Relaxed),
            self.publishes.load(Ordering::Relaxed),
        )
    }

    fn check(&self) -> StoreResult<()> {
        if self.down.load(Ordering::Relaxed) {
            return Err(StoreError::Unavailable("cut off".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl Store for TestStore {
    fn kind(&self) -> &'static str {
        "test"
    }
    fn shared(&self) -> bool {
        self.inner.shared()
    }
    async fn get(&self, key: &str) -> StoreResult<Option<Entry>> {
        self.gets.fetch_add(1, Ordering::Relaxed);
        self.check()?;
        self.inner.get(key).await
    }
    async fn swap(
        &self,
        key: &str,
        expect: Expect,
        value: Option<&[u8]>,
        ttl: Duration,
    ) -> StoreResult<Option<u64>> {
        self.swaps.fetch_add(1, Ordering::Relaxed);
        self.check()?;
        self.inner.swap(key, expect, value, ttl).await
    }
    async fn publish(&self, channel: &str, payload: &[u8]) -> StoreResult<()> {
        self.publishes.fetch_add(1, Ordering::Relaxed);
        self.check()?;
        self.inner.publish(channel, payload).await
    }
    fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.inner.subscribe()
    }
    async fn ping(&self) -> StoreResult<()> {
        self.check()
    }
}

/// Wall-clock milliseconds that move with tokio's (paused) clock.
fn wall() -> Wall {
    let (t0, ms0) = (Instant::now(), crate::store::now_ms());
    Arc::new(move || ms0 + t0.elapsed().as_millis() as u64)
}

fn replica(broker: &Arc<Scripted>, config: &HubConfig, store: Arc<dyn Store>, id: &str) -> AccountHubs {
    let broker: Arc<dyn Broker> = broker.clone();
    AccountHubs::with_store_clock(broker, config.clone(), store, id.into(), wall())
}

/// `n` replicas on one shared store, each with its own (counting) view of it.
fn replicas(broker: &Arc<Scripted>, config: &HubConfig, n: usize) -> (Vec<AccountHubs>, Vec<Arc<TestStore>>) {
    let shared = Arc::new(MemoryStore::new_shared());
    let stores: Vec<_> = (0..n).map(|_| TestStore::on(shared.clone())).collect();
    let hubs = stores
        .iter()
        .enumerate()
        .map(|(i, s)| replica(broker, config, s.clone(), &format!("r{i}")))
        .collect();
    (hubs, stores)
}

/// `clients` tabs per hub set polling every 100 ms (staggered) for `secs` seconds.
async fn poll_for(sets: &[AccountHubs], clients: usize, secs: u64) {
    let end = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for (r, hubs) in sets.iter().enumerate() {
        for c in 0..clients {
            let hub = hubs.get(&ctx(), &account("A", false));
            let offset = Duration::from_millis(((r * 37 + c * 11) % 100) as u64);
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep(offset).await;
                while Instant::now() < end {
                    hub.snapshot().await.unwrap();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
}

fn state_line(update: &super::Update) -> String {
    let line = update.line(StreamKind::State).expect("the state changed");
    std::str::from_utf8(line).unwrap().to_owned()
}

/// Three replicas polled by twenty tabs each for 20 s ask the backend about as often as one process polled
/// by all sixty, not three times as often.
#[tokio::test(start_paused = true)]
async fn three_replicas_cost_the_backend_what_one_process_does() {
    let config = HubConfig::default();
    let alone = Scripted::new(RefreshPolicy::POLL);
    poll_for(&[AccountHubs::new(alone.clone(), config.clone())], 60, 20).await;
    let one = alone.refreshes().len();

    let broker = Scripted::new(RefreshPolicy::POLL);
    let (sets, stores) = replicas(&broker, &config, 3);
    poll_for(&sets, 20, 20).await;
    let three = broker.refreshes().len();
    println!("backend refreshes in 20 s: one process {one}, three replicas {three}");
    for (i, s) in stores.iter().enumerate() {
        println!("replica {i} store ops (get, swap, publish): {:?}", s.ops());
    }
    assert!(one >= 20, "the window is 500 ms: {one}");
    assert!(
        three <= one + one / 5 + 1,
        "three replicas: {three} refreshes, one process: {one}"
    );
    let leaders = sets
        .iter()
        .filter(|h| h.get(&ctx(), &account("A", false)).leads())
        .count();
    assert_eq!(leaders, 1, "one lease holder");
    let fetchers = sets.iter().filter(|h| h.total_fetches() > 0).count();
    assert_eq!(fetchers, 1, "only the holder asked the backend");
}

/// Streams on a replica that never asks the backend get the same lines as the holder's, about as soon,
/// and streams on every replica cost one refresh per interval between them.
#[tokio::test(start_paused = true)]
async fn streams_on_a_follower_get_the_holders_lines() {
    let config = HubConfig::default();
    let broker = Scripted::new(RefreshPolicy::POLL);
    let (sets, _) = replicas(&broker, &config, 3);
    let hubs: Vec<_> = sets.iter().map(|h| h.get(&ctx(), &account("A", false))).collect();
    hubs[0].snapshot().await.unwrap();
    assert!(hubs[0].leads());
    let mut rx = Vec::new();
    for hub in &hubs {
        rx.push(hub.subscribe().await.unwrap().1);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = broker.refreshes().len();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let during = broker.refreshes().len() - before;
    assert!(
        (9..=12).contains(&during),
        "streams on three replicas at 1 s: {during} refreshes in 10 s"
    );

    *broker.balance.lock().unwrap() = Decimal::TWO;
    let mut lines = Vec::new();
    for rx in &mut rx {
        let update = tokio::time::timeout(Duration::from_millis(1500), rx.recv())
            .await
            .expect("within an interval")
            .unwrap();
        lines.push(state_line(&update));
    }
    assert!(lines[0].contains("\"balance\":2"), "{}", lines[0]);
    assert_eq!(lines[1], lines[0]);
    assert_eq!(lines[2], lines[0]);
    assert_eq!(sets[1].total_fetches() + sets[2].total_fetches(), 0);
}

/// A write on a follower: its answer follows one refresh by the holder, and the change is seen at once by
/// the follower's next poll, by every stream and by the holder's polls.
#[tokio::test(start_paused = true)]
async fn a_write_on_a_follower_is_seen_everywhere_at_once() {
    let config = HubConfig {
        freshness_ms: 60_000,
        poll_interval_ms: 60_000,
        ..Default::default()
    };
    let broker = Scripted::new(RefreshPolicy::POLL);
    let (sets, _) = replicas(&broker, &config, 3);
    let hubs: Vec<_> = sets.iter().map(|h| h.get(&ctx(), &account("A", false))).collect();
    hubs[0].snapshot().await.unwrap();
    hubs[1].snapshot().await.unwrap();
    let (_, mut stream) = hubs[2].subscribe().await.unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    let before = broker.refreshes().len();
    assert_eq!(before, 1, "everyone served from the holder's first snapshot");

    *broker.balance.lock().unwrap() = Decimal::TWO;
    let t = Instant::now();
    hubs[1].after_write().await;
    assert!(
        t.elapsed() < Duration::from_millis(300),
        "one fetch: {:?}",
        t.elapsed()
    );
    assert_eq!(broker.refreshes().len(), before + 1, "one refresh, by the holder");
    assert_eq!(sets[1].total_fetches(), 0);
    for hub in &hubs {
        let s = hub.snapshot().await.unwrap();
        assert_eq!(s.state.balance, Decimal::TWO);
    }
    let update = tokio::time::timeout(Duration::from_millis(100), stream.recv())
        .await
        .expect("the stream hears of it at once")
        .unwrap();
    assert!(state_line(&update).contains("\"balance\":2"));
    assert_eq!(
        broker.refreshes().len(),
        before + 1,
        "polls after it cost nothing"
    );
}

/// Under a backend's minimum interval, polls and writes on three replicas never bring two refreshes closer
/// than the interval, whichever replica asks.
#[tokio::test(start_paused = true)]
async fn the_minimum_interval_holds_across_replicas() {
    let min = Duration::from_secs(5);
    let broker = Scripted::new(RefreshPolicy {
        mode: RefreshMode::Poll(Some(Duration::from_millis(200))),
        min_interval: min,
    });
    let config = HubConfig {
        freshness_ms: 0,
        ..Default::default()
    };
    let (sets, _) = replicas(&broker, &config, 3);
    let end = Instant::now() + Duration::from_secs(30);
    let mut tasks = Vec::new();
    let mut streams = Vec::new();
    for (r, hubs) in sets.iter().enumerate() {
        let hub = hubs.get(&ctx(), &account("A", false));
        streams.push(hub.subscribe().await.unwrap().1);
        for _ in 0..10 {
            let hub = hub.clone();
            tasks.push(tokio::spawn(async move {
                while Instant::now() < end {
                    hub.snapshot().await.unwrap();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }));
        }
        let writer = hub.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300 * r as u64)).await;
            while Instant::now() < end {
                writer.after_write().await;
                tokio::time::sleep(Duration::from_millis(900)).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_spaced(&broker.refreshes(), 5, min);
}

/// The holder's hub set goes away (the replica shuts down): another replica takes over at once, and its
/// streams keep getting changes.
#[tokio::test(start_paused = true)]
async fn a_stopped_holder_hands_over_at_once() {
    let config = HubConfig::default();
    let broker = Scripted::new(RefreshPolicy::POLL);
    let (mut sets, _) = replicas(&broker, &config, 2);
    let leader = sets[0].get(&ctx(), &account("A", false));
    leader.snapshot().await.unwrap();
    assert!(leader.leads());
    drop(leader);
    let follower = sets[1].get(&ctx(), &account("A", false));
    let (_, mut rx) = follower.subscribe().await.unwrap();
    sets.remove(0);
    // The stopped hub's loop notices at its next tick and gives the lease up.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(follower.leads(), "took over");
    *broker.balance.lock().unwrap() = Decimal::TWO;
    let update = tokio::time::timeout(Duration::from_millis(1500), rx.recv())
        .await
        .expect("the new holder refreshes")
        .unwrap();
    assert!(state_line(&update).contains("\"balance\":2"));
}

/// The holder loses the store (or dies): it stops renewing, another replica takes over within the lease
/// time, and the cut-off replica keeps serving by asking the backend itself.
#[tokio::test(start_paused = true)]
async fn a_lost_holder_is_replaced_within_the_lease_and_fends_for_itself() {
    let config = HubConfig::default();
    let broker = Scripted::new(RefreshPolicy::POLL);
    let (sets, stores) = replicas(&broker, &config, 2);
    let a = sets[0].get(&ctx(), &account("A", false));
    a.snapshot().await.unwrap();
    let b = sets[1].get(&ctx(), &account("A", false));
    let (_, mut rx) = b.subscribe().await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(a.leads() && !b.leads());
    assert_eq!(sets[1].total_fetches(), 0);

    stores[0].down.store(true, Ordering::Relaxed);
    let cut = Instant::now();
    *broker.balance.lock().unwrap() = Decimal::TWO;
    let update = tokio::time::timeout(Duration::from_secs(8), rx.recv())
        .await
        .expect("another replica takes over within the lease (5 s) and an interval")
        .unwrap();
    assert!(state_line(&update).contains("\"balance\":2"));
    assert!(cut.elapsed() <= Duration::from_secs(6), "{:?}", cut.elapsed());
    assert!(b.leads() && !a.leads());
    assert!(sets[1].total_fetches() > 0);

    // The cut-off replica answers its polls from the backend.
    let before = sets[0].total_fetches();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(a.snapshot().await.unwrap().state.balance, Decimal::TWO);
    assert_eq!(sets[0].total_fetches(), before + 1);
}

/// A store that is not shared (memory, embedded: one process) changes nothing: the same backend calls as
/// `AccountHubs::new`, and no store operation at all.
#[tokio::test(start_paused = true)]
async fn a_store_that_is_not_shared_changes_nothing() {
    let config = HubConfig::default();
    let plain = Scripted::new(RefreshPolicy::POLL);
    poll_for(&[AccountHubs::new(plain.clone(), config.clone())], 30, 10).await;

    let broker = Scripted::new(RefreshPolicy::POLL);
    let store = TestStore::on(Arc::new(MemoryStore::new()));
    let hubs = replica(&broker, &config, store.clone(), "r0");
    poll_for(std::slice::from_ref(&hubs), 30, 10).await;
    let (_, mut rx) = hubs.get(&ctx(), &account("A", false)).subscribe().await.unwrap();
    *broker.balance.lock().unwrap() = Decimal::TWO;
    hubs.get(&ctx(), &account("A", false)).after_write().await;
    assert!(state_line(&rx.recv().await.unwrap()).contains("\"balance\":2"));

    assert_eq!(broker.refreshes().len(), plain.refreshes().len() + 1);
    assert_eq!(store.ops(), (0, 0, 0));
}

/// What a poll costs a follower in store operations: nothing while its copy is fresh and no newer one was
/// announced, one read when a newer one was, and a request and a read (plus a lease read when the holder
/// is not known) when the snapshot is too old everywhere.
#[tokio::test(start_paused = true)]
async fn what_a_poll_costs_a_follower_in_store_operations() {
    let config = HubConfig::default();
    let broker = Scripted::new(RefreshPolicy::POLL);
    let (sets, stores) = replicas(&broker, &config, 2);
    let a = sets[0].get(&ctx(), &account("A", false));
    let b = sets[1].get(&ctx(), &account("A", false));
    a.snapshot().await.unwrap();
    b.snapshot().await.unwrap();

    let ops = stores[1].ops();
    b.snapshot().await.unwrap();
    assert_eq!(stores[1].ops(), ops, "fresh: nothing");

    tokio::time::sleep(Duration::from_millis(600)).await;
    a.snapshot().await.unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    let ops = stores[1].ops();
    b.snapshot().await.unwrap();
    assert_eq!(
        stores[1].ops(),
        (ops.0 + 1, ops.1, ops.2),
        "a newer one announced: one read"
    );

    tokio::time::sleep(Duration::from_millis(600)).await;
    let ops = stores[1].ops();
    b.snapshot().await.unwrap();
    assert_eq!(
        stores[1].ops(),
        (ops.0 + 2, ops.1, ops.2 + 1),
        "too old, holder not known yet: lease read, request, read"
    );

    tokio::time::sleep(Duration::from_millis(600)).await;
    let ops = stores[1].ops();
    b.snapshot().await.unwrap();
    assert_eq!(
        stores[1].ops(),
        (ops.0 + 1, ops.1, ops.2 + 1),
        "too old: request, read"
    );
    assert_eq!(sets[1].total_fetches(), 0);
}

/// A follower serves what it read back from the store: every poll answer and stream line it renders is
/// byte for byte the holder's, decimals included.
#[tokio::test(start_paused = true)]
async fn a_follower_answers_polls_byte_for_byte_as_the_holder() {
    use crate::tv::{Order, OrderStatus, OrderType, Position, Side};
    let d = |s: &str| s.parse::<Decimal>().unwrap();
    let broker = Scripted::new(RefreshPolicy::POLL);
    let mut order = Order::working(
        "o1".into(),
        "EURUSD".into(),
        d("0.01"),
        Side::Sell,
        OrderType::Limit,
        Some(d("1.08345")),
        Some(1_700_000_000),
    );
    order.stop_price = Some(d("123456.789"));
    order.filled_qty = Some(d("0.1"));
    let mut other = Order::new(
        "o2".into(),
        "US500".into(),
        d("3"),
        Side::Buy,
        OrderType::Market,
        OrderStatus::Filled,
        0,
    );
    other.avg_price = Some(d("5012.3"));
    *broker.orders.lock().unwrap() = vec![order, other];
    *broker.positions.lock().unwrap() = vec![Position {
        id: "p1".into(),
        instrument: "EURUSD".into(),
        qty: d("100000"),
        side: Side::Buy,
        avg_price: d("1.0799999"),
        unrealized_pl: d("-12.345678"),
    }];
    *broker.balance.lock().unwrap() = d("10000.07");
    let (sets, _) = replicas(&broker, &HubConfig::default(), 2);
    let holder = sets[0]
        .get(&ctx(), &account("A", false))
        .snapshot()
        .await
        .unwrap();
    let follower = sets[1]
        .get(&ctx(), &account("A", false))
        .snapshot()
        .await
        .unwrap();
    assert_eq!(sets[1].total_fetches(), 0);
    for kind in [StreamKind::Orders, StreamKind::Positions, StreamKind::State] {
        let h = serde_json::to_string(&SnapshotPart(holder.clone(), kind)).unwrap();
        let f = serde_json::to_string(&SnapshotPart(follower.clone(), kind)).unwrap();
        assert_eq!(f, h);
        assert_eq!(follower.line(kind), holder.line(kind));
    }
}

/// A hub nobody uses stops and gives its lease up; the next use anywhere takes it again.
#[tokio::test(start_paused = true)]
async fn an_idle_holder_gives_the_lease_up() {
    let config = HubConfig {
        idle_timeout_secs: 2,
        ..Default::default()
    };
    let broker = Scripted::new(RefreshPolicy::POLL);
    let (sets, stores) = replicas(&broker, &config, 2);
    let key = format!("hub-lease:{}", crate::store::digest(&["s", "A"]));
    sets[0]
        .get(&ctx(), &account("A", false))
        .snapshot()
        .await
        .unwrap();
    assert!(stores[0].inner.get(&key).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(sets[0].is_empty(), "the hub stopped");
    assert!(
        stores[0].inner.get(&key).await.unwrap().is_none(),
        "and gave its lease up"
    );
    let b = sets[1].get(&ctx(), &account("A", false));
    b.snapshot().await.unwrap();
    assert!(b.leads());
}

/// A pushed change heard by every replica costs at most two refreshes (the holder's own, and one for the
/// followers' requests that arrive while it runs), and reaches the streams everywhere.
#[tokio::test(start_paused = true)]
async fn a_push_heard_by_every_replica_refreshes_once_or_twice() {
    let config = HubConfig {
        freshness_ms: 60_000,
        poll_interval_ms: 60_000,
        ..Default::default()
    };
    let broker = Scripted::new(RefreshPolicy::PUSH);
    let (sets, _) = replicas(&broker, &config, 3);
    let hubs: Vec<_> = sets.iter().map(|h| h.get(&ctx(), &account("A", false))).collect();
    hubs[0].snapshot().await.unwrap();
    let mut rx = Vec::new();
    for hub in &hubs {
        rx.push(hub.subscribe().await.unwrap().1);
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    let before = broker.refreshes().len();
    *broker.balance.lock().unwrap() = Decimal::TWO;
    broker.pushes.send("A".into()).unwrap();
    for rx in &mut rx {
        let update = tokio::time::timeout(Duration::from_secs(1), rx.recv())
            .await
            .expect("the push reaches every stream")
            .unwrap();
        assert!(state_line(&update).contains("\"balance\":2"));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = broker.refreshes().len() - before;
    println!("refreshes for one push heard by three replicas: {after}");
    assert!((1..=2).contains(&after), "{after}");
    assert_eq!(sets[1].total_fetches() + sets[2].total_fetches(), 0);
}
