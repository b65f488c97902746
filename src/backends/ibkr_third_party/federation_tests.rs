//! The three-legged grant against the fake IBKR, which checks each RSA-SHA256 signature over a base
//! string that includes `oauth_callback` (request token) and `oauth_token` + `oauth_verifier` (access
//! token).

use super::*;
use crate::backends::ibkr_third_party::session::test_ibkr::{resolved, serve, FakeIbkr, LINK_KEY};
use crate::store::MemoryStore;
use crate::upstream::transport::Call;

const CALLBACK: &str = "https://bridge.example/federation/callback?flow=f1";

struct Setup {
    fake: Arc<FakeIbkr>,
    transport: Arc<Transport>,
    links: Arc<Links>,
    sessions: Arc<Sessions>,
    federation: IbkrFederation,
}

async fn setup(authorize_url: &str) -> Setup {
    let fake = FakeIbkr::new();
    let mut config = resolved(&serve(fake.clone()).await);
    config.authorize_url = authorize_url.into();
    let transport = Arc::new(config.transport().unwrap());
    let links = Arc::new(Links::new(Arc::new(MemoryStore::new()), Secret::new(LINK_KEY)));
    let sessions = Arc::new(Sessions::new(
        transport.clone(),
        config.keys.clone(),
        links.clone(),
    ));
    let federation = IbkrFederation::new(transport.clone(), config, links.clone(), sessions.clone());
    Setup {
        fake,
        transport,
        links,
        sessions,
        federation,
    }
}

fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn whoami(s: &Setup, user: &str) -> String {
    let signer = s.sessions.signer(user).await.unwrap();
    let answer: serde_json::Value = s
        .transport
        .json(&Call::get("/accounts").signed(signer.as_ref()))
        .await
        .unwrap();
    answer["user"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_user_grants_access_and_then_trades_with_the_grant() {
    let s = setup("https://ibkr.example/authorize").await;
    assert!(!s.federation.is_linked("alice").await.unwrap());
    let start = s.federation.begin("alice", CALLBACK).await.unwrap();
    let rt = start.request_token.clone();
    assert_eq!(
        start.redirect_to,
        format!("https://ibkr.example/authorize?oauth_token={rt}")
    );
    {
        let seen = s.fake.seen.lock().unwrap();
        let base = &seen.request_token_bases[0];
        assert!(base.starts_with("POST&http%3A%2F%2F127.0.0.1%3A"), "{base}");
        assert!(
            base.contains(
                "oauth_callback%3Dhttps%3A%2F%2Fbridge.example%2Ffederation%2Fcallback%3Fflow%3Df1%26"
            ),
            "{base}"
        );
        assert!(!base.contains("oauth_token"), "{base}");
    }
    let verifier = s.fake.authorize(&rt);
    s.federation
        .complete(
            "alice",
            &start,
            &query(&[("oauth_token", &rt), ("oauth_verifier", &verifier)]),
        )
        .await
        .unwrap();
    {
        let seen = s.fake.seen.lock().unwrap();
        let base = &seen.access_token_bases[0];
        assert!(base.contains(&format!("oauth_token%3D{rt}")), "{base}");
        assert!(base.contains(&format!("oauth_verifier%3D{verifier}")), "{base}");
    }
    assert!(s.federation.is_linked("alice").await.unwrap());
    let grant = s.links.get("alice").await.unwrap().unwrap();
    assert_eq!(whoami(&s, "alice").await, grant.access_token.expose());
    assert!(!s.federation.is_linked("bob").await.unwrap());

    // Granting again replaces the grant and drops the session held with the old one.
    let start = s.federation.begin("alice", CALLBACK).await.unwrap();
    let verifier = s.fake.authorize(&start.request_token);
    let back = query(&[
        ("oauth_token", &start.request_token),
        ("oauth_verifier", &verifier),
    ]);
    s.federation.complete("alice", &start, &back).await.unwrap();
    let newer = s.links.get("alice").await.unwrap().unwrap();
    assert_ne!(newer.access_token, grant.access_token);
    assert_eq!(whoami(&s, "alice").await, newer.access_token.expose());

    s.federation.unlink("alice").await.unwrap();
    assert!(!s.federation.is_linked("alice").await.unwrap());
    assert!(matches!(
        s.sessions.signer("alice").await.unwrap_err(),
        BrokerError::LogInAgain(_)
    ));
}

#[tokio::test]
async fn an_answer_of_another_login_or_a_denial_stores_nothing() {
    let s = setup("https://ibkr.example/authorize?lang=en").await;
    let start = s.federation.begin("alice", CALLBACK).await.unwrap();
    let rt = start.request_token.clone();
    assert_eq!(
        start.redirect_to,
        format!("https://ibkr.example/authorize?lang=en&oauth_token={rt}")
    );
    let verifier = s.fake.authorize(&rt);
    for other in [
        query(&[("oauth_token", "someone-elses"), ("oauth_verifier", &verifier)]),
        query(&[("oauth_verifier", &verifier)]),
        query(&[
            ("oauth_token", &rt[..rt.len() - 1]),
            ("oauth_verifier", &verifier),
        ]),
    ] {
        match s.federation.complete("alice", &start, &other).await.unwrap_err() {
            BrokerError::Rejected(m) => assert!(m.contains("does not belong to this login"), "{m}"),
            e => panic!("{e:?}"),
        }
    }
    for denied in [
        query(&[("oauth_token", &rt), ("denied", "1")]),
        query(&[("oauth_token", &rt)]),
        query(&[("oauth_token", &rt), ("oauth_verifier", "")]),
        query(&[
            ("oauth_token", &rt),
            ("oauth_verifier", &verifier),
            ("denied", "1"),
        ]),
    ] {
        match s.federation.complete("alice", &start, &denied).await.unwrap_err() {
            BrokerError::Rejected(m) => assert!(
                m.starts_with("You did not grant the bridge access to your account at Interactive Brokers"),
                "{m}"
            ),
            e => panic!("{e:?}"),
        }
    }
    // A flow whose start lost its request token matches no answer, not even one without a token.
    let empty = FederationStart {
        redirect_to: String::new(),
        request_token: String::new(),
    };
    let no_token = query(&[("oauth_verifier", &verifier)]);
    assert!(matches!(
        s.federation
            .complete("alice", &empty, &no_token)
            .await
            .unwrap_err(),
        BrokerError::Rejected(_)
    ));
    assert!(
        s.fake.seen.lock().unwrap().access_token_bases.is_empty(),
        "IBKR was never asked"
    );
    assert!(!s.federation.is_linked("alice").await.unwrap());
}

#[tokio::test]
async fn the_access_token_request_is_sent_once() {
    let s = setup("https://ibkr.example/authorize").await;
    let start = s.federation.begin("alice", CALLBACK).await.unwrap();
    let verifier = s.fake.authorize(&start.request_token);
    let back = query(&[
        ("oauth_token", &start.request_token),
        ("oauth_verifier", &verifier),
    ]);
    // A server error is not retried (the verifier is single use): one request, the failure reported.
    s.fake
        .fail_access_token
        .store(1, std::sync::atomic::Ordering::SeqCst);
    assert!(matches!(
        s.federation.complete("alice", &start, &back).await.unwrap_err(),
        BrokerError::Unavailable(_)
    ));
    assert_eq!(s.fake.seen.lock().unwrap().access_token_bases.len(), 1);
    // The verifier again: IBKR refuses a used one (the fake's request token is gone), sent once.
    let start = s.federation.begin("alice", CALLBACK).await.unwrap();
    let verifier = s.fake.authorize(&start.request_token);
    let back = query(&[
        ("oauth_token", &start.request_token),
        ("oauth_verifier", &verifier),
    ]);
    s.federation.complete("alice", &start, &back).await.unwrap();
    match s.federation.complete("alice", &start, &back).await.unwrap_err() {
        BrokerError::Rejected(m) => assert!(m.contains("expired or was already used"), "{m}"),
        e => panic!("{e:?}"),
    }
    assert_eq!(s.fake.seen.lock().unwrap().access_token_bases.len(), 3);
    assert!(
        s.federation.is_linked("alice").await.unwrap(),
        "the good grant stays"
    );
}

#[tokio::test]
async fn a_consumer_ibkr_refuses_cannot_start_a_grant() {
    let s = setup("https://ibkr.example/authorize").await;
    let mut keys = crate::backends::ibkr_third_party::session::test_ibkr::resolved("http://x").keys;
    Arc::get_mut(&mut keys).unwrap().consumer_key = "OTHERCONS".into();
    let mut config = resolved(s.transport.base());
    config.keys = keys;
    let federation = IbkrFederation::new(s.transport.clone(), config, s.links.clone(), s.sessions.clone());
    match federation.begin("alice", CALLBACK).await.unwrap_err() {
        BrokerError::Unavailable(m) => assert!(m.contains("401") && m.contains("request token"), "{m}"),
        e => panic!("{e:?}"),
    }
}
