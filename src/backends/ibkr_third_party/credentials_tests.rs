//! The stored grants: a round trip, and every record that must not open (another user's, another key's,
//! tampered, another version) opening as no grant.

use super::*;
use crate::backends::ibkr_third_party::session::test_ibkr::{LINK_KEY, OTHER_LINK_KEY};
use crate::store::MemoryStore;

fn grant(token: &str) -> Grant {
    Grant {
        access_token: Secret::new(token),
        access_token_secret: Secret::new(format!("{token}-secret")),
    }
}

fn links(store: &Arc<MemoryStore>, key: &str) -> Links {
    Links::new(store.clone(), Secret::new(key))
}

async fn raw(store: &MemoryStore, user: &str) -> Option<Vec<u8>> {
    store.get(&key(user)).await.unwrap().map(|e| e.value.to_vec())
}

async fn write_raw(store: &MemoryStore, user: &str, record: &[u8]) {
    store
        .swap(&key(user), Expect::Any, Some(record), GRANT_TTL)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_grant_round_trips_and_is_replaced_and_deleted() {
    let store = Arc::new(MemoryStore::new());
    let links = links(&store, LINK_KEY);
    assert!(links.get("alice").await.unwrap().is_none());
    links.put("alice", &grant("tok1")).await.unwrap();
    let got = links.get("alice").await.unwrap().unwrap();
    assert_eq!(got.access_token.expose(), "tok1");
    assert_eq!(got.access_token_secret.expose(), "tok1-secret");
    assert!(!format!("{got:?}").contains("tok1"));
    assert!(links.get("bob").await.unwrap().is_none(), "grants are per user");
    // Replaced; a fresh nonce each write, and neither the token nor the login shows in the store.
    let first = raw(&store, "alice").await.unwrap();
    links.put("alice", &grant("tok2")).await.unwrap();
    let second = raw(&store, "alice").await.unwrap();
    assert_eq!(
        links.get("alice").await.unwrap().unwrap().access_token.expose(),
        "tok2"
    );
    assert_eq!(first[0], VERSION);
    assert_ne!(first[1..1 + NONCE_BYTES], second[1..1 + NONCE_BYTES]);
    let text = String::from_utf8_lossy(&second);
    assert!(!text.contains("tok2") && !text.contains("secret"));
    assert!(key("alice").starts_with("ibkr-tp-grant:") && !key("alice").contains("alice"));
    links.delete("alice").await.unwrap();
    assert!(links.get("alice").await.unwrap().is_none());
    links.delete("alice").await.unwrap();
}

#[tokio::test]
async fn records_that_must_not_open_are_no_grant() {
    let store = Arc::new(MemoryStore::new());
    let links = links(&store, LINK_KEY);
    links.put("alice", &grant("tok1")).await.unwrap();
    let record = raw(&store, "alice").await.unwrap();

    // Copied under another user's key: the user is bound as associated data.
    write_raw(&store, "mallory", &record).await;
    assert!(links.get("mallory").await.unwrap().is_none());
    assert!(links.get("alice").await.unwrap().is_some());

    // Another link key (it was changed): no grant, and twice is logged once (no panic, no error).
    let rotated = self::links(&store, OTHER_LINK_KEY);
    assert!(rotated.get("alice").await.unwrap().is_none());
    assert!(rotated.get("alice").await.unwrap().is_none());
    assert_eq!(rotated.unreadable.lock().unwrap().len(), 1);
    // ... and granting again under the new key replaces it.
    rotated.put("alice", &grant("tok3")).await.unwrap();
    assert_eq!(
        rotated.get("alice").await.unwrap().unwrap().access_token.expose(),
        "tok3"
    );
    assert!(rotated.unreadable.lock().unwrap().is_empty());
    links.put("alice", &grant("tok1")).await.unwrap();

    // Every byte tampered with (version, nonce, ciphertext, tag), and truncations.
    for i in [0, 1, NONCE_BYTES, NONCE_BYTES + 1, record.len() - 1] {
        let mut bad = record.clone();
        bad[i] ^= 0x01;
        write_raw(&store, "alice", &bad).await;
        assert!(links.get("alice").await.unwrap().is_none(), "byte {i}");
    }
    for len in [1, NONCE_BYTES, record.len() - 1] {
        write_raw(&store, "alice", &record[..len]).await;
        assert!(links.get("alice").await.unwrap().is_none(), "{len} bytes");
    }
    write_raw(&store, "alice", &record).await;
    assert!(
        links.get("alice").await.unwrap().is_some(),
        "the untouched record opens"
    );
}

#[tokio::test]
async fn only_the_refused_grant_is_deleted() {
    let store = Arc::new(MemoryStore::new());
    let links = links(&store, LINK_KEY);
    assert!(!links.delete_if("alice", &Secret::new("tok1")).await.unwrap());
    links.put("alice", &grant("tok1")).await.unwrap();
    // The user granted again (tok2) before the refusal of tok1 was acted on: tok2 stays.
    links.put("alice", &grant("tok2")).await.unwrap();
    assert!(!links.delete_if("alice", &Secret::new("tok1")).await.unwrap());
    assert!(links.get("alice").await.unwrap().is_some());
    assert!(links.delete_if("alice", &Secret::new("tok2")).await.unwrap());
    assert!(links.get("alice").await.unwrap().is_none());
}

#[tokio::test]
async fn an_unusable_link_key_fails_loudly_without_a_secret() {
    let store = Arc::new(MemoryStore::new());
    let links = links(&store, "c2hvcnQ=");
    match links.put("alice", &grant("tok1")).await.unwrap_err() {
        BrokerError::Internal(m) => assert!(m.contains("link_key_env") && !m.contains("c2hvcnQ")),
        other => panic!("{other:?}"),
    }
}
