//! The conformance suite on the memory and embedded stores (the Redis store runs it in its own tests).

use super::conformance;
use super::*;

#[tokio::test]
async fn the_memory_store_conforms() {
    conformance::run(&MemoryStore::new()).await;
}

#[tokio::test]
async fn the_embedded_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).await.unwrap();
    conformance::run(&store).await;
}

#[tokio::test]
async fn the_embedded_store_keeps_what_it_acknowledged_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let ttl = Duration::from_secs(60);
    let version = {
        let store = EmbeddedStore::open(dir.path()).await.unwrap();
        store
            .swap("k", Expect::Absent, Some(b"v1"), ttl)
            .await
            .unwrap()
            .unwrap()
    };
    // The first handle is dropped: the file lock is released.
    let store = EmbeddedStore::open(dir.path()).await.unwrap();
    let entry = store.get("k").await.unwrap().unwrap();
    assert_eq!((entry.version, &entry.value[..]), (version, &b"v1"[..]));
    let next = store
        .swap("other", Expect::Absent, Some(b"x"), ttl)
        .await
        .unwrap()
        .unwrap();
    assert!(
        next > version,
        "versions keep counting across a reopen: {next} after {version}"
    );
}

#[tokio::test]
async fn a_second_process_on_the_same_data_dir_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let _first = EmbeddedStore::open(dir.path()).await.unwrap();
    let second = EmbeddedStore::open(dir.path()).await.expect_err("refused");
    let text = second.to_string();
    assert!(
        text.contains("store.data_dir") && text.contains("redis"),
        "{text}"
    );
}

#[tokio::test]
async fn expired_keys_are_swept_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).await.unwrap();
    let short = Duration::from_millis(1);
    for i in 0..10 {
        store
            .swap(&format!("k{i}"), Expect::Any, Some(b"v"), short)
            .await
            .unwrap();
    }
    store
        .swap("live", Expect::Any, Some(b"v"), Duration::from_secs(60))
        .await
        .unwrap();
    let swept = embedded::sweep_now(&store, now_ms() + 10);
    assert_eq!(swept, 10);
    assert!(store.get("live").await.unwrap().is_some());
}

#[test]
fn digests_keep_user_input_out_of_keys_and_apart() {
    let a = digest(&["ab", "c"]);
    assert_ne!(a, digest(&["a", "bc"]));
    assert_eq!(a.len(), 32);
    assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(a, digest(&["ab", "c"]));
}

#[test]
fn config_problems_name_the_key() {
    let mut c = StoreConfig {
        kind: StoreKind::Redis,
        url: "http://x".into(),
        pool_size: 0,
        timeout_ms: 0,
        key_prefix: "has space".into(),
        ..StoreConfig::default()
    };
    let text = c.problems().join("; ");
    for key in [
        "store.url",
        "store.pool_size",
        "store.timeout_ms",
        "store.key_prefix",
    ] {
        assert!(text.contains(key), "{key}: {text}");
    }
    c = StoreConfig {
        url: "redis://x".into(),
        ..StoreConfig::default()
    };
    assert!(
        c.problems().join("").contains("store.kind = \"redis\""),
        "{:?}",
        c.problems()
    );
    assert!(StoreConfig::default().problems().is_empty());
}
