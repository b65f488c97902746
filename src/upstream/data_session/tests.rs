//! The data feed's choice of credentials and its one session, on credentials and sessions that are strings.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};

fn feed(choice: DataSession, seed: Option<&str>, fallback: Option<&str>) -> DataFeed<String, String> {
    DataFeed::new(
        "Test",
        choice,
        seed.map(|s| ("seed".to_string(), s.to_string())),
        fallback.map(|s| ("fallback".to_string(), s.to_string())),
        BrokerError::Rejected("log in first".into()),
    )
}

async fn open(feed: &DataFeed<String, String>) -> BrokerResult<Arc<String>> {
    feed.session(|c| async move { Ok(format!("session of {c}")) })
        .await
}

#[tokio::test]
async fn each_choice_takes_its_source() {
    let sources = |first_mapped_serves| DataSources {
        mapped: vec![
            ("alice".into(), "alice-key".into()),
            ("bob".into(), "bob-key".into()),
        ],
        configured: Some(("backend.data_token_env".into(), "data-token".into())),
        first_mapped_serves,
    };
    let missing = || BrokerError::Rejected("log in first".into());
    let served = |choice, first_mapped_serves| {
        let feed: DataFeed<String, String> =
            DataFeed::choose("Test", choice, sources(first_mapped_serves), missing());
        feed.offer("s1", "carol", || "carol-key".into());
        feed.credentials()
    };
    assert_eq!(
        served(DataSession::FirstLogin, true).as_deref(),
        Some("alice-key")
    );
    assert_eq!(
        served(DataSession::FirstLogin, false).as_deref(),
        Some("carol-key"),
        "the first login, the configured token only while nobody lends"
    );
    assert_eq!(
        served(DataSession::User("bob".into()), false).as_deref(),
        Some("bob-key")
    );
    assert_eq!(
        served(DataSession::Configured, true).as_deref(),
        Some("data-token")
    );
    let idle: DataFeed<String, String> =
        DataFeed::choose("Test", DataSession::FirstLogin, sources(false), missing());
    assert_eq!(*open(&idle).await.unwrap(), "session of data-token");
}

#[test]
fn values_parse_and_print_back() {
    for (text, value) in [
        ("first-login", DataSession::FirstLogin),
        ("configured", DataSession::Configured),
        ("user:alice", DataSession::User("alice".into())),
    ] {
        assert_eq!(DataSession::try_from(text.to_string()), Ok(value.clone()));
        assert_eq!(String::from(value), text);
    }
    for bad in ["", "first", "user:", "user: ", "User:alice"] {
        let e = DataSession::try_from(bad.to_string()).unwrap_err();
        assert!(e.starts_with("backend.data_session must be"), "{e}");
    }
}

#[test]
fn problems_name_what_the_choice_lacks() {
    let mapped = ["alice", "bob"];
    let with = |mapped, configured| DataOptions {
        mapped,
        configured,
        upstream: "Test",
    };
    assert!(DataSession::FirstLogin.problems(with(None, None)).is_empty());
    let bob = DataSession::User("bob".into());
    assert!(bob.problems(with(Some(&mapped), None)).is_empty());
    assert_eq!(
        bob.problems(with(None, None)),
        ["backend.data_session = \"user:bob\" needs backend.login = \"mapped\""]
    );
    let carol = DataSession::User("carol".into());
    assert_eq!(
        carol.problems(with(Some(&mapped), None)),
        ["backend.data_session: \"carol\" is not a [[backend.users]] login"]
    );
    let configured = DataSession::Configured;
    assert!(configured
        .problems(with(None, Some(("data_token_env", true))))
        .is_empty());
    assert_eq!(
        configured.problems(with(None, Some(("data_token_env", false)))),
        ["backend.data_session = \"configured\" needs backend.data_token_env"]
    );
    assert!(configured.problems(with(None, None))[0].contains("Test has no data credentials"));
}

#[tokio::test]
async fn the_first_login_lends_until_it_logs_out_then_the_next_one_does() {
    let feed = feed(DataSession::FirstLogin, None, None);
    assert_eq!(
        open(&feed).await,
        Err(BrokerError::Rejected("log in first".into()))
    );
    feed.offer("s1", "alice", || "alice-key".into());
    feed.offer("s2", "bob", || "bob-key".into());
    assert_eq!(*open(&feed).await.unwrap(), "session of alice-key");
    assert!(feed.withdraw("s2", || unreachable!("bob lent nothing")).is_none());
    let closed = feed.withdraw("s1", || Some(("s2".into(), "bob".into(), "bob-key".into())));
    assert_eq!(
        closed.as_deref().map(String::as_str),
        Some("session of alice-key")
    );
    assert_eq!(*open(&feed).await.unwrap(), "session of bob-key");
    assert!(feed.withdraw("s2", || None).is_some());
    assert!(open(&feed).await.is_err(), "nobody left to lend");
}

#[tokio::test]
async fn configured_credentials_serve_while_nobody_lends_and_then_stay() {
    let feed = feed(DataSession::FirstLogin, None, Some("data-token"));
    assert_eq!(*open(&feed).await.unwrap(), "session of data-token");
    feed.offer("s1", "alice", || "alice-key".into());
    assert_eq!(feed.credentials().as_deref(), Some("data-token"));
    assert!(feed.withdraw("s1", || None).is_none());
}

#[tokio::test]
async fn a_seeded_or_configured_choice_ignores_logins() {
    for choice in [DataSession::User("bob".into()), DataSession::Configured] {
        let feed = feed(choice, Some("bob-key"), None);
        feed.offer("s1", "alice", || "alice-key".into());
        assert_eq!(*open(&feed).await.unwrap(), "session of bob-key");
        assert!(feed.withdraw("s1", || None).is_none());
    }
}

#[tokio::test]
async fn a_burst_of_calls_opens_one_session() {
    let feed = Arc::new(feed(DataSession::FirstLogin, Some("k"), None));
    let opened = Arc::new(AtomicUsize::new(0));
    let calls = (0..8).map(|_| {
        let (feed, opened) = (feed.clone(), opened.clone());
        tokio::spawn(async move {
            feed.session(|c| async move {
                opened.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
                Ok(c)
            })
            .await
        })
    });
    for call in calls.collect::<Vec<_>>() {
        assert_eq!(*call.await.unwrap().unwrap(), "k");
    }
    assert_eq!(opened.load(Ordering::SeqCst), 1);
    assert!(feed.take_session().is_some());
    assert!(feed.open_session().is_none(), "the next call opens a new one");
}

#[tokio::test]
async fn a_session_opened_with_credentials_withdrawn_meanwhile_is_not_kept() {
    let feed = Arc::new(feed(DataSession::FirstLogin, None, None));
    feed.offer("s1", "alice", || "alice-key".into());
    let (release, wait) = tokio::sync::oneshot::channel::<()>();
    let opening = {
        let feed = feed.clone();
        tokio::spawn(async move {
            feed.session(|c| async move {
                let _ = wait.await;
                Ok(c)
            })
            .await
        })
    };
    tokio::task::yield_now().await;
    feed.withdraw("s1", || None);
    release.send(()).unwrap();
    assert_eq!(*opening.await.unwrap().unwrap(), "alice-key");
    assert!(feed.open_session().is_none());
}
