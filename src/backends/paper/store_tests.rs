//! The paper books in the state store: a restart resumes them, replicas sharing a store are one broker,
//! a retried `requestId` finds its order, and the bounds refuse clearly.

use super::*;
use crate::broker::BridgeUser;
use crate::store::{EmbeddedStore, Entry, Expect, Notice, StoreResult};
use crate::tv::{OrderStatus, OrderType, Side};

/// A memory store that says it is shared, standing in for Redis: two brokers on it behave as two
/// replicas on one Redis. Each call yields first, as a network round trip would, so replicas interleave;
/// it counts the writes that lost a race.
struct SharedMemory(Arc<MemoryStore>, std::sync::atomic::AtomicUsize);

#[async_trait]
impl Store for SharedMemory {
    fn kind(&self) -> &'static str {
        "memory"
    }
    fn shared(&self) -> bool {
        true
    }
    async fn get(&self, key: &str) -> StoreResult<Option<Entry>> {
        tokio::task::yield_now().await;
        self.0.get(key).await
    }
    async fn swap(
        &self,
        key: &str,
        expect: Expect,
        value: Option<&[u8]>,
        ttl: Duration,
    ) -> StoreResult<Option<u64>> {
        tokio::task::yield_now().await;
        let written = self.0.swap(key, expect, value, ttl).await?;
        if written.is_none() {
            self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(written)
    }
    async fn publish(&self, channel: &str, payload: &[u8]) -> StoreResult<()> {
        self.0.publish(channel, payload).await
    }
    fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.0.subscribe()
    }
    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }
}

const T0_MS: i64 = 1_767_614_400_000;
const NET: &str = "demo-net";
const HEDGE: &str = "demo-hedge";

fn config() -> PaperConfig {
    PaperConfig {
        tick_interval_ms: 50,
        ..PaperConfig::default()
    }
}

fn ctx() -> SessionCtx {
    SessionCtx {
        session_id: "s".into(),
        user: "demo".into(),
    }
}

async fn login(broker: &PaperBroker) {
    let demo = Login::Bridge(BridgeUser {
        login: "demo".into(),
        display_name: "demo".into(),
    });
    broker.login("s", &demo).await.unwrap();
}

fn market(qty: i64) -> tv::PlaceOrder {
    tv::PlaceOrder::new("EURUSD", Side::Buy, OrderType::Market, Decimal::from(qty))
}

/// A limit buy far below the market: it stays working.
fn resting(qty: i64) -> tv::PlaceOrder {
    let mut order = tv::PlaceOrder::new("EURUSD", Side::Buy, OrderType::Limit, Decimal::from(qty));
    order.limit_price = Some(Decimal::new(5, 1));
    order
}

async fn replicas(clock: &ManualClock) -> (PaperBroker, PaperBroker) {
    replicas_on(
        clock,
        Arc::new(SharedMemory(Arc::new(MemoryStore::new()), 0.into())),
    )
    .await
}

async fn replicas_on(clock: &ManualClock, store: Arc<dyn Store>) -> (PaperBroker, PaperBroker) {
    let a = PaperBroker::start_with_store_and_clock(config(), store.clone(), Arc::new(clock.clone()))
        .await
        .unwrap();
    let b = PaperBroker::start_with_store_and_clock(config(), store, Arc::new(clock.clone()))
        .await
        .unwrap();
    login(&a).await;
    (a, b)
}

fn ids(orders: &[tv::Order]) -> Vec<&str> {
    orders.iter().map(|o| o.id.as_str()).collect()
}

