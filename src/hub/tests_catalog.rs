//! The catalog cache against the scripted backend: single flight, TTL, refresh for a missing symbol, the
//! size bound and logout.

use super::catalog::Catalogs;
use super::tests::{count, ctx, Scripted};
use crate::broker::{Broker, RefreshPolicy, SessionCtx};
use std::sync::Arc;
use std::time::Duration;

fn catalogs(broker: &Arc<Scripted>, ttl_secs: u64, capacity: usize) -> Catalogs {
    let broker: Arc<dyn Broker> = broker.clone();
    Catalogs::new(broker, Duration::from_secs(ttl_secs), capacity)
}

fn session(id: &str) -> SessionCtx {
    SessionCtx {
        session_id: id.into(),
        user: "u".into(),
    }
}

#[tokio::test(start_paused = true)]
async fn concurrent_first_callers_share_one_backend_call() {
    let broker = Scripted::new(RefreshPolicy::POLL);
    let cache = catalogs(&broker, 60, 16);
    let ctx = ctx();
    let calls: Vec<_> = (0..30).map(|_| cache.rows(&ctx, "A")).collect();
    for rows in futures_util::future::join_all(calls).await {
        assert_eq!(rows.unwrap()[0].name, "EURUSD");
    }
    assert_eq!(count(&broker, "instruments"), 1);
}

#[tokio::test(start_paused = true)]
async fn rows_serve_until_the_ttl_then_are_fetched_again() {
    let broker = Scripted::new(RefreshPolicy::POLL);
    let cache = catalogs(&broker, 60, 16);
    cache.rows(&ctx(), "A").await.unwrap();
    tokio::time::sleep(Duration::from_secs(59)).await;
    cache.rows(&ctx(), "A").await.unwrap();
    assert_eq!(count(&broker, "instruments"), 1);
    tokio::time::sleep(Duration::from_secs(2)).await;
    cache.rows(&ctx(), "A").await.unwrap();
    assert_eq!(count(&broker, "instruments"), 2);
}

#[tokio::test(start_paused = true)]
async fn a_missing_symbol_refreshes_once_before_it_is_refused() {
    let broker = Scripted::new(RefreshPolicy::POLL);
    let cache = catalogs(&broker, 60, 16);
    cache.rows(&ctx(), "A").await.unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    // The upstream lists a new instrument: an order for it refreshes the rows and finds it.
    broker.symbols.lock().unwrap().push("GBPUSD".into());
    let rows = cache.rows_with(&ctx(), "A", "GBPUSD").await.unwrap();
    assert!(rows.iter().any(|i| i.name == "GBPUSD"));
    assert_eq!(count(&broker, "instruments"), 2);
    // A known symbol costs nothing; unknown ones right after a refresh cost nothing either.
    cache.rows_with(&ctx(), "A", "EURUSD").await.unwrap();
    for _ in 0..10 {
        let rows = cache.rows_with(&ctx(), "A", "NOPE").await.unwrap();
        assert!(!rows.iter().any(|i| i.name == "NOPE"));
    }
    assert_eq!(count(&broker, "instruments"), 2);
    tokio::time::sleep(Duration::from_secs(3)).await;
    cache.rows_with(&ctx(), "A", "NOPE").await.unwrap();
    assert_eq!(
        count(&broker, "instruments"),
        3,
        "one refresh per two seconds at most"
    );
}

#[tokio::test(start_paused = true)]
async fn the_cache_is_bounded_and_forgets_a_session_at_logout() {
    let broker = Scripted::new(RefreshPolicy::POLL);
    let cache = catalogs(&broker, 60, 3);
    for account in ["A", "B", "C", "D"] {
        cache.rows(&session("s1"), account).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(cache.len(), 3, "bounded");
    cache.rows(&session("s1"), "A").await.unwrap();
    assert_eq!(
        count(&broker, "instruments"),
        5,
        "the oldest (A) was evicted and is fetched again"
    );
    cache.rows(&session("s2"), "A").await.unwrap();
    cache.remove_session("s1");
    assert_eq!(cache.len(), 1);
    cache.rows(&session("s1"), "D").await.unwrap();
    assert_eq!(
        count(&broker, "instruments"),
        7,
        "a logged-out session's rows are gone"
    );
}

#[tokio::test(start_paused = true)]
async fn forgotten_rows_are_fetched_again_at_once() {
    let broker = Scripted::new(RefreshPolicy::POLL);
    let cache = catalogs(&broker, 60, 16);
    cache.rows(&ctx(), "A").await.unwrap();
    cache.rows(&ctx(), "B").await.unwrap();
    cache.forget(&ctx(), "A");
    cache.rows(&ctx(), "A").await.unwrap();
    cache.rows(&ctx(), "B").await.unwrap();
    assert_eq!(count(&broker, "instruments"), 3, "only A is read again");
}

/// Thirty callers queued behind a failing fetch share its failure: a failing backend is asked once, not
/// thirty times in turn.
#[tokio::test(start_paused = true)]
async fn callers_queued_behind_a_failed_fetch_share_its_failure() {
    let broker = Scripted::new(RefreshPolicy::POLL);
    let cache = catalogs(&broker, 60, 16);
    *broker.fail_instruments.lock().unwrap() = true;
    let ctx = ctx();
    let calls: Vec<_> = (0..30).map(|_| cache.rows(&ctx, "A")).collect();
    for rows in futures_util::future::join_all(calls).await {
        assert!(rows.is_err());
    }
    assert_eq!(count(&broker, "instruments"), 1);
}

#[tokio::test(start_paused = true)]
async fn failures_are_not_kept() {
    let broker = Scripted::new(RefreshPolicy::POLL);
    let cache = catalogs(&broker, 60, 16);
    *broker.fail_instruments.lock().unwrap() = true;
    assert!(cache.rows(&ctx(), "A").await.is_err());
    *broker.fail_instruments.lock().unwrap() = false;
    assert!(cache.rows(&ctx(), "A").await.is_ok());
    assert_eq!(count(&broker, "instruments"), 2);
}
