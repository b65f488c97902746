//! The `requestId` records in the state store: restarts, replicas, interrupted attempts, store outages.

use super::*;
use crate::broker::{BrokerError, BrokerResult};
use crate::store::{Expect, MemoryStore, Store};
use std::sync::atomic::AtomicUsize;

fn replica(store: &Arc<dyn Store>, name: &str) -> IdempotencyCache {
    IdempotencyCache::with_store(IdempotencyConfig::default(), store.clone(), name.into())
}

fn shared() -> Arc<dyn Store> {
    Arc::new(MemoryStore::new_shared())
}

/// A placement that counts its runs and answers `id`.
fn counted(
    runs: &Arc<AtomicUsize>,
    id: &'static str,
) -> impl FnOnce() -> std::future::Ready<ApiResult<PlacedOrder>> {
    let runs = runs.clone();
    move || {
        runs.fetch_add(1, Ordering::SeqCst);
        std::future::ready(placed(id))
    }
}

fn lookup_answers(
    answer: BrokerResult<Option<String>>,
    asked: &Arc<AtomicUsize>,
) -> impl FnOnce() -> std::future::Ready<BrokerResult<Option<String>>> {
    let asked = asked.clone();
    move || {
        asked.fetch_add(1, Ordering::SeqCst);
        std::future::ready(answer)
    }
}

fn never_asked() -> impl FnOnce() -> std::future::Ready<BrokerResult<Option<String>>> {
    || panic!("no attempt was interrupted")
}