async fn open_embedded(dir: &std::path::Path) -> Arc<dyn Store> {
    // The previous broker's actor lets go of the file as it stops, a moment after its handle is dropped.
    for _ in 0..100 {
        match EmbeddedStore::open(dir).await {
            Ok(store) => return Arc::new(store),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    panic!("the embedded store stayed locked");
}

#[tokio::test]
async fn a_restart_on_the_embedded_store_finds_every_acknowledged_change() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0_MS);
    let store = open_embedded(dir.path()).await;
    let broker = PaperBroker::start_with_store_and_clock(config(), store, Arc::new(clock.clone()))
        .await
        .unwrap();
    login(&broker).await;
    let filled = broker
        .place_order(&ctx(), NET, market(10_000), Some("r1"))
        .await
        .unwrap();
    let working = broker
        .place_order(&ctx(), NET, resting(1000), None)
        .await
        .unwrap();
    broker
        .place_order(&ctx(), HEDGE, market(2000), None)
        .await
        .unwrap();
    let before = (
        broker.orders(&ctx(), NET).await.unwrap(),
        broker.positions(&ctx(), NET).await.unwrap(),
        broker.individual_positions(&ctx(), HEDGE).await.unwrap(),
        broker.state(&ctx(), NET).await.unwrap(),
        broker.executions(&ctx(), NET, None, None).await.unwrap(),
    );
    assert_eq!(ids(&before.0), vec![filled.as_str(), working.as_str()]);
    drop(broker);

    let store = open_embedded(dir.path()).await;
    let again = PaperBroker::start_with_store_and_clock(config(), store, Arc::new(clock.clone()))
        .await
        .unwrap();
    let after = (
        again.orders(&ctx(), NET).await.unwrap(),
        again.positions(&ctx(), NET).await.unwrap(),
        again.individual_positions(&ctx(), HEDGE).await.unwrap(),
        again.state(&ctx(), NET).await.unwrap(),
        again.executions(&ctx(), NET, None, None).await.unwrap(),
    );
    assert_eq!(before, after);
    // The requestId outlives the restart too, and new ids never repeat the old ones.
    let retried = again
        .place_order(&ctx(), NET, market(10_000), Some("r1"))
        .await
        .unwrap();
    assert_eq!(retried, filled);
    let fresh = again.place_order(&ctx(), NET, market(1000), None).await.unwrap();
    assert!(![filled.as_str(), working.as_str()].contains(&fresh.as_str()));
}

#[tokio::test]
async fn replicas_on_one_store_are_one_broker() {
    let clock = ManualClock::new(T0_MS);
    let (a, b) = replicas(&clock).await;
    // B has caught up with the accounts' creation before it listens.
    b.call(|_, _| ()).await.unwrap();
    let mut heard_on_b = b.subscribe_changes();
    let id = a.place_order(&ctx(), NET, resting(1000), None).await.unwrap();
    // B's account hub hears of A's order without anyone asking B.
    let heard = tokio::time::timeout(Duration::from_secs(5), heard_on_b.recv()).await;
    assert_eq!(heard.unwrap().unwrap(), NET);
    assert_eq!(ids(&b.orders(&ctx(), NET).await.unwrap()), vec![id.as_str()]);

    let change = tv::ModifyOrder {
        qty: Some(Decimal::from(2000)),
        limit_price: None,
        stop_price: None,
        duration: None,
        brackets: tv::Brackets::default(),
    };
    b.modify_order(&ctx(), NET, &id, change).await.unwrap();
    assert_eq!(a.orders(&ctx(), NET).await.unwrap()[0].qty, Decimal::from(2000));
    a.cancel_order(&ctx(), NET, &id).await.unwrap();
    let on_b = b.orders(&ctx(), NET).await.unwrap();
    assert_eq!(on_b[0].status, OrderStatus::Cancelled);
    assert!(
        b.cancel_order(&ctx(), NET, &id).await.is_err(),
        "already cancelled, wherever asked"
    );
}

#[tokio::test]
async fn replicas_racing_lose_no_placement() {
    let clock = ManualClock::new(T0_MS);
    let store = Arc::new(SharedMemory(Arc::new(MemoryStore::new()), 0.into()));
    let (a, b) = replicas_on(&clock, store.clone()).await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let mut tasks = Vec::new();
    for i in 0..40 {
        let broker = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            broker
                .place_order(&ctx(), NET, resting(1000), None)
                .await
                .unwrap()
        }));
    }
    let mut placed = Vec::new();
    for task in tasks {
        placed.push(task.await.unwrap());
    }
    placed.sort();
    placed.dedup();
    assert_eq!(placed.len(), 40, "every placement got its own id");
    for broker in [&a, &b] {
        let mut listed: Vec<String> = broker
            .orders(&ctx(), NET)
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.id)
            .collect();
        listed.sort();
        assert_eq!(
            listed, placed,
            "every placement kept, seen alike from both replicas"
        );
    }
}

