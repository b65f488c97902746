//! The account hub against a scripted backend: the refresh policy's minimum interval under many concurrent
//! polls and writes, pushed changes, and the default snapshot's calls per hedging mode.

use super::{AccountHubs, HubConfig, StreamKind};
use crate::broker::{
    Broker, BrokerAccount, BrokerResult, Capabilities, Login, LoginOutcome, RefreshMode, RefreshPolicy,
    SessionCtx,
};
use crate::tv;
use async_trait::async_trait;
use rust_decimal::Decimal;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::time::Instant;

/// A backend that records every account call with its (tokio) time.
pub(super) struct Scripted {
    policy: RefreshPolicy,
    /// The instruments `instruments` lists.
    pub(super) symbols: Mutex<Vec<String>>,
    /// `instruments` fails while set.
    pub(super) fail_instruments: Mutex<bool>,
    pub(super) balance: Mutex<Decimal>,
    /// What `orders` and `positions` answer.
    pub(super) orders: Mutex<Vec<tv::Order>>,
    pub(super) positions: Mutex<Vec<tv::Position>>,
    pub(super) calls: Mutex<Vec<(&'static str, Instant)>>,
    pub(super) pushes: broadcast::Sender<String>,
}

impl Scripted {
    pub(super) fn new(policy: RefreshPolicy) -> Arc<Scripted> {
        Arc::new(Scripted {
            policy,
            symbols: Mutex::new(vec!["EURUSD".into()]),
            fail_instruments: Mutex::new(false),
            balance: Mutex::new(Decimal::ONE),
            orders: Mutex::new(Vec::new()),
            positions: Mutex::new(Vec::new()),
            calls: Mutex::new(Vec::new()),
            pushes: broadcast::channel(16).0,
        })
    }

    fn record(&self, call: &'static str) {
        self.calls.lock().unwrap().push((call, Instant::now()));
    }

    /// Start times of the `state` calls: one per snapshot.
    pub(super) fn refreshes(&self) -> Vec<Instant> {
        let calls = self.calls.lock().unwrap();
        calls
            .iter()
            .filter(|(c, _)| *c == "state")
            .map(|(_, t)| *t)
            .collect()
    }

    fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.calls.lock().unwrap().iter().map(|(c, _)| *c).collect();
        names.sort();
        names
    }
}

#[async_trait]
impl Broker for Scripted {
    async fn login(&self, _: &str, _: &Login) -> BrokerResult<LoginOutcome> {
        unreachable!("not used by the hub")
    }
    async fn accounts(&self, _: &SessionCtx) -> BrokerResult<Vec<BrokerAccount>> {
        unreachable!("not used by the hub")
    }
    fn durations(&self) -> Vec<tv::DurationConfig> {
        Vec::new()
    }
    async fn symbol_mapping(&self) -> BrokerResult<Vec<tv::SymbolMapping>> {
        Ok(Vec::new())
    }
    async fn instruments(&self, _: &SessionCtx, _: &str) -> BrokerResult<Vec<tv::Instrument>> {
        self.record("instruments");
        tokio::time::sleep(Duration::from_millis(50)).await;
        if *self.fail_instruments.lock().unwrap() {
            return Err(crate::broker::BrokerError::Unavailable("down".into()));
        }
        let symbols = self.symbols.lock().unwrap().clone();
        Ok(symbols.into_iter().map(instrument).collect())
    }
    async fn state(&self, _: &SessionCtx, _: &str) -> BrokerResult<tv::AccountState> {
        self.record("state");
        // A backend call takes a while: callers arriving meanwhile must queue, not call again.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let balance = *self.balance.lock().unwrap();
        Ok(tv::AccountState {
            balance,
            unrealized_pl: Decimal::ZERO,
            equity: balance,
            margin_available: None,
            am_data: Vec::new(),
        })
    }
    async fn orders(&self, _: &SessionCtx, _: &str) -> BrokerResult<Vec<tv::Order>> {
        self.record("orders");
        Ok(self.orders.lock().unwrap().clone())
    }
    async fn positions(&self, _: &SessionCtx, _: &str) -> BrokerResult<Vec<tv::Position>> {
        self.record("positions");
        Ok(self.positions.lock().unwrap().clone())
    }
    async fn net_positions(&self, _: &SessionCtx, _: &str) -> BrokerResult<Vec<tv::NetPosition>> {
        self.record("net_positions");
        Ok(Vec::new())
    }
    async fn individual_positions(
        &self,
        _: &SessionCtx,
        _: &str,
    ) -> BrokerResult<Vec<tv::IndividualPosition>> {
        self.record("individual_positions");
        Ok(Vec::new())
    }
    async fn place_order(
        &self,
        _: &SessionCtx,
        _: &str,
        _: tv::PlaceOrder,
        _: Option<&str>,
    ) -> BrokerResult<String> {
        unreachable!("not used by the hub")
    }
    async fn modify_order(&self, _: &SessionCtx, _: &str, _: &str, _: tv::ModifyOrder) -> BrokerResult<()> {
        unreachable!("not used by the hub")
    }
    async fn cancel_order(&self, _: &SessionCtx, _: &str, _: &str) -> BrokerResult<()> {
        unreachable!("not used by the hub")
    }
    async fn quotes(&self, _: &SessionCtx, _: &str, _: &[String]) -> BrokerResult<Vec<tv::QuoteEntry>> {
        Ok(Vec::new())
    }
    fn account_changes(&self) -> Option<broadcast::Receiver<String>> {
        Some(self.pushes.subscribe())
    }
    fn refresh_policy(&self, _: &BrokerAccount) -> RefreshPolicy {
        self.policy
    }
}

