//! The behaviour every store must have, as one async check run against each implementation (the Redis
//! store's tests run it against a real `redis-server`).

use super::json::{self, Change};
use super::{Expect, Notice, Store};
use std::time::Duration;

/// Panics, naming the broken rule, when `store` does not behave as the trait says.
pub async fn run(store: &dyn Store) {
    let ttl = Duration::from_secs(60);
    let key = format!("conformance:{}", uuid::Uuid::new_v4().simple());
    assert_eq!(store.get(&key).await.unwrap(), None, "a new key is absent");

    // Compare-and-swap.
    let v1 = store
        .swap(&key, Expect::Absent, Some(b"one"), ttl)
        .await
        .unwrap()
        .expect("created");
    assert!(v1 > 0);
    assert_eq!(
        store
            .swap(&key, Expect::Absent, Some(b"again"), ttl)
            .await
            .unwrap(),
        None,
        "Absent does not match a live key"
    );
    let v2 = store
        .swap(&key, Expect::Version(v1), Some(b"two"), ttl)
        .await
        .unwrap()
        .expect("swapped");
    assert!(v2 > v1, "versions grow");
    assert_eq!(
        store
            .swap(&key, Expect::Version(v1), Some(b"stale"), ttl)
            .await
            .unwrap(),
        None,
        "an old version does not match"
    );
    let entry = store.get(&key).await.unwrap().unwrap();
    assert_eq!((entry.version, &entry.value[..]), (v2, &b"two"[..]));
    assert_eq!(store.version(&key).await.unwrap(), Some(v2), "the version alone");
    assert_eq!(store.version(&format!("{key}:none")).await.unwrap(), None);

    // Delete, and no ABA: the key written again never has an old version.
    assert_eq!(
        store.swap(&key, Expect::Version(v2), None, ttl).await.unwrap(),
        Some(0)
    );
    assert_eq!(store.get(&key).await.unwrap(), None, "deleted");
    let v3 = store
        .swap(&key, Expect::Absent, Some(b"three"), ttl)
        .await
        .unwrap()
        .unwrap();
    assert!(v3 > v2, "a re-created key gets a new version");
    assert!(store
        .swap(&key, Expect::Any, Some(b"four"), ttl)
        .await
        .unwrap()
        .is_some());

    // Expiry.
    let short = format!("{key}:short");
    store
        .swap(&short, Expect::Any, Some(b"x"), Duration::from_millis(50))
        .await
        .unwrap();
    assert!(store.get(&short).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(store.get(&short).await.unwrap(), None, "expired");
    assert!(
        store
            .swap(&short, Expect::Absent, Some(b"y"), ttl)
            .await
            .unwrap()
            .is_some(),
        "an expired key counts as absent"
    );

    // Empty values are values.
    let empty = format!("{key}:empty");
    store
        .swap(&empty, Expect::Absent, Some(b""), ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&store.get(&empty).await.unwrap().unwrap().value[..], b"");

    // Too large a value is refused before it is sent.
    let huge = vec![0u8; super::MAX_VALUE_BYTES + 1];
    assert!(store.swap(&empty, Expect::Any, Some(&huge), ttl).await.is_err());

    // Concurrent read-modify-writes lose no increment.
    let counter = format!("{key}:counter");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let counter = counter.clone();
            async move {
                for _ in 0..10 {
                    json::update::<u64, ()>(store, &counter, |n| (Change::Put(n.unwrap_or(0) + 1, ttl), ()))
                        .await
                        .unwrap();
                }
            }
        })
        .collect();
    futures_util::future::join_all(tasks).await;
    let (_, total) = json::get::<u64>(store, &counter).await.unwrap().unwrap();
    assert_eq!(total, 80, "every increment kept");

    // Broadcast reaches this process's subscribers.
    let mut rx = store.subscribe();
    let channel = format!("{key}:chan");
    store.publish(&channel, b"hello").await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match super::events::next(&mut rx).await {
                Some(Notice::Message { channel: c, payload }) if *c == *channel => return payload,
                Some(_) => continue,
                None => panic!("the channel closed"),
            }
        }
    })
    .await
    .expect("a published message arrives");
    assert_eq!(&got[..], b"hello");
    store.ping().await.unwrap();
}