#[tokio::test]
async fn a_fill_by_the_market_happens_once_across_replicas() {
    let clock = ManualClock::new(T0_MS);
    let (a, b) = replicas(&clock).await;
    // A limit the market reaches within ten minutes, but not yet.
    let eur = Market::new(config().seed, config().effective_instruments());
    let ins = eur.get("EURUSD").unwrap().clone();
    let now = T0_MS / 1000;
    let ask_now = eur.tick(&ins, now).ask;
    let (hit_at, limit) = (now + 1..now + 600)
        .map(|t| (t, eur.tick(&ins, t).ask))
        .min_by_key(|(_, ask)| *ask)
        .unwrap();
    assert!(limit < ask_now, "the test needs a dip in the next ten minutes");
    let mut order = tv::PlaceOrder::new("EURUSD", Side::Buy, OrderType::Limit, Decimal::from(1000));
    order.limit_price = Some(limit);
    let id = a.place_order(&ctx(), NET, order, None).await.unwrap();
    // Both replicas' ticks race over the same seconds.
    clock.set_ms((hit_at + 5) * 1000);
    tokio::time::sleep(Duration::from_millis(500)).await;
    for broker in [&a, &b] {
        let executions = broker.executions(&ctx(), NET, None, None).await.unwrap();
        let fills: Vec<_> = executions.iter().filter(|e| e.order_id == id).collect();
        assert_eq!(fills.len(), 1, "one fill, seen alike from both replicas");
        let positions = broker.positions(&ctx(), NET).await.unwrap();
        assert_eq!(positions.len(), 1);
        assert_eq!(positions[0].qty, Decimal::from(1000));
        let orders = broker.orders(&ctx(), NET).await.unwrap();
        assert_eq!(orders[0].status, OrderStatus::Filled);
    }
}

#[tokio::test]
async fn a_request_id_places_once_per_account() {
    let clock = ManualClock::new(T0_MS);
    let (a, b) = replicas(&clock).await;
    assert_eq!(a.order_by_request_id(&ctx(), NET, "req-1").await.unwrap(), None);
    let first = a
        .place_order(&ctx(), NET, market(1000), Some("req-1"))
        .await
        .unwrap();
    // What the core asks after a crash, on any replica: the order the request created.
    assert_eq!(
        b.order_by_request_id(&ctx(), NET, "req-1")
            .await
            .unwrap()
            .as_deref(),
        Some(first.as_str())
    );
    // The retry of a placement whose first attempt a crashed replica left unanswered.
    let again = b
        .place_order(&ctx(), NET, market(1000), Some("req-1"))
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(a.orders(&ctx(), NET).await.unwrap().len(), 1);
    assert_eq!(
        a.positions(&ctx(), NET).await.unwrap()[0].qty,
        Decimal::from(1000)
    );
    // Another account, another requestId, or none: new orders.
    let elsewhere = a
        .place_order(&ctx(), HEDGE, market(1000), Some("req-1"))
        .await
        .unwrap();
    let other = a
        .place_order(&ctx(), NET, market(1000), Some("req-2"))
        .await
        .unwrap();
    let plain1 = a.place_order(&ctx(), NET, market(1000), None).await.unwrap();
    let plain2 = a.place_order(&ctx(), NET, market(1000), None).await.unwrap();
    let mut all = vec![first.clone(), elsewhere, other, plain1, plain2];
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 5);
    assert_eq!(a.orders(&ctx(), NET).await.unwrap().len(), 4);
    // A refused placement records nothing: its retry is tried afresh.
    let too_big = a
        .place_order(&ctx(), NET, market(1_000_000_000), Some("req-3"))
        .await;
    assert!(too_big.is_err());
    let retried = a
        .place_order(&ctx(), NET, market(1000), Some("req-3"))
        .await
        .unwrap();
    assert!(!all.contains(&retried));
    // A day later the requestId is forgotten.
    clock.advance_ms(24 * 3600 * 1000 + 1000);
    let next_day = a
        .place_order(&ctx(), NET, market(1000), Some("req-1"))
        .await
        .unwrap();
    assert_ne!(next_day, first);
}

