//! Per-user live sessions against the fake IBKR: each user's calls signed with their own grant and
//! verified by the first-party fake's verifier, one handshake for concurrent callers, a refused token
//! renewed once, a revoked grant deleted, idle sessions forgotten.

use super::test_ibkr::{resolved, serve, FakeIbkr, LINK_KEY};
use super::*;
use crate::backends::ibkr_third_party::credentials::Grant;
use crate::store::MemoryStore;
use crate::upstream::transport::Call;

struct Setup {
    fake: Arc<FakeIbkr>,
    transport: Arc<Transport>,
    links: Arc<Links>,
    sessions: Arc<Sessions>,
}

async fn setup() -> Setup {
    let fake = FakeIbkr::new();
    let config = resolved(&serve(fake.clone()).await);
    let transport = Arc::new(config.transport().unwrap());
    let links = Arc::new(Links::new(Arc::new(MemoryStore::new()), Secret::new(LINK_KEY)));
    let sessions = Arc::new(Sessions::new(
        transport.clone(),
        config.keys.clone(),
        links.clone(),
    ));
    Setup {
        fake,
        transport,
        links,
        sessions,
    }
}

/// Whose access token the fake saw on a signed call.
async fn whoami(s: &Setup, signer: &UserSigner) -> Result<String, CallError> {
    let call = Call::get("/accounts").query([("x", "a b")]).signed(signer);
    let answer: serde_json::Value = s.transport.json(&call).await?;
    Ok(answer["user"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn a_user_without_a_grant_is_told_to_grant_access() {
    let s = setup().await;
    match s.sessions.signer("alice").await.unwrap_err() {
        BrokerError::LogInAgain(m) => assert_eq!(
            m,
            "alice has not granted the bridge access at Interactive Brokers yet: log in through TradingView to do so"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.fake.seen.lock().unwrap().lst_requests, 0);
}

#[tokio::test]
async fn each_user_signs_with_their_own_grant_and_concurrent_callers_share_one_handshake() {
    let s = setup().await;
    let alice = s.fake.issue_grant();
    let bob = s.fake.issue_grant();
    s.links.put("alice", &alice).await.unwrap();
    s.links.put("bob", &bob).await.unwrap();
    let signers = futures_util::future::join_all((0..8).map(|_| s.sessions.signer("alice"))).await;
    assert_eq!(
        s.fake.seen.lock().unwrap().lst_requests,
        1,
        "eight callers, one handshake"
    );
    let signers: Vec<_> = signers.into_iter().map(Result::unwrap).collect();
    assert!(signers.iter().all(|x| Arc::ptr_eq(&x.held, &signers[0].held)));
    assert_eq!(
        whoami(&s, &signers[0]).await.unwrap(),
        alice.access_token.expose()
    );
    let bobs = s.sessions.signer("bob").await.unwrap();
    assert_eq!(whoami(&s, &bobs).await.unwrap(), bob.access_token.expose());
    assert_eq!(s.fake.seen.lock().unwrap().lst_requests, 2);
    // Held: later calls make no handshake.
    s.sessions.signer("alice").await.unwrap();
    assert_eq!(s.fake.seen.lock().unwrap().lst_requests, 2);
    assert_eq!(s.sessions.len(), 2);
    assert!(!format!("{bobs:?}").contains(bob.access_token.expose()));
}

#[tokio::test]
async fn a_refused_token_is_renewed_once_for_that_user_only() {
    let s = setup().await;
    let alice = s.fake.issue_grant();
    let bob = s.fake.issue_grant();
    s.links.put("alice", &alice).await.unwrap();
    s.links.put("bob", &bob).await.unwrap();
    let stale = s.sessions.signer("alice").await.unwrap();
    let bobs = s.sessions.signer("bob").await.unwrap();
    s.fake.expire_lst(alice.access_token.expose());
    assert_eq!(whoami(&s, &stale).await.unwrap_err().status(), Some(401));
    s.sessions.invalidate("alice", &stale);
    s.sessions.invalidate("alice", &stale);
    let fresh = s.sessions.signer("alice").await.unwrap();
    assert_eq!(whoami(&s, &fresh).await.unwrap(), alice.access_token.expose());
    assert_eq!(s.fake.seen.lock().unwrap().lst_requests, 3, "one renewal");
    // A second 401 with the stale signer renews nothing; bob's session was untouched.
    s.sessions.invalidate("alice", &stale);
    assert!(Arc::ptr_eq(
        &s.sessions.signer("alice").await.unwrap().held,
        &fresh.held
    ));
    assert!(Arc::ptr_eq(
        &s.sessions.signer("bob").await.unwrap().held,
        &bobs.held
    ));
    assert_eq!(s.fake.seen.lock().unwrap().lst_requests, 3);
}

#[tokio::test]
async fn a_grant_revoked_at_ibkr_is_deleted_and_the_user_told_so() {
    let s = setup().await;
    let alice = s.fake.issue_grant();
    let bob = s.fake.issue_grant();
    s.links.put("alice", &alice).await.unwrap();
    s.links.put("bob", &bob).await.unwrap();
    let held = s.sessions.signer("alice").await.unwrap();
    s.fake.revoke(alice.access_token.expose());
    // The held token is refused; the next handshake too: the grant is gone.
    assert_eq!(whoami(&s, &held).await.unwrap_err().status(), Some(401));
    s.sessions.invalidate("alice", &held);
    for _ in 0..2 {
        match s.sessions.signer("alice").await.unwrap_err() {
            BrokerError::LogInAgain(m) => {
                assert!(
                    m.contains("revoked at IBKR") && m.contains("log in through TradingView"),
                    "{m}"
                );
                assert!(!m.contains(alice.access_token.expose()));
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(
        s.links.get("alice").await.unwrap().is_none(),
        "the revoked grant is deleted"
    );
    assert!(s.links.get("bob").await.unwrap().is_some());
    assert!(s.sessions.signer("bob").await.is_ok());
    // Granted again (a new grant, then the federation forgets the session): the user trades again.
    let again = s.fake.issue_grant();
    s.links.put("alice", &again).await.unwrap();
    s.sessions.forget("alice");
    let signer = s.sessions.signer("alice").await.unwrap();
    assert_eq!(whoami(&s, &signer).await.unwrap(), again.access_token.expose());
}

#[tokio::test]
async fn ibkr_unavailable_is_not_a_revocation() {
    let s = setup().await;
    let alice = s.fake.issue_grant();
    s.links.put("alice", &alice).await.unwrap();
    // A grant whose secret this consumer cannot read: no handshake, no deletion.
    let broken = Grant {
        access_token: alice.access_token.clone(),
        access_token_secret: Secret::new("bm90IGVuY3J5cHRlZA=="),
    };
    s.links.put("bob", &broken).await.unwrap();
    assert!(matches!(
        s.sessions.signer("bob").await.unwrap_err(),
        BrokerError::Unavailable(_)
    ));
    assert!(s.links.get("bob").await.unwrap().is_some());
    assert!(matches!(
        token_call_failed(
            "x",
            &CallError::status_of::<crate::backends::ibkr::errors::IbkrError>(503, "")
        ),
        BrokerError::Unavailable(_)
    ));
    assert!(matches!(
        token_call_failed(
            "x",
            &CallError::status_of::<crate::backends::ibkr::errors::IbkrError>(429, "")
        ),
        BrokerError::RateLimited { .. }
    ));
}

#[tokio::test(start_paused = true)]
async fn idle_sessions_are_forgotten() {
    let transport = Arc::new(Transport::builder("http://127.0.0.1:9").build().unwrap());
    let keys = resolved("http://127.0.0.1:9").keys;
    let links = Arc::new(Links::new(Arc::new(MemoryStore::new()), Secret::new(LINK_KEY)));
    let sessions = Sessions::new(transport, keys, links);
    for user in ["a", "b", "c"] {
        assert!(sessions.signer(user).await.is_err());
    }
    assert_eq!(sessions.len(), 3);
    tokio::time::advance(IDLE_AFTER - Duration::from_secs(120)).await;
    assert!(sessions.signer("a").await.is_err());
    assert_eq!(sessions.len(), 3, "none idle for a day yet");
    tokio::time::advance(Duration::from_secs(180)).await;
    assert!(sessions.signer("d").await.is_err());
    assert_eq!(sessions.len(), 2, "b and c were idle for a day: a and d stay");
}

#[tokio::test]
async fn a_consumer_ibkr_refuses_deletes_no_grant() {
    let s = setup().await;
    let alice = s.fake.issue_grant();
    s.links.put("alice", &alice).await.unwrap();
    // The operator configured another consumer key: IBKR refuses the consumer, not alice's grant.
    let mut keys = resolved(s.transport.base()).keys;
    Arc::get_mut(&mut keys).unwrap().consumer_key = "OTHERCONS".into();
    let sessions = Sessions::new(s.transport.clone(), keys, s.links.clone());
    match sessions.signer("alice").await.unwrap_err() {
        BrokerError::Unavailable(m) => assert!(m.contains("grants are kept"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(s.links.get("alice").await.unwrap().is_some());
    assert!(
        s.sessions.signer("alice").await.is_ok(),
        "the right consumer still trades"
    );
}