fn instrument(name: String) -> tv::Instrument {
    tv::Instrument {
        description: name.clone(),
        name,
        min_qty: Decimal::ONE,
        max_qty: Decimal::ONE_HUNDRED,
        qty_step: Decimal::ONE,
        pip_size: Decimal::ONE,
        pip_value: Decimal::ONE,
        min_tick: Decimal::ONE,
        lot_size: None,
        base_currency: None,
        quote_currency: None,
        margin_rate: None,
        units: None,
        kind: tv::SymbolType::Forex,
        typespecs: None,
    }
}

/// How many calls named `name` the backend got.
pub(super) fn count(broker: &Scripted, name: &str) -> usize {
    broker
        .calls
        .lock()
        .unwrap()
        .iter()
        .filter(|(c, _)| *c == name)
        .count()
}

pub(super) fn ctx() -> SessionCtx {
    SessionCtx {
        session_id: "s".into(),
        user: "u".into(),
    }
}

pub(super) fn account(id: &str, hedging: bool) -> BrokerAccount {
    BrokerAccount {
        id: id.into(),
        name: id.into(),
        kind: tv::AccountType::Demo,
        currency: "USD".into(),
        capabilities: Capabilities {
            hedging,
            ..Default::default()
        },
        durations: Vec::new(),
    }
}

fn hubs(broker: Arc<Scripted>, config: HubConfig) -> AccountHubs {
    let broker: Arc<dyn Broker> = broker;
    AccountHubs::new(broker, config)
}

/// Fifty tabs polling every 100 ms, a stream listening and a write every 700 ms for 30 s: the backend is
/// never asked sooner than its declared 5 s, and writes still get their refreshes as soon as it allows.
#[tokio::test(start_paused = true)]
async fn the_minimum_interval_holds_under_many_concurrent_polls_and_writes() {
    let min = Duration::from_secs(5);
    let broker = Scripted::new(RefreshPolicy {
        mode: RefreshMode::Poll(Some(Duration::from_millis(200))),
        min_interval: min,
    });
    let config = HubConfig {
        freshness_ms: 0,
        ..Default::default()
    };
    let hubs = hubs(broker.clone(), config);
    let hub = hubs.get(&ctx(), &account("A", false));
    let (_, _stream) = hub.subscribe().await.unwrap();
    let end = Instant::now() + Duration::from_secs(30);
    let mut tasks = Vec::new();
    for _ in 0..50 {
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
        while Instant::now() < end {
            writer.after_write().await;
            tokio::time::sleep(Duration::from_millis(700)).await;
        }
    }));
    for t in tasks {
        t.await.unwrap();
    }
    assert_spaced(&broker.refreshes(), 6, min);
}

/// At least `count` refreshes started, no two less than `min` apart.
pub(super) fn assert_spaced(starts: &[Instant], count: usize, min: Duration) {
    assert!(
        starts.len() >= count,
        "writes keep refreshing: {} refreshes",
        starts.len()
    );
    for pair in starts.windows(2) {
        assert!(
            pair[1] - pair[0] >= min,
            "refreshes {:?} apart",
            pair[1] - pair[0]
        );
    }
}