#[tokio::test]
async fn a_full_account_refuses_new_orders_clearly() {
    let clock = ManualClock::new(T0_MS);
    let broker = PaperBroker::start_with_clock(config(), Arc::new(clock.clone()))
        .await
        .unwrap();
    login(&broker).await;
    broker
        .call(|e, now| {
            for _ in 0..MAX_ACTIVE_ORDERS {
                e.place(NET, resting(1000), now).unwrap();
            }
        })
        .await
        .unwrap();
    let refused = broker.place_order(&ctx(), NET, resting(1000), None).await;
    assert_eq!(
        refused,
        Err(BrokerError::Rejected(format!(
            "This account has {MAX_ACTIVE_ORDERS} active orders (brackets included), the most a paper account holds: cancel some first"
        )))
    );
    // Market orders on a hedging account open a position each; the bound stops them too.
    broker
        .call(|e, now| {
            for _ in 0..MAX_POSITIONS {
                e.place(HEDGE, market(1000), now).unwrap();
            }
        })
        .await
        .unwrap();
    let refused = broker.place_order(&ctx(), HEDGE, market(1000), None).await;
    assert_eq!(
        refused,
        Err(BrokerError::Rejected(format!(
            "This account has {MAX_POSITIONS} open positions, the most a paper account holds: close some first"
        )))
    );
}

#[tokio::test]
async fn a_state_file_is_imported_once_and_no_longer_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("paper.json");
    let clock = ManualClock::new(T0_MS);
    // The file an earlier version wrote.
    let old = PaperBroker::start_with_clock(config(), Arc::new(clock.clone()))
        .await
        .unwrap();
    login(&old).await;
    let id = old.place_order(&ctx(), NET, resting(1000), None).await.unwrap();
    let state = old.call(|e, _| e.state().clone()).await.unwrap();
    std::fs::write(&file, serde_json::to_vec(&state).unwrap()).unwrap();
    let written = std::fs::read(&file).unwrap();

    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let with_file = PaperConfig {
        state_file: Some(file.clone()),
        ..config()
    };
    let imported =
        PaperBroker::start_with_store_and_clock(with_file.clone(), store.clone(), Arc::new(clock.clone()))
            .await
            .unwrap();
    assert_eq!(
        ids(&imported.orders(&ctx(), NET).await.unwrap()),
        vec![id.as_str()]
    );
    let next = imported
        .place_order(&ctx(), NET, resting(1000), None)
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(&file).unwrap(),
        written,
        "the file is no longer written"
    );
    drop(imported);

    // The store now holds the books: the file is not read again, even spoilt.
    std::fs::write(&file, b"{spoilt").unwrap();
    let resumed = PaperBroker::start_with_store_and_clock(with_file, store, Arc::new(clock.clone()))
        .await
        .unwrap();
    assert_eq!(
        ids(&resumed.orders(&ctx(), NET).await.unwrap()),
        vec![id.as_str(), next.as_str()]
    );
}

#[tokio::test]
async fn a_store_that_fails_a_write_gets_no_acknowledgement_and_loses_nothing_saved() {
    /// A memory store whose writes fail while `down` is set.
    struct Flaky(MemoryStore, std::sync::atomic::AtomicBool);
    #[async_trait]
    impl Store for Flaky {
        fn kind(&self) -> &'static str {
            "memory"
        }
        fn shared(&self) -> bool {
            false
        }
        async fn get(&self, key: &str) -> StoreResult<Option<Entry>> {
            self.0.get(key).await
        }
        async fn swap(
            &self,
            key: &str,
            expect: Expect,
            value: Option<&[u8]>,
            ttl: Duration,
        ) -> StoreResult<Option<u64>> {
            if self.1.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(crate::store::StoreError::Timeout(2000));
            }
            self.0.swap(key, expect, value, ttl).await
        }
        async fn publish(&self, channel: &str, payload: &[u8]) -> StoreResult<()> {
            self.0.publish(channel, payload).await
        }
        fn subscribe(&self) -> broadcast::Receiver<Notice> {
            self.0.subscribe()
        }
        async fn ping(&self) -> StoreResult<()> {
            Ok(())
        }
    }
    let store = Arc::new(Flaky(MemoryStore::new(), false.into()));
    let clock = ManualClock::new(T0_MS);
    let broker = PaperBroker::start_with_store_and_clock(config(), store.clone(), Arc::new(clock.clone()))
        .await
        .unwrap();
    login(&broker).await;
    let kept = broker
        .place_order(&ctx(), NET, resting(1000), None)
        .await
        .unwrap();
    store.1.store(true, std::sync::atomic::Ordering::SeqCst);
    let failed = broker.place_order(&ctx(), NET, resting(1000), None).await;
    assert!(
        matches!(&failed, Err(BrokerError::Unavailable(m)) if m.contains("could not save")),
        "{failed:?}"
    );
    store.1.store(false, std::sync::atomic::Ordering::SeqCst);
    // The unsaved order is gone, not served from memory as if it had been acknowledged.
    assert_eq!(
        ids(&broker.orders(&ctx(), NET).await.unwrap()),
        vec![kept.as_str()]
    );
}

