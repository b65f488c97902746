//! Tests of the idempotency cache (single flight, fingerprints, refusals) and of its bounded table.

mod durable;

use super::table::{Limits, Outcome, Refusal, Table};
use super::*;
use crate::error::ApiError;
use crate::tv::{Brackets, OrderDuration, OrderType, Side};
use rust_decimal::Decimal;
use std::str::FromStr;
use std::sync::atomic::AtomicUsize;

fn key(id: &str) -> IdempotencyKey {
    user_key("u", id)
}

fn user_key(user: &str, id: &str) -> IdempotencyKey {
    IdempotencyKey {
        user: user.into(),
        account: "a".into(),
        request_id: id.into(),
    }
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn order() -> PlaceOrder {
    PlaceOrder {
        instrument: "EURUSD".into(),
        qty: d("1000"),
        side: Side::Buy,
        kind: OrderType::Limit,
        limit_price: Some(d("1.05")),
        stop_price: None,
        duration: Some(OrderDuration {
            kind: "gtc".into(),
            datetime: None,
        }),
        brackets: Brackets {
            stop_loss: Some(d("1.0")),
            ..Brackets::default()
        },
        current_ask: Some(d("1.1")),
        current_bid: Some(d("1.09")),
    }
}

fn fp() -> Fingerprint {
    Fingerprint::of(&order())
}

fn placed(id: &str) -> ApiResult<PlacedOrder> {
    Ok(PlacedOrder {
        order_id: id.into(),
        transaction_id: None,
    })
}

fn cache() -> IdempotencyCache {
    IdempotencyCache::new(IdempotencyConfig::default())
}

impl IdempotencyCache {
    /// A placement whose earlier attempts never died mid-flight (the lookup is never needed).
    async fn place_here<F, Fut>(
        &self,
        key: IdempotencyKey,
        fingerprint: Fingerprint,
        place: F,
    ) -> ApiResult<(PlacedOrder, bool)>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ApiResult<PlacedOrder>> + Send + 'static,
    {
        self.place(key, fingerprint, place, || async {
            panic!("no lookup: no attempt was interrupted")
        })
        .await
    }
}

#[tokio::test]
async fn concurrent_duplicates_place_once() {
    let cache = Arc::new(cache());
    let calls = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (cache, calls) = (cache.clone(), calls.clone());
        tasks.push(tokio::spawn(async move {
            cache
                .place_here(key("r1"), fp(), move || async move {
                    let n = calls.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    placed(&format!("o{n}"))
                })
                .await
                .unwrap()
                .0
                .order_id
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), "o0");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failed_placement_leaves_no_entry_and_keys_are_scoped() {
    let cache = cache();
    let err = cache
        .place_here(key("r"), fp(), || async { Err(ApiError::bad("no")) })
        .await;
    assert!(err.is_err());
    assert_eq!(cache.len(), 0, "a refused placement occupies no entry");
    let ok = cache
        .place_here(key("r"), fp(), || async { placed("o1") })
        .await
        .unwrap();
    assert_eq!((ok.0.order_id.as_str(), ok.1), ("o1", false));
    assert_eq!(cache.len(), 1);
    let other = IdempotencyKey {
        account: "b".into(),
        ..key("r")
    };
    let fresh = cache
        .place_here(other, fp(), || async { placed("o2") })
        .await
        .unwrap();
    assert_eq!(fresh.0.order_id, "o2");
}

/// The client goes away while its order is in flight; its resend must get that order, not a new one.
#[tokio::test]
async fn a_dropped_caller_still_completes_and_records_the_order() {
    let cache = Arc::new(cache());
    let calls = Arc::new(AtomicUsize::new(0));
    let slow = {
        let calls = calls.clone();
        move || async move {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(100)).await;
            placed("o1")
        }
    };
    let dropped =
        tokio::time::timeout(Duration::from_millis(10), cache.place_here(key("r"), fp(), slow)).await;
    assert!(dropped.is_err(), "the caller gave up before the order completed");
    let resend = cache
        .place_here(key("r"), fp(), || async { placed("o2") })
        .await
        .unwrap();
    assert_eq!(resend, (placed("o1").unwrap(), true));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn another_order_under_a_used_request_id_is_refused_and_not_placed() {
    let cache = cache();
    cache
        .place_here(key("R1"), fp(), || async { placed("o1") })
        .await
        .unwrap();
    let other = Fingerprint::of(&PlaceOrder {
        instrument: "GBPUSD".into(),
        side: Side::Sell,
        ..order()
    });
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let err = cache
        .place_here(key("R1"), other, move || async move {
            counted.fetch_add(1, Ordering::SeqCst);
            placed("o2")
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "requestId 'R1' was already used for a different order on this account; a new order needs a new requestId"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    // The original is still answered for its own resend.
    let again = cache
        .place_here(key("R1"), fp(), || async { placed("o3") })
        .await
        .unwrap();
    assert_eq!(again, (placed("o1").unwrap(), true));
}

#[test]
fn fingerprints_ignore_the_quoted_prices_and_notation_but_nothing_else() {
    let base = fp();
    let requoted = PlaceOrder {
        current_ask: Some(d("1.2")),
        current_bid: None,
        qty: d("1000.00"),
        limit_price: Some(d("1.0500")),
        ..order()
    };
    assert_eq!(
        Fingerprint::of(&requoted),
        base,
        "a resend with newer quotes is the same order"
    );
    let changes: Vec<(&str, PlaceOrder)> = vec![
        (
            "instrument",
            PlaceOrder {
                instrument: "GBPUSD".into(),
                ..order()
            },
        ),
        (
            "side",
            PlaceOrder {
                side: Side::Sell,
                ..order()
            },
        ),
        (
            "type",
            PlaceOrder {
                kind: OrderType::Stop,
                limit_price: None,
                stop_price: Some(d("1.05")),
                ..order()
            },
        ),
        (
            "qty",
            PlaceOrder {
                qty: d("2000"),
                ..order()
            },
        ),
        (
            "limit price",
            PlaceOrder {
                limit_price: Some(d("1.06")),
                ..order()
            },
        ),
        (
            "duration",
            PlaceOrder {
                duration: None,
                ..order()
            },
        ),
        (
            "expiry",
            PlaceOrder {
                duration: Some(OrderDuration {
                    kind: "gtc".into(),
                    datetime: Some(1),
                }),
                ..order()
            },
        ),
        (
            "stop loss",
            PlaceOrder {
                brackets: Brackets::default(),
                ..order()
            },
        ),
        (
            "take profit",
            PlaceOrder {
                brackets: Brackets {
                    stop_loss: Some(d("1.0")),
                    take_profit: Some(d("1.2")),
                    ..Brackets::default()
                },
                ..order()
            },
        ),
        (
            "trailing",
            PlaceOrder {
                brackets: Brackets {
                    stop_loss: Some(d("1.0")),
                    trailing_stop_pips: Some(d("10")),
                    ..Brackets::default()
                },
                ..order()
            },
        ),
    ];
    for (what, changed) in changes {
        assert_ne!(Fingerprint::of(&changed), base, "{what} changes the order");
    }
}

fn limits(max_entries: usize, max_per_user: usize) -> Limits {
    Limits {
        max_entries,
        max_per_user,
        retry_window: Duration::from_secs(10),
        ttl: Duration::from_secs(100),
    }
}

/// Admits `id` for `user` at `at` and records a finished placement.
fn admit_done(table: &mut Table, user: &str, id: &str, at: Instant) -> Result<Outcome, Refusal> {
    let cell = table.admit(user_key(user, id), fp(), at)?;
    cell.set(placed(id).unwrap()).unwrap();
    Ok(cell)
}

#[test]
fn the_count_cap_evicts_only_keys_older_than_the_retry_window() {
    let t0 = Instant::now();
    let s = Duration::from_secs;
    let mut table = Table::new(limits(3, 3));
    for (i, id) in ["a", "b", "c"].iter().enumerate() {
        admit_done(&mut table, "u", id, t0 + s(i as u64)).unwrap();
    }
    // Full, and the oldest is 5 s old: forgetting it could let a resend place a second order.
    assert_eq!(
        table.admit(key("d"), fp(), t0 + s(5)).unwrap_err(),
        Refusal::UserFull { retry_in: s(5) }
    );
    assert_eq!(table.len(), 3);
    // Past the window the oldest goes, and only it.
    admit_done(&mut table, "u", "d", t0 + s(10)).unwrap();
    assert_eq!(table.len(), 3);
    let a_again = table.admit(key("a"), fp(), t0 + s(10));
    assert!(
        matches!(a_again, Err(Refusal::UserFull { .. })),
        "'a' was forgotten (and re-admitting it needs room again): {a_again:?}"
    );
    for id in ["b", "c", "d"] {
        let cell = table.admit(key(id), fp(), t0 + s(10)).unwrap();
        assert!(cell.initialized(), "{id} is still remembered");
    }
}

#[test]
fn the_global_cap_applies_across_users_and_each_user_has_a_cap_of_their_own() {
    let t0 = Instant::now();
    let s = Duration::from_secs;
    let mut table = Table::new(limits(4, 2));
    admit_done(&mut table, "alice", "1", t0).unwrap();
    admit_done(&mut table, "alice", "2", t0).unwrap();
    assert!(matches!(
        table.admit(user_key("alice", "3"), fp(), t0 + s(1)),
        Err(Refusal::UserFull { .. })
    ));
    // Alice's cap does not hold Bob back.
    admit_done(&mut table, "bob", "1", t0 + s(1)).unwrap();
    admit_done(&mut table, "carol", "1", t0 + s(2)).unwrap();
    assert_eq!(
        table.admit(user_key("dave", "1"), fp(), t0 + s(3)).unwrap_err(),
        Refusal::TableFull { retry_in: s(7) }
    );
    // Once alice's first is past the window it makes room for anyone.
    admit_done(&mut table, "dave", "1", t0 + s(11)).unwrap();
    assert_eq!(table.len(), 4);
}

#[test]
fn a_placement_still_running_is_never_evicted() {
    let t0 = Instant::now();
    let mut table = Table::new(limits(1, 1));
    let running = table.admit(key("slow"), fp(), t0).unwrap();
    let later = t0 + Duration::from_secs(60);
    assert!(matches!(
        table.admit(key("next"), fp(), later),
        Err(Refusal::UserFull { .. })
    ));
    running.set(placed("o").unwrap()).unwrap();
    table.admit(key("next"), fp(), later).unwrap();
}

#[test]
fn entries_expire_after_the_ttl() {
    let t0 = Instant::now();
    let mut table = Table::new(limits(10, 10));
    admit_done(&mut table, "u", "a", t0).unwrap();
    admit_done(&mut table, "u", "b", t0 + Duration::from_secs(50)).unwrap();
    let cell = table
        .admit(key("c"), fp(), t0 + Duration::from_secs(100))
        .unwrap();
    assert_eq!(table.len(), 2, "'a' expired, 'b' and 'c' remain");
    drop(cell);
    let fresh = table
        .admit(key("a"), fp(), t0 + Duration::from_secs(101))
        .unwrap();
    assert!(!fresh.initialized(), "an expired id is a new request");
}

#[test]
fn a_failure_keeps_the_entry_while_another_resend_is_about_to_try() {
    let t0 = Instant::now();
    let mut table = Table::new(limits(10, 10));
    let first = table.admit(key("r"), fp(), t0).unwrap();
    let resend = table.admit(key("r"), fp(), t0).unwrap();
    table.forget_failed(&key("r"), &first);
    assert_eq!(table.len(), 1, "the resend holds the cell and will place");
    drop(first);
    table.forget_failed(&key("r"), &resend);
    assert_eq!(table.len(), 0, "nobody else holds it: the failed entry goes");
}

#[tokio::test]
async fn a_full_cache_refuses_with_the_limit_and_when_to_retry() {
    let cache = IdempotencyCache::new(IdempotencyConfig {
        max_entries: 2,
        max_entries_per_user: 2,
        ..IdempotencyConfig::default()
    });
    for id in ["1", "2"] {
        cache
            .place_here(key(id), fp(), move || async move { placed(id) })
            .await
            .unwrap();
    }
    let err = cache
        .place_here(key("3"), fp(), || async { placed("3") })
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Too many orders with a requestId from this login: at most 2 within 900 s; try again in 900 s"
    );
}

#[test]
fn request_ids_are_bounded_and_printable() {
    let cache = cache();
    assert!(cache.check_request_id("23425678343").is_ok());
    assert!(cache.check_request_id(&"x".repeat(64)).is_ok());
    assert_eq!(
        cache
            .check_request_id(&"x".repeat(61_440))
            .unwrap_err()
            .to_string(),
        "query parameter 'requestId' is too long: at most 64 characters, got 61440"
    );
    for bad in ["a b", "a\nb", "é"] {
        assert!(cache.check_request_id(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn config_problems_name_the_key() {
    let bad = IdempotencyConfig {
        max_request_id_len: 0,
        max_entries: 0,
        max_entries_per_user: 5,
        retry_window_secs: 10,
        ttl_secs: 10,
        claim_lease_secs: 1,
    };
    let problems = bad.problems().join("; ");
    for key in [
        "idempotency.max_request_id_len",
        "idempotency.max_entries ",
        "idempotency.max_entries_per_user",
        "idempotency.retry_window_secs",
        "idempotency.ttl_secs",
        "idempotency.claim_lease_secs",
    ] {
        assert!(problems.contains(key), "{key} in {problems}");
    }
    assert!(IdempotencyConfig::default().problems().is_empty());
}
