//! Shared turns: replicas on one store take turns a window apart between them, a turn too far away is
//! refused at once, a turn nobody used is given back, and without a shared store (or when it fails) each
//! process paces on its own.

use super::*;
use crate::store::MemoryStore;
use tokio::time::Instant;

/// A wall clock that follows tokio's (paused) clock.
fn wall() -> Wall {
    // A fixed base, not the system clock: replicas made at one (paused) instant must read the same time;
    // reading the system clock for each let a loaded machine skew them apart.
    let (t0, ms0) = (Instant::now(), 1_767_225_600_000u64);
    Arc::new(move || ms0 + t0.elapsed().as_millis() as u64)
}

const WINDOW: Duration = Duration::from_secs(1);

fn turns(store: Arc<dyn Store>) -> Arc<SharedTurns> {
    Arc::new(SharedTurns::with_clock(
        1,
        WINDOW,
        Some(store),
        "test-session",
        &["key"],
        wall(),
    ))
}

/// When each caller got its turn (since the start), `callers` of them spread over `replicas` in turn.
async fn run(replicas: &[Arc<SharedTurns>], callers: usize) -> Vec<Duration> {
    let start = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|i| {
            let t = replicas[i % replicas.len()].clone();
            tokio::spawn(async move {
                t.acquire(None).await.expect("no bound, no refusal");
                Instant::now() - start
            })
        })
        .collect();
    let mut at = Vec::new();
    for t in tasks {
        at.push(t.await.unwrap());
    }
    at.sort();
    at
}

fn assert_spaced(at: &[Duration]) {
    for pair in at.windows(2) {
        assert!(
            pair[1] - pair[0] >= WINDOW,
            "two turns closer than {WINDOW:?}: {at:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn two_replicas_on_one_store_take_turns_a_window_apart_between_them() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new_shared());
    let replicas = [turns(store.clone()), turns(store)];
    assert!(replicas[0].is_shared());
    let at = run(&replicas, 4).await;
    assert_spaced(&at);
    assert_eq!(at[0], Duration::ZERO, "the first turn is at once");
    assert!(at[3] < WINDOW * 3 + Duration::from_millis(50), "{at:?}");
}

/// The same four callers with one pacer each on stores that are not shared: what each replica did before
/// (two turns at once), which the shared record prevents.
#[tokio::test(start_paused = true)]
async fn pacers_that_share_nothing_let_a_turn_each_through_at_once() {
    let memory = Arc::new(MemoryStore::new());
    let replicas = [turns(memory.clone()), turns(Arc::new(MemoryStore::new()))];
    assert!(!replicas[0].is_shared());
    let at = run(&replicas, 4).await;
    assert_eq!(at[0], at[1], "each replica's first turn is at once: {at:?}");
    assert!(memory.is_empty(), "a store that is not shared is not written");
}

#[tokio::test(start_paused = true)]
async fn a_turn_further_away_than_the_caller_may_wait_is_refused_at_once_on_any_replica() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new_shared());
    let (a, b) = (turns(store.clone()), turns(store));
    a.acquire(None).await.unwrap();
    let started = Instant::now();
    let wait = b
        .acquire(Some(Duration::from_millis(500)))
        .await
        .expect_err("the next turn is a window away");
    assert_eq!(started.elapsed(), Duration::ZERO, "refused without waiting");
    assert!(wait > Duration::from_millis(900) && wait <= WINDOW, "{wait:?}");
    // The refused caller took no turn: the next one is still a window after the first.
    b.acquire(Some(WINDOW)).await.unwrap();
    assert!(started.elapsed() <= WINDOW, "{:?}", started.elapsed());
}

#[tokio::test(start_paused = true)]
async fn a_caller_that_goes_away_gives_its_turn_back() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new_shared());
    let (a, b) = (turns(store.clone()), turns(store));
    let start = Instant::now();
    a.acquire(None).await.unwrap();
    // B's turn is a window away; its caller leaves after 100 ms.
    let left = tokio::time::timeout(Duration::from_millis(100), b.acquire(None)).await;
    assert!(left.is_err());
    tokio::time::sleep(Duration::from_millis(10)).await;
    // The next caller gets the turn B left (one window after A's), not the one after it.
    a.acquire(None).await.unwrap();
    assert_eq!(start.elapsed(), WINDOW);
}

#[tokio::test(start_paused = true)]
async fn a_failed_store_falls_back_to_this_process_pace() {
    let t = turns(Arc::new(crate::store::unreachable::Unreachable));
    let at = run(std::slice::from_ref(&t), 3).await;
    assert_spaced(&at);
    assert_eq!(at[2], WINDOW * 2);
    // The bound still holds on the local pace.
    let wait = t.acquire(Some(Duration::from_millis(100))).await.unwrap_err();
    assert!(wait > Duration::from_millis(100), "{wait:?}");
}