/// Under a minimum interval a write's answer does not wait for the refresh: it runs in the background once
/// the interval allows, and several writes meanwhile share it.
#[tokio::test(start_paused = true)]
async fn a_write_under_a_minimum_interval_answers_at_once_and_refreshes_when_allowed() {
    let min = Duration::from_secs(5);
    let broker = Scripted::new(RefreshPolicy {
        mode: RefreshMode::Poll(None),
        min_interval: min,
    });
    let hubs = hubs(broker.clone(), HubConfig::default());
    let hub = hubs.get(&ctx(), &account("A", false));
    hub.snapshot().await.unwrap();
    let first = broker.refreshes()[0];
    let before = Instant::now();
    hub.after_write().await;
    hub.after_write().await;
    assert_eq!(Instant::now(), before, "the writes' answers did not wait");
    assert_eq!(broker.refreshes().len(), 1);
    tokio::time::sleep(min + Duration::from_millis(10)).await;
    let starts = broker.refreshes();
    assert_eq!(starts.len(), 2, "one refresh for both writes: {starts:?}");
    assert!(starts[1] - first >= min);
}

/// Without a minimum, a write refreshes at once, and concurrent polls share one fetch.
#[tokio::test(start_paused = true)]
async fn without_a_minimum_writes_refresh_at_once_and_polls_share_a_fetch() {
    let broker = Scripted::new(RefreshPolicy::POLL);
    let hubs = hubs(broker.clone(), HubConfig::default());
    let hub = hubs.get(&ctx(), &account("A", false));
    let polls: Vec<_> = (0..20).map(|_| hub.snapshot()).collect();
    futures_util::future::join_all(polls).await;
    assert_eq!(broker.refreshes().len(), 1, "single flight");
    hub.after_write().await;
    hub.after_write().await;
    assert_eq!(broker.refreshes().len(), 3, "each write refreshes");
}

/// A Push account refreshes on the announced change long before its next poll; an announcement for
/// another account does not refresh it.
#[tokio::test(start_paused = true)]
async fn push_accounts_refresh_on_the_pushed_change() {
    let broker = Scripted::new(RefreshPolicy::PUSH);
    let config = HubConfig {
        freshness_ms: 60_000,
        poll_interval_ms: 60_000,
        ..Default::default()
    };
    let hubs = hubs(broker.clone(), config);
    let hub = hubs.get(&ctx(), &account("A", false));
    let (_, mut rx) = hub.subscribe().await.unwrap();
    // Let the hub's loop take its first (immediate) tick.
    tokio::time::sleep(Duration::from_millis(10)).await;
    let before = broker.refreshes().len();

    broker.pushes.send("B".into()).unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(broker.refreshes().len(), before, "another account's change");

    *broker.balance.lock().unwrap() = Decimal::TWO;
    broker.pushes.send("A".into()).unwrap();
    let update = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("the push refreshes within seconds, not at the next poll a minute away")
        .unwrap();
    let line = update.line(StreamKind::State).expect("the state changed");
    assert!(std::str::from_utf8(line).unwrap().contains("\"balance\":2"));
    assert_eq!(broker.refreshes().len(), before + 1);
}

/// A Poll backend's announcements are not listened to: only its polls refresh.
#[tokio::test(start_paused = true)]
async fn poll_accounts_ignore_announcements() {
    let broker = Scripted::new(RefreshPolicy {
        mode: RefreshMode::Poll(Some(Duration::from_secs(30))),
        min_interval: Duration::ZERO,
    });
    let config = HubConfig {
        freshness_ms: 0,
        ..Default::default()
    };
    let hubs = hubs(broker.clone(), config);
    let hub = hubs.get(&ctx(), &account("A", false));
    let (_, _rx) = hub.subscribe().await.unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    let before = broker.refreshes().len();
    assert_eq!(broker.pushes.receiver_count(), 0, "the hub does not subscribe");
    let _ = broker.pushes.send("A".into());
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(broker.refreshes().len(), before);
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert!(broker.refreshes().len() > before, "its own 30 s poll");
}

/// The default snapshot makes the calls the account's hedging mode needs, each once.
#[tokio::test]
async fn the_default_snapshot_joins_the_calls_of_the_hedging_mode() {
    let broker = Scripted::new(RefreshPolicy::POLL);
    hubs(broker.clone(), HubConfig::default())
        .get(&ctx(), &account("N", false))
        .snapshot()
        .await
        .unwrap();
    assert_eq!(broker.names(), ["orders", "positions", "state"]);
    broker.calls.lock().unwrap().clear();
    hubs(broker.clone(), HubConfig::default())
        .get(&ctx(), &account("H", true))
        .snapshot()
        .await
        .unwrap();
    assert_eq!(
        broker.names(),
        ["individual_positions", "net_positions", "orders", "state"]
    );
}
