//! The registry on a fake upstream session that counts its pings and closes.

use super::*;
use crate::upstream::data_session::{DataSession, DataSources};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

#[derive(Default)]
struct Fake {
    user: String,
    key: String,
    /// What the next keep-alive answers.
    idle: AtomicBool,
    pings: AtomicUsize,
    closes: AtomicUsize,
}

#[async_trait]
impl UpstreamSession for Fake {
    type Lend = String;
    type Data = Fake;

    fn lend(&self) -> String {
        self.key.clone()
    }

    async fn keep_alive(&self) -> bool {
        self.pings.fetch_add(1, Ordering::SeqCst);
        !self.idle.load(Ordering::SeqCst)
    }

    async fn close(&self) {
        self.closes.fetch_add(1, Ordering::SeqCst);
    }

    async fn keep_data_alive(data: &Fake) -> bool {
        data.keep_alive().await
    }

    async fn close_data(data: &Fake) {
        data.close().await
    }
}

fn fake(user: &str) -> Arc<Fake> {
    Arc::new(Fake {
        user: user.into(),
        key: format!("{user}-key"),
        ..Fake::default()
    })
}

fn registry() -> SessionRegistry<Fake> {
    let sources = DataSources {
        mapped: Vec::new(),
        configured: None,
        first_mapped_serves: false,
    };
    let missing = BrokerError::Rejected("log in first".into());
    SessionRegistry::new("Test", DataSession::FirstLogin, sources, missing)
}

async fn open_data(registry: &SessionRegistry<Fake>) -> BrokerResult<Arc<Fake>> {
    registry
        .data_session(|key| async move {
            Ok(Fake {
                user: "data".into(),
                key,
                ..Fake::default()
            })
        })
        .await
}

#[tokio::test]
async fn sessions_are_found_by_bridge_session_and_a_missing_one_asks_for_a_login() {
    let registry = registry();
    registry.insert("s1", "alice", fake("alice"));
    registry.insert("s2", "bob", fake("bob"));
    assert_eq!(registry.get("s1").unwrap().user, "alice");
    assert_eq!(registry.get("s2").unwrap().user, "bob");
    assert_eq!(registry.len(), 2);
    match registry.get("nope") {
        Err(BrokerError::Unauthorized(m)) => assert_eq!(m, "no Test session for this bridge session"),
        other => panic!("{:?}", other.map(|s| s.user.clone())),
    }
}

#[tokio::test]
async fn logout_closes_the_session_once_and_forgets_it() {
    let registry = registry();
    let alice = fake("alice");
    registry.insert("s1", "alice", alice.clone());
    let ended = registry.logout("s1").await.unwrap();
    assert!(Arc::ptr_eq(&ended, &alice));
    assert_eq!(alice.closes.load(Ordering::SeqCst), 1);
    assert!(registry.get("s1").is_err());
    assert!(
        registry.logout("s1").await.is_none(),
        "a second logout finds nothing"
    );
    assert_eq!(alice.closes.load(Ordering::SeqCst), 1);
    assert!(registry.is_empty());
}

#[tokio::test]
async fn the_lenders_logout_closes_the_data_session_and_another_login_serves() {
    let registry = registry();
    registry.insert("s1", "alice", fake("alice"));
    registry.insert("s2", "bob", fake("bob"));
    let first = open_data(&registry).await.unwrap();
    assert_eq!(first.key, "alice-key");
    registry.logout("s2").await;
    assert_eq!(first.closes.load(Ordering::SeqCst), 0, "bob lent nothing");
    registry.logout("s1").await;
    assert_eq!(first.closes.load(Ordering::SeqCst), 1);
    let second = open_data(&registry).await;
    assert!(second.is_err(), "nobody is logged in");
    registry.insert("s3", "carol", fake("carol"));
    assert_eq!(open_data(&registry).await.unwrap().key, "carol-key");
}

#[tokio::test]
async fn the_keep_alive_drops_idle_sessions_and_keeps_the_others() {
    let registry = registry();
    let (alice, bob) = (fake("alice"), fake("bob"));
    registry.insert("s1", "alice", alice.clone());
    registry.insert("s2", "bob", bob.clone());
    let data = open_data(&registry).await.unwrap();
    registry.keep_alive_round().await;
    for s in [&alice, &bob, &data] {
        assert_eq!(s.pings.load(Ordering::SeqCst), 1, "{}", s.user);
    }
    bob.idle.store(true, Ordering::SeqCst);
    data.idle.store(true, Ordering::SeqCst);
    registry.keep_alive_round().await;
    assert!(registry.get("s1").is_ok());
    assert!(registry.get("s2").is_err(), "bob's session is dropped");
    assert_eq!(bob.closes.load(Ordering::SeqCst), 1);
    assert_eq!(data.closes.load(Ordering::SeqCst), 1);
    assert!(registry.data().open_session().is_none());
    let reopened = open_data(&registry).await.unwrap();
    assert!(
        !Arc::ptr_eq(&reopened, &data),
        "the next data call opens a new session"
    );
}

#[tokio::test(start_paused = true)]
async fn the_keep_alive_loop_runs_every_tick_and_ends_with_the_registry() {
    let registry = Arc::new(registry());
    let alice = fake("alice");
    registry.insert("s1", "alice", alice.clone());
    registry.spawn_keepalive(Duration::from_secs(10));
    tokio::time::sleep(Duration::from_secs(25)).await;
    // Ticks at 0 s, 10 s and 20 s.
    assert_eq!(alice.pings.load(Ordering::SeqCst), 3);
    drop(registry);
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(alice.pings.load(Ordering::SeqCst), 3, "the loop ended");
}