/// What a write costs on the embedded store as the books grow (run with `--ignored --nocapture`).
#[tokio::test]
#[ignore]
async fn measure_placements_on_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_embedded(dir.path()).await;
    let broker = PaperBroker::start_with_store(config(), store.clone())
        .await
        .unwrap();
    login(&broker).await;
    for round in 0..5 {
        let started = std::time::Instant::now();
        for _ in 0..100 {
            broker
                .place_order(&ctx(), NET, resting(1000), None)
                .await
                .unwrap();
        }
        let per = started.elapsed() / 100;
        let bytes = store.get(super::books::KEY).await.unwrap().unwrap().value.len();
        println!(
            "working orders {}..{}: {per:?} per placement, record {bytes} bytes",
            round * 100,
            round * 100 + 100
        );
    }
    let started = std::time::Instant::now();
    for _ in 0..100 {
        broker.orders(&ctx(), NET).await.unwrap();
    }
    println!("a read: {:?}", started.elapsed() / 100);
}

#[tokio::test]
async fn books_too_large_shed_old_history_then_refuse_clearly() {
    use super::books::{Books, Saved, MAX_STATE_BYTES};
    let clock = ManualClock::new(T0_MS);
    let broker = PaperBroker::start_with_clock(config(), Arc::new(clock.clone()))
        .await
        .unwrap();
    login(&broker).await;
    broker.place_order(&ctx(), NET, market(1000), None).await.unwrap();
    broker
        .place_order(&ctx(), NET, resting(1000), None)
        .await
        .unwrap();
    let state = broker.call(|e, _| e.state().clone()).await.unwrap();
    let market = Market::new(config().seed, config().effective_instruments());
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let ttl = Duration::from_secs(3600);

    // Executions past the size limit: the older half goes, and the books fit.
    let mut big = state.clone();
    let book = big.accounts.get_mut(NET).unwrap();
    book.executions = vec![book.executions[0].clone(); 60_000];
    let mut engine = Engine::new(market.clone(), Some(big), Decimal::from(100_000), T0_MS);
    engine.dirty = true;
    let (mut books, _) = Books::open(store.clone(), ttl, None).await.unwrap();
    assert!(matches!(books.save(&mut engine).await, Ok(Saved::Written(_))));
    let kept = engine.state().accounts[NET].executions.len();
    assert!(kept < 60_000 && kept > 0, "{kept}");
    assert!(store.get(super::books::KEY).await.unwrap().unwrap().value.len() <= MAX_STATE_BYTES);

    // Working orders past it: nothing to shed, so the change is refused, by name.
    let mut big = state;
    let book = big.accounts.get_mut(NET).unwrap();
    book.orders = vec![book.orders.last().unwrap().clone(); 40_000];
    let mut engine = Engine::new(market, Some(big), Decimal::from(100_000), T0_MS);
    engine.dirty = true;
    let (mut books, _) = Books::open(store, ttl, None).await.unwrap();
    let refused = books.save(&mut engine).await;
    assert!(
        matches!(&refused, Err(BrokerError::Rejected(m)) if m.starts_with("The paper broker's books are full")),
        "{refused:?}"
    );
}