/// What a replica that crashed in the middle of placing leaves behind: a claim whose lease ran out.
async fn interrupted_claim(store: &Arc<dyn Store>, key: &IdempotencyKey) {
    let record = serde_json::json!({
        "state": "pending", "fingerprint": fp().as_str(), "owner": "crashed", "lease_until_ms": 1
    });
    let rkey = format!(
        "idem:{}",
        crate::store::digest(&[&key.user, &key.account, &key.request_id])
    );
    store
        .swap(
            &rkey,
            Expect::Any,
            Some(record.to_string().as_bytes()),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn after_a_restart_a_resend_answers_the_first_order_and_places_nothing() {
    let store = shared();
    let runs = Arc::new(AtomicUsize::new(0));
    let (first, replayed) = replica(&store, "before")
        .place(key("r1"), fp(), counted(&runs, "o1"), never_asked())
        .await
        .unwrap();
    assert_eq!((first.order_id.as_str(), replayed), ("o1", false));
    // A new process: nothing in its memory, the record in the store.
    let (again, replayed) = replica(&store, "after")
        .place(key("r1"), fp(), counted(&runs, "o2"), never_asked())
        .await
        .unwrap();
    assert_eq!((again.order_id.as_str(), replayed), ("o1", true));
    assert_eq!(runs.load(Ordering::SeqCst), 1, "placed once");
}

#[tokio::test]
async fn another_order_under_a_used_request_id_is_refused_on_every_replica() {
    let store = shared();
    let runs = Arc::new(AtomicUsize::new(0));
    replica(&store, "a")
        .place(key("r1"), fp(), counted(&runs, "o1"), never_asked())
        .await
        .unwrap();
    let mut other = order();
    other.qty = d("2000");
    let err = replica(&store, "b")
        .place(
            key("r1"),
            Fingerprint::of(&other),
            counted(&runs, "o2"),
            never_asked(),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("already used for a different order"),
        "{err}"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_resend_to_another_replica_waits_for_the_placement_in_flight_and_gets_its_answer() {
    let store = shared();
    let (a, b) = (replica(&store, "a"), replica(&store, "b"));
    let runs = Arc::new(AtomicUsize::new(0));
    let (release, wait) = tokio::sync::oneshot::channel::<()>();
    let slow = {
        let runs = runs.clone();
        move || async move {
            runs.fetch_add(1, Ordering::SeqCst);
            let _ = wait.await;
            placed("o1")
        }
    };
    let first = tokio::spawn(async move { a.place(key("r1"), fp(), slow, never_asked()).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let resend = tokio::spawn(async move {
        b.place(
            key("r1"),
            fp(),
            counted(&Arc::new(AtomicUsize::new(0)), "o2"),
            never_asked(),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !resend.is_finished(),
        "the resend waits while the first attempt runs"
    );
    release.send(()).unwrap();
    let (placed_first, _) = first.await.unwrap().unwrap();
    let (placed_again, replayed) = resend.await.unwrap().unwrap();
    assert_eq!(placed_first.order_id, "o1");
    assert_eq!((placed_again.order_id.as_str(), replayed), ("o1", true));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_interrupted_attempt_is_looked_up_before_anything_is_sent() {
    let store = shared();
    let (runs, asked) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    // Found upstream: that is the answer.
    interrupted_claim(&store, &key("found")).await;
    let (found, replayed) = replica(&store, "b")
        .place(
            key("found"),
            fp(),
            counted(&runs, "o2"),
            lookup_answers(Ok(Some("o1".into())), &asked),
        )
        .await
        .unwrap();
    assert_eq!((found.order_id.as_str(), replayed), ("o1", true));
    assert_eq!(runs.load(Ordering::SeqCst), 0, "nothing sent");
    // And it is recorded: the next resend needs no lookup.
    let (again, _) = replica(&store, "c")
        .place(key("found"), fp(), counted(&runs, "o3"), never_asked())
        .await
        .unwrap();
    assert_eq!(again.order_id, "o1");

    // Not found (a complete answer): the first attempt never reached the upstream, so it is placed now.
    interrupted_claim(&store, &key("lost")).await;
    let (fresh, replayed) = replica(&store, "b")
        .place(
            key("lost"),
            fp(),
            counted(&runs, "o4"),
            lookup_answers(Ok(None), &asked),
        )
        .await
        .unwrap();
    assert_eq!((fresh.order_id.as_str(), replayed), ("o4", false));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(asked.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_interrupted_attempt_the_backend_cannot_look_up_is_refused_not_placed_again() {
    let store = shared();
    let (runs, asked) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    interrupted_claim(&store, &key("r1")).await;
    let unsupported = || Err(BrokerError::Unsupported("looking orders up by requestId"));
    for _ in 0..2 {
        let err = replica(&store, "b")
            .place(
                key("r1"),
                fp(),
                counted(&runs, "o2"),
                lookup_answers(unsupported(), &asked),
            )
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("was interrupted and its outcome is unknown"),
            "{err}"
        );
    }
    assert_eq!(runs.load(Ordering::SeqCst), 0, "never placed twice");
    assert_eq!(
        asked.load(Ordering::SeqCst),
        1,
        "the second resend is refused from the record"
    );
}

#[tokio::test]
async fn a_failed_lookup_sends_nothing_and_the_next_resend_looks_again() {
    let store = shared();
    let (runs, asked) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    interrupted_claim(&store, &key("r1")).await;
    let err = replica(&store, "b")
        .place(
            key("r1"),
            fp(),
            counted(&runs, "o2"),
            lookup_answers(Err(BrokerError::Unavailable("down".into())), &asked),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("could not be asked"), "{err}");
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    // The record is still there: the next resend looks again before anything is sent (it is not
    // taken for a new requestId and placed blind).
    let (placed, _) = replica(&store, "c")
        .place(
            key("r1"),
            fp(),
            counted(&runs, "o3"),
            lookup_answers(Ok(None), &asked),
        )
        .await
        .unwrap();
    assert_eq!(placed.order_id, "o3");
    assert_eq!(asked.load(Ordering::SeqCst), 2, "looked up again first");
}

#[tokio::test]
async fn a_failed_placement_frees_the_request_id_for_a_resend() {
    let store = shared();
    let runs = Arc::new(AtomicUsize::new(0));
    let err = replica(&store, "a")
        .place(
            key("r1"),
            fp(),
            || async { Err(ApiError::bad("margin")) },
            never_asked(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("margin"));
    let (placed, replayed) = replica(&store, "b")
        .place(key("r1"), fp(), counted(&runs, "o1"), never_asked())
        .await
        .unwrap();
    assert_eq!((placed.order_id.as_str(), replayed), ("o1", false));
}

#[tokio::test]
async fn a_placement_whose_outcome_is_unknown_keeps_the_request_id_and_its_resend_looks_first() {
    // The upstream may have taken the order (its answer was lost and the check failed): a resend, in this
    // process or another, must look the order up, never place a second one.
    let store = shared();
    let unknown = || async {
        Err(ApiError::Broker(BrokerError::OutcomeUnknown(
            "did not confirm; check before placing again".into(),
        )))
    };
    let a = replica(&store, "a");
    let err = a
        .place(key("r1"), fp(), unknown, never_asked())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("check before placing again"), "{err}");
    // It was placed after all: the resend answers that order and places nothing.
    let (runs, asked) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (placed, replayed) = a
        .place(
            key("r1"),
            fp(),
            counted(&runs, "o2"),
            lookup_answers(Ok(Some("o1".into())), &asked),
        )
        .await
        .unwrap();
    assert_eq!((placed.order_id.as_str(), replayed), ("o1", true));
    assert_eq!(
        (runs.load(Ordering::SeqCst), asked.load(Ordering::SeqCst)),
        (0, 1)
    );

    // Another id whose order the upstream settles as absent: the resend (on another replica) places it.
    let err = a
        .place(key("r2"), fp(), unknown, never_asked())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("check before placing again"), "{err}");
    let (runs, asked) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (placed, replayed) = replica(&store, "b")
        .place(
            key("r2"),
            fp(),
            counted(&runs, "o3"),
            lookup_answers(Ok(None), &asked),
        )
        .await
        .unwrap();
    assert_eq!((placed.order_id.as_str(), replayed), ("o3", false));
    assert_eq!(
        (runs.load(Ordering::SeqCst), asked.load(Ordering::SeqCst)),
        (1, 1)
    );
}

#[tokio::test]
async fn without_the_store_an_order_with_a_request_id_is_refused_and_nothing_is_sent() {
    let store: Arc<dyn Store> = Arc::new(crate::store::unreachable::Unreachable);
    let runs = Arc::new(AtomicUsize::new(0));
    let err = replica(&store, "a")
        .place(key("r1"), fp(), counted(&runs, "o1"), never_asked())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot reach its state store"), "{err}");
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}
