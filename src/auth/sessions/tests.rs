use super::*;
use crate::store::MemoryStore;

fn session(sid: &str, user: &str, expires_at: u64) -> Session {
    Session {
        ctx: SessionCtx {
            session_id: sid.into(),
            user: user.into(),
        },
        display_name: user.into(),
        accounts: Vec::new(),
        expires_at,
        grant: Grant::default(),
    }
}

fn sessions(store: &Arc<MemoryStore>, cap: usize) -> SessionStore {
    SessionStore::new(store.clone(), cap)
}

fn now() -> u64 {
    crate::auth::now_secs()
}

async fn live(store: &SessionStore, sid: &str) -> bool {
    matches!(store.lookup(sid, now()).await.unwrap(), Lookup::Live(_))
}

#[tokio::test]
async fn over_the_cap_the_users_oldest_session_is_returned_for_revocation() {
    let store = Arc::new(MemoryStore::new());
    let s = sessions(&store, 2);
    let far = now() + 100;
    assert!(s
        .insert(session("a1", "alice", far), None, now())
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .insert(session("b1", "bob", far), None, now())
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .insert(session("a2", "alice", far), None, now())
        .await
        .unwrap()
        .is_empty());
    let ended = s.insert(session("a3", "alice", far), None, now()).await.unwrap();
    assert_eq!(ended, ["a1"]);
    s.revoke("a1").await;
    assert!(
        matches!(s.lookup("a1", now()).await.unwrap(), Lookup::Gone),
        "its token stops working"
    );
    for sid in ["a2", "a3", "b1"] {
        assert!(live(&s, sid).await, "{sid}");
    }
    // A revoked session frees its place.
    s.revoke("a2").await;
    assert!(s
        .insert(session("a4", "alice", far), None, now())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_restart_finds_every_live_session_in_the_store_and_no_revoked_one() {
    let store = Arc::new(MemoryStore::new());
    let far = now() + 100;
    {
        let before = sessions(&store, 5);
        let _ = before
            .insert(session("kept", "alice", far), Some("alice".into()), now())
            .await
            .unwrap();
        let _ = before
            .insert(session("ended", "alice", far), Some("alice".into()), now())
            .await
            .unwrap();
        let _ = before
            .insert(session("old", "bob", now() + 1), None, now())
            .await
            .unwrap();
        before.revoke("ended").await;
    }
    let after = sessions(&store, 5);
    match after.lookup("kept", now()).await.unwrap() {
        Lookup::Elsewhere(record) => {
            assert_eq!(record.user, "alice");
            assert_eq!(record.resume_as.as_deref(), Some("alice"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        after.lookup("ended", now()).await.unwrap(),
        Lookup::Gone
    ));
    assert!(
        matches!(after.lookup("old", now() + 2).await.unwrap(), Lookup::Gone),
        "expired"
    );
    assert!(matches!(
        after.lookup("never", now()).await.unwrap(),
        Lookup::Gone
    ));
}

#[tokio::test]
async fn on_a_shared_store_a_revocation_elsewhere_ends_the_session_here_within_the_recheck() {
    let store = Arc::new(MemoryStore::new_shared());
    let (a, b) = (sessions(&store, 5), sessions(&store, 5));
    let s = session("s1", "alice", now() + 100);
    let _ = a.insert(s.clone(), Some("alice".into()), now()).await.unwrap();
    assert!(matches!(
        b.lookup("s1", now()).await.unwrap(),
        Lookup::Elsewhere(_)
    ));
    b.attach(s, now());
    assert!(live(&b, "s1").await);
    let mut messages = store.subscribe();
    a.revoke("s1").await;
    // The revocation is announced (the listener ends b's streams and drops its cache at once)...
    match crate::store::events::next(&mut messages).await {
        Some(crate::store::Notice::Message { channel, payload }) => {
            assert_eq!((&*channel, &payload[..]), (REVOKED, &b"s1"[..]));
        }
        other => panic!("{other:?}"),
    }
    // ...and even without the message, the store is asked again once the cache entry is old.
    b.recheck_all();
    assert!(matches!(b.lookup("s1", now()).await.unwrap(), Lookup::Gone));
    assert!(b.get_local("s1", now()).is_none());
}

#[tokio::test]
async fn on_a_private_store_the_cache_is_the_truth_and_costs_no_store_read() {
    let store = Arc::new(MemoryStore::new());
    let s = sessions(&store, 5);
    let _ = s
        .insert(session("s1", "alice", now() + 100), None, now())
        .await
        .unwrap();
    // Deleted behind the cache's back (nothing but this process writes a private store, so this cannot
    // happen in use): the cached session is still served, proving the poll path did not read the store.
    store
        .swap(&record_key("s1"), Expect::Any, None, Duration::from_secs(1))
        .await
        .unwrap();
    assert!(live(&s, "s1").await);
}

/// An attach costs the same whatever the number of cached sessions: it looks at the front of the expiry
/// index only. Counted in sessions looked at, not in time.
#[test]
fn attach_cost_does_not_depend_on_the_number_of_sessions() {
    let s = sessions(&Arc::new(MemoryStore::new()), 3);
    let visits_of_one_attach = |sid: &str| {
        let before = s.local.read().unwrap().visited;
        s.attach(session(sid, "alice", 1_000), 0);
        s.local.read().unwrap().visited - before
    };
    assert!(visits_of_one_attach("first") <= 1);
    for n in 1..100_000u32 {
        s.attach(
            session(&format!("o{n}"), &format!("user{n}"), 1_000 + n as u64),
            0,
        );
    }
    assert!(
        visits_of_one_attach("last") <= 1,
        "one attach among 100,000 sessions"
    );
    assert_eq!(s.len(), 100_001);
}
